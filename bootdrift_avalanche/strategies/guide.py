"""The ``GUIDE`` strategy: Avalanche's ``SupervisedTemplate`` plus ``GUIDEPlugin`` (a strategy is a
template plus plugins). ``strategy.generator`` (a ``DDPMGenerator``) is the diffusion model whose
guided replays the drift metrics score."""
from __future__ import annotations

from typing import List, Optional

from avalanche.training.templates import SupervisedTemplate

from ..plugins.guide import GUIDEPlugin


class GUIDE(SupervisedTemplate):
    """GUIDE (Cywiński et al. 2024) as an Avalanche strategy.

    Keyword-only arguments, like Avalanche's own strategies; ``generator`` and ``guide`` (keyword
    arguments of :class:`~bootdrift_avalanche.plugins.guide.GUIDEPlugin`) build the plugin, the rest
    go to the template.
    """

    def __init__(self, *, model, optimizer, criterion, generator, guide: Optional[dict] = None,
                 train_mb_size: int = 32, train_epochs: int = 1, eval_mb_size: Optional[int] = None,
                 device="cpu", plugins: Optional[List] = None, evaluator=None, eval_every: int = -1,
                 **base_kwargs):
        self.guide_plugin = GUIDEPlugin(generator, **(guide or {}))
        kwargs = dict(train_mb_size=train_mb_size, train_epochs=train_epochs, eval_mb_size=eval_mb_size,
                      device=device, plugins=[self.guide_plugin] + list(plugins or []), eval_every=eval_every,
                      **base_kwargs)
        if evaluator is not None:
            kwargs["evaluator"] = evaluator
        super().__init__(model=model, optimizer=optimizer, criterion=criterion, **kwargs)

    @property
    def generator(self):
        return self.guide_plugin.generator

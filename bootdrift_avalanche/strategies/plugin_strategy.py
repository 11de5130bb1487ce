"""``PluginStrategy``: Avalanche's ``SupervisedTemplate`` with one replay plugin first in its plugin
list, the shape shared by the ``DDGR``, ``GUIDE`` and ``GANMemory`` strategies (a strategy is a
template plus plugins)."""
from __future__ import annotations

from typing import List, Optional

from avalanche.training.templates import SupervisedTemplate


class PluginStrategy(SupervisedTemplate):
    """A ``SupervisedTemplate`` run with ``plugin`` (first) plus ``plugins``; ``generator`` is the
    plugin's, the one the drift metrics score. The keyword arguments are the template's, with
    Avalanche's defaults except ``train_mb_size=32``; ``evaluator=None`` keeps the template's own."""

    def __init__(self, plugin, *, model, optimizer, criterion, train_mb_size: int = 32, train_epochs: int = 1,
                 eval_mb_size: Optional[int] = None, device="cpu", plugins: Optional[List] = None,
                 evaluator=None, eval_every: int = -1, **base_kwargs):
        self.replay_plugin = plugin
        kwargs = dict(train_mb_size=train_mb_size, train_epochs=train_epochs, eval_mb_size=eval_mb_size,
                      device=device, plugins=[plugin] + list(plugins or []), eval_every=eval_every, **base_kwargs)
        if evaluator is not None:
            kwargs["evaluator"] = evaluator
        super().__init__(model=model, optimizer=optimizer, criterion=criterion, **kwargs)

    @property
    def generator(self):
        return self.replay_plugin.generator

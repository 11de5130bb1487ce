"""The ``DDGR`` strategy: Avalanche's ``SupervisedTemplate`` plus ``DDGRPlugin`` (a strategy is a
template plus plugins). ``strategy.generator`` (a ``DDPMGenerator``) is the diffusion model the drift
metrics score."""
from __future__ import annotations

from typing import List, Optional

from avalanche.training.templates import SupervisedTemplate

from ..plugins.ddgr import GUIDANCE_SCALE, DDGRPlugin


class DDGR(SupervisedTemplate):
    """Deep Diffusion-based Generative Replay (Gao & Liu, ICML 2023) as an Avalanche strategy.

    Keyword-only arguments, like Avalanche's own strategies; the DDGR ones are
    passed to :class:`~bootdrift_avalanche.plugins.ddgr.DDGRPlugin`, the rest to the template.
    """

    def __init__(self, *, model, optimizer, criterion, generator, replay_per_class: int = 20,
                 guidance_scale: float = GUIDANCE_SCALE, generator_steps: Optional[int] = None,
                 replay_ratio: Optional[float] = 1.0, train_generator: bool = True, progress: bool = False,
                 seed: int = 0, train_mb_size: int = 32, train_epochs: int = 1,
                 eval_mb_size: Optional[int] = None, device="cpu", plugins: Optional[List] = None,
                 evaluator=None, eval_every: int = -1, **base_kwargs):
        self.ddgr_plugin = DDGRPlugin(
            generator, replay_per_class=replay_per_class, guidance_scale=guidance_scale,
            generator_steps=generator_steps, replay_ratio=replay_ratio,
            train_generator=train_generator, progress=progress, seed=seed,
        )
        kwargs = dict(train_mb_size=train_mb_size, train_epochs=train_epochs, eval_mb_size=eval_mb_size,
                      device=device, plugins=[self.ddgr_plugin] + list(plugins or []), eval_every=eval_every,
                      **base_kwargs)
        if evaluator is not None:
            kwargs["evaluator"] = evaluator
        super().__init__(model=model, optimizer=optimizer, criterion=criterion, **kwargs)

    @property
    def generator(self):
        return self.ddgr_plugin.generator

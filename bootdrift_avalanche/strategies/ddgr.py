"""The ``DDGR`` strategy: Avalanche's ``SupervisedTemplate`` plus ``DDGRPlugin`` (a strategy is a
template plus plugins). ``strategy.generator`` (a ``DDPMGenerator``) is the diffusion model the drift
metrics score."""
from __future__ import annotations

from typing import Optional

from ..plugins.ddgr import GUIDANCE_SCALE, DDGRPlugin
from .plugin_strategy import PluginStrategy


class DDGR(PluginStrategy):
    """Deep Diffusion-based Generative Replay (Gao & Liu, ICML 2023) as an Avalanche strategy.

    Keyword-only arguments, like Avalanche's own strategies; the DDGR ones are
    passed to :class:`~bootdrift_avalanche.plugins.ddgr.DDGRPlugin`, the rest to the template.
    """

    def __init__(self, *, model, optimizer, criterion, generator, replay_per_class: int = 20,
                 guidance_scale: float = GUIDANCE_SCALE, generator_steps: Optional[int] = None,
                 replay_ratio: Optional[float] = 1.0, train_generator: bool = True, progress: bool = False,
                 seed: int = 0, **strategy_kwargs):
        self.ddgr_plugin = DDGRPlugin(
            generator, replay_per_class=replay_per_class, guidance_scale=guidance_scale,
            generator_steps=generator_steps, replay_ratio=replay_ratio,
            train_generator=train_generator, progress=progress, seed=seed,
        )
        super().__init__(self.ddgr_plugin, model=model, optimizer=optimizer, criterion=criterion, **strategy_kwargs)

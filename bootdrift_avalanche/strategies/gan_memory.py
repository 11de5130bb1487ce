"""The ``GANMemory`` strategy: Avalanche's ``SupervisedTemplate`` plus ``GANMemoryPlugin``.
``strategy.generator`` (a ``GANMemoryGenerator``) is the generator memory the drift metrics score."""
from __future__ import annotations

from typing import Optional

from ..plugins.gan_memory import GANMemoryPlugin
from .plugin_strategy import PluginStrategy


class GANMemory(PluginStrategy):
    """GAN Memory with No Forgetting (Cong et al., NeurIPS 2020) as an Avalanche strategy.

    Keyword-only arguments, like Avalanche's own strategies; ``generator`` (a
    :class:`~bootdrift_avalanche.generators.gan_memory.GANMemoryGenerator`), ``replay_per_class``,
    ``replay_ratio``, ``progress`` and ``seed`` go to
    :class:`~bootdrift_avalanche.plugins.gan_memory.GANMemoryPlugin`, the rest to the template.
    """

    def __init__(self, *, model, optimizer, criterion, generator, replay_per_class: int = 20,
                 replay_ratio: Optional[float] = 1.0, progress: bool = False, seed: int = 0, **strategy_kwargs):
        self.gan_memory_plugin = GANMemoryPlugin(generator, replay_per_class=replay_per_class,
                                                 replay_ratio=replay_ratio, progress=progress, seed=seed)
        super().__init__(self.gan_memory_plugin, model=model, optimizer=optimizer, criterion=criterion,
                         **strategy_kwargs)

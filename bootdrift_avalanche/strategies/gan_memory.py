"""The ``GANMemory`` strategy: Avalanche's ``SupervisedTemplate`` plus ``GANMemoryPlugin``.
``strategy.generator`` (a ``GANMemoryGenerator``) is the generator memory the drift metrics score."""
from __future__ import annotations

from typing import List, Optional

from avalanche.training.templates import SupervisedTemplate

from ..plugins.gan_memory import GANMemoryPlugin


class GANMemory(SupervisedTemplate):
    """GAN Memory with No Forgetting (Cong et al., NeurIPS 2020) as an Avalanche strategy.

    Keyword-only arguments, like Avalanche's own strategies; ``generator`` (a
    :class:`~bootdrift_avalanche.generators.gan_memory.GANMemoryGenerator`), ``replay_per_class``,
    ``replay_ratio``, ``progress`` and ``seed`` go to
    :class:`~bootdrift_avalanche.plugins.gan_memory.GANMemoryPlugin`, the rest to the template.
    """

    def __init__(self, *, model, optimizer, criterion, generator, replay_per_class: int = 20,
                 replay_ratio: Optional[float] = 1.0, progress: bool = False, seed: int = 0, train_mb_size: int = 32,
                 train_epochs: int = 1, eval_mb_size: Optional[int] = None, device="cpu",
                 plugins: Optional[List] = None, evaluator=None, eval_every: int = -1, **base_kwargs):
        self.gan_memory_plugin = GANMemoryPlugin(generator, replay_per_class=replay_per_class,
                                                 replay_ratio=replay_ratio, progress=progress, seed=seed)
        kwargs = dict(train_mb_size=train_mb_size, train_epochs=train_epochs, eval_mb_size=eval_mb_size,
                      device=device, plugins=[self.gan_memory_plugin] + list(plugins or []),
                      eval_every=eval_every, **base_kwargs)
        if evaluator is not None:
            kwargs["evaluator"] = evaluator
        super().__init__(model=model, optimizer=optimizer, criterion=criterion, **kwargs)

    @property
    def generator(self):
        return self.gan_memory_plugin.generator

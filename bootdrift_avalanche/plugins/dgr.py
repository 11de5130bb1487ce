"""Plain class-conditional generative replay as an Avalanche plugin: "Continual Learning with Deep
Generative Replay" (Shin et al., NeurIPS 2017), with a class-conditional generator in place of the
original's unconditional generator plus solver-labelled replays.

Per experience:

1. ``before_training_exp`` (from the second experience on): the generator as it is now draws
   ``replay_per_class`` samples of every (task, class) pair seen so far, once per experience
   (``generator.generate(labels, seed=)``; under torchrun each rank draws its share and the shares
   are gathered, so every rank trains on the same replay set).
2. ``before_training_iteration`` (``ReplaySetPlugin``): each mini-batch gets replayed samples with
   their own class and task labels.
3. ``after_training_exp``: the generator **continues** training on the experience's real data plus
   its own replays of the old classes: the bootstrapping that the drift metrics measure.

Any generator of the package's protocol fits (``generate(labels, *, seed)``, ``fit(x, y, *, steps,
progress)``): the ``dgr-stylegan2`` recipe runs it with the StyleGAN2 generator. DDGR
(``plugins.ddgr``) is this plugin with the replay set drawn under classifier guidance.
"""
from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor

from ..generators.base import require_generator
from ..runtime import distributed as D
from ..runtime.seeds import seed_for
from .replay import ReplaySetPlugin


class DGRPlugin(ReplaySetPlugin, supports_distributed=True):
    """Class-conditional deep generative replay (see the module docstring).

    Args:
        generator: a class-conditional generator with ``generate(labels, seed=)`` and ``fit(x, y,
            steps=, progress=)``, e.g. ``StyleGAN2Generator`` or ``DDPMGenerator``.
        replay_per_class: replayed samples generated per old class at the start of each experience.
        generator_steps: optimisation steps of the generator after each experience (``None``: the
            generator's configured ``train_steps``).
        replay_ratio: replayed samples appended per real sample in each mini-batch (``None``: in
            proportion to the replay set's size, see ``ReplaySetPlugin``).
        train_generator: set ``False`` to keep a pre-trained generator fixed.
        progress: tqdm bars while training the generator.
        seed: fixes replay generation and replay sampling.
    """

    #: the named seed stream of the replay sets (``runtime.seeds.seed_for``)
    replay_seed_stream = "dgr.replay"

    def __init__(self, generator, *, replay_per_class: int = 20, generator_steps: Optional[int] = None,
                 replay_ratio: Optional[float] = 1.0, train_generator: bool = True, progress: bool = False,
                 seed: int = 0):
        super().__init__(generator, replay_per_class=replay_per_class, replay_ratio=replay_ratio, seed=seed)
        if train_generator:
            require_generator(generator, who=type(self).__name__, methods=("fit",))
        self.generator_steps = generator_steps
        self.train_generator = train_generator
        self.progress = progress

    # -- 1. replay set, once per experience (ReplaySetPlugin.before_training_exp) -----------------
    def _replay_set(self, strategy, labels: Tensor) -> Tensor:
        exp = strategy.clock.train_exp_counter
        # Under torchrun each rank draws its share of the labels and the shares are gathered, so
        # every rank trains on the same replay set (single process: rank 0 draws everything).
        x = self.replay_samples(strategy, D.shard(labels),
                                seed=seed_for(self.replay_seed_stream, seed=self.seed, experience=exp, rank=D.rank()))
        return D.gather_in_order(x, len(labels))

    # -- 2. replay in every mini-batch: ReplaySetPlugin.before_training_iteration ----------

    # -- 3. the generator learns from real data + its own replays -------------------------------
    def after_training_exp(self, strategy, **kwargs):
        x, y = self._generator_data(strategy.experience)
        if self.replay_x is not None:
            x, y = torch.cat([x, self.replay_x]), torch.cat([y, self.replay_y])
        if self.train_generator:
            self.generator.fit(x, y, steps=self.generator_steps, progress=self.progress,
                               **self.generator_fit_kwargs(x, y))

    def generator_fit_kwargs(self, x: Tensor, y: Tensor) -> dict:
        """Extra keyword arguments of the generator's ``fit`` on ``x``, ``y`` (real + replayed, generator
        labels); none here. Anchored replay adds its moment-matching term (``plugins.anchored_replay``)."""
        return {}

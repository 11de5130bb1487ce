"""Recipe: experience replay with a buffer of **real** images (Avalanche's ``ReplayPlugin``), sized so
that its memory in bytes equals the parameter memory of the DDGR generator of the same preset: the
fair "store data or store a generator" comparison.

Memory: the DDPM that the ``ddgr`` recipe builds for this benchmark and preset, one copy of its
UNet's parameters in float32 (the weights that sample; its EMA twin and optimizer state are not
counted), against float32 images of the benchmark's shape: ``mem_size = parameters / (C * H * W)``
images, split over the experiences seen so far (Avalanche's ``ExperienceBalancedBuffer``). On Split
Digits (8x8) the small DDPM already outweighs the whole training set, so the buffer keeps every
image: at that size storing data is the cheaper memory.

Resume: Avalanche's reservoir sampling draws from torch's global RNG; here each buffer update runs
under its own seed (``seed_for("replay_buffer.update", ...)``), so a resumed run rebuilds exactly the
buffer the crashed one had by replaying the updates of the finished experiences.
"""
from __future__ import annotations

import torch
from avalanche.training.plugins import ReplayPlugin

from ...runtime.seeds import seed_for
from ..recipe import BuildContext, Recipe


def matched_buffer_size(ctx: BuildContext) -> int:
    """Images of the benchmark's shape that fit in the DDGR generator's parameter bytes."""
    from ...generators.ddpm import DDPMGenerator

    bm = ctx.benchmark
    gen = DDPMGenerator(ctx.preset.ddpm_config(image_shape=tuple(bm.image_shape), num_classes=bm.n_classes,
                                               seed=ctx.cfg.seed))
    params = sum(p.numel() for p in gen.unet.parameters())
    c, h, w = bm.image_shape
    return max(1, params // (c * h * w))  # both sides float32: bytes cancel


class SeededReplayPlugin(ReplayPlugin):
    """``ReplayPlugin`` whose buffer updates are seeded per experience (see the module docstring)."""

    def __init__(self, mem_size: int, *, seed: int):
        super().__init__(mem_size=mem_size)
        self.seed = seed
        self.updates = 0

    def add_experience(self, strategy, experience) -> None:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed_for("replay_buffer.update", seed=self.seed, experience=self.updates))
            self.storage_policy.post_adapt(strategy, experience)
        self.updates += 1

    def after_training_exp(self, strategy, **kwargs):
        self.add_experience(strategy, strategy.experience)


class ReplayBufferRecipe(Recipe):

    def build(self, ctx: BuildContext):
        from avalanche.training import Naive

        plugin = SeededReplayPlugin(matched_buffer_size(ctx), seed=ctx.cfg.seed)
        return Naive(plugins=[plugin], **ctx.template_kwargs())

    def load_state_dict(self, strategy, state, ctx, done):
        super().load_state_dict(strategy, state, ctx, done)
        plugin = next(p for p in strategy.plugins if isinstance(p, SeededReplayPlugin))
        for k in range(done + 1):
            plugin.add_experience(strategy, ctx.benchmark.train_stream[k])


RECIPE = ReplayBufferRecipe()

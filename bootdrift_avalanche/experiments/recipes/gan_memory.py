"""Recipe: GAN Memory (Cong et al., NeurIPS 2020), a frozen base GAN with one style modulation per
experience; sized by the preset's ``gan_memory`` entry."""
from __future__ import annotations

from ..recipe import BuildContext, Recipe


def gan_memory_generator(ctx: BuildContext):
    """The GAN Memory of the ``gan-memory`` recipes, sized by the preset for the benchmark."""
    from ...generators.gan_memory import GANMemoryGenerator

    cfg, bm = ctx.cfg, ctx.benchmark
    return GANMemoryGenerator(ctx.preset.gan_memory_config(
        image_shape=tuple(bm.image_shape), num_classes=bm.n_classes, seed=cfg.seed, device=cfg.device,
        threads=None))


class GANMemoryRecipe(Recipe):
    has_generator = True
    #: replay_ratio: see ``ReplaySetPlugin`` (None: in proportion to the replay set, as the DDGR
    #: reference's concatenated data set); chosen by bench/replay_tuning.py.
    SETTINGS = {"replay_ratio": None}

    def describe(self, cfg, preset):
        return {**self.settings, "gan_memory": dict(preset.gan_memory)}

    def build(self, ctx: BuildContext):
        from ...strategies import GANMemory

        cfg = ctx.cfg
        return GANMemory(generator=gan_memory_generator(ctx), replay_per_class=cfg.replay_per_class,
                         progress=cfg.progress, seed=cfg.seed, replay_ratio=self.settings["replay_ratio"],
                         **ctx.template_kwargs())


RECIPE = GANMemoryRecipe()

"""Recipe: DDGR (Gao & Liu, ICML 2023), a class-conditional DDPM replaying guided samples of the old
classes and retrained on them; sized by the preset's ``ddpm`` entry."""
from __future__ import annotations

from ..registry import BuildContext, Recipe


def ddpm_generator(ctx: BuildContext):
    """The DDPM of the ``ddgr`` recipes, sized by the preset for the benchmark."""
    from ...generators.ddpm import DDPMGenerator

    cfg, bm = ctx.cfg, ctx.benchmark
    return DDPMGenerator(ctx.preset.ddpm_config(image_shape=tuple(bm.image_shape), num_classes=bm.n_classes,
                                                seed=cfg.seed, device=cfg.device, threads=None))


class DDGRRecipe(Recipe):
    has_generator = True
    #: replay_ratio: see ``ReplaySetPlugin`` (None: in proportion to the replay set, as the DDGR
    #: reference's concatenated data set); chosen by bench/replay_tuning.py.
    SETTINGS = {"replay_ratio": None}

    def describe(self, cfg, preset):
        return {**self.settings, "ddpm": dict(preset.ddpm)}

    def build(self, ctx: BuildContext):
        from ...strategies import DDGR

        cfg = ctx.cfg
        return DDGR(generator=ddpm_generator(ctx), replay_per_class=cfg.replay_per_class,
                    guidance_scale=cfg.guidance_scale, generator_steps=cfg.generator_steps,
                    progress=cfg.progress, seed=cfg.seed, replay_ratio=self.settings["replay_ratio"],
                    **ctx.template_kwargs())


RECIPE = DDGRRecipe()

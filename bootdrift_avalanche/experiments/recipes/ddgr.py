"""Recipes of the class-conditional DDPM replay, sized by the preset's ``ddpm`` entry:

* ``ddgr``: DDGR (Gao & Liu, ICML 2023) as published, the replays of the old classes guided by the
  previous classifier at the reference's scale (``plugins.ddgr.GUIDANCE_SCALE``, 1.0) unless
  ``guidance_scale`` says otherwise;
* ``dgr-ddpm``: the same replay without guidance (scale 0), i.e. class-conditional deep generative
  replay (Shin et al., 2017) with a DDPM. Its settings are those chosen for it on the validation
  split (``bench/replay_tuning.py``; cpu-small's replay count and generator steps); it refuses a
  non-zero scale, which would make it ``ddgr``.
"""
from __future__ import annotations

from typing import Optional

from ..recipe import BuildContext, Recipe


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

    def guidance_scale(self, given: Optional[float]) -> Optional[float]:
        from ...plugins.ddgr import GUIDANCE_SCALE

        return GUIDANCE_SCALE if given is None else float(given)

    def build(self, ctx: BuildContext):
        from ...strategies import DDGR

        cfg = ctx.cfg
        return DDGR(generator=ddpm_generator(ctx), replay_per_class=cfg.replay_per_class,
                    guidance_scale=cfg.guidance_scale, generator_steps=cfg.generator_steps,
                    progress=cfg.progress, seed=cfg.seed, replay_ratio=self.settings["replay_ratio"],
                    **ctx.template_kwargs())


class DGRDDPMRecipe(DDGRRecipe):
    """``dgr-ddpm``: the DDPM replay without classifier guidance (module docstring)."""

    def guidance_scale(self, given: Optional[float]) -> Optional[float]:
        if given not in (None, 0, 0.0):
            raise ValueError(f"dgr-ddpm is the DDPM replay without guidance; --guidance-scale {given} is DDGR: "
                             "use --strategy ddgr --guidance-scale " + str(given))
        return 0.0


RECIPE = DDGRRecipe()
DGR_DDPM = DGRDDPMRecipe()

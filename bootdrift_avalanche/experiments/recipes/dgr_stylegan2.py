"""Recipe: plain class-conditional generative replay (``plugins.dgr.DGRPlugin``; Shin et al., NeurIPS
2017) with the StyleGAN2 generator, sized by the preset's ``stylegan2`` entry: the replay bench's
StyleGAN2. The generator trains ``stylegan2.train_steps`` steps per experience (the preset's choice
for it, ``docs/STYLEGAN2.md``), not the DDPM's ``generator_steps``; replays are drawn at psi 1 (no
truncation)."""
from __future__ import annotations

from ..recipe import BuildContext, PluginRecipe


def stylegan2_generator(ctx: BuildContext):
    """The StyleGAN2 of the ``dgr-stylegan2`` recipe, sized by the preset for the benchmark."""
    from ...generators.stylegan2 import StyleGAN2Generator

    cfg, bm = ctx.cfg, ctx.benchmark
    return StyleGAN2Generator(ctx.preset.stylegan2_config(image_shape=tuple(bm.image_shape), num_classes=bm.n_classes,
                                                          seed=cfg.seed, device=cfg.device, threads=None))


class DGRStyleGAN2Recipe(PluginRecipe):
    #: replay_ratio: in proportion to the replay set, as the ``ddgr`` and ``gan-memory`` recipes
    #: (chosen for them by bench/replay_tuning.py; not tuned again for StyleGAN2).
    SETTINGS = {"replay_ratio": None}

    def describe(self, cfg, preset):
        return {**self.settings, "stylegan2": dict(preset.stylegan2)}

    def plugin(self, ctx: BuildContext):
        from ...plugins.dgr import DGRPlugin

        cfg = ctx.cfg
        return DGRPlugin(stylegan2_generator(ctx), replay_per_class=cfg.replay_per_class,
                         replay_ratio=self.settings["replay_ratio"], progress=cfg.progress, seed=cfg.seed)


RECIPE = DGRStyleGAN2Recipe()

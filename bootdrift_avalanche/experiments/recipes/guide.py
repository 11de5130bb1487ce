"""Recipe: GUIDE (Cywiński et al. 2024), the class-conditional DDPM of the ``ddgr`` recipe replaying old
classes guided toward the current task's classes; its settings are the preset's ``guide`` entry
(paper: the reference's CIFAR-100/5 run, docs/GUIDE.md), its DDPM the preset's ``ddpm`` entry."""
from __future__ import annotations

from ..registry import BuildContext, Recipe
from .ddgr import ddpm_generator


class GUIDERecipe(Recipe):
    has_generator = True

    def options(self, cfg, preset) -> dict:
        """The ``GUIDEPlugin`` keyword arguments: the preset's ``guide`` entry; ``replay_per_class``
        and ``generator_steps`` from the config, as for every replay method."""
        return {**preset.guide, "generator_steps": cfg.generator_steps, "progress": cfg.progress, "seed": cfg.seed,
                "replay_per_class": preset.guide.get("replay_per_class", cfg.replay_per_class)}

    def describe(self, cfg, preset):
        return {**self.settings, "guide": self.options(cfg, preset), "ddpm": dict(preset.ddpm)}

    def build(self, ctx: BuildContext):
        from ...strategies.guide import GUIDE

        return GUIDE(generator=ddpm_generator(ctx), guide=self.options(ctx.cfg, ctx.preset), **ctx.template_kwargs())


RECIPE = GUIDERecipe()

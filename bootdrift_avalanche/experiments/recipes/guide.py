"""Recipe: GUIDE (Cywiński et al. 2024), the class-conditional DDPM of the ``ddgr`` recipe replaying old
classes guided toward the current task's classes; its settings are the preset's ``guide`` entry
(paper: the reference's CIFAR-100/5 run, docs/GUIDE.md), its DDPM the preset's ``ddpm`` entry."""
from __future__ import annotations

from ..registry import BuildContext, Recipe
from .ddgr import ddpm_generator


class GUIDERecipe(Recipe):
    has_generator = True
    #: guide: ``GUIDEPlugin`` keyword arguments over the preset's ``guide`` entry (how the tuning
    #: bench builds its trials; ``None``: the preset's as it is).
    SETTINGS = {"guide": None}

    def options(self, cfg, preset) -> dict:
        """The ``GUIDEPlugin`` keyword arguments: the preset's ``guide`` entry and the ``guide``
        setting; ``replay_per_class`` (unless the entry sets it) and ``generator_steps`` from the
        config, as for every replay method."""
        guide = {**preset.guide, **(self.settings["guide"] or {})}
        return {"replay_per_class": cfg.replay_per_class, **guide, "generator_steps": cfg.generator_steps,
                "progress": cfg.progress, "seed": cfg.seed}

    def describe(self, cfg, preset):
        return {"guide": self.options(cfg, preset), "ddpm": dict(preset.ddpm)}

    def build(self, ctx: BuildContext):
        from ...strategies.guide import GUIDE

        return GUIDE(generator=ddpm_generator(ctx), guide=self.options(ctx.cfg, ctx.preset), **ctx.template_kwargs())


RECIPE = GUIDERecipe()

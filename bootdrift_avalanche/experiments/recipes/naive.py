"""Recipe: Avalanche's ``Naive`` fine-tuning, the lower bound (no replay, no generator)."""
from __future__ import annotations

from ..recipe import BuildContext, Recipe


class NaiveRecipe(Recipe):

    def build(self, ctx: BuildContext):
        from avalanche.training import Naive

        return Naive(**ctx.template_kwargs())


RECIPE = NaiveRecipe()

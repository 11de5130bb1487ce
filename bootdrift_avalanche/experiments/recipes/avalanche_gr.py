"""Recipe: Avalanche's own ``GenerativeReplay`` (an unconditional MLP VAE, labels from the solver),
the baseline most Avalanche users know. Its VAE is saved beside the solver for resume."""
from __future__ import annotations

from ..registry import BuildContext, Recipe


class AvalancheGRRecipe(Recipe):
    task_labels = True  # GenerativeReplay extends mbatch[-1]: with [x, y] batches that is y, twice
    has_generator = True

    def build(self, ctx: BuildContext):
        from ...strategies import avalanche_generative_replay

        return avalanche_generative_replay(image_shape=ctx.benchmark.image_shape, **ctx.template_kwargs())

    def generator(self, strategy):
        return strategy.generator_strategy.model

    def state_dict(self, strategy):
        return {**super().state_dict(strategy), "vae": strategy.generator_strategy.model.state_dict()}

    def load_state_dict(self, strategy, state, ctx, done):
        from avalanche.training.plugins import GenerativeReplayPlugin

        super().load_state_dict(strategy, state, ctx, done)
        strategy.generator_strategy.model.load_state_dict(state["vae"])
        for p in strategy.plugins:
            if isinstance(p, GenerativeReplayPlugin):
                p.untrained_solver = False  # the solver was trained before the crash


RECIPE = AvalancheGRRecipe()

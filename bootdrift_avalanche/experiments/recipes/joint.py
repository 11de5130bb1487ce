"""Recipe: Avalanche's ``Cumulative`` training, the upper bound: after the last experience it has
trained on all the real data seen so far (joint training)."""
from __future__ import annotations

from ..recipe import BuildContext, Recipe


class JointRecipe(Recipe):

    def build(self, ctx: BuildContext):
        from avalanche.training import Cumulative

        return Cumulative(**ctx.template_kwargs())

    def load_state_dict(self, strategy, state, ctx, done):
        from avalanche.benchmarks.utils import concat_datasets

        super().load_state_dict(strategy, state, ctx, done)
        # Cumulative keeps the union of the experiences it trained on; rebuild it from the stream.
        strategy.dataset = concat_datasets([ctx.benchmark.train_stream[i].dataset for i in range(done + 1)])


RECIPE = JointRecipe()

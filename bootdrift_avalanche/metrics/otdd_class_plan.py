"""The class plan of hierarchical OTDD with the Gaussian label cost computed only where the plan
can put mass, and a certificate that the plan is the one the full cost matrix gives.

Computing W_ij (‖μi − μj‖² + Bures²) for all Ca·Cb class pairs is quadratic in the classes, but a
basic optimal plan uses at most Ca + Cb − 1 of them. With L_ij ≤ W_ij a free lower bound
(:func:`~.otdd_label_cost.label_cost_lower_bound`) the loop keeps a cost matrix that is exact on a
set E of pairs and L elsewhere, solves the class problem on it and computes the pairs of the plan's
support not yet in E; it stops when the support lies in E. Then the plan π is optimal for the true
costs: any coupling γ has ⟨γ, W⟩ ≥ ⟨γ, mixed⟩ ≥ ⟨π, mixed⟩ = ⟨π, W⟩. It is *the* plan of the full
matrix whenever that plan is unique (ties have measure zero for continuous features), so the
OTDD value is unchanged; ``tests/metrics/test_otdd_class_plan.py`` checks it against the full
matrix and ``bench/drift_scale.py`` counts the pairs computed (``docs/DRIFT_SCALE.md``).

Starts from the pair of least bound in every row and column; each round adds at most Ca + Cb − 1
pairs. When the bound does not separate the classes (overlapping classes: the plan keeps asking
for new pairs) and the pairs computed would pass :data:`FULL_FRACTION` of all (and four times
Ca + Cb), the full matrix is computed in one batch instead
(:func:`~.otdd_label_cost.label_cost_matrix`), so the worst case costs little more than the full route.
"""
from __future__ import annotations

from typing import Sequence, Tuple

import numpy as np
import torch
from torch import Tensor

from ._gaussian import Gauss
from .otdd_label_cost import class_factors, label_cost_lower_bound, label_cost_matrix, label_cost_pairs

#: past this fraction of all class pairs, the remaining ones are computed at once (see above)
FULL_FRACTION = 0.05


def class_plan(ga: Sequence[Gauss], gb: Sequence[Gauss], mass_a: Tensor, mass_b: Tensor,
               ) -> Tuple[np.ndarray, Tensor, int]:
    """``(plan, w, computed)``: the optimal class coupling of masses ``mass_a``/``mass_b`` (CPU
    float64) under the cost 2·W, a (Ca, Cb) CPU matrix ``w`` exact on every pair the plan uses
    (a lower bound elsewhere), and how many pairs were computed exactly."""
    import ot

    w = label_cost_lower_bound(ga, gb).cpu()
    exact = torch.zeros(w.shape, dtype=torch.bool)
    todo = torch.zeros(w.shape, dtype=torch.bool)
    factors = None
    limit = max(FULL_FRACTION * w.numel(), 4 * sum(w.shape))  # a few plans' supports at least
    todo[torch.arange(w.shape[0]), w.argmin(1)] = True
    todo[w.argmin(0), torch.arange(w.shape[1])] = True
    while True:
        rows, cols = torch.nonzero(todo & ~exact, as_tuple=True)
        if int(exact.sum()) + len(rows) > limit and len(rows) < w.numel():
            factors = None  # the full route stacks its own
            w = label_cost_matrix(ga, gb).cpu()
            exact[:] = True
        elif len(rows):
            if factors is None:
                factors = class_factors(ga), class_factors(gb)
            w[rows, cols] = label_cost_pairs(ga, gb, rows, cols, factors=factors).cpu()
            exact[rows, cols] = True
        plan, log = ot.emd(mass_a.numpy(), mass_b.numpy(), (2.0 * w).numpy(),
                           numItermax=max(100_000, 50 * w.numel()), log=True)
        if log.get("warning"):  # an unfinished solve certifies nothing
            raise RuntimeError(f"OTDD's class plan: the exact OT solver did not finish ({log['warning']})")
        todo = torch.from_numpy(plan > 0)
        if not bool((todo & ~exact).any()):
            return plan, w, int(exact.sum())

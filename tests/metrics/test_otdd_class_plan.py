"""The lazily computed class plan of hierarchical OTDD equals the plan of the full label-cost
matrix, computing far fewer pairs when the classes are apart, and falls back to the full matrix
when they overlap."""
import numpy as np
import ot
import pytest
import torch

from bootdrift_avalanche.metrics.otdd import class_gaussians, gaussian_label_distances
from bootdrift_avalanche.metrics.otdd_class_plan import class_plan
from bootdrift_avalanche.metrics.otdd_label_cost import label_cost_lower_bound, label_cost_matrix, label_cost_pairs


def _sets(c, n, d, sep, seed=0):
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(c).repeat_interleave(n)
    centres = sep * torch.randn(c, d, generator=g, dtype=torch.float64)
    xa = centres[y] + torch.randn(len(y), d, generator=g, dtype=torch.float64)
    xb = centres[y] + 1.2 * torch.randn(len(y), d, generator=g, dtype=torch.float64)
    return class_gaussians(xa, y, torch.arange(c), "a"), class_gaussians(xb, y, torch.arange(c), "b")


def _full(ga, gb, ma, mb):
    w = gaussian_label_distances(ga, gb)
    return ot.emd(ma.numpy(), mb.numpy(), (2.0 * w).numpy()), w


@pytest.mark.parametrize("sep,lazy", [(3.0, True), (0.05, False)])
def test_plan_and_used_costs_match_the_full_matrix(sep, lazy):
    ga, gb = _sets(40, 12, 20, sep)
    ma = torch.full((40,), 1 / 40, dtype=torch.float64)
    mb = torch.rand(40, generator=torch.Generator().manual_seed(1), dtype=torch.float64) + 0.5
    mb /= mb.sum()
    plan, w, computed = class_plan(ga, gb, ma, mb)
    want_plan, want_w = _full(ga, gb, ma, mb)
    assert np.abs(plan - want_plan).max() < 1e-12
    used = torch.from_numpy(plan > 0)
    assert torch.allclose(w[used], want_w[used], rtol=1e-12, atol=1e-9)
    assert (computed < 40 * 40 // 4) == lazy  # apart: about one pair per class; overlapping: all at once


def test_pairs_and_bound_agree_with_the_matrix():
    ga, gb = _sets(5, 7, 9, 0.5)
    full = label_cost_matrix(ga, gb)
    rows, cols = torch.tensor([0, 4, 2, 2]), torch.tensor([3, 0, 2, 4])
    assert torch.allclose(label_cost_pairs(ga, gb, rows, cols), full[rows, cols], rtol=1e-10, atol=1e-10)
    assert bool((label_cost_lower_bound(ga, gb) <= full + 1e-9).all())

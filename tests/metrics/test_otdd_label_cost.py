"""The batched label cost (one shared factor per class, stacked products) against the per-pair
route of ``_gaussian.trace_sqrt_pairs`` and against the closed form of commuting covariances."""
from unittest import mock

import pytest
import torch

from bootdrift_avalanche.metrics import otdd_label_cost
from bootdrift_avalanche.metrics._gaussian import bures_squared, trace_sqrt_pairs
from bootdrift_avalanche.metrics.otdd import class_gaussians
from bootdrift_avalanche.metrics.otdd_label_cost import label_cost_matrix


def _classes(c, n, d, seed, shift=0.0):
    g = torch.Generator().manual_seed(seed)
    mix = torch.randn(d, d, generator=g, dtype=torch.float64) / d**0.5
    x = torch.randn(c * n, d, generator=g, dtype=torch.float64) @ mix + shift
    y = torch.arange(c).repeat_interleave(n)
    return class_gaussians(x, y, torch.arange(c), "x")


def _per_pair(ga, gb):
    pairs = [(i, j) for i in range(len(ga)) for j in range(len(gb))]
    tr = trace_sqrt_pairs([ga[i] for i, _ in pairs], [gb[j] for _, j in pairs]).view(len(ga), len(gb))
    mu = torch.cdist(torch.stack([g.mean for g in ga]), torch.stack([g.mean for g in gb])).square()
    t_a = torch.tensor([g.trace for g in ga], dtype=torch.float64)
    t_b = torch.tensor([g.trace for g in gb], dtype=torch.float64)
    return (mu + t_a[:, None] + t_b[None, :] - 2 * tr).clamp_min(0), t_a[:, None] + t_b[None, :]


@pytest.mark.parametrize("n_a,n_b,d", [(6, 9, 16), (20, 20, 8), (5, 30, 12)])  # low/low, full/full, low/full
def test_matches_per_pair_route(n_a, n_b, d):
    ga, gb = _classes(4, n_a, d, 0), _classes(3, n_b, d, 1, shift=0.5)
    want, scale = _per_pair(ga, gb)
    got = label_cost_matrix(ga, gb)
    assert got.shape == (4, 3)
    assert torch.allclose(got, want, rtol=0, atol=1e-7 * float(scale.max()))  # Gram route: ~√eps relative


@pytest.mark.parametrize("pairs", [1, 3, 9])  # one pair, part of a row, rows of B's 4 classes
def test_memory_budget_gives_the_same_values_in_blocks(pairs):
    ga, gb = _classes(5, 7, 10, 2), _classes(4, 7, 10, 3)
    whole = label_cost_matrix(ga, gb)
    with mock.patch.object(otdd_label_cost, "LABEL_COST_BUDGET", pairs * 8 * 4 * 7 * 7):
        assert torch.allclose(label_cost_matrix(ga, gb), whole, rtol=1e-12, atol=0)


def test_commuting_covariances_give_the_closed_form():
    # diagonal covariances: Bures² = Σ (√a_k − √b_k)²
    a, b = torch.tensor([4.0, 1.0, 0.25], dtype=torch.float64), torch.tensor([1.0, 9.0, 0.25], dtype=torch.float64)
    ga = _classes(1, 5, 3, 0)
    gb = _classes(1, 5, 3, 1)
    ga[0].low, ga[0].cov, ga[0].mean, ga[0].trace = (None, torch.diag(a), torch.zeros(3, dtype=torch.float64),
                                                     float(a.sum()))
    gb[0].low, gb[0].cov, gb[0].mean, gb[0].trace = (None, torch.diag(b), torch.ones(3, dtype=torch.float64),
                                                     float(b.sum()))
    want = 3.0 + float((a.sqrt() - b.sqrt()).square().sum())
    assert float(label_cost_matrix(ga, gb)[0, 0]) == pytest.approx(want, rel=1e-12)
    assert bures_squared(torch.diag(a), torch.diag(b)) == pytest.approx(want - 3.0, rel=1e-12)


def test_zero_for_a_class_against_itself():
    ga = _classes(3, 8, 12, 4)
    w = label_cost_matrix(ga, ga)
    assert float(w.diagonal().abs().max()) < 1e-7 * float(w.max())
    assert float(w[~torch.eye(3, dtype=torch.bool)].min()) > 1.0

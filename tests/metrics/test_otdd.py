"""OTDD: invariants, brute-force agreement with POT on the full augmented cost, errors (the
reference-compatible mode: ``test_otdd_compat.py``)."""
import warnings

import numpy as np
import ot
import pytest
import scipy.linalg
import torch

from bootdrift_avalanche.metrics import otdd


def _data(n_per_class, d, *, seed, classes=(0, 1, 2), shift=0.0, spread=3.0):
    g = torch.Generator().manual_seed(seed)
    xs, ys = [], []
    for k, c in enumerate(classes):
        centre = torch.zeros(d, dtype=torch.float64)
        centre[k % d] = spread
        scale = 0.5 + 0.25 * k  # classes differ in shape too, not only in position
        xs.append(centre + shift + scale * torch.randn(n_per_class, d, generator=g, dtype=torch.float64))
        ys.append(torch.full((n_per_class,), c))
    return torch.cat(xs), torch.cat(ys)


def _bures_sq_reference(ca, cb):
    """Independent Bures²: scipy's sqrtm on the symmetric matrices (singular for classes with
    n ≤ d, which scipy warns about but handles to ~1e-9 here)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", scipy.linalg.LinAlgWarning)
        ra = np.real(scipy.linalg.sqrtm(ca))
        cross = np.real(scipy.linalg.sqrtm(ra @ cb @ ra))
    return max(np.trace(ca) + np.trace(cb) - 2 * np.trace(cross), 0.0)


def _brute_force(xa, ya, xb, yb, inner):
    """OTDD from scratch: full augmented cost with POT, exact outer OT, square root."""
    xa, xb, ya, yb = xa.numpy(), xb.numpy(), ya.numpy(), yb.numpy()
    w = {}
    for i in np.unique(ya):
        for j in np.unique(yb):
            pi, pj = xa[ya == i], xb[yb == j]
            if inner == "exact":
                w[i, j] = ot.emd2(ot.unif(len(pi)), ot.unif(len(pj)), ot.dist(pi, pj))
            else:
                w[i, j] = np.sum((pi.mean(0) - pj.mean(0)) ** 2) + _bures_sq_reference(np.cov(pi.T), np.cov(pj.T))
    cost = ot.dist(xa, xb) + np.array([[w[i, j] for j in yb] for i in ya])
    return float(np.sqrt(ot.emd2(ot.unif(len(xa)), ot.unif(len(xb)), cost)))


@pytest.mark.parametrize("inner", ["gaussian", "exact"])
@pytest.mark.parametrize("n_per_class,d", [(6, 3), (3, 5)])  # full-rank and n < d (nuclear) classes
def test_equals_brute_force_exact_ot_with_pot(inner, n_per_class, d):
    xa, ya = _data(n_per_class, d, seed=1)
    xb, yb = _data(n_per_class + 1, d, seed=2, shift=0.4)
    ours = otdd(xa, ya, xb, yb, inner=inner)
    ref = _brute_force(xa, ya, xb, yb, inner)
    assert ours == pytest.approx(ref, rel=1e-7)


@pytest.mark.parametrize("inner", ["gaussian", "exact"])
def test_zero_on_identical_data_and_symmetric(inner):
    xa, ya = _data(8, 4, seed=3)
    xb, yb = _data(7, 4, seed=4, shift=0.3)
    assert otdd(xa, ya, xa, ya, inner=inner) < 1e-6
    assert otdd(xa, ya, xb, yb, inner=inner) == pytest.approx(otdd(xb, yb, xa, ya, inner=inner), rel=1e-10)


def test_grows_with_mean_shift():
    xa, ya = _data(10, 3, seed=5)
    xb, yb = _data(10, 3, seed=6)
    values = [otdd(xa, ya, xb + s, yb) for s in (0.0, 0.5, 1.0, 2.0)]
    assert values == sorted(values) and values[-1] > values[0] + 1.0


@pytest.mark.parametrize("inner", ["gaussian", "exact"])
def test_invariant_to_renaming_classes_of_one_dataset(inner):
    xa, ya = _data(8, 3, seed=7)
    xb, yb = _data(9, 3, seed=8, shift=0.2)
    renamed = torch.tensor([42, 7, 13])[yb]  # a consistent relabelling, order not preserved
    assert otdd(xa, ya, xb, renamed, inner=inner) == pytest.approx(otdd(xa, ya, xb, yb, inner=inner), rel=1e-10)


def test_grows_when_labels_are_shuffled_between_points():
    xa, ya = _data(12, 3, seed=9)
    xb, yb = _data(12, 3, seed=10)
    shuffled = yb[torch.randperm(len(yb), generator=torch.Generator().manual_seed(0))]
    assert otdd(xa, ya, xb, shuffled) > otdd(xa, ya, xb, yb) + 0.5


def test_max_samples_is_seeded_and_exact_when_large():
    xa, ya = _data(20, 3, seed=13)
    xb, yb = _data(20, 3, seed=14, shift=0.3)
    full = otdd(xa, ya, xb, yb)
    assert otdd(xa, ya, xb, yb, max_samples=1000) == full
    sub1 = otdd(xa, ya, xb, yb, max_samples=25, seed=1)
    assert sub1 == otdd(xa, ya, xb, yb, max_samples=25, seed=1)
    assert sub1 != full
    assert otdd(xa, ya, xb, yb, inner="exact", max_samples=25, seed=1) > 0


def test_otdd_errors():
    xa, ya = _data(4, 3, seed=15)
    with pytest.raises(ValueError, match="2-D"):
        otdd(xa[:, 0], ya, xa, ya)
    with pytest.raises(ValueError, match="labels_b must be 1-D"):
        otdd(xa, ya, xa, ya[:-1])
    bad = xa.clone()
    bad[0, 0] = float("inf")
    with pytest.raises(ValueError, match="feats_b contains .*NaN/Inf"):
        otdd(xa, ya, bad, ya)
    with pytest.raises(ValueError, match="feature dimensions differ"):
        otdd(xa, ya, xa[:, :2], ya)
    lonely = ya.clone()
    lonely[0] = 9
    with pytest.raises(ValueError, match="class 9 has 1 sample.*feats_a"):
        otdd(xa, lonely, xa, ya)
    assert otdd(xa, lonely, xa, ya, inner="exact") > 0  # the exact inner term has no such limit
    with pytest.raises(ValueError, match="inner"):
        otdd(xa, ya, xa, ya, inner="sinkhorn")
    with pytest.raises(ValueError, match="at least 1"):
        otdd(xa[:0], ya[:0], xa, ya)

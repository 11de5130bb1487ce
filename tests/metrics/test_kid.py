"""KID and per-class KID against torchmetrics, and KID's jackknife standard error."""
import pytest
import torch
from torchmetrics.image.kid import KernelInceptionDistance, poly_mmd

from bootdrift_avalanche.metrics.kid import class_kid, jackknife_sd, kid


class _Identity(torch.nn.Module):
    """torchmetrics' custom feature extractor: the inputs are the features."""

    num_features = 16

    def forward(self, x):
        return x


def _sets(n=150, m=120, d=16, shift=0.3, seed=0):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(n, d, generator=g, dtype=torch.float64),
            shift + torch.randn(m, d, generator=g, dtype=torch.float64))


def test_kid_equals_torchmetrics_kernel_inception_distance_on_the_same_features():
    a, b = _sets()
    metric = KernelInceptionDistance(feature=_Identity(), subsets=7, subset_size=50)
    metric.update(a, real=True)
    metric.update(b, real=False)
    torch.manual_seed(11)  # torchmetrics draws its subsets from the global RNG, ours from a seeded generator
    ref_mean, ref_std = metric.compute()
    mine = kid(a, b, subsets=7, subset_size=50, seed=11)
    assert mine.mean == pytest.approx(float(ref_mean), rel=1e-6)
    assert mine.std == pytest.approx(float(ref_std), rel=1e-6)
    assert mine.std > 0


def test_kid_of_equal_full_sets_is_the_whole_set_estimator_and_ckid_is_the_class_mean():
    a, b = _sets(n=40, m=40)
    r = kid(a, b, subset_size=None)
    assert r.mean == pytest.approx(float(poly_mmd(a, b)), rel=1e-12) and r.std == 0.0
    y = torch.arange(40) % 2
    c = class_kid(a, y, b, y, subset_size=None)
    per = [float(poly_mmd(a[y == k], b[y == k])) for k in (0, 1)]
    assert c.per_class == pytest.approx({0: per[0], 1: per[1]}) and c.mean == pytest.approx(sum(per) / 2)
    assert set(c.per_class_sd) == {0, 1} and c.sd > 0


def test_jackknife_standard_error_matches_the_spread_of_kid_over_draws():
    """The jackknife s.e. of one draw is within 30 % of KID's standard deviation over 60 draws."""
    values, ses = [], []
    for s in range(60):
        a, b = _sets(n=80, m=80, d=4, shift=0.5, seed=s)
        values.append(kid(a, b, subset_size=None).mean)
        ses.append(jackknife_sd(a, b))
    spread = torch.tensor(values).std().item()
    assert 0.7 * spread < sum(ses) / len(ses) < 1.3 * spread


def test_kid_refuses_too_small_or_mismatched_sets():
    a, b = _sets()
    with pytest.raises(ValueError, match="feature dimensions"):
        kid(a, b[:, :3])
    with pytest.raises(ValueError, match="same size"):
        jackknife_sd(a, b)

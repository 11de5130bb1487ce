"""FID at a fixed total n: the same n whatever the number of classes."""
import torch

from bootdrift_avalanche.metrics.feature_values import feature_values, stratified_subset
from bootdrift_avalanche.metrics.suite import SuiteConfig


def test_stratified_subset_spreads_a_fixed_total_over_the_classes():
    y = torch.arange(10).repeat_interleave(30)
    idx = stratified_subset(y, 60, seed=0)
    assert len(idx) == 60 and len(set(idx.tolist())) == 60
    assert torch.bincount(y[idx]).tolist() == [6] * 10
    assert torch.bincount(y[stratified_subset(y, 25, seed=0)]).tolist() == [3] * 5 + [2] * 5
    assert torch.equal(stratified_subset(y, 60, seed=1), stratified_subset(y, 60, seed=1))


def test_fixed_n_fid_does_not_fall_as_classes_are_added():
    """Two samples of one distribution: FID over all rows falls with n (its bias), FID at a
    fixed total n stays at the bias of that n."""
    g = torch.Generator().manual_seed(0)
    cfg = SuiteConfig(cfid=False, otdd=False, kid=False, real_accuracy=False, samples=False, fid_fixed_n=40,
                      intervals=0)
    fid, fixed = [], []
    for classes in (2, 10):
        y = torch.arange(classes).repeat_interleave(20)
        a, b = torch.randn(len(y), 16, generator=g), torch.randn(len(y), 16, generator=g)
        v = feature_values(cfg, "x", a, y, b, y)
        fid.append(v["FID_x"])
        fixed.append(v["FIDfixed_x"])
    assert fid[1] < 0.5 * fid[0]
    assert 0.6 < fixed[1] / fixed[0] < 1.6

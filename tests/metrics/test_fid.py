"""FID, Gaussian statistics and CFID: invariants, agreement with torchmetrics, routes, errors."""
import numpy as np
import pytest
import torch

from bootdrift_avalanche.metrics import (
    CFIDResult,
    GaussianStats,
    bures_squared,
    cfid,
    frechet_distance,
    gaussian_w2_squared,
    psd_root_factor,
    sqrtm_psd,
    trace_sqrt_product,
)


def _feats(n, d, *, seed, shift=0.0, scale=1.0, rank=None):
    g = torch.Generator().manual_seed(seed)
    if rank is None:
        x = torch.randn(n, d, generator=g, dtype=torch.float64)
    else:  # correlated, low-rank plus a little noise, like real network features
        x = (torch.randn(n, rank, generator=g, dtype=torch.float64)
             @ torch.randn(rank, d, generator=g, dtype=torch.float64))
        x = x + 0.1 * torch.randn(n, d, generator=g, dtype=torch.float64)
    return x * scale + shift


def _rel(a, b):
    return abs(a - b) / max(abs(a), abs(b), 1e-300)


@pytest.mark.parametrize("n,d", [(200, 16), (30, 64)])
def test_fid_of_a_set_with_itself_is_zero(n, d):
    x = _feats(n, d, seed=0, rank=8, shift=3.0)
    scale = float(torch.cov(x.T).trace())
    assert abs(frechet_distance(x, x)) < 1e-9 * scale
    assert abs(frechet_distance(GaussianStats.from_features(x), x, route="eigen")) < 1e-9 * scale


@pytest.mark.parametrize("n,m,d", [(200, 150, 16), (30, 45, 64), (20, 300, 32)])
def test_fid_is_symmetric(n, m, d):
    x, y = _feats(n, d, seed=1), _feats(m, d, seed=2, shift=0.3, scale=1.5)
    assert _rel(frechet_distance(x, y), frechet_distance(y, x)) < 1e-10


def test_agrees_with_torchmetrics_on_the_same_features():
    from torchmetrics.image.fid import FrechetInceptionDistance

    d = 16

    class Identity(torch.nn.Module):  # the "dummy feature extractor" of torchmetrics' own tests
        num_features = d

        def forward(self, x):
            return x

    x, y = _feats(300, d, seed=3, shift=2.0), _feats(250, d, seed=4, shift=2.5, scale=1.2, rank=6)
    tm = FrechetInceptionDistance(feature=Identity())
    for s in range(0, 300, 64):
        tm.update(x[s : s + 64], real=True)
    tm.update(y, real=False)
    ref = float(tm.compute())
    assert _rel(frechet_distance(x, y), ref) < 1e-6
    assert _rel(frechet_distance(GaussianStats.from_features(x), GaussianStats.from_features(y)), ref) < 1e-6


def test_known_value_for_diagonal_gaussians():
    a, b = torch.tensor([1.0, 4.0, 9.0], dtype=torch.float64), torch.tensor([4.0, 1.0, 9.0], dtype=torch.float64)
    mu_a, mu_b = torch.zeros(3, dtype=torch.float64), torch.tensor([1.0, 0.0, 2.0], dtype=torch.float64)
    expected = 5.0 + float(((a.sqrt() - b.sqrt()) ** 2).sum())  # ‖Δμ‖² + Σ(√a − √b)²
    assert gaussian_w2_squared(mu_a, torch.diag(a), mu_b, torch.diag(b)) == pytest.approx(expected, rel=1e-12)
    assert bures_squared(torch.diag(a), torch.diag(a)) == pytest.approx(0.0, abs=1e-12)
    assert trace_sqrt_product(torch.diag(a), torch.diag(b)) == pytest.approx(float((a * b).sqrt().sum()), rel=1e-12)


def test_psd_helpers_handle_singular_matrices():
    x = _feats(5, 12, seed=5)
    cov = torch.cov(x.T)  # rank 4: Cholesky fails, the eigh fallback keeps 4 columns
    f = psd_root_factor(cov)
    assert f.shape == (12, 4)
    assert torch.allclose(f @ f.T, cov, atol=1e-12)
    s = sqrtm_psd(cov)
    assert torch.allclose(s @ s, cov, atol=1e-10) and torch.allclose(s, s.T)
    full = torch.cov(_feats(50, 6, seed=6).T)
    assert torch.allclose(psd_root_factor(full), torch.linalg.cholesky(full))


@pytest.mark.parametrize("n,m,d", [(30, 40, 64), (10, 12, 100), (60, 25, 48)])
def test_nuclear_and_eigen_routes_agree(n, m, d):
    x, y = _feats(n, d, seed=7, rank=5), _feats(m, d, seed=8, rank=5, shift=0.2)
    nuc = frechet_distance(x, y, route="nuclear")
    eig = frechet_distance(x, y, route="eigen")
    assert _rel(nuc, eig) < 1e-7
    assert frechet_distance(x, y) == nuc  # auto picks the nuclear route for n < d
    # mixed: statistics keeping their rows vs a large set without them
    big = _feats(3 * d, d, seed=9, rank=5)
    small = x if n < d else y
    sx = GaussianStats.from_features(small)
    assert sx.features is not None
    assert _rel(frechet_distance(sx, big), frechet_distance(small, big, route="eigen")) < 1e-7


def test_batched_statistics_equal_one_shot():
    x = _feats(257, 24, seed=10, shift=1e4, rank=10)  # large offset: shifted sums keep precision
    one = GaussianStats.from_features(x)
    acc = GaussianStats(keep_features=False)
    for s, e in [(0, 1), (1, 50), (50, 51), (51, 200), (200, 257)]:
        acc.update(x[s:e])
    ref_cov = torch.cov(x.T)
    assert acc.count == 257
    assert torch.allclose(acc.mean, x.mean(0), rtol=0, atol=1e-9)
    assert torch.allclose(acc.cov, ref_cov, rtol=1e-10, atol=1e-10)
    assert torch.allclose(one.cov, ref_cov, rtol=1e-10, atol=1e-10)
    y = _feats(100, 24, seed=11, shift=1e4 + 0.5)
    assert _rel(frechet_distance(acc, y), frechet_distance(x, y)) < 1e-9


def test_merge_and_reset():
    x = _feats(90, 8, seed=12, shift=5.0)
    a = GaussianStats().update(x[:40])
    b = GaussianStats().update(x[40:] + 0)  # different first-batch shift
    a.merge(b)
    assert a.count == 90
    assert torch.allclose(a.cov, torch.cov(x.T), atol=1e-12)
    empty = GaussianStats().merge(GaussianStats.from_features(x))
    assert torch.allclose(empty.mean, x.mean(0), atol=1e-12)
    a.reset()
    assert a.count == 0 and a.features is None
    with pytest.raises(ValueError, match="at least 2"):
        a.cov
    with pytest.raises(ValueError, match="differ"):
        GaussianStats(8).merge(GaussianStats.from_features(_feats(5, 3, seed=0)))


def test_statistics_pickle_and_merge_kept_rows():
    import pickle

    x = _feats(8, 20, seed=20)
    a, b = GaussianStats().update(x[:3]), GaussianStats().update(x[3:])
    a = pickle.loads(pickle.dumps(a))  # what torch.distributed's all_gather_object does
    a.merge(b)
    assert torch.equal(a.features, x)  # still fewer rows than d: kept for the nuclear route
    assert frechet_distance(a, x[:6] + 1.0) == pytest.approx(frechet_distance(x, x[:6] + 1.0), rel=1e-12)
    with pytest.raises(ValueError, match="feats_a: GaussianStats holds 0 sample"):
        frechet_distance(GaussianStats(), x)


def test_kept_features_and_root_cache():
    d = 10
    s = GaussianStats()
    s.update(_feats(6, d, seed=13))
    assert s.features.shape == (6, d)  # n < d: rows kept for the nuclear route
    s.update(_feats(6, d, seed=14))
    assert s.features is None  # count reached d: only the sums remain
    root = s.root_factor()
    assert s.root_factor() is root  # cached for a fixed reference
    frechet_distance(_feats(50, d, seed=15), s)
    assert s.root_factor() is root  # the cached side is reused whichever argument it is
    s.update(_feats(3, d, seed=16))
    assert s.root_factor() is not root  # update invalidates the cache


def test_accepts_numpy_and_float32():
    x = _feats(40, 5, seed=17)
    y = _feats(40, 5, seed=18, shift=1.0)
    ref = frechet_distance(x, y)
    assert frechet_distance(x.numpy(), y.numpy()) == pytest.approx(ref, rel=1e-12)
    assert frechet_distance(x.float(), y.float()) == pytest.approx(ref, rel=1e-5)


def test_fid_errors():
    x = _feats(20, 4, seed=19)
    with pytest.raises(ValueError, match="2-D"):
        frechet_distance(x[0], x)
    with pytest.raises(ValueError, match="at least 2"):
        frechet_distance(x[:1], x)
    bad = x.clone()
    bad[3, 1] = float("nan")
    with pytest.raises(ValueError, match="NaN/Inf.*first bad row: 3"):
        frechet_distance(x, bad)
    bad[3, 1] = float("inf")
    with pytest.raises(ValueError, match="feats_b contains"):
        frechet_distance(x, bad)
    with pytest.raises(ValueError, match="feature dimensions differ: 4 vs 5"):
        frechet_distance(x, _feats(20, 5, seed=0))
    with pytest.raises(ValueError, match="route"):
        frechet_distance(x, x, route="sqrtm")
    with pytest.raises(ValueError, match="keep_features"):
        frechet_distance(GaussianStats(keep_features=False).update(x), x, route="nuclear")
    with pytest.raises(TypeError):
        frechet_distance([[1.0, 2.0]], x)
    with pytest.raises(ValueError, match="differ"):
        GaussianStats(3).update(x)


# ----------------------------------------------------------------------------------------- CFID
def _labelled(n_per_class, d, classes, *, seed, shift=0.0):
    xs, ys = [], []
    for c in classes:
        xs.append(_feats(n_per_class, d, seed=seed * 100 + c, shift=shift + c))
        ys.append(torch.full((n_per_class,), c))
    return torch.cat(xs), torch.cat(ys)


def test_cfid_is_mean_of_per_class_fid():
    xa, ya = _labelled(30, 6, [0, 1, 2], seed=1)
    xb, yb = _labelled(25, 6, [1, 2, 3], seed=2, shift=0.2)
    r = cfid(xa, ya, xb, yb)
    assert isinstance(r, CFIDResult)
    assert set(r.per_class) == {1, 2} and r.skipped_classes == (0, 3)
    for c in (1, 2):
        assert r.per_class[c] == pytest.approx(frechet_distance(xa[ya == c], xb[yb == c]), rel=1e-12)
    assert r.mean == pytest.approx(np.mean(list(r.per_class.values())))
    assert r.n_per_class == {1: (30, 25), 2: (30, 25)}
    assert r.ci_low is None


def test_cfid_equal_samples_per_class_and_bootstrap():
    xa, ya = _labelled(40, 5, [0, 1], seed=3)
    xb, yb = _labelled(60, 5, [0, 1], seed=4, shift=0.5)
    r1 = cfid(xa, ya, xb, yb, samples_per_class=20, seed=1, bootstrap=30)
    r2 = cfid(xa, ya, xb, yb, samples_per_class=20, seed=1, bootstrap=30)
    assert r1 == r2  # seeded
    assert r1.n_per_class == {0: (20, 20), 1: (20, 20)}
    assert r1.ci_low < r1.ci_high and r1.bootstrap_std > 0
    assert r1.ci_low < r1.mean < r1.ci_high
    with pytest.raises(ValueError, match="class 0 has 40 sample.*samples_per_class=50"):
        cfid(xa, ya, xb, yb, samples_per_class=50)


def test_cfid_errors_name_the_class():
    xa, ya = _labelled(10, 3, [0, 1], seed=5)
    xb, yb = _labelled(10, 3, [0, 1], seed=6)
    yb = yb.clone()
    yb[0] = 7  # make class 7 present in b only: skipped
    yb[10:19] = 7  # class 1 keeps a single sample in b
    with pytest.raises(ValueError, match="class 1 has 1 sample.*feats_b"):
        cfid(xa, ya, xb, yb)
    with pytest.raises(ValueError, match="no class is present in both"):
        cfid(xa, ya, xb, yb + 100)
    with pytest.raises(ValueError, match="labels_a must be 1-D"):
        cfid(xa, ya[:-1], xb, yb)
    with pytest.raises(TypeError, match="integer"):
        cfid(xa, ya.double() + 0.5, xb, yb)

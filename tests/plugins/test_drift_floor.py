"""The real-vs-real floor, KID and intervals of the drift plugin on real streams: a perfect generator
(held-out real images) scores at its floor, a generator of growing drift leaves it."""
from types import SimpleNamespace

import pytest
import torch

from bootdrift_avalanche.benchmarks import split_digits
from bootdrift_avalanche.metrics import SuiteConfig
from bootdrift_avalanche.metrics.intervals import DEFAULT_REPLICATES
from bootdrift_avalanche.plugins.drift import DriftComputation
from bootdrift_avalanche.plugins.reference_pool import ReferencePool

from ..benchmarks.fake_data import write_fake_cifar100

FLOORED = ("FID", "CFID", "OTDD")


class _HeldOut:
    """A generator that returns real train images of the asked class that neither the feature
    extractor (the first ``n`` of the feature stream's seeded order) nor the floor (the next ``n``)
    uses, plus Gaussian noise of ``sigma`` (0: a perfect generator)."""

    def __init__(self, stream, n, sigma=0.0):
        self.pool = ReferencePool(stream, n_per_class=n, seed=0, stream_name="", seed_stream="drift.feature_data",
                               offset=2 * n)
        self.sigma = sigma

    def generate(self, labels, *, seed=None):
        x = torch.empty(len(labels), *self.pool.samples((0, int(labels[0])))[0].shape)
        for c in torch.unique(labels).tolist():
            rows = labels == c
            x[rows] = self.pool.samples((0, c))[: int(rows.sum())]
        g = torch.Generator().manual_seed(seed or 0)
        return x + self.sigma * torch.randn(x.shape, generator=g)


def _run(bm, gen, *, n, features, tmp_path, sigmas=None, experiences=None, **cfg):
    cfg = SuiteConfig(samples=False, intervals=DEFAULT_REPLICATES, **cfg)  # the drift plugin's default
    comp = DriftComputation(bm.test_stream, cfg, feature_stream=bm.train_stream, generator=gen, features=features,
                            n_per_class=n, feature_cache_dir=str(tmp_path))
    out = []
    for k, exp in enumerate(list(bm.train_stream)[: experiences]):
        if sigmas is not None:
            gen.sigma = sigmas[k]
        strategy = SimpleNamespace(clock=SimpleNamespace(train_exp_counter=k, train_iterations=k), experience=exp,
                                   plugins=[], model=None)
        out.append(comp.result(strategy)[1].scalars)
    return comp, out


def _at_floor(values, ext, kid_at_zero=True, more=()):
    for m in FLOORED + ("KID",) + more:
        name = f"{m}_{ext}"
        assert values[f"{name}_excess_lo"] <= 0.0 <= values[f"{name}_excess_hi"], (name, values[name],
                                                                                    values[f"{name}_floor"])
    if kid_at_zero:
        assert values[f"KID_{ext}_lo"] <= 0.0 <= values[f"KID_{ext}_hi"], values[f"KID_{ext}"]


@pytest.mark.slow
def test_perfect_generator_scores_at_its_floor_on_split_digits(tmp_path):
    """cpu-small's n_per_class (30) on Split Digits, the trained ``clf`` extractor, every experience."""
    bm = split_digits(5, seed=0)
    _, steps = _run(bm, _HeldOut(bm.train_stream, 30), n=30, features="clf", tmp_path=tmp_path, real_acc_epochs=5)
    for values in steps:
        # KID's own interval is not asserted here: at cpu-small's n the fixed reference draw of this
        # seed has KID -3.0 [-4.7, -1.3] against the perfect generator and -3.7 against the floor's
        # real set at the last experience (the cubic kernel on clf features is heavy-tailed); its
        # excess over the floor is asserted with the other values
        _at_floor(values, "clf", kid_at_zero=False)
        assert values["CFID_clf_floor"] > 1.0  # the bias the floor is there for
        assert 0.0 < values["RealAcc_ceiling"] <= 1.0
    # per-class floors are there for every seen class
    assert len([k for k in steps[-1] if k.startswith("CFID_clf_floor/Class")]) == 10


def test_perfect_generator_scores_at_its_floor_on_cifar100_sized_files(tmp_path):
    """Fake CIFAR-100 files (3x32x32 noise images), the ``random`` extractor, tiny sizes."""
    write_fake_cifar100(tmp_path, n_per_class_train=12, n_per_class_test=4)
    from bootdrift_avalanche.benchmarks.cifar100 import split_cifar100

    bm = split_cifar100(n_experiences=20, dataset_root=tmp_path, download=False)
    _, steps = _run(bm, _HeldOut(bm.train_stream, 4), n=4, features="random", tmp_path=tmp_path, experiences=2,
                    real_accuracy=False)
    for values in steps:
        _at_floor(values, "random", more=("FIDfixed",))


@pytest.mark.slow
def test_growing_drift_leaves_the_floor_from_the_second_step_on(tmp_path):
    """Real images plus noise of growing sigma: the excess over the floor grows with every
    experience, and its interval lies above 0 from the second experience on."""
    bm = split_digits(5, seed=0)
    sigmas = [0.0, 0.3, 0.5, 0.7, 0.9]  # σ = 0.15 at 4 classes stays inside the interval (FID excess [-2.3, ...])
    _, steps = _run(bm, _HeldOut(bm.train_stream, 30), n=30, features="clf", tmp_path=tmp_path, sigmas=sigmas,
                    real_accuracy=False)
    for m in FLOORED + ("KID",):
        name = f"{m}_clf"
        excess = [v[f"{name}_excess"] for v in steps]
        assert all(b > a for a, b in zip(excess, excess[1:])), (name, excess)
        assert all(v[f"{name}_excess_lo"] > 0 for v in steps[1:]), (name, [v[f"{name}_excess_lo"] for v in steps])


def test_a_class_without_a_second_real_set_has_no_floor(tmp_path):
    """The floor's second set comes from the reference stream when no feature stream is given;
    Split Digits' test stream has ~36 images of a class, too few for two disjoint sets of 30: a
    warning, and no floor is logged (values still are)."""
    bm = split_digits(5, seed=0)
    cfg = SuiteConfig(samples=False, real_accuracy=False, intervals=0)
    comp = DriftComputation(bm.test_stream, cfg, generator=_HeldOut(bm.train_stream, 30), features="random",
                            n_per_class=30)
    strategy = SimpleNamespace(clock=SimpleNamespace(train_exp_counter=0, train_iterations=0),
                               experience=bm.train_stream[0], plugins=[], model=None)
    with pytest.warns(RuntimeWarning, match="floor .* is missing"):
        values = comp.result(strategy)[1].scalars
    assert "FID_random" in values and not any("_floor" in k or "_excess" in k for k in values)

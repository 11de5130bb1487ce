"""The bootstrapping loop's real-vs-real floor: a perfect generator (fresh draws of the real
distribution) has an excess whose interval holds 0, one that drifts away has an excess above it;
the floor is the same at every stage (same n, classes, features); a bad floor set fails first."""
import pytest
import torch

from bootdrift_avalanche.bootstrap import run_bootstrap

K, D_DIM = 3, 2


def _draw(per_class, seed, shift=0.0):
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(K).repeat_interleave(per_class)
    return 3.0 * y[:, None].float() + shift + torch.randn(len(y), D_DIM, generator=g), y


class Fresh(torch.nn.Module):
    """Draws new real points; with ``drift``, points that move away by ``drift`` per stage."""

    def __init__(self, stage, drift=0.0):
        super().__init__()
        self.stage, self.drift = stage, drift

    def fit(self, x, y, *, steps=None, progress=False):
        return self

    def generate(self, labels, *, seed=None, **kw):
        g = torch.Generator().manual_seed(seed)
        return 3.0 * labels[:, None].float() + self.drift * self.stage + torch.randn(len(labels), D_DIM, generator=g)


TRAIN, TEST, FLOOR = _draw(120, 1), _draw(60, 2), _draw(60, 3)


def _run(drift, stages=3):
    return run_bootstrap(lambda s: Fresh(s, drift), TRAIN, TEST, stages=stages, features="identity",
                         otdd_max_samples=None, real_acc_epochs=2, progress=False, floor_set=FLOOR, intervals=12,
                         seed=0)


def test_a_perfect_generator_sits_at_its_floor_and_a_drifting_one_above_it():
    perfect, drifting = _run(0.0), _run(1.0)
    for name in ("FID_identity", "CFID_identity", "OTDD_identity"):
        floors = perfect.curve(f"{name}_floor")
        assert len(set(floors)) == 1 and floors == drifting.curve(f"{name}_floor")  # same n, classes, features
        for s in range(3):
            assert perfect.curve(f"{name}_excess_lo")[s] <= 0.0 <= perfect.curve(f"{name}_excess_hi")[s], (name, s)
        assert drifting.curve(f"{name}_excess_lo")[2] > 0.0, name
    st = perfect.stages[0]
    assert st["DriftSamplesPerClass"] == 60 and "KID_identity" in st  # distances at the floor's n; KID kept
    ceiling = perfect.curve("RealAcc_ceiling")  # the classifier on the real training set, trained once
    assert len(set(ceiling)) == 1 and st["RealAcc_ceiling_lo"] <= ceiling[0] <= st["RealAcc_ceiling_hi"]


def test_a_floor_set_that_cannot_be_the_floor_fails_before_training():
    uneven = (FLOOR[0][:-1], FLOOR[1][:-1])
    with pytest.raises(ValueError, match="same number of images of every test class"):
        run_bootstrap(lambda s: pytest.fail("trained"), TRAIN, TEST, stages=1, features="identity", floor_set=uneven)
    big = _draw(200, 4)
    with pytest.raises(ValueError, match="more than the training set has"):
        run_bootstrap(lambda s: pytest.fail("trained"), TRAIN, TEST, stages=1, features="identity", floor_set=big)

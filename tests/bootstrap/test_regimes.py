"""Each regime's training sets, stage by stage (sizes, real and synthetic counts, fresh draws never
seen before), resume, and the sampling-bias keywords reaching ``generate``.

The generator is a recorder: ``fit`` keeps what it was given, ``generate`` returns points whose first
coordinate says which stage made them (100 + stage) and whose second is unique, so every point of a
training set can be traced to D (in [0, 1)), the fresh pool (in [10, 11)) or a stage's samples."""
import pytest
import torch

from bootdrift_avalanche.bootstrap import run_bootstrap
from bootdrift_avalanche.bootstrap.regimes import REGIMES, make_regime

K, N_C = 3, 8  # classes, points per class in D


class Recorder(torch.nn.Module):
    def __init__(self, stage, log):
        super().__init__()
        self.stage, self.log = stage, log

    def fit(self, x, y, *, steps=None, progress=False):
        self.log.setdefault("fits", []).append((x.clone(), y.clone()))
        return self

    def generate(self, labels, *, seed=None, **kw):
        self.log.setdefault("kwargs", []).append(kw)
        g = torch.Generator().manual_seed(seed)
        second = 20 + torch.rand(len(labels), generator=g)  # unique (almost surely), seed-determined
        x = torch.stack([torch.full((len(labels),), 100.0 + self.stage), second], 1)
        self.log.setdefault("samples", []).append((x.clone(), labels.clone()))
        return x


def _points(lo, per_class, seed):
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(K).repeat_interleave(per_class)
    return lo + torch.rand(len(y), 2, generator=g), y


D = _points(0.0, N_C, 1)
TEST = _points(0.0, N_C, 2)


def _run(stages, log=None, **kw):
    log = {} if log is None else log
    run_bootstrap(lambda s: Recorder(s, log), D, TEST, stages=stages, features="identity", otdd_max_samples=None,
                  real_acc_epochs=1, progress=False, **kw)
    return log


def _rows(x):
    return {tuple(r.tolist()) for r in x}


def _origin(x):
    """Per point: 'D', 'pool' or the stage that sampled it."""
    return ["D" if r[0] < 1 else "pool" if r[0] < 11 else int(r[0]) - 100 for r in x.tolist()]


def test_replace_trains_each_stage_on_the_previous_samples_only():
    log = _run(3, regime="replace")
    fits, samples = log["fits"], log["samples"]
    assert torch.equal(fits[0][0], D[0]) and torch.equal(fits[0][1], D[1])
    for s in (1, 2):
        assert torch.equal(fits[s][0], samples[s - 1][0]) and torch.equal(fits[s][1], D[1])


def test_augment_keeps_size_and_puts_round_lambda_n_c_real_points_of_d_per_class():
    log = _run(3, regime="augment", mix_real=0.3)  # k_c = round_half_up(0.3 * 8) = 2
    d_rows = _rows(D[0])
    for s in (1, 2):
        x, y = log["fits"][s]
        assert len(x) == K * N_C and torch.equal(y, D[1])
        origin = _origin(x)
        for c in range(K):
            from_c = [o for o, yy in zip(origin, y.tolist()) if yy == c]
            assert from_c.count("D") == 2 and from_c.count(s - 1) == N_C - 2
        real = x[[o == "D" for o in origin]]
        assert _rows(real) <= d_rows and len(_rows(real)) == len(real)  # drawn without replacement
        for r, yy in zip(x.tolist(), y.tolist()):  # a real point keeps its own class
            if r[0] < 1:
                assert yy == int(D[1][(D[0] == torch.tensor(r)).all(1)][0])


def test_fresh_draws_new_real_points_every_stage_and_uses_up_the_pool():
    stages, k = 4, 2  # mix_real 0.25 of 8 per class -> 2 fresh points per class and stage
    pool = _points(10.0, (stages - 1) * k, 3)  # exactly what the stages need
    log = _run(stages, regime="fresh", mix_real=0.25, fresh_pool=pool)
    seen, d_rows = set(), _rows(D[0])
    for s in range(1, stages):
        x, y = log["fits"][s]
        assert len(x) == K * N_C and torch.equal(y, D[1])
        origin = _origin(x)
        assert "D" not in origin
        for c in range(K):
            from_c = [o for o, yy in zip(origin, y.tolist()) if yy == c]
            assert from_c.count("pool") == k and from_c.count(s - 1) == N_C - k
        fresh = _rows(x[[o == "pool" for o in origin]])
        assert not fresh & seen and not fresh & d_rows  # disjoint from earlier stages and from D
        seen |= fresh
    assert seen == _rows(pool[0])  # every pool point used exactly once


def test_fresh_refuses_a_short_pool_before_training():
    pool = _points(10.0, 2, 3)  # 2 per class; 3 later stages x 2 need 6
    log = {}
    with pytest.raises(ValueError, match=r"fresh pool runs out.*class 0: 4 more"):
        _run(4, log, regime="fresh", mix_real=0.25, fresh_pool=pool)
    assert "fits" not in log
    with pytest.raises(ValueError, match="needs fresh_pool"):
        _run(2, regime="fresh", mix_real=0.25)
    with pytest.raises(ValueError, match="shares points"):
        make_regime("fresh", D, mix_real=0.25, stages=2, fresh_pool=(D[0][::4], D[1][::4]))


def test_accumulate_trains_on_d_and_every_earlier_sample_set():
    log = _run(4, regime="accumulate")
    for s in range(4):
        x, y = log["fits"][s]
        assert len(x) == (s + 1) * K * N_C
        assert torch.equal(x[:K * N_C], D[0])  # all of D, once
        for j in range(s):  # then S_0 .. S_{s-1}, each whole
            assert torch.equal(x[(j + 1) * K * N_C:(j + 2) * K * N_C], log["samples"][j][0])
        assert torch.equal(torch.bincount(y), torch.full((K,), (s + 1) * N_C))


@pytest.mark.parametrize("name", ["augment", "fresh", "accumulate"])
def test_a_resumed_loop_builds_the_same_training_sets(name):
    kw = dict(regime=name, mix_real=0.0 if name == "accumulate" else 0.25)
    if name == "fresh":
        kw["fresh_pool"] = _points(10.0, 6, 3)
    states = {}
    whole = _run(4, checkpoint=lambda s, st: states.__setitem__(s, st), **kw)
    resumed = _run(4, resume_from=(1, states[1]), **kw)
    assert len(resumed["fits"]) == 2
    for a, b in zip(whole["fits"][2:], resumed["fits"]):
        assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])


def test_regime_errors_and_registry():
    assert set(REGIMES) == {"replace", "augment", "fresh", "accumulate"}
    with pytest.raises(ValueError, match="unknown regime 'mad'; choose one of replace"):
        _run(1, regime="mad")
    for name in ("replace", "accumulate"):
        with pytest.raises(ValueError, match="takes no real fraction"):
            _run(1, regime=name, mix_real=0.5)
    with pytest.raises(ValueError, match="only used by the 'fresh' regime"):
        _run(1, regime="augment", mix_real=0.5, fresh_pool=_points(10.0, 2, 3))


def test_sample_kwargs_reach_generate_per_stage():
    log = _run(3, regime="replace", sample_kwargs=lambda s: {"truncation": 1.0 - 0.25 * s})
    assert log["kwargs"] == [{"truncation": 1.0}, {"truncation": 0.75}, {"truncation": 0.5}]

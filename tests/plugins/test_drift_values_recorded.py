"""Behaviour guard: every drift value a fixed tiny run logs (all metrics on, floors, intervals, FIDfixed,
RealAcc; ``DriftTime*`` left out) equals the values recorded in ``tests/data/drift_values_tiny.json``.

The run: Split Digits, 2 experiences, a deterministic generator (held-out real train images plus
seeded noise, more noise at the second experience), classifier features, 10 samples per class.
A refactoring must leave these numbers unchanged. To record them again after a change that is
*meant* to move them (say why in the commit message)::

    PYTHONPATH=$PWD python -m tests.plugins.test_drift_values_recorded --record
"""
import json
import math
import sys
import tempfile
from pathlib import Path
from types import SimpleNamespace

import torch

from bootdrift_avalanche.benchmarks import split_digits
from bootdrift_avalanche.metrics import SuiteConfig
from bootdrift_avalanche.plugins.drift import drift_metrics

from .test_drift_floor import _HeldOut

RECORDED = Path(__file__).resolve().parent.parent / "data" / "drift_values_tiny.json"
TOL = 1e-9


class _NoisyHeldOut(_HeldOut):
    """``test_drift_floor``'s held-out real images plus noise, clipped to the images' [0, 1]."""

    def generate(self, labels, *, seed=None):
        return super().generate(labels, seed=seed).clamp(0.0, 1.0)


def drift_values(cache_dir: str) -> dict:
    """{"<step>": {tag: value}} of the fixed tiny run."""
    torch.manual_seed(0)
    bm = split_digits(n_experiences=2)
    gen = _NoisyHeldOut(bm.train_stream, 10)
    metrics = drift_metrics(reference_stream=bm.test_stream, feature_stream=bm.train_stream, features="clf",
                            n_per_class=10, generator=gen, seed=3, feature_cache_dir=cache_dir,
                            suite=SuiteConfig(real_acc_epochs=2, otdd_max_samples=None, samples=False,
                                              umap=False, fid=True, cfid=True, otdd=True, kid=True,
                                              real_accuracy=True, floor=True, fixed_n=True, intervals=12))
    out = {}
    for k, exp in enumerate(bm.train_stream):
        gen.sigma = 0.05 + 0.2 * k
        strategy = SimpleNamespace(clock=SimpleNamespace(train_exp_counter=k, train_iterations=10 * k),
                                   experience=exp, plugins=[], model=None, evaluator=None)
        step = {}
        for m in metrics:
            m.before_training_exp(strategy)
        for m in metrics:
            for mv in m.after_training_exp(strategy) or []:
                if not mv.name.startswith("DriftTime") and isinstance(mv.value, (int, float)):
                    step[mv.name] = float(mv.value)
        out[str(k)] = step
    return out


def test_drift_values_of_a_fixed_tiny_run_are_unchanged(tmp_path):
    recorded = json.loads(RECORDED.read_text())
    got = drift_values(str(tmp_path / "cache"))
    assert got.keys() == recorded.keys()
    for step in recorded:
        assert sorted(got[step]) == sorted(recorded[step]), step
        diff = {n: (got[step][n], v) for n, v in recorded[step].items()
                if not (math.isnan(v) and math.isnan(got[step][n]))
                and not math.isclose(got[step][n], v, rel_tol=TOL, abs_tol=TOL)}
        assert not diff, (step, diff)


if __name__ == "__main__" and "--record" in sys.argv:
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as d:
        values = drift_values(d)
    RECORDED.parent.mkdir(parents=True, exist_ok=True)
    RECORDED.write_text(json.dumps(values, indent=1, sort_keys=True) + "\n")
    print(f"recorded {sum(map(len, values.values()))} values to {RECORDED}")

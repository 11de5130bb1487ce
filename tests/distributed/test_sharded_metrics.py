"""Drift metrics sharded across processes (``metrics.sharded``) and data-parallel classifiers
(``nets.train_classifier``, ``plugins.data_parallel``): the statistics path in one process, and a
2-process gloo run under torchrun against the one-process values."""
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from bootdrift_avalanche.metrics import GaussianStats, frechet_distance
from bootdrift_avalanche.metrics import sharded

from .sharded_metrics_worker import strategy_fit, suite_values, tiny_fit

WORKER = Path(__file__).with_name("sharded_metrics_worker.py")


# n, m >= d: sums only; both < d: rows kept (nuclear route); one side < d: the one-low-rank eigen route,
# whose rank-deficient n×n matrix (centred rows have rank n−1) adds √(rounding noise) of one zero
# eigenvalue: there any rounding change of the inputs moves FID by ~1e-10 relative (4.6e-10 measured here).
@pytest.mark.parametrize("n, m, d, rel", [(300, 250, 16, 1e-10), (40, 50, 64, 1e-10), (40, 300, 64, 1e-8)])
def test_fid_from_summed_shard_statistics_equals_direct_fid(n, m, d, rel):
    g = torch.Generator().manual_seed(0)
    a = torch.randn(n, d, generator=g, dtype=torch.float64) * 2 + 50.0  # large common offset
    b = (torch.randn(m, d, generator=g, dtype=torch.float64) @ torch.randn(d, d, generator=g, dtype=torch.float64) / 4
         + 50.5)

    def from_three_shards(x):  # what three ranks' all-reduced partial sums amount to
        shift = x.mean(0)
        parts = [sharded.shard_sums(x[r::3], shift) for r in range(3)]
        rows = torch.cat([x[r::3] for r in range(3)]) if len(x) < d else None
        return GaussianStats.from_sums(len(x), shift, sum(p[0] for p in parts), sum(p[1] for p in parts), rows=rows)

    direct = frechet_distance(a, b)
    assert frechet_distance(from_three_shards(a), from_three_shards(b)) == pytest.approx(direct, rel=rel, abs=1e-10)


def test_one_process_keeps_the_plain_functions():
    x = torch.arange(10.0).reshape(5, 2)
    assert sharded.part(x) is x and sharded.gather(x, 5) is x


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:drift metrics scored only")  # class 3 is synthetic-only on purpose
def test_two_process_gloo_sharded_metrics_match_single_process(tmp_path):
    out = tmp_path / "rank0.pt"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "TQDM_DISABLE": "1"}
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2"]
    proc = subprocess.run(torchrun + [str(WORKER), str(out)], env=env, capture_output=True, text=True,
                          timeout=300, cwd=WORKER.parent)
    assert proc.returncode == 0, proc.stderr[-3000:]
    got = torch.load(out, weights_only=False)
    assert got["world"] == 2 and got["ranks_agree"]
    single = suite_values()
    assert set(got["values"]) == set(single)
    for name in single:
        if name == "DriftTime":
            continue
        assert got["values"][name] == pytest.approx(single[name], rel=1e-9, abs=1e-9), name
    assert {"FID_identity", "CFID_identity", "CFID_identity/Class002", "OTDD_identity", "RealAcc"} <= set(single)
    assert "CFID_identity/Class003" not in single  # synthetic-only class: skipped in both
    # float32 rounding of the summed gradients, carried through Adam's steps (6 and 10 of them)
    for key, fit in (("state", tiny_fit), ("solver", strategy_fit)):  # RealAcc's fit; a strategy's classifier
        ref = fit().state_dict()
        worst = max(float((got[key][k] - v).abs().max()) for k, v in ref.items())
        print(key, "max |w_2proc - w_1proc|", worst)
        assert worst < 1e-5, (key, worst)

"""Crash and resume: a run killed with SIGKILL after its first checkpoint, then resumed, ends with
the same metrics as an uninterrupted run with the same seed (replay and bootstrapping)."""
import os
import signal
import subprocess
import sys
import time

import pytest

from bootdrift_avalanche.cli import main
from bootdrift_avalanche.logging import metric_table, read_metrics

TIMING = ("DriftTime",)


def _values(run_dir):
    table = metric_table(read_metrics(run_dir / "metrics.jsonl"))
    return {k: v for k, v in table.items() if not k.startswith(TIMING)}


def _kill_after_first_checkpoint(args, run_dir, timeout=300):
    env = {**os.environ, "TQDM_DISABLE": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "bootdrift_avalanche.cli", *args, "--run-dir", str(run_dir)],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    marker = run_dir / "checkpoints" / "step_0000.pt.sha256"
    deadline = time.time() + timeout
    while not marker.exists():
        if proc.poll() is not None:
            raise AssertionError(f"run ended before its first checkpoint: {proc.stderr.read().decode()[-2000:]}")
        if time.time() > deadline:
            proc.kill()
            raise AssertionError("no checkpoint within the timeout")
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL


def _compare(resumed, reference):
    a, b = _values(resumed), _values(reference)
    assert set(a) == set(b)
    for name in b:
        assert a[name].keys() == b[name].keys(), name
        for step, v in b[name].items():
            assert a[name][step] == pytest.approx(v, rel=1e-9, abs=1e-12), (name, step)


@pytest.mark.slow
def test_replay_resume_after_sigkill(tmp_path):
    args = ["replay", "--strategy", "ddgr", "--benchmark", "digits", "--experiences", "3", "--preset", "tiny",
            "--no-umap", "--quiet", "--seed", "3"]
    killed = tmp_path / "killed"
    _kill_after_first_checkpoint(args, killed)
    assert not (killed / "checkpoints" / "step_0002.pt").exists(), "the run finished before it was killed"
    assert main(["replay", "--resume", str(killed), "--quiet", "--no-umap"]) == 0
    assert main(args + ["--run-dir", str(tmp_path / "reference")]) == 0
    _compare(killed, tmp_path / "reference")


@pytest.mark.slow
@pytest.mark.parametrize("regime", [["--mix-real", "0.25"], ["--regime", "fresh", "--mix-real", "0.25"],
                                    ["--regime", "accumulate"]], ids=["augment", "fresh", "accumulate"])
def test_bootstrap_resume_after_sigkill(tmp_path, regime):
    # fresh and accumulate carry state across stages (the pool cursor, the synthetic sets)
    args = ["bootstrap", "--generator", "wgan", "--data", "gmm", "--stages", "3", "--preset", "tiny",
            "--quiet", "--seed", "2", *regime]
    killed = tmp_path / "killed"
    _kill_after_first_checkpoint(args, killed)
    assert main(["bootstrap", "--resume", str(killed), "--quiet"]) == 0
    assert main(args + ["--run-dir", str(tmp_path / "reference")]) == 0
    _compare(killed, tmp_path / "reference")

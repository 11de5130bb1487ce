"""Every example runs end to end on the tiny preset (2 experiences or 2 stages), in a subprocess as a
user would run it; CIFAR-100 and Flowers102 on tiny files written in torchvision's on-disk format."""
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bootdrift_avalanche.logging import read_metrics, record_x

from .benchmarks.fake_data import write_fake_cifar100, write_fake_flowers102

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
ENV = {**os.environ, "TQDM_DISABLE": "1", "MPLBACKEND": "Agg"}

# torchvision checks the CIFAR-100 files' MD5 sums before it reads them (and tries to download when
# they differ); the fake files cannot match, so this runner reduces the check to "the file exists",
# in the example's process only, then runs the example as `python example.py ...` would.
_ACCEPT_FAKE_CIFAR = (
    "import os, runpy, sys; import torchvision.datasets.cifar as c; "
    "c.check_integrity = lambda path, md5=None: os.path.isfile(path); "
    "sys.argv = sys.argv[1:]; runpy.run_path(sys.argv[0], run_name='__main__')"
)


def _run(script, *args, patch_cifar=False, check=True, timeout=600):
    cmd = [sys.executable] + (["-c", _ACCEPT_FAKE_CIFAR] if patch_cifar else [])
    cmd += [str(EXAMPLES / script), *map(str, args)]
    proc = subprocess.run(cmd, env=ENV, capture_output=True, text=True, timeout=timeout, cwd=ROOT)
    if check:
        assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


def _steps(log_dir, name):
    """The experiences (replay runs; steps are training iterations) or stages of a curve."""
    return sorted(record_x(r) for r in read_metrics(Path(log_dir) / "metrics.jsonl") if r["name"] == name)


def _check_replay_output(out, log_dir):
    """The table (one row per experience), the final line and the drift curves at steps 0 and 1."""
    lines = out.splitlines()
    head = next(i for i, l in enumerate(lines) if l.split()[:2] == ["exp", "acc_seen"])
    assert {"FID_clf", "CFID_clf", "OTDD_clf", "RealAcc", "DriftTime"} <= set(lines[head].split())
    assert [l.split()[0] for l in lines[head + 1: head + 3]] == ["0", "1"]
    assert lines[head + 3].startswith("final average accuracy")
    assert f"tensorboard --logdir {log_dir}" in out
    assert _steps(log_dir, "FID_clf/train_phase/train_stream") == [0, 1]
    assert _steps(log_dir, "RealAcc/train_phase/train_stream") == [0, 1]


REPLAY_TINY = ("--preset", "tiny", "--experiences", "2", "--no-umap")


@pytest.mark.slow
def test_split_digits_ddgr_example(tmp_path):
    out = _run("split_digits_ddgr.py", *REPLAY_TINY, "--log-dir", tmp_path / "log").stdout
    _check_replay_output(out, tmp_path / "log")
    # make demo's drift table
    assert "cohort 0 CFID excess [95 %]" in out and "excess [95 %]" in out.split("cohort 0")[0]
    # the report of a plain script's log dir: Avalanche's accuracy and forgetting, grids per experience
    from bootdrift_avalanche.cli import main

    assert main(["report", str(tmp_path / "log")]) == 0
    figures = {p.name for p in (tmp_path / "log" / "figures").glob("*.png")}
    assert {"Top1_Acc_Stream.png", "StreamForgetting.png", "FID.png", "CFID_clf_per_class.png",
            "Samples_000.png", "Samples_001.png"} <= figures, figures


@pytest.mark.slow
def test_split_digits_gan_memory_example(tmp_path):
    out = _run("split_digits_gan_memory.py", *REPLAY_TINY, "--log-dir", tmp_path / "log").stdout
    _check_replay_output(out, tmp_path / "log")


@pytest.mark.slow
def test_drift_avalanche_generative_replay_example(tmp_path):
    out = _run("drift_avalanche_generative_replay.py", *REPLAY_TINY, "--log-dir", tmp_path / "log").stdout
    _check_replay_output(out, tmp_path / "log")


@pytest.mark.slow
def test_split_cifar100_ddgr_example_on_fake_files(tmp_path):
    write_fake_cifar100(tmp_path / "data", n_per_class_train=2, n_per_class_test=2)
    out = _run("split_cifar100_ddgr.py", *REPLAY_TINY, "--data-root", tmp_path / "data",
               "--log-dir", tmp_path / "log", patch_cifar=True).stdout
    _check_replay_output(out, tmp_path / "log")
    assert "avalanche.benchmarks.classic" in (EXAMPLES / "split_cifar100_ddgr.py").read_text()


def test_split_cifar100_ddgr_example_offline_error(tmp_path):
    proc = _run("split_cifar100_ddgr.py", "--preset", "tiny", "--data-root", tmp_path / "none",
                "--log-dir", tmp_path / "log", "--no-download", check=False, timeout=300)
    assert proc.returncode != 0 and "Traceback" not in proc.stderr, proc.stderr[-3000:]
    assert "CIFAR-100 not found" in proc.stderr and str(tmp_path / "none") in proc.stderr
    assert "cifar-100-python" in proc.stderr and "--no-download" in proc.stderr


@pytest.mark.slow
def test_split_flowers102_gan_memory_example_on_fake_files(tmp_path):
    write_fake_flowers102(tmp_path / "data", n_test=2)
    out = _run("split_flowers102_gan_memory.py", *REPLAY_TINY, "--data-root", tmp_path / "data",
               "--log-dir", tmp_path / "log", "--no-download").stdout  # fake files fail torchvision's MD5 check
    _check_replay_output(out, tmp_path / "log")
    assert _steps(tmp_path / "log", "GANMemoryTaskParams/train_phase/train_stream") == [0, 1]


def _fid_steps(run_dir):
    """Steps of the run's FID curve (the name carries the feature extractor: FID_clf, FID_raw, ...)."""
    recs = read_metrics(Path(run_dir) / "metrics.jsonl")
    names = {r["name"] for r in recs if r["name"].startswith("FID") and r["name"].endswith("/train_stream")}
    assert len(names) == 1, names
    return sorted(record_x(r) for r in recs if r["name"] in names)


@pytest.mark.slow
def test_digits_ddpm_bootstrap_example(tmp_path):
    out = _run("digits_ddpm_bootstrap.py", "--preset", "tiny", "--stages", "2", "--run-dir", tmp_path / "run").stdout
    assert "tensorboard --logdir" in out
    assert _fid_steps(tmp_path / "run") == [0, 1]


@pytest.mark.slow
@pytest.mark.parametrize("generator", ["ddpm", "stylegan2"])
def test_flowers102_bootstrap_example_on_fake_files(tmp_path, generator):
    write_fake_flowers102(tmp_path / "data", n_test=2)
    out = _run("flowers102_bootstrap.py", "--generator", generator, "--preset", "tiny", "--stages", "2",
               "--data-root", tmp_path / "data", "--out", tmp_path / "out").stdout
    assert "tensorboard --logdir" in out and f"{generator:<10} FID_clf" in out
    assert _fid_steps(tmp_path / "out" / generator / "seed0") == [0, 1]
    assert (tmp_path / "out" / "curves.png").stat().st_size > 0


@pytest.mark.slow
def test_gmm_wgan_bootstrap_example(tmp_path):
    out = _run("gmm_wgan_bootstrap.py", "--preset", "tiny", "--seeds", "0", "--stages", "2", "--out", tmp_path).stdout
    assert "seed 0" in out
    assert _fid_steps(tmp_path / "seed0") == [0, 1]
    for name in ("curves.png", "kde_stages_seed0.png", "summary.json"):
        assert (tmp_path / name).stat().st_size > 0, name


@pytest.mark.slow
def test_mixing_ratio_sweep_example(tmp_path):
    out = _run("mixing_ratio_sweep.py", "--preset", "tiny", "--lambdas", "0", "1", "--stages", "2",
               "--digits-lambdas", "0", "--digits-stages", "2", "--out", tmp_path).stdout
    assert "gmm lambda=0:" in out and "gmm lambda=1:" in out and "digits lambda=0:" in out
    assert (tmp_path / "sweep.png").stat().st_size > 0 and (tmp_path / "sweep.json").stat().st_size > 0


@pytest.mark.slow
def test_loop_regimes_example(tmp_path):
    out = _run("loop_regimes.py", "--preset", "tiny", "--stages", "2", "--seeds", "0", "1", "--lambdas", "0.5", "1",
               "--fresh-lambdas", "0.5", "--psis", "0.5", "--floor-n", "40", "--intervals", "4",
               "--out", tmp_path).stdout
    for label in ("replace", "augment 0.5", "augment 1", "fresh 0.5", "accumulate", "replace psi=0.5"):
        assert f"{label} seed 1: CFID_identity excess per stage" in out, label
    assert "smallest lambda with final excess in the band" in out
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["floor_n"] == 40 and set(summary["curves"]["replace"]["0"]) >= {"value", "floor", "excess"}
    for name in ("regimes_vs_stage.png", "drift_vs_lambda.png", "sampling_bias.png", "summary.json"):
        assert (tmp_path / name).stat().st_size > 0, name


@pytest.mark.slow
def test_loop_regimes_example_on_digits(tmp_path):
    out = _run("loop_regimes.py", "--data", "digits", "--preset", "tiny", "--stages", "2", "--seeds", "0", "1",
               "--lambdas", "1", "--fresh-lambdas", "--no-accumulate", "--biases", "2", "--train-size", "100",
               "--generator-steps", "2", "--floor-n", "4", "--intervals", "0", "--out", tmp_path).stdout
    for label in ("replace", "augment 1", "replace guidance=2"):
        assert f"{label} seed 1: CFID_clf excess per stage" in out, label
    assert "guidance = 2:" in out and "smallest lambda with final excess in the band" in out
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["data"] == "digits" and summary["n_per_class"] == 10 and len(summary["curves"]["replace"]) == 2
    for name in ("regimes_vs_stage.png", "drift_vs_lambda.png", "sampling_bias.png"):
        assert (tmp_path / name).stat().st_size > 0, name
    # --collect reads the same curves back from the run directories' metrics.jsonl, without running
    again = _run("loop_regimes.py", "--data", "digits", "--preset", "tiny", "--seeds", "0", "1", "--lambdas", "1",
                 "--fresh-lambdas", "--no-accumulate", "--biases", "2", "--train-size", "100", "--floor-n", "4",
                 "--out", tmp_path, "--collect").stdout
    assert "cut to their first 2 stages" in again
    assert json.loads((tmp_path / "summary.json").read_text())["curves"] == summary["curves"]
def test_text_bootstrap_example(tmp_path):
    out = _run("text_bootstrap.py", "--preset", "tiny", "--stages", "2", "--seeds", "0", "1", "--generators", "ngram",
               "--out", tmp_path).stdout
    assert "ngram, replace, pydoc, tiny" in out and "ngram, accumulate, pydoc, tiny" in out
    assert "TailSurvival vs the categorical closed form" in out and "stage 1: measured" in out
    assert "| UnigramJSD floor | UnigramJSD excess |" in out and "BigramJSD_excess per stage, least-squares" in out
    assert "FID_enc, CFID_enc, OTDD_enc: no real-vs-real floor" in out
    for name in ("text_curves.png", "summary.json"):
        assert (tmp_path / name).stat().st_size > 0, name


def test_every_example_is_tested():
    tested = set(re.findall(r'_run\("(\w+\.py)"', Path(__file__).read_text()))
    assert tested == {p.name for p in EXAMPLES.glob("*.py")}

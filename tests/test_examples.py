"""The real-data examples run end to end on tiny files in the real on-disk formats (tiny preset)."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bootdrift_avalanche.logging import read_metrics

from .benchmarks.fake_data import write_fake_cifar100, write_fake_flowers102

ROOT = Path(__file__).resolve().parents[1]


def _run_example(script, *args):
    env = {**os.environ, "TQDM_DISABLE": "1"}
    proc = subprocess.run([sys.executable, str(ROOT / "examples" / script), *map(str, args)],
                          env=env, capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


def _drift_steps(run_dir, name):
    return sorted(r["step"] for r in read_metrics(run_dir / "metrics.jsonl") if r["name"] == name)


@pytest.mark.slow
def test_split_cifar100_ddgr_example_on_fake_files(tmp_path):
    write_fake_cifar100(tmp_path / "data", n_per_class_train=2, n_per_class_test=2)
    out = _run_example("split_cifar100_ddgr.py", "--preset", "tiny", "--experiences", "2", "--no-umap",
                       "--data-root", tmp_path / "data", "--run-dir", tmp_path / "run")
    assert "final average accuracy" in out and "tensorboard --logdir" in out
    assert _drift_steps(tmp_path / "run", "FID_clf/train_phase/train_stream") == [0, 1]


def test_split_cifar100_ddgr_example_offline_error(tmp_path):
    env = {**os.environ, "TQDM_DISABLE": "1"}
    proc = subprocess.run([sys.executable, str(ROOT / "examples" / "split_cifar100_ddgr.py"), "--preset", "tiny",
                           "--data-root", str(tmp_path / "none"), "--run-dir", str(tmp_path / "run")],
                          env=env, capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert proc.returncode != 0 and "CIFAR-100 not found" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.slow
def test_split_flowers102_gan_memory_example_on_fake_files(tmp_path):
    write_fake_flowers102(tmp_path / "data", n_test=2)
    out = _run_example("split_flowers102_gan_memory.py", "--preset", "tiny", "--experiences", "2", "--no-umap",
                       "--data-root", tmp_path / "data", "--run-dir", tmp_path / "run")
    assert "final average accuracy" in out
    run = tmp_path / "run"
    assert _drift_steps(run, "FID_clf/train_phase/train_stream") == [0, 1]
    assert _drift_steps(run, "GANMemoryTaskParams/train_phase/train_stream") == [0, 1]

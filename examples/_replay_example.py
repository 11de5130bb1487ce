"""Shared command line of the replay examples: each example fixes a strategy and a benchmark and
documents its presets; this parses the rest and runs ``bootdrift_avalanche.replay_run``."""
from __future__ import annotations

import argparse
import os
import time
from pathlib import Path


def main(*, strategy: str, benchmark: str, default_preset: str, experiences: int, description: str) -> None:
    p = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--preset", default=default_preset, choices=("tiny", "cpu-small", "paper"),
                   help=f"model sizes (default: {default_preset})")
    p.add_argument("--experiences", type=int, default=experiences)
    p.add_argument("--epochs", type=int, help="solver epochs per experience (default: the preset's)")
    p.add_argument("--device", default="cpu", help="torch device (default: cpu)")
    p.add_argument("--data-root", help="dataset root (cifar100 / flowers102)")
    p.add_argument("--download", action="store_true", help="allow downloading the dataset")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--run-dir", help=f"default: runs/{strategy}-{benchmark}-<time>")
    p.add_argument("--resume", metavar="RUN_DIR", help="continue a crashed run")
    p.add_argument("--no-umap", action="store_true")
    a = p.parse_args()

    import torch

    from bootdrift_avalanche.benchmarks.errors import MissingDataError
    from bootdrift_avalanche.replay_run import ReplayConfig, run_replay, summary_table

    if a.device == "cpu" and "OMP_NUM_THREADS" not in os.environ:
        torch.set_num_threads(1)  # small CPU-preset models: 1 thread is fastest (see bootdrift_avalanche/cli.py)
    run_dir = Path(a.resume or a.run_dir or f"runs/{strategy}-{benchmark}-{time.strftime('%Y%m%d-%H%M%S')}")
    cfg = ReplayConfig(strategy=strategy, benchmark=benchmark, experiences=a.experiences, preset=a.preset,
                       epochs=a.epochs, device=a.device, data_root=a.data_root, download=a.download,
                       seed=a.seed, umap=not a.no_umap)
    try:
        out = run_replay(cfg, run_dir, resume=a.resume is not None)
    except MissingDataError as exc:
        raise SystemExit(f"error: {exc}")
    print(summary_table(out))
    print(f"\nrun directory: {run_dir}\n  drift table: {run_dir / 'metrics.jsonl'}"
          f"\n  TensorBoard: tensorboard --logdir {run_dir / 'tb'}\n  report: bootdrift report {run_dir}")

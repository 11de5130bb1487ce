"""The paper's toy: a conditional WGAN-GP on 5 Gaussians in 2-D (5,000 points), retrained on its own
samples for 10 stages, over several seeds. Writes, under --out:

- one run directory per seed (metrics.jsonl, TensorBoard events, checkpoints);
- `kde_stages_seed<S>.png`: one KDE panel per stage (the real data first);
- `curves.png`: FID (raw coordinates), modes covered, fraction of samples within 3 sigma of a mode
  and real-data accuracy per stage, mean and spread (min-max) over seeds;
- `summary.json`: the per-stage values of every seed.

    python examples/gmm_wgan_bootstrap.py --seeds 0 1 2 --stages 10 --mix-real 0
"""
import argparse
import json
from pathlib import Path

import numpy as np
import torch


def kde_panels(samples, real, path, title):
    from matplotlib.figure import Figure
    from scipy.stats import gaussian_kde

    panels = [("real", real)] + [(f"stage {s}", x) for s, x in samples]
    cols = min(6, len(panels))
    rows = (len(panels) + cols - 1) // cols
    fig = Figure(figsize=(2.2 * cols, 2.2 * rows))
    g = np.linspace(-3, 3, 120)
    xx, yy = np.meshgrid(g, g)
    grid = np.vstack([xx.ravel(), yy.ravel()])
    for i, (name, x) in enumerate(panels):
        ax = fig.add_subplot(rows, cols, i + 1)
        pts = x[torch.randperm(len(x))[:2000]].numpy().T
        ax.contourf(xx, yy, gaussian_kde(pts, bw_method=0.08)(grid).reshape(xx.shape), levels=20, cmap="viridis")
        ax.set_title(name, fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_aspect("equal")
    fig.suptitle(title)
    fig.savefig(path, dpi=100, bbox_inches="tight")


def curves(per_seed, path, keys):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(4 * len(keys), 3.2))
    for i, key in enumerate(keys):
        ax = fig.add_subplot(1, len(keys), i + 1)
        arr = np.array([[st[key] for st in stages] for stages in per_seed.values()])
        x = np.arange(arr.shape[1])
        ax.plot(x, arr.mean(0), marker="o", label="mean")
        ax.fill_between(x, arr.min(0), arr.max(0), alpha=0.25, label="min-max over seeds")
        ax.set_xlabel("stage")
        ax.set_title(key)
        ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.savefig(path, dpi=100, bbox_inches="tight")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--stages", type=int, default=10)
    p.add_argument("--mix-real", type=float, default=0.0)
    p.add_argument("--preset", default="cpu-small", choices=("tiny", "cpu-small", "paper"))
    p.add_argument("--threads", type=int, help="torch CPU threads (default: 1 on CPU)")
    p.add_argument("--out", default="runs/gmm_wgan_bootstrap")
    a = p.parse_args()

    from bootdrift_avalanche.benchmarks.gmm import gmm_samples
    from bootdrift_avalanche.experiments.bootstrap import run_bootstrap_experiment
    from bootdrift_avalanche.experiments.config import BootstrapConfig
    from bootdrift_avalanche.experiments.tables import bootstrap_table
    from bootdrift_avalanche.runtime.threads import configure_threads

    configure_threads("cpu", a.threads)  # a small MLP: one thread is fastest (see bench/wgan_stage0.py)

    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    per_seed = {}
    for seed in a.seeds:
        kept = []
        cfg = BootstrapConfig(generator="wgan", data="gmm", stages=a.stages, mix_real=a.mix_real, seed=seed,
                              preset=a.preset)
        run_dir = out / f"seed{seed}"
        res = run_bootstrap_experiment(cfg, run_dir, resume=(run_dir / "config.json").exists(),
                                       on_stage=lambda s, x, y, v: kept.append((s, x)))
        per_seed[seed] = res.stages
        print(f"\nseed {seed}\n{bootstrap_table(res)}")
        if kept:
            real, _ = gmm_samples(5000, seed=seed)
            kde_panels(kept, real, out / f"kde_stages_seed{seed}.png",
                       f"WGAN bootstrapping, seed {seed}, mix_real={a.mix_real}")
    fid_key = next(k for k in next(iter(per_seed.values()))[0] if k.startswith("FID"))
    curves(per_seed, out / "curves.png", [fid_key, "ModesCovered", "HighQuality", "RealAcc"])
    (out / "summary.json").write_text(json.dumps({str(k): v for k, v in per_seed.items()}, indent=1))
    print(f"\nfigures: {out}/curves.png, {out}/kde_stages_seed*.png; values: {out}/summary.json")


if __name__ == "__main__":
    main()

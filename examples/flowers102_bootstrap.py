"""The seed paper's Flowers102 loop with either of its two image generators: a class-conditional DDPM
or StyleGAN2 (``--generator ddpm stylegan2``: one or both), over seeds, with the drift metrics per
stage and one figure comparing the generators (mean over seeds, band = 95 % t-interval).

Flowers102 (64x64, 102 classes; train+val as training data, test as held-out) with the GPU-sized
``paper`` preset (default, ``--device cuda``); or Split Digits (8x8, all ten classes; ``--data
digits``, the ``cpu-small`` preset by default), the same loop at CPU cost. Writes under --out one run
directory per (generator, seed) (rerunning resumes them; finished ones are only read), and
``curves.png`` (FID_clf, CFID_clf, RealAcc per stage) and ``summary.json`` (every stage of every run,
and the mean and interval per generator and stage). ``--read-only`` trains nothing: it reads the
stages the run directories hold so far (e.g. while runs of one seed per process go on) and
summarises the stages that every seed of a generator has.

    python examples/flowers102_bootstrap.py --generator ddpm stylegan2 --data-root ~/data --device cuda
    python examples/flowers102_bootstrap.py --data digits --generator ddpm stylegan2 --seeds 0 1 2
    python examples/flowers102_bootstrap.py --data digits --generator stylegan2 --seeds 1   # one run per process
"""
import argparse
import json
from pathlib import Path

import numpy as np

from loop_regimes import interval  # examples/ is the script's directory, hence on sys.path

CURVES = ("FID", "CFID", "RealAcc")


def summarize(runs):
    """{generator: {metric: [(mean, half-width) per stage]}} over the seeds of each generator, for
    the stages all its seeds have."""
    out = {}
    for gen, per_seed in runs.items():
        stages = list(per_seed.values())
        done = min(len(run) for run in stages)
        if not done:
            continue
        keys = [k for k in stages[0][0] if k.split("_")[0] in CURVES and "/" not in k and "Chance" not in k]
        out[gen] = {k: [interval([run[s][k] for run in stages]) for s in range(done)] for k in keys}
    return out


def stages_so_far(run_dir):
    """The per-stage scalars a run directory's ``metrics.jsonl`` holds (as ``BootstrapResult.stages``)."""
    from bootdrift_avalanche.logging import metric_table, read_metrics

    path = Path(run_dir) / "metrics.jsonl"
    if not path.exists():
        return []
    table = {name.replace("/train_phase/train_stream", ""): v for name, v in metric_table(read_metrics(path)).items()}
    fid = [v for k, v in table.items() if k.startswith("FID")]
    steps = sorted(fid[0]) if fid else []
    return [{k: v[s] for k, v in table.items() if s in v} for s in steps]


def figure(summary, path, title):
    from matplotlib.figure import Figure

    keys = list(next(iter(summary.values())))
    fig = Figure(figsize=(4.2 * len(keys), 3.4))
    for i, key in enumerate(keys):
        ax = fig.add_subplot(1, len(keys), i + 1)
        for gen, curves in summary.items():
            m, h = np.array(curves[key]).T
            x = np.arange(len(m))
            ax.plot(x, m, marker="o", label=gen)
            ax.fill_between(x, m - np.nan_to_num(h), m + np.nan_to_num(h), alpha=0.25)
        ax.set_xlabel("stage (0: trained on real data)")
        ax.set_title(key)
        ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.suptitle(title)
    fig.savefig(path, dpi=110, bbox_inches="tight")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--generator", nargs="+", default=["ddpm", "stylegan2"], choices=("ddpm", "stylegan2"))
    p.add_argument("--data", default="flowers102", choices=("flowers102", "digits"))
    p.add_argument("--seeds", type=int, nargs="+", default=[0])
    p.add_argument("--stages", type=int, default=5)
    p.add_argument("--mix-real", type=float, default=0.0)
    p.add_argument("--preset", choices=("tiny", "cpu-small", "paper"),
                   help="default: paper for flowers102, cpu-small for digits")
    p.add_argument("--device", default="cpu")
    p.add_argument("--data-root", help="flowers102 files (default ~/.avalanche/data/flowers102)")
    p.add_argument("--download", action="store_true", help="fetch flowers102 where there is internet")
    p.add_argument("--threads", type=int, help="torch CPU threads (default: 1 on CPU)")
    p.add_argument("--out", help="default: runs/<data>_bootstrap")
    p.add_argument("--read-only", action="store_true", help="train nothing: summarise the stages the runs hold")
    a = p.parse_args()

    from bootdrift_avalanche.benchmarks.errors import MissingDataError
    from bootdrift_avalanche.experiments.bootstrap import run_bootstrap_experiment
    from bootdrift_avalanche.experiments.config import BootstrapConfig
    from bootdrift_avalanche.experiments.tables import bootstrap_table
    from bootdrift_avalanche.runtime.threads import configure_threads

    configure_threads(a.device, a.threads)  # 1 thread on a CPU unless --threads; a GPU keeps torch's default
    preset = a.preset or ("paper" if a.data == "flowers102" else "cpu-small")
    out = Path(a.out or f"runs/{a.data}_bootstrap")
    runs = {}
    for gen in a.generator:
        for seed in a.seeds:
            cfg = BootstrapConfig(generator=gen, data=a.data, stages=a.stages, mix_real=a.mix_real, preset=preset,
                                  seed=seed, device=a.device, data_root=a.data_root, download=a.download)
            run_dir = out / gen / f"seed{seed}"
            if a.read_only:
                runs.setdefault(gen, {})[seed] = stages_so_far(run_dir)
                print(f"{gen}, seed {seed}: {len(runs[gen][seed])} stage(s) done")
                continue
            try:
                res = run_bootstrap_experiment(cfg, run_dir, resume=(run_dir / "config.json").exists())
            except MissingDataError as exc:
                raise SystemExit(f"error: {exc}")
            runs.setdefault(gen, {})[seed] = res.stages
            print(f"\n{gen}, seed {seed}\n{bootstrap_table(res)}", flush=True)
    summary = summarize(runs)
    if not summary:
        raise SystemExit(f"error: no run under {out} has a finished stage yet")
    print(f"\nmean ± 95 % t-interval over seeds {a.seeds}:")
    for gen, curves in summary.items():
        for key, per_stage in curves.items():
            print(f"  {gen:<10} {key:<10} " + "  ".join(f"{m:8.3f} ± {h:.3f}" for m, h in per_stage))
    figure(summary, out / "curves.png", f"{a.data}: bootstrapping, {preset} preset, seeds {a.seeds}")
    (out / "summary.json").write_text(json.dumps({"runs": runs, "summary": summary, "args": vars(a)}, indent=1))
    print(f"\nfigure: {out}/curves.png  values: {out}/summary.json  TensorBoard: tensorboard --logdir {out}")


if __name__ == "__main__":
    main()

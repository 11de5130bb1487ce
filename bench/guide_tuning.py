"""GUIDE's settings for ``cpu-small``, chosen on the validation split like every replay method
(benchmark ``digits-val``: Split Digits' train split divided 80/20; the test split is never read).
Prints each trial's settings (entries of the preset's ``guide`` entry), validation final accuracy,
forgetting and CPU seconds, the best trial and the commit.

    python bench/guide_tuning.py --json /tmp/guide_tuning.json        # every trial
    python bench/guide_tuning.py --trials 0 2                          # a subset
"""
import argparse
import dataclasses
import json
import resource
import subprocess
import time
import warnings
from pathlib import Path

# Trial 0 is the reference's setting where it fits a CPU (scale 0.5 as its CIFAR-10/5 and CIFAR-100/5
# runs, DDIM as they sample, one draw per experience); the others move one knob.
TRIALS = [
    dict(guidance_scale=0.5, sampler="ddim"),
    dict(guidance_scale=0.2, sampler="ddim"),
    dict(guidance_scale=1.0, sampler="ddim"),
    dict(guidance_scale=0.5, sampler=None),  # the generator's own ancestral sampler, as DDGR replays
    dict(guidance_scale=0.5, sampler="ddim", regenerate_every=40),  # drawn again mid-experience
]


def _cpu_seconds() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def run_trial(guide: dict, *, preset: str, seed: int, experiences: int) -> dict:
    """One ``guide`` run on ``digits-val`` with the preset's ``guide`` entry updated by ``guide``."""
    import torch
    from avalanche.training.plugins import EvaluationPlugin

    from bootdrift_avalanche.experiments import registry
    from bootdrift_avalanche.experiments.config import PRESETS, ReplayConfig, resolve
    from bootdrift_avalanche.experiments.replay import accuracy_summary, build_solver, evaluate_accuracy

    cfg = resolve(ReplayConfig(strategy="guide", benchmark="digits-val", experiences=experiences, preset=preset,
                               seed=seed, drift=False, umap=False, progress=False))
    p = dataclasses.replace(PRESETS[preset], guide={**PRESETS[preset].guide, **guide})
    recipe = registry.recipe("guide")
    t0, c0 = time.perf_counter(), _cpu_seconds()
    torch.manual_seed(cfg.seed)
    bm = registry.benchmark_builder(cfg.benchmark)(cfg, recipe.task_labels)
    ctx = registry.BuildContext(cfg=cfg, preset=p, benchmark=bm, model=build_solver(bm, p),
                                evaluator=EvaluationPlugin(loggers=[]))
    strategy = recipe.build(ctx)
    R = []
    for exp in bm.train_stream:
        strategy.train(exp)
        R.append(evaluate_accuracy(strategy.model, bm.test_stream, cfg.device))
    acc, forg = accuracy_summary(R)
    return {"val_accuracy": acc, "val_forgetting": forg, "cpu_seconds": _cpu_seconds() - c0,
            "seconds": time.perf_counter() - t0}


def main():
    from bootdrift_avalanche.experiments.config import PRESETS
    from bootdrift_avalanche.runtime.threads import configure_threads

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--trials", type=int, nargs="+", help="indices of the trials to run (default: all)")
    p.add_argument("--preset", default="cpu-small", choices=list(PRESETS))
    p.add_argument("--experiences", type=int, default=5)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, help="torch CPU threads (default: 1 on CPU)")
    p.add_argument("--json", help="write every trial's figures here")
    a = p.parse_args()
    configure_threads("cpu", a.threads)
    warnings.filterwarnings("ignore", message="No loggers specified")
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                            cwd=Path(__file__).resolve().parent).stdout.strip()
    print(f"commit {commit}, preset {a.preset}, seed {a.seed}, digits-val", flush=True)
    rows = []
    for i, trial in enumerate(TRIALS):
        if a.trials is not None and i not in a.trials:
            continue
        r = run_trial(trial, preset=a.preset, seed=a.seed, experiences=a.experiences)
        rows.append({"trial": i, "settings": trial, **r})
        print(f"guide trial {i}: val acc {r['val_accuracy']:.3f}  forgetting {r['val_forgetting']:.3f}  "
              f"{r['cpu_seconds']:.0f} CPU s  {r['seconds']:.0f} s wall  {trial}", flush=True)
    best = max(rows, key=lambda r: r["val_accuracy"])
    print(f"guide best: trial {best['trial']} (val acc {best['val_accuracy']:.3f}) {best['settings']}", flush=True)
    if a.json:
        tmp = Path(a.json + ".tmp")
        tmp.write_text(json.dumps({"commit": commit, "trials": rows, "best": best["trial"]}, indent=1))
        tmp.replace(a.json)
        print(f"written: {a.json}")


if __name__ == "__main__":
    main()

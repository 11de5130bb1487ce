"""Guidance scale against forgetting and drift on Split Digits (test split): for each (method, scale,
seed) one replay run, then the final accuracy, the forgetting of the first experience's classes and the
raw drift of the replay on that cohort after the last experience (mean CFID_clf over its classes, and
the same for the generator alone, ``_unguided``). Raw drift only: the floors are not subtracted, so no
verdict is printed. Prints one row per run and the commit.

    python bench/guide_sweep.py --runs guide:0.05 guide:0.2 guide:0.5 ddgr:0 ddgr:1 ddgr:2 --seeds 0 1 2
    python bench/guide_sweep.py --preset tiny --experiences 2 --runs guide:0.2 --out /tmp/sweep
"""
import argparse
import json
import subprocess
import tempfile
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent


def cohort_cfid(table: dict, classes, head: str) -> float:
    """Mean of ``head``'s per-class values over ``classes`` at the last logged step (nan when not
    logged); ``table`` is ``logging.metric_table`` of a run's metrics."""
    from bootdrift_avalanche.tags import TAG_SUFFIX

    vals = []
    for c in classes:
        series = table.get(f"{head}{TAG_SUFFIX}/Class{int(c):03d}")
        if series:
            vals.append(series[max(series)])
    return sum(vals) / len(vals) if vals else float("nan")


def run(method: str, scale: float, *, seed: int, preset: str, experiences: int, out: Path) -> dict:
    """One run of ``method`` (guide or ddgr) at guidance ``scale``; its figures."""
    import dataclasses

    from bootdrift_avalanche.benchmarks import split_digits
    from bootdrift_avalanche.experiments import config
    from bootdrift_avalanche.experiments.replay import run_replay
    from bootdrift_avalanche.logging import metric_table, read_metrics

    cfg = config.ReplayConfig(strategy=method, benchmark="digits", experiences=experiences, preset=preset,
                              seed=seed, umap=False, progress=False,
                              guidance_scale=scale if method == "ddgr" else None)
    presets = config.PRESETS
    if method == "guide":
        p = presets[preset]
        config.PRESETS = {**presets, preset: dataclasses.replace(p, guide={**p.guide, "guidance_scale": scale})}
    run_dir = out / f"{method}-{scale}-seed{seed}"
    try:
        o = run_replay(cfg, run_dir)
    finally:
        config.PRESETS = presets
    table = metric_table(read_metrics(run_dir / "metrics.jsonl"))
    first = split_digits(experiences, seed=seed).classes_per_experience[0]
    R = o.accuracy_matrix
    return {"method": method, "scale": scale, "seed": seed, "final_accuracy": o.final_accuracy,
            "forgetting_exp0": max(r[0] for r in R[:-1]) - R[-1][0] if len(R) > 1 else 0.0,
            "cfid_exp0": cohort_cfid(table, first, "CFID_clf"),
            "cfid_exp0_unguided": cohort_cfid(table, first, "CFID_clf_unguided"), "seconds": o.seconds}


def main():
    from bootdrift_avalanche.runtime.threads import configure_threads

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--runs", nargs="+", default=["guide:0.05", "guide:0.2", "guide:0.5", "ddgr:0", "ddgr:1", "ddgr:2"],
                   help="method:scale pairs")
    p.add_argument("--seeds", type=int, nargs="+", default=[0])
    p.add_argument("--preset", default="cpu-small")
    p.add_argument("--experiences", type=int, default=5)
    p.add_argument("--out", help="folder of the run directories (default: a temporary one)")
    p.add_argument("--json", help="write the rows here")
    a = p.parse_args()
    configure_threads("cpu", None)
    warnings.filterwarnings("ignore")
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False,
                            cwd=HERE).stdout.strip()
    print(f"commit {commit}, preset {a.preset}, {a.experiences} experiences, Split Digits test split; "
          "raw drift (floors not subtracted)", flush=True)
    out = Path(a.out) if a.out else Path(tempfile.mkdtemp(prefix="guide_sweep_"))
    rows = []
    for spec in a.runs:
        method, scale = spec.split(":")
        for seed in a.seeds:
            r = run(method, float(scale), seed=seed, preset=a.preset, experiences=a.experiences, out=out)
            rows.append(r)
            print(f"{method:>5} scale {float(scale):<5} seed {seed}: final acc {r['final_accuracy']:.3f}  "
                  f"forgetting(exp0) {r['forgetting_exp0']:.3f}  CFID_clf(exp0) {r['cfid_exp0']:.2f}  "
                  f"unguided {r['cfid_exp0_unguided']:.2f}  {r['seconds']:.0f} s", flush=True)
    if a.json:
        tmp = Path(a.json + ".tmp")
        tmp.write_text(json.dumps({"commit": commit, "rows": rows}, indent=1))
        tmp.replace(a.json)


if __name__ == "__main__":
    main()

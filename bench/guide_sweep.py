"""Does drift hurt? Guidance scale against forgetting and drift on Split Digits (test split).

For each (method, scale, seed) one replay run (``run_replay``), then: the final accuracy, the
forgetting of the first experience's classes (best accuracy on experience 0 before the last
experience minus the last) and the drift of the replay on the cohort of experience 0 after the last
experience (``metrics.cohorts``): the mean per-class ``CFID_clf``, its real-vs-real floor and the
excess over the floor with its interval, of what the plugin replays and of the generator alone
(``_unguided``). Methods: ``guide`` and ``ddgr`` at a scale (``guide:0.2``, ``ddgr:1``), and as single
points without a guidance knob ``gan-memory`` and ``replay-buffer`` (real images: no generator, so no
drift is measured).

The summary gives per (method, scale) the mean over seeds with its 95 % t-interval, Spearman's rank
correlation of the configurations' mean excess with their mean forgetting and accuracy, and (with
``--figure``) a scatter of accuracy and forgetting against the excess, error bars both ways.

    python bench/guide_sweep.py --experiences 3 --seeds 0 1 2 --json sweep.json --figure sweep.png \\
        --runs guide:0.05 guide:0.2 guide:0.5 ddgr:0 ddgr:1 ddgr:2 gan-memory replay-buffer
    python bench/guide_sweep.py --report seed0.json seed1.json --figure sweep.png   # merge, run nothing
"""
import argparse
import json
import math
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
#: methods with the guidance knob this bench sweeps
GUIDED = ("guide", "ddgr")


def _finite(x):
    return None if x is None or not math.isfinite(x) else float(x)


def cohort0(table: dict, head: str) -> dict:
    """Cohort 0's ``head`` (``CFID_clf`` or ``CFID_clf_unguided``) at its last logged experience:
    value, floor, excess and the excess's interval (``None`` where not logged)."""
    from bootdrift_avalanche.metrics.cohorts import cohort_curves
    from bootdrift_avalanche.metrics.qualifiers import FLOOR, UNGUIDED, qualified

    if head.endswith(UNGUIDED):  # the generator alone is compared with the replay's floor, logged once
        floor = qualified(head[: -len(UNGUIDED)], FLOOR)
        table = {**table, **{qualified(k, UNGUIDED): v for k, v in table.items() if k.partition("/")[0] == floor}}
    curves = cohort_curves(table, head)
    if not curves:
        return {"value": None, "floor": None, "excess": None, "lo": None, "hi": None, "experience": None}
    curve = curves[min(curves)]
    x = max(curve)
    pt = curve[x]
    return {"value": _finite(pt.value), "floor": _finite(pt.floor), "excess": _finite(pt.excess),
            "lo": _finite(pt.lo), "hi": _finite(pt.hi), "experience": x}


def label(method: str, scale) -> str:
    return method if scale is None else f"{method}:{scale:g}"


def run(method: str, scale, *, seed: int, preset: str, experiences: int, out: Path) -> dict:
    """One run of ``method`` (``guide``/``ddgr`` at guidance ``scale``; ``gan-memory`` and
    ``replay-buffer`` with ``scale=None``); its figures."""
    import dataclasses

    from bootdrift_avalanche.benchmarks import split_digits
    from bootdrift_avalanche.experiments import config
    from bootdrift_avalanche.experiments.replay import run_replay
    from bootdrift_avalanche.logging import metric_table, read_metrics

    if (method in GUIDED) != (scale is not None):
        raise ValueError(f"{method}: a scale is given exactly for {', '.join(GUIDED)}")
    cfg = config.ReplayConfig(strategy=method, benchmark="digits", experiences=experiences, preset=preset,
                              seed=seed, umap=False, progress=False,
                              guidance_scale=scale if method == "ddgr" else None)
    presets = config.PRESETS
    if method == "guide":
        p = presets[preset]
        config.PRESETS = {**presets, preset: dataclasses.replace(p, guide={**p.guide, "guidance_scale": scale})}
    run_dir = out / f"{label(method, scale).replace(':', '-')}-seed{seed}"
    cpu0, wall0 = time.process_time(), time.perf_counter()
    try:
        o = run_replay(cfg, run_dir)
    finally:
        config.PRESETS = presets
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    table = metric_table(read_metrics(run_dir / "metrics.jsonl"))
    first = split_digits(experiences, seed=seed).classes_per_experience[0]
    R = o.accuracy_matrix
    guided, unguided = cohort0(table, "CFID_clf"), cohort0(table, "CFID_clf_unguided")
    if guided["experience"] is not None and guided["experience"] != len(R) - 1:
        raise RuntimeError(f"cohort 0's last CFID is at experience {guided['experience']}, not {len(R) - 1}")
    return {"method": method, "scale": scale, "seed": seed, "cohort0_classes": [int(c) for c in first],
            "final_accuracy": o.final_accuracy,
            "forgetting_exp0": max(r[0] for r in R[:-1]) - R[-1][0] if len(R) > 1 else 0.0,
            "cohort0": guided, "cohort0_unguided": unguided,
            "seconds": o.seconds, "cpu_seconds": cpu, "wall_seconds": wall}


# ---- summary ----------------------------------------------------------------------------------
def t_interval(values):
    """(mean, half-width of the 95 % t-interval, n) of the values that are not ``None``."""
    sys.path.insert(0, str(HERE))
    from reproduce_paper import t_interval as ti

    v = [x for x in values if x is not None]
    return (*ti(v), len(v))


FIELDS = {  # name -> how a row gives it
    "final_accuracy": lambda r: r["final_accuracy"],
    "forgetting_exp0": lambda r: r["forgetting_exp0"],
    "excess": lambda r: r["cohort0"]["excess"],
    "excess_unguided": lambda r: r["cohort0_unguided"]["excess"],
    # the half-width of the run's own (bootstrap) interval of its excess
    "excess_within": lambda r: None if r["cohort0"]["hi"] is None else (r["cohort0"]["hi"] - r["cohort0"]["lo"]) / 2,
    "cfid": lambda r: r["cohort0"]["value"],
    "floor": lambda r: r["cohort0"]["floor"],
    "cpu_seconds": lambda r: r["cpu_seconds"],
    "wall_seconds": lambda r: r["wall_seconds"],
}


def summarize(rows: list) -> list:
    """Per (method, scale), in the order first run: the rows' seeds and every field's t-interval."""
    groups = {}
    for r in rows:
        groups.setdefault((r["method"], r["scale"]), []).append(r)
    return [{"method": m, "scale": s, "seeds": sorted(r["seed"] for r in g),
             **{k: t_interval([f(r) for r in g]) for k, f in FIELDS.items()}} for (m, s), g in groups.items()]


def rank_correlations(summary: list) -> dict:
    """Spearman's rho (and its p-value) of the configurations' mean excess against their mean
    forgetting and final accuracy, over the configurations that have an excess."""
    from scipy import stats

    pts = [c for c in summary if c["excess"][2] > 0]
    out = {"n_configurations": len(pts)}
    for k in ("forgetting_exp0", "final_accuracy"):
        if len(pts) >= 3:
            rho, p = stats.spearmanr([c["excess"][0] for c in pts], [c[k][0] for c in pts])
            out[k] = (float(rho), float(p))
    return out


def _pm(m, h, n, digits=3):
    if m is None or not math.isfinite(m):
        return "n/a"
    return f"{m:.{digits}f}" + ("" if not math.isfinite(h) else f" ± {h:.{digits}f}")


def print_summary(summary: list, corr: dict) -> None:
    print("\nmean ± 95 % t-interval over seeds; excess = cohort 0's mean per-class CFID_clf minus its "
          "real-vs-real floor after the last experience; within-run ± = the mean half-width of a run's own "
          "bootstrap interval of that excess")
    print("| method | seeds | final accuracy | forgetting, exp. 0 | CFID excess, cohort 0 | within-run ± "
          "| generator alone (`_unguided`) | raw CFID | floor | CPU s/run |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for c in summary:
        cells = [label(c["method"], c["scale"]), " ".join(map(str, c["seeds"])), _pm(*c["final_accuracy"]),
                 _pm(*c["forgetting_exp0"]), _pm(*c["excess"], 2), _pm(c["excess_within"][0], math.nan, 0, 1),
                 _pm(*c["excess_unguided"], 2), _pm(*c["cfid"], 2), _pm(*c["floor"], 2), f"{c['cpu_seconds'][0]:.0f}"]
        print("| " + " | ".join(cells) + " |")
    for k in ("forgetting_exp0", "final_accuracy"):
        if k in corr:
            print(f"Spearman rho(excess, {k}) over {corr['n_configurations']} configurations' means: "
                  f"{corr[k][0]:+.2f} (p = {corr[k][1]:.2f})")


def figure(summary: list, rows: list, path) -> None:
    """Accuracy and forgetting of experience 0 against cohort 0's CFID excess: per configuration
    the mean with its t-intervals both ways, the seeds faint behind; the real-image buffer (no
    generator, no drift) as a horizontal band."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    colours = {"guide": "tab:red", "ddgr": "tab:blue", "gan-memory": "tab:green"}
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.3))
    for ax, (k, name) in zip(axes, (("final_accuracy", "final accuracy"),
                                    ("forgetting_exp0", "forgetting of experience 0's classes"))):
        for r in rows:
            x = r["cohort0"]["excess"]
            if x is not None:
                ax.plot(x, FIELDS[k](r), ".", color=colours.get(r["method"], "k"), alpha=0.25)
        for c in summary:
            if c["excess"][2] == 0:
                if c["method"] == "replay-buffer":
                    m, h, _ = c[k]
                    ax.axhline(m, color="0.4", ls="--", lw=1,
                               label=f"replay-buffer (real images, no drift): {m:.3f}")
                    if math.isfinite(h):
                        ax.axhspan(m - h, m + h, color="0.6", alpha=0.2)
                continue
            (x, xh, _), (y, yh, _) = c["excess"], c[k]
            rank = [d for d in summary if d["method"] == c["method"]].index(c)  # marker: the scale's rank
            ax.errorbar(x, y, xerr=xh if math.isfinite(xh) else None, yerr=yh if math.isfinite(yh) else None,
                        fmt="osD^v"[rank % 5], color=colours.get(c["method"], "k"), capsize=3, ms=6,
                        label=label(c["method"], c["scale"]))
        ax.set_xlabel("CFID_clf excess over the floor, cohort 0, after the last experience")
        ax.set_ylabel(name)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8, loc="best")
    fig.suptitle("Split Digits, cpu-small: mean ± 95 % t-interval over seeds (dots: single seeds)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def parse_run(spec: str):
    method, _, scale = spec.partition(":")
    return method, (float(scale) if scale else None)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--runs", nargs="+", default=["guide:0.05", "guide:0.2", "guide:0.5", "ddgr:0", "ddgr:1", "ddgr:2",
                                                 "gan-memory", "replay-buffer"],
                   help="method:scale for guide and ddgr, the bare name for gan-memory and replay-buffer")
    p.add_argument("--seeds", type=int, nargs="+", default=[0])
    p.add_argument("--preset", default="cpu-small")
    p.add_argument("--experiences", type=int, default=5)
    p.add_argument("--threads", type=int, default=None, help="torch threads (default: the package's)")
    p.add_argument("--out", help="folder of the run directories (default: a temporary one)")
    p.add_argument("--json", help="write the rows here (after every run)")
    p.add_argument("--figure", help="write the scatter PNG here")
    p.add_argument("--report", nargs="+", metavar="JSON", help="summarize earlier --json files, run nothing")
    a = p.parse_args()
    warnings.filterwarnings("ignore")
    if a.report:
        docs = [json.loads(Path(f).read_text()) for f in a.report]
        rows = [r for d in docs for r in d["rows"]]
        print("commits " + ", ".join(sorted({d["commit"] for d in docs})) + f"; {len(rows)} runs")
    else:
        from bootdrift_avalanche.runtime.threads import configure_threads

        configure_threads("cpu", a.threads)
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                                check=False, cwd=HERE).stdout.strip()
        print(f"commit {commit}, preset {a.preset}, {a.experiences} experiences, Split Digits test split", flush=True)
        out = Path(a.out) if a.out else Path(tempfile.mkdtemp(prefix="guide_sweep_"))
        rows = []
        for spec in a.runs:
            method, scale = parse_run(spec)
            for seed in a.seeds:
                r = run(method, scale, seed=seed, preset=a.preset, experiences=a.experiences, out=out)
                rows.append(r)
                g, u = r["cohort0"], r["cohort0_unguided"]
                print(f"{label(method, scale):>13} seed {seed}: final acc {r['final_accuracy']:.3f}  "
                      f"forgetting(exp0) {r['forgetting_exp0']:.3f}  cohort0 CFID {g['value']}  floor {g['floor']}  "
                      f"excess {g['excess']}  unguided excess {u['excess']}  {r['cpu_seconds']:.0f} CPU s  "
                      f"{r['wall_seconds']:.0f} s wall", flush=True)
                if a.json:
                    tmp = Path(a.json + ".tmp")
                    tmp.write_text(json.dumps({"commit": commit, "preset": a.preset, "experiences": a.experiences,
                                               "command": " ".join(sys.argv), "rows": rows}, indent=1))
                    tmp.replace(a.json)
    summary = summarize(rows)
    print_summary(summary, rank_correlations(summary))
    if a.figure:
        figure(summary, rows, a.figure)
        print(f"figure: {a.figure}")


if __name__ == "__main__":
    main()

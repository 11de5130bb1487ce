"""Re-measure the findings of "On the Dangers of Bootstrapping Generation for Continual Learning and
Beyond" (arXiv 2512.11867) on the embedded data, over seeds, with 95 % intervals, and a verdict per
finding computed from the intervals (never asserted by hand):

- F1: FID, CFID and OTDD grow with the retraining stages (GMM toy WGAN loop, Split Digits DDPM loop);
- F2: the accuracy of a classifier trained on synthetic data (RealAcc) falls toward chance, judged
  as (RealAcc - chance) / (1 - chance) so that replay runs, whose chance level falls as classes are
  added, are not credited with a fall of the chance level itself;
- F3: DDGR and GAN Memory do not prevent latent misalignment: OTDD between replayed and real data
  grows over experiences (and RealAcc falls) in the replay runs on Split Digits. Caveat: after
  experience k the metrics cover the classes of experiences 0..k, so part of a trend over
  experiences comes from comparing more classes, not only from drift;
- F4: bootstrapping adds bias and variance to maximum-likelihood estimates (Gaussian MLE Monte Carlo
  against the closed forms of ``bootstrap.theory``).

Trend verdicts: per seed, the least-squares slope of the metric over stages (experiences); across
seeds, the mean slope and its 95 % t-interval. "holds" when the interval excludes 0 on the
finding's side, "does not hold" when it excludes 0 on the other side, "mixed" otherwise. With 3 seeds
the t quantile is 4.30, so only consistent trends pass.

    python bench/reproduce_paper.py --seeds 0 1 2                     # cpu-small, 2 worker processes
    python bench/reproduce_paper.py --seeds 0 1 --preset tiny --out /tmp/rp   # smoke run (minutes)
    python bench/reproduce_paper.py --seeds 0 1 2 --preset paper --device cuda --data-root ~/data
        # adds the Flowers102 (64x64) DDPM loop and Split CIFAR-100 DDGR where the files exist

Writes under --out (default runs/reproduce_paper): one run directory per (setup, seed), ``results.json``
(every curve of every seed, the summaries and verdicts), ``summary.md`` (the tables in Markdown) and
``figures/<setup>.png`` (mean curves with 95 % bands). Each job runs in its own process with one torch thread.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import resource
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Dict, List

import numpy as np

# Metric heads whose finding is "grows" (F1, F3); RealAccAboveChance's is "falls" (F2, F3).
TREND_UP = ("FID", "CFID", "OTDD")
# What the console tables show (results.json keeps every curve).
SHOWN = TREND_UP + ("RealAcc", "RealAccAboveChance", "AccSeen", "ModesCovered", "HighQuality")


def _setups(a) -> Dict[str, dict]:
    tiny = a.preset == "tiny"
    s = {
        "gmm_wgan_loop": dict(kind="bootstrap", findings="F1 F2", cfg=dict(
            generator="wgan", data="gmm", stages=3 if tiny else a.gmm_stages)),
        "digits_ddpm_loop": dict(kind="bootstrap", findings="F1 F2", cfg=dict(
            generator="ddpm", data="digits", stages=3 if tiny else a.digits_stages)),
        "digits_ddgr_replay": dict(kind="replay", findings="F3", cfg=dict(
            strategy="ddgr", benchmark="digits", experiences=3 if tiny else 5)),
        "digits_gan_memory_replay": dict(kind="replay", findings="F3", cfg=dict(
            strategy="gan-memory", benchmark="digits", experiences=3 if tiny else 5)),
    }
    if a.data_root:
        s["flowers102_ddpm_loop"] = dict(kind="bootstrap", findings="F1 F2", cfg=dict(
            generator="ddpm", data="flowers102", stages=a.digits_stages, data_root=a.data_root))
        s["cifar100_ddgr_replay"] = dict(kind="replay", findings="F3", cfg=dict(
            strategy="ddgr", benchmark="cifar100", experiences=5, data_root=a.data_root))
    return s


def _cpu_seconds() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def run_job(kind: str, cfg: dict, run_dir: str, threads: int) -> dict:
    """One (setup, seed) in this process: ``{"curves": {name: [value per step]}, "seconds", ...}``."""
    from bootdrift_avalanche.runtime.threads import configure_threads

    configure_threads(cfg.get("device", "cpu"), threads)
    t0, c0 = time.perf_counter(), _cpu_seconds()
    resume = (Path(run_dir) / "config.json").exists()  # an interrupted bench continues where it stopped
    if kind == "bootstrap":
        from bootdrift_avalanche.experiments.bootstrap import run_bootstrap_experiment
        from bootdrift_avalanche.experiments.config import BootstrapConfig

        res = run_bootstrap_experiment(BootstrapConfig(**cfg), run_dir, resume=resume)
        names = [k for k in res.stages[0] if "/Class" not in k]
        curves = {k: res.curve(k) for k in names}
    else:
        from bootdrift_avalanche.experiments.config import ReplayConfig
        from bootdrift_avalanche.experiments.replay import run_replay

        out = run_replay(ReplayConfig(**cfg), run_dir, resume=resume)
        steps = range(len(out.accuracy_matrix))
        curves = {k: [v.get(s, float("nan")) for s in steps] for k, v in out.drift.items() if "/Class" not in k}
        curves["AccSeen"] = [sum(r[: k + 1]) / (k + 1) for k, r in enumerate(out.accuracy_matrix)]
    # RealAcc's chance level falls as classes are added in the replay runs: judge the accuracy's
    # share of the way from chance to perfect instead, (acc - chance) / (1 - chance).
    for suffix in ("", "_unguided"):
        acc, chance = curves.get(f"RealAcc{suffix}"), curves.get("RealAccChance")
        if acc is not None and chance is not None:
            curves[f"RealAccAboveChance{suffix}"] = [(a - c) / (1 - c) for a, c in zip(acc, chance)]
    return {"curves": curves, "seconds": time.perf_counter() - t0, "cpu_seconds": _cpu_seconds() - c0}


# ---- statistics ---------------------------------------------------------------------------------
def t_interval(values) -> tuple:
    """(mean, half-width of the 95 % t-interval); half-width nan for fewer than 2 values."""
    from scipy import stats

    v = np.asarray([x for x in values if x is not None and math.isfinite(x)], dtype=float)
    if len(v) == 0:
        return float("nan"), float("nan")
    if len(v) < 2:
        return float(v.mean()), float("nan")
    return float(v.mean()), float(stats.t.ppf(0.975, len(v) - 1) * v.std(ddof=1) / math.sqrt(len(v)))


def slope(curve) -> float:
    y = np.asarray(curve, dtype=float)
    ok = np.isfinite(y)
    if ok.sum() < 2:
        return float("nan")
    return float(np.polyfit(np.arange(len(y))[ok], y[ok], 1)[0])


def trend(slopes, direction: int):
    """(mean slope, 95 % half-width, verdict); ``direction`` +1: the finding says "grows", -1: "falls"."""
    m, h = t_interval(slopes)
    if not math.isfinite(h):
        return m, h, "mixed (too few seeds for an interval)"
    lo, hi = m - h, m + h
    if (direction > 0 and lo > 0) or (direction < 0 and hi < 0):
        return m, h, "holds"
    if (direction > 0 and hi < 0) or (direction < 0 and lo > 0):
        return m, h, "does not hold"
    return m, h, "mixed"


def summarise(per_seed: Dict[int, dict]) -> dict:
    """Per metric: mean and 95 % half-width per step, the slope interval and, for the trend
    metrics, the verdict."""
    names = sorted(set.intersection(*(set(r["curves"]) for r in per_seed.values())))
    out = {}
    for name in names:
        curves = [r["curves"][name] for r in per_seed.values()]
        steps = min(len(c) for c in curves)
        per_step = [t_interval([c[s] for c in curves]) for s in range(steps)]
        head = name.split("_")[0]
        direction = +1 if head in TREND_UP else -1 if head == "RealAccAboveChance" else 0
        m, h, verdict = trend([slope(c[:steps]) for c in curves], direction or +1)
        out[name] = {"mean": [p[0] for p in per_step], "ci95": [p[1] for p in per_step],
                     "slope": m, "slope_ci95": h, "verdict": verdict if direction else None,
                     "direction": direction}
    return out


def theory_f4(seeds: List[int], *, n: int = 10, t_max: int = 20, n_runs: int = 5000) -> dict:
    """F4 with the Gaussian MLE loop: Monte Carlo per seed against the closed forms."""
    from bootdrift_avalanche.bootstrap.theory import mle_bootstrap_closed_form, simulate_mle_bootstrap

    cf = mle_bootstrap_closed_form(t_max, n)
    sims = [simulate_mle_bootstrap(t_max, n, n_runs=n_runs, seed=s) for s in seeds]
    ev = t_interval([s["expected_var"][-1] for s in sims])  # sigma^2 = 1: fitted variance shrinks
    vm = t_interval([n * s["var_of_mean"][-1] for s in sims])  # n Var[mean] grows past 1 (one fit)
    bias = "holds" if ev[0] + ev[1] < 1.0 else "does not hold" if ev[0] - ev[1] > 1.0 else "mixed"
    var = "holds" if vm[0] - vm[1] > 1.0 else "does not hold" if vm[0] + vm[1] < 1.0 else "mixed"
    return {"n": n, "t": t_max, "n_runs": n_runs,
            "expected_var": {"mc": ev, "closed_form": float(cf["expected_var"][-1]), "verdict_bias": bias},
            "n_var_of_mean": {"mc": vm, "closed_form": float(n * cf["var_of_mean"][-1]), "verdict_variance": var}}


# ---- output -------------------------------------------------------------------------------------
def _fmt(m, h) -> str:
    return f"{m:.4g} ± {h:.2g}" if math.isfinite(h) else f"{m:.4g}"


def print_setup(name: str, setup: dict, summary: dict, per_seed: Dict[int, dict]) -> None:
    step = "stage" if setup["kind"] == "bootstrap" else "experience"
    secs = [r["seconds"] for r in per_seed.values()]
    cpu = [r["cpu_seconds"] for r in per_seed.values()]
    print(f"\n## {name} ({setup['findings']}; seeds {sorted(per_seed)}; mean ± 95 % half-width; "
          f"{np.mean(secs):.0f} s wall, {np.mean(cpu):.0f} s CPU per seed)")
    for metric, s in summary.items():
        if metric.split("_")[0] not in SHOWN:
            continue
        vals = "  ".join(_fmt(m, h) for m, h in zip(s["mean"], s["ci95"]))
        v = f"   slope {_fmt(s['slope'], s['slope_ci95'])} per {step}"
        if s["verdict"]:
            v += f" -> {'grows' if s['direction'] > 0 else 'falls'}: {s['verdict']}"
        print(f"  {metric:<22} {vals}\n  {'':<22}{v}")


def markdown(report: dict) -> str:
    """The tables of ``report`` as Markdown (``summary.md``, pasted into docs/REPRODUCTION.md)."""
    lines = [f"Preset `{report['preset']}`, seeds {report['seeds']}; cells: mean ± 95 % half-width over seeds."]
    for name, r in report["setups"].items():
        summary = r["summary"]
        steps = max(len(s["mean"]) for s in summary.values())
        lines += ["", f"### {name} ({r['findings']})", "",
                  "| metric | " + " | ".join(str(k) for k in range(steps)) + " | slope per step | verdict |",
                  "|---" * (steps + 3) + "|"]
        for metric, s in summary.items():
            if metric.split("_")[0] not in SHOWN:
                continue
            cells = [_fmt(m, h) for m, h in zip(s["mean"], s["ci95"])] + [""] * (steps - len(s["mean"]))
            verdict = f"{'grows' if s['direction'] > 0 else 'falls'}: {s['verdict']}" if s["verdict"] else ""
            lines.append(f"| {metric} | " + " | ".join(cells) + f" | {_fmt(s['slope'], s['slope_ci95'])} | {verdict} |")
    ev, vm = report["F4"]["expected_var"], report["F4"]["n_var_of_mean"]
    lines += ["", f"### F4: Gaussian MLE, n={report['F4']['n']}, t={report['F4']['t']}", "",
              "| quantity | Monte Carlo | closed form | verdict |", "|---|---|---|---|",
              f"| E[fitted variance] / sigma^2 | {_fmt(*ev['mc'])} | {ev['closed_form']:.4f} | "
              f"bias: {ev['verdict_bias']} |",
              f"| n Var[fitted mean] / sigma^2 | {_fmt(*vm['mc'])} | {vm['closed_form']:.4f} | "
              f"added variance: {vm['verdict_variance']} |"]
    return "\n".join(lines) + "\n"


def figure(name: str, setup: dict, summary: dict, path: Path) -> None:
    from matplotlib.figure import Figure

    keys = [k for k in summary if k.split("_")[0] in ("FID", "CFID", "OTDD", "RealAccAboveChance", "AccSeen")]
    fig = Figure(figsize=(3.2 * len(keys), 2.8))
    for i, k in enumerate(keys, 1):
        ax = fig.add_subplot(1, len(keys), i)
        m, h = np.asarray(summary[k]["mean"]), np.nan_to_num(np.asarray(summary[k]["ci95"]))
        x = np.arange(len(m))
        ax.plot(x, m, marker="o")
        ax.fill_between(x, m - h, m + h, alpha=0.25)
        ax.set_title(k, fontsize=9)
        ax.set_xlabel("stage" if setup["kind"] == "bootstrap" else "experience")
        ax.set_xticks(x)
    fig.suptitle(f"{name}: mean and 95 % interval over seeds", fontsize=10, y=1.04)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90, bbox_inches="tight")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--preset", default="cpu-small", choices=("tiny", "cpu-small", "paper"))
    p.add_argument("--device", default="cpu")
    p.add_argument("--data-root", help="where CIFAR-100 / Flowers102 live (adds their setups)")
    p.add_argument("--gmm-stages", type=int, default=10)
    p.add_argument("--digits-stages", type=int, default=5)
    p.add_argument("--setups", nargs="+", help="run only these setups")
    p.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1), help="parallel jobs")
    p.add_argument("--threads", type=int, default=1, help="torch threads per job")
    p.add_argument("--out", default="runs/reproduce_paper")
    a = p.parse_args()

    out = Path(a.out)
    setups = {k: v for k, v in _setups(a).items() if not a.setups or k in a.setups}
    t0 = time.perf_counter()
    jobs = {}
    with ProcessPoolExecutor(max_workers=a.workers, mp_context=get_context("spawn")) as pool:
        for name, setup in setups.items():
            for seed in a.seeds:
                cfg = {**setup["cfg"], "preset": a.preset, "seed": seed, "device": a.device, "progress": False}
                if setup["kind"] == "replay":
                    cfg["umap"] = seed == a.seeds[0]  # UMAP panels for one seed (for the docs)
                jobs[(name, seed)] = pool.submit(run_job, setup["kind"], cfg, str(out / f"{name}_seed{seed}"),
                                                 a.threads)
        results = {}
        for (name, seed), fut in jobs.items():
            results.setdefault(name, {})[seed] = fut.result()
            print(f"done: {name} seed {seed} ({results[name][seed]['seconds']:.0f} s)", flush=True)

    report = {"preset": a.preset, "seeds": a.seeds, "setups": {}}
    print(f"\n# Findings of arXiv 2512.11867 re-measured (preset {a.preset}, seeds {a.seeds})")
    for name, setup in setups.items():
        summary = summarise(results[name])
        print_setup(name, setup, summary, results[name])
        figure(name, setup, summary, out / "figures" / f"{name}.png")
        report["setups"][name] = {"findings": setup["findings"], "summary": summary,
                                  "per_seed": {str(s): r for s, r in results[name].items()}}
    f4 = theory_f4(a.seeds)
    report["F4"] = f4
    print(f"\n## F4: Gaussian MLE bootstrapping, n={f4['n']}, t={f4['t']}, {f4['n_runs']} chains per seed, sigma^2 = 1")
    ev, vm = f4["expected_var"], f4["n_var_of_mean"]
    print(f"  E[fitted variance]  MC {_fmt(*ev['mc'])}  closed form {ev['closed_form']:.4f}  "
          f"(1 = unbiased) -> bias: {ev['verdict_bias']}")
    print(f"  n Var[fitted mean]  MC {_fmt(*vm['mc'])}  closed form {vm['closed_form']:.4f}  "
          f"(1 = one fit) -> added variance: {vm['verdict_variance']}")

    verdicts = {}
    for name, r in report["setups"].items():
        for metric, s in r["summary"].items():
            if s["verdict"]:
                verdicts.setdefault(r["findings"], []).append(f"{name}:{metric}={s['verdict']}")
    print("\n# Verdicts (from the slope intervals)")
    for findings, vs in verdicts.items():
        print(f"  {findings}: " + ", ".join(vs))
    print(f"  F4: bias {ev['verdict_bias']}, variance {vm['verdict_variance']}")
    report["seconds"] = time.perf_counter() - t0
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(report, indent=1, default=float))
    (out / "summary.md").write_text(markdown(report))
    print(f"\ntotal {report['seconds'] / 60:.1f} min wall; results: {out / 'results.json'}; figures: {out / 'figures'}")


if __name__ == "__main__":
    main()

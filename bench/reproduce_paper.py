"""Re-measure the findings of "On the Dangers of Bootstrapping Generation for Continual Learning and
Beyond" (arXiv 2512.11867) on the embedded data, over seeds, with 95 % intervals, judged on the drift
BEYOND the real-vs-real floor and on fixed class sets (docs/REPRODUCTION.md, docs/DRIFT_FLOOR.md):

- F1: FID, CFID and OTDD grow with the retraining stages (GMM toy WGAN loop, Split Digits DDPM
  loop): the trend of their excess over the floor (same n, classes and features; all classes at
  every stage);
- F2: the accuracy of a classifier trained on synthetic data (RealAcc) falls toward chance: beside
  its ceiling (the same classifier on as many real images) and chance; per seed the slope, a fitted
  exponential approach to a plateau and the first stage whose Wilson interval reaches chance;
- F3: DDGR (as published, guidance 1) and GAN Memory do not prevent drift of the replayed data:
  the trend of the CFID excess over the floor on the cohort of experience 0 (its classes at every
  experience; ``metrics.cohorts``), for DDGR's replays, its generator alone (``_unguided``), the
  unguided recipe ``dgr-ddpm`` and GAN Memory;
- F4: bootstrapping adds bias and variance to maximum-likelihood estimates (Gaussian MLE Monte Carlo
  against the closed forms of ``bootstrap.theory``).

Trend verdicts: per seed the least-squares slope over stages (experiences); across seeds the mean
slope and its 95 % t-interval: "holds" when it excludes 0 on the finding's side, "does not hold" on
the other, "mixed" otherwise (t quantile 4.30 at 3 seeds).

    python bench/reproduce_paper.py --seeds 0 1 2 --doc docs/REPRODUCTION.md   # the doc page, one invocation
    python bench/reproduce_paper.py --seeds 0 --preset tiny --out /tmp/rp --doc /tmp/rp/PAGE.md   # smoke run
    python bench/reproduce_paper.py --seeds 0 1 2 --preset paper --device cuda --data-root ~/data
        # adds the Flowers102 (64x64) DDPM loop and Split CIFAR-100 DDGR where the files exist

Writes under --out (default runs/reproduce_paper): one run directory per (setup, seed), ``results.json``
(the commit, command, resolved configs, every curve of every seed, summaries and verdicts),
``summary.md`` (the same header and tables as the page) and ``figures/<setup>.png``. Jobs run in a
pool of --workers processes (spawned), one torch thread each; a run directory that exists is resumed.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import resource
import shlex
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Dict, List, Optional

import numpy as np

# Distance families judged on their excess over the floor (finding: "grows").
DISTANCES = ("FID", "CFID", "OTDD")
# Families shown in the per-step tables (results.json keeps every curve, bounds included).
SHOWN = DISTANCES + ("KID", "RealAcc", "RealAccChance", "RealAccAboveChance", "AccSeen", "ModesCovered",
                     "HighQuality", "cohort0:CFID")
COHORT = "cohort0:"  # prefix of the cohort-0 curves of a replay run
#: cohort-0 heads of a replay run: the replays and the generator alone
COHORT_HEADS = ("CFID_clf", "CFID_clf_unguided")
# Cohort curves' qualifiers: value, its floor, the excess and the excess's interval.
COHORT_PARTS = ("", "_floor", "_excess", "_excess_lo", "_excess_hi")


def _setups(a) -> Dict[str, dict]:
    tiny = a.preset == "tiny"
    exp = 3 if tiny else 5
    s = {
        # the longest jobs first, so that the workers finish together
        "digits_ddpm_loop": dict(kind="bootstrap", findings="F1 F2", cfg=dict(
            generator="ddpm", data="digits", stages=3 if tiny else a.digits_stages,
            floor_n=20 if tiny else a.digits_floor_n, intervals=a.intervals)),
        "gmm_wgan_loop": dict(kind="bootstrap", findings="F1 F2", cfg=dict(
            generator="wgan", data="gmm", stages=3 if tiny else a.gmm_stages, floor_n=40 if tiny else a.gmm_floor_n,
            intervals=a.intervals)),
        # DDGR as published (guidance 1.0); its generator alone is logged beside (``_unguided``)
        "digits_ddgr_replay": dict(kind="replay", findings="F3", cfg=dict(
            strategy="ddgr", guidance_scale=1.0, benchmark="digits", experiences=exp)),
        # the unguided recipe: DDGR's DDPM replay without the solver's guidance, as its own run
        "digits_dgr_ddpm_replay": dict(kind="replay", findings="F3", cfg=dict(
            strategy="dgr-ddpm", benchmark="digits", experiences=exp)),
        "digits_gan_memory_replay": dict(kind="replay", findings="F3", cfg=dict(
            strategy="gan-memory", benchmark="digits", experiences=exp)),
    }
    if a.data_root:
        s["flowers102_ddpm_loop"] = dict(kind="bootstrap", findings="F1 F2", cfg=dict(
            generator="ddpm", data="flowers102", stages=a.digits_stages, data_root=a.data_root,
            floor_n=a.digits_floor_n, intervals=a.intervals))
        s["cifar100_ddgr_replay"] = dict(kind="replay", findings="F3", cfg=dict(
            strategy="ddgr", guidance_scale=1.0, benchmark="cifar100", experiences=5, data_root=a.data_root))
    return s


def cpu_seconds(who=resource.RUSAGE_SELF) -> float:
    """User + system CPU seconds of this process (or of its finished children): every bench's cost."""
    r = resource.getrusage(who)
    return r.ru_utime + r.ru_stime


def commit_info() -> dict:
    """The checkout's commit and whether it has uncommitted changes (``dirty``)."""
    root = Path(__file__).resolve().parents[1]

    def git(*args):
        try:
            return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=True).stdout.strip()
        except (OSError, subprocess.CalledProcessError):
            return None

    sha = git("rev-parse", "HEAD")
    status = git("status", "--porcelain", "--untracked-files=no")
    return {"sha": sha, "short": sha[:7] if sha else None, "dirty": None if status is None else bool(status)}


def command_line(script: str, argv=None) -> str:
    """How this invocation is typed: ``python <script> <arguments>``, shell-quoted (``argv``: the
    arguments, default ``sys.argv[1:]``)."""
    return shlex.join(["python", script, *(sys.argv[1:] if argv is None else argv)])


def provenance(commit: dict, command: str) -> str:
    """The line a script prints before its tables: the commit (and whether it was dirty) and the command."""
    return f"commit {commit['short']}{' (dirty: uncommitted changes)' if commit['dirty'] else ''}; command: {command}"


def resolved_config(kind: str, cfg: dict) -> dict:
    """The config a job runs with, every preset default filled in (what its ``config.json`` records)."""
    from bootdrift_avalanche.experiments.config import BootstrapConfig, ReplayConfig, resolve

    return dataclasses.asdict(resolve((BootstrapConfig if kind == "bootstrap" else ReplayConfig)(**cfg)))


def cohort0_curves(table: dict):
    """Cohort 0's curves (``cohort0:CFID_clf_excess``...) from the run's metric table, and its classes."""
    from bootdrift_avalanche.metrics.cohorts import cohort_curves
    from bootdrift_avalanche.metrics.qualifiers import FLOOR, UNGUIDED, qualified
    from bootdrift_avalanche.tags import TAG_SUFFIX

    out: Dict[str, List[float]] = {}
    classes: List[str] = []
    for head in COHORT_HEADS:
        t = table
        if head.endswith(UNGUIDED):  # the generator alone is compared with the replay's floor, logged once
            floor = qualified(head[: -len(UNGUIDED)], FLOOR)
            t = {**table, **{qualified(k, UNGUIDED): v for k, v in table.items() if k.partition("/")[0] == floor}}
        curves = cohort_curves(t, head)
        if not curves:
            continue
        k0 = min(curves)
        pts = curves[k0]
        steps = range(max(pts) + 1)
        nan = float("nan")

        def get(x, attr):
            v = getattr(pts[x], attr) if x in pts else None
            return nan if v is None else float(v)

        for part, attr in zip(COHORT_PARTS, ("value", "floor", "excess", "lo", "hi")):
            out[f"{COHORT}{head}{part}"] = [get(x, attr) for x in steps]
        if not classes:
            prefix = f"{head}{TAG_SUFFIX}/"
            classes = sorted(k[len(prefix):] for k, v in table.items() if k.startswith(prefix) and v and min(v) == k0)
    return out, classes


def run_job(kind: str, cfg: dict, run_dir: str, threads: int) -> dict:
    """One (setup, seed) in this process: ``{"curves": {name: [value per step]}, "seconds", ...}``."""
    from bootdrift_avalanche.runtime.threads import configure_threads

    configure_threads(cfg.get("device", "cpu"), threads)
    t0, c0 = time.perf_counter(), cpu_seconds()
    resume = (Path(run_dir) / "config.json").exists()  # an interrupted bench continues where it stopped
    classes = None
    if kind == "bootstrap":
        from bootdrift_avalanche.experiments.bootstrap import run_bootstrap_experiment
        from bootdrift_avalanche.experiments.config import BootstrapConfig

        res = run_bootstrap_experiment(BootstrapConfig(**cfg), run_dir, resume=resume)
        names = sorted({k for st in res.stages for k in st if "/Class" not in k})
        curves = {k: res.curve(k) for k in names}
        classes = sorted({k.split("/Class")[1] for k in res.stages[0] if k.startswith("CFID_") and "/Class" in k})
        classes = [f"Class{c}" for c in classes]
    else:
        from bootdrift_avalanche.experiments.config import ReplayConfig
        from bootdrift_avalanche.experiments.replay import run_replay
        from bootdrift_avalanche.logging import metric_table, read_metrics

        out = run_replay(ReplayConfig(**cfg), run_dir, resume=resume)
        steps = range(len(out.accuracy_matrix))
        curves = {k: [v.get(s, float("nan")) for s in steps] for k, v in out.drift.items() if "/Class" not in k}
        curves["AccSeen"] = [sum(r[: k + 1]) / (k + 1) for k, r in enumerate(out.accuracy_matrix)]
        cohort, classes = cohort0_curves(metric_table(read_metrics(Path(run_dir) / "metrics.jsonl")))
        curves.update(cohort)
    # RealAcc's chance level falls as classes are added in the replay runs: judge the accuracy's
    # share of the way from chance to perfect instead, (acc - chance) / (1 - chance).
    for suffix in ("", "_unguided"):
        acc, chance = curves.get(f"RealAcc{suffix}"), curves.get("RealAccChance")
        if acc is not None and chance is not None:
            curves[f"RealAccAboveChance{suffix}"] = [(a - c) / (1 - c) for a, c in zip(acc, chance)]
    return {"curves": curves, "classes": classes, "resumed": resume,
            "seconds": time.perf_counter() - t0, "cpu_seconds": cpu_seconds() - c0}


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


#: A mean slope and half-width below this together are rounding of a flat curve, not a sign.
FLAT = 1e-12


def interval_verdict(m: float, h: float, direction: int) -> str:
    """A finite interval ``m ± h`` judged against 0: "holds" when it excludes 0 on the finding's side
    (``direction`` +1: "grows", -1: "falls"), "does not hold" on the other side or when it is flat
    (``|m| + h < FLAT``: rounding, no sign), "mixed" otherwise."""
    if abs(m) + h < FLAT:
        return "does not hold"
    lo, hi = m - h, m + h
    if (direction > 0 and lo > 0) or (direction < 0 and hi < 0):
        return "holds"
    if (direction > 0 and hi < 0) or (direction < 0 and lo > 0):
        return "does not hold"
    return "mixed"


def trend(slopes, direction: int):
    """(mean slope, 95 % half-width, verdict) of the slopes over seeds (:func:`interval_verdict`)."""
    m, h = t_interval(slopes)
    if not math.isfinite(h):
        return m, h, "mixed (too few seeds for an interval)"
    return m, h, interval_verdict(m, h, direction)


def summarise(per_seed: Dict[int, dict]) -> dict:
    """Per curve: mean and 95 % half-width over seeds per step, and the slope interval."""
    names = sorted(set.intersection(*(set(r["curves"]) for r in per_seed.values())))
    out = {}
    for name in names:
        curves = [r["curves"][name] for r in per_seed.values()]
        steps = min(len(c) for c in curves)
        per_step = [t_interval([c[s] for c in curves]) for s in range(steps)]
        m, h = t_interval([slope(c[:steps]) for c in curves])
        out[name] = {"mean": [p[0] for p in per_step], "ci95": [p[1] for p in per_step], "slope": m, "slope_ci95": h}
    return out


def exp_plateau(curve) -> tuple:
    """(plateau, rate) of ``y = plateau + a·exp(-rate·t)`` fitted to ``curve`` (nan where it does not fit)."""
    from scipy.optimize import curve_fit

    y = np.asarray(curve, dtype=float)
    t = np.arange(len(y), dtype=float)
    ok = np.isfinite(y)
    if ok.sum() < 4:
        return float("nan"), float("nan")
    try:
        (p, a, k), _ = curve_fit(lambda t, p, a, k: p + a * np.exp(-k * t), t[ok], y[ok],
                                 p0=(y[ok][-1], y[ok][0] - y[ok][-1], 0.3), bounds=([-1.0, -2.0, 0.0], [2.0, 2.0, 5.0]),
                                 maxfev=5000)
    except (RuntimeError, ValueError):
        return float("nan"), float("nan")
    return float(p), float(k)


def f2_analysis(per_seed: Dict[int, dict], acc: str = "RealAcc") -> Optional[dict]:
    """RealAcc's course over the stages: slope, late slope (last half), fitted plateau and rate, the
    first stage whose Wilson interval reaches chance, with the ceiling and chance; a verdict."""
    runs = [r["curves"] for r in per_seed.values()]
    if not all(acc in c and "RealAccChance" in c for c in runs):
        return None
    n = min(len(c[acc]) for c in runs)
    chance = t_interval([c["RealAccChance"][0] for c in runs])[0]
    fits = [exp_plateau(c[acc][:n]) for c in runs]
    late = max(3, n - n // 2)
    reach = []
    for c in runs:
        lo = c.get(f"{acc}_lo", c[acc])
        hit = [s for s in range(n) if lo[s] <= c["RealAccChance"][s]]
        reach.append(hit[0] if hit else float("nan"))
    res = {"stages": n, "chance": chance,
           "first": t_interval([c[acc][0] for c in runs]), "last": t_interval([c[acc][n - 1] for c in runs]),
           "ceiling": t_interval([c["RealAcc_ceiling"][0] for c in runs]) if all("RealAcc_ceiling" in c for c in runs)
           else (float("nan"), float("nan")),
           "slope": t_interval([slope(c[acc][:n]) for c in runs]),
           "late_slope": t_interval([slope(c[acc][n - late:n]) for c in runs]) if n >= 3 else (float("nan"),) * 2,
           "plateau": t_interval([f[0] for f in fits]), "rate": t_interval([f[1] for f in fits]),
           "stage_at_chance": t_interval(reach), "seeds_at_chance": sum(math.isfinite(r) for r in reach)}
    sl, sh = res["slope"]
    ll, lh = res["late_slope"]
    pm, ph = res["plateau"]
    if len(runs) < 2:
        v = "undetermined (too few seeds for an interval)"
    elif res["seeds_at_chance"] == len(runs):
        v = f"heads to chance: every seed's interval reaches it, at stage {_fmt(*res['stage_at_chance'])}"
    elif not (math.isfinite(sh) and sl + sh < 0):
        v = "does not fall (slope interval not below 0)"
    elif math.isfinite(lh) and ll - lh <= 0 <= ll + lh and math.isfinite(ph) and pm - ph > chance:
        v = f"plateaus above chance: fitted plateau {_fmt(pm, ph)} (chance {chance:.2f}), late slope holds 0"
    elif math.isfinite(ph) and pm - ph <= chance:
        v = (f"heads to chance: falls {_fmt(sl, sh)} per stage, fitted plateau {_fmt(pm, ph)} "
             f"holds chance {chance:.2f}")
    else:
        v = (f"falls {_fmt(sl, sh)} per stage (late {_fmt(ll, lh)}), fitted plateau {_fmt(pm, ph)}, "
             f"rate {_fmt(*res['rate'])} per stage; not resolved")
    res["verdict"] = v
    return res


def _feature_ext(names) -> str:
    for k in names:
        if k.startswith("FID_") and "/" not in k:
            return k.split("_")[1]
    return "clf"


def verdict_rows(name: str, setup: dict, per_seed: Dict[int, dict], summary: dict) -> List[dict]:
    """The verdict rows of one setup: per judged curve (an excess over the floor, on a fixed class
    set) the first and last step, the last step's excess interval over seeds and within runs, the
    slope interval and the verdict."""
    rows = []
    seeds = sorted(per_seed)
    if setup["kind"] == "bootstrap":
        ext = _feature_ext(summary)
        classes = per_seed[seeds[0]]["classes"]
        n = setup["resolved"][seeds[0]].get("floor_n")
        cls = f"all {len(classes)} classes at every stage, n = {n} per class" if classes else f"all classes, n = {n}"
        judged = [(f"{m}_{ext}_excess", +1, cls) for m in DISTANCES]
    else:
        judged = []
        for head in COHORT_HEADS:
            what = "replays" if not head.endswith("_unguided") else "generator alone (_unguided)"
            sets = "; ".join(f"seed {s}: {', '.join(per_seed[s]['classes'])}" for s in seeds)
            judged.append((f"{COHORT}{head}_excess", +1, f"cohort 0 ({what}), its classes at every experience: {sets}"))
    judged.append(("RealAccAboveChance", -1, "all classes" if setup["kind"] == "bootstrap" else
                   "classes seen so far (not a fixed set: chance falls as they grow)"))
    for metric, direction, cls in judged:
        if metric not in summary:
            continue
        s = summary[metric]
        m, h, verdict = trend([slope(per_seed[k]["curves"][metric]) for k in seeds], direction)
        last = len(s["mean"]) - 1
        within = [(per_seed[k]["curves"].get(f"{metric}_hi", [math.nan] * (last + 1))[last]
                   - per_seed[k]["curves"].get(f"{metric}_lo", [math.nan] * (last + 1))[last]) / 2 for k in seeds]
        finding = "F3" if setup["kind"] == "replay" else "F2" if metric.startswith("RealAcc") else "F1"
        rows.append({"finding": finding, "setup": name, "metric": metric, "class_set": cls,
                     "first": (s["mean"][0], s["ci95"][0]), "last": (s["mean"][last], s["ci95"][last]),
                     "excess_last": (s["mean"][last], s["ci95"][last]) if "excess" in metric else None,
                     "excess_within": t_interval(within)[0] if "excess" in metric else None,
                     "slope": (m, h), "direction": direction,
                     "verdict": f"{'grows' if direction > 0 else 'falls'}: {verdict}"})
    return rows


def guidance_rows(per_seed: Dict[int, dict]) -> List[dict]:
    """DDGR's replays minus its generator alone: cohort 0's CFID excess averaged over experiences, per seed."""
    g, u = f"{COHORT}CFID_clf_excess", f"{COHORT}CFID_clf_unguided_excess"
    if not all(g in r["curves"] and u in r["curves"] for r in per_seed.values()):
        return []
    diffs = [float(np.nanmean(np.asarray(r["curves"][g]) - np.asarray(r["curves"][u]))) for r in per_seed.values()]
    m, h = t_interval(diffs)
    v = "mixed" if not math.isfinite(h) else interval_verdict(m, h, +1)
    return [{"per_seed": diffs, "mean": (m, h), "verdict": f"guidance increases the drift: {v}"}]


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
def _fmt(m, h=float("nan")) -> str:
    if m is None or not math.isfinite(m):
        return "n/a"
    return f"{m:.4g} ± {h:.2g}" if h is not None and math.isfinite(h) else f"{m:.4g}"


def _shown(metric: str) -> bool:
    from bootdrift_avalanche.metrics.qualifiers import HI, LO, qualifiers_of

    head = metric[len(COHORT):] if metric.startswith(COHORT) else metric
    if LO in qualifiers_of(head) or HI in qualifiers_of(head) or head.endswith(("_excess_lo", "_excess_hi")):
        return False
    fam = (COHORT + head.split("_")[0]) if metric.startswith(COHORT) else head.split("_")[0]
    return fam in SHOWN


def header(report: dict) -> List[str]:
    """The page's fixed prose: what produced it (command, commit, time) and how to read it."""
    c = report["commit"]
    dirty = " with uncommitted changes (dirty)" if c["dirty"] else ""
    resumed = sum(r.get("resumed", False) for st in report["setups"].values() for r in st["per_seed"].values())
    jobs = sum(len(st["per_seed"]) for st in report["setups"].values())
    return [
        "# Reproducing the findings of \"On the Dangers of Bootstrapping Generation for Continual Learning "
        "and Beyond\"",
        "",
        "This page is written, whole, by one invocation of `bench/reproduce_paper.py` (do not edit it by hand):",
        "",
        f"    {report['command']}",
        "",
        f"at commit `{c['sha']}`{dirty}; preset `{report['preset']}`, seeds {report['seeds']}. That invocation took "
        f"{report['seconds'] / 60:.1f} min wall and {report['cpu_seconds'] / 60:.1f} min CPU (this process and its "
        f"workers, user + sys) on {report['machine']}"
        + (f"; {resumed} of {jobs} jobs resumed finished runs of an earlier invocation (their time is not in it)."
           if resumed else "."),
        "The resolved configuration of every setup is in the invocation's `results.json` (`configs`).",
        "",
        "How to read it. Distances (FID, CFID, OTDD) are judged by their **excess over the real-vs-real floor**",
        "(the same metric, n, classes and features between the real reference and a second real set;",
        "docs/DRIFT_FLOOR.md), on a **fixed class set**: all classes at every stage for the loops, the cohort of",
        "experience 0 (its classes at every experience; `metrics.cohorts`) for the replay runs. Trend verdict: per",
        "seed the least-squares slope over stages (experiences), across seeds the mean slope and its 95 %",
        "t-interval; **holds** when it excludes 0 on the finding's side, **does not hold** on the other side,",
        "**mixed** otherwise. RealAcc (a classifier trained on the synthetic data, tested on real data) stands",
        "beside its ceiling (the same classifier trained on as many real images) and chance. Cells: mean ± 95 %",
        "t half-width over seeds; \"within-run ±\" is the mean half-width of a run's own bootstrap interval.",
    ]


def _provenance(report: dict, name: Optional[str] = None) -> str:
    """The line under every table: which commit and command made it, and where its config is."""
    c = report["commit"]
    where = f"`configs.{name}`" if name else "`configs`"
    return (f"Commit `{c['short']}`{' (dirty)' if c['dirty'] else ''}, `{report['command']}`; resolved "
            f"configuration: {where} in `results.json`.")


def verdict_table(report: dict) -> List[str]:
    lines = ["## Verdicts", "", _provenance(report), "",
             "| finding | setup | judged on | class set | first step | last step | excess beyond the floor, last step "
             "| within-run ± | slope per step | verdict |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in report["verdicts"]:
        ex = _fmt(*r["excess_last"]) if r["excess_last"] else "n/a"
        within = _fmt(r["excess_within"]) if r["excess_within"] is not None else "n/a"
        lines.append(f"| {r['finding']} | {r['setup']} | {r['metric']} | {r['class_set']} | {_fmt(*r['first'])} | "
                     f"{_fmt(*r['last'])} | {ex} | {within} | {_fmt(*r['slope'])} | {r['verdict']} |")
    f2 = [(k, v["F2"]) for k, v in report["setups"].items() if v.get("F2")]
    if f2:
        lines += ["", "### F2: RealAcc over the stages", "",
                  "| setup | stages | RealAcc, stage 0 | RealAcc, last | ceiling | chance | slope per stage | "
                  "late slope | fitted plateau | fitted rate | stage at chance (seeds reaching it) | verdict |",
                  "|---|---|---|---|---|---|---|---|---|---|---|---|"]
        for k, a in f2:
            cells = [k, str(a["stages"]), _fmt(*a["first"]), _fmt(*a["last"]), _fmt(*a["ceiling"]),
                     f"{a['chance']:.3g}", _fmt(*a["slope"]), _fmt(*a["late_slope"]), _fmt(*a["plateau"]),
                     _fmt(*a["rate"]), f"{_fmt(*a['stage_at_chance'])} ({a['seeds_at_chance']})", a["verdict"]]
            lines.append("| " + " | ".join(cells) + " |")
    g = [(k, v["guidance"]) for k, v in report["setups"].items() if v.get("guidance")]
    if g:
        lines += ["", "### DDGR: replays minus generator alone (cohort-0 CFID excess, mean over experiences)", "",
                  "| setup | per seed | mean | verdict |", "|---|---|---|---|"]
        for k, rows in g:
            for r in rows:
                lines.append(f"| {k} | {', '.join(f'{d:+.3g}' for d in r['per_seed'])} | {_fmt(*r['mean'])} | "
                             f"{r['verdict']} |")
    return lines


def markdown(report: dict) -> str:
    """The page: the fixed header, the verdicts, every setup's per-step table and F4 (``summary.md``;
    ``--doc`` writes it with the figures beside it)."""
    lines = header(report) + [""] + verdict_table(report)
    lines += ["", "## Every value", "", f"Preset `{report['preset']}`, seeds {report['seeds']}; "
              "cells: mean ± 95 % half-width over seeds."]
    for name, r in report["setups"].items():
        summary = r["summary"]
        steps = max(len(s["mean"]) for s in summary.values())
        lines += ["", f"### {name} ({r['findings']})", "", _provenance(report, name), "",
                  f"![{name}](reproduction/{name}.png)", "",
                  "| metric | " + " | ".join(str(k) for k in range(steps)) + " | slope per step |",
                  "|---" * (steps + 2) + "|"]
        for metric, s in summary.items():
            if not _shown(metric):
                continue
            cells = [_fmt(m, h) for m, h in zip(s["mean"], s["ci95"])] + [""] * (steps - len(s["mean"]))
            lines.append(f"| {metric} | " + " | ".join(cells) + f" | {_fmt(s['slope'], s['slope_ci95'])} |")
    ev, vm = report["F4"]["expected_var"], report["F4"]["n_var_of_mean"]
    lines += ["", f"### F4: Gaussian MLE, n={report['F4']['n']}, t={report['F4']['t']}", "",
              "| quantity | Monte Carlo | closed form | verdict |", "|---|---|---|---|",
              f"| E[fitted variance] / sigma^2 | {_fmt(*ev['mc'])} | {ev['closed_form']:.4f} | "
              f"bias: {ev['verdict_bias']} |",
              f"| n Var[fitted mean] / sigma^2 | {_fmt(*vm['mc'])} | {vm['closed_form']:.4f} | "
              f"added variance: {vm['verdict_variance']} |"]
    lines += ["", "## Cost per job", "", "| setup | seed | wall s | CPU s | resumed |", "|---|---|---|---|---|"]
    for name, r in report["setups"].items():
        for seed, j in r["per_seed"].items():
            lines.append(f"| {name} | {seed} | {j['seconds']:.0f} | {j['cpu_seconds']:.0f} | "
                         f"{j.get('resumed', False)} |")
    return "\n".join(lines) + "\n"


def figure(name: str, setup: dict, summary: dict, path: Path) -> None:
    from matplotlib.figure import Figure

    keys = [k for k in summary if k.endswith("_excess") or k in ("RealAcc", "RealAccAboveChance", "AccSeen")]
    if not keys:
        return
    fig = Figure(figsize=(3.2 * len(keys), 2.8))
    for i, k in enumerate(keys, 1):
        ax = fig.add_subplot(1, len(keys), i)
        m, h = np.asarray(summary[k]["mean"]), np.nan_to_num(np.asarray(summary[k]["ci95"]))
        x = np.arange(len(m))
        ax.plot(x, m, marker="o")
        ax.fill_between(x, m - h, m + h, alpha=0.25)
        if k.endswith("_excess"):
            ax.axhline(0.0, color="grey", lw=0.8)
        if k == "RealAcc" and "RealAcc_ceiling" in summary:
            ax.plot(x, summary["RealAcc_ceiling"]["mean"][: len(x)], ls="--", color="green", label="ceiling")
            ax.plot(x, summary["RealAccChance"]["mean"][: len(x)], ls=":", color="red", label="chance")
            ax.legend(fontsize=7)
        ax.set_title(k, fontsize=8)
        ax.set_xlabel("stage" if setup["kind"] == "bootstrap" else "experience")
    fig.suptitle(f"{name}: mean and 95 % interval over seeds", fontsize=10, y=1.04)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90, bbox_inches="tight")


def print_setup(name: str, setup: dict, summary: dict, per_seed: Dict[int, dict]) -> None:
    step = "stage" if setup["kind"] == "bootstrap" else "experience"
    secs = [r["seconds"] for r in per_seed.values()]
    cpu = [r["cpu_seconds"] for r in per_seed.values()]
    print(f"\n## {name} ({setup['findings']}; seeds {sorted(per_seed)}; mean ± 95 % half-width; "
          f"{np.mean(secs):.0f} s wall, {np.mean(cpu):.0f} s CPU per seed)")
    for metric, s in summary.items():
        if _shown(metric):
            vals = "  ".join(_fmt(m, h) for m, h in zip(s["mean"], s["ci95"]))
            print(f"  {metric:<30} {vals}   slope {_fmt(s['slope'], s['slope_ci95'])} per {step}")


def build_report(a, setups: dict, results: dict, commit: dict, command: str) -> dict:
    report = {"commit": commit, "command": command, "preset": a.preset, "seeds": a.seeds,
              "machine": a.machine, "configs": {}, "setups": {}, "verdicts": []}
    for name, setup in setups.items():
        summary = summarise(results[name])
        report["configs"][name] = {str(s): c for s, c in setup["resolved"].items()}
        entry = {"kind": setup["kind"], "findings": setup["findings"], "summary": summary,
                 "per_seed": {str(s): r for s, r in results[name].items()}}
        report["verdicts"] += verdict_rows(name, setup, results[name], summary)
        if setup["kind"] == "bootstrap":
            entry["F2"] = f2_analysis(results[name])
        else:
            entry["guidance"] = guidance_rows(results[name])
        report["setups"][name] = entry
    report["F4"] = theory_f4(a.seeds)
    return report


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--preset", default="cpu-small", choices=("tiny", "cpu-small", "paper"))
    p.add_argument("--device", default="cpu")
    p.add_argument("--data-root", help="where CIFAR-100 / Flowers102 live (adds their setups)")
    p.add_argument("--gmm-stages", type=int, default=10)
    p.add_argument("--digits-stages", type=int, default=15, help="stages of the digits loop (F2 needs many)")
    p.add_argument("--gmm-floor-n", type=int, default=200,
                   help="GMM loop: points per class of the floor's second real set (and of the distances)")
    p.add_argument("--digits-floor-n", type=int, default=30,
                   help="digits loop: images per class of the floor's second real set (and of the distances)")
    p.add_argument("--intervals", type=int, default=12, help="bootstrap replicates of the loops' intervals")
    p.add_argument("--setups", nargs="+", help="run only these setups")
    p.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1), help="parallel jobs")
    p.add_argument("--threads", type=int, default=1, help="torch threads per job")
    p.add_argument("--out", default="runs/reproduce_paper")
    p.add_argument("--doc", help="also write the whole page here (e.g. docs/REPRODUCTION.md), figures beside it "
                                 "in reproduction/")
    p.add_argument("--machine", default=f"{os.cpu_count()} CPU cores", help="the machine, in words, for the page")
    a = p.parse_args(argv)
    command = command_line(os.path.relpath(__file__), argv)
    commit = commit_info()

    out = Path(a.out)
    all_setups = _setups(a)
    unknown = sorted(set(a.setups or ()) - set(all_setups))
    if unknown:
        p.error(f"unknown setups {unknown}; choose from {', '.join(all_setups)}")
    setups = {k: v for k, v in all_setups.items() if not a.setups or k in a.setups}
    t0, c0, cc0 = time.perf_counter(), cpu_seconds(), cpu_seconds(resource.RUSAGE_CHILDREN)
    jobs = {}
    for name, setup in setups.items():  # every config resolved (and checked) before any job starts
        setup["cfgs"], setup["resolved"] = {}, {}
        for seed in a.seeds:
            cfg = {**setup["cfg"], "preset": a.preset, "seed": seed, "device": a.device, "progress": False}
            if setup["kind"] == "replay":
                cfg["umap"] = False  # the page has no UMAP panels (each fit costs ~12 CPU s)
            setup["cfgs"][seed], setup["resolved"][seed] = cfg, resolved_config(setup["kind"], cfg)
    with ProcessPoolExecutor(max_workers=a.workers, mp_context=get_context("spawn")) as pool:
        for name, setup in setups.items():
            for seed in a.seeds:
                jobs[(name, seed)] = pool.submit(run_job, setup["kind"], setup["cfgs"][seed],
                                                 str(out / f"{name}_seed{seed}"), a.threads)
        results = {}
        for (name, seed), fut in jobs.items():
            results.setdefault(name, {})[seed] = fut.result()
            print(f"done: {name} seed {seed} ({results[name][seed]['seconds']:.0f} s)", flush=True)

    report = build_report(a, setups, results, commit, command)
    for name, setup in setups.items():
        print_setup(name, setup, report["setups"][name]["summary"], results[name])
        figure(name, setup, report["setups"][name]["summary"], out / "figures" / f"{name}.png")
    print("\n# Verdicts")
    for r in report["verdicts"]:
        ex = f"; excess last {_fmt(*r['excess_last'])}" if r["excess_last"] else ""
        print(f"  {r['finding']} {r['setup']}:{r['metric']} [{r['class_set']}]{ex}; slope {_fmt(*r['slope'])} "
              f"-> {r['verdict']}")
    for name, e in report["setups"].items():
        if e.get("F2"):
            print(f"  F2 {name}: {e['F2']['verdict']}")
        for g in e.get("guidance") or ():
            print(f"  F3 {name}: {g['verdict']} ({_fmt(*g['mean'])})")
    f4 = report["F4"]
    print(f"  F4: bias {f4['expected_var']['verdict_bias']}, variance {f4['n_var_of_mean']['verdict_variance']}")
    report["seconds"] = time.perf_counter() - t0
    report["cpu_seconds"] = (cpu_seconds() - c0) + (cpu_seconds(resource.RUSAGE_CHILDREN) - cc0)
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(report, indent=1, default=float))
    page = markdown(report)
    (out / "summary.md").write_text(page)
    if a.doc:
        doc = Path(a.doc)
        doc.parent.mkdir(parents=True, exist_ok=True)
        for name, setup in setups.items():
            figure(name, setup, report["setups"][name]["summary"], doc.parent / "reproduction" / f"{name}.png")
        doc.write_text(page)
    print(f"\ntotal {report['seconds'] / 60:.1f} min wall, {report['cpu_seconds'] / 60:.1f} min CPU; "
          f"results: {out / 'results.json'}" + (f"; page: {a.doc}" if a.doc else ""))
    return report


if __name__ == "__main__":
    main()

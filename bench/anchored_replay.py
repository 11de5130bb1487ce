"""Anchored generative replay against the unguided DDPM replay it anchors (``dgr-ddpm``), GAN Memory
and a real-image buffer on Split Digits: the same solver, epochs, generators and replay counts as
``bench/replay_bench.py`` (every method runs as its recipe builds it), drift metrics on, over seeds.

Per run: final average accuracy, average forgetting, and per experience FID / CFID / OTDD / RealAcc
of what the method replays, scored by the drift metrics' own extractor (``clf``: a classifier
trained on the train stream) against the test stream; never in the anchors' random feature space,
which would score the anchoring by its own objective. CPU (user+sys) and wall seconds per run.

Judged beyond the floor (docs/DRIFT_FLOOR.md): the distances' excess over their real-vs-real floor,
and, on a fixed class set, the cohort of experience 0 (its classes at every experience,
``metrics.cohorts``): does a method keep the cohort-0 CFID excess at the last experience within the
95 % interval of its experience-0 value (per seed: last excess <= experience 0's upper bound; across
seeds: the paired change last - experience 0 and its t-interval, which must not lie above 0)?
Results files written before the drift plugin logged floors have raw values only; their tables say so.

Memory per method (bytes, float32, after the last experience): the DDPM's UNet parameters (one
copy, as the ``replay-buffer`` recipe counts them); GAN Memory's base generator plus every task's
modulation; plus, for the anchored methods, the stored statistics (``ClassAnchors.nbytes``); the
buffer: the images it holds.

Runs go seed by seed, method by method; the JSON is rewritten (atomically) after every run and runs
already in it are skipped, so an interrupted bench resumes and partial results survive.

    python bench/anchored_replay.py --seeds 0 1 2 --json anchored.json            # the docs' table
    python bench/anchored_replay.py --json anchored.json --report                  # table only, no runs
    python bench/anchored_replay.py --json a.json b.json --report --figure docs/anchored_replay.png
    python bench/anchored_replay.py --preset tiny --experiences 2 --seeds 0 --json /tmp/a.json  # smoke
"""
import argparse
import json
import math
import time
from pathlib import Path

from replay_bench import _pm  # bench/ is the script's directory, hence on sys.path
from reproduce_paper import cohort0_curves, command_line, commit_info, cpu_seconds, provenance, t_interval

METHODS = ("dgr-ddpm", "dgr-ddpm-anchored-select", "dgr-ddpm-anchored-moment", "dgr-ddpm-anchored", "gan-memory",
           "gan-memory-anchored", "replay-buffer")
CURVES = ("FID_clf", "CFID_clf", "OTDD_clf", "RealAcc")


def memory_bytes(method: str, preset: str, run: dict, n_classes: int, n_train: int) -> int:
    """Bytes a method keeps after the last experience (see the module docstring)."""
    from bootdrift_avalanche.experiments import registry
    from bootdrift_avalanche.experiments.config import PRESETS

    p, rec = PRESETS[preset], registry.recipe(method)
    anchors = 0
    if "anchor_features" in rec.settings:
        d = rec.settings["anchor_features"]
        anchors = n_classes * (d + d * (d + 1) // 2) * 4
    if method.startswith(("ddgr", "dgr-ddpm")):
        from bootdrift_avalanche.generators.ddpm import DDPMGenerator

        unet = DDPMGenerator(p.ddpm_config(image_shape=(1, 8, 8), num_classes=n_classes, seed=0)).unet
        return 4 * sum(q.numel() for q in unet.parameters()) + anchors
    if method.startswith("gan-memory"):
        d = run["drift"]
        return 4 * int(sum(d["GANMemoryBaseParams"].values()) + sum(d["GANMemoryTaskParams"].values())) + anchors
    if method == "replay-buffer":
        return 4 * 64 * n_train  # its matched size exceeds the data set on 8x8 digits: every image is kept
    return 0


def run_all(a, commit: dict, command: str) -> dict:
    from bootdrift_avalanche.experiments.config import ReplayConfig
    from bootdrift_avalanche.experiments.replay import run_replay
    from bootdrift_avalanche.logging import metric_table, read_metrics
    from bootdrift_avalanche.runtime.checkpoint import atomic_write_bytes

    path = Path(a.json[0])
    results = json.loads(path.read_text()) if path.is_file() else {}
    out = Path(a.out or path.with_suffix(".runs"))
    for seed in a.seeds:
        for key in a.methods:
            if any(r["seed"] == seed for r in results.get(key, {}).get("runs", [])):
                continue
            cfg = ReplayConfig(strategy=key, benchmark="digits", experiences=a.experiences, preset=a.preset,
                               seed=seed, drift=True, umap=False, progress=False)
            t0, c0 = time.perf_counter(), cpu_seconds()
            run_dir = out / f"{key}-seed{seed}-{int(time.time())}"
            res = run_replay(cfg, run_dir)
            wall, cpu = time.perf_counter() - t0, cpu_seconds() - c0
            cohort, classes = cohort0_curves(metric_table(read_metrics(run_dir / "metrics.jsonl")))
            drift = {k: {str(e): v for e, v in pts.items()} for k, pts in res.drift.items()
                     if (k.split("_")[0] in ("FID", "CFID", "OTDD", "RealAcc") and "/Class" not in k)
                     or k.startswith("GANMemory")}
            run = {"seed": seed, "final_accuracy": res.final_accuracy, "forgetting": res.forgetting,
                   "accuracy_matrix": res.accuracy_matrix, "seconds": wall, "cpu_seconds": cpu, "drift": drift,
                   "cohort0": cohort, "cohort0_classes": classes, "commit": commit, "command": command}
            results.setdefault(key, {"runs": []})["runs"].append(run)
            atomic_write_bytes(path, json.dumps(results, indent=1).encode())
            print(f"{key:>22} seed {seed}: final accuracy {res.final_accuracy:.3f}  forgetting "
                  f"{res.forgetting:.3f}  {wall:.0f} s wall, {cpu:.0f} s CPU", flush=True)
    return results


def ordered(results: dict) -> list:
    """The methods of ``results`` in the order of ``METHODS``, any others after them."""
    return [m for m in METHODS if m in results] + [m for m in results if m not in METHODS]


def report(results: dict, a) -> None:
    commits = sorted({(r.get("commit") or {}).get("short") or "not recorded"
                      for v in results.values() for r in v["runs"]})
    print(f"\nSplit Digits, {a.experiences} experiences, preset {a.preset}; the runs' commits: {', '.join(commits)}")
    print("raw values (mean ± 95 % t-interval over seeds; CPU and wall s: mean per run; drift on the held-out clf "
          "extractor); beyond the floor: the next table")
    print("| method | seeds | final accuracy | forgetting | OTDD exp 0 | OTDD last | OTDD last / exp 0 | "
          "FID last | CFID last | RealAcc last | memory bytes | CPU s | wall s |")
    print("|" + "---|" * 13)
    n_train = 1437
    for key in ordered(results):
        runs = results[key]["runs"]
        acc, forg = t_interval([r["final_accuracy"] for r in runs]), t_interval([r["forgetting"] for r in runs])
        last = str(a.experiences - 1)

        def curve(name, e):
            return [r["drift"][name][e] for r in runs if name in r["drift"] and e in r["drift"][name]]

        o0, ol = curve("OTDD_clf", "0"), curve("OTDD_clf", last)
        ratio = [r["drift"]["OTDD_clf"][last] / r["drift"]["OTDD_clf"]["0"] for r in runs if "OTDD_clf" in r["drift"]]
        cells = [_pm(*t_interval(v)) if v else "–" for v in (o0, ol, ratio, curve("FID_clf", last),
                                                            curve("CFID_clf", last), curve("RealAcc", last))]
        mem = memory_bytes(key, a.preset, runs[0], 10, n_train)
        cpu = sum(r["cpu_seconds"] for r in runs) / len(runs)
        wall = sum(r["seconds"] for r in runs) / len(runs)
        print(f"| {key} | {len(runs)} | {_pm(*acc)} | {_pm(*forg)} | " + " | ".join(cells)
              + f" | {mem:,} | {cpu:.0f} | {wall:.0f} |")
    beyond_floor(results, a)
    print("\npaired over seeds, anchored minus its unanchored method (mean ± 95 % t-interval; of values: where "
          "floors are logged, a seed's floor is the same for both, so also of excess; and cohort 0's excess):")
    for key, base in (("dgr-ddpm-anchored-select", "dgr-ddpm"), ("dgr-ddpm-anchored-moment", "dgr-ddpm"),
                      ("dgr-ddpm-anchored", "dgr-ddpm"),
                      ("gan-memory-anchored", "gan-memory")):
        if key not in results or base not in results:
            continue
        mine = {r["seed"]: r for r in results[key]["runs"]}
        pairs = [(mine[r["seed"]], r) for r in results[base]["runs"] if r["seed"] in mine]
        last = str(a.experiences - 1)
        diffs = {"final accuracy": [m["final_accuracy"] - b["final_accuracy"] for m, b in pairs],
                 "forgetting": [m["forgetting"] - b["forgetting"] for m, b in pairs],
                 "OTDD last": [m["drift"]["OTDD_clf"][last] - b["drift"]["OTDD_clf"][last] for m, b in pairs],
                 "CFID last": [m["drift"]["CFID_clf"][last] - b["drift"]["CFID_clf"][last] for m, b in pairs],
                 "CPU s": [m["cpu_seconds"] - b["cpu_seconds"] for m, b in pairs]}
        ex = f"{COHORT}_excess"  # beyond the floor (the same floor for both methods of a seed)
        if all(ex in m.get("cohort0", {}) and ex in b.get("cohort0", {}) for m, b in pairs):
            diffs["cohort-0 CFID excess last"] = [m["cohort0"][ex][int(last)] - b["cohort0"][ex][int(last)]
                                                  for m, b in pairs]
            j = int(last)
            diffs["cohort-0 change last - exp 0"] = [
                (m["cohort0"][ex][j] - m["cohort0"][ex][0]) - (b["cohort0"][ex][j] - b["cohort0"][ex][0])
                for m, b in pairs]
        print(f"  {key} - {base} ({len(pairs)} seeds): "
              + ", ".join(f"{k} {_pm(*t_interval(v))}" for k, v in diffs.items()))
    print("\nper run, OTDD last / OTDD exp 0 (raw values over the seen classes, no floor: the tables above "
          "judge beyond it):")
    width = max(map(len, results)) + 1
    for key in ordered(results):
        r = results[key]
        ratios = [x["drift"]["OTDD_clf"][str(a.experiences - 1)] / x["drift"]["OTDD_clf"]["0"]
                  for x in sorted(r["runs"], key=lambda x: x["seed"]) if "OTDD_clf" in x["drift"]]
        if ratios:
            print(f"  {key:<{width}} " + "  ".join(f"{v:.3f}" for v in ratios))
    print("\nper experience, raw values over the seen classes, no floor (mean ± 95 % t-interval over seeds):")
    for name in CURVES:
        for key in ordered(results):
            runs = [x for x in results[key]["runs"] if name in x["drift"]]
            if not runs:
                continue
            pts = [_pm(*t_interval([x["drift"][name][str(e)] for x in runs])) for e in range(a.experiences)]
            print(f"  {name:<9} {key:<{width}} " + "  ".join(pts))


COHORT = "cohort0:CFID_clf"


def cohort0_verdict(runs: list, last: int) -> dict:
    """Does the cohort-0 CFID excess at experience ``last`` stay within the 95 % interval of its
    experience-0 value? Per seed: not above experience 0's upper bound (a fall is not drift); across
    seeds: the paired change (last - experience 0) with its t-interval. "no": the change's interval
    lies above 0 (a drift beyond the floor, however wide experience 0's interval) or no seed is within;
    "yes": every seed within; else "mixed"."""
    runs = [r for r in runs if f"{COHORT}_excess" in r.get("cohort0", {})]
    if not runs:
        return {}
    ex = [r["cohort0"][f"{COHORT}_excess"] for r in runs]
    hi0 = [r["cohort0"][f"{COHORT}_excess_hi"][0] for r in runs]
    within = [e[last] <= h for e, h in zip(ex, hi0)]
    change = t_interval([e[last] - e[0] for e in ex])
    up = change[0] - change[1] if math.isfinite(change[1]) else float("nan")
    verdict = "no" if (up > 0 or not any(within)) else "yes" if all(within) else "mixed"
    return {"seeds": len(runs), "classes": [r.get("cohort0_classes", []) for r in runs],
            "exp0_halfwidth": t_interval([(h - r["cohort0"][f"{COHORT}_excess_lo"][0]) / 2 for r, h in zip(runs, hi0)]),
            "exp0": t_interval([e[0] for e in ex]), "last": t_interval([e[last] for e in ex]),
            "floor": t_interval([r["cohort0"][f"{COHORT}_floor"][last] for r in runs]),
            "value_last": t_interval([r["cohort0"][COHORT][last] for r in runs]),
            "exp0_bounds": [(r["cohort0"][f"{COHORT}_excess_lo"][0], h) for r, h in zip(runs, hi0)],
            "within": within, "change": change, "verdict": verdict}


def beyond_floor(results: dict, a) -> None:
    """The distances at the last experience beyond their floor, and the cohort-0 verdict, per method."""
    last = a.experiences - 1
    print(f"\nbeyond the floor, experience {last} (excess = value - real-vs-real floor, same n, classes and "
          "features; mean ± 95 % t-interval over seeds; floor beside):")
    keys = ordered(results)
    scored = [k for k in keys if any("CFID_clf" in x["drift"] for x in results[k]["runs"])]
    raw = [k for k in scored if not any("CFID_clf_excess" in x["drift"] for x in results[k]["runs"])]
    if raw:
        print(f"  no floor logged (raw values only, measured before the drift plugin logged floors): {', '.join(raw)}")
    if [k for k in keys if k not in scored]:
        print(f"  no replayed distribution scored (it replays stored real images): "
              f"{', '.join(k for k in keys if k not in scored)}")
    print("| method | seeds | FID excess (floor) | CFID excess (floor) | OTDD excess (floor) | cohort-0 classes | "
          "cohort-0 CFID excess exp 0 | its interval's half-width | cohort-0 CFID excess last (floor) | "
          "change last - exp 0 | seeds within exp 0's interval | kept within? |")
    print("|" + "---|" * 12)
    for key in keys:
        runs = [x for x in results[key]["runs"] if "CFID_clf_excess" in x["drift"]]
        if not runs:
            continue
        cells = []
        for m in ("FID_clf", "CFID_clf", "OTDD_clf"):
            ex = [x["drift"][f"{m}_excess"][str(last)] for x in runs]
            fl = [x["drift"][f"{m}_floor"][str(last)] for x in runs]
            cells.append(f"{_pm(*t_interval(ex))} ({_pm(*t_interval(fl))})")
        v = cohort0_verdict(runs, last)
        if v:
            cells += ["; ".join(" ".join(c) for c in v["classes"]), _pm(*v["exp0"]), _pm(*v["exp0_halfwidth"]),
                      f"{_pm(*v['last'])} ({_pm(*v['floor'])})",
                      _pm(*v["change"]), f"{sum(v['within'])} of {v['seeds']}", v["verdict"]]
        else:
            cells += ["–"] * 7
        print(f"| {key} | {len(runs)} | " + " | ".join(cells) + " |")


def figure(results: dict, a, path: str) -> None:
    """OTDD and CFID excess over their real-vs-real floor per experience (0: the floor), mean ± 95 %
    band over seeds; runs without a logged floor are left out (a raw value has nothing beside it)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    xs = np.arange(a.experiences)
    for ax, name in zip(axes, ("OTDD_clf", "CFID_clf")):
        for key in ordered(results):
            runs = [x for x in results[key]["runs"] if f"{name}_excess" in x["drift"]]
            if not runs:
                continue
            stats = [t_interval([x["drift"][f"{name}_excess"][str(e)] for x in runs]) for e in xs]
            m = np.array([s[0] for s in stats])
            h = np.nan_to_num(np.array([s[1] for s in stats]))
            ax.plot(xs, m, marker="o", label=key)
            ax.fill_between(xs, m - h, m + h, alpha=0.12)
        ax.axhline(0.0, color="k", lw=0.5)  # the floor
        ax.set_xlabel("experience")
        ax.set_title(f"{name} excess over its floor (held-out clf extractor), mean ± 95 % CI", fontsize=9)
        ax.set_xticks(xs)
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    print(f"written: {path}")


def main():
    from bootdrift_avalanche.experiments.config import PRESETS
    from bootdrift_avalanche.runtime.threads import configure_threads

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--preset", default="cpu-small", choices=list(PRESETS))
    p.add_argument("--experiences", type=int, default=5)
    p.add_argument("--methods", nargs="+", default=list(METHODS))
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--threads", type=int, help="torch CPU threads (default: 1 on CPU)")
    p.add_argument("--json", required=True, nargs="+",
                   help="results file (rewritten after every run; resumed from); with --report, several "
                        "files (e.g. of benches run side by side) are merged")
    p.add_argument("--out", help="run directories (default: next to the JSON)")
    p.add_argument("--report", action="store_true", help="only print the table of the JSON, run nothing")
    p.add_argument("--figure", help="also draw the OTDD and CFID excess over the floor to this PNG")
    a = p.parse_args()
    configure_threads("cpu", a.threads)
    commit = commit_info()  # taken once, before any run: the code every run of this invocation uses
    command = command_line("bench/anchored_replay.py")
    print(provenance(commit, command))
    if a.report:
        results = {}
        for f in a.json:
            for key, r in json.loads(Path(f).read_text()).items():
                results.setdefault(key, {"runs": []})["runs"] += r["runs"]
    else:
        results = run_all(a, commit, command)
    report(results, a)
    if a.figure:
        figure(results, a, a.figure)


if __name__ == "__main__":
    main()

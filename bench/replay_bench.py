"""Replay methods side by side on Split Digits (5 experiences), same solver and epochs for all, over
seeds: every registered strategy (Naive, joint (cumulative) training as the upper bound, the
real-image replay buffer, Avalanche's GenerativeReplay, DDGR, GAN Memory). Each method runs as its
recipe builds it: the baselines' settings and the replay counts were chosen on a validation split of
the train data (``bench/replay_tuning.py``), never on the test stream scored here.

Prints, per method, its configuration as built (``ReplayConfig`` plus the recipe's own settings and
generator sizes), then the mean ± 95 % t-interval over seeds of the final average accuracy and the
average forgetting, and the mean CPU (user+sys) and wall seconds per run; with drift on, the drift
metrics per experience of the methods with a generator (first seed).

    python bench/replay_bench.py --seeds 0 1 2 --no-drift --json OUT.json   # the table of the docs
    python bench/replay_bench.py --preset tiny --seeds 0 --json OUT.json     # smoke run
    python bench/replay_bench.py --methods ddgr dgr-ddpm replay-buffer       # a subset
    python bench/replay_bench.py --report OUT.json --paired ddgr dgr-ddpm    # print a --json file again

``--json`` writes ``{"<strategy>": {"config": {...}, "runs": [{"seed", "final_accuracy",
"forgetting", "seconds", "cpu_seconds"}, ...], "final_accuracy": [mean, half-width], "forgetting":
[mean, half-width], "cpu_seconds": mean, "seconds": mean, "drift": {...}}, ..., "_run": {"commit",
"command", "complete"}}``, rewritten after every run (``complete`` false until the last), so a bench
cut short keeps the runs it finished.
"""
import argparse
import dataclasses
import json
import os
import shlex
import sys
import tempfile
import time
from pathlib import Path

from reproduce_paper import commit_info, cpu_seconds, t_interval  # bench/ is the script's directory, hence on sys.path


def _commit() -> str:
    """The code's commit as this bench's records write it: short sha, ``+dirty`` when uncommitted."""
    c = commit_info()
    return (c["short"] or "unknown") + ("+dirty" if c["dirty"] else "")


def _write_json(path: str, results: dict) -> None:
    tmp = Path(f"{path}.tmp")
    tmp.write_text(json.dumps(results, indent=1, default=str))
    os.replace(tmp, path)


def _pm(m, h) -> str:
    return f"{m:.3f} ± {h:.3f}" if h == h else f"{m:.3f}"  # h is nan for one seed


def main():
    from bootdrift_avalanche.experiments import registry
    from bootdrift_avalanche.experiments.config import PRESETS, ReplayConfig, resolve
    from bootdrift_avalanche.experiments.replay import run_replay
    from bootdrift_avalanche.runtime.threads import configure_threads

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--preset", default="cpu-small", choices=list(PRESETS))
    p.add_argument("--experiences", type=int, default=5)
    p.add_argument("--epochs", type=int, help="solver epochs per experience, the same for every method")
    p.add_argument("--methods", nargs="+", default=list(registry.strategy_names()),
                   choices=list(registry.strategy_names()))
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--threads", type=int, help="torch CPU threads (default: 1 on CPU)")
    p.add_argument("--no-drift", action="store_true", help="skip the drift metrics (faster)")
    p.add_argument("--json", help="write the figures here")
    p.add_argument("--out", help="run directories (default: a temporary directory)")
    p.add_argument("--paired", nargs=2, action="append", metavar=("A", "B"),
                   help="also print the per-seed difference A − B (repeatable), e.g. --paired ddgr dgr-ddpm")
    p.add_argument("--report", nargs="+", metavar="JSON",
                   help="print the tables of earlier --json files and run nothing; several files (other seeds "
                        "of the same methods at the same commit) are merged run by run")
    a = p.parse_args()
    if a.report:
        results = merged([json.loads(Path(f).read_text()) for f in a.report])
        report(results, results.pop("_run"), a.paired or [])
        return
    configure_threads("cpu", a.threads)

    out = Path(a.out or tempfile.mkdtemp(prefix="replay_bench-"))
    # Seeds outer, methods inner: the methods alternate, so a change in the machine's load between
    # the start and the end of the bench reaches every method alike (CPU and wall seconds compare).
    def run_config(key, seed):
        return ReplayConfig(strategy=key, benchmark="digits", experiences=a.experiences, preset=a.preset,
                            epochs=a.epochs, seed=seed, drift=not a.no_drift, umap=False, progress=False)

    commit, command = _commit(), shlex.join(["python"] + sys.argv)
    print(f"commit {commit}: {command}", flush=True)
    runs = {key: [] for key in a.methods}
    drift = {key: {} for key in a.methods}

    def summary(complete: bool) -> dict:
        results = {}
        for key in a.methods:
            r = runs[key]
            if not r:
                continue
            resolved = resolve(run_config(key, a.seeds[0]))  # the seed is left out of the printed config
            built = {k: v for k, v in dataclasses.asdict(resolved).items()
                     if k not in ("progress", "data_root", "seed", "download", "device")}
            built.update(registry.recipe(key).describe(resolved, PRESETS[a.preset]))
            results[key] = {
                "config": built, "runs": r, "drift": drift[key],
                "final_accuracy": t_interval([x["final_accuracy"] for x in r]),
                "forgetting": t_interval([x["forgetting"] for x in r]),
                "cpu_seconds": sum(x["cpu_seconds"] for x in r) / len(r),
                "seconds": sum(x["seconds"] for x in r) / len(r),
            }
        results["_run"] = {"commit": commit, "command": command, "complete": complete}
        return results

    for seed in a.seeds:
        for key in a.methods:
            t0, c0 = time.perf_counter(), cpu_seconds()
            res = run_replay(run_config(key, seed), out / f"{key}-seed{seed}")
            wall, cpu = time.perf_counter() - t0, cpu_seconds() - c0
            runs[key].append({"seed": seed, "final_accuracy": res.final_accuracy, "forgetting": res.forgetting,
                              "seconds": wall, "cpu_seconds": cpu})
            if not drift[key]:
                drift[key] = {k: v for k, v in res.drift.items()
                              if k.split("_")[0] in ("FID", "CFID", "OTDD", "RealAcc") and "/Class" not in k}
            print(f"{key:>13} seed {seed}: final accuracy {res.final_accuracy:.3f}  forgetting {res.forgetting:.3f}  "
                  f"{wall:.0f} s wall, {cpu:.0f} s CPU", flush=True)
            if a.json:
                _write_json(a.json, summary(complete=False))
    results = summary(complete=True)
    meta = results.pop("_run")
    for key, r in results.items():
        print(f"{key:>13} config {r['config']}", flush=True)
    report(results, meta, a.paired or [])
    if a.json:
        _write_json(a.json, {**results, "_run": meta})
        print(f"\nwritten: {a.json}")


def merged(files: list) -> dict:
    """One result from the ``--json`` files of several invocations: the runs of each method
    together (each seed once), its intervals and mean seconds recomputed. The files must come from
    one commit and build every method with the same configuration."""
    metas = [f.pop("_run") for f in files]
    commits = sorted({m["commit"] for m in metas})
    if len(commits) != 1:
        raise SystemExit(f"--report merges runs of one commit only, got {', '.join(commits)}")
    out = {}
    for key in dict.fromkeys(k for f in files for k in f):
        parts = [f[key] for f in files if key in f]
        if any(p["config"] != parts[0]["config"] for p in parts):
            raise SystemExit(f"--report: {key} was built with different configurations in the files")
        runs = sorted((x for p in parts for x in p["runs"]), key=lambda x: x["seed"])
        if len({x["seed"] for x in runs}) != len(runs):
            raise SystemExit(f"--report: {key} has a seed in several files")
        out[key] = {"config": parts[0]["config"], "runs": runs,
                    "drift": next((p["drift"] for p in parts if p["drift"]), {}),
                    "final_accuracy": t_interval([x["final_accuracy"] for x in runs]),
                    "forgetting": t_interval([x["forgetting"] for x in runs]),
                    "cpu_seconds": sum(x["cpu_seconds"] for x in runs) / len(runs),
                    "seconds": sum(x["seconds"] for x in runs) / len(runs)}
    seeds = {tuple(x["seed"] for x in r["runs"]) for r in out.values()}
    out["_run"] = {"commit": commits[0], "command": " ; ".join(m["command"] for m in metas),
                   "complete": len(seeds) == 1}  # every method ran every seed
    return out


def report(results: dict, meta: dict, paired) -> None:
    """Print the table of ``results`` (per method: mean ± 95 % t-interval over seeds, CPU and wall
    seconds per run, the final accuracy per seed), the drift of the first seed, and for every pair
    (A, B) in ``paired`` the difference A − B seed by seed (the same seeds, hence the same class orders)."""
    cfg = next(iter(results.values()))["config"]
    seeds = sorted({x["seed"] for r in results.values() for x in r["runs"]})
    print(f"\nSplit Digits, {cfg['experiences']} experiences, preset {cfg['preset']}, seeds {seeds} "
          f"(mean ± 95 % t-interval; CPU and wall seconds: mean per run); commit {meta['commit']}\n"
          f"command: {meta['command']}{'' if meta.get('complete', True) else '  (incomplete: some method lacks runs)'}")
    print("| method | final accuracy | forgetting | CPU s | wall s | final accuracy per seed |\n"
          "|---|---|---|---|---|---|")
    for key, r in results.items():
        per_seed = ", ".join(f"{x['final_accuracy']:.3f}" for x in r["runs"])
        print(f"| {key} | {_pm(*r['final_accuracy'])} | {_pm(*r['forgetting'])} | {r['cpu_seconds']:.0f} "
              f"| {r['seconds']:.0f} | {per_seed} |")
    for key, r in results.items():
        if r["drift"]:
            print(f"\ndrift of {key} per experience (first seed):")
            for name, pts in sorted(r["drift"].items()):
                print(f"  {name:<16} " + "  ".join(f"{pts[s]:.3f}" for s in sorted(pts)))
    for a_key, b_key in paired:
        if a_key not in results or b_key not in results:
            raise SystemExit(f"--paired {a_key} {b_key}: both must be among the methods ({', '.join(results)})")
        mine = {x["seed"]: x for x in results[a_key]["runs"]}
        pairs = [(mine[x["seed"]], x) for x in results[b_key]["runs"] if x["seed"] in mine]
        print(f"\npaired {a_key} − {b_key}, seeds {[b['seed'] for _, b in pairs]}:")
        for what in ("final_accuracy", "forgetting"):
            d = [a[what] - b[what] for a, b in pairs]
            print(f"  {what}: {_pm(*t_interval(d))}  (per seed: {', '.join(f'{v:+.3f}' for v in d)})")


if __name__ == "__main__":
    main()

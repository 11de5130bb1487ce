"""Replay methods side by side on Split Digits (5 experiences), same solver and epochs for all, in
one run: every registered strategy (Naive, Avalanche's GenerativeReplay, DDGR, GAN Memory, joint
(cumulative) training as the upper bound, ...). Prints, per method, its resolved configuration,
final average accuracy, average forgetting, wall and CPU (user+sys) seconds, and the drift metrics
per experience of the methods with a generator.

    python bench/replay_bench.py --json OUT.json                 # cpu-small preset, all strategies
    python bench/replay_bench.py --preset tiny --json OUT.json   # smoke run
    python bench/replay_bench.py --methods ddgr replay-buffer    # a subset

``--json`` writes ``{"<strategy>": {"final_accuracy": float, "forgetting": float, "seconds": float,
"cpu_seconds": float, "config": {...}, "drift": {...}}, ...}``.
"""
import argparse
import dataclasses
import json
import resource
import tempfile
import time
from pathlib import Path


def _cpu_seconds() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def main():
    from bootdrift_avalanche.experiments.config import PRESETS, ReplayConfig, resolve
    from bootdrift_avalanche.experiments.registry import strategy_names
    from bootdrift_avalanche.experiments.replay import run_replay
    from bootdrift_avalanche.runtime.threads import configure_threads

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--preset", default="cpu-small", choices=list(PRESETS))
    p.add_argument("--experiences", type=int, default=5)
    p.add_argument("--epochs", type=int, help="solver epochs per experience, the same for every method")
    p.add_argument("--methods", nargs="+", default=list(strategy_names()), choices=list(strategy_names()))
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, help="torch CPU threads (default: 1 on CPU)")
    p.add_argument("--no-drift", action="store_true", help="skip the drift metrics (faster)")
    p.add_argument("--json", help="write the figures here")
    p.add_argument("--out", help="run directories (default: a temporary directory)")
    a = p.parse_args()
    configure_threads("cpu", a.threads)

    out = Path(a.out or tempfile.mkdtemp(prefix="replay_bench-"))
    results = {}
    for key in a.methods:
        cfg = ReplayConfig(strategy=key, benchmark="digits", experiences=a.experiences, preset=a.preset,
                           epochs=a.epochs, seed=a.seed, drift=not a.no_drift, umap=False, progress=False)
        t0, c0 = time.perf_counter(), _cpu_seconds()
        res = run_replay(cfg, out / key)
        wall, cpu = time.perf_counter() - t0, _cpu_seconds() - c0
        drift = {k: v for k, v in res.drift.items()
                 if k.split("_")[0] in ("FID", "CFID", "OTDD", "RealAcc") and "/Class" not in k}
        config = {k: v for k, v in dataclasses.asdict(resolve(cfg)).items() if k not in ("progress", "data_root")}
        results[key] = {"final_accuracy": res.final_accuracy, "forgetting": res.forgetting, "seconds": wall,
                        "cpu_seconds": cpu, "config": config, "drift": drift}
        print(f"{key:>13}: final accuracy {res.final_accuracy:.3f}  forgetting {res.forgetting:.3f}  "
              f"{wall:.0f} s wall, {cpu:.0f} s CPU\n{'':>15}config {config}", flush=True)

    print("\nmethod         final_acc  forgetting  wall_s   cpu_s")
    for key, r in results.items():
        print(f"{key:<14} {r['final_accuracy']:9.3f}  {r['forgetting']:10.3f}  {r['seconds']:6.0f}  {r['cpu_seconds']:6.0f}")
    for key, r in results.items():
        if r["drift"]:
            print(f"\ndrift of {key} per experience:")
            for name, pts in sorted(r["drift"].items()):
                print(f"  {name:<16} " + "  ".join(f"{pts[s]:.3f}" for s in sorted(pts)))
    if a.json:
        Path(a.json).write_text(json.dumps(results, indent=1))
        print(f"\nwritten: {a.json}")


if __name__ == "__main__":
    main()

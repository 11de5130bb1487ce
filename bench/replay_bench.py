"""Replay methods side by side on Split Digits (5 experiences), same solver and epochs for all, in
one run: Naive, Avalanche's GenerativeReplay, DDGR, GAN Memory and joint (cumulative) training as the
upper bound. Prints final average accuracy, average forgetting and wall time per method, and the
drift metrics per experience of the generative methods.

    python bench/replay_bench.py --json OUT.json            # cpu-small preset
    python bench/replay_bench.py --preset tiny --json OUT.json   # smoke run

``--json`` writes ``{"<method>": {"final_accuracy": float, "forgetting": float, "seconds": float,
"drift": {...}}, ...}`` with the keys naive, avalanche_gr, ddgr, gan_memory, joint.
"""
import argparse
import json
import tempfile
import time
from pathlib import Path

import torch

METHODS = {"naive": "naive", "avalanche_gr": "avalanche-gr", "ddgr": "ddgr", "gan_memory": "gan-memory",
           "joint": "joint"}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--preset", default="cpu-small", choices=("tiny", "cpu-small", "paper"))
    p.add_argument("--experiences", type=int, default=5)
    p.add_argument("--epochs", type=int, help="solver epochs per experience, the same for every method")
    p.add_argument("--methods", nargs="+", default=list(METHODS), choices=list(METHODS))
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--no-drift", action="store_true", help="skip the drift metrics (faster)")
    p.add_argument("--json", help="write the figures here")
    p.add_argument("--out", help="run directories (default: a temporary directory)")
    a = p.parse_args()
    torch.set_num_threads(1)  # small models on a shared CPU (see bootdrift_avalanche/cli.py)

    from bootdrift_avalanche.replay_run import ReplayConfig, run_replay

    out = Path(a.out or tempfile.mkdtemp(prefix="replay_bench-"))
    results = {}
    for key in a.methods:
        cfg = ReplayConfig(strategy=METHODS[key], benchmark="digits", experiences=a.experiences, preset=a.preset,
                           epochs=a.epochs, seed=a.seed, drift=not a.no_drift, umap=False, progress=False)
        t0 = time.perf_counter()
        res = run_replay(cfg, out / key)
        wall = time.perf_counter() - t0
        drift = {k: v for k, v in res.drift.items() if k.split("_")[0] in ("FID", "CFID", "OTDD", "RealAcc")}
        results[key] = {"final_accuracy": res.final_accuracy, "forgetting": res.forgetting,
                        "seconds": wall, "drift": drift}
        print(f"{key:>13}: final accuracy {res.final_accuracy:.3f}  forgetting {res.forgetting:.3f}  {wall:.0f} s",
              flush=True)

    print("\nmethod         final_acc  forgetting  seconds")
    for key, r in results.items():
        print(f"{key:<14} {r['final_accuracy']:9.3f}  {r['forgetting']:10.3f}  {r['seconds']:7.0f}")
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

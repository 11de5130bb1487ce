"""Drift metrics at the scale of real benchmarks: time and peak memory of FID, CFID and every OTDD
(exact, ``otdd_compat``, hierarchical, entropic, sliced) at n = 1k, 5k, 10k, 50k points per side,
and the error of each large-set variant against exact OTDD where exact OTDD runs.

Data: a C-class Gaussian mixture with overlapping classes (class centres 0.3·N(0, I), unit class
spread, C = 100 at d = 128 and 10 at d = 2048), float32; set B is the same mixture with a shift of
0.5 along a fixed direction and class spreads scaled by up to 1.5 (a drifted generator). Each
(metric, n, d) runs in a fresh subprocess on one thread, so its peak RSS is its own; printed: wall
seconds, CPU seconds (user + sys of the call), peak RSS increase over the process before the call
(CUDA: peak allocated GPU memory), the value and, for the OTDD variants, value / exact − 1
(``otdd_compat`` is ½·OTDD² in the reference's convention: shown as √(2·value) / exact − 1).

Skipped where they cannot run here, and said so in the table: exact OTDD above 5,000 points per
side (O(n²) memory and a network simplex: ~71 s and +4 GB at 10k points,
~20 GB of cost matrix at 50k), ``otdd_compat`` above 5,000 (geomloss' tensorized backend holds
three dense n×n matrices), entropic above 5,000 on CPU (O(n²·d) per iteration: hours at 50k on one
thread; it runs on CUDA), and at d = 2048 the OTDD variants above 10,000 (the Gaussian label cost
needs 2048² covariances and their eigenvalues per class pair, minutes on one thread).

Usage::

    python bench/metrics_scale.py                    # CPU, one thread, everything (~30 min)
    python bench/metrics_scale.py --dims 128 --sizes 5000 50000
    python bench/metrics_scale.py --device cuda      # bench/gpu_check.sh (all variants to 50k)
"""
from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # one thread for every BLAS, torch's and NumPy's alike

import argparse
import json
import math
import subprocess
import sys
import time

import torch

from bootdrift_avalanche.runtime.threads import configure_threads

METRICS = ("fid", "cfid", "exact", "compat", "hierarchical", "entropic", "sliced")
VARIANTS = ("hierarchical", "entropic", "sliced")


def classes_for(d: int) -> int:
    return 100 if d <= 128 else 10


def mixture(n: int, d: int, *, side: int) -> tuple:
    """(x, y): n float32 points of the benchmark mixture; side 0 = A, 1 = B (drifted)."""
    c = classes_for(d)
    centres = 0.3 * torch.randn(c, d, generator=torch.Generator().manual_seed(99))
    spread = 1.0 + 0.5 * side * torch.rand(c, generator=torch.Generator().manual_seed(5))
    y = torch.arange(n) % c
    x = centres[y] + spread[y, None] * torch.randn(n, d, generator=torch.Generator().manual_seed(1 + side))
    x += 0.5 * side * torch.randn(d, generator=torch.Generator().manual_seed(7))
    return x, y


def skip_reason(metric: str, n: int, d: int, device: str):
    if metric in ("exact", "compat") and n > 5000:
        return "O(n^2) memory"
    if metric == "entropic" and n > 5000 and device == "cpu":
        return "O(n^2 d) per iteration on CPU"
    if metric not in ("fid", "cfid", "sliced") and d > 128 and n > 10000:
        return "d^2 label cost per class pair"
    return None


def run_one(metric: str, n: int, d: int, device: str) -> dict:
    """In the child process: one metric at one size, as a JSON-able dict."""
    from metrics_bench import peak_rss_during  # the RSS sampler of bench/metrics_bench.py

    from bootdrift_avalanche import metrics as m

    xa, ya = mixture(n, d, side=0)
    xb, yb = mixture(n, d, side=1)
    xa, xb = xa.to(device), xb.to(device)
    fn = {
        "fid": lambda: m.frechet_distance(xa, xb),
        "cfid": lambda: m.cfid(xa, ya, xb, yb).mean,
        "exact": lambda: m.otdd(xa, ya, xb, yb),
        "compat": lambda: m.otdd_compat(xa, ya, xb, yb),
        "hierarchical": lambda: m.otdd_hierarchical(xa, ya, xb, yb),
        "entropic": lambda: m.otdd_entropic(xa, ya, xb, yb),
        "sliced": lambda: m.otdd_sliced(xa, ya, xb, yb),
    }[metric]
    import geomloss  # noqa: F401  (libraries imported before the baseline, so they are not counted)
    import ot  # noqa: F401

    if device == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    cpu0 = time.process_time()
    val, wall, peak, before = peak_rss_during(lambda: float(fn()))
    cpu = time.process_time() - cpu0
    gpu_mb = torch.cuda.max_memory_allocated() / 2**20 if device == "cuda" else None
    return {"metric": metric, "n": n, "d": d, "value": val, "wall_s": wall, "cpu_s": cpu,
            "rss_increase_mb": peak - before, "gpu_peak_mb": gpu_mb}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[1000, 5000, 10000, 50000])
    p.add_argument("--dims", type=int, nargs="+", default=[128, 2048])
    p.add_argument("--metrics", nargs="+", default=list(METRICS), choices=METRICS)
    p.add_argument("--device", default="cpu", help="cpu or cuda")
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads (default: 1)")
    p.add_argument("--json", default=None, help="also write the rows to this file")
    p.add_argument("--child", nargs=3, default=None, help=argparse.SUPPRESS)  # metric n d
    args = p.parse_args()
    configure_threads(args.device, args.threads)
    if args.child is not None:
        print(json.dumps(run_one(args.child[0], int(args.child[1]), int(args.child[2]), args.device)))
        return
    print(f"torch {torch.__version__}, device {args.device}, {torch.get_num_threads()} thread(s)")
    rows = []
    t0 = time.perf_counter()
    for d in args.dims:
        print(f"\nd = {d}, {classes_for(d)} classes")
        print(f"{'n':>6} {'metric':>12} {'value':>12} {'wall_s':>8} {'cpu_s':>8} {'+RSS_MB':>8} "
              f"{'GPU_MB':>8} {'vs exact':>9}")
        for n in args.sizes:
            exact = None
            for metric in args.metrics:
                why = skip_reason(metric, n, d, args.device)
                if why:
                    print(f"{n:6d} {metric:>12}   skipped: {why}", flush=True)
                    continue
                out = subprocess.run([sys.executable, __file__, "--child", metric, str(n), str(d),
                                      "--device", args.device, "--threads", str(args.threads)],
                                     capture_output=True, text=True)
                if out.returncode != 0:
                    print(f"{n:6d} {metric:>12}   FAILED: {out.stderr.strip()[-400:]}", flush=True)
                    continue
                r = json.loads(out.stdout.strip().splitlines()[-1])
                if metric == "exact":
                    exact = r["value"]
                err = ""
                if exact and metric in VARIANTS:
                    r["rel_err_vs_exact"] = r["value"] / exact - 1
                    err = f"{r['rel_err_vs_exact']:+9.2%}"
                elif exact and metric == "compat":
                    r["rel_err_vs_exact"] = math.sqrt(max(2 * r["value"], 0)) / exact - 1
                    err = f"{r['rel_err_vs_exact']:+9.2%}"
                gpu = f"{r['gpu_peak_mb']:8.0f}" if r["gpu_peak_mb"] is not None else f"{'-':>8}"
                print(f"{n:6d} {metric:>12} {r['value']:12.5g} {r['wall_s']:8.2f} {r['cpu_s']:8.2f} "
                      f"{r['rss_increase_mb']:8.0f} {gpu} {err:>9}", flush=True)
                rows.append(r)
    print(f"\ntotal {time.perf_counter() - t0:.0f} s")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(rows, fh, indent=1)


if __name__ == "__main__":
    main()

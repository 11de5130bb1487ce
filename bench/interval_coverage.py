"""How often the drift intervals cover the true value: 200 simulated draws of Gaussian features
whose FID and MMD² are known, each scored with :mod:`bootdrift_avalanche.metrics.intervals`'s
bootstrap (FID; the drift plugin's default 12 replicates) or jackknife (KID), counting the draws
whose 95 % interval holds the true value.

* FID: real N(0, I_d) against synthetic N(μ, s² I_d); true FID = ‖μ‖² + d (1 − s)².
* KID: the same sets; the true MMD² of the cubic polynomial kernel is the mean of
  k(x, x') + k(y, y') − 2 k(x, y) over 2·10⁶ independent pairs (its Monte Carlo standard error is
  printed: it is far below the intervals' width).

    python bench/interval_coverage.py                 # n = 200 per set, d = 8, 200 draws
    python bench/interval_coverage.py --n 500 --d 16

Prints the coverage of each metric and the mean interval width, with the commit.
"""
import argparse
import subprocess
from typing import Dict

import torch

from bootdrift_avalanche.metrics.fid import frechet_distance
from bootdrift_avalanche.metrics.intervals import DEFAULT_REPLICATES, bootstrap, z_of
from bootdrift_avalanche.metrics.kid import jackknife_sd, kid


def _poly(a, b):
    return ((a * b).sum(1) / a.shape[1] + 1.0) ** 3


def true_values(d: int, shift: float, scale: float, pairs: int = 2_000_000, seed: int = 12345) -> Dict[str, tuple]:
    """``{"FID": (value, 0), "KID": (value, Monte Carlo standard error)}`` of the two Gaussians."""
    g = torch.Generator().manual_seed(seed)
    mu = torch.full((d,), shift, dtype=torch.float64)
    x, x2 = (torch.randn(pairs, d, generator=g, dtype=torch.float64) for _ in range(2))
    y, y2 = (mu + scale * torch.randn(pairs, d, generator=g, dtype=torch.float64) for _ in range(2))
    terms = _poly(x, x2) + _poly(y, y2) - _poly(x, y) - _poly(x2, y2)
    fid = float(mu @ mu) + d * (1.0 - scale) ** 2
    return {"FID": (fid, 0.0), "KID": (float(terms.mean()), float(terms.std() / pairs ** 0.5))}


def coverage(*, draws: int = 200, n: int = 200, d: int = 8, shift: float = 0.15, scale: float = 1.1,
             replicates: int = DEFAULT_REPLICATES, confidence: float = 0.95,
             seed: int = 0) -> Dict[str, Dict[str, float]]:
    """``{metric: {"coverage", "width", "true", "mc_se"}}`` over ``draws`` simulated pairs of sets."""
    truth = true_values(d, shift, scale)
    mu = torch.full((d,), shift, dtype=torch.float64)
    y = torch.zeros(n, dtype=torch.long)

    def stat(a, _ya, b, _yb):
        return {"FID": frechet_distance(a, b)}

    hits = {k: 0 for k in truth}
    width = {k: 0.0 for k in truth}
    g = torch.Generator().manual_seed(seed)
    for i in range(draws):
        a = torch.randn(n, d, generator=g, dtype=torch.float64)
        b = mu + scale * torch.randn(n, d, generator=g, dtype=torch.float64)
        bounds = bootstrap(stat, a, y, b, y, estimate=stat(a, y, b, y), replicates=replicates, seed=seed * 100_003 + i,
                           confidence=confidence)
        k, se = kid(a, b, subset_size=None).mean, jackknife_sd(a, b)
        bounds["KID"] = (k - z_of(confidence) * se, k + z_of(confidence) * se)
        for k, (lo, hi) in bounds.items():
            hits[k] += lo <= truth[k][0] <= hi
            width[k] += (hi - lo) / draws
    return {k: {"coverage": hits[k] / draws, "width": width[k], "true": truth[k][0], "mc_se": truth[k][1]}
            for k in truth}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--draws", type=int, default=200)
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--d", type=int, default=8)
    ap.add_argument("--replicates", type=int, default=DEFAULT_REPLICATES)
    args = ap.parse_args()
    torch.set_num_threads(1)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    res = coverage(draws=args.draws, n=args.n, d=args.d, replicates=args.replicates)
    print(f"commit {commit}: {args.draws} draws, n = {args.n} per set, d = {args.d}, {args.replicates} bootstrap "
          "replicates, nominal 95 %")
    for k, r in res.items():
        print(f"{k}: true {r['true']:.5g} (Monte Carlo s.e. {r['mc_se']:.2g}), coverage {100 * r['coverage']:.1f} %, "
              f"mean interval width {r['width']:.4g}")


if __name__ == "__main__":
    main()

"""Intervals of drift values: how far a value could move from sampling noise alone.

* KID and CKID: the jackknife standard error of the unbiased estimator (:func:`.kid.jackknife_sd`),
  the interval value ± z·se, written by :func:`.feature_values.kid_values`.
* The other feature-based values (FID, CFID and its classes, OTDD): a seeded bootstrap. Each
  replicate resamples, with replacement and within each class, the real and the synthetic features
  (class counts kept, so per-class values stay defined) and recomputes every value; the interval is
  c ± z·(standard deviation of the replicates), z the normal quantile of ``confidence``. For a
  biased estimator (FID, CFID, OTDD) the centre c is bias-corrected, 2·value − (replicates' mean),
  so the interval aims at the population value (``centred`` names: c is the value). The excess over the
  real-vs-real floor (:mod:`.floor`) is the other answer to the small-sample bias: value and floor
  share it. Coverage on Gaussian features of known FID and MMD:
  ``bench/interval_coverage.py`` and ``docs/DRIFT_FLOOR.md``.
* Accuracies (``RealAcc``, its ceiling): the Wilson score interval of a binomial proportion over the
  real test images (the classifier's own training noise is not in it).

Names: :func:`bounds_names` (``FID_clf`` -> ``FID_clf_lo``, ``FID_clf_hi``;
``CFID_clf/Class003`` -> ``CFID_clf_lo/Class003``; see :mod:`.qualifiers`).
"""
from __future__ import annotations

import math
from statistics import NormalDist
from typing import Callable, Dict, Mapping, Tuple

import torch
from torch import Tensor

from .qualifiers import HI, LO, qualified

Stat = Callable[[Tensor, Tensor, Tensor, Tensor], Mapping[str, float]]
#: the drift plugin's bootstrap replicates, chosen by coverage (``bench/interval_coverage.py``) and cost
#: (``bench/drift_cost.py``): ``docs/DRIFT_FLOOR.md``
DEFAULT_REPLICATES = 12


def z_of(confidence: float) -> float:
    """The two-sided normal quantile of ``confidence`` (1.96 for 0.95)."""
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must lie in (0, 1), got {confidence}")
    return NormalDist().inv_cdf(0.5 + confidence / 2.0)


def check_intervals(intervals: int) -> None:
    """A suite's ``intervals``: 0 (off) or at least the 2 replicates a spread needs."""
    if intervals < 0 or intervals == 1:
        raise ValueError(f"intervals must be 0 (off) or >= 2 bootstrap replicates, got {intervals}")


def _stratified(y: Tensor, g: torch.Generator) -> Tensor:
    """Row indices of a resample with replacement within each class of ``y``."""
    out = []
    for c in torch.unique(y):
        rows = torch.nonzero(y == c).flatten()
        out.append(rows[torch.randint(len(rows), (len(rows),), generator=g)])
    return torch.cat(out)


def bootstrap(stat: Stat, real_f: Tensor, real_y: Tensor, syn_f: Tensor, syn_y: Tensor, *,
              estimate: Mapping[str, float], replicates: int, seed: int = 0,
              confidence: float = 0.95, centred: Callable[[str], bool] = lambda name: False,
              ) -> Dict[str, Tuple[float, float]]:
    """``{name: (lo, hi)}`` for each name of ``estimate`` that ``stat`` returns, from ``replicates``
    stratified resamplings of both sets (see the module docstring); ``centred(name)``: the value is
    unbiased, centre its interval on it instead of bias-correcting."""
    if replicates < 2:
        raise ValueError(f"replicates must be >= 2, got {replicates}")
    z = z_of(confidence)
    g = torch.Generator().manual_seed(seed)
    reps: Dict[str, list] = {k: [] for k in estimate}
    for _ in range(replicates):
        ia, ib = _stratified(real_y, g), _stratified(syn_y, g)
        for k, v in stat(real_f[ia], real_y[ia], syn_f[ib], syn_y[ib]).items():
            if k in reps:
                reps[k].append(float(v))
    out = {}
    for k, vs in reps.items():
        if len(vs) < 2:
            continue
        mean = sum(vs) / len(vs)
        sd = math.sqrt(sum((v - mean) ** 2 for v in vs) / (len(vs) - 1))
        centre = estimate[k] if centred(k) else 2.0 * estimate[k] - mean
        out[k] = (centre - z * sd, centre + z * sd)
    return out


def wilson(successes: float, n: int, confidence: float = 0.95) -> Tuple[float, float]:
    """Wilson score interval of a proportion ``successes / n``."""
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    z = z_of(confidence)
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def bounds_names(bounds: Mapping[str, Tuple[float, float]]) -> Dict[str, float]:
    """``{name: (lo, hi)}`` as logged scalars ``{name_lo: lo, name_hi: hi}``."""
    out = {}
    for name, (lo, hi) in bounds.items():
        out[qualified(name, LO)] = float(lo)
        out[qualified(name, HI)] = float(hi)
    return out

"""Per-class FID (CFID), here intra-FID (Miyato & Koyama 2018): the mean over the classes present in
both sets of the FID between the two sets' features of that class. FID is biased upwards at small
n, by an amount that depends on the generator (Chong & Forsyth 2020), so compare models at the same
n per class and read the bootstrap interval (``docs/DRIFT_METRICS.md``).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, Optional, Tuple

import numpy as np
import torch
from torch import Tensor

from ._checks import ArrayLike, as_features, as_labels, check_same_dim
from .fid import frechet_distance


@dataclass
class CFIDResult:
    """Per-class FID (intra-FID).

    Attributes:
        mean: mean over ``per_class`` of the per-class FID.
        per_class: class id -> FID between the two sets' features of that class.
        n_per_class: class id -> (samples used from set a, samples used from set b).
        skipped_classes: classes present in only one of the two sets (not scored).
        ci_low, ci_high: bootstrap interval of ``mean`` (``None`` without bootstrap): the percentile
            interval of the replicates shifted by ``bootstrap_bias``. It reflects sampling
            variability at this n, not FID's own small-sample bias (Chong & Forsyth 2020).
        bootstrap_std: standard deviation of the bootstrap replicates of ``mean``.
        bootstrap_bias: mean of the replicates minus ``mean`` (resampling with replacement
            duplicates points, which inflates FID).
        confidence: level of the interval.
    """

    mean: float
    per_class: Dict[int, float]
    n_per_class: Dict[int, Tuple[int, int]] = field(default_factory=dict)
    skipped_classes: Tuple[int, ...] = ()
    ci_low: Optional[float] = None
    ci_high: Optional[float] = None
    bootstrap_std: Optional[float] = None
    bootstrap_bias: Optional[float] = None
    confidence: float = 0.95


def check_class_size(c: int, n: int, name: str) -> None:
    """A class scored by CFID needs at least 2 samples in each set (one clear error otherwise)."""
    if n < 2:
        raise ValueError(f"class {c} has {n} sample(s) in {name}; FID needs at least 2 per class")


def cfid(
    feats_a: ArrayLike,
    labels_a: ArrayLike,
    feats_b: ArrayLike,
    labels_b: ArrayLike,
    *,
    samples_per_class: Optional[int] = None,
    seed: int = 0,
    bootstrap: int = 0,
    confidence: float = 0.95,
) -> CFIDResult:
    """Per-class Fréchet distance (intra-FID, Miyato & Koyama 2018), averaged over the classes
    present in both sets.

    CFID = (1/|C|) Σ_{c∈C} FID(Xa[ya = c], Xb[yb = c]),  C = classes(a) ∩ classes(b).

    Small classes bias FID upwards by an amount that differs between generators (Chong & Forsyth
    2020), so ``samples_per_class`` draws the same number of samples (without replacement, seeded)
    from every class of both sets; a class with fewer samples than that raises ``ValueError``.
    ``bootstrap=B > 0`` adds a bias-shifted percentile interval from B resamplings (with
    replacement, within each class of each set; see :class:`CFIDResult`). Classes with n < d use the
    exact nuclear-norm route, so this is cheap even for Inception-size features.

    Raises:
        ValueError: bad shapes, NaN/Inf, mismatched feature dimensions, no common class, or a
            class with fewer than 2 samples (the message names the class and the set).
    """
    xa = as_features(feats_a, "feats_a", min_samples=1)
    xb = as_features(feats_b, "feats_b", min_samples=1)
    check_same_dim(xa.shape[1], xb.shape[1])
    ya = as_labels(labels_a, xa.shape[0], "labels_a")
    yb = as_labels(labels_b, xb.shape[0], "labels_b")
    if samples_per_class is not None and samples_per_class < 2:
        raise ValueError(f"samples_per_class must be at least 2, got {samples_per_class}")
    if bootstrap < 0:
        raise ValueError(f"bootstrap must be >= 0, got {bootstrap}")
    ca, cb = set(ya.unique().tolist()), set(yb.unique().tolist())
    common = sorted(ca & cb)
    if not common:
        raise ValueError(f"no class is present in both sets (a: {sorted(ca)}, b: {sorted(cb)})")
    gen = torch.Generator().manual_seed(seed)
    groups: Dict[int, Tuple[Tensor, Tensor]] = {}
    for c in common:
        parts = []
        for name, x, y in (("feats_a", xa, ya), ("feats_b", xb, yb)):
            xc = x[y == c]
            check_class_size(c, xc.shape[0], name)
            if samples_per_class is not None:
                if xc.shape[0] < samples_per_class:
                    raise ValueError(
                        f"class {c} has {xc.shape[0]} sample(s) in {name} < samples_per_class={samples_per_class}; "
                        "lower samples_per_class so every class and model is scored on the same n"
                    )
                xc = xc[torch.randperm(xc.shape[0], generator=gen)[:samples_per_class]]
            parts.append(xc)
        groups[c] = (parts[0], parts[1])
    per_class = {c: frechet_distance(a, b) for c, (a, b) in groups.items()}
    result = CFIDResult(
        mean=float(np.mean(list(per_class.values()))),
        per_class=per_class,
        n_per_class={c: (a.shape[0], b.shape[0]) for c, (a, b) in groups.items()},
        skipped_classes=tuple(sorted(ca ^ cb)),
        confidence=confidence,
    )
    if bootstrap:
        reps = []
        for _ in range(bootstrap):
            vals = []
            for a, b in groups.values():
                ia = torch.randint(a.shape[0], (a.shape[0],), generator=gen)
                ib = torch.randint(b.shape[0], (b.shape[0],), generator=gen)
                vals.append(frechet_distance(a[ia], b[ib]))
            reps.append(float(np.mean(vals)))
        # A resample with replacement holds ~63% distinct points, which by itself inflates FID, so
        # the percentile interval is shifted by the bootstrap estimate of that inflation.
        alpha = (1.0 - confidence) / 2.0
        shift = float(np.mean(reps)) - result.mean
        lo, hi = np.quantile(reps, [alpha, 1.0 - alpha])
        result.ci_low, result.ci_high = float(lo) - shift, float(hi) - shift
        result.bootstrap_bias = shift
        result.bootstrap_std = float(np.std(reps, ddof=1)) if bootstrap > 1 else 0.0
    return result

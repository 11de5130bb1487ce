"""Kernel Inception Distance (KID, Bińkowski et al. 2018) and its per-class mean (CKID).

KID is the unbiased estimator of the squared MMD between two feature sets with the cubic
polynomial kernel k(x, y) = (xᵀy / d + 1)³, averaged over ``subsets`` random subsets of
``subset_size`` rows of each set; its spread over the subsets is reported beside it. Unlike FID it
has no small-sample bias: a generator that draws from the real distribution scores 0 in
expectation at any n. The kernel and the estimator are torchmetrics' own (``poly_mmd`` of
``torchmetrics.image.kid``); the subsets are drawn as ``KernelInceptionDistance.compute`` draws
them (one ``randperm`` of each set per subset), from a seeded generator instead of torch's global
RNG. Features are taken in float64.

When both sets have exactly ``subset_size`` rows every subset is the whole set (the estimator does
not depend on the order), so the value is computed once and its spread is 0.

:func:`jackknife_sd` is the estimator's own standard error (delete-one jackknife over the pairs
(xᵢ, yᵢ) of two equal-size sets, from the kernel matrices in O(n²)): KID's interval. A bootstrap
resample duplicates points, and a duplicate enters the unbiased estimator as k(x, x), which with a
cubic kernel on unnormalised features is an outlier; the jackknife never duplicates.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, Optional

import torch

from ._checks import ArrayLike, as_features, as_labels, check_same_dim

#: torchmetrics' ``KernelInceptionDistance`` defaults
SUBSETS, SUBSET_SIZE = 100, 1000


@dataclass(frozen=True)
class KIDResult:
    """Attributes:
    mean: KID, the mean of the unbiased MMD² over the subsets.
    std: its standard deviation over the subsets (population std, as torchmetrics reports it).
    subset_size: rows of each set in a subset.
    """

    mean: float
    std: float
    subset_size: int


def kid(real: ArrayLike, syn: ArrayLike, *, subsets: int = SUBSETS, subset_size: Optional[int] = SUBSET_SIZE,
        degree: int = 3, gamma: Optional[float] = None, coef: float = 1.0, seed: int = 0) -> KIDResult:
    """KID between two feature sets (N, d) and (M, d).

    Args:
        subsets, degree, gamma, coef: as torchmetrics' ``KernelInceptionDistance`` (``gamma=None``: 1/d).
        subset_size: rows per subset, at most the smaller set (``None``: the smaller set's size);
            torchmetrics' default 1000 is lowered to the smaller set's size when a set is smaller.
        seed: seeds the subsets.
    """
    from torchmetrics.image.kid import poly_mmd

    a = as_features(real, "real").double()
    b = as_features(syn, "syn").double()
    check_same_dim(a.shape[1], b.shape[1])
    if subsets < 1:
        raise ValueError(f"subsets must be >= 1, got {subsets}")
    size = min(len(a), len(b)) if subset_size is None else min(subset_size, len(a), len(b))
    if size < 2:
        raise ValueError(f"KID needs at least 2 rows per subset, got {size}")
    if len(a) == len(b) == size:
        return KIDResult(float(poly_mmd(a, b, degree, gamma, coef)), 0.0, size)
    g = torch.Generator().manual_seed(seed)
    scores = torch.stack([poly_mmd(a[torch.randperm(len(a), generator=g)[:size]],
                                   b[torch.randperm(len(b), generator=g)[:size]], degree, gamma, coef)
                          for _ in range(subsets)])
    return KIDResult(float(scores.mean()), float(scores.std(unbiased=False)), size)


def jackknife_sd(real: ArrayLike, syn: ArrayLike, *, degree: int = 3, gamma: Optional[float] = None,
                 coef: float = 1.0) -> float:
    """Delete-one jackknife standard error of the unbiased MMD² of two sets of equal size m ≥ 3."""
    from torchmetrics.image.kid import poly_kernel

    a, b = as_features(real, "real").double(), as_features(syn, "syn").double()
    m = len(a)
    if len(b) != m or m < 3:
        raise ValueError(f"the jackknife needs two sets of the same size >= 3, got {len(a)} and {len(b)}")
    kxx, kyy, kxy = (poly_kernel(u, v, degree, gamma, coef) for u, v in ((a, a), (b, b), (a, b)))
    rxx = kxx.sum(1) - kxx.diagonal()
    ryy = kyy.sum(1) - kyy.diagonal()
    sxx, syy, sxy = rxx.sum(), ryy.sum(), kxy.sum()
    # leave out xᵢ and yᵢ: the sums lose their rows and columns i
    loo = ((sxx - 2 * rxx + syy - 2 * ryy) / ((m - 1) * (m - 2))
           - 2 * (sxy - kxy.sum(1) - kxy.sum(0) + kxy.diagonal()) / (m - 1) ** 2)
    return float(((m - 1) / m * ((loo - loo.mean()) ** 2).sum()).sqrt())


@dataclass(frozen=True)
class CKIDResult:
    """Per-class KID: ``mean`` over the classes present in both sets of ``per_class`` (class id ->
    KID of that class's rows); ``sd``/``per_class_sd`` their jackknife standard errors where the
    class has as many rows in both sets (else ``None``)."""

    mean: float
    per_class: Dict[int, float] = field(default_factory=dict)
    sd: Optional[float] = None
    per_class_sd: Dict[int, float] = field(default_factory=dict)


def class_kid(real: ArrayLike, real_y: ArrayLike, syn: ArrayLike, syn_y: ArrayLike, *, seed: int = 0,
              **kw) -> CKIDResult:
    """KID of each class present in both sets (its rows only), and their mean."""
    a, b = as_features(real, "real", min_samples=1), as_features(syn, "syn", min_samples=1)
    ya, yb = as_labels(real_y, len(a), "real_y"), as_labels(syn_y, len(b), "syn_y")
    common = sorted(set(ya.tolist()) & set(yb.tolist()))
    if not common:
        raise ValueError("no class is present in both sets")
    per = {c: kid(a[ya == c], b[yb == c], seed=seed + c, **kw).mean for c in common}
    poly = {k: v for k, v in kw.items() if k in ("degree", "gamma", "coef")}
    sds = {c: jackknife_sd(a[ya == c], b[yb == c], **poly) for c in common
           if int((ya == c).sum()) == int((yb == c).sum()) >= 3}
    sd = (sum(v * v for v in sds.values()) ** 0.5 / len(per)) if len(sds) == len(per) else None
    return CKIDResult(sum(per.values()) / len(per), per, sd, sds)

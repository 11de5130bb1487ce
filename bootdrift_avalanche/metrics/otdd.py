"""Optimal Transport Dataset Distance (OTDD; Alvarez-Melis & Fusi 2020, "Geometric dataset
distances via optimal transport", NeurIPS).
How it works, its cost and its choices: ``docs/DRIFT_METRICS.md`` (implementation notes).
"""
from __future__ import annotations

import math
from typing import List, Optional, Tuple

import numpy as np
import torch
from torch import Tensor

from ._checks import ArrayLike, as_features, as_labels, check_same_dim
from ._gaussian import Gauss, gauss_from_features
from .otdd_label_cost import label_cost_matrix

_ROW_BLOCK = 1024  # rows per block when building the outer cost matrix (bounds temporaries)


def otdd(
    feats_a: ArrayLike,
    labels_a: ArrayLike,
    feats_b: ArrayLike,
    labels_b: ArrayLike,
    inner: str = "gaussian",
    max_samples: Optional[int] = None,
    seed: int = 0,
) -> float:
    """OTDD between labelled feature sets A = (feats_a, labels_a) and B = (feats_b, labels_b).

    Args:
        feats_a, feats_b: (N, d) features (tensors or arrays), same d.
        labels_a, labels_b: (N,) integer class labels; the ids of A and B need not correspond.
        inner: ``"gaussian"`` (‖μ−μ′‖² + Bures², default) or ``"exact"`` (POT ``emd2`` between the
            class samples) for the label-to-label term W2²(P_y, P_y′).
        max_samples: if set, subsample each dataset to this many points (approximation, see module
            docstring).
        seed: seed of the subsampling.

    Raises:
        ValueError: bad shapes, NaN/Inf, mismatched feature dimensions, unknown options, or (Gaussian
            inner term) a class with fewer than 2 samples — the message names the class.
        RuntimeError: if the network simplex stops before optimality.
    """
    if inner not in ("gaussian", "exact"):
        raise ValueError(f"inner must be 'gaussian' or 'exact', got {inner!r}")
    if max_samples is not None and max_samples < 1:
        raise ValueError(f"max_samples must be positive, got {max_samples}")
    # class moments and the label cost on the features' device; the outer problem on the CPU (POT)
    xa, ia_full, classes_a, xb, ib_full, classes_b = labelled_sets(feats_a, labels_a, feats_b, labels_b)

    gen = torch.Generator().manual_seed(seed)
    sa = subsample(xa.shape[0], max_samples, gen)
    sb = subsample(xb.shape[0], max_samples, gen)
    pa, la = xa.cpu()[sa], ia_full.cpu()[sa]
    pb, lb = xb.cpu()[sb], ib_full.cpu()[sb]

    if inner == "gaussian":
        ga = class_gaussians(xa, ia_full, classes_a, "feats_a")
        gb = class_gaussians(xb, ib_full, classes_b, "feats_b")
        w_ab = gaussian_label_distances(ga, gb)
    else:
        w_ab = exact_label_distances(pa, la, len(classes_a), pb, lb, len(classes_b))
    cost = augmented_cost(pa, la, pb, lb, w_ab)
    return math.sqrt(max(emd2(cost), 0.0))


def labelled_sets(feats_a: ArrayLike, labels_a: ArrayLike, feats_b: ArrayLike, labels_b: ArrayLike, *,
                  device=None) -> Tuple[Tensor, Tensor, Tensor, Tensor, Tensor, Tensor]:
    """Checked inputs of every OTDD: ``(xa, ia, classes_a, xb, ib, classes_b)`` with float64 (N, d)
    features, each point's class index into the sorted class ids ``classes_*``, all on ``device``
    (default: that of ``feats_a``)."""
    xa = as_features(feats_a, "feats_a", min_samples=1)
    xb = as_features(feats_b, "feats_b", min_samples=1)
    check_same_dim(xa.shape[1], xb.shape[1])
    ya = as_labels(labels_a, xa.shape[0], "labels_a")
    yb = as_labels(labels_b, xb.shape[0], "labels_b")
    device = xa.device if device is None else torch.device(device)
    classes_a, ia = torch.unique(ya.to(device), return_inverse=True)
    classes_b, ib = torch.unique(yb.to(device), return_inverse=True)
    return xa.to(device), ia, classes_a, xb.to(device), ib, classes_b


# --------------------------------------------------------------------------------------------
# label-to-label term
# --------------------------------------------------------------------------------------------
def class_gaussians(x: Tensor, idx: Tensor, classes: Tensor, name: str) -> List[Gauss]:
    """Gaussian moments of every class; classes with n ≤ d keep their centred features (exact
    nuclear-norm route), larger ones their covariance (root factor computed once, on demand)."""
    out = []
    d = x.shape[1]
    for k, c in enumerate(classes.tolist()):
        xc = x[idx == k]
        if xc.shape[0] < 2:
            raise ValueError(
                f"class {c} has {xc.shape[0]} sample(s) in {name}; the Gaussian label term needs at least 2 "
                "per class (use inner='exact' or drop the class)"
            )
        out.append(gauss_from_features(xc, keep_low=xc.shape[0] <= d))
    return out


def gaussian_label_distances(ga: List[Gauss], gb: List[Gauss]) -> Tensor:
    """(Ca, Cb) CPU matrix of ‖μi − μj‖² + Bures²(Σi, Σj) for all class pairs, computed on the
    classes' device from one shared root factor per class (:mod:`.otdd_label_cost`); clamped at 0."""
    return label_cost_matrix(ga, gb).cpu()


def joint_label_distances(ga: List[Gauss], gb: List[Gauss]) -> Tensor:
    """((Ca+Cb), (Ca+Cb)) Gaussian label costs of A's classes followed by B's, within and across
    sets, with exact zeros on the diagonal: what a debiased Sinkhorn divergence needs (its self
    terms OT(A, A), OT(B, B) compare a set with itself)."""
    w_aa, w_bb = gaussian_label_distances(ga, ga), gaussian_label_distances(gb, gb)
    w_ab = gaussian_label_distances(ga, gb)
    w_aa.fill_diagonal_(0.0)
    w_bb.fill_diagonal_(0.0)
    return torch.cat([torch.cat([w_aa, w_ab], 1), torch.cat([w_ab.T, w_bb], 1)], 0)


def exact_label_distances(xa: Tensor, la: Tensor, ca: int, xb: Tensor, lb: Tensor, cb: int) -> Tensor:
    """(ca, cb) matrix of exact W2² between class samples (POT ``emd2``, uniform weights, squared
    Euclidean cost); classes absent from a subsample get +inf (they carry no mass anyway)."""
    w = torch.full((ca, cb), float("inf"), dtype=torch.float64)
    groups_a = {k: xa[la == k] for k in range(ca)}
    groups_b = {k: xb[lb == k] for k in range(cb)}
    for i, gi in groups_a.items():
        for j, gj in groups_b.items():
            if gi.shape[0] and gj.shape[0]:
                w[i, j] = max(emd2(sq_dists(gi, gj)), 0.0)
    return w


# --------------------------------------------------------------------------------------------
# outer problem
# --------------------------------------------------------------------------------------------
def augmented_cost(xa: Tensor, la: Tensor, xb: Tensor, lb: Tensor, w: Tensor) -> Tensor:
    """(n, m) cost ‖xa_i − xb_j‖² + w[la_i, lb_j], built in row blocks (float64)."""
    cost = torch.empty(xa.shape[0], xb.shape[0], dtype=torch.float64)
    nb = xb.square().sum(1)
    for s in range(0, xa.shape[0], _ROW_BLOCK):
        blk = cost[s : s + _ROW_BLOCK]
        xs = xa[s : s + _ROW_BLOCK]
        torch.matmul(xs, xb.T, out=blk)
        blk.mul_(-2.0).add_(xs.square().sum(1)[:, None]).add_(nb[None, :]).clamp_(min=0.0)
        blk.add_(w[la[s : s + _ROW_BLOCK][:, None], lb[None, :]])
    return cost


def sq_dists(a: Tensor, b: Tensor) -> Tensor:
    return (a.square().sum(1)[:, None] + b.square().sum(1)[None, :] - 2.0 * a @ b.T).clamp_min(0.0)


def subsample(n: int, k: Optional[int], gen: torch.Generator) -> Tensor:
    if k is None or k >= n:
        return torch.arange(n)
    return torch.randperm(n, generator=gen)[:k].sort().values


def emd2(cost: Tensor) -> float:
    """Exact OT cost with uniform weights (POT network simplex); raises if not optimal."""
    import ot

    n, m = cost.shape
    c = cost.numpy()
    a = np.full(n, 1.0 / n)
    b = np.full(m, 1.0 / m)
    val, log = ot.emd2(a, b, c, numItermax=max(100_000, 50 * n * m), log=True)
    if log.get("warning") is not None:
        raise RuntimeError(f"exact OT ({n}x{m}) did not reach optimality: {log['warning']}")
    return float(val)

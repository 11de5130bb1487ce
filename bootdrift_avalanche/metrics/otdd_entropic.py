"""Entropic OTDD with a streamed cost: the debiased Sinkhorn divergence of the OTDD ground cost,
computed without ever holding an n×m matrix, for sets too large for exact OT.

    S_ε(A, B) = OT_ε(A, B) − ½ OT_ε(A, A) − ½ OT_ε(B, B),   OTDD_ent = (2 S_ε)^½

with ground cost c(z, z′) = ½(‖x − x′‖² + W2²(P_y, P_y′)) (Gaussian label term as
:func:`~bootdrift_avalanche.metrics.otdd.otdd`; halved as geomloss' p = 2 cost, hence the factor
2) and ε = (``blur``·D)², D the diameter of the problem (√ of the largest ground cost bound).
S_ε → OTDD² as ε → 0 and its bias is of second order in ε (Feydy et al., "Interpolating between
Optimal Transport and MMD using Sinkhorn Divergences", AISTATS 2019); the error against exact
OTDD is measured by ``bench/metrics_scale.py``.

The iterations are geomloss' own (``sinkhorn_loop``: symmetric updates along the ε-annealing
schedule from D² down to ε, factor ``scaling``² per step, Feydy 2020, Alg. 3.5). geomloss streams
the cost with KeOps (its ``online`` backend), which needs a C++/CUDA compiler at run time and is
not a dependency here; the soft-min below is its plain-torch equivalent: rows in blocks, each
block's cost ‖x‖² + ‖x′‖² − 2 x·x′ + W[y, y′] rebuilt by one matmul and reduced by logsumexp. So
memory is O((n + m)·d + block·m), time O(iterations · n · m · d): a GPU method at large n (the same
code runs on CUDA tensors). Its time and error against exact OTDD: ``docs/DRIFT_METRICS.md``
(implementation notes).
"""
from __future__ import annotations

import math
from typing import Tuple

import torch
from torch import Tensor

from ._checks import ArrayLike
from .otdd import class_gaussians, joint_label_distances, labelled_sets

_BLOCK_BYTES = 64 * 2**20  # one block of rows of the streamed cost

Cloud = Tuple[Tensor, Tensor, Tensor]  # points, their squared norms, their label index


def otdd_entropic(
    feats_a: ArrayLike,
    labels_a: ArrayLike,
    feats_b: ArrayLike,
    labels_b: ArrayLike,
    *,
    blur: float = 0.01,
    scaling: float = 0.8,
    double: bool = False,
) -> float:
    """Entropic OTDD (module docstring) between (feats_a, labels_a) and (feats_b, labels_b).

    Args:
        feats_a, feats_b: (N, d) features, same d, on any device (computed on ``feats_a``'s).
        labels_a, labels_b: (N,) integer labels.
        blur: √ε relative to the diameter of the problem (smaller: closer to exact OTDD, more
            annealing steps).
        scaling: annealing factor of the blur per step (geomloss' ``scaling``; nearer 1: more steps,
            closer to the converged value).
        double: float64 instead of float32.

    Raises:
        ValueError: bad shapes, NaN/Inf, mismatched dimensions, a class with fewer than 2 points,
            ``blur`` or ``scaling`` out of (0, 1).
    """
    # geomloss 0.3 keeps its point-cloud solvers under _legacy (setup.cfg pins geomloss < 0.4)
    from geomloss._legacy.sinkhorn_divergence import epsilon_schedule, log_weights, sinkhorn_cost, sinkhorn_loop

    if not (0 < blur < 1 and 0 < scaling < 1):
        raise ValueError(f"need 0 < blur < 1 and 0 < scaling < 1, got blur={blur}, scaling={scaling}")
    xa, ia, classes_a, xb, ib, classes_b = labelled_sets(feats_a, labels_a, feats_b, labels_b)
    device, dtype = xa.device, (torch.float64 if double else torch.float32)
    w = joint_label_distances(class_gaussians(xa, ia, classes_a, "feats_a"),
                              class_gaussians(xb, ib, classes_b, "feats_b"))
    half_w = (0.5 * w).to(device=device, dtype=dtype)
    box = torch.stack([torch.minimum(xa.min(0).values, xb.min(0).values),
                       torch.maximum(xa.max(0).values, xb.max(0).values)])
    diameter = math.sqrt(float((box[1] - box[0]).square().sum()) + float(w.max()))

    xa, xb = xa.to(dtype), xb.to(dtype)
    a: Cloud = (xa, 0.5 * xa.square().sum(1), ia)
    b: Cloud = (xb, 0.5 * xb.square().sum(1), ib + len(classes_a))

    def softmin(eps: float, c: Tuple[Cloud, Cloud], h: Tensor) -> Tensor:
        (x, nx, lx), (y, ny, ly) = c
        step = max(1, _BLOCK_BYTES // (8 * y.shape[0]))
        out = torch.empty(x.shape[0], dtype=x.dtype, device=x.device)
        for s in range(0, x.shape[0], step):
            cost = torch.addmm(nx[s : s + step, None] + ny[None, :], x[s : s + step], y.T, alpha=-1.0)
            cost += half_w[lx[s : s + step, None], ly[None, :]]
            out[s : s + step] = -eps * torch.logsumexp(h[None, :] - cost / eps, dim=1)
        return out

    wa = torch.full((xa.shape[0],), 1.0 / xa.shape[0], dtype=dtype, device=device)
    wb = torch.full((xb.shape[0],), 1.0 / xb.shape[0], dtype=dtype, device=device)
    eps_list = epsilon_schedule(2, diameter, blur * diameter, scaling)
    with torch.no_grad():
        f_aa, g_bb, g_ab, f_ba = sinkhorn_loop(softmin, log_weights(wa), log_weights(wb), (a, a), (b, b), (a, b),
                                               (b, a), eps_list, None, debias=True)
        value = sinkhorn_cost(eps_list[-1], None, wa, wb, f_aa, g_bb, g_ab, f_ba, debias=True)
    return math.sqrt(max(2.0 * float(value), 0.0))

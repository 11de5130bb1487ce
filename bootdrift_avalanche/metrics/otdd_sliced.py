"""Sliced OTDD (s-OTDD; Nguyen, Nguyen, Le, Ho et al., "Lightspeed Geometric Dataset Distance via
Sliced Optimal Transport", ICML 2025): a dataset distance in O(L·n log n) time and O(n) memory.
How it works, its cost and its choices: ``docs/DRIFT_METRICS.md`` (implementation notes).
"""
from __future__ import annotations

import math

import torch
from torch import Tensor

from ._checks import ArrayLike
from .otdd import labelled_sets

_CHUNK_BYTES = 256 * 2**20  # working memory of one chunk of projections


def otdd_sliced(
    feats_a: ArrayLike,
    labels_a: ArrayLike,
    feats_b: ArrayLike,
    labels_b: ArrayLike,
    *,
    projections: int = 1000,
    moments: int = 5,
    seed: int = 0,
    double: bool = False,
) -> float:
    """s-OTDD between (feats_a, labels_a) and (feats_b, labels_b) (``docs/DRIFT_METRICS.md``).

    Args:
        feats_a, feats_b: (N, d) features, same d, on any device (computed on ``feats_a``'s).
        labels_a, labels_b: (N,) integer labels.
        projections: number L of random projections (Monte-Carlo error ∝ 1/√L).
        moments: number K of class moments per projection (the paper uses 5 to 10).
        seed: seed of the projections and moment orders (both sets use the same draws).
        double: float64 instead of float32.

    Raises:
        ValueError: bad shapes, NaN/Inf, mismatched dimensions, non-positive ``projections`` or
            ``moments``.
    """
    if projections < 1 or moments < 1:
        raise ValueError(f"projections and moments must be >= 1, got {projections} and {moments}")
    xa, ia, classes_a, xb, ib, classes_b = labelled_sets(feats_a, labels_a, feats_b, labels_b)
    device, dtype = xa.device, (torch.float64 if double else torch.float32)
    xa, xb = xa.to(dtype), xb.to(dtype)

    gen = torch.Generator().manual_seed(seed)  # drawn on the CPU: same values on every device
    d = xa.shape[1]
    theta = torch.randn(projections, d, generator=gen, dtype=torch.float64)
    theta /= theta.norm(dim=1, keepdim=True)
    psi = torch.randn(projections, moments + 1, generator=gen, dtype=torch.float64)
    psi /= psi.norm(dim=1, keepdim=True)
    orders = _zero_truncated_poisson(torch.arange(1, moments + 1, dtype=torch.float64).expand(projections, -1), gen)
    log_fact = torch.lgamma(orders + 1)
    theta, psi, orders, log_fact = (t.to(device=device, dtype=dtype) for t in (theta, psi, orders, log_fact))

    per_projection = 8 * (xa.shape[0] + xb.shape[0]) * 4
    chunk = max(1, min(projections, _CHUNK_BYTES // per_projection))
    total = torch.zeros((), dtype=torch.float64, device=device)
    for s in range(0, projections, chunk):
        sl = slice(s, s + chunk)
        pa = _embed(xa, ia, theta[sl], psi[sl], orders[sl], log_fact[sl])
        pb = _embed(xb, ib, theta[sl], psi[sl], orders[sl], log_fact[sl])
        total += _w2_squared_1d(pa, pb).sum().double()
    return math.sqrt(max(float(total) / projections, 0.0))


def _embed(x: Tensor, idx: Tensor, theta: Tensor, psi: Tensor, orders: Tensor, log_fact: Tensor) -> Tensor:
    """(n, L) projections s_l(x, y) of every point for a chunk of L projections."""
    proj = x @ theta.T  # (n, L)
    n_classes = int(idx.max()) + 1
    counts = torch.bincount(idx, minlength=n_classes).to(x.dtype)
    # per-class sums of every power up to the largest order, by repeated products (orders are
    # small integers; a float ``pow`` per (point, projection, moment) would cost exp and log)
    sums = torch.zeros(int(orders.max()), n_classes, proj.shape[1], dtype=x.dtype, device=x.device)
    power = torch.ones_like(proj)
    for r in range(sums.shape[0]):
        power = power * proj
        sums[r].index_add_(0, idx, power)
    picked = sums.permute(1, 2, 0).gather(2, (orders.long() - 1)[None].expand(n_classes, -1, -1))  # (C, L, K)
    mom = picked / counts[:, None, None] * torch.exp(-log_fact)[None]  # E[(θᵀx)^r] / r!
    return psi[:, 0] * proj + (mom * psi[None, :, 1:]).sum(-1)[idx]


def _w2_squared_1d(u: Tensor, v: Tensor) -> Tensor:
    """W_2² between the columns of u (n, L) and v (m, L), uniform weights: sorted differences when
    n = m, else POT's quantile-function route (``ot.wasserstein_1d``)."""
    if u.shape[0] == v.shape[0]:
        return (u.sort(0).values - v.sort(0).values).square().mean(0)
    import ot

    return ot.wasserstein_1d(u, v, p=2)


def _zero_truncated_poisson(rate: Tensor, gen: torch.Generator) -> Tensor:
    """Poisson(rate) conditioned on ≥ 1, by inverting the CDF on a uniform in (P(0), 1]."""
    u = torch.rand(rate.shape, generator=gen, dtype=torch.float64)
    p0 = torch.exp(-rate)
    u = p0 + u * (1 - p0)
    k = torch.ones_like(rate)
    pmf = rate * p0  # P(1)
    cdf = p0 + pmf
    for _ in range(200):  # P(k > rate + 200) is far below float precision for the rates used
        if not bool((cdf < u).any()):
            break
        step = cdf < u
        k = torch.where(step, k + 1, k)
        pmf = pmf * rate / k
        cdf = torch.where(step, cdf + pmf, cdf)
    return k

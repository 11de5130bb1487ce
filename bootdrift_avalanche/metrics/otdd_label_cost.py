"""OTDD's Gaussian label cost for every class pair at once: W_ij = ‖μi − μj‖² + Bures²(Σi, Σj).

Each class gets one square-root factor L (d × r, L Lᵀ = Σ), computed once and shared by all its
pairs: its centred features / √(n−1) when n ≤ d (r = n, no d×d matrix), else the root factor of
its covariance (r = d, ``_gaussian.psd_root_factor``). For any such factors

    tr (Σi Σj)^½ = ‖Ljᵀ Li‖*  (nuclear norm),

so the trace term of a block of pairs is one matrix product of the stacked factors (a single GEMM
of (Cb·r) × d by d × (rows·r), no per-pair copy) followed by the batched eigenvalues of the r×r
Gram matrices of the cross products (‖G‖* = Σ √λ(GᵀG)). Factors of different ranks are padded with
zero columns, which leave every nuclear norm unchanged.

Cost: Ca·Cb·(2 r² d + ~9 r³) flops, done in BLAS/LAPACK batches on the features' device; memory is
the stacked factors (C·d·r) plus one block of class pairs' cross products, sized to ``memory_bytes``
(default :data:`LABEL_COST_BUDGET`, 128 MiB). Values agree with the per-pair SVD route of
``_gaussian.trace_sqrt_pairs`` within 1e-7 · (tr Σi + tr Σj) (the eigenvalues of Gram matrices
carry √eps of their largest singular value; ``tests/metrics/test_otdd_label_cost.py``), measured
~1e-11 relative on the sum in ``bench/drift_scale.py``, which times both from 100 to 1,000 classes
(``docs/DRIFT_SCALE.md``).
"""
from __future__ import annotations

from typing import List, Optional, Sequence, Tuple

import torch
from torch import Tensor

from ._gaussian import Gauss

#: Memory budget (bytes) of one block of class pairs: their cross products, a copy, their Gram matrices.
LABEL_COST_BUDGET = 128 * 2**20


def class_factors(gs: Sequence[Gauss]) -> Tensor:
    """(C, d, r) stacked square-root factors of the classes' covariances, zero-padded to the
    largest rank (the centred features when a class kept them, else the root factor)."""
    factors: List[Tensor] = [g.low if g.low is not None else g.root() for g in gs]
    d = factors[0].shape[0]
    r = max(f.shape[1] for f in factors)
    out = factors[0].new_zeros(len(factors), d, r)
    for k, f in enumerate(factors):
        out[k, :, : f.shape[1]] = f
    return out


def trace_sqrt_matrix(fa: Tensor, fb: Tensor, *, memory_bytes: Optional[int] = None) -> Tensor:
    """(Ca, Cb) matrix of tr (Σi Σj)^½ = ‖fb[j]ᵀ fa[i]‖* from stacked factors ``fa`` (Ca, d, ra)
    and ``fb`` (Cb, d, rb), in blocks of class pairs of at most ``memory_bytes`` (a single pair
    may exceed it)."""
    budget = LABEL_COST_BUDGET if memory_bytes is None else memory_bytes
    ca, d, ra = fa.shape
    cb, _, rb = fb.shape
    r = min(ra, rb)
    pairs = max(1, budget // (fa.element_size() * (2 * ra * rb + 2 * r * r)))  # cross products, a copy, Grams
    cols = min(cb, pairs)
    rows = max(1, pairs // cols)
    b_flat = fb.transpose(1, 2).reshape(cb * rb, d)  # every class of B stacked once: one GEMM per block
    out = torch.empty(ca, cb, dtype=fa.dtype, device=fa.device)
    for s in range(0, ca, rows):
        blk = fa[s : s + rows]
        k = blk.shape[0]
        a_flat = blk.permute(1, 0, 2).reshape(d, k * ra)
        for c in range(0, cb, cols):
            m = min(cols, cb - c)
            cross = (b_flat[c * rb : (c + m) * rb] @ a_flat).view(m, rb, k, ra).permute(2, 0, 1, 3)
            gram = cross.transpose(-1, -2) @ cross if ra <= rb else cross @ cross.transpose(-1, -2)
            out[s : s + k, c : c + m] = torch.linalg.eigvalsh(gram).clamp_min(0).sqrt().sum(-1)
    return out


def label_cost_matrix(ga: Sequence[Gauss], gb: Sequence[Gauss], *, memory_bytes: Optional[int] = None) -> Tensor:
    """(Ca, Cb) matrix of ‖μi − μj‖² + Bures²(Σi, Σj) for every pair of classes of A and B, on the
    classes' device, clamped at 0 (see the module docstring)."""
    tr = trace_sqrt_matrix(class_factors(ga), class_factors(gb), memory_bytes=memory_bytes)
    mu_a = torch.stack([g.mean for g in ga])
    mu_b = torch.stack([g.mean for g in gb])
    t_a = torch.tensor([g.trace for g in ga], dtype=tr.dtype, device=tr.device)
    t_b = torch.tensor([g.trace for g in gb], dtype=tr.dtype, device=tr.device)
    sq = (mu_a.square().sum(1)[:, None] + mu_b.square().sum(1)[None, :] - 2.0 * mu_a @ mu_b.T).clamp_min(0.0)
    return (sq + t_a[:, None] + t_b[None, :] - 2.0 * tr).clamp_min(0.0)


def label_cost_pairs(ga: Sequence[Gauss], gb: Sequence[Gauss], rows: Tensor, cols: Tensor, *,
                     factors: Optional[Tuple[Tensor, Tensor]] = None, memory_bytes: Optional[int] = None) -> Tensor:
    """(P,) exact label costs W_ij of the class pairs ``(rows[p], cols[p])`` alone, same values as
    :func:`label_cost_matrix`; one batched product and eigenvalue call per block of pairs.
    ``factors``: :func:`class_factors` of ``ga`` and ``gb`` when the caller keeps them."""
    budget = LABEL_COST_BUDGET if memory_bytes is None else memory_bytes
    fa, fb = factors if factors is not None else (class_factors(ga), class_factors(gb))
    ra, rb = fa.shape[2], fb.shape[2]
    r = min(ra, rb)
    per = max(1, budget // (fa.element_size() * (fa.shape[1] * (ra + rb) + 2 * ra * rb + 2 * r * r)))
    rows, cols = rows.to(fa.device), cols.to(fa.device)
    tr = torch.empty(len(rows), dtype=fa.dtype, device=fa.device)
    for s in range(0, len(rows), per):
        a, b = fa[rows[s : s + per]], fb[cols[s : s + per]]
        cross = b.transpose(1, 2) @ a  # (k, rb, ra)
        gram = cross.transpose(-1, -2) @ cross if ra <= rb else cross @ cross.transpose(-1, -2)
        tr[s : s + per] = torch.linalg.eigvalsh(gram).clamp_min(0).sqrt().sum(-1)
    mu_a, mu_b = torch.stack([g.mean for g in ga])[rows], torch.stack([g.mean for g in gb])[cols]
    t_a = torch.tensor([g.trace for g in ga], dtype=tr.dtype, device=tr.device)[rows]
    t_b = torch.tensor([g.trace for g in gb], dtype=tr.dtype, device=tr.device)[cols]
    return ((mu_a - mu_b).square().sum(1) + t_a + t_b - 2.0 * tr).clamp_min(0.0)


def label_cost_lower_bound(ga: Sequence[Gauss], gb: Sequence[Gauss]) -> Tensor:
    """(Ca, Cb) lower bound ‖μi − μj‖² + (√tr Σi − √tr Σj)² ≤ W_ij, free given the moments
    (‖Ljᵀ Li‖* ≤ ‖Li‖_F ‖Lj‖_F)."""
    mu_a = torch.stack([g.mean for g in ga])
    mu_b = torch.stack([g.mean for g in gb])
    s_a = torch.tensor([g.trace for g in ga], dtype=mu_a.dtype, device=mu_a.device).clamp_min(0).sqrt()
    s_b = torch.tensor([g.trace for g in gb], dtype=mu_a.dtype, device=mu_a.device).clamp_min(0).sqrt()
    sq = (mu_a.square().sum(1)[:, None] + mu_b.square().sum(1)[None, :] - 2.0 * mu_a @ mu_b.T).clamp_min(0.0)
    return sq + (s_a[:, None] - s_b[None, :]).square()

"""Gaussian linear algebra shared by FID/CFID (:mod:`.fid`) and OTDD's Gaussian label cost
(:mod:`.otdd_label_cost`): square-root factors, the trace term tr (Σa Σb)^½, Bures / 2-Wasserstein
distances between Gaussians, and the batched evaluation of that trace term over a list of pairs
(FID, CFID's per-class pairs; OTDD's all-pairs matrix has its own route in :mod:`.otdd_label_cost`).

How the trace term is computed (never ``scipy.linalg.sqrtm`` of the non-symmetric Σa Σb):

* If F is any square-root factor of Σa (F Fᵀ = Σa), Σa Σb = F Fᵀ Σb has the same eigenvalues as
  the symmetric PSD matrix Fᵀ Σb F, so tr (Σa Σb)^½ = Σ √λ(Fᵀ Σb F) by a symmetric eigensolver
  (eigenvalues clamped at 0). F = Σa^½ gives the textbook Σa^½ Σb Σa^½; we use the Cholesky factor
  when Σa is positive definite (a third of the cost of an eigendecomposition) and U √Λ from
  ``eigh`` otherwise. The factor can be cached by its owner (``GaussianStats``), so a fixed real
  reference pays for it once.
* **Nuclear-norm route**: with centred features Xc, Yc, Σa = XcᵀXc/(n−1) and Σb = YcᵀYc/(m−1),
  so tr (Σa Σb)^½ = ‖Yc Xcᵀ‖* / √((n−1)(m−1)) — exact, and no d×d matrix is formed. Used when
  n or m < d and the features are at hand (singular values by SVD up to 256 rows, beyond that as
  √eigenvalues of the smaller Gram matrix, ~3x faster). With only one side's features (n < d)
  and the other's covariance, the trace is Σ √λ(Xc Σb Xcᵀ)/√(n−1): an n×n problem.

:class:`Gauss` is the internal view of one Gaussian as the trace terms need it; the public
functions here are re-exported by :mod:`bootdrift_avalanche.metrics`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import torch
from torch import Tensor

from ._checks import check_same_dim

_PAIR_CHUNK_BYTES = 256 * 2**20  # memory budget for one stacked batch of class-pair matrices
_SVD_MAX = 256  # nuclear norms of cross-Gram matrices up to this size by SVD, larger by eigvalsh


# --------------------------------------------------------------------------------------------
# pure functions of covariance matrices
# --------------------------------------------------------------------------------------------
def psd_root_factor(cov: Tensor) -> Tensor:
    """A square-root factor F (d×r) of a symmetric PSD matrix, F Fᵀ = Σ.

    The Cholesky factor when Σ is numerically positive definite, else U √Λ from ``eigh`` with the
    eigenvalues below ``d·eps·λmax`` dropped (so r = numerical rank). Any such F gives the same
    spectrum of Fᵀ A F as Σ^½ A Σ^½, which is all the trace terms need."""
    chol, info = torch.linalg.cholesky_ex(cov)
    if int(info) == 0 and bool(torch.isfinite(chol).all()):
        return chol
    evals, evecs = torch.linalg.eigh(cov)
    tol = cov.shape[0] * torch.finfo(cov.dtype).eps * max(float(evals[-1]), 0.0)
    keep = evals > tol
    return evecs[:, keep] * evals[keep].sqrt()


def sqrtm_psd(cov: Tensor) -> Tensor:
    """Symmetric square root Σ^½ of a PSD matrix by ``eigh`` (negative eigenvalues clamped to 0)."""
    evals, evecs = torch.linalg.eigh(cov)
    return (evecs * evals.clamp_min(0).sqrt()) @ evecs.T


def trace_sqrt_product(cov_a: Tensor, cov_b: Tensor, *, root_a: Optional[Tensor] = None) -> float:
    """tr (Σa Σb)^½ = Σ √λ(Fᵀ Σb F) for a root factor F of Σa (pass ``root_a`` to reuse one)."""
    f = psd_root_factor(cov_a) if root_a is None else root_a
    return float(sum_sqrt_eigvalsh(f.T @ cov_b @ f))


def bures_squared(cov_a: Tensor, cov_b: Tensor, *, root_a: Optional[Tensor] = None) -> float:
    """Squared Bures distance tr Σa + tr Σb − 2 tr (Σa^½ Σb Σa^½)^½ (clamped at 0)."""
    t = float(cov_a.trace() + cov_b.trace()) - 2.0 * trace_sqrt_product(cov_a, cov_b, root_a=root_a)
    return max(t, 0.0)


def gaussian_w2_squared(mu_a: Tensor, cov_a: Tensor, mu_b: Tensor, cov_b: Tensor) -> float:
    """Squared 2-Wasserstein distance between N(μa, Σa) and N(μb, Σb): ‖μa−μb‖² + Bures²(Σa, Σb).
    This is the Fréchet distance of Heusel et al. (2017) computed from the moments."""
    check_same_dim(mu_a.shape[-1], mu_b.shape[-1])
    return float((mu_a - mu_b).square().sum()) + bures_squared(cov_a, cov_b)


def sum_sqrt_eigvalsh(m: Tensor) -> Tensor:
    """Σ √max(λ, 0) over the eigenvalues of the symmetric matrices ``m`` (batched over leading dims)."""
    m = 0.5 * (m + m.transpose(-1, -2))  # remove rounding asymmetry before the symmetric solver
    return torch.linalg.eigvalsh(m).clamp_min(0).sqrt().sum(-1)


# --------------------------------------------------------------------------------------------
# one Gaussian, as the trace terms need it
# --------------------------------------------------------------------------------------------
@dataclass
class Gauss:
    """Mean, tr Σ and either the centred features (as a d×n factor, ``low``) or Σ itself; the
    root factor of Σ is computed on demand and may be cached by the owner (``root_fn``)."""

    mean: Tensor
    trace: float
    low: Optional[Tensor] = None  # (d, n): centred features / √(n−1), so low @ low.T = Σ
    cov: Optional[Tensor] = None
    root_fn: Optional[Callable[[], Tensor]] = None  # owner's cached root (GaussianStats)
    root_cached: bool = False  # the owner already holds the root: prefer this side as factor side
    _root: Optional[Tensor] = None

    def full_cov(self) -> Tensor:
        if self.cov is None:
            self.cov = self.low @ self.low.T
        return self.cov

    def root(self) -> Tensor:
        if self.root_fn is not None:
            return self.root_fn()
        if self._root is None:
            self._root = psd_root_factor(self.full_cov())
        return self._root

    def priority(self) -> int:
        """Which side should supply the root factor: 2 = already computed, 1 = cacheable."""
        if self.root_cached or self._root is not None:
            return 2
        return 1 if self.root_fn is not None else 0


def gauss_from_features(x: Tensor, *, keep_low: bool) -> Gauss:
    n = x.shape[0]
    mean = x.mean(0)
    xc = x - mean
    if keep_low:
        xc /= math.sqrt(n - 1)
        return Gauss(mean=mean, trace=float(xc.square().sum()), low=xc.T)
    cov = gram(xc).div_(n - 1)
    return Gauss(mean=mean, trace=float(cov.diagonal().sum()), cov=cov)


def gram(xc: Tensor) -> Tensor:
    """xcᵀ xc; on CPU through NumPy, whose ``a.T @ a`` uses the symmetric rank-k BLAS kernel (half
    the flops of a general matmul)."""
    if xc.device.type == "cpu":
        a = xc.numpy()
        return torch.from_numpy(a.T @ a)
    return xc.T @ xc


def trace_sqrt_pairs(left: Sequence[Gauss], right: Sequence[Gauss]) -> Tensor:
    """tr (Σl Σr)^½ for each pair (left[k], right[k]); pairs of the same kind and shapes are stacked
    and solved in batches of bounded memory.

    Kinds: both low-rank -> nuclear norm of the (n_r × n_l) cross-Gram matrix; one low-rank ->
    eigenvalues of Fᵀ Σ F with F the low-rank factor (n×n); both full -> eigenvalues of Fᵀ Σ F with
    F the (cached) root factor of one side."""
    out = torch.empty(len(left), dtype=torch.float64)
    groups: Dict[tuple, List[Tuple[int, Tensor, Tensor]]] = {}
    for k, (a, b) in enumerate(zip(left, right)):
        if a.low is not None and b.low is not None:
            kind, f, g = "nuclear", a.low, b.low
        elif a.low is not None or b.low is not None:
            f, other = (a.low, b) if a.low is not None else (b.low, a)
            kind, g = "eigen", other.full_cov()
        else:
            fac, other = (b, a) if b.priority() > a.priority() else (a, b)
            kind, f, g = "eigen", fac.root(), other.full_cov()
        groups.setdefault((kind, tuple(f.shape), tuple(g.shape)), []).append((k, f, g))
    for (kind, fs, gs), items in groups.items():
        per_pair = 8 * (fs[0] * fs[1] + gs[0] * gs[1] + 2 * fs[1] * max(fs[1], gs[1]))
        step = max(1, _PAIR_CHUNK_BYTES // per_pair)
        for s in range(0, len(items), step):
            chunk = items[s : s + step]
            if len(chunk) == 1:  # a single pair (FID): views, no copies
                f, g = chunk[0][1][None], chunk[0][2][None]
            else:
                f = torch.stack([it[1] for it in chunk])
                g = torch.stack([it[2] for it in chunk])
            if kind == "nuclear":  # ‖G‖* with G = Fgᵀ Ff, the (scaled) cross-Gram matrix
                cross = g.transpose(1, 2) @ f
                if min(cross.shape[-2:]) <= _SVD_MAX:
                    vals = torch.linalg.svdvals(cross).sum(-1)
                else:  # √eigenvalues of the smaller Gram matrix: same values, ~3x faster than an SVD
                    small = (cross.transpose(1, 2) @ cross if cross.shape[-1] <= cross.shape[-2]
                             else cross @ cross.transpose(1, 2))
                    vals = sum_sqrt_eigvalsh(small)
            else:
                vals = sum_sqrt_eigvalsh(f.transpose(1, 2) @ g @ f)
            out[[it[0] for it in chunk]] = vals.cpu()
    return out


def frechet_from_gauss(a: Gauss, b: Gauss) -> float:
    check_same_dim(a.mean.shape[0], b.mean.shape[0])
    tr = float(trace_sqrt_pairs([a], [b])[0])
    return float((a.mean - b.mean).square().sum()) + a.trace + b.trace - 2.0 * tr


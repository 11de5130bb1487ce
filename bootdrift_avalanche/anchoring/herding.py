"""Kernel herding toward a stored Gaussian: the selection step of anchored replay.

Given n candidate feature vectors and a target N(μ, Σ) (a class's anchor), herding (Chen, Welling
& Smola 2010, "Super-samples from kernel herding") picks k of them one at a time, each time the
candidate x maximising

    m(x) − (1/(t+1)) Σ_{i≤t} κ(x, x_i),    κ(x, x') = exp(−‖x − x'‖² / 2ℓ²),

where m(x) = E_{z~N(μ,Σ)} κ(x, z) is the target's kernel mean embedding. For a Gaussian target it
has a closed form, m(x) = det(I + Σ/ℓ²)^{-1/2} exp(−½ (x−μ)ᵀ (Σ + ℓ² I)^{-1} (x−μ)), so only the
stored mean and covariance are needed. The chosen set's empirical embedding approaches the
target's: its mean and covariance approach the stored ones.

Why herding and not greedy Fréchet selection: a greedy Fréchet step scores every remaining
candidate by a d×d eigendecomposition (k·n of them per class: 120 x 480 = 57,600 for one Split
Digits class), herding by one row of an n×n kernel matrix. Written here (a dozen lines) because no
installed library selects toward a closed-form Gaussian embedding.
"""
from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor


def kernel_herding(features: Tensor, k: int, mean: Tensor, cov: Tensor, *,
                   bandwidth: Optional[float] = None) -> Tensor:
    """Indices (k,) of the rows of ``features`` (n, d) chosen by kernel herding toward N(``mean``,
    ``cov``), in the order chosen, without repetition. ``bandwidth`` ℓ defaults to the median
    distance between candidates (the usual median heuristic)."""
    x = features.detach().double()
    n, d = x.shape
    if not 1 <= k <= n:
        raise ValueError(f"cannot choose k={k} of {n} candidates (need 1 <= k <= n)")
    if mean.shape != (d,) or cov.shape != (d, d):
        raise ValueError(f"target of shape {tuple(mean.shape)}, {tuple(cov.shape)} does not match "
                         f"{d}-dimensional features")
    sq = torch.cdist(x, x).square()
    if bandwidth is None:
        off = sq[~torch.eye(n, dtype=torch.bool)]
        l2 = float(off.median()) / 2.0 if off.numel() else 1.0  # ℓ² = median‖x−x'‖² / 2
        l2 = l2 if l2 > 0 else 1.0
    else:
        l2 = float(bandwidth) ** 2
    mu, sigma = mean.double(), cov.double()
    eye = torch.eye(d, dtype=torch.float64)
    diff = x - mu
    quad = (diff * torch.linalg.solve(sigma + l2 * eye, diff.T).T).sum(1)
    target = torch.exp(-0.5 * torch.logdet(eye + sigma / l2) - 0.5 * quad)
    kernel = torch.exp(-sq / (2.0 * l2))
    running = torch.zeros(n, dtype=torch.float64)
    free = torch.ones(n, dtype=torch.bool)
    chosen = []
    for t in range(k):
        score = torch.where(free, target - running / (t + 1), torch.tensor(-float("inf"), dtype=torch.float64))
        i = int(score.argmax())
        chosen.append(i)
        free[i] = False
        running += kernel[i]
    return torch.tensor(chosen, dtype=torch.long)

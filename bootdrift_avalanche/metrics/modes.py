"""Mode metrics for Gaussian-mixture toys (the 2-D GMM of arXiv 2512.11867's bootstrapping toy).

The standard toy measures of mode collapse, as pure functions on tensors:

- **high-quality fraction** (Srivastava et al. 2017, VEEGAN; Lin et al. 2018, PacGAN): the fraction of
  samples within 3 standard deviations (Euclidean distance ``<= 3 * std``) of their nearest mode centre.
  For an isotropic 2-D Gaussian the real data itself scores P(chi2_2 <= 9) = 1 - exp(-4.5) = 0.989.
- **modes covered** (PacGAN's rule): mode ``k`` is covered when at least ``min_share * n / K`` of the
  ``n`` samples are high-quality samples whose nearest centre is ``k`` (``K`` modes; ``n / K`` is
  the count a perfect balanced sampler puts there). PacGAN uses ``min_share = 0.2`` (20 of 100
  expected samples), which is the default: a mode holding a fifth of its share or less counts as lost.
  ``mode_counts`` lets a caller apply another rule.
- **label agreement** (conditional generators): the fraction of samples whose nearest centre is the
  mode they were generated for.
- **mode std ratio** (a direct read-out of the variance shrinkage that Gaussian ML bootstrapping
  predicts, see ``theory.py``): for each mode with at least two samples assigned by nearest centre,
  the per-axis root-mean-square deviation of those samples around their own mean, divided by ``std``;
  averaged over those modes.
"""
from __future__ import annotations

import math
from typing import Dict, Optional, Union

import torch
from torch import Tensor

__all__ = ["mode_metrics", "nearest_mode"]


def _check_inputs(samples: Tensor, centers: Tensor) -> None:
    if not isinstance(samples, Tensor) or not isinstance(centers, Tensor):
        raise TypeError("samples and centers must be torch.Tensors")
    if samples.dim() != 2:
        raise ValueError(f"samples must have shape (n, dim), got {tuple(samples.shape)}")
    if centers.dim() != 2 or centers.shape[0] < 1:
        raise ValueError(f"centers must have shape (K, dim) with K >= 1, got {tuple(centers.shape)}")
    if samples.shape[1] != centers.shape[1]:
        raise ValueError(
            f"samples have dimension {samples.shape[1]} but centers have dimension {centers.shape[1]}"
        )
    if samples.shape[0] == 0:
        raise ValueError("samples is empty: mode metrics need at least one sample")
    if not torch.isfinite(samples).all():
        raise ValueError("samples contain NaN or Inf values")


def nearest_mode(samples: Tensor, centers: Tensor) -> tuple[Tensor, Tensor]:
    """Index of the nearest centre (LongTensor, (n,)) and the distance to it ((n,), float64)."""
    _check_inputs(samples, centers)
    d = torch.cdist(samples.double(), centers.double().to(samples.device))
    dist, idx = d.min(dim=1)
    return idx, dist


def mode_metrics(
    samples: Tensor,
    centers: Tensor,
    std: Union[float, Tensor],
    labels: Optional[Tensor] = None,
    *,
    n_std: float = 3.0,
    min_share: float = 0.2,
) -> Dict[str, object]:
    """Toy mode metrics of ``samples`` (n, dim) against the mixture ``centers`` (K, dim).

    ``std`` is the mixture's isotropic standard deviation (a scalar shared by all modes);
    a sample is *high quality* when its distance to the nearest centre is ``<= n_std * std``.
    ``labels`` (n,), when given, are the modes the samples were generated for.

    Returns plain Python numbers: ``"modes_covered"`` (int, see the module docstring for the rule),
    ``"high_quality_fraction"`` (float), ``"mode_counts"`` (list of K ints: high-quality samples per
    nearest mode), ``"mode_std_ratio"`` (float, NaN when no mode has two samples),
    ``"n_modes"`` (K), and ``"label_agreement"`` (float) when ``labels`` is given.
    """
    _check_inputs(samples, centers)
    std = float(std)
    if not (std > 0 and math.isfinite(std)):
        raise ValueError(f"std must be a positive finite number, got {std}")
    if not 0.0 <= min_share <= 1.0:
        raise ValueError(f"min_share must lie in [0, 1], got {min_share}")
    n, k = samples.shape[0], centers.shape[0]
    idx, dist = nearest_mode(samples, centers)
    good = dist <= n_std * std
    counts = torch.bincount(idx[good], minlength=k)
    threshold = min_share * n / k
    out: Dict[str, object] = {
        "modes_covered": int((counts >= threshold).sum()) if threshold > 0 else int((counts > 0).sum()),
        "high_quality_fraction": float(good.double().mean()),
        "mode_counts": [int(c) for c in counts],
        "n_modes": k,
    }
    # Per-mode spread around the mode's own sample mean, per axis, relative to std.
    x = samples.double()
    ratios = []
    for j in range(k):
        xj = x[idx == j]
        if xj.shape[0] >= 2:
            ratios.append(math.sqrt(float(((xj - xj.mean(0)) ** 2).mean())) / std)
    out["mode_std_ratio"] = float(sum(ratios) / len(ratios)) if ratios else float("nan")
    if labels is not None:
        if not isinstance(labels, Tensor):
            labels = torch.as_tensor(labels)
        if labels.shape != (n,):
            raise ValueError(f"labels must have shape ({n},) to match samples, got {tuple(labels.shape)}")
        if labels.dtype.is_floating_point or labels.dtype == torch.bool:
            raise TypeError(f"labels must be an integer tensor, got dtype {labels.dtype}")
        if labels.min() < 0 or labels.max() >= k:
            raise ValueError(f"labels must be mode indices in [0, {k}), got range "
                             f"[{int(labels.min())}, {int(labels.max())}]")
        out["label_agreement"] = float((idx == labels.to(idx.device).long()).double().mean())
    return out

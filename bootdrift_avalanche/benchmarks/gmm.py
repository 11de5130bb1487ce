"""The 2-D Gaussian-mixture toy of "On the Dangers of Bootstrapping Generation for Continual
Learning and Beyond" (arXiv 2512.11867): ``n_modes`` isotropic Gaussians with centres evenly spaced
on a circle, label = mode index.

``gmm_samples`` gives plain tensors (what the bootstrapping loop trains on); ``gmm_toy`` wraps them as
an Avalanche benchmark (class-incremental over the modes, ``[x, y]`` mini-batches).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Tuple

import torch
from torch import Tensor

from ..runtime.seeds import seed_for


@dataclass(frozen=True)
class GMMSpec:
    """Geometry of the toy mixture."""

    n_modes: int = 5  # number of Gaussians (the paper uses 5)
    radius: float = 2.0  # centres lie on a circle of this radius around the origin
    std: float = 0.1  # isotropic standard deviation of every mode

    def centers(self) -> Tensor:
        angles = torch.arange(self.n_modes, dtype=torch.float64) * (2 * math.pi / self.n_modes)
        return torch.stack([self.radius * torch.cos(angles), self.radius * torch.sin(angles)], 1).float()


def gmm_samples(
    n_samples: int = 5000, *, spec: GMMSpec = GMMSpec(), seed: int = 0
) -> Tuple[Tensor, Tensor]:
    """Draw ``n_samples`` points (float32, shape (n, 2)) and their mode labels, balanced across modes
    (mode ``k`` gets ``n // n_modes`` points, the first ``n % n_modes`` modes one more)."""
    if n_samples < spec.n_modes:
        raise ValueError(f"n_samples={n_samples} must be at least n_modes={spec.n_modes}")
    g = torch.Generator().manual_seed(seed)
    labels = torch.arange(n_samples) % spec.n_modes
    labels = labels[torch.randperm(n_samples, generator=g)]
    x = spec.centers()[labels] + spec.std * torch.randn(n_samples, 2, generator=g)
    return x, labels


def gmm_toy(
    n_modes: int = 5,
    n_samples: int = 5000,
    *,
    n_test: int | None = None,
    radius: float = 2.0,
    std: float = 0.1,
    n_experiences: int = 1,
    seed: int = 0,
):
    """The toy as an Avalanche benchmark: ``n_samples`` training points, ``n_test`` (default: same)
    held-out points, split class-incrementally over ``n_experiences`` (1 = all modes at once).
    Mini-batches are ``[x, y]``. ``benchmark.gmm_spec`` holds the geometry."""
    from .split import tensors_class_incremental

    spec = GMMSpec(n_modes=n_modes, radius=radius, std=std)
    x_tr, y_tr = gmm_samples(n_samples, spec=spec, seed=seed_for("gmm.train", seed=seed))
    x_te, y_te = gmm_samples(n_test or n_samples, spec=spec, seed=seed_for("gmm.test", seed=seed))
    bm = tensors_class_incremental(
        x_tr, y_tr, x_te, y_te, n_experiences=n_experiences, seed=seed, shuffle_classes=False
    )
    bm.gmm_spec = spec
    return bm

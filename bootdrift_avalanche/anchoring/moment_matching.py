"""Moment matching: the differentiable Fréchet distance of a batch to a stored class Gaussian, and
the DDPM training term built on it (Mathiasen & Hvilshøj 2020, "Backpropagating through Fréchet
Inception Distance", train on FID; here against a fixed anchor instead of a real batch).

With the batch's centred features Xc (n×d) and the anchor's Σ^½ = S,

    FD = ‖μ_b − μ‖² + tr Σ_b + tr Σ − 2 tr (S Σ_b S)^½,   tr (S Σ_b S)^½ = ‖Xc S‖_* / √(n−1),

the nuclear norm of an n×d matrix (the same identity as the metrics' nuclear-norm route,
``metrics/_gaussian.py``), whose gradient U Vᵀ is bounded: no square root of a near-zero eigenvalue
is differentiated, so batches smaller than d are fine.

:class:`MomentMatching` is what a ``DDPMGenerator.fit(regularizer=...)`` call adds to the
ε-prediction loss: each step one anchored class (in turn), a batch of its training images noised to
a timestep below ``t_max``, the denoiser's prediction of x0, its anchor-space features, and the
Fréchet distance to the class's anchor divided by tr Σ (scale-free), times ``weight``. Only small
t: at large t the MSE-optimal x0 prediction is a blurred mean, and pulling its covariance to the
data's would fight the denoising loss.
"""
from __future__ import annotations

import math
from typing import Callable, List, Sequence

import torch
from torch import Tensor

from ..generators.base import to_unit_range
from .anchors import ClassAnchors


def frechet_to_anchor(features: Tensor, mean: Tensor, cov_trace: float, root: Tensor) -> Tensor:
    """Differentiable Fréchet distance between the Gaussian of ``features`` (n >= 2 rows) and a
    stored N(mean, Σ) given by ``mean``, tr Σ and Σ^½ (``root``); see the module docstring."""
    n = features.shape[0]
    if n < 2:
        raise ValueError(f"the Fréchet distance of a batch needs >= 2 samples, got {n}")
    mu_b = features.mean(0)
    xc = features - mu_b
    trace_b = xc.square().sum() / (n - 1)
    cross = torch.linalg.svdvals(xc @ root.to(xc)).sum() / math.sqrt(n - 1)
    return (mu_b - mean.to(xc)).square().sum() + trace_b + float(cov_trace) - 2.0 * cross


#: ``denoise(x0, y, t, noise)`` -> the denoiser's x0 prediction from ``add_noise(x0, noise, t)``
#: (all in the model's [-1, 1] space); what ``train_denoiser`` hands a regularizer.
Denoise = Callable[[Tensor, Tensor, Tensor, Tensor], Tensor]


class MomentMatching:
    """The anchored DDPM training term (see the module docstring); call it with a ``Denoise``.

    Args:
        anchors: the stored statistics.
        x, y: the images (in the anchors' value range) and labels the generator is fitted on.
        classes: the classes to anchor (anchored replay: the old, replayed ones); classes with fewer
            than 2 images in ``x`` or no anchor are refused.
        weight: factor of the scale-free Fréchet distance in the loss.
        batch: images of the class per step.
        t_max: timesteps are drawn uniformly from [0, t_max).
        seed: its own random stream (the ε-loss batches stay those of the unanchored fit).
    """

    def __init__(self, anchors: ClassAnchors, x: Tensor, y: Tensor, classes: Sequence[int], *, weight: float,
                 batch: int, t_max: int, seed: int):
        if weight <= 0 or batch < 2 or t_max < 1:
            raise ValueError(f"need weight > 0, batch >= 2, t_max >= 1; got {weight}, {batch}, {t_max}")
        self.anchors, self.weight, self.batch, self.t_max = anchors, float(weight), int(batch), int(t_max)
        self.classes = [int(c) for c in classes]
        if not self.classes:
            raise ValueError("MomentMatching needs at least one class to anchor")
        self.data = {}
        for c in self.classes:
            if c not in anchors or int((y == c).sum()) < 2:
                raise ValueError(f"class {c} cannot be moment-matched: it needs an anchor and >= 2 training images")
            self.data[c] = to_unit_range(x[y == c].float(), anchors.value_range)
        self.rng = torch.Generator().manual_seed(seed)
        self.calls = 0
        self.history: List[float] = []  # scale-free Fréchet distance of every step

    def __call__(self, denoise: Denoise) -> Tensor:
        c = self.classes[self.calls % len(self.classes)]
        self.calls += 1
        data = self.data[c]
        idx = torch.randperm(len(data), generator=self.rng)[: self.batch]
        x0 = data[idx]
        noise = torch.randn(x0.shape, generator=self.rng)
        t = torch.randint(0, self.t_max, (len(x0),), generator=self.rng)
        x0_hat = denoise(x0, torch.full((len(x0),), c, dtype=torch.long), t, noise)
        lo, hi = self.anchors.value_range
        feats = self.anchors.embed((x0_hat + 1.0) * (0.5 * (hi - lo)) + lo)  # unclamped: gradients everywhere
        mean, cov = self.anchors.stats(c)
        trace = float(cov.diagonal().sum())
        loss = frechet_to_anchor(feats, mean, trace, self.anchors.root(c)) / trace
        self.history.append(float(loss.detach()))
        return self.weight * loss.to(x0_hat.device)

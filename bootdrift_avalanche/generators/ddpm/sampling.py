"""DDPM / DDIM sampling with optional classifier guidance (Dhariwal & Nichol 2021, Alg. 1/2).

The gradient of log softmax(C(x_t))[y] shifts the model's noise prediction, written in ε form
ε̂ ← ε̂ − sqrt(1−ᾱ_t)·s·∇_{x_t} log p(y | x_t), so that the same code serves the DDPM and the DDIM
step. As in the DDGR reference code, the classifier is the continual learner itself (not a
noise-aware classifier) and sees the noisy x_t mapped to the benchmark's value range.
"""
from __future__ import annotations

import copy
import math
from typing import Callable, Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from ..base import from_unit_range
from .config import DDPMConfig

#: A guidance classifier: images in the benchmark's value range (B, C, H, W) -> logits (B, K).
Classifier = Callable[[Tensor], Tensor]


def sampling_scheduler(scheduler, sampler: str):
    """A scheduler for one sampling run: a copy of the training ``DDPMScheduler`` (``set_timesteps``
    mutates it) or a ``DDIMScheduler`` built from the same config."""
    if sampler == "ddpm":
        return copy.deepcopy(scheduler)
    from diffusers import DDIMScheduler

    return DDIMScheduler.from_config(scheduler.config)


def sample_batch(model: nn.Module, scheduler, y: Tensor, *, cfg: DDPMConfig, sampler: str, steps: int,
                 eta: float, rng: torch.Generator, guidance: Optional[Classifier], scale: float,
                 classes: Optional[Tensor], bar) -> Tensor:
    """Denoise one batch of pure noise into images of classes ``y`` (on the model's device), in
    ``cfg.value_range``; ``guidance=None`` samples without classifier guidance. ``bar`` (a tqdm
    bar) advances once per denoising step."""
    dev = y.device
    sched = sampling_scheduler(scheduler, sampler)
    sched.set_timesteps(steps)
    # Noise is drawn on the CPU generator and moved, so a seed gives the same images on any device.
    x = torch.randn((len(y),) + cfg.image_shape, generator=rng).to(dev) * sched.init_noise_sigma
    alphas_cumprod = sched.alphas_cumprod
    for t in sched.timesteps:
        eps = model(x, t.to(dev), class_labels=y).sample
        if guidance is not None:
            grad = classifier_log_prob_grad(guidance, x, y, cfg.value_range, classes)
            # Dhariwal & Nichol (2021), Alg. 2, used for both steps: shifting ε̂ by
            # -sqrt(1-ᾱ_t)·s·∇ moves the DDPM posterior mean by Σ_t·s·∇ (to first order).
            eps = eps - math.sqrt(1.0 - float(alphas_cumprod[int(t)])) * scale * grad
        if sampler == "ddim":
            # Recompute ε from the clipped x0 (guided-diffusion's DDIM does the same): otherwise a
            # large guidance shift is clipped out of x0 but kept, with the opposite sign, in the
            # "direction to x_t" term, and pushes samples away from the asked class.
            x = sched.step(eps, t, x, eta=eta, use_clipped_model_output=True, generator=rng).prev_sample
        else:
            x = sched.step(eps, t, x, generator=rng).prev_sample
        bar.update(1)
    return from_unit_range(x, cfg.value_range)


def classifier_log_prob_grad(
    classifier: Classifier,
    x_t: Tensor,
    y: Tensor,
    value_range: Tuple[float, float],
    classes: Optional[Tensor] = None,
) -> Tensor:
    """∇_{x_t} log softmax(C(x_t))[y] for a batch x_t in the model's [-1, 1] space.

    The classifier sees x_t mapped (without clamping, which would zero the gradient) to the
    benchmark's value range, as it was trained on such images. ``classes`` restricts the softmax to
    those logit columns (DDGR normalises over the seen classes only). The per-image log
    probabilities are summed before differentiating; images of a batch are independent (an
    eval-mode classifier), so each gets its own gradient.
    """
    lo, hi = value_range
    with torch.enable_grad():
        xg = x_t.detach().requires_grad_(True)
        logits = classifier((xg + 1.0) * (0.5 * (hi - lo)) + lo)
        if not isinstance(logits, Tensor) or logits.dim() != 2 or len(logits) != len(xg):
            shape = tuple(logits.shape) if isinstance(logits, Tensor) else type(logits).__name__
            raise ValueError(f"the guidance classifier must return logits of shape (B={len(xg)}, K), got {shape}")
        if not logits.requires_grad:
            raise ValueError(
                "the guidance classifier's logits do not depend differentiably on its input "
                "(computed under torch.no_grad, detached, or not a torch model?); guidance needs ∇_x log p(y|x)"
            )
        k = logits.shape[1]
        if classes is not None:
            classes = classes.to(logits.device)
            if int(classes.max()) >= k:
                raise ValueError(f"guidance_classes contain class {int(classes.max())}, but the classifier has {k} outputs")
            logits = logits[:, classes]
            # position of each label within `classes`
            target = (y.to(logits.device)[:, None] == classes[None, :]).float().argmax(1)
        else:
            if int(y.max()) >= k:
                raise ValueError(f"label {int(y.max())} has no logit: the guidance classifier has {k} outputs")
            target = y.to(logits.device)
        log_p = F.log_softmax(logits.float(), dim=1).gather(1, target[:, None]).sum()
        (grad,) = torch.autograd.grad(log_p, xg)
    return grad.to(x_t.dtype)

"""DDPM / DDIM sampling with optional classifier guidance (Dhariwal & Nichol 2021, Alg. 1/2).

The guidance gradient g = ∇_{x_t} log softmax(C(x_t))[y] (taken at x_t, as guided-diffusion's
``cond_fn``) enters each sampler as the paper writes it: for DDPM (Algorithm 1, ``condition_mean``)
the posterior mean, formed from the unshifted ε̂ with x0 clipped, moves by Σ_t·s·g; for DDIM
(Algorithm 2, ``condition_score``) ε̂ ← ε̂ − sqrt(1−ᾱ_t)·s·g. The two are not the same update on a
respaced chain (docs/ddpm_guidance_and_training.md). As in the DDGR reference, the classifier is the
continual learner itself and sees x_t mapped to the benchmark's value range.
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


def posterior_variance(sched, t) -> float:
    """Σ_t of the ancestral step from ``t`` in ``sched`` (a ``DDPMScheduler`` after ``set_timesteps``):
    β̃_t = (1−ᾱ_prev)/(1−ᾱ_t)·(1−ᾱ_t/ᾱ_prev) with ᾱ_prev that of the *respaced* previous timestep
    (1 after the last), the ``fixed_small`` variance the scheduler draws its noise with
    (``DDPMScheduler._get_variance``, without its 1e-20 floor: the last step has Σ = 0)."""
    if sched.config.variance_type != "fixed_small":
        raise ValueError(f"guidance is written for variance_type='fixed_small', got {sched.config.variance_type!r}")
    prev_t = int(sched.previous_timestep(t))
    a_t = float(sched.alphas_cumprod[int(t)])
    a_prev = float(sched.alphas_cumprod[prev_t]) if prev_t >= 0 else 1.0
    return (1.0 - a_prev) / (1.0 - a_t) * (1.0 - a_t / a_prev)


def denoise_step(model: nn.Module, sched, x: Tensor, t: Tensor, y: Tensor, *, cfg: DDPMConfig, sampler: str,
                 eta: float, rng: torch.Generator, guidance: Optional[Classifier], scale: float,
                 classes: Optional[Tensor]) -> Tensor:
    """One denoising step x_t -> x_{t-1} of ``sched`` (set up by ``set_timesteps``), guided as the
    module docstring describes. The step's noise comes from ``rng``: with the same draw, the guided
    and the unguided DDPM step differ by exactly Σ_t·s·g. A ``guidance`` with ``eps_and_grad`` (GUIDE's,
    ``guide_guidance.py``) computes ε̂ and g itself."""
    if callable(getattr(guidance, "eps_and_grad", None)):  # a guidance through the predicted x0 (GUIDE)
        eps, grad = guidance.eps_and_grad(model, sched, x, t, y, value_range=cfg.value_range)
    else:
        eps = model(x, t.to(x.device), class_labels=y).sample
        grad = classifier_log_prob_grad(guidance, x, y, cfg.value_range, classes) if guidance is not None else None
    if sampler == "ddim":
        if grad is not None:
            # Algorithm 2: the score is shifted, in ε form.
            eps = eps - math.sqrt(1.0 - float(sched.alphas_cumprod[int(t)])) * scale * grad
        # Recompute ε from the clipped x0 (guided-diffusion's DDIM does the same): otherwise a
        # large guidance shift is clipped out of x0 but kept, with the opposite sign, in the
        # "direction to x_t" term, and pushes samples away from the asked class.
        return sched.step(eps, t, x, eta=eta, use_clipped_model_output=True, generator=rng).prev_sample
    # Algorithm 1: prev = μ(x_t, ε̂) [x0 clipped] + σ_t·z; moving it by Σ_t·s·g moves the mean.
    x_prev = sched.step(eps, t, x, generator=rng).prev_sample
    if grad is not None:
        x_prev = x_prev + (posterior_variance(sched, t) * scale) * grad
    return x_prev


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
    for t in sched.timesteps:
        x = denoise_step(model, sched, x, t, y, cfg=cfg, sampler=sampler, eta=eta, rng=rng,
                         guidance=guidance, scale=scale, classes=classes)
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
                raise ValueError(f"guidance_classes contain class {int(classes.max())}, "
                                 f"but the classifier has {k} outputs")
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

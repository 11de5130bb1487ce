"""The DDPM training loop: ε-prediction MSE on a tensor dataset, AdamW, gradient clipping, one EMA
update per step, data-parallel over ``torchrun`` ranks when there are several.

``DDPMGenerator.fit`` validates the data, seeds ``rng`` and calls :func:`train_denoiser`; this module
only knows tensors, the denoiser, its noise schedule and the EMA.
"""
from __future__ import annotations

import contextlib
from typing import Callable, Iterator, List, Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor
from tqdm.auto import tqdm

from ...runtime import distributed as D
from .config import LR_SCHEDULES, DDPMConfig


@contextlib.contextmanager
def _eval_afterwards(module: nn.Module) -> Iterator[None]:
    """Put ``module`` back in eval mode however the block ends (an error mid-fit included)."""
    try:
        yield
    finally:
        module.eval()


def lr_at(cfg: DDPMConfig, step: int, steps: int) -> float:
    """Learning rate of optimisation step ``step`` (0-based) of a fit of ``steps`` steps:
    ``cfg.lr``, or for ``lr_schedule="linear"`` ``cfg.lr·(1 − step/steps)``: from lr down to lr/steps
    at the last step. That is guided-diffusion's ``_anneal_lr`` with ``lr_anneal_steps = steps`` (the
    DDGR reference, per task), up to one step: it sets the rate after each step from the count
    before the increment, so its step k >= 1 runs at lr·(1 − (k−1)/steps)."""
    if cfg.lr_schedule == "constant":
        return cfg.lr
    if cfg.lr_schedule == "linear":
        return cfg.lr * (1.0 - step / steps)
    raise ValueError(f"lr_schedule must be one of {LR_SCHEDULES}, got {cfg.lr_schedule!r}")


def _predict_x0(unet: nn.Module, scheduler, x0: Tensor, y: Tensor, t: Tensor, noise: Tensor) -> Tensor:
    """x̂0 = (x_t − sqrt(1−ᾱ_t)·ε̂) / sqrt(ᾱ_t) for x_t = ``scheduler.add_noise(x0, noise, t)``."""
    x_t = scheduler.add_noise(x0, noise, t)
    a = scheduler.alphas_cumprod.to(x0.device, x0.dtype)[t].view(-1, *([1] * (x0.dim() - 1)))
    return (x_t - (1.0 - a).sqrt() * unet(x_t, t, class_labels=y).sample) / a.sqrt()


def train_denoiser(unet: nn.Module, scheduler, ema, x0: Tensor, y: Tensor, *, cfg: DDPMConfig, steps: int,
                   rng: torch.Generator, progress: bool = False,
                   regularizer: Optional[Callable[[Callable], Tensor]] = None) -> List[float]:
    """Train ``unet`` for ``steps`` steps on ``x0`` (N, C, H, W) in [-1, 1] with labels ``y`` (N,),
    both on the unet's device; returns the loss of every step.

    Each step: a mini-batch (a fresh permutation per epoch, so every image is seen once per epoch),
    uniform timesteps t, with ``cfg.hflip`` each image mirrored with probability 1/2,
    x_t = ``scheduler.add_noise(x0, ε, t)``, loss = MSE(ε̂(x_t, t, y), ε), AdamW
    at the rate :func:`lr_at` (constant, or annealed linearly to 0 over this call's ``steps``),
    gradient clipping, ``ema.step``. Every random draw comes from ``rng`` (a CPU generator, so a seed
    gives the same batches on any device). A fresh AdamW per call, as the DDGR reference starts a
    new training loop per task: a reloaded model then continues exactly like the original.

    ``regularizer`` (optional, single process only): called once per step with ``denoise(x0, y, t,
    noise)``, the unet's differentiable prediction of x0 from ``scheduler.add_noise(x0, noise, t)``
    (inputs on any device, [-1, 1] space); the scalar it returns is added to the step's loss (the
    returned losses stay the ε-MSE). Anchored replay's moment matching
    (``anchoring.MomentMatching``) is one; it draws from its own generator, not ``rng``.
    """
    dev = x0.device
    n = len(x0)
    batch = min(cfg.batch_size, n)
    # Under torchrun: DDP over ranks. Every rank draws the same global batch (same rng) and trains
    # on its shard batch[rank::world]; DDP averages the gradients, so W ranks follow the
    # single-process run up to float rounding (see runtime/distributed.py).
    if D.is_distributed() and batch % D.world_size():
        raise ValueError(f"batch size {batch} must be divisible by the {D.world_size()} ranks")
    if regularizer is not None and D.is_distributed():
        raise ValueError("a regularizer is supported in single-process training only (not under torchrun)")
    denoiser = D.maybe_ddp(unet, str(dev))
    shard = slice(D.rank(), None, D.world_size())
    opt = torch.optim.AdamW(unet.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)

    losses: List[float] = []
    unet.train()
    # enable_grad: fit() may be called from a no_grad context (an evaluation hook, say)
    with _eval_afterwards(unet), torch.enable_grad():
        perm, pos = torch.randperm(n, generator=rng), 0
        for k in tqdm(range(steps), desc="DDPM fit", disable=not progress, leave=False):
            if pos + batch > n:  # new epoch: reshuffle
                perm, pos = torch.randperm(n, generator=rng), 0
            idx = perm[pos:pos + batch].to(dev)
            pos += batch
            xb, yb = x0[idx], y[idx]
            noise = torch.randn(xb.shape, generator=rng).to(dev)
            t = torch.randint(0, cfg.num_train_timesteps, (len(xb),), generator=rng).to(dev)
            if cfg.hflip:  # each image mirrored with probability 1/2 (drawn only when on: same runs otherwise)
                flip = (torch.rand(len(xb), generator=rng) < 0.5).to(dev)
                xb = torch.where(flip.view(-1, 1, 1, 1), xb.flip(-1), xb)
            xb, yb, noise, t = xb[shard], yb[shard], noise[shard], t[shard]
            x_t = scheduler.add_noise(xb, noise, t)
            eps = denoiser(x_t, t, class_labels=yb).sample
            loss = F.mse_loss(eps, noise)
            if not torch.isfinite(loss):
                raise FloatingPointError(
                    f"DDPM training loss became {loss.item()} at step {len(losses)}; "
                    f"lower lr (now {lr_at(cfg, len(losses), steps)}) or check the training images"
                )
            total = loss if regularizer is None else loss + regularizer(
                lambda x0r, yr, tr, nr: _predict_x0(unet, scheduler, x0r.to(dev), yr.to(dev), tr.to(dev), nr.to(dev)))
            opt.zero_grad(set_to_none=True)
            total.backward()
            if cfg.grad_clip:
                nn.utils.clip_grad_norm_(unet.parameters(), cfg.grad_clip)
            for group in opt.param_groups:
                group["lr"] = lr_at(cfg, k, steps)
            opt.step()
            ema.step(unet.parameters())
            losses.append(loss.item())
    return losses

"""The GAN training loop of both GAN Memory phases (the base GAN, then each task's modulation):
non-saturating GAN loss, R1 penalty on real data (Mescheder et al. 2018), Adam, and an exponential
moving average of the generator's trained parameters (diffusers' ``EMAModel``) copied into them at
the end. ``FitStats`` is what one phase reports for the logs."""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Callable, List, Optional, Tuple

import torch
import torch.nn.functional as F
from diffusers.training_utils import EMAModel
from torch import Tensor, nn
from tqdm.auto import tqdm

from .config import GANMemoryConfig


@dataclass
class FitStats:
    """What one training phase did, for logs: phase, task, steps, seconds and final-loss means."""

    phase: str
    task_id: Optional[int]
    steps: int
    seconds: float
    d_loss: float = float("nan")
    g_loss: float = float("nan")
    r1: float = float("nan")
    history: List[Tuple[float, float]] = field(default_factory=list)  # (d_loss, g_loss) per step


def gan_training(
    *,
    generate_fake: Callable[[Tensor, Tensor], Tensor],
    discriminate: Callable[[Tensor, Tensor], Tensor],
    g_params: List[nn.Parameter],
    d_params: List[nn.Parameter],
    x: Tensor,
    y: Tensor,
    cfg: GANMemoryConfig,
    steps: int,
    seed: int,
    desc: str,
    progress: bool = False,
) -> FitStats:
    """Non-saturating GAN + R1 on real data, alternating one D and one G step; the EMA of
    ``g_params`` is copied into them at the end. ``x`` in [-1, 1] on the training device, ``y``
    local class ids; every random draw comes from one generator seeded by ``seed``."""
    stats = FitStats(phase=desc, task_id=None, steps=steps, seconds=0.0)
    if steps == 0:
        return stats
    dev = x.device
    gen = torch.Generator(device=dev)
    gen.manual_seed(seed)
    opt_g = torch.optim.Adam(g_params, lr=cfg.lr, betas=cfg.betas)
    opt_d = torch.optim.Adam(d_params, lr=cfg.lr, betas=cfg.betas)
    # Warm-up min(decay, (1+n)/(10+n)), as in many GAN codebases: short runs are not dominated by
    # the initial weights.
    ema = EMAModel(g_params, decay=cfg.ema_decay) if cfg.ema_decay > 0 else None
    n, bs = x.shape[0], cfg.batch_size
    # Per-step losses stay on the device (no host sync per step on a GPU); NaN marks steps without R1.
    hist = torch.full((steps, 3), float("nan"), device=dev)
    t0 = time.perf_counter()
    bar = tqdm(range(steps), desc=desc, disable=not progress, leave=False)
    for step in bar:
        idx = torch.randint(0, n, (bs,), generator=gen, device=dev)
        x_real, y_real = x[idx], y[idx]
        if cfg.hflip:
            flip = torch.rand(bs, generator=gen, device=dev) < 0.5
            x_real = torch.where(flip.view(-1, 1, 1, 1), x_real.flip(-1), x_real)

        # Discriminator step: softplus(D(fake)) + softplus(-D(real)) + γ/2·‖∇D(real)‖².
        z = torch.randn(bs, cfg.z_dim, generator=gen, device=dev)
        with torch.no_grad():
            x_fake = generate_fake(z, y_real)
        # The R1 double backward costs about as much as the rest of the D step: lazy R1 applies it
        # every r1_every-th step with a weight scaled by r1_every (same penalty on average).
        do_r1 = cfg.r1_weight > 0 and step % cfg.r1_every == 0
        x_real = x_real.detach().requires_grad_(do_r1)
        d_real = discriminate(x_real, y_real)
        d_fake = discriminate(x_fake, y_real)
        d_loss = F.softplus(d_fake).mean() + F.softplus(-d_real).mean()
        d_total = d_loss
        if do_r1:
            (grad,) = torch.autograd.grad(d_real.sum(), x_real, create_graph=True)
            r1 = grad.pow(2).flatten(1).sum(1).mean()
            d_total = d_loss + 0.5 * cfg.r1_weight * cfg.r1_every * r1
            hist[step, 2] = r1.detach()
        opt_d.zero_grad(set_to_none=True)
        d_total.backward()
        opt_d.step()

        # Generator step: non-saturating softplus(-D(G(z))). D's weights are switched off so the
        # backward pass does not compute gradients nobody uses.
        for p in d_params:
            p.requires_grad_(False)
        z = torch.randn(bs, cfg.z_dim, generator=gen, device=dev)
        g_loss = F.softplus(-discriminate(generate_fake(z, y_real), y_real)).mean()
        opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        opt_g.step()
        for p in d_params:
            p.requires_grad_(True)
        if ema is not None:
            ema.step(g_params)

        hist[step, 0], hist[step, 1] = d_loss.detach(), g_loss.detach()
        if step % 50 == 0 or step == steps - 1:  # a host sync now and then, not every step
            dl, gl = hist[step, :2].tolist()
            if not (math.isfinite(dl) and math.isfinite(gl)):
                raise FloatingPointError(f"{desc}: GAN loss became non-finite at step {step} (D {dl}, G {gl})")
            bar.set_postfix(d=f"{dl:.3f}", g=f"{gl:.3f}")
    bar.close()
    with torch.no_grad():
        for p in list(g_params) + list(d_params):
            p.grad = None
    if ema is not None:
        ema.copy_to(g_params)
    hist = hist.cpu()
    tail = hist[-max(1, steps // 10):]  # final-loss means over the last 10% of steps
    stats.d_loss, stats.g_loss = tail[:, :2].mean(0).tolist()
    stats.r1 = float(tail[:, 2].nanmean()) if cfg.r1_weight > 0 else float("nan")
    stats.history = [tuple(r) for r in hist[:, :2].tolist()]
    stats.seconds = time.perf_counter() - t0
    return stats

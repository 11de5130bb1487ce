"""The StyleGAN2 training loop: alternating G and D Adam steps with lazy regularisation, the EMA of
G, and data parallelism over ``torchrun`` ranks.

Per step (the reference's phase order Gmain, Greg, Dmain, Dreg):

1. G: non-saturating loss on a fresh batch of z with the real batch's labels;
2. every ``pl_every``-th step, if ``pl_weight`` > 0: the path-length penalty on batch // shrink
   images, weighted by ``pl_weight · pl_every``, its own Adam step;
3. D: the logistic loss on the real batch and a batch of G's images;
4. every ``r1_every``-th step: R1 on the real batch, weighted by ``gamma/2 · r1_every``, its own step.

Lazy regularisation changes the effective Adam hyperparameters: with c = k / (k + 1), lr·c and
betas^c (paper, Appendix C; the reference's ``mb_ratio``). The EMA of G follows each step with
beta = 0.5^(batch / half-life), the half-life ramped up to 5 % of the images seen so far.

**Data parallel**: every rank draws the same global batch (same seeded CPU stream) and computes its
rows ``batch[rank::world]``; after each backward the gradients are summed over ranks weighted by the
rank's share (``D.all_reduce``), which is the gradient of the mean over the global batch, so the
ranks stay identical. This is DDP's averaging done by hand, as stylegan2-ada-pytorch itself does
(one all-reduce of the flattened gradients per phase): ``DistributedDataParallel`` does not support
the double backward of R1 and of the path-length term (``autograd.grad(create_graph=True)``). The
minibatch-std layer sees the rank's rows only, and each rank draws the noise inputs of its own rows,
so W ranks train the same kind of model as one process but not bit-for-bit the same one.
"""
from __future__ import annotations

import math
from typing import Dict, List

import torch
from torch import Tensor, nn
from tqdm.auto import tqdm

from ...runtime import distributed as D
from .config import StyleGAN2Config
from .discriminator import Discriminator
from .generator_network import StyleGenerator
from .loss import discriminator_loss, generator_loss, path_length_penalty, r1_penalty


def _adam(params, cfg: StyleGAN2Config, every: int) -> torch.optim.Adam:
    c = every / (every + 1) if every > 1 else 1.0
    return torch.optim.Adam(params, lr=cfg.lr * c, betas=tuple(b ** c for b in cfg.betas), eps=1e-8)


def _step(opt: torch.optim.Optimizer, loss: Tensor, params: List[nn.Parameter], share: float) -> None:
    """Backward, average the gradients over the ranks (weighted by this rank's share of the batch),
    step. Parameters without a gradient get zeros, so every rank reduces the same tensor list."""
    opt.zero_grad(set_to_none=True)
    loss.backward()
    if D.sharded():
        grads = [p.grad if p.grad is not None else torch.zeros_like(p) for p in params]
        flat = D.all_reduce(torch.cat([g.flatten() for g in grads]) * share)
        for p, g in zip(params, flat.split([p.numel() for p in params])):
            p.grad = g.view_as(p)
    opt.step()


@torch.no_grad()
def update_ema(g_ema: nn.Module, g: nn.Module, beta: float) -> None:
    """g_ema <- beta g_ema + (1 - beta) g for parameters; buffers copied."""
    for pe, p in zip(g_ema.parameters(), g.parameters()):
        pe.copy_(p.lerp(pe, beta))
    for be, b in zip(g_ema.buffers(), g.buffers()):
        be.copy_(b)


def ema_beta(cfg: StyleGAN2Config, images_seen: int) -> float:
    """EMA decay of one step of ``cfg.batch_size`` images after ``images_seen`` training images."""
    half = cfg.ema_halflife_images
    if cfg.ema_rampup is not None:
        half = min(half, images_seen * cfg.ema_rampup)
    return 0.5 ** (cfg.batch_size / max(half, 1e-8))


def train_gan(g: StyleGenerator, g_ema: StyleGenerator, d: Discriminator, pl_mean: Tensor, x: Tensor, y: Tensor, *,
              cfg: StyleGAN2Config, steps: int, images_before: int, rng: torch.Generator,
              progress: bool = False) -> Dict[str, List[float]]:
    """Train for ``steps`` steps on ``x`` (N, C, H, W) in [-1, 1] with labels ``y``, both on the
    networks' device; ``pl_mean`` (the path-length target) is updated in place. Every random draw
    comes from ``rng`` (CPU). Returns the per-step losses ("g", "d") and the regulariser values
    ("r1", "pl") of the steps that had them."""
    dev = x.device
    n, bs = len(x), cfg.batch_size
    if D.sharded() and bs % D.world_size():
        raise ValueError(f"batch size {bs} must be divisible by the {D.world_size()} ranks")
    if D.sharded() and cfg.pl_weight > 0 and max(1, bs // cfg.pl_batch_shrink) % D.world_size():
        # every rank must draw as many random numbers as the others, or their streams part
        raise ValueError(f"the path-length batch {bs} // {cfg.pl_batch_shrink} must be divisible by the "
                         f"{D.world_size()} ranks")
    mine = slice(D.rank(), None, D.world_size())
    share = 1.0 / D.world_size()
    g_params, d_params = list(g.parameters()), list(d.parameters())
    opt_g = _adam(g_params, cfg, cfg.pl_every if cfg.pl_weight > 0 else 1)
    opt_d = _adam(d_params, cfg, cfg.r1_every if cfg.r1_weight > 0 else 1)
    hist: Dict[str, List[float]] = {"g": [], "d": [], "r1": [], "pl": []}

    def randn(*shape):
        return torch.randn(shape, generator=rng).to(dev)

    def batch():
        idx = torch.randint(n, (bs,), generator=rng).to(dev)
        return x[idx][mine], y[idx]

    g.train(), d.train()
    try:
        with torch.enable_grad():
            for k in tqdm(range(steps), desc="StyleGAN2 fit", disable=not progress, leave=False):
                real, all_labels = batch()
                labels = all_labels[mine]
                # 1. G main (D frozen: its weights need no gradient here).
                d.requires_grad_(False)
                fake = g(randn(bs, cfg.z_dim)[mine], labels, generator=rng)
                loss_g = generator_loss(d(fake, labels))
                _step(opt_g, loss_g, g_params, share)
                # 2. G path-length regularisation (lazy).
                if cfg.pl_weight > 0 and k % cfg.pl_every == 0:
                    m = max(1, bs // cfg.pl_batch_shrink)
                    z, lab = randn(m, cfg.z_dim)[mine], all_labels[:m][mine]
                    pen, mean_len = path_length_penalty(
                        lambda ws: g.synthesis(ws, generator=rng), g.latents(z, lab), pl_mean, rng)
                    mean_len = D.all_reduce(mean_len * len(lab) / m)
                    _step(opt_g, pen.mean() * cfg.pl_weight * cfg.pl_every, g_params, len(lab) / m)
                    pl_mean.lerp_(mean_len, cfg.pl_decay)
                    hist["pl"].append(float(mean_len))
                d.requires_grad_(True)
                # 3. D main.
                with torch.no_grad():
                    fake = g(randn(bs, cfg.z_dim)[mine], labels, generator=rng)
                loss_d = discriminator_loss(d(fake, labels), d(real, labels))
                _step(opt_d, loss_d, d_params, share)
                # 4. D R1 regularisation (lazy).
                if cfg.r1_weight > 0 and k % cfg.r1_every == 0:
                    r1 = r1_penalty(lambda im: d(im, labels), real)
                    _step(opt_d, r1.mean() * (cfg.r1_weight / 2) * cfg.r1_every, d_params, share)
                    hist["r1"].append(float(r1.detach().mean()))
                update_ema(g_ema, g, ema_beta(cfg, images_before + (k + 1) * bs))
                hist["g"].append(float(loss_g.detach()))
                hist["d"].append(float(loss_d.detach()))
                if not (math.isfinite(hist["g"][-1]) and math.isfinite(hist["d"][-1])):
                    raise FloatingPointError(f"StyleGAN2 training diverged at step {k} (G loss {hist['g'][-1]}, "
                                             f"D loss {hist['d'][-1]}); lower lr (now {cfg.lr})")
    finally:
        g.eval(), d.eval()
        d.requires_grad_(True)
    return hist

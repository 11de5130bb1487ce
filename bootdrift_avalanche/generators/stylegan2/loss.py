"""StyleGAN2's objective, one function per term (stylegan2-ada-pytorch's ``StyleGAN2Loss``, split):

- ``generator_loss``: non-saturating, softplus(-D(G(z, c), c));
- ``discriminator_loss``: softplus(D(fake)) + softplus(-D(real));
- ``r1_penalty``: ||grad_x D(x, c)||^2 on real images (Mescheder et al. 2018), per sample;
- ``path_length_penalty``: (||J_w^T y||_2 - a)^2 with y ~ N(0, I)/sqrt(H W) and a the running mean of
  the lengths (paper, Sec. 3.2); returns the penalty and the batch's mean length for updating a.

The training loop (``training.py``) applies R1 and the path-length term lazily, every k-th step with
weight k (paper, Sec. 3.1).
"""
from __future__ import annotations

import math
from typing import Callable, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor


def generator_loss(d_fake: Tensor) -> Tensor:
    return F.softplus(-d_fake).mean()


def discriminator_loss(d_fake: Tensor, d_real: Tensor) -> Tensor:
    return F.softplus(d_fake).mean() + F.softplus(-d_real).mean()


def r1_penalty(discriminate: Callable[[Tensor], Tensor], real: Tensor) -> Tensor:
    """Per-sample squared gradient norm of ``discriminate`` at the real images ``real``."""
    real = real.detach().requires_grad_(True)
    (grad,) = torch.autograd.grad(discriminate(real).sum(), real, create_graph=True)
    return grad.square().sum(dim=(1, 2, 3))


def path_length_penalty(synthesize: Callable[[Tensor], Tensor], ws: Tensor, pl_mean: Tensor,
                        generator: torch.Generator) -> Tuple[Tensor, Tensor]:
    """Per-sample (||J_w^T y|| - pl_mean)^2 for images ``synthesize(ws)`` and the mean length.

    The length is the gradient of <G(w), y> with respect to each layer's w, squared and summed over
    w's dimensions, averaged over the layers, square-rooted (as the reference). ``y`` is drawn from
    ``generator`` (on the CPU, so a seed gives the same draw on any device)."""
    ws = ws.detach().requires_grad_(True)
    img = synthesize(ws)
    h, w = img.shape[2:]
    y = torch.randn(img.shape, generator=generator).to(img.device) / math.sqrt(h * w)
    (grad,) = torch.autograd.grad((img * y).sum(), ws, create_graph=True)
    lengths = grad.square().sum(dim=2).mean(dim=1).sqrt()
    return (lengths - pl_mean).square(), lengths.detach().mean()

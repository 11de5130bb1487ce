"""G, the class-conditional StyleGAN2 generator network: mapping network + synthesis network, the
per-class mean latents w_avg[c] and the truncation trick, w -> w_avg[c] + psi (w - w_avg[c]).

The reference keeps one w_avg (an EMA of w during training) and truncates every class towards it.
For a class-conditional model that pulls samples towards the average over classes; here every class
has its own mean latent (``estimate_mean_latents``: the mean of w over ``n`` seeded z, what
rosinality's StyleGAN2 calls ``mean_latent``, per class), so psi = 0 gives each class's "average"
image and psi trades diversity for typicality within the class.
"""
from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor, nn

from .config import StyleGAN2Config
from .mapping import MappingNetwork
from .synthesis import SynthesisNetwork


class StyleGenerator(nn.Module):
    """``forward(z, labels, psi=1, noise_mode="random") -> images`` in [-1, 1] (unclamped)."""

    def __init__(self, cfg: StyleGAN2Config):
        super().__init__()
        self.mapping = MappingNetwork(cfg.z_dim, cfg.num_classes, cfg.w_dim, layers=cfg.mapping_layers,
                                      lr_mult=cfg.mapping_lr_mult)
        self.synthesis = SynthesisNetwork(cfg)
        self.register_buffer("w_avg", torch.zeros(cfg.num_classes, cfg.w_dim))

    @property
    def num_ws(self) -> int:
        return self.synthesis.num_ws

    def latents(self, z: Tensor, labels: Tensor, psi: float = 1.0) -> Tensor:
        """w for every layer, (N, num_ws, w_dim), truncated towards the class's mean latent."""
        w = self.mapping(z, labels)
        if psi != 1.0:
            avg = self.w_avg[labels]
            w = avg + psi * (w - avg)
        return w.unsqueeze(1).repeat(1, self.num_ws, 1)

    def forward(self, z: Tensor, labels: Tensor, psi: float = 1.0, *, noise_mode: str = "random",
                generator: Optional[torch.Generator] = None) -> Tensor:
        return self.synthesis(self.latents(z, labels, psi), noise_mode=noise_mode, generator=generator)

    @torch.no_grad()
    def estimate_mean_latents(self, n: int, generator: torch.Generator) -> None:
        """Set ``w_avg[c]`` to the mean of w over ``n`` latents z (drawn from ``generator``) for every class."""
        dev = self.w_avg.device
        z = torch.randn(n, self.mapping.z_dim, generator=generator).to(dev)
        for c in range(self.w_avg.shape[0]):
            self.w_avg[c] = self.mapping(z, torch.full((n,), c, dtype=torch.long, device=dev)).mean(0)

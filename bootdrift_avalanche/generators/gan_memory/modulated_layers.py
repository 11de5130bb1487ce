"""Style-modulated conv and linear layers, the building block of GAN Memory's per-task memory.

A layer trains as an ordinary conv / linear layer; ``freeze()`` stores its kernel normalised,
W̄ = (W − μ) / σ, and each task then computes with Ŵ = γ ⊙ W̄ + β and its own bias
(``StyleParams``), starting exactly at the frozen kernel (γ = σ, β = μ). See docs/GAN_MEMORY.md.
"""
from __future__ import annotations

from typing import Optional, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

# Lower bound on σ when normalising a kernel: a constant (out, in) slice has σ = 0; clamping (instead
# of adding an eps everywhere) leaves every ordinary σ untouched, and for a constant slice
# W̄ = 0, so σ·W̄ + μ = μ = W still reconstructs it exactly.
SIGMA_FLOOR = 1e-8


def modulate(w_norm: Tensor, gamma: Tensor, beta: Tensor) -> Tensor:
    """Ŵ = γ ⊙ W̄ + β. One function for both the freeze-time reconstruction and every task's
    forward pass, so that γ = σ, β = μ reproduces the frozen kernel bit for bit (same operations,
    same operands, same result)."""
    return w_norm * gamma + beta


class StyleParams(nn.Module):
    """One task's modulation of one layer: γ and β (broadcast over the kernel) and an additive bias."""

    def __init__(self, gamma: Tensor, beta: Tensor, bias: Tensor):
        super().__init__()
        self.gamma = nn.Parameter(gamma)
        self.beta = nn.Parameter(beta)
        self.bias = nn.Parameter(bias)


class _ModulatedMixin:
    """Shared freeze/new-style logic of ``ModulatedConv2d`` and ``ModulatedLinear``.

    Subclasses define ``weight``/``bias`` parameters, the buffers ``w_norm``, ``w_mu``, ``w_sigma``,
    ``frozen``, and ``_stat_dims`` (the kernel dimensions μ and σ are taken over).
    """

    style_key: str = ""  # set by the owning network: the key of this layer in a task's modulation

    @property
    def is_frozen(self) -> bool:
        return bool(self.frozen)

    @torch.no_grad()
    def freeze(self) -> None:
        """Normalise the trained kernel once and freeze the layer.

        The stored kernel is replaced by its reconstruction σ·W̄ + μ (at most an ulp away from the
        trained one), so that the frozen base and a fresh task with γ = σ, β = μ compute with
        bit-identical weights: "a new task starts exactly as the source generator" then holds
        exactly, not only to float tolerance.
        """
        if self.is_frozen:
            raise RuntimeError(f"layer {self.style_key or type(self).__name__} is already frozen")
        w = self.weight.detach()
        mu = w.mean(dim=self._stat_dims, keepdim=True)
        sigma = w.std(dim=self._stat_dims, keepdim=True, unbiased=False).clamp_min(SIGMA_FLOOR)
        w_norm = (w - mu) / sigma
        self.w_mu.copy_(mu)
        self.w_sigma.copy_(sigma)
        self.w_norm.copy_(w_norm)
        self.weight.copy_(modulate(w_norm, sigma, mu))
        self.weight.requires_grad_(False)
        if self.bias is not None:
            self.bias.requires_grad_(False)
        self.frozen.fill_(True)

    def new_style(self) -> StyleParams:
        """A fresh task's (γ, β, bias) = (σ, μ, 0): the task starts exactly at the frozen base."""
        if not self.is_frozen:
            raise RuntimeError(
                f"layer {self.style_key or type(self).__name__} is not frozen yet: "
                "train and freeze the base GAN before adding task modulations"
            )
        return StyleParams(
            self.w_sigma.detach().clone(),
            self.w_mu.detach().clone(),
            torch.zeros(self.out_features_, dtype=self.weight.dtype, device=self.weight.device),
        )

    def _effective(self, style: Optional[StyleParams]) -> Tuple[Tensor, Optional[Tensor]]:
        """The kernel and bias to compute with: the base ones, or a task's modulated ones."""
        if style is None:
            return self.weight, self.bias
        if not self.is_frozen:
            raise RuntimeError("a task modulation was given to a layer whose base is not frozen")
        w = modulate(self.w_norm, style.gamma, style.beta)
        b = style.bias if self.bias is None else self.bias + style.bias
        return w, b


class ModulatedConv2d(_ModulatedMixin, nn.Module):
    """A conv layer (stride 1, 'same' padding) whose frozen kernel each task re-styles.

    Before ``freeze()`` it is a plain trainable ``Conv2d`` (base training). After, ``forward(x,
    style)`` uses Ŵ = γ ⊙ W̄ + β with γ, β of shape (C_out, C_in, 1, 1) and bias b + b_task.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 3, bias: bool = True):
        super().__init__()
        if kernel_size % 2 != 1:
            raise ValueError(f"kernel_size must be odd (same padding), got {kernel_size}")
        self.in_channels, self.out_channels, self.kernel_size = in_channels, out_channels, kernel_size
        self.out_features_ = out_channels
        conv = nn.Conv2d(in_channels, out_channels, kernel_size, padding=kernel_size // 2, bias=bias)
        self.weight = conv.weight
        self.bias = conv.bias
        self._stat_dims = (2, 3)
        stat_shape = (out_channels, in_channels, 1, 1)
        self.register_buffer("w_norm", torch.zeros_like(conv.weight.detach()))
        self.register_buffer("w_mu", torch.zeros(stat_shape))
        self.register_buffer("w_sigma", torch.ones(stat_shape))
        self.register_buffer("frozen", torch.zeros((), dtype=torch.bool))

    def forward(self, x: Tensor, style: Optional[StyleParams] = None) -> Tensor:
        w, b = self._effective(style)
        return F.conv2d(x, w, b, padding=self.kernel_size // 2)

    def extra_repr(self) -> str:
        return f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, frozen={self.is_frozen}"


class ModulatedLinear(_ModulatedMixin, nn.Module):
    """A linear layer whose frozen weight rows each task re-styles.

    As in the reference's ``AdaFM_fc``, each output unit's row of W (its weights over the inputs)
    is normalised, and a task learns γ, β of shape (out_features, 1) plus a bias.
    """

    def __init__(self, in_features: int, out_features: int):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.out_features_ = out_features
        lin = nn.Linear(in_features, out_features)
        self.weight = lin.weight
        self.bias = lin.bias
        self._stat_dims = (1,)
        self.register_buffer("w_norm", torch.zeros_like(lin.weight.detach()))
        self.register_buffer("w_mu", torch.zeros(out_features, 1))
        self.register_buffer("w_sigma", torch.ones(out_features, 1))
        self.register_buffer("frozen", torch.zeros((), dtype=torch.bool))

    def forward(self, x: Tensor, style: Optional[StyleParams] = None) -> Tensor:
        w, b = self._effective(style)
        return F.linear(x, w, b)

    def extra_repr(self) -> str:
        return f"{self.in_features}, {self.out_features}, frozen={self.is_frozen}"

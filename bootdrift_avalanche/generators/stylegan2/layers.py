"""StyleGAN2's building blocks (Karras et al., "Analyzing and Improving the Image Quality of
StyleGAN", CVPR 2020), written from the paper and from reading NVlabs/stylegan2-ada-pytorch's
``training/networks.py`` (not copied):

- **equalised learning rate** (``EqualLinear``, ``EqualConv2d``): weights are stored N(0, 1) (over
  ``lr_mult``) and scaled at run time by ``lr_mult / sqrt(fan_in)``, so Adam's step is the same
  relative size for every layer;
- ``modulated_conv2d``: the kernel is scaled per sample by the style s (input channels), then
  **demodulated**, w'' = w' / sqrt(sum w'^2 + eps) per output channel, which restores unit output
  variance for unit input variance (Eq. 1-3 of the paper) instead of normalising the activations
  (AdaIN); computed as the reference's non-fused path (scale, shared convolution, rescale);
- ``up2`` / ``down2``: resampling with the separable [1, 3, 3, 1] FIR filter of the reference
  (upsampling: zero insertion then the filter with gain 4; downsampling: the filter then stride 2).
  Convolutions that change resolution upsample before / downsample after a plain 3x3 convolution:
  the same linear map as the reference's fused strided convolutions, up to the image border;
- ``SynthesisLayer`` (modulated 3x3 conv, per-pixel noise with a learned strength, bias, leaky ReLU
  with gain sqrt(2)) and ``ToRGB`` (modulated 1x1 conv without demodulation, linear).

Not reproduced: the reference's custom CUDA kernels (bias_act, upfirdn2d), mixed precision and
activation clamping (fp16 only). Everything here is plain ``torch.nn.functional``.
"""
from __future__ import annotations

import math
from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor, nn

LRELU_SLOPE = 0.2
#: Leaky-ReLU gain that keeps the second moment of a unit-variance input (the reference's def_gain).
LRELU_GAIN = math.sqrt(2.0)
_FIR = torch.tensor([1.0, 3.0, 3.0, 1.0])


def lrelu(x: Tensor) -> Tensor:
    """Leaky ReLU (slope 0.2) times sqrt(2)."""
    return F.leaky_relu(x, LRELU_SLOPE) * LRELU_GAIN


def _fir_kernel(channels: int, gain: float, like: Tensor) -> Tensor:
    k = torch.outer(_FIR, _FIR)
    k = k / k.sum() * gain
    return k.to(like).expand(channels, 1, 4, 4)


def up2(x: Tensor) -> Tensor:
    """x2 upsampling: zeros inserted between pixels, then the [1,3,3,1] filter (gain 4)."""
    c = x.shape[1]
    return F.conv_transpose2d(x, _fir_kernel(c, 4.0, x), stride=2, padding=1, groups=c)


def down2(x: Tensor) -> Tensor:
    """/2 downsampling: the [1,3,3,1] filter, then every second pixel."""
    c = x.shape[1]
    return F.conv2d(x, _fir_kernel(c, 1.0, x), stride=2, padding=1, groups=c)


def normalize_2nd_moment(x: Tensor, eps: float = 1e-8) -> Tensor:
    """x / sqrt(mean(x^2)) over the feature dimension (the reference's pixel norm of z and embed(c))."""
    return x * (x.square().mean(dim=1, keepdim=True) + eps).rsqrt()


class EqualLinear(nn.Module):
    """Fully-connected layer with equalised learning rate; ``activation`` "lrelu" or "linear"."""

    def __init__(self, n_in: int, n_out: int, *, bias_init: float = 0.0, lr_mult: float = 1.0,
                 activation: str = "linear"):
        super().__init__()
        if activation not in ("linear", "lrelu"):
            raise ValueError(f"activation must be 'linear' or 'lrelu', got {activation!r}")
        self.weight = nn.Parameter(torch.randn(n_out, n_in) / lr_mult)
        self.bias = nn.Parameter(torch.full((n_out,), float(bias_init) / lr_mult))
        self.weight_gain = lr_mult / math.sqrt(n_in)
        self.lr_mult = lr_mult
        self.activation = activation

    def forward(self, x: Tensor) -> Tensor:
        x = F.linear(x, self.weight * self.weight_gain, self.bias * self.lr_mult)
        return lrelu(x) if self.activation == "lrelu" else x


class EqualConv2d(nn.Module):
    """Convolution with equalised learning rate (the discriminator's), optionally followed by
    ``down2`` and a leaky ReLU; ``gain`` scales the output (the residual branch's sqrt(0.5))."""

    def __init__(self, c_in: int, c_out: int, kernel: int, *, bias: bool = True, down: bool = False,
                 activation: str = "lrelu", gain: float = 1.0):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(c_out, c_in, kernel, kernel))
        self.bias = nn.Parameter(torch.zeros(c_out)) if bias else None
        self.weight_gain = 1.0 / math.sqrt(c_in * kernel * kernel)
        self.padding = kernel // 2
        self.down = down
        self.activation = activation
        self.gain = gain

    def forward(self, x: Tensor) -> Tensor:
        x = F.conv2d(x, self.weight * self.weight_gain, padding=self.padding)
        if self.down:
            x = down2(x)
        if self.bias is not None:
            x = x + self.bias.view(1, -1, 1, 1)
        if self.activation == "lrelu":
            x = lrelu(x)
        return x * self.gain if self.gain != 1.0 else x


def modulated_conv2d(x: Tensor, weight: Tensor, styles: Tensor, *, demodulate: bool = True) -> Tensor:
    """Convolve each sample of ``x`` (N, I, H, W) with ``weight`` (O, I, k, k) scaled by its own
    ``styles`` (N, I) over the input channels and (``demodulate``) rescaled to unit L2 norm per
    output channel: w'_oik = s_i w_oik, w''_oik = w'_oik / sqrt(sum_ik w'_oik^2 + 1e-8). 'Same' padding.

    Computed without forming per-sample kernels (the reference's non-fused path): scale the input
    channels by s, convolve with the shared kernel, scale the output channels by the demodulation
    coefficients, which only depend on s and w. The same linear map as one grouped convolution over
    per-sample kernels, and faster on a CPU (batched instead of grouped convolution)."""
    n, c_in = x.shape[:2]
    out = F.conv2d(x * styles.view(n, c_in, 1, 1), weight, padding=weight.shape[-1] // 2)
    if demodulate:
        dcoefs = (styles.square() @ weight.square().sum(dim=(2, 3)).t() + 1e-8).rsqrt()  # (N, O)
        out = out * dcoefs.view(n, -1, 1, 1)
    return out


class SynthesisLayer(nn.Module):
    """Modulated 3x3 conv (after ``up2`` when ``up``), noise, bias, leaky ReLU.

    The style is ``affine(w)`` with bias 1 (styles start near 1); the noise strength starts at 0,
    as in the reference. ``noise_mode``: "random" (fresh N(0,1) per pixel, from ``generator`` when
    given), "const" (the layer's fixed buffer, the same for every image) or "none".
    """

    def __init__(self, c_in: int, c_out: int, w_dim: int, resolution: int, *, up: bool = False):
        super().__init__()
        self.affine = EqualLinear(w_dim, c_in, bias_init=1.0)
        self.weight = nn.Parameter(torch.randn(c_out, c_in, 3, 3))
        self.bias = nn.Parameter(torch.zeros(c_out))
        self.noise_strength = nn.Parameter(torch.zeros(()))
        self.register_buffer("noise_const", torch.randn(resolution, resolution))
        self.up = up
        self.resolution = resolution

    def forward(self, x: Tensor, w: Tensor, *, noise_mode: str = "random",
                generator: Optional[torch.Generator] = None) -> Tensor:
        if self.up:
            x = up2(x)
        x = modulated_conv2d(x, self.weight, self.affine(w), demodulate=True)
        if noise_mode == "random":
            noise = torch.randn((x.shape[0], 1, self.resolution, self.resolution), generator=generator,
                                device=generator.device if generator is not None else x.device)
            x = x + noise.to(x.device) * self.noise_strength
        elif noise_mode == "const":
            x = x + self.noise_const * self.noise_strength
        return lrelu(x + self.bias.view(1, -1, 1, 1))


class ToRGB(nn.Module):
    """Modulated 1x1 conv to image channels, without demodulation (the style carries the scale)."""

    def __init__(self, c_in: int, c_img: int, w_dim: int):
        super().__init__()
        self.affine = EqualLinear(w_dim, c_in, bias_init=1.0)
        self.weight = nn.Parameter(torch.randn(c_img, c_in, 1, 1))
        self.bias = nn.Parameter(torch.zeros(c_img))
        self.weight_gain = 1.0 / math.sqrt(c_in)

    def forward(self, x: Tensor, w: Tensor) -> Tensor:
        styles = self.affine(w) * self.weight_gain
        return modulated_conv2d(x, self.weight, styles, demodulate=False) + self.bias.view(1, -1, 1, 1)

"""The GP-GAN ResNet generator and discriminator (Mescheder et al. 2018) that GAN Memory uses as
its base, built from modulated layers so that each task can re-style the frozen base.

Sized by image size: a 4x4 start, nearest-neighbour x2 upsampling between residual blocks (the
discriminator mirrors it with average pooling), leaky ReLU 0.2, residual branch scaled by 0.1,
tanh output. See docs/GAN_MEMORY.md.
"""
from __future__ import annotations

import math
from typing import Dict, List, Optional, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .modulated_layers import ModulatedConv2d, ModulatedLinear, StyleParams
from .task_modulation import DiscriminatorModulation, GeneratorModulation, TaskModulation

# Residual branches are scaled by 0.1, as in GP-GAN's ResNet (Mescheder et al. 2018): it keeps a
# deep generator close to the identity at initialisation, so training starts stable without
# normalisation layers.
RESIDUAL_SCALE = 0.1
# Leaky ReLU slope used throughout GP-GAN's ResNet.
LEAKY_SLOPE = 0.2


def actvn(x: Tensor) -> Tensor:
    """GP-GAN's activation: leaky ReLU with slope 0.2."""
    return F.leaky_relu(x, LEAKY_SLOPE)


def _channels_per_level(image_size: int, base_channels: int, max_channels: int) -> List[int]:
    """Channels at resolutions 4, 8, ..., image_size: doubling towards low resolution, capped
    (the reference: 16·nf at 4x4 halving to nf at the top, for 256 px)."""
    levels = int(round(math.log2(image_size // 4))) + 1
    return [min(max_channels, base_channels * 2 ** (levels - 1 - i)) for i in range(levels)]


def check_image_size(image_size: int) -> None:
    """GP-GAN's ResNet starts at 4x4 and doubles: the image side must be 4·2^k with k ≥ 1."""
    if image_size < 8 or image_size & (image_size - 1):
        raise ValueError(
            f"GAN Memory's ResNet needs a square image whose side is a power of two >= 8 "
            f"(4x4 start, x2 per block), got {image_size}; resize the data (e.g. 28 -> 32)"
        )


class ResBlock(nn.Module):
    """GP-GAN residual block: x_s + 0.1 · conv_1(actvn(conv_0(actvn(x)))).

    The two 3x3 convs are modulated per task; the 1x1 shortcut (when channels change) stays frozen,
    as in the reference.
    """

    def __init__(self, fin: int, fout: int):
        super().__init__()
        fhidden = min(fin, fout)
        self.conv_0 = ModulatedConv2d(fin, fhidden, 3)
        self.conv_1 = ModulatedConv2d(fhidden, fout, 3)
        self.conv_s = nn.Conv2d(fin, fout, 1, bias=False) if fin != fout else None

    def forward(self, x: Tensor, mod: Optional[TaskModulation] = None) -> Tensor:
        x_s = x if self.conv_s is None else self.conv_s(x)
        s0 = None if mod is None else mod.style(self.conv_0.style_key)
        s1 = None if mod is None else mod.style(self.conv_1.style_key)
        dx = self.conv_0(actvn(x), s0)
        dx = self.conv_1(actvn(dx), s1)
        return x_s + RESIDUAL_SCALE * dx


class _ModulatedNet(nn.Module):
    """Shared bookkeeping: naming the modulated layers, freezing, and building fresh styles."""

    def _name_modulated_layers(self) -> None:
        for name, m in self.named_modules():
            if isinstance(m, (ModulatedConv2d, ModulatedLinear)):
                m.style_key = name.replace(".", "_")

    def modulated_layers(self) -> List[nn.Module]:
        return [m for m in self.modules() if isinstance(m, (ModulatedConv2d, ModulatedLinear))]

    @property
    def is_frozen(self) -> bool:
        return all(m.is_frozen for m in self.modulated_layers())

    @torch.no_grad()
    def freeze(self) -> None:
        """Freeze every base weight for good (normalising the modulated kernels)."""
        for m in self.modulated_layers():
            m.freeze()
        for p in self.parameters():
            p.requires_grad_(False)

    def new_styles(self) -> Dict[str, StyleParams]:
        return {m.style_key: m.new_style() for m in self.modulated_layers()}


class ResNetGenerator(_ModulatedNet):
    """GP-GAN ResNet generator: z → FC → (C0, 4, 4) → blocks with x2 nearest upsampling → tanh image.

    ``forward(z, class_bias, mod)`` adds ``class_bias`` (B, fc_out) to the FC output: the base uses
    rows of its own ``class_embed`` table (one per source class), a task uses rows of its
    ``GeneratorModulation.class_bias``. ``mod=None`` runs the base weights.
    """

    def __init__(
        self, *, z_dim: int, image_shape: Sequence[int], base_channels: int, max_channels: int,
        num_source_classes: int,
    ):
        super().__init__()
        c, h, w = image_shape
        if h != w:
            raise ValueError(f"GAN Memory's ResNet needs square images, got {h}x{w}")
        check_image_size(h)
        self.z_dim, self.image_shape = z_dim, (c, h, w)
        self.channels = _channels_per_level(h, base_channels, max_channels)
        self.fc_out = self.channels[0] * 16
        self.fc = ModulatedLinear(z_dim, self.fc_out)
        # Base class bias, one row per source class; zero at init so the base starts unconditional.
        self.class_embed = nn.Parameter(torch.zeros(num_source_classes, self.fc_out))
        ch = self.channels
        self.blocks = nn.ModuleList(ResBlock(ch[max(i - 1, 0)], ch[i]) for i in range(len(ch)))
        # Output conv: frozen with the base and not modulated, as the reference's conv_img.
        self.conv_img = nn.Conv2d(ch[-1], c, 3, padding=1)
        self._name_modulated_layers()

    def forward(self, z: Tensor, class_bias: Tensor, mod: Optional[GeneratorModulation] = None) -> Tensor:
        style = None if mod is None else mod.style(self.fc.style_key)
        h = self.fc(z, style) + class_bias
        h = h.view(z.shape[0], self.channels[0], 4, 4)
        for i, block in enumerate(self.blocks):
            if i > 0:
                h = F.interpolate(h, scale_factor=2, mode="nearest")
            h = block(h, mod)
        return torch.tanh(self.conv_img(actvn(h)))

    def new_modulation(self, class_bias: Tensor, classes: Tensor) -> GeneratorModulation:
        return GeneratorModulation(self.new_styles(), class_bias, classes)


class ResNetDiscriminator(_ModulatedNet):
    """GP-GAN ResNet discriminator, the generator's mirror: image → conv → blocks with 3x3/2 average
    pooling down to 4x4 → FC head with one logit per class; ``forward`` returns the logit of each
    sample's own class (the reference's multi-head conditioning)."""

    def __init__(self, *, image_shape: Sequence[int], base_channels: int, max_channels: int, num_source_classes: int):
        super().__init__()
        c, h, _ = image_shape
        check_image_size(h)
        ch = list(reversed(_channels_per_level(h, base_channels, max_channels)))
        self.channels = ch
        # Input conv: frozen with the base and not modulated (the reference trains only D's AdaFM + fc).
        self.conv_img = nn.Conv2d(c, ch[0], 3, padding=1)
        # The generator's blocks in reverse: block i maps ch[i] -> ch[i+1], the last one keeps the
        # 4x4 width (the generator's first block, like the reference's 16nf -> 16nf).
        last = len(ch) - 1
        self.blocks = nn.ModuleList(ResBlock(ch[i], ch[min(i + 1, last)]) for i in range(len(ch)))
        self.feat_dim = ch[-1] * 16
        self.head = nn.Linear(self.feat_dim, num_source_classes)
        self._name_modulated_layers()

    def features(self, x: Tensor, mod: Optional[DiscriminatorModulation] = None) -> Tensor:
        h = self.conv_img(x)
        for i, block in enumerate(self.blocks):
            if i > 0:
                h = F.avg_pool2d(h, 3, stride=2, padding=1)
            h = block(h, mod)
        return actvn(h.flatten(1))

    def forward(self, x: Tensor, y: Tensor, mod: Optional[DiscriminatorModulation] = None) -> Tensor:
        f = self.features(x, mod)
        w, b = (self.head.weight, self.head.bias) if mod is None else (mod.head_weight, mod.head_bias)
        # Only each sample's own class logit is needed: a row-wise dot product instead of the full
        # matmul, which also keeps a task head with copied rows bit-identical to the base head
        # (a GEMM of a different width may sum in a different order).
        return (f * w[y]).sum(1) + b[y]

    def new_modulation(self, head_weight: Tensor, head_bias: Tensor) -> DiscriminatorModulation:
        return DiscriminatorModulation(self.new_styles(), head_weight, head_bias)

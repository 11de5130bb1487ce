"""D, StyleGAN2's **residual** discriminator (paper, Fig. 7c) with **projection** conditioning
(Miyato & Koyama 2018, as in stylegan2-ada-pytorch's conditional D).

``FromRGB`` at the image resolution, then per resolution H, ..., 8 a residual block: two 3x3
convolutions (the second downsampling) plus a 1x1 downsampling skip, summed and scaled by sqrt(1/2);
at 4x4 the epilogue: minibatch standard deviation (one extra channel), 3x3 conv, a fully-connected
layer and a final one to ``cmap_dim`` features phi(x). The class enters by projection: the score is
<phi(x), m(c)> / sqrt(cmap_dim), with m(c) the class's vector from a small mapping network
(``MappingNetwork`` with no z).
"""
from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from .config import StyleGAN2Config
from .layers import EqualConv2d, EqualLinear
from .mapping import MappingNetwork


class DiscriminatorBlock(nn.Module):
    """Residual block at one resolution: (conv3x3, conv3x3 down) + 1x1 down skip, times sqrt(0.5)."""

    def __init__(self, c_in: int, c_out: int):
        super().__init__()
        self.conv0 = EqualConv2d(c_in, c_in, 3)
        self.conv1 = EqualConv2d(c_in, c_out, 3, down=True, gain=math.sqrt(0.5))
        self.skip = EqualConv2d(c_in, c_out, 1, bias=False, down=True, activation="linear", gain=math.sqrt(0.5))

    def forward(self, x: Tensor) -> Tensor:
        return self.skip(x) + self.conv1(self.conv0(x))


def minibatch_std(x: Tensor, group: int) -> Tensor:
    """Append one channel: the standard deviation of every feature over a group of samples, averaged
    over features and pixels. The group is the largest divisor of the batch up to ``group``; groups
    take samples i, i + N/G, ... as in the reference."""
    n, c, h, w = x.shape
    g = max(d for d in range(1, min(group, n) + 1) if n % d == 0)
    y = x.reshape(g, -1, c, h, w)
    y = (y - y.mean(0)).square().mean(0).add(1e-8).sqrt()  # (N/G, C, H, W)
    y = y.mean(dim=(1, 2, 3)).view(-1, 1, 1, 1).repeat(g, 1, h, w)
    return torch.cat([x, y], dim=1)


class Discriminator(nn.Module):
    """``forward(images in [-1, 1], labels) -> logits`` of shape (N,)."""

    def __init__(self, cfg: StyleGAN2Config):
        super().__init__()
        res = cfg.resolutions()
        top = res[-1]
        self.fromrgb = EqualConv2d(cfg.image_shape[0], cfg.channels(top), 1)
        self.blocks = nn.ModuleList(
            DiscriminatorBlock(cfg.channels(r), cfg.channels(r // 2)) for r in reversed(res[1:])
        )
        c4 = cfg.channels(4)
        self.cmap_dim = c4
        self.mbstd_group = cfg.mbstd_group
        self.conv = EqualConv2d(c4 + 1, c4, 3)
        self.fc = EqualLinear(c4 * 16, c4, activation="lrelu")
        self.out = EqualLinear(c4, self.cmap_dim)
        self.class_map = MappingNetwork(0, cfg.num_classes, self.cmap_dim, layers=cfg.d_mapping_layers,
                                        lr_mult=cfg.mapping_lr_mult)

    def forward(self, img: Tensor, labels: Tensor) -> Tensor:
        x = self.fromrgb(img)
        for block in self.blocks:
            x = block(x)
        x = self.conv(minibatch_std(x, self.mbstd_group))
        phi = self.out(self.fc(x.flatten(1)))
        cmap = self.class_map(None, labels)
        return (phi * cmap).sum(dim=1) / math.sqrt(self.cmap_dim)

"""The synthesis network in StyleGAN2's **skip** architecture (paper, Fig. 7b): a learned 4x4
constant, then per resolution 4, 8, ..., H one block of modulated 3x3 convolutions (the first one
upsampling, except at 4x4) and a ``ToRGB`` output whose image is added to the upsampled image of the
blocks below. Every layer takes its own w (``ws[:, i]``): the generator broadcasts one w to all of
them (no style mixing), and the path-length regulariser differentiates with respect to each.
"""
from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor, nn

from .config import StyleGAN2Config
from .layers import SynthesisLayer, ToRGB, up2


class SynthesisBlock(nn.Module):
    """One resolution: (const at 4x4) conv0 (up), conv1, ToRGB; the image skip path is added."""

    def __init__(self, c_in: int, c_out: int, c_img: int, w_dim: int, resolution: int):
        super().__init__()
        self.first = resolution == 4
        if self.first:
            self.const = nn.Parameter(torch.randn(c_out, 4, 4))
            self.conv0 = None
        else:
            self.conv0 = SynthesisLayer(c_in, c_out, w_dim, resolution, up=True)
        self.conv1 = SynthesisLayer(c_out, c_out, w_dim, resolution)
        self.torgb = ToRGB(c_out, c_img, w_dim)
        self.num_ws = 2 if self.first else 3

    def forward(self, x: Optional[Tensor], img: Optional[Tensor], ws: Tensor, *, noise_mode: str,
                generator: Optional[torch.Generator]):
        i = 0
        if self.first:
            x = self.const.unsqueeze(0).expand(ws.shape[0], -1, -1, -1)
        else:
            x = self.conv0(x, ws[:, 0], noise_mode=noise_mode, generator=generator)
            i = 1
        x = self.conv1(x, ws[:, i], noise_mode=noise_mode, generator=generator)
        rgb = self.torgb(x, ws[:, i + 1])
        img = rgb if img is None else up2(img) + rgb
        return x, img


class SynthesisNetwork(nn.Module):
    """``forward(ws (N, num_ws, w_dim)) -> images (N, C, H, W)``, about [-1, 1] once trained (linear output)."""

    def __init__(self, cfg: StyleGAN2Config):
        super().__init__()
        c_img = cfg.image_shape[0]
        self.blocks = nn.ModuleList()
        prev = 0
        for res in cfg.resolutions():
            self.blocks.append(SynthesisBlock(prev, cfg.channels(res), c_img, cfg.w_dim, res))
            prev = cfg.channels(res)
        self.num_ws = sum(b.num_ws for b in self.blocks)

    def forward(self, ws: Tensor, *, noise_mode: str = "random", generator: Optional[torch.Generator] = None) -> Tensor:
        x = img = None
        i = 0
        for block in self.blocks:
            x, img = block(x, img, ws[:, i:i + block.num_ws], noise_mode=noise_mode, generator=generator)
            i += block.num_ws
        return img

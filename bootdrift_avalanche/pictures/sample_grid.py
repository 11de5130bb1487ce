"""The sample grid of the drift suite (``Samples``): real and synthetic images side by side, one row
per class, labelled, enlarged with nearest-neighbour so that 8x8 or 32x32 images can be read.

Layout of the (3, H', W') image in [0, 1] (white background), from the top: an optional title line,
a header line ("real" over the left block, "synthetic" over the right one), then one row per class
(sorted ids) with its label ("class 3") in a left margin of :data:`LABEL_W` pixels, ``per_class``
real images, a gap of :data:`GAP` pixels and ``per_class`` synthetic images. Every image is
enlarged by the integer factor ``ceil(cell / H)`` (nearest neighbour: pixels stay sharp, no
interpolation invents detail) and followed by :data:`PAD` pixels; a class with fewer images than
``per_class`` has light grey cells. Without real images the synthetic block stands alone.

Drawn with Pillow (its built-in bitmap font: no font file to ship or download).
"""
from __future__ import annotations

from typing import List, Mapping, Optional

import torch
from torch import Tensor

LABEL_W = 64  # left margin with the class labels
LINE_H = 14  # height of the title and header lines
PAD = 2  # pixels after every image
GAP = 12  # between the real and the synthetic block
EMPTY = 220  # grey level of a cell without an image


def scale_for(height: int, cell: int) -> int:
    """The nearest-neighbour enlargement factor that brings an image of ``height`` rows to at least
    ``cell`` rows (1 for images already that large)."""
    return max(1, -(-cell // height))


def _to_uint8(x: Tensor, s: int) -> Tensor:
    """(C, H, W) in [0, 1] -> (H*s, W*s, 3) uint8, grey images as RGB."""
    x = x.detach().float().cpu().clamp(0, 1)
    if x.shape[0] == 1:
        x = x.expand(3, -1, -1)
    x = x[:3].repeat_interleave(s, dim=1).repeat_interleave(s, dim=2)
    return (x * 255).round().to(torch.uint8).permute(1, 2, 0)


def labelled_grid(syn_x: Tensor, syn_y: Tensor, *, real_x: Optional[Tensor] = None, real_y: Optional[Tensor] = None,
                  per_class: int = 8, title: str = "", cell: int = 32,
                  class_names: Optional[Mapping[int, str]] = None) -> Tensor:
    """The labelled real | synthetic grid described in the module docstring, as a (3, H', W')
    float tensor in [0, 1]. ``class_names``: the row label of a class id (default "class 3"), e.g.
    "t1 c0" for the (task, class) pair behind a generator label."""
    import numpy as np
    from PIL import Image, ImageDraw

    blocks = ([("real", real_x, real_y)] if real_x is not None else []) + [("synthetic", syn_x, syn_y)]
    classes: List[int] = sorted(set(syn_y.tolist()) | (set(real_y.tolist()) if real_x is not None else set()))
    s = scale_for(syn_x.shape[2], cell)
    ch, cw = syn_x.shape[2] * s, syn_x.shape[3] * s
    block_w = per_class * (cw + PAD)
    top = (LINE_H if title else 0) + LINE_H
    width = LABEL_W + len(blocks) * block_w + (len(blocks) - 1) * GAP
    canvas = np.full((top + len(classes) * (ch + PAD), width, 3), 255, dtype=np.uint8)
    for b, (_, x, y) in enumerate(blocks):
        x0 = LABEL_W + b * (block_w + GAP)
        for i, c in enumerate(classes):
            imgs = x[y == c][:per_class]
            y0 = top + i * (ch + PAD)
            for j in range(per_class):
                cell_px = _to_uint8(imgs[j], s).numpy() if j < len(imgs) else EMPTY
                canvas[y0:y0 + ch, x0 + j * (cw + PAD):x0 + j * (cw + PAD) + cw] = cell_px
    img = Image.fromarray(canvas)
    draw = ImageDraw.Draw(img)
    if title:
        draw.text((2, 1), title, fill=(0, 0, 0))
    for b, (name, _, _) in enumerate(blocks):
        draw.text((LABEL_W + b * (block_w + GAP), top - LINE_H + 1), name, fill=(0, 0, 0))
    for i, c in enumerate(classes):
        name = class_names[c] if class_names and c in class_names else f"class {c}"
        draw.text((2, top + i * (ch + PAD) + ch // 2 - 5), name, fill=(0, 0, 0))
    return torch.from_numpy(np.asarray(img).copy()).permute(2, 0, 1).float() / 255.0

"""The one mapping of float images to what image feature networks read: 3 channels in [0, 1]."""
from __future__ import annotations

from typing import Tuple

from torch import Tensor


def images_in_unit_range(x: Tensor, value_range: Tuple[float, float], who: str) -> Tensor:
    """Float images (N, 1 or 3, H, W) in ``value_range`` -> (N, 3, H, W) in [0, 1] (grey repeated)."""
    if x.dim() != 4 or x.shape[1] not in (1, 3):
        raise ValueError(f"{who} expects images (N, 1 or 3, H, W), got {tuple(x.shape)}")
    lo, hi = value_range
    x = ((x.float() - lo) / (hi - lo)).clamp(0, 1)
    return x.repeat(1, 3, 1, 1) if x.shape[1] == 1 else x

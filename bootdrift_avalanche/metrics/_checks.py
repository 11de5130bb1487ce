"""Input checks shared by the drift metrics (FID, CFID, OTDD, UMAP): every public metric function
turns its arguments into float64 feature matrices and int64 label vectors here, so a wrong shape,
too few rows or a NaN is reported once, the same way, naming the argument."""
from __future__ import annotations

import math
from typing import Union

import numpy as np
import torch
from torch import Tensor

ArrayLike = Union[Tensor, np.ndarray]


def as_features(x: ArrayLike, name: str = "features", *, min_samples: int = 2) -> Tensor:
    """Return ``x`` as a float64 (N, d) tensor, raising ``ValueError`` for a wrong shape, too few
    rows or non-finite values (each message names the argument)."""
    if isinstance(x, np.ndarray):
        x = torch.from_numpy(x)
    if not isinstance(x, Tensor):
        raise TypeError(f"{name} must be a torch.Tensor or numpy array, got {type(x).__name__}")
    if x.dim() != 2:
        raise ValueError(f"{name} must be 2-D (num_samples, num_features), got shape {tuple(x.shape)}")
    if x.shape[1] < 1:
        raise ValueError(f"{name} has no feature columns (shape {tuple(x.shape)})")
    if x.shape[0] < min_samples:
        raise ValueError(f"{name} has {x.shape[0]} sample(s); at least {min_samples} are needed")
    if x.is_complex() or x.dtype == torch.bool:
        raise TypeError(f"{name} must be real-valued, got dtype {x.dtype}")
    x = x.detach().to(torch.float64)
    if math.isfinite(float(x.sum())):  # one cheap reduction; NaN/Inf would propagate into it
        return x
    bad = ~torch.isfinite(x)
    if bool(bad.any()):  # (a finite set whose sum overflowed is fine)
        rows = bad.any(dim=1).nonzero().flatten()
        raise ValueError(
            f"{name} contains {int(bad.sum())} NaN/Inf value(s) in {rows.numel()} row(s) "
            f"(first bad row: {int(rows[0])})"
        )
    return x


def as_labels(y: ArrayLike, n: int, name: str = "labels") -> Tensor:
    """Return ``y`` as a 1-D int64 tensor of length ``n`` (``ValueError``/``TypeError`` otherwise)."""
    if isinstance(y, np.ndarray):
        y = torch.from_numpy(y)
    if not isinstance(y, Tensor):
        raise TypeError(f"{name} must be a torch.Tensor or numpy array, got {type(y).__name__}")
    if y.dim() != 1 or y.shape[0] != n:
        raise ValueError(f"{name} must be 1-D with one label per feature row ({n}), got shape {tuple(y.shape)}")
    if y.is_floating_point():
        if not bool((y == y.round()).all()):
            raise TypeError(f"{name} must hold integer class labels, got non-integer floats")
    elif y.is_complex() or y.dtype == torch.bool:
        raise TypeError(f"{name} must hold integer class labels, got dtype {y.dtype}")
    return y.detach().to(torch.int64)


def check_same_dim(a: int, b: int, what: str = "feature dimensions") -> None:
    if a != b:
        raise ValueError(f"{what} differ: {a} vs {b}; both sets must come from the same feature extractor")


"""``IdentityFeatures``: the input itself as features (2-D points, tests)."""
from __future__ import annotations

from typing import Optional

from torch import Tensor


class IdentityFeatures:
    """The input itself, flattened to (N, prod(shape[1:])); ``name = "identity"``.

    Args:
        num_features: expected d; if ``None`` it is set by the first call.
    """

    name = "identity"

    def __init__(self, num_features: Optional[int] = None) -> None:
        self.num_features = num_features

    def __call__(self, x: Tensor) -> Tensor:
        f = x.reshape(x.shape[0], -1)
        if self.num_features is None:
            self.num_features = f.shape[1]
        elif f.shape[1] != self.num_features:
            raise ValueError(f"IdentityFeatures expects {self.num_features} values per sample, got {f.shape[1]}")
        return f

    def __repr__(self) -> str:
        return f"IdentityFeatures(num_features={self.num_features})"

"""``ClassAnchors``: the per-class feature statistics of anchored replay.

The feature space is fixed before the stream starts: a frozen CNN with the architecture of
:class:`~bootdrift_avalanche.metrics.features.RandomFeatures`, its weights drawn from a seed and
never trained, so it has seen no data at all (in particular no future data). It is **not** the
feature space the drift metrics score in (their ``clf`` extractor, a classifier trained on the
train stream); otherwise the selection and the training term would optimise the very number that
measures them.

For every class, :meth:`ClassAnchors.record` stores the mean and covariance of its features the
first time it is given real images of that class, and never again: a class already anchored is
skipped, whatever images come later, so synthetic data can never move an anchor. The stored
numbers are d + d(d+1)/2 float32 values per class (mean and the covariance's upper triangle);
:meth:`ClassAnchors.nbytes` counts them. The symmetric square root Σ^½ that the Fréchet distance
needs is derived from them on demand (not stored state).
"""
from __future__ import annotations

from typing import Dict, List, Tuple

import torch
from torch import Tensor

from ..metrics._gaussian import gaussian_w2_squared, sqrtm_psd
from ..metrics.features import RandomFeatures, extract_features


class ClassAnchors:
    """Per-class mean and covariance in a fixed random feature space (see the module docstring).

    Args:
        num_features: feature dimension d (64: a class of Split Digits has ~140 training images,
            enough for a full-rank 64x64 covariance; 512 would be rank-deficient).
        value_range: the value range of the images (the benchmark's).
        seed: draws the network's weights.
    """

    def __init__(self, *, num_features: int = 64, value_range: Tuple[float, float] = (0.0, 1.0), seed: int = 0):
        self.extractor = RandomFeatures(seed=seed, num_features=num_features, value_range=value_range)
        self.num_features, self.value_range, self.seed = num_features, value_range, seed
        self._mean: Dict[int, Tensor] = {}
        self._cov: Dict[int, Tensor] = {}
        self._root: Dict[int, Tensor] = {}

    # -- the feature space ---------------------------------------------------------------------
    def embed(self, x: Tensor) -> Tensor:
        """Features (N, d) of images ``x`` in ``value_range``, differentiable in ``x`` (the network's
        weights stay frozen). Unlike ``RandomFeatures.__call__`` the input is not clamped to the
        value range, so a training term gets gradients for out-of-range pixels too."""
        lo, hi = self.value_range
        z = (x.float() - lo) / (hi - lo) * 2.0 - 1.0
        if z.shape[1] == 1:
            z = z.repeat(1, 3, 1, 1)
        net = self.extractor.model
        return net(z.to(next(net.parameters()).device))

    def features(self, x: Tensor) -> Tensor:
        """Features of ``x`` without gradients, in batches (CPU)."""
        return extract_features(self.embed, x.detach())

    # -- the stored statistics -----------------------------------------------------------------
    def record(self, x: Tensor, y: Tensor) -> List[int]:
        """Anchor every class of ``y`` that has no anchor yet, from its real images in ``x``; a
        class already anchored is left exactly as it is. Returns the classes anchored now."""
        y = torch.as_tensor(y).long()
        new = [c for c in sorted(set(y.tolist())) if c not in self._mean]
        for c in new:
            xc = x[y == c]
            if len(xc) < 2:
                raise ValueError(f"class {c} has {len(xc)} image(s) in its first experience; anchoring its "
                                 "feature covariance needs at least 2")
            f = self.features(xc).double()
            mean = f.mean(0)
            cov = torch.cov(f.T).reshape(self.num_features, self.num_features)
            # stored as float32 (what nbytes counts); computed in float64
            self._mean[c], self._cov[c] = mean.float(), cov.float()
        return new

    @property
    def classes(self) -> List[int]:
        return sorted(self._mean)

    def __contains__(self, c: int) -> bool:
        return int(c) in self._mean

    def stats(self, c: int) -> Tuple[Tensor, Tensor]:
        """(mean, covariance) stored for class ``c``."""
        if int(c) not in self._mean:
            raise KeyError(f"class {c} has no anchor; anchored classes: {self.classes or 'none yet'} "
                           "(a class is anchored from the real images of its first experience)")
        return self._mean[int(c)], self._cov[int(c)]

    def root(self, c: int) -> Tensor:
        """Σ^½ of class ``c`` (derived from the stored covariance, cached)."""
        c = int(c)
        if c not in self._root:
            self._root[c] = sqrtm_psd(self.stats(c)[1].double()).float()
        return self._root[c]

    def frechet(self, c: int, x: Tensor) -> float:
        """Fréchet distance between the features of images ``x`` and the anchor of class ``c``."""
        f = self.features(x).double()
        mean, cov = self.stats(c)
        return gaussian_w2_squared(f.mean(0), torch.cov(f.T), mean.double(), cov.double())

    def nbytes(self) -> int:
        """Bytes of the stored statistics: d + d(d+1)/2 float32 values per anchored class (the
        network is rebuilt from its seed and costs nothing to keep)."""
        d = self.num_features
        return len(self._mean) * (d + d * (d + 1) // 2) * 4

    def state_dict(self) -> dict:
        return {"mean": dict(self._mean), "cov": dict(self._cov), "num_features": self.num_features,
                "seed": self.seed}

    def load_state_dict(self, state: dict) -> None:
        if state["num_features"] != self.num_features or state["seed"] != self.seed:
            raise ValueError(f"anchors saved with num_features={state['num_features']}, seed={state['seed']} "
                             f"cannot be loaded into ClassAnchors(num_features={self.num_features}, seed={self.seed})")
        self._mean, self._cov, self._root = dict(state["mean"]), dict(state["cov"]), {}

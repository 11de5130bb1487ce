"""Streaming float64 Gaussian statistics of features (count, shifted sum, sum of outer products):
the accumulator FID is computed from, torchmetrics-style (``update``/``merge``/``reset``). How the
trace term uses them: :mod:`._gaussian`."""
from __future__ import annotations

from typing import List, Optional

import torch
from torch import Tensor

from ._checks import ArrayLike, as_features, check_same_dim
from ._gaussian import Gauss, gauss_from_features, gram, psd_root_factor


class GaussianStats:
    """Streaming float64 sufficient statistics of features: count, sum and sum of outer products.

    ``update(features)`` accumulates, ``merge(other)`` combines two accumulators (e.g. from
    several workers), ``mean``/``cov`` derive the unbiased moments, ``reset()`` clears — the
    torchmetrics pattern, so features never need to be held in memory.

    Numerics: sums are taken of ``x − shift`` with ``shift`` the mean of the first batch (an
    exact reparametrisation that avoids the cancellation of ``XᵀX − n μμᵀ`` when the features have
    a large common offset); merging re-centres one side exactly.

    ``keep_features=True`` (default) also keeps the raw rows while fewer than d have been seen
    (memory at most that of the d×d covariance). As long as they are kept, :func:`frechet_distance`
    can use the exact nuclear-norm route, which for n < d is orders of magnitude cheaper; once the
    count reaches d they are dropped and only the sums remain.

    The root factor of Σ used by the trace term is cached (:meth:`root_factor`) until the next
    ``update``/``merge``/``reset``, so a fixed real reference pays for it once: pass the reference
    as a ``GaussianStats`` and the other set as a tensor (or as ``feats_a`` if both are statistics);
    a side whose factor is already cached is always the one reused.
    """

    def __init__(self, num_features: Optional[int] = None, *, keep_features: bool = True) -> None:
        if num_features is not None and num_features < 1:
            raise ValueError(f"num_features must be positive, got {num_features}")
        self.num_features = num_features
        self.keep_features = keep_features
        self.reset()

    # -- accumulation ------------------------------------------------------------------------
    def reset(self) -> "GaussianStats":
        """Forget everything accumulated (``num_features`` is kept if it was given)."""
        self.count = 0
        self.shift: Optional[Tensor] = None
        self.sum: Optional[Tensor] = None
        self.outer: Optional[Tensor] = None
        self._kept: Optional[List[Tensor]] = [] if self.keep_features else None
        self._root: Optional[Tensor] = None
        return self

    @torch.no_grad()
    def update(self, features: ArrayLike) -> "GaussianStats":
        """Add a batch of features (N, d); returns ``self``."""
        x = as_features(features, "features", min_samples=1)
        d = x.shape[1]
        if self.num_features is None:
            self.num_features = d
        check_same_dim(self.num_features, d, "feature dimension of the batch and of the statistics")
        if self.shift is None:
            self.shift = x.mean(0)
            self.sum = torch.zeros(d, dtype=torch.float64, device=x.device)
            self.outer = torch.zeros(d, d, dtype=torch.float64, device=x.device)
        xs = x.to(self.shift.device) - self.shift
        self.sum += xs.sum(0)
        self.outer += gram(xs)
        self.count += x.shape[0]
        self._keep(x)
        self._root = None
        return self

    @torch.no_grad()
    def merge(self, other: "GaussianStats") -> "GaussianStats":
        """Add the statistics of ``other`` into ``self`` (exact); returns ``self``."""
        if not isinstance(other, GaussianStats):
            raise TypeError(f"can only merge GaussianStats, got {type(other).__name__}")
        if other.count == 0:
            return self
        if self.count == 0:
            if self.num_features is not None:
                check_same_dim(self.num_features, other.num_features)
            self.num_features, self.count = other.num_features, other.count
            self.shift, self.sum, self.outer = other.shift.clone(), other.sum.clone(), other.outer.clone()
            self._kept = list(other._kept) if (self.keep_features and other._kept is not None) else None
            self._root = None
            return self
        check_same_dim(self.num_features, other.num_features)
        delta = other.shift.to(self.shift.device) - self.shift  # re-centre other's sums on self.shift
        s_o, o_o = other.sum.to(self.shift.device), other.outer.to(self.shift.device)
        self.outer += o_o + torch.outer(s_o, delta) + torch.outer(delta, s_o) + other.count * torch.outer(delta, delta)
        self.sum += s_o + other.count * delta
        self.count += other.count
        if self._kept is not None and other._kept is not None and self.count < self.num_features:
            self._kept.extend(t.to(self.shift.device) for t in other._kept)
        else:
            self._kept = None
        self._root = None
        return self

    def _keep(self, x: Tensor) -> None:
        if self._kept is None:
            return
        if self.count < self.num_features:
            self._kept.append(x.to(self.shift.device))
        else:
            self._kept = None  # the nuclear route no longer pays off

    @classmethod
    def from_features(cls, features: ArrayLike, *, keep_features: bool = True) -> "GaussianStats":
        """One-shot statistics of a (N, d) feature matrix."""
        return cls(keep_features=keep_features).update(features)

    @classmethod
    def from_sums(cls, count: int, shift: Tensor, sum: Tensor, outer: Tensor, *,
                  rows: Optional[Tensor] = None) -> "GaussianStats":
        """Statistics from sums already taken: ``count`` rows x, ``sum`` = Σ (x − shift) (d,) and
        ``outer`` = Σ (x − shift)(x − shift)ᵀ (d, d), float64 — e.g. partial sums of several
        processes about one common ``shift``, added up (``metrics.sharded``). ``rows``: the rows
        themselves, kept (for the nuclear-norm route) when ``count`` < d as :meth:`update` would."""
        d = int(shift.shape[0])
        if count < 1 or tuple(sum.shape) != (d,) or tuple(outer.shape) != (d, d):
            raise ValueError(f"from_sums needs count >= 1, sum ({d},) and outer ({d}, {d}); got count {count}, "
                             f"sum {tuple(sum.shape)}, outer {tuple(outer.shape)}")
        st = cls(d)
        st.count, st.shift, st.sum, st.outer = int(count), shift.double(), sum.double(), outer.double()
        st._kept = [rows.double()] if rows is not None and count < d else None
        return st

    # -- derived quantities ------------------------------------------------------------------
    def _need(self, k: int = 2) -> None:
        if self.count < k:
            raise ValueError(f"GaussianStats holds {self.count} sample(s); at least {k} are needed")

    @property
    def mean(self) -> Tensor:
        """Mean feature vector (d,), float64."""
        self._need(1)
        return self.shift + self.sum / self.count

    @property
    def cov(self) -> Tensor:
        """Unbiased covariance (d, d), float64: (Σ (x−s)(x−s)ᵀ − S Sᵀ/n) / (n−1) with S = Σ (x−s)."""
        self._need(2)
        c = (self.outer - torch.outer(self.sum, self.sum) / self.count) / (self.count - 1)
        return 0.5 * (c + c.T)

    @property
    def features(self) -> Optional[Tensor]:
        """The raw rows if still kept (fewer than d seen and ``keep_features``), else ``None``."""
        if self._kept is None or not self._kept:
            return None
        return torch.cat(self._kept)

    def root_factor(self) -> Tensor:
        """Cached square-root factor F of ``cov`` (F Fᵀ = Σ), see :func:`psd_root_factor`."""
        if self._root is None:
            self._root = psd_root_factor(self.cov)
        return self._root

    def _gauss(self, *, low_rank: bool) -> Gauss:
        self._need(2)
        feats = self.features
        if low_rank and feats is not None:
            return gauss_from_features(feats, keep_low=True)
        cov = self.cov
        return Gauss(mean=self.mean, trace=float(cov.trace()), cov=cov,
                      root_fn=self.root_factor, root_cached=self._root is not None)

    def __repr__(self) -> str:
        kept = self.features is not None
        return f"GaussianStats(count={self.count}, num_features={self.num_features}, features_kept={kept})"

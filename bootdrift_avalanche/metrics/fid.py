"""The Fréchet distance (FID, Heusel et al. 2017) between two feature sets, float64, unbiased
covariances: the squared 2-Wasserstein distance between the Gaussians fitted to them::

    FID = ‖μx − μy‖² + tr Σx + tr Σy − 2 tr (Σx^½ Σy Σx^½)^½

How the trace term is computed (Cholesky / eigh root factors, the exact nuclear-norm route when
n < d): :mod:`._gaussian`. Its agreement with torchmetrics' ``FrechetInceptionDistance`` and its
speed are measured by ``bench/metrics_bench.py`` (``docs/DEVELOPMENT.md``). The streaming
accumulator is :class:`~.gaussian_stats.GaussianStats`, per-class FID :mod:`.cfid` (both
re-exported here).
"""
from __future__ import annotations

from typing import Union

from ._checks import ArrayLike, as_features, check_same_dim
from ._gaussian import frechet_from_gauss, gauss_from_features
from .gaussian_stats import GaussianStats


def frechet_distance(
    feats_a: Union[ArrayLike, GaussianStats],
    feats_b: Union[ArrayLike, GaussianStats],
    *,
    route: str = "auto",
) -> float:
    """Fréchet distance (FID, Heusel et al. 2017) between two feature sets, float64.

    FID = ‖μa − μb‖² + tr Σa + tr Σb − 2 tr (Σa^½ Σb Σa^½)^½ with unbiased covariances.

    Args:
        feats_a, feats_b: (N, d) tensors/arrays, or :class:`GaussianStats` (mixing is allowed).
        route: ``"auto"`` — the nuclear-norm route ‖Yc Xcᵀ‖*/√((n−1)(m−1)) when n or m < d and the
            features are available (tensors, or statistics still keeping their rows), else the
            symmetric-eigensolver route on Fᵀ Σb F with F a (cached) root factor of Σa;
            ``"eigen"`` or ``"nuclear"`` force one (``"nuclear"`` needs the features of both sides).

    Returns:
        The distance as a Python float. It may be a tiny negative number (≈ −1e-10·scale) for
        identical sets; it is not clamped, so that rounding stays visible.

    Example (a shift of the mean by 1 in each of 3 dimensions adds 3):

    >>> import torch
    >>> x = torch.randn(500, 3, generator=torch.Generator().manual_seed(0))
    >>> abs(frechet_distance(x, x)) < 1e-9
    True
    >>> round(frechet_distance(x, x + 1.0), 6)
    3.0
    """
    if route not in ("auto", "eigen", "nuclear"):
        raise ValueError(f"route must be 'auto', 'eigen' or 'nuclear', got {route!r}")
    sides = []
    for name, f in (("feats_a", feats_a), ("feats_b", feats_b)):
        if isinstance(f, GaussianStats):
            if f.count < 2:
                raise ValueError(f"{name}: GaussianStats holds {f.count} sample(s); at least 2 are needed")
            sides.append(f)
        else:
            sides.append(as_features(f, name))
    dims = [s.num_features if isinstance(s, GaussianStats) else s.shape[1] for s in sides]
    check_same_dim(*dims)
    counts = [s.count if isinstance(s, GaussianStats) else s.shape[0] for s in sides]
    d = dims[0]
    if route == "nuclear":
        low = True
    elif route == "eigen":
        low = False
    else:
        low = min(counts) < d
    gs = []
    for name, s in zip(("feats_a", "feats_b"), sides):
        if isinstance(s, GaussianStats):
            if route == "nuclear" and s.features is None:
                raise ValueError(
                    f"route='nuclear' needs the features of {name}, but its GaussianStats no longer keeps "
                    f"them (count {s.count} >= d {d}, or keep_features=False)"
                )
            gs.append(s._gauss(low_rank=low))
        else:
            gs.append(gauss_from_features(s, keep_low=low))
    return frechet_from_gauss(gs[0], gs[1])


__all__ = ["GaussianStats", "frechet_distance"]


def __getattr__(name: str):
    """``fid.cfid``, ``fid.CFIDResult`` and ``fid.check_class_size`` still resolve (they live in
    :mod:`.cfid`, which imports this module: a plain import here would be circular)."""
    if name in ("CFIDResult", "cfid", "check_class_size"):
        import importlib

        return getattr(importlib.import_module(".cfid", __package__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

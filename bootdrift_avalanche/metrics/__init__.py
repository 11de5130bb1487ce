"""Drift metrics: pure functions on feature tensors plus accumulating statistics.

* :func:`frechet_distance` (FID), :class:`GaussianStats` (streaming float64 moments),
  :func:`cfid` / :class:`CFIDResult` (per-class FID = intra-FID) — :mod:`.fid`
* :func:`otdd` (Optimal Transport Dataset Distance) — :mod:`.otdd`
* :func:`real_data_accuracy` (train on synthetic, test on real) — :mod:`.accuracy`
* feature extractors :class:`IdentityFeatures`, :class:`ClassifierFeatures`,
  :class:`InceptionFeatures` and :func:`extract_features` — :mod:`.features`
* :func:`umap_figure` (real vs synthetic projection) — :mod:`.umap`

POT, umap-learn and torch-fidelity are imported inside the functions that use them, so importing
this package stays cheap.
"""
from .accuracy import RealAccuracyResult, real_data_accuracy
from .features import ClassifierFeatures, IdentityFeatures, InceptionFeatures, extract_features
from .fid import (
    CFIDResult,
    GaussianStats,
    bures_squared,
    cfid,
    frechet_distance,
    gaussian_w2_squared,
    psd_root_factor,
    sqrtm_psd,
    trace_sqrt_product,
)
from .otdd import otdd
from .umap import umap_figure

__all__ = [
    "CFIDResult",
    "ClassifierFeatures",
    "GaussianStats",
    "IdentityFeatures",
    "InceptionFeatures",
    "RealAccuracyResult",
    "bures_squared",
    "cfid",
    "extract_features",
    "frechet_distance",
    "gaussian_w2_squared",
    "otdd",
    "psd_root_factor",
    "real_data_accuracy",
    "sqrtm_psd",
    "trace_sqrt_product",
    "umap_figure",
]

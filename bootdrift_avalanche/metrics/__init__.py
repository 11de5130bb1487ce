"""Drift metrics: pure functions on feature tensors plus accumulating statistics.

* :func:`frechet_distance` (FID), :class:`GaussianStats` (streaming float64 moments),
  :func:`cfid` / :class:`CFIDResult` (per-class FID = intra-FID) — :mod:`.fid`
* :func:`otdd` (Optimal Transport Dataset Distance, exact) — :mod:`.otdd`; :func:`otdd_compat`
  (microsoft/otdd's convention and engine) — :mod:`.otdd_compat`; for large sets
  :func:`otdd_hierarchical`, :func:`otdd_entropic` (streamed Sinkhorn divergence) and
  :func:`otdd_sliced` (s-OTDD) — :mod:`.otdd_hierarchical`, :mod:`.otdd_entropic`, :mod:`.otdd_sliced`
* :func:`real_data_accuracy` (train on synthetic, test on real) — :mod:`.accuracy`
* feature extractors :class:`IdentityFeatures`, :class:`ClassifierFeatures`,
  :class:`InceptionFeatures`, :class:`ResNet50Features`, :class:`RandomFeatures`,
  :func:`make_extractor` (the one way to get one) and :func:`extract_features` — :mod:`.features`;
  where pretrained weights files are found offline — :mod:`.weights`
* :func:`kid` / :func:`class_kid` (KID and per-class KID, torchmetrics' estimator, jackknife
  standard error) — :mod:`.kid`; the real-vs-real floor and the excess over it — :mod:`.floor`;
  intervals of every value (bootstrap, Wilson) — :mod:`.intervals`; cohort curves (fixed class
  sets over experiences) — :mod:`.cohorts`; the names beside a value (``_floor``, ``_lo``...) —
  :mod:`.qualifiers`
* :func:`umap_figure` (real vs synthetic projection, an illustration only) — :mod:`.umap`
* the same metrics across ``torchrun`` processes (sharded features, all-reduced statistics) —
  :mod:`.sharded`
* :class:`DriftSuite` (all drift values of a synthetic set, shared by the drift plugin and the
  bootstrapping loop), :class:`SuiteConfig`, :class:`DriftValues`, :func:`log_values`,
  :func:`sample_picture`, :func:`tag_for` — :mod:`.suite`

Shared internals: input checks in :mod:`._checks`, Gaussian linear algebra in :mod:`._gaussian`.

POT, geomloss, umap-learn and torch-fidelity are imported inside the functions that use them, so importing
this package stays cheap.
"""
from ._gaussian import bures_squared, gaussian_w2_squared, psd_root_factor, sqrtm_psd, trace_sqrt_product
from .accuracy import RealAccuracyResult, real_data_accuracy
from .features import (
    ClassifierFeatures,
    IdentityFeatures,
    InceptionFeatures,
    RandomFeatures,
    ResNet50Features,
    extract_features,
    make_extractor,
)
from .fid import CFIDResult, GaussianStats, cfid, frechet_distance
from .kid import class_kid, kid
from .otdd import otdd
from .otdd_compat import otdd_compat
from .otdd_entropic import otdd_entropic
from .otdd_hierarchical import otdd_hierarchical
from .otdd_sliced import otdd_sliced
from .suite import DriftSuite, DriftValues, SuiteConfig, sample_picture
from ..tags import TAG_SUFFIX, tag_for
from .umap import umap_figure

__all__ = [
    "TAG_SUFFIX",
    "CFIDResult",
    "ClassifierFeatures",
    "DriftSuite",
    "DriftValues",
    "GaussianStats",
    "IdentityFeatures",
    "InceptionFeatures",
    "RandomFeatures",
    "ResNet50Features",
    "RealAccuracyResult",
    "SuiteConfig",
    "bures_squared",
    "cfid",
    "class_kid",
    "extract_features",
    "frechet_distance",
    "gaussian_w2_squared",
    "kid",
    "make_extractor",
    "otdd",
    "otdd_compat",
    "otdd_entropic",
    "otdd_hierarchical",
    "otdd_sliced",
    "psd_root_factor",
    "real_data_accuracy",
    "sample_picture",
    "sqrtm_psd",
    "tag_for",
    "trace_sqrt_product",
    "umap_figure",
]

"""Drift metrics: pure functions on feature tensors plus accumulating statistics (tensors in,
numbers out; nothing here imports Avalanche). One module per metric, named after it: FID
(:mod:`.fid`, :mod:`.gaussian_stats`), per-class FID (:mod:`.cfid`), OTDD and its large-set variants
(:mod:`.otdd`, :mod:`.otdd_hierarchical`, :mod:`.otdd_entropic`, :mod:`.otdd_sliced`, chosen by
:mod:`.otdd_choice`), KID (:mod:`.kid`), RealAcc (:mod:`.accuracy`), floors and intervals
(:mod:`.floor`, :mod:`.intervals`), feature extractors (:mod:`.features`), and the bundle of all of
them (:mod:`.suite`). What each value means: ``docs/DRIFT_METRICS.md``. POT, geomloss, umap-learn
and torch-fidelity are imported inside the functions that use them, so importing this stays cheap.
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
from .cfid import CFIDResult, cfid
from .fid import frechet_distance
from .gaussian_stats import GaussianStats
from .kid import class_kid, kid
from .otdd import otdd
from .otdd_compat import otdd_compat
from .otdd_entropic import otdd_entropic
from .otdd_hierarchical import otdd_hierarchical
from .otdd_sliced import otdd_sliced
from ..pictures import sample_picture
from .suite import DriftSuite, DriftValues, SuiteConfig
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

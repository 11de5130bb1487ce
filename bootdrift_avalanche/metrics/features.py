"""Feature extractors for the drift metrics: the protocol, the one way to obtain an extractor
(:func:`make_extractor`, a kind name of :data:`EXTRACTOR_KINDS` or an object passed through) and
:func:`extract_features`, which runs one over a large tensor in batches without gradients.

An extractor is a callable ``x -> (N, d)`` float tensor with a ``name`` (it goes into every metric
name computed on its features, so numbers from different extractors are never compared) and
``num_features`` (d). Each extractor lives in its own module; which one the paper's numbers use and
how to supply weights files: docs/FEATURE_EXTRACTORS.md.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable, Dict, Optional, Union

import torch
from torch import Tensor

from . import feature_precision
from .classifier_features import ClassifierFeatures
from .feature_cache import CACHE_ENV, default_cache_dir
from .identity_features import IdentityFeatures
from .inception_features import InceptionFeatures
from .random_features import RandomFeatures
from .resnet50_features import ResNet50Features
from .weights import INCEPTION_ENV, INCEPTION_FILE, INCEPTION_URL, INCEPTION_WEIGHTS, RESNET50_WEIGHTS

__all__ = [
    "CACHE_ENV", "EXTRACTOR_KINDS", "INCEPTION_ENV", "INCEPTION_FILE", "INCEPTION_URL", "INCEPTION_WEIGHTS",
    "RESNET50_WEIGHTS", "ClassifierFeatures", "IdentityFeatures", "InceptionFeatures", "RandomFeatures",
    "ResNet50Features", "check_extractor", "default_cache_dir", "extract_features", "make_extractor",
]


@torch.no_grad()
def extract_features(extractor: Callable[[Tensor], Tensor], x: Tensor, batch_size: int = 256,
                     precision: str = "float32") -> Tensor:
    """Apply ``extractor`` to ``x`` in batches of ``batch_size`` under ``no_grad``, in ``precision``
    (:mod:`.feature_precision`); returns the (N, d) features on the CPU."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be positive, got {batch_size}")
    if x.shape[0] == 0:
        raise ValueError("cannot extract features of an empty tensor")
    x = feature_precision.prepare(x, precision)
    out = []
    with feature_precision.running(precision):
        for s in range(0, x.shape[0], batch_size):
            f = extractor(x[s : s + batch_size])
            if f.dim() != 2 or f.shape[0] != min(batch_size, x.shape[0] - s):
                raise ValueError(f"extractor {getattr(extractor, 'name', extractor)!r} returned shape "
                                 f"{tuple(f.shape)}")
            out.append(f.detach().cpu())
    f = torch.cat(out)
    return f.float() if f.dtype == torch.bfloat16 else f


def _identity(x_fit, y_fit, *, cache_dir, seed) -> IdentityFeatures:
    return IdentityFeatures()


def _clf(x_fit, y_fit, *, cache_dir, seed) -> ClassifierFeatures:
    if x_fit is None or y_fit is None:
        raise ValueError("features='clf' needs the data to train it on: make_extractor('clf', x_fit, y_fit)")
    return ClassifierFeatures.fit(x_fit, y_fit, cache_dir=cache_dir, seed=seed)


def _resnet50(x_fit, y_fit, *, cache_dir, seed) -> ResNet50Features:
    return ResNet50Features()


def _inception(x_fit, y_fit, *, cache_dir, seed) -> InceptionFeatures:
    return InceptionFeatures()


def _random(x_fit, y_fit, *, cache_dir, seed) -> RandomFeatures:
    return RandomFeatures(seed=seed)


#: kind -> builder(x_fit, y_fit, *, cache_dir, seed); a new kind is one entry here. Each kind's
#: extractor has the kind as its ``name`` (the suffix of the metric names: ``FID_resnet50``).
EXTRACTOR_KINDS: Dict[str, Callable[..., Callable[[Tensor], Tensor]]] = {
    "identity": _identity,  # the values themselves (2-D points)
    "clf": _clf,  # SmallCNN trained on the real training data (offline default for images)
    "resnet50": _resnet50,  # torchvision's ImageNet ResNet-50, 2048-d (weights file)
    "inception": _inception,  # torch-fidelity's InceptionV3 pool3, 2048-d: the FID standard (weights file)
    "random": _random,  # frozen random CNN from the seed, 512-d (no training, no weights)
}


def make_extractor(
    kind_or_extractor=None,
    x_fit: Optional[Tensor] = None,
    y_fit: Optional[Tensor] = None,
    *,
    cache_dir: Union[str, Path, None, bool] = None,
    seed: int = 0,
    device: Union[str, torch.device, None] = None,
):
    """The feature extractor of the drift metrics, from a kind name or passed through.

    Args:
        kind_or_extractor: a kind of :data:`EXTRACTOR_KINDS`: ``"clf"`` (:class:`ClassifierFeatures`
            trained on (x_fit, y_fit), cached under ``cache_dir``), ``"resnet50"``
            (:class:`ResNet50Features`), ``"inception"`` (:class:`InceptionFeatures`), ``"random"``
            (:class:`RandomFeatures` drawn from ``seed``), ``"identity"``
            (:class:`IdentityFeatures`); the extractor's ``name`` is the kind. ``None``: identity
            for 2-D points, clf for images, decided from ``x_fit``. Or an extractor object, returned
            as it is. An extractor is a callable ``x -> (N, d)`` with a non-empty string ``name``,
            which goes into every metric name so values of different feature spaces are never mixed.
        x_fit, y_fit: real data to train a classifier extractor on (and, for ``None``, to tell
            points from images). Keep it disjoint from the data the metrics score against.
        cache_dir: where :meth:`ClassifierFeatures.fit` caches the trained network (``False``:
            no cache).
        seed: training seed of the clf classifier, weights seed of the random network.
        device: where a built extractor runs (``None``: the CPU). Features come back on the CPU
            (:func:`extract_features`).

    Raises:
        ValueError: unknown kind, or ``"clf"``/``None`` without ``x_fit``.
        FileNotFoundError: ``"resnet50"``/``"inception"`` without their weights file (the message
            says which file, where it was looked for and how to supply it).
        TypeError: an object that is not callable or has no ``name``.
    """
    if kind_or_extractor is None:
        if x_fit is None:
            raise ValueError("make_extractor(None) decides between 'identity' and 'clf' from x_fit; pass x_fit")
        kind_or_extractor = "identity" if x_fit.dim() == 2 else "clf"  # points vs images
    if isinstance(kind_or_extractor, str):
        builder = EXTRACTOR_KINDS.get(kind_or_extractor)
        if builder is None:
            raise ValueError(
                f"unknown features {kind_or_extractor!r}: use one of {sorted(EXTRACTOR_KINDS)} or an extractor "
                "object (a callable x -> (N, d) features with a `name`)"
            )
        extractor = builder(x_fit, y_fit, cache_dir=cache_dir, seed=seed)
        return extractor if device is None or not hasattr(extractor, "to") else extractor.to(device)
    return check_extractor(kind_or_extractor)


def check_extractor(extractor):
    """``extractor`` itself if it follows the protocol (callable, non-empty string ``name``), else
    ``TypeError``."""
    name = getattr(extractor, "name", None)
    if not callable(extractor) or not isinstance(name, str) or not name:
        raise TypeError(
            f"a feature extractor must be callable (x -> (N, d) features) and have a non-empty string `name`, "
            f"got {type(extractor).__name__}"
        )
    return extractor

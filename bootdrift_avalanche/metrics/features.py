"""Feature extractors for the drift metrics.

An extractor is a callable ``x -> (N, d)`` float tensor with two attributes: ``name`` (goes into
every metric name computed on its features, so numbers from different extractors are never
compared) and ``num_features`` (d).

* :class:`IdentityFeatures` — the flattened input (the 2-D toy, tests).
* :class:`ClassifierFeatures` — the penultimate layer of a :class:`~bootdrift_avalanche.nets.SmallCNN`
  trained on the benchmark's real training data; trained once, cached on disk under a key of the
  data, seed and configuration. Works offline: the default extractor of the package.
* :class:`InceptionFeatures` — torch-fidelity's InceptionV3 (the FID network of Heusel et al.
  2017); needs its weights file, from a local path or a download where there is internet.

:func:`make_extractor` is the one way the drift plugin and the bootstrapping loop obtain an
extractor (a kind name, or an extractor object passed through); :func:`extract_features` runs an
extractor over a large tensor in batches without gradients.
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Callable, Dict, Optional, Sequence, Tuple, Union

import torch
from torch import Tensor, nn

from ..nets import make_classifier, predict, train_classifier
from ..runtime.checkpoint import atomic_torch_save

CACHE_ENV = "BOOTDRIFT_CACHE"
INCEPTION_ENV = "BOOTDRIFT_INCEPTION_WEIGHTS"
INCEPTION_FILE = "weights-inception-2015-12-05-6726825d.pth"
INCEPTION_URL = "https://github.com/toshas/torch-fidelity/releases/download/v0.2.0/" + INCEPTION_FILE


def default_cache_dir() -> Path:
    """``$BOOTDRIFT_CACHE`` if set, else the user's cache directory (``platformdirs``:
    ``$XDG_CACHE_HOME/bootdrift`` or ``~/.cache/bootdrift`` on Linux), resolved at call time. Runs
    share it: a trained extractor is keyed by data, seed and configuration, so it is trained once
    per benchmark and reused by every later run."""
    env = os.environ.get(CACHE_ENV)
    if env:
        return Path(env).expanduser()
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("bootdrift", appauthor=False))


@torch.no_grad()
def extract_features(extractor: Callable[[Tensor], Tensor], x: Tensor, batch_size: int = 256) -> Tensor:
    """Apply ``extractor`` to ``x`` in batches of ``batch_size`` under ``no_grad``; returns the
    (N, d) features on the CPU."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be positive, got {batch_size}")
    if x.shape[0] == 0:
        raise ValueError("cannot extract features of an empty tensor")
    out = []
    for s in range(0, x.shape[0], batch_size):
        f = extractor(x[s : s + batch_size])
        if f.dim() != 2 or f.shape[0] != min(batch_size, x.shape[0] - s):
            raise ValueError(f"extractor {getattr(extractor, 'name', extractor)!r} returned shape {tuple(f.shape)}")
        out.append(f.detach().cpu())
    return torch.cat(out)


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


class ClassifierFeatures:
    """Penultimate-layer features of a classifier with a ``features(x)`` method and ``feature_dim``
    (see :mod:`bootdrift_avalanche.nets`). Build it with :meth:`fit` to train on real data.

    Args:
        model: the trained classifier (put in eval mode, gradients off).
        name: metric-name tag; keep it distinct for differently trained extractors.
        train_accuracy: accuracy of ``model`` on its training data, if known (set by :meth:`fit`).
    """

    def __init__(self, model: nn.Module, *, name: str = "clf", train_accuracy: Optional[float] = None) -> None:
        if not hasattr(model, "features") or not hasattr(model, "feature_dim"):
            raise TypeError("model must expose features(x) and feature_dim (see bootdrift_avalanche.nets)")
        self.model = model.eval().requires_grad_(False)
        self.name = name
        self.num_features = int(model.feature_dim)
        self.train_accuracy = train_accuracy

    @torch.no_grad()
    def __call__(self, x: Tensor) -> Tensor:
        device = next(self.model.parameters()).device
        return self.model.features(x.to(device=device, dtype=torch.float32))

    def to(self, device: Union[str, torch.device]) -> "ClassifierFeatures":
        self.model.to(device)
        return self

    @classmethod
    def fit(
        cls,
        x: Tensor,
        y: Tensor,
        *,
        num_classes: Optional[int] = None,
        cache_dir: Union[str, Path, None, bool] = None,
        seed: int = 0,
        epochs: int = 30,
        batch_size: int = 128,
        lr: float = 1e-3,
        name: str = "clf",
        **model_kwargs,
    ) -> "ClassifierFeatures":
        """Train a classifier (:func:`~bootdrift_avalanche.nets.make_classifier`) on the real
        training data (x, y), or load it from the cache.

        The cache file is ``<cache_dir>/<name>-<key>.pt`` where the key hashes the data bytes, the
        seed and the configuration, so a changed dataset or setting retrains; the file is written
        atomically (:func:`~bootdrift_avalanche.runtime.checkpoint.atomic_torch_save`), so a
        crash mid-write never leaves a truncated cache entry that a later run would load.
        ``cache_dir`` defaults to :func:`default_cache_dir`; pass ``cache_dir=False`` to disable
        caching.
        """
        x = x.detach().cpu().float().contiguous()
        y = y.detach().cpu().long().contiguous()
        if x.shape[0] != y.shape[0] or x.shape[0] < 2:
            raise ValueError(f"need at least 2 samples with one label each, got {x.shape[0]} and {y.shape[0]}")
        num_classes = int(y.max()) + 1 if num_classes is None else num_classes
        config = dict(input_shape=list(x.shape[1:]), num_classes=num_classes, seed=seed, epochs=epochs,
                      batch_size=batch_size, lr=lr, model_kwargs=model_kwargs, version=1)
        # Built without consuming torch's global RNG (training redraws the weights from `seed`),
        # so training or loading the extractor mid-run never changes the run's own random draws.
        with torch.random.fork_rng(devices=[]):
            model = make_classifier(x.shape[1:], num_classes, **model_kwargs)
        path = None
        if cache_dir is not False:
            path = Path(cache_dir or default_cache_dir()) / f"{name}-{_cache_key(x, y, config)}.pt"
            if path.is_file():
                blob = torch.load(path, map_location="cpu", weights_only=True)
                model.load_state_dict(blob["state_dict"])
                return cls(model, name=name, train_accuracy=blob["train_accuracy"])
        train_classifier(model, x, y, epochs=epochs, batch_size=batch_size, lr=lr, seed=seed)
        acc = float((predict(model, x) == y).float().mean())
        if path is not None:
            atomic_torch_save({"state_dict": model.state_dict(), "train_accuracy": acc, "config": json.dumps(config)}, path)
        return cls(model, name=name, train_accuracy=acc)

    def __repr__(self) -> str:
        return f"ClassifierFeatures(name={self.name!r}, num_features={self.num_features})"


def _cache_key(x: Tensor, y: Tensor, config: dict) -> str:
    h = hashlib.sha256()
    h.update(json.dumps(config, sort_keys=True).encode())
    h.update(str(tuple(x.shape)).encode())
    h.update(x.numpy().tobytes())
    h.update(y.numpy().tobytes())
    return h.hexdigest()[:16]


class InceptionFeatures:
    """torch-fidelity's InceptionV3 (``FeatureExtractorInceptionV3``, TF1-compatible resize to
    299x299), the standard FID feature network.

    Weights are looked up in this order: ``weights_path``; ``$BOOTDRIFT_INCEPTION_WEIGHTS``; the
    torch hub checkpoint folder where torch-fidelity's own download puts them
    (``<torch.hub.get_dir()>/checkpoints/weights-inception-2015-12-05-6726825d.pth``). If none
    exists, ``download=True`` lets torch-fidelity fetch them; otherwise a single
    ``FileNotFoundError`` says what is missing, where it looked and how to supply it.

    Args:
        weights_path: local ``.pth`` file of torch-fidelity's InceptionV3 weights.
        feature: ``"2048"`` (pool3, standard FID), ``"768"``, ``"192"`` or ``"64"``.
        download: allow a download when no local file is found.
        value_range: range of the float input images, mapped to 0..255 uint8 (grey images are
            repeated to 3 channels).
    """

    def __init__(
        self,
        weights_path: Union[str, Path, None] = None,
        *,
        feature: str = "2048",
        download: bool = False,
        value_range: Tuple[float, float] = (0.0, 1.0),
    ) -> None:
        feature = str(feature)
        if feature not in ("64", "192", "768", "2048"):
            raise ValueError(f"feature must be one of '64', '192', '768', '2048', got {feature!r}")
        self.feature, self.num_features = feature, int(feature)
        self.name = "inception" if feature == "2048" else f"inception{feature}"
        self.value_range = value_range
        path = _find_inception_weights(weights_path, download=download)
        from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3

        try:
            self.model = FeatureExtractorInceptionV3(
                "inception-v3-compat", [feature], feature_extractor_weights_path=None if path is None else str(path)
            )
        except Exception as err:  # corrupt file, failed download: one error saying what to do
            raise RuntimeError(
                f"could not load InceptionV3 weights ({'download from ' + INCEPTION_URL if path is None else path}): "
                f"{err}. {_inception_help()}"
            ) from err

    @torch.no_grad()
    def __call__(self, x: Tensor) -> Tensor:
        if x.dim() != 4 or x.shape[1] not in (1, 3):
            raise ValueError(f"InceptionFeatures expects images (N, 1 or 3, H, W), got {tuple(x.shape)}")
        lo, hi = self.value_range
        u8 = ((x.float() - lo) / (hi - lo) * 255.0).round().clamp(0, 255).to(torch.uint8)
        if u8.shape[1] == 1:
            u8 = u8.repeat(1, 3, 1, 1)
        device = next(self.model.parameters()).device
        return self.model(u8.to(device))[0].reshape(x.shape[0], -1)

    def to(self, device: Union[str, torch.device]) -> "InceptionFeatures":
        self.model.to(device)
        return self


def inception_search_paths(weights_path: Union[str, Path, None] = None) -> Sequence[Tuple[str, Path]]:
    """The (origin, path) candidates for the InceptionV3 weights, in lookup order."""
    out = []
    if weights_path is not None:
        out.append(("weights_path argument", Path(weights_path).expanduser()))
    if os.environ.get(INCEPTION_ENV):
        out.append((f"${INCEPTION_ENV}", Path(os.environ[INCEPTION_ENV]).expanduser()))
    out.append(("torch hub cache", Path(torch.hub.get_dir()) / "checkpoints" / INCEPTION_FILE))
    return out


def _inception_help() -> str:
    return (
        f"Supply the file with InceptionFeatures(weights_path=...) or the environment variable {INCEPTION_ENV}, "
        f"or download {INCEPTION_URL} into {Path(torch.hub.get_dir()) / 'checkpoints'}, or pass download=True "
        "on a machine with internet. Offline, use ClassifierFeatures.fit(...) instead."
    )


def _find_inception_weights(weights_path, *, download: bool) -> Optional[Path]:
    candidates = inception_search_paths(weights_path)
    if weights_path is not None and not candidates[0][1].is_file():
        raise FileNotFoundError(f"InceptionV3 weights not found at weights_path={str(candidates[0][1])!r}. {_inception_help()}")
    for _, p in candidates:
        if p.is_file():
            return p
    if download:
        return None  # torch-fidelity downloads into the torch hub cache
    looked = "; ".join(f"{origin}: {p}" for origin, p in candidates)
    raise FileNotFoundError(f"InceptionV3 weights file {INCEPTION_FILE} is missing (looked in {looked}). {_inception_help()}")


# --------------------------------------------------------------------------------------------
# the one way to obtain an extractor
# --------------------------------------------------------------------------------------------
def _identity(x_fit, y_fit, *, cache_dir, seed) -> IdentityFeatures:
    return IdentityFeatures()


def _classifier(x_fit, y_fit, *, cache_dir, seed) -> ClassifierFeatures:
    if x_fit is None or y_fit is None:
        raise ValueError("features='classifier' needs the data to train it on: make_extractor('classifier', x_fit, y_fit)")
    return ClassifierFeatures.fit(x_fit, y_fit, cache_dir=cache_dir, seed=seed)


# kind -> builder(x_fit, y_fit, *, cache_dir, seed); a new kind is one entry here.
EXTRACTOR_KINDS: Dict[str, Callable[..., Callable[[Tensor], Tensor]]] = {
    "identity": _identity,
    "classifier": _classifier,
}


def make_extractor(
    kind_or_extractor=None,
    x_fit: Optional[Tensor] = None,
    y_fit: Optional[Tensor] = None,
    *,
    cache_dir: Union[str, Path, None, bool] = None,
    seed: int = 0,
):
    """The feature extractor of the drift metrics, from a kind name or passed through.

    Args:
        kind_or_extractor: ``"classifier"`` (:class:`ClassifierFeatures` trained on
            (x_fit, y_fit), cached under ``cache_dir``; name ``"clf"``), ``"identity"``
            (:class:`IdentityFeatures`; name ``"identity"``), ``None`` (identity for 2-D points,
            classifier for images, decided from ``x_fit``), or an extractor object, returned as it
            is. An extractor is a callable ``x -> (N, d)`` with a non-empty string ``name``, which
            goes into every metric name so values of different feature spaces are never mixed.
        x_fit, y_fit: real data to train a classifier extractor on (and, for ``None``, to tell
            points from images). Keep it disjoint from the data the metrics score against.
        cache_dir: where :meth:`ClassifierFeatures.fit` caches the trained network (``False``:
            no cache).
        seed: training seed of the classifier.

    Raises:
        ValueError: unknown kind, or ``"classifier"``/``None`` without ``x_fit``.
        TypeError: an object that is not callable or has no ``name``.
    """
    if kind_or_extractor is None:
        if x_fit is None:
            raise ValueError("make_extractor(None) decides between 'identity' and 'classifier' from x_fit; pass x_fit")
        kind_or_extractor = "identity" if x_fit.dim() == 2 else "classifier"  # points vs images
    if isinstance(kind_or_extractor, str):
        builder = EXTRACTOR_KINDS.get(kind_or_extractor)
        if builder is None:
            raise ValueError(
                f"unknown features {kind_or_extractor!r}: use one of {sorted(EXTRACTOR_KINDS)} or an extractor "
                "object (a callable x -> (N, d) features with a `name`)"
            )
        return builder(x_fit, y_fit, cache_dir=cache_dir, seed=seed)
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

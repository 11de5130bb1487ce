"""Feature extractors for the drift metrics.

An extractor is a callable ``x -> (N, d)`` float tensor with two attributes: ``name`` (goes into
every metric name computed on its features, so numbers from different extractors are never
compared) and ``num_features`` (d).

* :class:`IdentityFeatures` — the flattened input (the 2-D toy, tests).
* :class:`ClassifierFeatures` — the penultimate layer of a :class:`~bootdrift_avalanche.nets.SmallCNN`
  trained on the benchmark's real training data; trained once, cached on disk under a key of the
  data, seed and configuration. Works offline: the default extractor of the package.
* :class:`InceptionFeatures` — torch-fidelity's InceptionV3 (the FID network of Heusel et al.
  2017), 2048-d; needs its weights file, from a local path or a download where there is internet.
* :class:`ResNet50Features` — torchvision's ImageNet ResNet-50 penultimate layer, 2048-d (the seed
  paper's suggestion for OTDD); needs torchvision's weights file.
* :class:`RandomFeatures` — a frozen, seeded, randomly initialised CNN: no training, no weights, an
  offline baseline.

Weights files are looked up offline by :class:`~bootdrift_avalanche.metrics.weights.WeightsFile`
(explicit path, environment variable, torch hub's checkpoint folder); ``docs/FEATURE_EXTRACTORS.md``
says which extractor the paper's numbers use and how to supply the files.

:func:`make_extractor` is the one way the drift plugin and the bootstrapping loop obtain an
extractor (a kind name, or an extractor object passed through); :func:`extract_features` runs an
extractor over a large tensor in batches without gradients.
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Callable, Dict, Optional, Tuple, Union

import torch
from torch import Tensor, nn

from ..nets import make_classifier, predict, train_classifier
from ..runtime.checkpoint import atomic_torch_save
from .weights import WeightsFile

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


def _images_in_unit_range(x: Tensor, value_range: Tuple[float, float], who: str) -> Tensor:
    """Float images (N, 1 or 3, H, W) in ``value_range`` -> (N, 3, H, W) in [0, 1] (grey repeated)."""
    if x.dim() != 4 or x.shape[1] not in (1, 3):
        raise ValueError(f"{who} expects images (N, 1 or 3, H, W), got {tuple(x.shape)}")
    lo, hi = value_range
    x = ((x.float() - lo) / (hi - lo)).clamp(0, 1)
    return x.repeat(1, 3, 1, 1) if x.shape[1] == 1 else x


def _load_or_explain(load: Callable[[], nn.Module], weights: WeightsFile, path: Optional[Path]) -> nn.Module:
    """``load()``, with any failure (corrupt file, wrong format, failed download) turned into one
    error that names the file and how to supply a good one."""
    try:
        return load()
    except Exception as err:
        where = path if path is not None else f"download from {weights.url}"
        raise RuntimeError(f"could not load {weights.what} weights ({where}): {err}. {weights.help()}") from err


def _find_or_download(weights: WeightsFile, path, download: bool) -> Optional[Path]:
    """The local weights file, or ``None`` when there is none and ``download`` lets the publishing
    library fetch it (into torch hub's checkpoint folder)."""
    try:
        return weights.find(path)
    except FileNotFoundError:
        if download and path is None:
            return None
        raise


#: torch-fidelity's InceptionV3 (``torch_fidelity.feature_extractor_inceptionv3.URL_INCEPTION_V3``).
INCEPTION_WEIGHTS = WeightsFile(what="InceptionV3", file=INCEPTION_FILE, url=INCEPTION_URL,
                                env=INCEPTION_ENV)

#: torchvision's ``ResNet50_Weights.IMAGENET1K_V2`` (torchvision's default ResNet-50 weights).
RESNET50_WEIGHTS = WeightsFile(
    what="ResNet-50", file="resnet50-11ad3fa6.pth",
    url="https://download.pytorch.org/models/resnet50-11ad3fa6.pth", env="BOOTDRIFT_RESNET50_WEIGHTS")


class InceptionFeatures:
    """torch-fidelity's InceptionV3 (``FeatureExtractorInceptionV3``, TF1-compatible resize to
    299x299), the standard FID feature network; ``name = "inception"`` for the 2048-d pool features.

    Weights (:data:`INCEPTION_WEIGHTS`) are looked up in this order: ``weights_path``;
    ``$BOOTDRIFT_INCEPTION_WEIGHTS``; the torch hub checkpoint folder where torch-fidelity's own
    download puts them (``$TORCH_HOME/hub/checkpoints/weights-inception-2015-12-05-6726825d.pth``).
    If none exists, ``download=True`` lets torch-fidelity fetch them; otherwise a single
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
        path = _find_or_download(INCEPTION_WEIGHTS, weights_path, download)
        from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3

        def load() -> nn.Module:
            with torch.random.fork_rng(devices=[]):  # its random init is overwritten; keep the caller's RNG
                return FeatureExtractorInceptionV3("inception-v3-compat", [feature],
                                                   feature_extractor_weights_path=None if path is None else str(path))

        self.model = _load_or_explain(load, INCEPTION_WEIGHTS, path)

    @torch.no_grad()
    def __call__(self, x: Tensor) -> Tensor:
        u8 = (_images_in_unit_range(x, self.value_range, "InceptionFeatures") * 255.0).round().to(torch.uint8)
        device = next(self.model.parameters()).device
        return self.model(u8.to(device))[0].reshape(x.shape[0], -1)

    def to(self, device: Union[str, torch.device]) -> "InceptionFeatures":
        self.model.to(device)
        return self


class ResNet50Features:
    """The penultimate layer (global average pool, 2048-d) of torchvision's ImageNet ResNet-50; the
    pretrained feature space the seed paper suggests for OTDD. ``name = "resnet50"``.

    Images are mapped from ``value_range`` to [0, 1], grey ones repeated to RGB, resized to
    ``resize`` x ``resize`` (bilinear; ImageNet's 224 by default, ``None`` keeps the input size) and
    normalised with ImageNet's mean and std, as torchvision's weights expect.

    Weights (:data:`RESNET50_WEIGHTS`, torchvision's default ``IMAGENET1K_V2``) are looked up in
    this order: ``weights_path``; ``$BOOTDRIFT_RESNET50_WEIGHTS``; torchvision's cache
    (``$TORCH_HOME/hub/checkpoints/resnet50-11ad3fa6.pth``). A file is a state dict of
    ``torchvision.models.resnet50`` (as torchvision publishes it). If none exists, ``download=True``
    lets torchvision fetch it; otherwise a single ``FileNotFoundError`` says what is missing,
    where it looked and how to supply it.
    """

    name = "resnet50"
    num_features = 2048
    MEAN, STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)

    def __init__(self, weights_path: Union[str, Path, None] = None, *, download: bool = False,
                 resize: Optional[int] = 224, value_range: Tuple[float, float] = (0.0, 1.0)) -> None:
        from torchvision.models import ResNet50_Weights, resnet50

        self.resize, self.value_range = resize, value_range
        path = _find_or_download(RESNET50_WEIGHTS, weights_path, download)

        def load() -> nn.Module:
            with torch.random.fork_rng(devices=[]):  # the random init is overwritten; keep the caller's RNG
                model = resnet50(weights=None)
            state = (ResNet50_Weights.IMAGENET1K_V2.get_state_dict(progress=False) if path is None
                     else torch.load(path, map_location="cpu", weights_only=True))
            model.load_state_dict(state)
            return model

        self.model = _load_or_explain(load, RESNET50_WEIGHTS, path)
        self.model.fc = nn.Identity()  # the pooled 2048-d features, not ImageNet's logits
        self.model.eval().requires_grad_(False)

    @torch.no_grad()
    def __call__(self, x: Tensor) -> Tensor:
        x = _images_in_unit_range(x, self.value_range, "ResNet50Features")
        device = next(self.model.parameters()).device
        x = x.to(device)
        if self.resize is not None and x.shape[-2:] != (self.resize, self.resize):
            x = nn.functional.interpolate(x, size=(self.resize, self.resize), mode="bilinear", align_corners=False,
                                          antialias=True)
        mean = torch.tensor(self.MEAN, device=device).view(1, 3, 1, 1)
        std = torch.tensor(self.STD, device=device).view(1, 3, 1, 1)
        return self.model((x - mean) / std)

    def to(self, device: Union[str, torch.device]) -> "ResNet50Features":
        self.model.to(device)
        return self


class RandomFeatures:
    """A frozen, randomly initialised CNN (no training, no weights file): an offline baseline feature
    space, the same for every run with the same ``seed``. ``name = "random"``.

    Four 3x3 convolutions with ReLU (64, 128, 256, ``num_features`` channels, the last three with
    stride 2), then a global average pool: (N, ``num_features``) features for images of any size.
    Weights are He-normal (variance-preserving through the ReLUs, so features neither vanish nor
    blow up), drawn from ``seed`` without touching torch's global RNG. Images are mapped from
    ``value_range`` to [-1, 1]; grey ones are repeated to RGB. Random convolutional features are
    a known sanity baseline for FID-style metrics; they are not a perceptual space, so compare
    their values only with each other (the name in the metric tags keeps them apart).
    """

    name = "random"

    def __init__(self, *, seed: int = 0, num_features: int = 512,
                 value_range: Tuple[float, float] = (0.0, 1.0)) -> None:
        if num_features < 1:
            raise ValueError(f"num_features must be positive, got {num_features}")
        self.seed, self.num_features, self.value_range = seed, num_features, value_range
        widths = (3, 64, 128, 256, num_features)
        layers: list = []
        with torch.random.fork_rng(devices=[]):  # weights from `seed` alone; the caller's RNG is left as it was
            torch.manual_seed(seed)
            for i, (cin, cout) in enumerate(zip(widths[:-1], widths[1:])):
                conv = nn.Conv2d(cin, cout, 3, stride=1 if i == 0 else 2, padding=1)
                nn.init.kaiming_normal_(conv.weight, nonlinearity="relu")
                nn.init.zeros_(conv.bias)
                layers += [conv, nn.ReLU()]
        self.model = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.model.eval().requires_grad_(False)

    @torch.no_grad()
    def __call__(self, x: Tensor) -> Tensor:
        x = _images_in_unit_range(x, self.value_range, "RandomFeatures") * 2.0 - 1.0
        return self.model(x.to(next(self.model.parameters()).device))

    def to(self, device: Union[str, torch.device]) -> "RandomFeatures":
        self.model.to(device)
        return self

    def __repr__(self) -> str:
        return f"RandomFeatures(seed={self.seed}, num_features={self.num_features})"


# --------------------------------------------------------------------------------------------
# the one way to obtain an extractor
# --------------------------------------------------------------------------------------------
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

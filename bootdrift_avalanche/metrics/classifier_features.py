"""``ClassifierFeatures``: the penultimate layer of a small classifier trained on the benchmark's
real training data, cached on disk; the offline default feature space for images."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Optional, Union

import torch
from torch import Tensor, nn

from ..nets import make_classifier, predict, train_classifier
from ..runtime.checkpoint import atomic_torch_save
from .feature_cache import cache_key, default_cache_dir


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
            path = Path(cache_dir or default_cache_dir()) / f"{name}-{cache_key(x, y, config)}.pt"
            if path.is_file():
                blob = torch.load(path, map_location="cpu", weights_only=True)
                model.load_state_dict(blob["state_dict"])
                return cls(model, name=name, train_accuracy=blob["train_accuracy"])
        train_classifier(model, x, y, epochs=epochs, batch_size=batch_size, lr=lr, seed=seed)
        acc = float((predict(model, x) == y).float().mean())
        if path is not None:
            blob = {"state_dict": model.state_dict(), "train_accuracy": acc, "config": json.dumps(config)}
            atomic_torch_save(blob, path)
        return cls(model, name=name, train_accuracy=acc)

    def __repr__(self) -> str:
        return f"ClassifierFeatures(name={self.name!r}, num_features={self.num_features})"

"""Where trained feature extractors are cached on disk, and the key that names an entry.

A trained extractor is keyed by its data, seed and configuration, so every run on the same
benchmark reuses it and a changed dataset or setting retrains (docs/FEATURE_EXTRACTORS.md).
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from torch import Tensor

CACHE_ENV = "BOOTDRIFT_CACHE"


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


def cache_key(x: Tensor, y: Tensor, config: dict) -> str:
    """A 16-hex-digit hash of ``config`` and the bytes of (x, y): a changed dataset or setting
    gives another cache entry."""
    h = hashlib.sha256()
    h.update(json.dumps(config, sort_keys=True).encode())
    h.update(str(tuple(x.shape)).encode())
    h.update(x.numpy().tobytes())
    h.update(y.numpy().tobytes())
    return h.hexdigest()[:16]

"""Run directories: everything a run writes lives in one folder.

Layout::

    RUN_DIR/
      config.json      resolved configuration + versions of torch/avalanche/diffusers + seed
      metrics.jsonl    JSON-lines metrics (bootdrift_avalanche.logging.JSONLinesLogger)
      tb/              TensorBoard event files
      checkpoints/     atomic, hashed checkpoints (bootdrift_avalanche.checkpoint)
      figures/         PNG figures and sample grids
      report.html      written by `bootdrift report`

On resume, ``open_run_dir(..., resume=True)`` refuses a directory whose config differs from the
one asked for (ignoring keys that do not change results, such as ``device`` and ``progress``).
"""
from __future__ import annotations

import json
import platform
from pathlib import Path
from typing import Dict, Iterable, Optional, Union

from .checkpoint import atomic_write_bytes

# Keys that may differ between a run and its resumption without changing the results.
RESUME_IGNORED = frozenset({"device", "progress", "resume", "run_dir", "versions", "command"})


class RunDirError(RuntimeError):
    """The run directory cannot be used as asked (exists, or belongs to another config)."""


def versions() -> Dict[str, str]:
    out = {"python": platform.python_version()}
    for mod in ("torch", "torchvision", "avalanche", "diffusers", "ot", "torchmetrics", "numpy"):
        try:
            m = __import__(mod)
            out[mod] = getattr(m, "__version__", "unknown")
        except Exception:
            out[mod] = "not installed"
    from . import __version__

    out["bootdrift_avalanche"] = __version__
    return out


def _comparable(cfg: dict, ignore: Iterable[str]) -> dict:
    return {k: v for k, v in cfg.items() if k not in set(ignore)}


def open_run_dir(run_dir: Union[str, Path], config: dict, *, resume: bool = False,
                 ignore: Iterable[str] = RESUME_IGNORED) -> Path:
    """Create (or, with ``resume``, re-open) ``run_dir`` and write ``config.json``."""
    d = Path(run_dir)
    cfg_path = d / "config.json"
    config = json.loads(json.dumps(config, default=str))  # resolved, JSON-safe
    if cfg_path.exists():
        old = json.loads(cfg_path.read_text())
        if not resume:
            raise RunDirError(f"run directory {d} already holds a run; use --resume {d} or another --run-dir")
        a, b = _comparable(old, ignore), _comparable(config, ignore)
        if a != b:
            diff = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
            raise RunDirError(
                f"run directory {d} belongs to another config (differs in: {', '.join(diff)}); "
                "resume with the same settings or start a new --run-dir"
            )
        return d
    if resume and d.exists() and any(d.iterdir()):
        raise RunDirError(f"cannot resume {d}: it has no config.json (not a bootdrift run directory)")
    for sub in ("tb", "checkpoints", "figures"):
        (d / sub).mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(cfg_path, json.dumps({**config, "versions": versions()}, indent=2).encode())
    return d


def read_config(run_dir: Union[str, Path]) -> Optional[dict]:
    p = Path(run_dir) / "config.json"
    return json.loads(p.read_text()) if p.exists() else None

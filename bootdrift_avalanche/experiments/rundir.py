"""Run directories: everything a run writes lives in one folder.

Layout::

    RUN_DIR/
      config.json      resolved configuration + versions of torch/avalanche/diffusers + seed
      metrics.jsonl    JSON-lines metrics (bootdrift_avalanche.logging.JSONLinesLogger)
      tb/              TensorBoard event files
      checkpoints/     atomic, hashed checkpoints (bootdrift_avalanche.runtime.checkpoint)
      figures/         PNG figures and sample grids
      report.html      written by `bootdrift report`

``open_run(run_dir, config, resume=...)`` is the one entry point of the experiments: a context that
owns the directory, the loggers (TensorBoard + ``metrics.jsonl``), the checkpoints and what to resume
from. On resume, ``open_run_dir(..., resume=True)`` refuses a directory whose config differs from the
one asked for (ignoring keys that do not change results, such as ``device`` and ``progress``).
"""
from __future__ import annotations

import contextlib
import json
import platform
import shutil
from pathlib import Path
from typing import Dict, Iterable, Iterator, Optional, Tuple, Union

from ..runtime.checkpoint import atomic_write_bytes
from .config import RESUME_IGNORED


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
    from .. import __version__

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
        # A key missing on one side reads as None: a setting added to the config after the run was
        # started (its default None, i.e. off) resumes the run; one set to a value is a difference.
        diff = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
        if diff:
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


class Run:
    """An open run directory: its loggers (rank 0 only), its checkpoints and what to resume from.
    Made by :func:`open_run`; experiments never build loggers or write checkpoints themselves."""

    def __init__(self, directory: Path, *, main: bool, resume: bool):
        from avalanche.logging import TensorboardLogger

        from ..logging import JSONLinesLogger

        self.dir = directory
        self.main = main  # under torchrun only rank 0 writes
        self.resume = resume
        self._tb = TensorboardLogger(str(directory / "tb")) if main else None
        self._jsonl = JSONLinesLogger(directory / "metrics.jsonl") if main else None
        self.loggers = [self._tb, self._jsonl] if main else []

    @property
    def checkpoint_dir(self) -> Path:
        return self.dir / "checkpoints"

    @property
    def cache_dir(self) -> Path:
        return self.dir / "cache"

    def log(self, name: str, value: float, step: int) -> None:
        """One scalar to every logger of the run."""
        for lg in self.loggers:
            lg.log_single_metric(name, value, step)

    def latest(self) -> Optional[Tuple[int, dict]]:
        """``(step, state)`` of the newest good checkpoint when resuming, else ``None``."""
        from ..runtime.checkpoint import load_latest

        return load_latest(self.checkpoint_dir) if self.resume else None

    def checkpoint(self, step: int, state: dict) -> None:
        """Save ``state`` as the checkpoint of ``step`` (rank 0), then wait for every rank."""
        from ..runtime import distributed as D
        from ..runtime.checkpoint import save_checkpoint

        if self.main:
            save_checkpoint(self.checkpoint_dir, step, state)
        D.barrier()

    def close(self) -> None:
        """Flush and close the loggers (TensorBoard's writer buffers events in memory)."""
        if self._tb is not None:
            self._tb.writer.close()
        if self._jsonl is not None:
            self._jsonl.close()


@contextlib.contextmanager
def open_run(run_dir: Union[str, Path], config: dict, *, resume: bool = False) -> Iterator[Run]:
    """Open (rank 0 creates or, with ``resume``, re-checks) ``run_dir`` for ``config`` and yield
    its :class:`Run`; the loggers are closed however the block ends. When the block raises before
    the first checkpoint of a run that created the directory, the directory is removed again."""
    from ..runtime import distributed as D

    main = D.is_main_process()
    d = Path(run_dir)
    fresh = not d.exists() or (d.is_dir() and not any(d.iterdir()))
    if main:
        open_run_dir(d, config, resume=resume)
    D.barrier()
    run = Run(d, main=main, resume=resume)
    try:
        yield run
    except BaseException:
        run.close()
        # A run that failed before its first checkpoint (missing data, a bad generator...) leaves
        # nothing to resume: remove the directory it created instead of an empty shell that would
        # make the next attempt fail with "already holds a run".
        if main and fresh and not any(run.checkpoint_dir.glob("*")):
            shutil.rmtree(d, ignore_errors=True)
        raise
    run.close()

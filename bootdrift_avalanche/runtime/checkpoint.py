"""Atomic, verified checkpoints for long replay and bootstrapping runs.

``save_checkpoint(dir, step, state)`` writes ``step_NNNN.pt`` by the safe route: serialise to a temp
file in the same directory, flush and fsync, atomically rename over the final name, fsync the
directory. A SHA-256 of the file is written beside it (``step_NNNN.pt.sha256``, also atomically,
after the checkpoint), so a checkpoint is "complete" only when both exist and agree.

``load_latest(dir)`` returns the newest complete checkpoint; a truncated or corrupted one (hash
mismatch, missing hash, or a load error) is reported with a ``CheckpointWarning`` naming the file and
the reason, and the previous good one is used. Nothing is overwritten before the new file is complete.
"""
from __future__ import annotations

import hashlib
import io
import os
import re
import tempfile
import warnings
from pathlib import Path
from typing import Any, List, Optional, Tuple, Union

import torch

_NAME = re.compile(r"^step_(\d{4,})\.pt$")


class CheckpointWarning(UserWarning):
    """A checkpoint was skipped because it is incomplete or corrupted."""


class CheckpointError(RuntimeError):
    """No usable checkpoint (all candidates are corrupted)."""


def _fsync_dir(d: Path) -> None:
    try:
        fd = os.open(str(d), os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write_bytes(path: Union[str, Path], data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (temp file + fsync + rename + directory fsync)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=str(path.parent))
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    _fsync_dir(path.parent)


def atomic_torch_save(obj: Any, path: Union[str, Path]) -> str:
    """``torch.save`` through :func:`atomic_write_bytes`; returns the SHA-256 hex digest."""
    buf = io.BytesIO()
    torch.save(obj, buf)
    data = buf.getvalue()
    atomic_write_bytes(path, data)
    return hashlib.sha256(data).hexdigest()


def checkpoint_path(directory: Union[str, Path], step: int) -> Path:
    return Path(directory) / f"step_{step:04d}.pt"


def save_checkpoint(directory: Union[str, Path], step: int, state: dict, *, keep: int = 2) -> Path:
    """Save ``state`` as the checkpoint of ``step``; keep the newest ``keep`` complete ones."""
    path = checkpoint_path(directory, step)
    digest = atomic_torch_save({"step": step, "state": state}, path)
    atomic_write_bytes(path.with_name(path.name + ".sha256"), (digest + "\n").encode())
    if keep:
        for old in list_checkpoints(directory)[:-keep]:
            for p in (old, old.with_name(old.name + ".sha256")):
                try:
                    p.unlink()
                except OSError:
                    pass
    return path


def list_checkpoints(directory: Union[str, Path]) -> List[Path]:
    d = Path(directory)
    if not d.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in d.iterdir() if (m := _NAME.match(p.name))]
    return [p for _, p in sorted(found)]


def verify_checkpoint(path: Path) -> Tuple[bool, str]:
    """``(ok, reason)``: the file exists, its hash file exists and matches."""
    side = path.with_name(path.name + ".sha256")
    if not side.exists():
        return False, "no .sha256 beside it (the write did not complete)"
    want = side.read_text().strip()
    got = hashlib.sha256(path.read_bytes()).hexdigest()
    if want != got:
        return False, f"SHA-256 mismatch (file truncated or corrupted: {path.stat().st_size} bytes)"
    return True, ""


def load_latest(directory: Union[str, Path], *, map_location="cpu") -> Optional[Tuple[int, dict]]:
    """``(step, state)`` of the newest good checkpoint, ``None`` when there is none at all.
    Corrupted ones are skipped with a ``CheckpointWarning``; ``CheckpointError`` when every
    checkpoint present is corrupted."""
    paths = list_checkpoints(directory)
    if not paths:
        return None
    for path in reversed(paths):
        ok, reason = verify_checkpoint(path)
        if ok:
            try:
                obj = torch.load(path, map_location=map_location, weights_only=False)
                return int(obj["step"]), obj["state"]
            except Exception as exc:  # hash matched but unreadable: still report and fall back
                ok, reason = False, f"could not be loaded: {exc}"
        warnings.warn(f"skipping checkpoint {path}: {reason}; falling back to the previous one",
                      CheckpointWarning, stacklevel=2)
    raise CheckpointError(f"all {len(paths)} checkpoint(s) in {directory} are corrupted; cannot resume")


def rng_state() -> dict:
    """Python, NumPy and torch RNG states (restored by :func:`set_rng_state` on resume)."""
    import random

    import numpy as np

    return {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()}


def set_rng_state(state: dict) -> None:
    import random

    import numpy as np

    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])


def pickle_optimizers_by_reference() -> None:
    """Let Avalanche's ``save_checkpoint`` (dill) pickle torch optimizers.

    ``torch/optim/__init__.py`` deletes its submodule names (``del sgd``). dill then cannot find
    ``torch.optim.sgd.SGD`` by its module path, pickles the class by value, and pulls in module globals
    that cannot be pickled (typing_extensions' ``sentinel`` from 4.16, a ``PyCapsule`` before). No dill or
    typing_extensions version avoids that. Putting the submodule names back (the very modules, as
    importing them would) lets dill pickle the classes by reference. Idempotent; called on
    ``import bootdrift_avalanche.plugins``.
    """
    import sys

    import torch.optim

    prefix = "torch.optim."
    for name, module in list(sys.modules.items()):
        child = name[len(prefix):]
        if name.startswith(prefix) and child and "." not in child and module is not None \
                and not hasattr(torch.optim, child):
            setattr(torch.optim, child, module)

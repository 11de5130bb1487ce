"""The one CPU thread setting of the package, and why small models want one thread.

``configure_threads(device, threads)`` sets torch's intra-op threads for the process (the CLI, the
examples and the bench scripts call it once at start-up); ``thread_settings(device, threads=...)``
scopes a setting to a block (generators wrap ``fit``/``generate`` in it). On a shared CPU every op
of a multi-threaded small model waits at a barrier for a descheduled thread, so one thread is the
default on CPU; denormals are flushed (free in float32). Measurements: docs/CPU_THREADS.md.
"""
from __future__ import annotations

import contextlib
import os
from typing import Iterator, Optional, Union

import torch

#: torch threads for the small CPU models of the presets (docs/CPU_THREADS.md).
DEFAULT_THREADS = 1


def check_threads(threads: Optional[int]) -> None:
    """``ValueError`` unless ``threads`` is a positive integer or ``None`` (keep torch's setting)."""
    if threads is not None and (not isinstance(threads, int) or threads < 1):
        raise ValueError(f"threads must be a positive integer or None, got {threads!r}")


def configure_threads(device: Union[str, torch.device] = "cpu", threads: Optional[int] = None) -> int:
    """Set torch's intra-op threads for this process; returns the number now in use.

    ``threads`` given: exactly that. Otherwise, on CPU and unless ``OMP_NUM_THREADS`` says
    otherwise, :data:`DEFAULT_THREADS` (a GPU run keeps torch's default: the host threads only
    launch kernels). Called once at start-up by the CLI, the examples and the bench scripts.
    """
    check_threads(threads)
    if threads is not None:
        torch.set_num_threads(threads)
    elif torch.device(device).type == "cpu" and "OMP_NUM_THREADS" not in os.environ:
        torch.set_num_threads(DEFAULT_THREADS)
    return torch.get_num_threads()


def flush_denormal_active() -> bool:
    """Whether the calling thread currently flushes denormal floats to zero.

    torch has a setter (``torch.set_flush_denormal``) but no getter, so we probe: 1e-30 * 1e-10
    is a float32 denormal (1e-40 < 1.18e-38), which comes out as exactly 0 only when flushing is on.
    One-element ops run on the calling thread, the thread whose flag we want to know.
    """
    probe = torch.tensor([1e-30], dtype=torch.float32) * 1e-10
    return bool(probe.item() == 0.0)


@contextlib.contextmanager
def thread_settings(
    device: Union[str, torch.device] = "cpu",
    *,
    threads: Optional[int] = DEFAULT_THREADS,
    flush_denormal: bool = True,
) -> Iterator[None]:
    """Run a block with the CPU settings that suit small models; restore the old ones afterwards.

    Args:
        device: the device the block computes on. Nothing changes for non-CPU devices (the GPU
            does the work; host threads only launch kernels).
        threads: torch intra-op threads for the block; ``None`` keeps the current setting.
            1 is the safe choice for small models on shared machines (docs/CPU_THREADS.md).
        flush_denormal: flush denormal floats to zero on the calling thread during the block.
    """
    if torch.device(device).type != "cpu":
        yield
        return
    check_threads(threads)
    old_threads = torch.get_num_threads()
    old_flush = flush_denormal_active()
    try:
        if threads is not None and threads != old_threads:
            torch.set_num_threads(threads)
        if flush_denormal and not old_flush:
            torch.set_flush_denormal(True)
        yield
    finally:
        if torch.get_num_threads() != old_threads:
            torch.set_num_threads(old_threads)
        if flush_denormal_active() != old_flush:
            torch.set_flush_denormal(old_flush)

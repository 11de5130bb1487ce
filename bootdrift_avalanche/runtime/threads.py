"""The one CPU thread setting of the package, and why small models want one thread.

``configure_threads(device, threads)`` sets torch's intra-op threads for the process (the CLI, the
examples and the bench scripts call it once at start-up); ``thread_settings(device, threads=...)``
scopes a setting to a block (generators wrap ``fit``/``generate`` in it, so a library user who
never calls ``configure_threads`` still gets the fast setting). The generator configs call the
field ``threads``; the command line calls it ``--threads``.

A probe of ``diffusers.UNet2DModel`` training on a 2-core machine measured 0.1 s per batch at 8x8 but
3.3 s at 16x16, and ``torch.set_flush_denormal(True)`` seemed to make 32x32 3.8x faster.
``bench/unet_cpu_bench.py`` measures the causes side by side, settings interleaved; what we found:

1. **Thread oversubscription** (the main cause). torch starts one OpenMP thread per core, and every
   op ends in a barrier where all threads wait for the slowest. When another process holds one of
   the 2 cores (a test run, another experiment), that barrier waits for a whole scheduler time
   slice, at every op. Measured on the shared machine: GroupNorm forward+backward 0.7 ms with one
   thread, 88 ms with two; a UNet step at 8x8 (batch 64) 0.18 s vs 4.4 s. When the second core
   happened to be free, two threads were only 1.4x faster than one (16x16: 0.35 vs 0.50 s). One
   thread risks at most that 1.4x; two threads risk 10-30x. Hence ``threads=1`` by default
   inside ``fit``/``generate`` on CPU (the generator configs' ``threads``; ``None`` keeps torch's
   setting).
2. **Attention cost** grows with the square of the number of pixels at the attention level, and
   diffusers' default ``attention_head_dim=8`` splits 32 channels into 4 heads of 8, which the CPU
   flash-attention kernel runs ~3x slower than one 32-dim head (256 tokens: 0.58 vs 0.21 s for
   forward+backward). With attention in the second level, each doubling of the image side
   multiplies the attention work by 16 (4x the tokens, squared), the convolutions' by only 4.
   The package's UNet puts attention only in the bottleneck, with one head
   (``DDPMConfig.attention_resolutions``, ``attention_head_dim``): 2-2.5x faster at 32x32.
3. **Denormals** are not a cause: no module output, gradient or AdamW state of a trained UNet held
   any, and flushing them changed nothing at 8, 16 or 32 pixels once the settings were interleaved
   (32x32, one thread, CPU time: 2.45 s off vs 2.53 s on). The probe's 3.8x was load noise. Flushing
   is still on by default here: it is free and harmless in float32 (values below 1.2e-38 become 0).
   Caveat found on the way: ``torch.set_flush_denormal`` sets the flag of the *calling thread
   only*; OpenMP worker threads that already exist keep denormals, so with more than one thread the
   setting is partial unless it was made before torch's thread pool started.
"""
from __future__ import annotations

import contextlib
import os
from typing import Iterator, Optional, Union

import torch

#: torch threads for the small CPU models of the presets (see the module docstring).
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
            1 is the safe choice for small models on shared machines (see the module docstring).
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

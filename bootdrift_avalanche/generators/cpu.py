"""CPU execution settings for the small generators of this package (why small UNets were slow).

A probe of ``diffusers.UNet2DModel`` training on a 2-core machine measured 0.1 s per batch at 8x8 but
3.3 s at 16x16, and ``torch.set_flush_denormal(True)`` seemed to make 32x32 3.8x faster.
``bench/unet_cpu_bench.py`` measures the causes one by one, side by side; what it found:

1. **Thread oversubscription** (the main cause). torch starts one OpenMP thread per core. Every op
   ends in a barrier where all threads wait for the slowest; when another process (a test run, a
   second experiment, the data loader) holds one of the 2 cores, the barrier waits for a whole
   scheduler time slice. A GroupNorm forward+backward went from 0.7 ms (1 thread) to 88 ms
   (2 threads) on the shared machine; a UNet step at 8x8 from 0.3 s to 2.7 s. Small models do
   sub-millisecond ops, so a second thread gains little even on an idle machine, while the loss
   under contention is 3-10x. Hence ``num_threads=1`` by default inside ``fit``/``generate`` on CPU.
2. **Attention cost** grows with the square of the number of pixels at the attention level, and
   diffusers' default ``attention_head_dim=8`` splits 32 channels into 4 heads of 8, which the CPU
   flash-attention kernel handles ~3x slower than one 32-dim head. That is why 8x8 -> 16x16 was far
   more than 4x. The DDPM configs of this package therefore use one head per attention layer and
   attention only at low resolution (``DDPMConfig.attention_head_dim``, ``attention_resolutions``).
3. **Denormals**: with randomly initialised UNets we found no measurable effect of flushing them;
   the earlier 3.8x was timing noise from contention (it did not reproduce when the settings were
   interleaved). Flushing is still enabled here because it is free, cannot hurt float32 training
   (values below 1.2e-38 become 0) and guards against slow denormal arithmetic in trained
   attention softmaxes. Caveat found on the way: ``torch.set_flush_denormal`` sets the flag of the
   *calling thread only*; OpenMP worker threads created before the call keep denormals, so the
   setting is complete only with one thread (or when set before torch's thread pool starts).
"""
from __future__ import annotations

import contextlib
from typing import Iterator, Optional, Union

import torch


def flush_denormal_active() -> bool:
    """Whether the calling thread currently flushes denormal floats to zero.

    torch has a setter (``torch.set_flush_denormal``) but no getter, so we probe: 1e-30 * 1e-10
    is a float32 denormal (1e-40 < 1.18e-38), which comes out as exactly 0 only when flushing is on.
    One-element ops run on the calling thread, the thread whose flag we want to know.
    """
    probe = torch.tensor([1e-30], dtype=torch.float32) * 1e-10
    return bool(probe.item() == 0.0)


@contextlib.contextmanager
def cpu_compute_settings(
    device: Union[str, torch.device] = "cpu",
    *,
    num_threads: Optional[int] = 1,
    flush_denormal: bool = True,
) -> Iterator[None]:
    """Run a block with the CPU settings that suit small models; restore the old ones afterwards.

    Args:
        device: the device the block computes on. Nothing changes for non-CPU devices (the GPU
            does the work; host threads only launch kernels).
        num_threads: torch intra-op threads for the block; ``None`` keeps the current setting.
            1 is the safe choice for small models on shared machines (see the module docstring).
        flush_denormal: flush denormal floats to zero on the calling thread during the block.
    """
    if torch.device(device).type != "cpu":
        yield
        return
    if num_threads is not None and num_threads < 1:
        raise ValueError(f"num_threads must be a positive integer or None, got {num_threads}")
    old_threads = torch.get_num_threads()
    old_flush = flush_denormal_active()
    try:
        if num_threads is not None and num_threads != old_threads:
            torch.set_num_threads(num_threads)
        if flush_denormal and not old_flush:
            torch.set_flush_denormal(True)
        yield
    finally:
        if torch.get_num_threads() != old_threads:
            torch.set_num_threads(old_threads)
        if flush_denormal_active() != old_flush:
            torch.set_flush_denormal(old_flush)

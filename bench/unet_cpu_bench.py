"""Why small diffusers UNets trained so slowly on a 2-core CPU, and what the package does about it.

Times one training step (forward, backward, AdamW; batch 64, channels (16, 32)) of
``diffusers.UNet2DModel`` at 8x8, 16x16 and 32x32 under each setting, side by side in one run:

  before        diffusers-default blocks (attention in the 2nd level, 8-dim heads),
                torch's default thread count, denormals kept: the issue's probe
  +ftz          the same with ``torch.set_flush_denormal(True)``
  1 thread      the same with ``torch.set_num_threads(1)``
  1 thr +ftz    both
  after         what ``DDPMGenerator.fit`` runs: the package's UNet (attention only in the
                bottleneck, one head) inside ``runtime.threads.thread_settings`` (1 thread, ftz)

Settings are interleaved step by step, so a burst of load from other processes hits all of them
alike; the table shows the median step time. The 1-minute load average is printed: on a shared
machine, the multi-thread figures depend on it far more than the single-thread ones.

    python bench/unet_cpu_bench.py            # about 3-4 minutes on 2 busy cores
    python bench/unet_cpu_bench.py --sizes 8 16 --reps 5
"""
from __future__ import annotations

import argparse
import os
import statistics
import time

import torch
import torch.nn.functional as F

from bootdrift_avalanche.generators.ddpm import DDPMConfig
from bootdrift_avalanche.generators.ddpm.model import build_unet
from bootdrift_avalanche.runtime.threads import thread_settings

CHANNELS = (16, 32)
SETTINGS = ("before", "+ftz", "1 thread", "1 thr +ftz", "after")


def diffusers_default_unet(size: int):
    """The probe's model: diffusers' default block pattern for two levels, 8-dim attention heads."""
    from diffusers import UNet2DModel

    return UNet2DModel(
        sample_size=size, in_channels=1, out_channels=1, block_out_channels=CHANNELS,
        down_block_types=("DownBlock2D", "AttnDownBlock2D"), up_block_types=("AttnUpBlock2D", "UpBlock2D"),
        layers_per_block=2, norm_num_groups=8, num_class_embeds=10,
    )


def package_unet(size: int):
    cfg = DDPMConfig(image_shape=(1, size, size), block_out_channels=CHANNELS, layers_per_block=2)
    return build_unet(cfg)


def train_step(model, opt, batch) -> None:
    x, t, y = batch
    loss = F.mse_loss(model(x, t, class_labels=y).sample, x)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()


def bench_size(size: int, reps: int, batch_size: int, default_threads: int):
    torch.manual_seed(0)
    models = {}
    for name in SETTINGS:
        m = package_unet(size) if name == "after" else diffusers_default_unet(size)
        models[name] = (m, torch.optim.AdamW(m.parameters(), lr=1e-4))
    plan = {
        "before": dict(threads=default_threads, ftz=False),
        "+ftz": dict(threads=default_threads, ftz=True),
        "1 thread": dict(threads=1, ftz=False),
        "1 thr +ftz": dict(threads=1, ftz=True),
        "after": None,  # the package's own context manager, with its defaults
    }
    g = torch.Generator().manual_seed(1)
    times = {name: [] for name in SETTINGS}
    for rep in range(reps + 1):  # the first round warms up oneDNN's primitive caches
        batch = (torch.randn(batch_size, 1, size, size, generator=g),
                 torch.randint(0, 1000, (batch_size,), generator=g),
                 torch.randint(0, 10, (batch_size,), generator=g))
        for name in SETTINGS:
            m, opt = models[name]
            if plan[name] is None:
                ctx = thread_settings("cpu")
            else:
                ctx = thread_settings("cpu", threads=plan[name]["threads"], flush_denormal=plan[name]["ftz"])
            with ctx:
                t0 = time.perf_counter()
                train_step(m, opt, batch)
                dt = time.perf_counter() - t0
            if rep:
                times[name].append(dt)
    return {name: statistics.median(v) for name, v in times.items()}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", type=int, nargs="+", default=[8, 16, 32])
    p.add_argument("--reps", type=int, default=3, help="timed steps per setting (after one warm-up)")
    p.add_argument("--reps-32", type=int, default=2, help="timed steps at 32x32 and above (slow)")
    p.add_argument("--batch-size", type=int, default=64, help="64 keeps the run under 5 minutes; the probe used 128")
    a = p.parse_args()

    default_threads = torch.get_num_threads()
    print(f"torch {torch.__version__}, {os.cpu_count()} CPUs, default threads {default_threads}, "
          f"batch {a.batch_size}, channels {CHANNELS}; seconds per training step (median)")
    head = f"{'size':>5} {'load':>5} " + " ".join(f"{s:>11}" for s in SETTINGS) + f" {'before/after':>12}"
    print(head)
    print("-" * len(head))
    t_start = time.time()
    for size in a.sizes:
        load = os.getloadavg()[0]
        res = bench_size(size, a.reps_32 if size >= 32 else a.reps, a.batch_size, default_threads)
        row = f"{size:>5} {load:>5.1f} " + " ".join(f"{res[s]:>11.3f}" for s in SETTINGS)
        print(row + f" {res['before'] / res['after']:>11.1f}x", flush=True)
    print(f"total {time.time() - t_start:.0f} s; load average now {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()

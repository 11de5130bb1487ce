"""Run under torchrun: fit a tiny DDPM (or StyleGAN2) on digits data-parallel (gloo), check all ranks
hold the same weights, and let rank 0 save them.
Usage: torchrun --nproc_per_node=2 ddp_fit_worker.py OUT STEPS [ddpm|stylegan2]"""
import sys

import torch
import torch.distributed as dist

from bootdrift_avalanche.benchmarks.digits import load_digits_tensors
from bootdrift_avalanche.experiments.config import PRESETS
from bootdrift_avalanche.generators.ddpm import DDPMGenerator
from bootdrift_avalanche.generators.stylegan2 import StyleGAN2Generator
from bootdrift_avalanche.runtime import distributed as D


def fit_tiny(steps: int, kind: str = "ddpm"):
    x, y, _, _ = load_digits_tensors()
    if kind == "stylegan2":  # path length on, every step: its all-reduced target is exercised too
        gen = StyleGAN2Generator(PRESETS["tiny"].stylegan2_config(image_shape=(1, 8, 8), num_classes=10,
                                                                  pl_weight=2.0, pl_every=1))
    else:
        gen = DDPMGenerator(PRESETS["tiny"].ddpm_config(image_shape=(1, 8, 8), num_classes=10, batch_size=32))
    return gen.fit(x[:256], y[:256], steps=steps)


if __name__ == "__main__":
    out, steps = sys.argv[1], int(sys.argv[2])
    torch.set_num_threads(1)
    assert D.init_from_env("cpu"), "start me with torchrun --nproc_per_node=N (N > 1)"
    gen = fit_tiny(steps, *sys.argv[3:4])
    flat = torch.cat([p.detach().flatten() for p in gen.state_dict().values()
                      if torch.is_tensor(p) and p.is_floating_point()])
    parts = [torch.empty_like(flat) for _ in range(D.world_size())]
    dist.all_gather(parts, flat)
    same = all(torch.equal(parts[0], p) for p in parts[1:])
    if D.is_main_process():
        torch.save({"state": gen.state_dict(), "ranks_equal": same, "world": D.world_size()}, out)
    dist.destroy_process_group()

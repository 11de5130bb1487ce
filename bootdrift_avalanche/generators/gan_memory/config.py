"""``GANMemoryConfig``: everything that sizes and trains a GAN Memory, validated.

The plain defaults are small and untuned; named scales live in ``experiments.config.PRESETS``
(what they were measured to do: docs/GAN_MEMORY.md, "Presets").
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Optional, Tuple, get_args

from ...runtime.threads import DEFAULT_THREADS, check_threads

#: Where the base GAN comes from (see docs/GAN_MEMORY.md).
Source = Literal["first_experience", "separate"]
SOURCES = get_args(Source)


@dataclass(frozen=True)
class GANMemoryConfig:
    """Sizes and hyperparameters of ``GANMemoryGenerator`` (presets: ``experiments.config.PRESETS``)."""

    image_shape: Tuple[int, int, int] = (1, 8, 8)  # (C, H, W); square, side a power of two >= 8
    num_classes: int = 10  # global class ids 0..num_classes-1 that tasks may own
    value_range: Tuple[float, float] = (0.0, 1.0)  # range of training images and of generate()'s output
    z_dim: int = 32  # latent size (reference: 256)
    base_channels: int = 32  # channels at the image resolution; doubles per halving (reference nf=64)
    max_channels: int = 64  # cap on channels at low resolution (reference: 16·nf = 1024)
    num_source_classes: Optional[int] = None  # classes of the base's own table; None -> num_classes
    source: Source = "first_experience"  # where the base comes from: "first_experience" or "separate"
    lr: float = 1e-4  # Adam learning rate of G and D in both phases (reference: 1e-4)
    betas: Tuple[float, float] = (0.0, 0.99)  # Adam betas (reference / GP-GAN: (0, 0.99))
    r1_weight: float = 10.0  # γ of the R1 penalty γ/2·E‖∇D(x_real)‖² (reference: 10)
    r1_every: int = 1  # R1 on every k-th D step, weighted by k (StyleGAN2's lazy R1); reference: 1
    batch_size: int = 64  # mini-batch of real and of fake images per step (reference: 16)
    base_steps: int = 2000  # optimiser steps training the base GAN
    task_steps: int = 600  # optimiser steps training one task's modulation (fit's steps= overrides it)
    ema_decay: float = 0.999  # generator EMA (reference: 0.999; diffusers' EMAModel warm-up); 0 disables
    hflip: bool = False  # random horizontal flips of real images (reference: on; off for digits)
    sample_batch_size: int = 512  # images per forward pass in generate()
    seed: int = 0  # seeds the initial weights, the training noise and the mini-batch draws (runtime.seeds streams)
    device: str = "cpu"  # where the networks live and train
    # torch threads inside fit/generate on CPU (runtime/threads.py); None keeps torch's setting
    threads: Optional[int] = DEFAULT_THREADS

    def __post_init__(self):
        set_ = object.__setattr__  # frozen: the normalised tuples are set once, here
        set_(self, "image_shape", tuple(int(s) for s in self.image_shape))
        set_(self, "value_range", tuple(float(v) for v in self.value_range))
        set_(self, "betas", tuple(float(b) for b in self.betas))
        if len(self.image_shape) != 3:
            raise ValueError(f"image_shape must be (C, H, W), got {self.image_shape}")
        if self.source not in SOURCES:
            raise ValueError(f"source must be one of {SOURCES}, got {self.source!r}")
        if self.num_classes < 1:
            raise ValueError(f"num_classes must be >= 1, got {self.num_classes}")
        if self.value_range[0] >= self.value_range[1]:
            raise ValueError(f"value_range must be (low, high) with low < high, got {self.value_range}")
        for name in ("z_dim", "base_channels", "max_channels", "batch_size", "sample_batch_size", "r1_every"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        for name in ("base_steps", "task_steps"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")
        if not 0.0 <= self.ema_decay < 1.0:
            raise ValueError(f"ema_decay must be in [0, 1), got {self.ema_decay}")
        if self.r1_weight < 0:
            raise ValueError(f"r1_weight must be >= 0, got {self.r1_weight}")
        check_threads(self.threads)

    @property
    def source_classes(self) -> int:
        """Rows of the base's class table: ``num_source_classes``, or ``num_classes`` when unset."""
        return self.num_classes if self.num_source_classes is None else self.num_source_classes

"""``DDPMConfig``: every size and hyperparameter of the class-conditional DDPM, validated.

Named scales (tiny for tests, cpu-small, paper) are not here: they live in the one presets table,
``experiments.config.PRESETS`` (``PRESETS[name].ddpm_config(image_shape=..., num_classes=...)``),
which uses :func:`num_levels` to fit the UNet depth to the image.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Optional, Sequence, Tuple, get_args

from ...runtime.threads import DEFAULT_THREADS, check_threads

#: Sampling loops of ``DDPMGenerator.generate``: ancestral DDPM steps or deterministic DDIM steps.
Sampler = Literal["ddpm", "ddim"]
SAMPLERS = get_args(Sampler)
#: Learning-rate schedules of one ``fit`` call: "constant", or "linear" (lr·(1 − k/steps) at step k,
#: annealed to 0 over the fit's own steps, as the DDGR reference's ``lr_anneal_steps`` per task).
LRSchedule = Literal["constant", "linear"]
LR_SCHEDULES = get_args(LRSchedule)
BetaSchedule = Literal["linear", "scaled_linear", "squaredcos_cap_v2", "sigmoid"]
_BETA_SCHEDULES = get_args(BetaSchedule)


@dataclass(frozen=True)
class DDPMConfig:
    """Sizes and hyperparameters of ``DDPMGenerator`` (presets: ``experiments.config.PRESETS``)."""

    # -- data ------------------------------------------------------------------------------------
    image_shape: Tuple[int, int, int] = (1, 8, 8)  # (C, H, W) of the benchmark's images (Split Digits)
    num_classes: int = 10  # rows of the class-embedding table; labels must lie in [0, num_classes)
    value_range: Tuple[float, float] = (0.0, 1.0)  # the benchmark's pixel range; the model works in [-1, 1]

    # -- denoiser: diffusers.UNet2DModel ---------------------------------------------------------
    # channels per resolution level; each level after the first halves H and W
    block_out_channels: Tuple[int, ...] = (32, 64)
    layers_per_block: int = 2  # ResNet blocks per level (the up path has one more, as in diffusers)
    # side lengths (pixels) whose down/up levels get self-attention (ADM's option); attention cost is quadratic in
    # pixels
    attention_resolutions: Tuple[int, ...] = ()
    mid_attention: bool = True  # self-attention in the bottleneck: global shape at the cheapest resolution
    # None: one head over all channels; diffusers' default 8 makes many 8-dim heads, ~3x slower on CPU
    attention_head_dim: Optional[int] = None
    norm_num_groups: int = 8  # GroupNorm groups; must divide every entry of block_out_channels
    dropout: float = 0.0  # ResNet-block dropout (the DDGR reference uses 0.3 on CIFAR at 128 channels)
    scale_shift_norm: bool = True  # the time/class embedding scales and shifts GroupNorm outputs (ADM, used by DDGR)

    # -- noise schedule: diffusers.DDPMScheduler -------------------------------------------------
    num_train_timesteps: int = 1000  # T of the forward process (DDGR: 4000 respaced to 250)
    # cosine schedule (Nichol & Dhariwal 2021), as in DDGR; "linear" is Ho et al.'s
    beta_schedule: BetaSchedule = "squaredcos_cap_v2"
    # the UNet predicts the noise ε; classifier guidance is written in ε form
    prediction_type: Literal["epsilon"] = "epsilon"

    # -- training --------------------------------------------------------------------------------
    lr: float = 1e-3  # AdamW learning rate (small UNets on 8x8 tolerate more than the reference's 1e-4)
    # "constant", or "linear": anneal lr to 0 over each fit's steps (DDGR reference: 1e-4 -> 0 over 15k steps per
    # task); see the package docstring
    lr_schedule: LRSchedule = "constant"
    weight_decay: float = 0.0  # AdamW weight decay
    batch_size: int = 128  # training mini-batch (and default sampling batch)
    train_steps: int = 1000  # optimisation steps of one fit() call when steps= is not given
    grad_clip: float = 1.0  # max gradient norm; stops a rare bad batch from wrecking a continued model
    hflip: bool = False  # random horizontal flips of the training images (DDGR reference: on; off for digits)
    # decay of the weights' EMA (diffusers' EMAModel, warm-up min(decay, (1+n)/(10+n))); it carries over between fits
    ema_decay: float = 0.995
    # generate() samples from the EMA (True) or from the raw training weights (False, as the DDGR reference); the EMA
    # is kept up to date either way
    sample_with_ema: bool = True

    # -- sampling --------------------------------------------------------------------------------
    # "ddpm" (ancestral) or "ddim"; on Split Digits ancestral 50 steps beat deterministic DDIM 50 (classifier accuracy
    # on samples 0.99 vs 0.94)
    sampler: Sampler = "ddpm"
    num_inference_steps: int = 50  # denoising steps of generate() (<= num_train_timesteps)
    ddim_eta: float = 0.0  # DDIM noise level (0: deterministic; 1: DDPM-like variance)
    guidance_scale: float = 1.0  # classifier-guidance scale s when generate() is given a classifier (DDGR: 1.0)

    # -- runtime ---------------------------------------------------------------------------------
    seed: int = 0  # seeds the weights, the training batches/noise and unseeded sampling (runtime.seeds streams)
    device: str = "cpu"  # torch device of the model; never defaults to CUDA
    # torch threads inside fit/generate on CPU; 1 avoids OpenMP stalls on shared cores (runtime/threads.py); None
    # keeps torch's setting
    threads: Optional[int] = DEFAULT_THREADS
    # flush float32 denormals to zero inside fit/generate on CPU (free; see runtime/threads.py)
    flush_denormal: bool = True

    def __post_init__(self) -> None:
        set_ = object.__setattr__  # frozen: the normalised tuples are set once, here
        set_(self, "image_shape", tuple(int(s) for s in self.image_shape))
        set_(self, "value_range", (float(self.value_range[0]), float(self.value_range[1])))
        set_(self, "block_out_channels", tuple(int(c) for c in self.block_out_channels))
        set_(self, "attention_resolutions", tuple(int(r) for r in self.attention_resolutions))
        self.validate()

    def validate(self) -> None:
        """Raise ``ValueError`` with the offending field for an inconsistent configuration."""
        if len(self.image_shape) != 3 or min(self.image_shape) < 1:
            raise ValueError(f"image_shape must be (C, H, W) with positive sizes, got {self.image_shape}")
        if self.num_classes < 1:
            raise ValueError(f"num_classes must be >= 1, got {self.num_classes}")
        lo, hi = self.value_range
        if not lo < hi:
            raise ValueError(f"value_range must be (low, high) with low < high, got {self.value_range}")
        if not self.block_out_channels:
            raise ValueError("block_out_channels must name at least one level")
        bad = [c for c in self.block_out_channels if c % self.norm_num_groups]
        if bad:
            raise ValueError(
                f"norm_num_groups={self.norm_num_groups} must divide every entry of block_out_channels "
                f"{self.block_out_channels} (not {bad})"
            )
        if self.attention_head_dim is not None:
            attn_channels = [c for c, r in zip(self.block_out_channels, self.level_resolutions())
                             if r in self.attention_resolutions]
            if self.mid_attention:
                attn_channels.append(self.block_out_channels[-1])
            bad = [c for c in attn_channels if c % self.attention_head_dim]
            if bad:
                raise ValueError(
                    f"attention_head_dim={self.attention_head_dim} must divide the channels of every "
                    f"attention level (not {bad})"
                )
        factor = 2 ** (len(self.block_out_channels) - 1)
        _, h, w = self.image_shape
        if h % factor or w % factor:
            raise ValueError(
                f"{len(self.block_out_channels)} UNet levels halve the image {len(self.block_out_channels) - 1} "
                f"time(s), so H and W must be multiples of {factor}; got image_shape {self.image_shape}"
            )
        if self.layers_per_block < 1:
            raise ValueError(f"layers_per_block must be >= 1, got {self.layers_per_block}")
        if self.beta_schedule not in _BETA_SCHEDULES:
            raise ValueError(f"beta_schedule must be one of {_BETA_SCHEDULES}, got {self.beta_schedule!r}")
        if self.prediction_type != "epsilon":
            raise ValueError(
                f"prediction_type={self.prediction_type!r} is not supported: the loss and the classifier "
                "guidance (ε̂ − sqrt(1−ᾱ_t)·s·∇) are written for ε-prediction; use 'epsilon'"
            )
        if self.num_train_timesteps < 2:
            raise ValueError(f"num_train_timesteps must be >= 2, got {self.num_train_timesteps}")
        if self.sampler not in SAMPLERS:
            raise ValueError(f"sampler must be one of {SAMPLERS}, got {self.sampler!r}")
        if not 1 <= self.num_inference_steps <= self.num_train_timesteps:
            raise ValueError(
                f"num_inference_steps must lie in [1, num_train_timesteps={self.num_train_timesteps}], "
                f"got {self.num_inference_steps}"
            )
        for name in ("batch_size", "train_steps"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if not 0.0 <= self.ema_decay < 1.0:
            raise ValueError(f"ema_decay must lie in [0, 1), got {self.ema_decay}")
        if self.lr <= 0:
            raise ValueError(f"lr must be positive, got {self.lr}")
        if self.lr_schedule not in LR_SCHEDULES:
            raise ValueError(f"lr_schedule must be one of {LR_SCHEDULES}, got {self.lr_schedule!r}")
        if not isinstance(self.hflip, bool):
            raise ValueError(f"hflip must be True or False, got {self.hflip!r}")
        if not isinstance(self.sample_with_ema, bool):
            raise ValueError(f"sample_with_ema must be True or False, got {self.sample_with_ema!r}")
        check_threads(self.threads)

    def level_resolutions(self) -> Tuple[int, ...]:
        """Side length (the smaller of H, W) at each UNet level, e.g. (8, 4) for 8x8 and two levels."""
        s = min(self.image_shape[1:])
        return tuple(s // 2 ** i for i in range(len(self.block_out_channels)))


def num_levels(shape: Sequence[int], *, max_levels: int) -> int:
    """UNet levels that halve the image down to no less than 4 pixels (at most ``max_levels``)."""
    if len(shape) != 3:
        raise ValueError(f"image_shape must be (C, H, W), got {tuple(shape)}")
    side, levels = min(shape[1:]), 1
    h, w = shape[1:]
    while levels < max_levels and side // 2 >= 4 and h % 2 ** levels == 0 and w % 2 ** levels == 0:
        side //= 2
        levels += 1
    return levels

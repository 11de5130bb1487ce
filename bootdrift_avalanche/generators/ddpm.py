"""Class-conditional DDPM generator (Ho et al. 2020) on ``diffusers``, with classifier guidance.

This is the generator of DDGR (Gao & Liu, ICML 2023) and of the bootstrapping loop. In diffusers
style, the denoiser and the noise schedule are separate objects:

- ``self.unet``: a ``diffusers.UNet2DModel`` with a class-embedding table (``num_class_embeds``)
  that predicts the noise ε; ``self.ema_unet`` is its exponential moving average, used for sampling.
- ``self.scheduler``: a ``diffusers.DDPMScheduler`` (training noise via ``add_noise``; ancestral
  sampling). A ``DDIMScheduler`` built from the same config serves deterministic few-step sampling.

``fit(x, y)`` continues training from the current weights (DDGR trains D(t) starting from D(t-1)) and
records what it was fed in ``last_fit_info``. ``generate(labels)`` returns one image per label in the
benchmark's value range and shape; with ``guidance=classifier`` it adds classifier guidance
(Dhariwal & Nichol 2021, Alg. 1/2): the gradient of log softmax(C(x_t))[y] shifts the model mean,
written in ε form ε̂ ← ε̂ − sqrt(1−ᾱ_t)·s·∇_{x_t} log p(y | x_t) so that the same code works for the
DDPM and the DDIM step. As in the DDGR reference code, the classifier is the continual learner
itself (not a noise-aware classifier) and sees the noisy x_t, mapped to the benchmark's value range.

Deviations from the DDGR reference (guided-diffusion): fixed variance instead of learned Σ (diffusers
has no hybrid VLB loss), and T=1000 training steps instead of T=4000 respaced to 250.
"""
from __future__ import annotations

import contextlib
import copy
import dataclasses
import math
import time
from dataclasses import dataclass
from typing import Any, Callable, Dict, Iterator, Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor
from tqdm.auto import tqdm

from .base import check_finite_samples, from_unit_range, to_unit_range, validate_images, validate_labels
from .cpu import cpu_compute_settings

#: A guidance classifier: images in the benchmark's value range (B, C, H, W) -> logits (B, K).
Classifier = Callable[[Tensor], Tensor]

SAMPLERS = ("ddpm", "ddim")
PRESETS = ("tiny", "cpu_small", "paper")
_BETA_SCHEDULES = ("linear", "scaled_linear", "squaredcos_cap_v2", "sigmoid")


@dataclass
class DDPMConfig:
    """Sizes and hyperparameters of :class:`DDPMGenerator`. Presets: ``tiny``, ``cpu_small``, ``paper``."""

    # -- data ------------------------------------------------------------------------------------
    image_shape: Tuple[int, int, int] = (1, 8, 8)  # (C, H, W) of the benchmark's images (Split Digits)
    num_classes: int = 10  # rows of the class-embedding table; labels must lie in [0, num_classes)
    value_range: Tuple[float, float] = (0.0, 1.0)  # the benchmark's pixel range; the model works in [-1, 1]

    # -- denoiser: diffusers.UNet2DModel ---------------------------------------------------------
    block_out_channels: Tuple[int, ...] = (32, 64)  # channels per resolution level; each level after the first halves H and W
    layers_per_block: int = 2  # ResNet blocks per level (the up path has one more, as in diffusers)
    attention_resolutions: Tuple[int, ...] = ()  # side lengths (pixels) whose down/up levels get self-attention (ADM's option); attention cost is quadratic in pixels
    mid_attention: bool = True  # self-attention in the bottleneck: global shape at the cheapest resolution
    attention_head_dim: Optional[int] = None  # None: one head over all channels; diffusers' default 8 makes many 8-dim heads, ~3x slower on CPU
    norm_num_groups: int = 8  # GroupNorm groups; must divide every entry of block_out_channels
    dropout: float = 0.0  # ResNet-block dropout (the DDGR reference uses 0.3 on CIFAR at 128 channels)
    scale_shift_norm: bool = True  # the time/class embedding scales and shifts GroupNorm outputs (ADM, used by DDGR)

    # -- noise schedule: diffusers.DDPMScheduler -------------------------------------------------
    num_train_timesteps: int = 1000  # T of the forward process (DDGR: 4000 respaced to 250)
    beta_schedule: str = "squaredcos_cap_v2"  # cosine schedule (Nichol & Dhariwal 2021), as in DDGR; "linear" is Ho et al.'s
    prediction_type: str = "epsilon"  # the UNet predicts the noise ε; classifier guidance below is written in ε form

    # -- training --------------------------------------------------------------------------------
    lr: float = 1e-3  # AdamW learning rate (small UNets on 8x8 tolerate more than the reference's 1e-4)
    weight_decay: float = 0.0  # AdamW weight decay
    batch_size: int = 128  # training mini-batch (and default sampling batch)
    train_steps: int = 1000  # optimisation steps of one fit() call when steps= is not given
    grad_clip: float = 1.0  # max gradient norm; stops a rare bad batch from wrecking a continued model
    ema_decay: float = 0.995  # EMA of the weights used for sampling; warmed up as min(decay, (1+n)/(10+n))

    # -- sampling --------------------------------------------------------------------------------
    sampler: str = "ddpm"  # "ddpm" (ancestral) or "ddim"; on Split Digits ancestral 50 steps beat deterministic DDIM 50 (classifier accuracy on samples 0.99 vs 0.94)
    num_inference_steps: int = 50  # denoising steps of generate() (<= num_train_timesteps)
    ddim_eta: float = 0.0  # DDIM noise level (0: deterministic; 1: DDPM-like variance)
    guidance_scale: float = 1.0  # classifier-guidance scale s when generate() is given a classifier (DDGR: 1.0)

    # -- runtime ---------------------------------------------------------------------------------
    seed: int = 0  # seeds weights, training batches/noise and unseeded sampling
    device: str = "cpu"  # torch device of the model; never defaults to CUDA
    cpu_threads: Optional[int] = 1  # torch threads inside fit/generate on CPU; 1 avoids OpenMP stalls on shared cores (generators/cpu.py); None keeps torch's setting
    flush_denormal: bool = True  # flush float32 denormals to zero inside fit/generate on CPU (free; see generators/cpu.py)

    def __post_init__(self) -> None:
        self.image_shape = tuple(int(s) for s in self.image_shape)
        self.value_range = (float(self.value_range[0]), float(self.value_range[1]))
        self.block_out_channels = tuple(int(c) for c in self.block_out_channels)
        self.attention_resolutions = tuple(int(r) for r in self.attention_resolutions)
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
        if self.cpu_threads is not None and self.cpu_threads < 1:
            raise ValueError(f"cpu_threads must be a positive integer or None, got {self.cpu_threads}")

    def level_resolutions(self) -> Tuple[int, ...]:
        """Side length (the smaller of H, W) at each UNet level, e.g. (8, 4) for 8x8 and two levels."""
        s = min(self.image_shape[1:])
        return tuple(s // 2 ** i for i in range(len(self.block_out_channels)))

    def to_dict(self) -> Dict[str, Any]:
        return dataclasses.asdict(self)

    # -- presets ---------------------------------------------------------------------------------
    @classmethod
    def preset(cls, name: str, **overrides: Any) -> "DDPMConfig":
        """A preset by name (``tiny``, ``cpu_small`` or ``cpu-small``, ``paper``), with overrides."""
        key = name.replace("-", "_")
        if key not in PRESETS:
            raise ValueError(f"unknown DDPM preset {name!r}; choose one of {', '.join(PRESETS)}")
        return getattr(cls, key)(**overrides)

    @classmethod
    def tiny(cls, **overrides: Any) -> "DDPMConfig":
        """For tests: channels 8/16, T=100, 10 sampling steps, 20 training steps; seconds on a CPU."""
        shape = tuple(overrides.get("image_shape", cls.image_shape))
        levels = _num_levels(shape, max_levels=3)
        base = dict(
            block_out_channels=(8,) + (16,) * (levels - 1), layers_per_block=1, norm_num_groups=4,
            mid_attention=True, num_train_timesteps=100, batch_size=32, train_steps=20,
            num_inference_steps=10, ema_decay=0.9, lr=2e-3,
        )
        return cls(**{**base, **overrides})

    @classmethod
    def cpu_small(cls, **overrides: Any) -> "DDPMConfig":
        """Split Digits on a 2-core CPU: recognisable 8x8 digits from one fit of about 2 minutes.

        Channels 16/32 (0.18 s per step of 128 on one core): per CPU second they learned the
        digits as fast as 32/64, which costs twice as much per step. Bigger images get more levels
        down to 4x4 and attention only in the bottleneck, so 16x16 and 32x32 stay usable on a CPU.
        """
        shape = tuple(overrides.get("image_shape", cls.image_shape))
        levels = _num_levels(shape, max_levels=4)
        base = dict(
            block_out_channels=(16,) + (32,) * (levels - 1), layers_per_block=1, norm_num_groups=8,
            mid_attention=True, num_train_timesteps=1000, batch_size=128, train_steps=600,
            lr=2e-3, ema_decay=0.995, sampler="ddpm", num_inference_steps=50,
        )
        return cls(**{**base, **overrides})

    @classmethod
    def paper(cls, **overrides: Any) -> "DDPMConfig":
        """GPU-sized, after the DDGR reference (ADM UNet): 128 base channels, attention at 16 and 8
        pixels (and 32 at 64x64), dropout 0.3, lr 1e-4, batch 64, EMA 0.9999, 15k steps per fit,
        ancestral sampling in 250 steps. Pass ``device="cuda"``; the default stays ``"cpu"``."""
        shape = tuple(overrides.get("image_shape", (3, 32, 32)))
        levels = _num_levels(shape, max_levels=4)
        side = min(shape[1:])
        mults = (1, 2, 3, 4) if side >= 64 else (1, 2, 2, 2)
        base = dict(
            image_shape=shape, num_classes=100,
            block_out_channels=tuple(128 * m for m in mults[:levels]), layers_per_block=3,
            attention_resolutions=tuple(r for r in (32, 16, 8) if r < side), mid_attention=True,
            attention_head_dim=64, norm_num_groups=32, dropout=0.3,
            num_train_timesteps=1000, beta_schedule="squaredcos_cap_v2",
            lr=1e-4, batch_size=64, train_steps=15_000, ema_decay=0.9999,
            sampler="ddpm", num_inference_steps=250, cpu_threads=None,
        )
        return cls(**{**base, **overrides})


@contextlib.contextmanager
def _eval_afterwards(module: nn.Module) -> Iterator[None]:
    """Put ``module`` back in eval mode however the block ends (an error mid-fit included)."""
    try:
        yield
    finally:
        module.eval()


def _num_levels(shape: Sequence[int], *, max_levels: int) -> int:
    """UNet levels that halve the image down to no less than 4 pixels (at most ``max_levels``)."""
    if len(shape) != 3:
        raise ValueError(f"image_shape must be (C, H, W), got {tuple(shape)}")
    side, levels = min(shape[1:]), 1
    h, w = shape[1:]
    while levels < max_levels and side // 2 >= 4 and h % 2 ** levels == 0 and w % 2 ** levels == 0:
        side //= 2
        levels += 1
    return levels


def build_unet(cfg: DDPMConfig) -> "nn.Module":
    """The class-conditional ``UNet2DModel`` described by ``cfg``."""
    from diffusers import UNet2DModel

    res = cfg.level_resolutions()
    down = tuple("AttnDownBlock2D" if r in cfg.attention_resolutions else "DownBlock2D" for r in res)
    up = tuple("AttnUpBlock2D" if r in cfg.attention_resolutions else "UpBlock2D" for r in reversed(res))
    c, h, w = cfg.image_shape
    return UNet2DModel(
        sample_size=(h, w), in_channels=c, out_channels=c,
        down_block_types=down, up_block_types=up,
        block_out_channels=cfg.block_out_channels, layers_per_block=cfg.layers_per_block,
        attention_head_dim=cfg.attention_head_dim, norm_num_groups=cfg.norm_num_groups,
        add_attention=cfg.mid_attention, dropout=cfg.dropout,
        resnet_time_scale_shift="scale_shift" if cfg.scale_shift_norm else "default",
        num_class_embeds=cfg.num_classes,
    )


def build_scheduler(cfg: DDPMConfig):
    """The training/ancestral-sampling ``DDPMScheduler`` described by ``cfg``.

    ``clip_sample`` keeps the predicted x0 in [-1, 1] at every step (guided-diffusion's
    ``clip_denoised``); ``trailing`` spacing makes few-step sampling start from t = T-1, pure noise.
    """
    from diffusers import DDPMScheduler

    return DDPMScheduler(
        num_train_timesteps=cfg.num_train_timesteps, beta_schedule=cfg.beta_schedule,
        prediction_type=cfg.prediction_type, variance_type="fixed_small", clip_sample=True,
        timestep_spacing="trailing",
    )


class DDPMGenerator(nn.Module):
    """Class-conditional DDPM implementing the Generator protocol (``generate``, ``fit``).

    ``state_dict()`` holds the UNet, its EMA copy, the EMA step counter and the number of fit calls
    (which seeds the next fit's batches); the scheduler is rebuilt from the config. A fresh AdamW is
    made for every ``fit`` call (as the DDGR reference starts a new training loop per task), so a
    loaded checkpoint, with the same config, continues training exactly like the original.
    """

    def __init__(self, config: Optional[DDPMConfig] = None):
        super().__init__()
        self.config = config if config is not None else DDPMConfig()
        self.config.validate()
        with torch.random.fork_rng(devices=[]):
            # Seed the weights without disturbing the caller's global RNG stream.
            torch.manual_seed(self.config.seed)
            self.unet = build_unet(self.config).eval()  # train mode only inside fit()
        self.ema_unet = copy.deepcopy(self.unet).requires_grad_(False).eval()
        self.scheduler = build_scheduler(self.config)
        # Persistent counters (saved in state_dict): EMA warm-up and training-RNG stream position.
        self.register_buffer("ema_updates", torch.zeros((), dtype=torch.long))
        self.register_buffer("fit_calls", torch.zeros((), dtype=torch.long))
        self._sample_rng = torch.Generator().manual_seed(self.config.seed + 1)
        self.last_fit_info: Dict[str, Any] = {}
        self.to(self.config.device)

    # -- helpers ---------------------------------------------------------------------------------
    @property
    def device(self) -> torch.device:
        return next(self.unet.parameters()).device

    def _cpu_settings(self):
        return cpu_compute_settings(self.device, num_threads=self.config.cpu_threads,
                                    flush_denormal=self.config.flush_denormal)

    def _make_sampling_scheduler(self, sampler: str):
        if sampler == "ddpm":
            return copy.deepcopy(self.scheduler)  # set_timesteps mutates it; keep self.scheduler pristine
        from diffusers import DDIMScheduler

        return DDIMScheduler.from_config(self.scheduler.config)

    @torch.no_grad()
    def _update_ema(self) -> None:
        n = int(self.ema_updates)
        decay = min(self.config.ema_decay, (1.0 + n) / (10.0 + n))  # early on, follow the raw weights
        for e, p in zip(self.ema_unet.parameters(), self.unet.parameters()):
            e.lerp_(p, 1.0 - decay)
        for e, b in zip(self.ema_unet.buffers(), self.unet.buffers()):
            e.copy_(b)
        self.ema_updates += 1

    # -- training --------------------------------------------------------------------------------
    def fit(self, x: Tensor, y: Tensor, *, steps: Optional[int] = None, progress: bool = False) -> "DDPMGenerator":
        """Continue training on images ``x`` (N, C, H, W) in ``value_range`` with labels ``y`` (N,).

        Each step: a random mini-batch, uniform timesteps t, x_t = ``scheduler.add_noise(x0, ε, t)``,
        loss = MSE(ε̂(x_t, t, y), ε), AdamW, gradient clipping, EMA update. ``last_fit_info`` records
        what was fed (``num_samples``, ``label_counts`` per class) and the loss curve.
        """
        cfg = self.config
        validate_images(x, cfg.image_shape, cfg.value_range, what="training images")
        y = validate_labels(y, cfg.num_classes, what="training labels")
        if len(y) != len(x):
            raise ValueError(f"got {len(x)} training images but {len(y)} labels")
        if len(x) == 0:
            raise ValueError("fit() needs at least one training image")
        steps = cfg.train_steps if steps is None else int(steps)
        if steps < 1:
            raise ValueError(f"steps must be >= 1, got {steps}")

        dev = self.device
        x0_all = to_unit_range(x.detach().float(), cfg.value_range).to(dev)
        y_all = y.to(dev)
        n = len(x0_all)
        batch = min(cfg.batch_size, n)
        # One seeded stream per fit call: reproducible, and different data order in each call.
        rng = torch.Generator().manual_seed(cfg.seed * 1_000_003 + int(self.fit_calls) + 17)
        opt = torch.optim.AdamW(self.unet.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
        # Under torchrun: DDP over ranks. Every rank draws the same global batch (same rng) and
        # trains on its shard batch[rank::world]; DDP averages the gradients, so W ranks follow the
        # single-process run up to float rounding (see bootdrift_avalanche/distributed.py).
        from .. import distributed as D

        if D.is_distributed() and batch % D.world_size():
            raise ValueError(f"batch size {batch} must be divisible by the {D.world_size()} ranks")
        denoiser = D.maybe_ddp(self.unet, str(dev))
        shard = slice(D.rank(), None, D.world_size())

        losses = []
        t0 = time.perf_counter()
        self.unet.train()
        # enable_grad: fit() may be called from a no_grad context (an evaluation hook, say)
        with self._cpu_settings(), _eval_afterwards(self.unet), torch.enable_grad():
            perm, pos = torch.randperm(n, generator=rng), 0
            for _ in tqdm(range(steps), desc="DDPM fit", disable=not progress, leave=False):
                if pos + batch > n:  # new epoch: reshuffle, so every image is seen once per epoch
                    perm, pos = torch.randperm(n, generator=rng), 0
                idx = perm[pos:pos + batch].to(dev)
                pos += batch
                x0, yb = x0_all[idx], y_all[idx]
                noise = torch.randn(x0.shape, generator=rng).to(dev)
                t = torch.randint(0, cfg.num_train_timesteps, (len(x0),), generator=rng).to(dev)
                x0, yb, noise, t = x0[shard], yb[shard], noise[shard], t[shard]
                x_t = self.scheduler.add_noise(x0, noise, t)
                eps = denoiser(x_t, t, class_labels=yb).sample
                loss = F.mse_loss(eps, noise)
                if not torch.isfinite(loss):
                    raise FloatingPointError(
                        f"DDPM training loss became {loss.item()} at step {len(losses)}; "
                        f"lower lr (now {cfg.lr}) or check the training images"
                    )
                opt.zero_grad(set_to_none=True)
                loss.backward()
                if cfg.grad_clip:
                    nn.utils.clip_grad_norm_(self.unet.parameters(), cfg.grad_clip)
                opt.step()
                self._update_ema()
                losses.append(loss.item())
        self.fit_calls += 1

        window = max(1, min(50, steps // 5))
        self.last_fit_info = {
            "num_samples": n,
            "label_counts": torch.bincount(y.cpu(), minlength=cfg.num_classes).tolist(),
            "steps": steps,
            "batch_size": batch,
            "losses": losses,
            "loss_first": sum(losses[:window]) / window,  # mean of the first steps
            "loss_last": sum(losses[-window:]) / window,  # mean of the last steps
            "seconds": time.perf_counter() - t0,
        }
        return self

    # -- sampling --------------------------------------------------------------------------------
    @torch.no_grad()
    def generate(
        self,
        labels: Tensor,
        *,
        guidance: Optional[Classifier] = None,
        guidance_scale: Optional[float] = None,
        guidance_classes: Optional[Sequence[int]] = None,
        num_inference_steps: Optional[int] = None,
        sampler: Optional[str] = None,
        eta: Optional[float] = None,
        seed: Optional[int] = None,
        batch_size: Optional[int] = None,
        use_ema: bool = True,
        progress: bool = False,
    ) -> Tensor:
        """One image per label, in ``value_range`` and ``image_shape``, on the model's device.

        Args:
            labels: 1-D integer tensor of class ids.
            guidance: optional classifier, images in the benchmark's value range -> logits (B, K).
                An ``nn.Module`` is put in eval mode during sampling (BatchNorm must not update).
            guidance_scale: classifier-guidance scale s (``None``: ``config.guidance_scale``; 0: off).
            guidance_classes: restrict the softmax to these logit columns (DDGR: the seen classes);
                every label must be among them. ``None``: all K columns.
            num_inference_steps, sampler, eta: override the config's sampling settings.
            seed: seeds this call (same seed, same images); ``None`` continues the generator's own
                seeded stream, so successive calls differ but a whole run is reproducible.
            batch_size: images denoised at once (``None``: ``config.batch_size``).
            use_ema: sample with the EMA weights (default) or the raw training weights.
            progress: show a tqdm bar over the denoising steps.
        """
        cfg = self.config
        labels = validate_labels(labels, cfg.num_classes, what="labels")
        sampler = cfg.sampler if sampler is None else sampler
        if sampler not in SAMPLERS:
            raise ValueError(f"sampler must be one of {SAMPLERS}, got {sampler!r}")
        steps = cfg.num_inference_steps if num_inference_steps is None else int(num_inference_steps)
        if not 1 <= steps <= cfg.num_train_timesteps:
            raise ValueError(f"num_inference_steps must lie in [1, {cfg.num_train_timesteps}], got {steps}")
        scale = cfg.guidance_scale if guidance_scale is None else float(guidance_scale)
        if guidance is not None and not callable(guidance):
            raise TypeError(f"guidance must be a callable classifier (images -> logits), got {type(guidance).__name__}")
        guided = guidance is not None and scale != 0.0
        if guidance_classes is not None:
            classes = torch.as_tensor(list(guidance_classes), dtype=torch.long)
            if classes.dim() != 1 or classes.numel() == 0 or classes.unique().numel() != classes.numel():
                raise ValueError(f"guidance_classes must be a non-empty list of distinct class ids, got {list(guidance_classes)}")
            missing = sorted(set(labels.tolist()) - set(classes.tolist()))
            if missing:
                raise ValueError(f"labels {missing} are not among guidance_classes {classes.tolist()}")
        else:
            classes = None
        eta = cfg.ddim_eta if eta is None else float(eta)
        bs = cfg.batch_size if batch_size is None else int(batch_size)
        if bs < 1:
            raise ValueError(f"batch_size must be >= 1, got {bs}")

        dev = self.device
        out = torch.empty((len(labels),) + cfg.image_shape, device=dev)
        if len(labels) == 0:
            return out
        rng = torch.Generator().manual_seed(seed) if seed is not None else self._sample_rng
        model = self.ema_unet if use_ema else self.unet
        was_training = isinstance(guidance, nn.Module) and guidance.training
        if was_training:
            guidance.eval()
        n_batches = math.ceil(len(labels) / bs)
        try:
            with self._cpu_settings(), tqdm(total=n_batches * steps, desc="DDPM sample",
                                             disable=not progress, leave=False) as bar:
                for start in range(0, len(labels), bs):
                    yb = labels[start:start + bs].to(dev)
                    out[start:start + bs] = self._sample_batch(
                        model, yb, sampler=sampler, steps=steps, eta=eta, rng=rng,
                        guidance=guidance if guided else None, scale=scale, classes=classes, bar=bar,
                    )
        finally:
            if was_training:
                guidance.train()
        return check_finite_samples(out, where=f"DDPMGenerator.generate, sampler={sampler}")

    def _sample_batch(self, model, y: Tensor, *, sampler: str, steps: int, eta: float, rng: torch.Generator,
                      guidance: Optional[Classifier], scale: float, classes: Optional[Tensor], bar) -> Tensor:
        cfg = self.config
        dev = y.device
        sched = self._make_sampling_scheduler(sampler)
        sched.set_timesteps(steps)
        # Noise is drawn on the CPU generator and moved, so a seed gives the same images on any device.
        x = torch.randn((len(y),) + cfg.image_shape, generator=rng).to(dev) * sched.init_noise_sigma
        alphas_cumprod = sched.alphas_cumprod
        for t in sched.timesteps:
            eps = model(x, t.to(dev), class_labels=y).sample
            if guidance is not None:
                grad = classifier_log_prob_grad(guidance, x, y, cfg.value_range, classes)
                # Dhariwal & Nichol (2021), Alg. 2, used for both steps: shifting ε̂ by
                # -sqrt(1-ᾱ_t)·s·∇ moves the DDPM posterior mean by Σ_t·s·∇ (to first order).
                eps = eps - math.sqrt(1.0 - float(alphas_cumprod[int(t)])) * scale * grad
            if sampler == "ddim":
                # Recompute ε from the clipped x0 (guided-diffusion's DDIM does the same): otherwise a
                # large guidance shift is clipped out of x0 but kept, with the opposite sign, in the
                # "direction to x_t" term, and pushes samples away from the asked class.
                x = sched.step(eps, t, x, eta=eta, use_clipped_model_output=True, generator=rng).prev_sample
            else:
                x = sched.step(eps, t, x, generator=rng).prev_sample
            bar.update(1)
        return from_unit_range(x, cfg.value_range)


def classifier_log_prob_grad(
    classifier: Classifier,
    x_t: Tensor,
    y: Tensor,
    value_range: Tuple[float, float],
    classes: Optional[Tensor] = None,
) -> Tensor:
    """∇_{x_t} log softmax(C(x_t))[y] for a batch x_t in the model's [-1, 1] space.

    The classifier sees x_t mapped (without clamping, which would zero the gradient) to the
    benchmark's value range, as it was trained on such images. ``classes`` restricts the softmax to
    those logit columns (DDGR normalises over the seen classes only). The per-image log
    probabilities are summed before differentiating; images of a batch are independent (an
    eval-mode classifier), so each gets its own gradient.
    """
    lo, hi = value_range
    with torch.enable_grad():
        xg = x_t.detach().requires_grad_(True)
        logits = classifier((xg + 1.0) * (0.5 * (hi - lo)) + lo)
        if not isinstance(logits, Tensor) or logits.dim() != 2 or len(logits) != len(xg):
            shape = tuple(logits.shape) if isinstance(logits, Tensor) else type(logits).__name__
            raise ValueError(f"the guidance classifier must return logits of shape (B={len(xg)}, K), got {shape}")
        if not logits.requires_grad:
            raise ValueError(
                "the guidance classifier's logits do not depend differentiably on its input "
                "(computed under torch.no_grad, detached, or not a torch model?); guidance needs ∇_x log p(y|x)"
            )
        k = logits.shape[1]
        if classes is not None:
            classes = classes.to(logits.device)
            if int(classes.max()) >= k:
                raise ValueError(f"guidance_classes contain class {int(classes.max())}, but the classifier has {k} outputs")
            logits = logits[:, classes]
            # position of each label within `classes`
            target = (y.to(logits.device)[:, None] == classes[None, :]).float().argmax(1)
        else:
            if int(y.max()) >= k:
                raise ValueError(f"label {int(y.max())} has no logit: the guidance classifier has {k} outputs")
            target = y.to(logits.device)
        log_p = F.log_softmax(logits.float(), dim=1).gather(1, target[:, None]).sum()
        (grad,) = torch.autograd.grad(log_p, xg)
    return grad.to(x_t.dtype)

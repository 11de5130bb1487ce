"""``StyleGAN2Generator``: the class-conditional StyleGAN2 as one ``nn.Module`` that follows the
Generator protocol (``generate``, ``fit``; ``generators/base.py``).

It owns G (trained), G_ema (the exponential moving average of G's weights, which is what
``generate`` samples), D, the path-length target and the training position. ``fit`` continues
training from the current weights (a fresh Adam per call, as the DDPM and the WGAN: a reloaded
model then continues exactly like the original) and, at its end, re-estimates every class's mean
latent from G_ema (``StyleGenerator.estimate_mean_latents``, seeded), the centre of the truncation
trick. ``state_dict`` holds everything, so a loaded checkpoint samples and trains like the original.
"""
from __future__ import annotations

import copy
import time
from typing import Any, Dict, Optional

import torch
from torch import Tensor, nn

from ...runtime.seeds import seed_for
from ...runtime.threads import thread_settings
from ..base import check_finite_samples, from_unit_range, to_unit_range, validate_labels, validate_training_data
from .config import NOISE_MODES, StyleGAN2Config
from .discriminator import Discriminator
from .generator_network import StyleGenerator
from .training import train_gan


class StyleGAN2Generator(nn.Module):
    """Class-conditional StyleGAN2 implementing the Generator protocol (see the module docstring)."""

    def __init__(self, config: Optional[StyleGAN2Config] = None, **overrides):
        super().__init__()
        if config is None:
            config = StyleGAN2Config(**overrides)
        elif overrides:
            config = StyleGAN2Config(**{**vars(config), **overrides})
        self.config = config
        with torch.random.fork_rng(devices=[]):
            # Seeded weights that leave the caller's global RNG stream alone.
            torch.manual_seed(seed_for("stylegan2.init", seed=config.seed))
            self.g = StyleGenerator(config).eval()
            self.d = Discriminator(config).eval()
        self.g_ema = copy.deepcopy(self.g).requires_grad_(False).eval()
        self.register_buffer("pl_mean", torch.zeros(()))
        self.register_buffer("steps_done", torch.zeros((), dtype=torch.long))
        self.last_fit_info: Dict[str, Any] = {}
        self._sample_rng = torch.Generator().manual_seed(seed_for("stylegan2.sample", seed=config.seed))
        self.to(config.device)
        self._set_mean_latents()

    @property
    def device(self) -> torch.device:
        return self.pl_mean.device

    def _threads(self):
        return thread_settings(self.device, threads=self.config.threads)

    def _set_mean_latents(self) -> None:
        g = torch.Generator().manual_seed(seed_for("stylegan2.mean_latent", seed=self.config.seed,
                                                   step=int(self.steps_done)))
        with self._threads():
            self.g_ema.estimate_mean_latents(self.config.mean_latent_samples, g)
        self.g.w_avg.copy_(self.g_ema.w_avg)

    # -- training --------------------------------------------------------------------------------
    def fit(self, x: Tensor, y: Tensor, *, steps: Optional[int] = None, progress: bool = False) -> "StyleGAN2Generator":
        """Continue training on images ``x`` (N, C, H, W) in ``value_range`` with labels ``y`` for
        ``steps`` steps (default ``config.train_steps``; ``training.train_gan``), then re-estimate
        the per-class mean latents. The training stream is seeded by (seed, steps done so far), so a
        fit is reproducible and a second fit does not replay the first one's batches."""
        cfg = self.config
        y = validate_training_data(x, y, cfg.image_shape, cfg.value_range, cfg.num_classes)
        steps = cfg.train_steps if steps is None else int(steps)
        if steps < 0:
            raise ValueError(f"steps must be >= 0, got {steps}")
        dev = self.device
        rng = torch.Generator().manual_seed(seed_for("stylegan2.fit", seed=cfg.seed, step=int(self.steps_done)))
        t0 = time.perf_counter()
        with self._threads():
            hist = train_gan(self.g, self.g_ema, self.d, self.pl_mean,
                             to_unit_range(x.detach().float(), cfg.value_range).to(dev), y.to(dev), cfg=cfg,
                             steps=steps, images_before=int(self.steps_done) * cfg.batch_size, rng=rng,
                             progress=progress)
        self.steps_done += steps
        self._set_mean_latents()
        tail = max(1, steps // 10)
        self.last_fit_info = {
            "num_samples": len(x), "steps": steps, "seconds": time.perf_counter() - t0,
            "label_counts": torch.bincount(y.cpu(), minlength=cfg.num_classes).tolist(),
            "g_loss_last": sum(hist["g"][-tail:]) / tail if steps else float("nan"),
            "d_loss_last": sum(hist["d"][-tail:]) / tail if steps else float("nan"),
            "r1_last": hist["r1"][-1] if hist["r1"] else float("nan"),
            "pl_mean": float(self.pl_mean), "history": hist,
        }
        return self

    # -- sampling --------------------------------------------------------------------------------
    @torch.no_grad()
    def generate(self, labels: Tensor, *, seed: Optional[int] = None, truncation: Optional[float] = None,
                 noise_mode: str = "random", use_ema: bool = True, batch_size: Optional[int] = None) -> Tensor:
        """One image per label, in ``value_range`` and ``image_shape``: float32, on the CPU.

        Args:
            labels: 1-D integer tensor of class ids.
            seed: seeds this call (latents and noise come from a CPU generator: the same images on
                any device); ``None`` continues the model's own seeded stream.
            truncation: psi in [0, 1], the sampling-bias knob: w -> w_avg[c] + psi (w - w_avg[c]),
                towards the class's mean latent (``None``: ``config.truncation``). psi = 0 gives
                every image of a class the class's mean-latent image (up to the noise inputs).
            noise_mode: "random" (fresh per-pixel noise), "const" (each layer's fixed noise) or "none".
            use_ema: sample G_ema (default) or the raw trained G.
            batch_size: images synthesised at once (``None``: ``config.sample_batch_size``).
        """
        cfg = self.config
        if not isinstance(labels, Tensor):
            raise TypeError(f"labels must be a torch.Tensor of class ids, got {type(labels).__name__}")
        labels = validate_labels(labels, cfg.num_classes)
        psi = cfg.truncation if truncation is None else float(truncation)
        if not 0.0 <= psi <= 1.0:
            raise ValueError(f"truncation (psi) must lie in [0, 1], got {truncation!r}")
        if noise_mode not in NOISE_MODES:
            raise ValueError(f"noise_mode must be one of {NOISE_MODES}, got {noise_mode!r}")
        bs = cfg.sample_batch_size if batch_size is None else int(batch_size)
        if bs < 1:
            raise ValueError(f"batch_size must be >= 1, got {bs}")
        net = self.g_ema if use_ema else self.g
        rng = torch.Generator().manual_seed(int(seed)) if seed is not None else self._sample_rng
        dev = self.device
        out = []
        with self._threads():
            for part in labels.split(bs):
                z = torch.randn(len(part), cfg.z_dim, generator=rng).to(dev)
                img = net(z, part.to(dev), psi, noise_mode=noise_mode, generator=rng)
                out.append(from_unit_range(img, cfg.value_range).float().cpu())
        x = torch.cat(out) if out else torch.empty((0,) + cfg.image_shape)
        return check_finite_samples(x, where="StyleGAN2Generator.generate")

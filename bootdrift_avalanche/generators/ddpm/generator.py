"""``DDPMGenerator``: the class-conditional DDPM behind DDGR and the bootstrapping loop, as one
``nn.Module`` that follows the Generator protocol (``generate``, ``fit``; ``generators/base.py``).

It owns the denoiser (``unet``), the exponential moving average of its weights (``ema_unet``,
updated by diffusers' ``EMAModel``; sampled from unless ``config.sample_with_ema`` is False), the
noise schedule and the counters that make a
reloaded model continue exactly like the original; training is ``training.py``, sampling and
classifier guidance ``sampling.py``.
"""
from __future__ import annotations

import copy
import math
import time
from typing import Any, Dict, Optional, Sequence

import torch
import torch.nn as nn
from diffusers.training_utils import EMAModel
from torch import Tensor
from tqdm.auto import tqdm

from ...runtime.seeds import seed_for
from ...runtime.threads import thread_settings
from ..base import check_finite_samples, to_unit_range, validate_labels, validate_training_data
from .config import SAMPLERS, DDPMConfig
from .model import build_scheduler, build_unet
from .sampling import Classifier, sample_batch
from .training import lr_at, train_denoiser


class DDPMGenerator(nn.Module):
    """Class-conditional DDPM implementing the Generator protocol (``generate``, ``fit``).

    ``state_dict()`` holds the UNet, its EMA copy, the EMA step count (in the module's extra state)
    and the number of fit calls (which seeds the next fit's batches); the scheduler is rebuilt from
    the config. With the same config, a loaded checkpoint samples and continues training exactly
    like the original.
    """

    def __init__(self, config: Optional[DDPMConfig] = None):
        super().__init__()
        self.config = config if config is not None else DDPMConfig()
        self.config.validate()
        with torch.random.fork_rng(devices=[]):
            # Seed the weights without disturbing the caller's global RNG stream.
            torch.manual_seed(seed_for("ddpm.init", seed=self.config.seed))
            self.unet = build_unet(self.config).eval()  # train mode only inside fit()
        self.ema_unet = copy.deepcopy(self.unet).requires_grad_(False).eval()
        # diffusers' EMA: decay min(ema_decay, (1+n)/(10+n)), the first update copies the weights.
        # It tracks parameters only; the UNet has no buffers to average.
        self.ema = EMAModel(self.ema_unet.parameters(), decay=self.config.ema_decay)
        self._point_ema_at_sampling_copy()
        self.scheduler = build_scheduler(self.config)
        # Persistent (saved in state_dict): the position of the training-RNG stream.
        self.register_buffer("fit_calls", torch.zeros((), dtype=torch.long))
        self._sample_rng = torch.Generator().manual_seed(seed_for("ddpm.sample", seed=self.config.seed))
        self.last_fit_info: Dict[str, Any] = {}
        self.to(self.config.device)

    # -- state -----------------------------------------------------------------------------------
    @property
    def device(self) -> torch.device:
        return next(self.unet.parameters()).device

    @property
    def ema_updates(self) -> int:
        """EMA updates so far (one per training step, over all fit calls)."""
        return int(self.ema.optimization_step)

    def _point_ema_at_sampling_copy(self) -> EMAModel:
        """Make the EMA average *in* ``ema_unet``'s parameters instead of private copies: the average
        is then saved by ``state_dict``, moved by ``.to()`` and sampled from without a copy. Done
        again before every fit, in case the parameters were replaced (``load_state_dict(assign=True)``)."""
        self.ema.shadow_params = list(self.ema_unet.parameters())
        return self.ema

    def get_extra_state(self) -> Dict[str, int]:
        # The EMA's averages are ema_unet's parameters (already in the state dict); its step count,
        # which sets the warm-up decay, is the only other EMA state.
        return {"ema_step": int(self.ema.optimization_step)}

    def set_extra_state(self, state: Dict[str, int]) -> None:
        self.ema.optimization_step = int(state["ema_step"])

    def _threads(self):
        return thread_settings(self.device, threads=self.config.threads, flush_denormal=self.config.flush_denormal)

    # -- training --------------------------------------------------------------------------------
    def fit(self, x: Tensor, y: Tensor, *, steps: Optional[int] = None, progress: bool = False,
            regularizer=None) -> "DDPMGenerator":
        """Continue training on images ``x`` (N, C, H, W) in ``value_range`` with labels ``y`` (N,)
        for ``steps`` steps (default ``config.train_steps``); see ``training.train_denoiser`` (also
        for ``regularizer``, an extra loss term such as anchored replay's moment matching).
        ``last_fit_info`` records what was fed (``num_samples``, ``label_counts`` per class), the
        learning rates of the first and last step and the loss curve."""
        cfg = self.config
        y = validate_training_data(x, y, cfg.image_shape, cfg.value_range, cfg.num_classes)
        steps = cfg.train_steps if steps is None else int(steps)
        if steps < 1:
            raise ValueError(f"steps must be >= 1, got {steps}")

        dev = self.device
        # One seeded stream per fit call: reproducible, and a different data order in each call.
        rng = torch.Generator().manual_seed(seed_for("ddpm.fit", seed=cfg.seed, call=int(self.fit_calls)))
        t0 = time.perf_counter()
        with self._threads():
            losses = train_denoiser(
                self.unet, self.scheduler, self._point_ema_at_sampling_copy(),
                to_unit_range(x.detach().float(), cfg.value_range).to(dev), y.to(dev),
                cfg=cfg, steps=steps, rng=rng, progress=progress, regularizer=regularizer,
            )
        self.fit_calls += 1

        window = max(1, min(50, steps // 5))
        self.last_fit_info = {
            "num_samples": len(x),
            "label_counts": torch.bincount(y.cpu(), minlength=cfg.num_classes).tolist(),
            "steps": steps,
            "batch_size": min(cfg.batch_size, len(x)),
            "lr_schedule": cfg.lr_schedule,
            "lr_first": lr_at(cfg, 0, steps),  # rate of the first and of the last step
            "lr_last": lr_at(cfg, steps - 1, steps),
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
        seed: Optional[int] = None,
        guidance: Optional[Classifier] = None,
        guidance_scale: Optional[float] = None,
        guidance_classes: Optional[Sequence[int]] = None,
        num_inference_steps: Optional[int] = None,
        sampler: Optional[str] = None,
        eta: Optional[float] = None,
        batch_size: Optional[int] = None,
        use_ema: Optional[bool] = None,
        progress: bool = False,
    ) -> Tensor:
        """One image per label, in ``value_range`` and ``image_shape``: float32, on the CPU.

        Args:
            labels: 1-D integer tensor of class ids.
            seed: seeds this call (same seed, same images, on any device); ``None`` continues the
                generator's own seeded stream, so successive calls differ but a run is reproducible.
            guidance: optional classifier, images in the benchmark's value range -> logits (B, K),
                run on the model's device. An ``nn.Module`` is put in eval mode during sampling
                (BatchNorm must not update).
            guidance_scale: classifier-guidance scale s (``None``: ``config.guidance_scale``; 0: off).
            guidance_classes: restrict the softmax to these logit columns (DDGR: the seen classes);
                every label must be among them. ``None``: all K columns.
            num_inference_steps, sampler, eta: override the config's sampling settings.
            batch_size: images denoised at once (``None``: ``config.batch_size``).
            use_ema: sample with the EMA weights (True) or the raw training weights (False);
                ``None``: ``config.sample_with_ema``.
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
                raise ValueError("guidance_classes must be a non-empty list of distinct class ids, "
                                 f"got {list(guidance_classes)}")
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
            return out.cpu()
        rng = torch.Generator().manual_seed(int(seed)) if seed is not None else self._sample_rng
        use_ema = cfg.sample_with_ema if use_ema is None else bool(use_ema)
        model = self.ema_unet if use_ema else self.unet
        was_training = isinstance(guidance, nn.Module) and guidance.training
        if was_training:
            guidance.eval()
        n_batches = math.ceil(len(labels) / bs)
        try:
            with self._threads(), tqdm(total=n_batches * steps, desc="DDPM sample",
                                       disable=not progress, leave=False) as bar:
                for start in range(0, len(labels), bs):
                    out[start:start + bs] = sample_batch(
                        model, self.scheduler, labels[start:start + bs].to(dev), cfg=cfg, sampler=sampler,
                        steps=steps, eta=eta, rng=rng, guidance=guidance if guided else None, scale=scale,
                        classes=classes, bar=bar,
                    )
        finally:
            if was_training:
                guidance.train()
        return check_finite_samples(out, where=f"DDPMGenerator.generate, sampler={sampler}").cpu()

"""GUIDE's guidance (Cywiński et al. 2024): steer a sample of an old class toward the classes of the
current task, through the classifier's view of the model's predicted clean image.

At a step from x_t, with ε̂ = ε_θ(x_t, t, y) and x̂0 = clip((x_t − sqrt(1−ᾱ_t)·ε̂) / sqrt(ᾱ_t), −1, 1),
the gradient is

    g = ∇_{x_t} log softmax(C(x̂0))[c*],   c* = argmax_{c in targets} C(x̂0)_c,

taken through the denoiser (x̂0 depends on x_t through ε̂), with the softmax over ``columns`` (the
classes seen so far, the current task's included). A positive scale raises the log-probability of
c*: the sample moves toward the most likely class of the current task. The sampler applies g as it
applies classifier guidance (``sampling.denoise_step``: DDIM shifts ε̂ by −sqrt(1−ᾱ_t)·s·g, the
reference's ``condition_score``). The reference's code and our deviations: docs/GUIDE.md.
"""
from __future__ import annotations

import math
from typing import Callable, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor


class NewClassGuidance:
    """The guidance of a GUIDE replay (module docstring), handed to ``DDPMGenerator.generate`` as
    ``guidance=``; the sampler calls :meth:`eps_and_grad` at every step.

    Args:
        classifier: images in the benchmark's value range (B, C, H, W) -> logits (B, K), e.g. a
            frozen copy of the continual learner in eval mode.
        targets: the logit columns of the current task's classes (c* is the most likely of them).
        columns: the logit columns the softmax runs over (``None``: all K); must hold ``targets``.
        clip_x0: clip x̂0 to [-1, 1] before the classifier sees it, as the reference does.
    """

    def __init__(self, classifier: Callable[[Tensor], Tensor], targets: Sequence[int],
                 columns: Optional[Sequence[int]] = None, *, clip_x0: bool = True):
        if not callable(classifier):
            raise TypeError(f"classifier must map images to logits, got {type(classifier).__name__}")
        self.classifier = classifier
        self.targets = torch.as_tensor(list(targets), dtype=torch.long)
        if self.targets.numel() == 0:
            raise ValueError("GUIDE guidance needs at least one target class (the current task's)")
        self.columns = None if columns is None else torch.as_tensor(list(columns), dtype=torch.long)
        if self.columns is not None:
            missing = sorted(set(self.targets.tolist()) - set(self.columns.tolist()))
            if missing:
                raise ValueError(f"target classes {missing} are not among the softmax columns {self.columns.tolist()}")
        self.clip_x0 = clip_x0

    def __call__(self, images: Tensor) -> Tensor:
        return self.classifier(images)

    def target_log_prob(self, logits: Tensor) -> Tensor:
        """Per-image log softmax(logits)[c*] over ``columns``, c* the most likely target."""
        if self.columns is not None:
            cols = self.columns.to(logits.device)
            if int(cols.max()) >= logits.shape[1]:
                raise ValueError(f"softmax column {int(cols.max())} has no logit: the classifier has {logits.shape[1]}")
            logits = logits[:, cols]
            pos = (cols[:, None] == self.targets.to(logits.device)[None, :]).float().argmax(0)
        else:
            pos = self.targets.to(logits.device)
            if int(pos.max()) >= logits.shape[1]:
                raise ValueError(f"target class {int(pos.max())} has no logit: the classifier has {logits.shape[1]}")
        target = pos[logits[:, pos].argmax(1)]
        return F.log_softmax(logits.float(), dim=1).gather(1, target[:, None]).squeeze(1)

    def eps_and_grad(self, model, sched, x: Tensor, t: Tensor, y: Tensor, *,
                     value_range: Tuple[float, float]) -> Tuple[Tensor, Tensor]:
        """The denoiser's ε̂ at (x_t, t, y) and g (module docstring) for one sampler step of ``sched``."""
        a = float(sched.alphas_cumprod[int(t)])
        lo, hi = value_range
        with torch.enable_grad():
            xg = x.detach().requires_grad_(True)
            eps = model(xg, t.to(x.device), class_labels=y).sample
            x0 = (xg - math.sqrt(1.0 - a) * eps) / math.sqrt(a)
            if self.clip_x0:
                x0 = x0.clamp(-1.0, 1.0)
            logits = self.classifier((x0 + 1.0) * (0.5 * (hi - lo)) + lo)
            if not isinstance(logits, Tensor) or logits.dim() != 2 or len(logits) != len(xg):
                shape = tuple(logits.shape) if isinstance(logits, Tensor) else type(logits).__name__
                raise ValueError(f"the guidance classifier must return logits of shape (B={len(xg)}, K), got {shape}")
            (grad,) = torch.autograd.grad(self.target_log_prob(logits).sum(), xg)
        return eps.detach(), grad.to(x.dtype)

"""The one Generator protocol shared by replay plugins, drift metrics and the bootstrapping loop.

Every generator of the package (``DDPMGenerator``, ``GANMemoryGenerator``, ``WGANGenerator``) has

- ``generate(labels, *, seed=None, **method_kwargs) -> Tensor``: one sample per label, in the
  benchmark's own value range and shape (Split Digits: 1x8x8 in [0, 1]; the GMM toy: 2-D points).
  ``seed`` makes the call reproducible whatever the generator's call history (same seed, same
  samples, on any device); ``None`` draws from the generator's (or torch's) own stream. Method
  specific keywords (classifier guidance, latent codes, sampler settings) come after it.
- ``fit(x, y, *, steps=None, progress=False) -> self``: (continue to) train on images ``x`` with
  labels ``y``; ``steps`` overrides the configured number of optimisation steps, ``progress`` shows
  a tqdm bar.

**Output device**: ``generate`` returns a float32 tensor **on the CPU**, whatever device the model
computes on. Everything downstream (replay sets, metrics, loggers, collectives' callers) then sees
one device; a generator may use its model's device internally (the DDPM computes classifier
guidance there). Checkpointable generators are ``nn.Module`` s (``state_dict``/``load_state_dict``).

The validation helpers here give every generator the same clear errors for bad labels, bad
training images and non-finite samples, so garbage never reaches a metric or a logger.
"""
from __future__ import annotations

import inspect
from typing import Optional, Protocol, Sequence, Tuple, runtime_checkable

import torch
from torch import Tensor


@runtime_checkable
class Generator(Protocol):
    """What the drift metrics and the replay plugins need from a generative model."""

    def generate(self, labels: Tensor, *, seed: Optional[int] = None) -> Tensor:
        """One sample per entry of ``labels`` (a 1-D LongTensor of class ids): float32, on the CPU."""
        ...


@runtime_checkable
class TrainableGenerator(Generator, Protocol):
    """A generator that can be (re)trained on a labelled tensor dataset."""

    def fit(self, x: Tensor, y: Tensor, *, steps: Optional[int] = None,
            progress: bool = False) -> "TrainableGenerator":
        """Train on images ``x`` (N, *shape) with labels ``y`` (N,); returns ``self``."""
        ...


def require_generator(generator, *, who: str, methods: Sequence[str] = ("generate",),
                      generate_keywords: Sequence[str] = ()) -> None:
    """Refuse, when a plugin is built, a generator that lacks what the plugin will call: the
    ``methods`` (attributes for properties such as ``task_ids``) and the keyword arguments of
    ``generate``. Without this check a wrong generator fails with an ``AttributeError`` or
    ``TypeError`` only after the first experience has trained."""
    if generator is None:
        raise TypeError(f"{who} needs a generator (got None); see bootdrift_avalanche.generators")
    kind = type(generator).__name__
    missing = [m for m in methods if not hasattr(generator, m)]
    if missing:
        raise TypeError(f"{who} cannot use a {kind}: it has no {', '.join(missing)} "
                        f"(the plugin needs {', '.join(methods)})")
    if generate_keywords:
        params = inspect.signature(generator.generate).parameters
        if not any(p.kind is p.VAR_KEYWORD for p in params.values()):
            absent = [k for k in generate_keywords if k not in params]
            if absent:
                call = ", ".join(k + "=" for k in generate_keywords)
                raise TypeError(f"{who} cannot use a {kind}: its generate() takes no {', '.join(absent)} "
                                f"argument (the plugin calls generate(labels, {call}))")


def validate_labels(labels: Tensor, num_classes: Optional[int], *, what: str = "labels") -> Tensor:
    """Check that ``labels`` is a 1-D integer tensor of class ids in ``[0, num_classes)``."""
    if not isinstance(labels, Tensor):
        labels = torch.as_tensor(labels)
    if labels.dim() != 1:
        raise ValueError(f"{what} must be a 1-D tensor of class ids, got shape {tuple(labels.shape)}")
    if labels.dtype.is_floating_point or labels.dtype == torch.bool:
        raise TypeError(f"{what} must be an integer tensor, got dtype {labels.dtype}")
    labels = labels.long()
    if labels.numel() and labels.min() < 0:
        raise ValueError(f"{what} contain negative class ids (min {int(labels.min())})")
    if num_classes is not None and labels.numel() and labels.max() >= num_classes:
        raise ValueError(
            f"{what} contain class id {int(labels.max())}, but the generator was built for "
            f"{num_classes} classes (ids 0..{num_classes - 1})"
        )
    return labels


def validate_images(
    x: Tensor,
    shape: Sequence[int],
    value_range: Optional[Tuple[float, float]] = None,
    *,
    what: str = "training images",
    tol: float = 1e-4,
) -> None:
    """Check shape (N, *shape), finiteness and, when given, the value range of ``x``."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{what} must be a torch.Tensor, got {type(x).__name__}")
    if x.dim() != len(shape) + 1 or tuple(x.shape[1:]) != tuple(shape):
        raise ValueError(f"{what} must have shape (N, {', '.join(map(str, shape))}), got {tuple(x.shape)}")
    if not torch.isfinite(x).all():
        raise ValueError(f"{what} contain NaN or Inf values")
    if value_range is not None and x.numel():
        lo, hi = value_range
        if x.min() < lo - tol or x.max() > hi + tol:
            raise ValueError(
                f"{what} must lie in [{lo}, {hi}], got values in [{float(x.min()):.4g}, {float(x.max()):.4g}]"
            )


def validate_training_data(x: Tensor, y: Tensor, shape: Sequence[int], value_range: Optional[Tuple[float, float]],
                           num_classes: Optional[int]) -> Tensor:
    """Check a labelled training set for ``fit``: images as :func:`validate_images`, labels as
    :func:`validate_labels`, one label per image, at least one image. Returns the labels as int64."""
    validate_images(x, shape, value_range, what="training images")
    y = validate_labels(y, num_classes, what="training labels")
    if len(y) != len(x):
        raise ValueError(f"got {len(x)} training images but {len(y)} labels")
    if len(x) == 0:
        raise ValueError("fit() needs at least one training image")
    return y


def check_finite_samples(x: Tensor, *, where: str = "") -> Tensor:
    """Raise a clear error when generated samples contain NaN or Inf (instead of logging garbage)."""
    if not torch.isfinite(x).all():
        bad = int((~torch.isfinite(x)).flatten(1).any(1).sum())
        loc = f" ({where})" if where else ""
        raise FloatingPointError(f"generator produced {bad} sample(s) with NaN or Inf values{loc}")
    return x


def to_unit_range(x: Tensor, value_range: Tuple[float, float]) -> Tensor:
    """Map ``x`` from ``value_range`` to [-1, 1] (the range diffusion and GAN models work in)."""
    lo, hi = value_range
    return (x - lo) / (hi - lo) * 2.0 - 1.0


def from_unit_range(x: Tensor, value_range: Tuple[float, float]) -> Tensor:
    """Map ``x`` from [-1, 1] back to ``value_range`` (clamped)."""
    lo, hi = value_range
    return ((x.clamp(-1.0, 1.0) + 1.0) / 2.0) * (hi - lo) + lo

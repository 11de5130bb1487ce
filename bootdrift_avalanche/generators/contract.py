"""The output contract of a generator, checked where its samples enter a replay set or a drift metric.

Samples must be a real-valued tensor (cast to float32) with one sample per label, the real data's
sample shape, finite values, and the real data's value scale. The scale is judged from the real data's per-channel
statistics (mean, std, min, max), not only from its min/max. A [-1, 1] generator against [0, 1] data
lies inside twice the data's width, but its per-channel mean and std are those of the data mapped
by ``2x - 1``. A [0, 1] generator against mean/std-normalised data lies inside the data's range,
but its mean and std are those of the data before ``Normalize``. Each usual convention ([0, 1],
[-1, 1], [0, 255], per-channel normalised) predicts the samples' statistics from the data's. When
one of them explains the samples far better than the data's own scale,
:class:`GeneratorOutputError` names the convention and the fix (``value_range=``). The check runs
before the solver or a metric sees the samples. Points (2-D data) have no conventional scale and a
drifting generator of points may legitimately wander far: for them only count, shape and finiteness
are checked.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Dict, Optional, Sequence, Tuple

import torch
from torch import Tensor

#: a sample value this far outside the data's range (in data widths) is on another scale
FAR_OUTSIDE = 1.0
#: share of values that may lie that far outside before the samples are refused
FAR_SHARE = 0.01
#: samples whose per-channel means lie within this many of the data's stds of the data's, with at
#: least its spread, are on the data's scale (drift, not a wrong convention)
MEAN_OFFSET = 0.5
#: values per channel the scale is judged on (an evenly strided subset of larger sets)
VALUES_PER_CHANNEL = 50_000


class GeneratorOutputError(ValueError):
    """A generator's samples break the output contract (see the module docstring)."""


@dataclass(frozen=True)
class ValueStats:
    """Per-channel statistics of real data: the shape and scale a generator's samples must have.

    ``mean``, ``std``, ``low``, ``high`` have one entry per channel (dimension 1 of the data);
    2-D data (points) has one channel per coordinate.
    """

    shape: Tuple[int, ...]
    mean: Tensor
    std: Tensor
    low: Tensor
    high: Tensor

    @classmethod
    def of(cls, x: Tensor) -> "ValueStats":
        """The statistics of real samples ``x`` (N, C, ...)."""
        v = _per_channel(x)
        return cls(tuple(x.shape[1:]), v.mean(1), v.std(1, unbiased=False), v.min(1).values, v.max(1).values)

    @property
    def value_range(self) -> Tuple[float, float]:
        """``(low, high)`` over all channels: the ``value_range=`` of a generator of this data."""
        return float(self.low.min()), float(self.high.max())

    def describe(self) -> str:
        """The scale in words (``[0, 1]``, ``[-1, 1]``, ``normalised (...)`` or the range)."""
        lo, hi = self.value_range
        for name, (a, b) in _RANGES.items():
            if abs(lo - a) <= 0.02 * (b - a) and abs(hi - b) <= 0.02 * (b - a):
                return name
        if bool((self.mean.abs() < 0.15).all()) and bool(((self.std - 1).abs() < 0.25).all()):
            return f"normalised per channel (mean ~0, std ~1, values in [{lo:.3g}, {hi:.3g}])"
        return f"[{lo:.3g}, {hi:.3g}]"


_RANGES: Dict[str, Tuple[float, float]] = {"[0, 1]": (0.0, 1.0), "[-1, 1]": (-1.0, 1.0), "[0, 255]": (0.0, 255.0)}


def _per_channel(x: Tensor, limit: Optional[int] = None) -> Tensor:
    """``x`` as (channels, values) in float64; at most ``limit`` values per channel (evenly strided)."""
    v = x.detach().transpose(0, 1).reshape(x.shape[1], -1) if x.dim() > 1 else x.detach().reshape(1, -1)
    if limit is not None:
        v = v[:, ::max(1, v.shape[1] // limit)]
    return v.to(torch.float64)


def _unit(ref: ValueStats) -> Tuple[Tensor, Tensor]:
    """The data's per-channel mean and std once its range is mapped onto [0, 1]."""
    width = (ref.high - ref.low).clamp_min(1e-12)
    return (ref.mean - ref.low) / width, ref.std / width


def _bounded(lo: float, hi: float) -> Callable[[ValueStats], Tuple[Tensor, Tensor, Tensor, Tensor]]:
    def predict(ref: ValueStats):
        mu, sd = _unit(ref)
        return lo + (hi - lo) * mu, (hi - lo) * sd, torch.full_like(mu, lo), torch.full_like(mu, hi)
    return predict


def _standardised(ref: ValueStats):
    mu, sd = _unit(ref)
    sd = sd.clamp_min(1e-12)
    return torch.zeros_like(mu), torch.ones_like(mu), -mu / sd, (1 - mu) / sd


#: the value conventions a generator may be on: name -> the statistics it predicts from the data's
CONVENTIONS: Dict[str, Callable[[ValueStats], Tuple[Tensor, Tensor, Tensor, Tensor]]] = {
    **{name: _bounded(a, b) for name, (a, b) in _RANGES.items()},
    "normalised per channel (mean 0, std 1)": _standardised,
}


def _mismatch(v: Tensor, mean: Tensor, std: Tensor, low: Tensor, high: Tensor) -> float:
    """How badly per-channel values ``v`` (C, n) fit predicted statistics: mean offset in stds, log
    std ratio, and 4x the share of values more than 5 % of the width outside the range."""
    sd = std.clamp_min(1e-6)
    m, s = v.mean(1), v.std(1, unbiased=False).clamp_min(1e-6)
    margin = 0.05 * (high - low).clamp_min(1e-12)
    out = ((v < (low - margin)[:, None]) | (v > (high + margin)[:, None])).double().mean(1)
    return float(((m - mean).abs() / sd + (s / sd).log().abs() + 4 * out).mean())


def scale_problem(x: Tensor, ref: ValueStats) -> Optional[str]:
    """Why samples ``x`` are not on the scale of the data ``ref`` describes (``None``: they are)."""
    if x.dim() < 3:  # points have no conventional scale, and a drifting generator may wander far
        return None
    v = _per_channel(x, VALUES_PER_CHANNEL)  # an evenly strided subset keeps the check cheap
    lo, hi = ref.low[:, None], ref.high[:, None]
    width = (hi - lo).clamp_min(1e-12)
    far = ((v < lo - FAR_OUTSIDE * width) | (v > hi + FAR_OUTSIDE * width)).double().mean()
    seen = f"per-channel mean {_fmt(v.mean(1))}, std {_fmt(v.std(1, unbiased=False))}, " \
           f"values in [{float(x.min()):.4g}, {float(x.max()):.4g}]"
    data = f"the real data is {ref.describe()} (per-channel mean {_fmt(ref.mean)}, std {_fmt(ref.std)})"
    # samples on the data's own centre with more spread (noise, a drifting generator) are drift for
    # the metrics to score, not a scale error: no convention moves only the spread upwards
    m, sd = v.mean(1), v.std(1, unbiased=False)
    if float(((m - ref.mean).abs() / ref.std.clamp_min(1e-6)).max()) <= MEAN_OFFSET and bool((sd >= ref.std).all()):
        return None
    own = _mismatch(v, ref.mean, ref.std, ref.low, ref.high)
    fits = {name: _mismatch(v, *p(ref)) for name, p in CONVENTIONS.items() if not _is_own(ref, *p(ref))}
    name, best = min(fits.items(), key=lambda kv: kv[1]) if fits else (None, float("inf"))
    if own > 1.0 and best < own / 3:
        return f"its samples look {name} ({seen}) but {data}"
    if float(far) > FAR_SHARE:
        return f"its samples lie on another scale ({seen}): {data}"
    return None


def _is_own(ref: ValueStats, mean: Tensor, std: Tensor, low: Tensor, high: Tensor) -> bool:
    """Whether a convention's predicted statistics are the data's own (no alternative to it)."""
    width = (ref.high - ref.low).clamp_min(1e-12)
    off = ((mean - ref.mean).abs() + (std - ref.std).abs() + (low - ref.low).abs() + (high - ref.high).abs()) / width
    return float(off.max()) < 0.1


def _fmt(t: Tensor) -> str:
    vals = [f"{float(a):.3g}" for a in t[:3]]
    return vals[0] if len(vals) == 1 else "(" + ", ".join(vals) + (", ..." if len(t) > 3 else "") + ")"


def fix_for(ref: Optional[ValueStats]) -> str:
    """How to bring a generator onto the data's scale."""
    if ref is None:
        return "return the samples in the real data's own value range"
    lo, hi = ref.value_range
    return (f"map its samples into the real data's scale, or build a package generator on it with "
            f"value_range=({lo:.4g}, {hi:.4g}) (DDPMConfig / StyleGAN2Config / GANMemoryConfig)")


def check_output(out, labels: Tensor, *, who: str, reference: Optional[ValueStats] = None,
                 shape: Optional[Sequence[int]] = None) -> Tensor:
    """``out`` as a float32 CPU tensor when it meets the contract for ``labels``, else one
    :class:`GeneratorOutputError` naming ``who`` and the fix. ``reference``: the real data's
    statistics (shape and scale are checked against it); ``shape``: the sample shape, when no
    reference is known."""
    n = len(labels)
    if not isinstance(out, Tensor):
        raise GeneratorOutputError(f"{who} returned a {type(out).__name__} for {n} label(s): a generator must return "
                                   "one tensor of shape (len(labels), *sample_shape) (stack a list with torch.stack)")
    if out.dim() < 2 or out.shape[0] != n:
        raise GeneratorOutputError(f"{who} returned shape {tuple(out.shape)} for {n} label(s): a generator must "
                                   "return exactly one sample per label, in the labels' order")
    if not (out.is_floating_point() or out.dtype in (torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64)):
        raise GeneratorOutputError(f"{who} returned dtype {out.dtype}: samples must be real numbers")
    want = tuple(reference.shape) if reference is not None else (tuple(shape) if shape is not None else None)
    if want is not None and tuple(out.shape[1:]) != want:
        raise GeneratorOutputError(f"{who} returned samples of shape {tuple(out.shape[1:])}, but the real data's "
                                   f"samples are {want}: build the generator for image_shape={want}")
    out = out.detach().float().cpu()
    bad = ~torch.isfinite(out)
    if bool(bad.any()):
        rows = int(bad.flatten(1).any(1).sum())
        raise GeneratorOutputError(f"{who} returned {rows} of {n} sample(s) with NaN or Inf values: the generator "
                                   "has diverged (lower its learning rate, or check its training data for NaN)")
    if reference is not None and n:
        problem = scale_problem(out, reference)
        if problem is not None:
            raise GeneratorOutputError(f"{who}: {problem}; {fix_for(reference)}")
    return out


def probe(generator, labels: Tensor, *, who: str, reference: Optional[ValueStats] = None) -> None:
    """Check the contract on a cheap call ``generator.generate(labels, seed=0)`` before training
    (under a forked RNG). A generator that cannot be asked yet (it raises: e.g. it knows no class
    before its first ``fit``) is left to the check at its first real call."""
    try:
        with torch.random.fork_rng():
            out = generator.generate(labels, seed=0)
    except Exception:  # noqa: BLE001 - an untrained generator may refuse; its real call is checked
        return
    check_output(out, labels, who=who, reference=reference)

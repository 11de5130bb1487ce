"""Checks that run before anything trains. Each one would otherwise fail only after an experience
has trained, and some would fail inside ``strategy.train()``.

- :func:`check_replay_data`: a replay plugin's first experience. The data fits the generator's
  ``value_range`` (else the ``value_range=`` to build it with). A user generator keeps the output
  contract on a two-sample probe. Returns the data's :class:`ValueStats`, the scale every later
  replay set is checked against.
- :func:`check_features`: when the drift metrics are built, the feature extractor's name exists
  and its weights file is there.
- :func:`check_drift_setup`: the drift metrics before their first experience trains. A generator
  can be found; every class of the train stream has enough samples in the reference stream; a
  user generator keeps the output contract on a probe.
"""
from __future__ import annotations

import difflib
import warnings
from typing import Optional

import torch

from ..generators.contract import GeneratorOutputError, ValueStats, check_output, fix_for, probe
from ..metrics.features import EXTRACTOR_KINDS, INCEPTION_WEIGHTS, RESNET50_WEIGHTS
from .task_keys import TaskClassLabels, stream_keys

#: the extractor kinds that need a weights file, and which
WEIGHTS_OF_KIND = {"inception": INCEPTION_WEIGHTS, "resnet50": RESNET50_WEIGHTS}

#: fewer reference samples than this per class make FID/CFID/OTDD mostly small-sample bias
MIN_REFERENCE_PER_CLASS = 10


def _ours(generator) -> bool:
    """Whether the generator is one of the package's (their outputs are validated by their own code)."""
    return type(generator).__module__.startswith("bootdrift_avalanche.generators")


def check_replay_data(plugin, strategy, x: torch.Tensor, labels: torch.Tensor) -> ValueStats:
    """Before a replay plugin's first experience trains: ``x`` (its images) within the generator's
    ``value_range``, and a probe of a user generator on two of ``labels`` (generator labels)."""
    stats = ValueStats.of(x)
    who = f"{type(plugin).__name__} with a {type(plugin.generator).__name__}"
    value_range = getattr(getattr(plugin.generator, "config", None), "value_range", None)
    if value_range is not None and len(x):
        lo, hi = value_range
        tol = 1e-4 * (hi - lo)
        if float(x.min()) < lo - tol or float(x.max()) > hi + tol:
            raise ValueError(
                f"{who}: the training stream's images are {stats.describe()}, outside the generator's "
                f"value_range={tuple(value_range)}, so the generator could not train on them after this experience; "
                f"build it with value_range={tuple(round(v, 4) for v in stats.value_range)} "
                "(the range of the stream's images, normalised or not)")
    if not _ours(plugin.generator) and len(labels):
        probe(plugin.generator, labels[:2], who=f"{who} (probed before training)", reference=stats)
    return stats


def check_drift_setup(computation, strategy) -> None:
    """Before the drift metrics' first experience trains (``before_training_exp``, once): what the
    first evaluation needs that can be known now (see the module docstring)."""
    from .generator_lookup import find_sampler

    sampler = find_sampler(strategy, computation.generator)  # LookupError: says how to pass one
    pool = computation.reference
    train_keys = _train_keys(strategy)
    counts = pool.counts()
    if train_keys is not None:
        for task, cls in train_keys:
            n = (counts.get((task, cls), 0) if pool.repeated
                 else sum(c for (_, cc), c in counts.items() if cc == cls))
            what = f"class {cls} of task {task}" if pool.repeated else f"class {cls}"
            if n == 0:
                raise ValueError(f"drift_metrics: the reference stream has no sample of {what}, which the train "
                                 "stream trains on: pass a reference_stream with every class of the train stream "
                                 "(e.g. benchmark.test_stream of the same benchmark)")
            if n < 2:
                raise ValueError(f"drift_metrics: the reference stream has {n} sample of {what}; FID, CFID and OTDD "
                                 "need at least 2 per class (raising n_per_class cannot help): use a reference "
                                 "stream with more samples of it, e.g. benchmark.train_stream")
            if n < min(MIN_REFERENCE_PER_CLASS, computation.n_per_class):
                warnings.warn(f"drift_metrics: the reference stream has only {n} samples of {what}: its FID/CFID/OTDD "
                              "are dominated by small-sample bias (raising n_per_class cannot help; use a reference "
                              "stream with more samples of it)", RuntimeWarning, stacklevel=2)
    if sampler.plugin is None and not _ours(sampler.generator) and pool.keys():
        key = pool.keys()[0]
        real = pool.samples(key)
        label = TaskClassLabels(pool.keys()).label(*key)
        probe(sampler.generator, torch.full((2,), label, dtype=torch.long),
              who=f"drift_metrics' generator {type(sampler.generator).__name__} (probed before training)",
              reference=ValueStats.of(real))


def check_features(features) -> None:
    """A kind name of the drift metrics' ``features=`` exists, and its weights file, if it needs one."""
    if not isinstance(features, str):
        return
    if features not in EXTRACTOR_KINDS:
        close = difflib.get_close_matches(features, EXTRACTOR_KINDS, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ValueError(f"drift_metrics: unknown features {features!r}{hint}: use one of {sorted(EXTRACTOR_KINDS)} "
                         "or an extractor object (a callable x -> (N, d) features with a `name`)")
    weights = WEIGHTS_OF_KIND.get(features)
    if weights is not None:
        weights.find(None)  # FileNotFoundError: which file, where it looked, how to supply it


def _train_keys(strategy) -> Optional[list]:
    """The (task, class) pairs of the stream being trained, when the strategy knows it yet."""
    exp = getattr(strategy, "experience", None)
    try:
        stream = exp.origin_stream if exp is not None else None
    except (AttributeError, AssertionError, TypeError):
        stream = None
    return stream_keys(stream) if stream is not None else None


__all__ = ["GeneratorOutputError", "ValueStats", "check_drift_setup", "check_features", "check_output",
           "check_replay_data", "fix_for"]

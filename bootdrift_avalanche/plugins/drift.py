"""Drift evaluation for Avalanche: the drift suite (:mod:`bootdrift_avalanche.metrics.suite`) of a
strategy's generator at the end of every training experience, as ``PluginMetric`` s for
``EvaluationPlugin``; :func:`drift_metrics` is the factory a script calls.

It scores what is replayed (guided replays, with the generator alone under ``_unguided``) against a
seeded real reference of the seen classes, at equal n per class, and logs beside each value its
real-vs-real floor, the excess over it and an interval. What is sampled, compared, named and kept
for resuming: ``docs/DRIFT_METRICS.md`` ("How the evaluation works"). The evaluation itself is
``plugins.drift_computation``; the real reference, ``plugins.reference_pool``.
"""
from __future__ import annotations

import re
from dataclasses import replace
from typing import Dict, List, Optional, Sequence, Tuple

from avalanche.evaluation import PluginMetric
from avalanche.evaluation.metric_results import MetricValue

from ..logging import loggable
from ..metrics.otdd_choice import PREFIXES
from ..metrics.qualifiers import HI, LO, base_name, qualified, qualifiers_of
from ..metrics.suite import SuiteConfig
from ..tags import TAG_SUFFIX, tag_for
from .drift_computation import UNGUIDED, DriftComputation


class _DriftMetric(PluginMetric[float]):
    """Emits some of the drift values after each training experience, each as one curve over
    experiences. ``keys`` are the suite's names without the extractor suffix; ``per_extractor``
    says whether the suite adds ``_<extractor>`` to them; their ``_unguided`` variants are emitted
    too. ``result()`` is the value of the first key present (of what is replayed)."""

    keys: Tuple[str, ...] = ()
    per_extractor = True

    def __init__(self, computation: DriftComputation):
        super().__init__()
        self.computation = computation
        self._value: Optional[float] = None

    def reset(self) -> None:
        self._value = None

    def result(self):
        return self._value

    def _names(self) -> Tuple[str, ...]:
        ext = self.computation.feature_name
        return tuple(f"{k}_{ext}" if self.per_extractor else k for k in self.keys)

    def before_training_exp(self, strategy):
        self.computation.check(strategy)

    def after_training_exp(self, strategy):
        _, values = self.computation.result(strategy)
        if values is None:  # an experience the ``every`` setting skips: nothing is logged
            self._value = None
            return []
        names = self._names()
        self._value = next((values.scalars[n] for n in names if n in values.scalars), None)
        x = strategy.clock.train_iterations  # Avalanche's x_plot (GenericPluginMetric), docs/DRIFT_METRICS.md
        # a name is ours when its first path component is, without qualifiers (CFID_clf/Class003 and
        # CFID_clf_unguided_lo/Class003 belong to CFID_clf; metrics.qualifiers)
        return [MetricValue(self, tag_for(name), v, x) for name, v in loggable(values).items()
                if base_name(name).partition("/")[0] in names]

    def __str__(self):
        return self.keys[0]


class FIDMetric(_DriftMetric):
    keys = ("FID", "FIDfixed")


class CFIDMetric(_DriftMetric):
    """Per-class CFID; also writes, once per TensorBoard writer of the evaluator (at the first
    experience: TensorBoard shows one layout per run), the custom-scalars layout that draws the
    classes of each CFID head as one multi-line chart."""

    keys = ("CFID",)

    def __init__(self, computation: DriftComputation):
        super().__init__(computation)
        self._layout_written: set = set()  # ids of the writers that have the layout

    def after_training_exp(self, strategy):
        out = super().after_training_exp(strategy)
        heads = sorted({mv.name.partition("/")[0] for mv in out if "/Class" in mv.name  # values, not floors or bounds
                        and set(qualifiers_of(mv.name)) <= {UNGUIDED}})
        for logger in getattr(getattr(strategy, "evaluator", None), "loggers", ()):
            writer = getattr(logger, "writer", None)  # avalanche.logging.TensorboardLogger's SummaryWriter
            if heads and writer is not None and id(writer) not in self._layout_written:
                _, values = self.computation.result(strategy)
                writer.add_custom_scalars(per_class_layout(heads, values.scalars if values is not None else {}))
                self._layout_written.add(id(writer))
        return out


def per_class_layout(heads: Sequence[str], scalars: Optional[Dict[str, float]] = None) -> dict:
    """TensorBoard custom-scalars layout (``SummaryWriter.add_custom_scalars``): one multi-line
    chart per head (``CFID_clf``, ``CFID_clf_unguided``) with the curve of every class, and one
    margin chart (value between its ``_lo`` and ``_hi``) per value of ``scalars`` that has an
    interval (``FID_clf``, ``FID_clf_excess``...)."""
    layout = {"Drift per class": {head: ["Multiline", [rf"^{re.escape(head + TAG_SUFFIX)}/(Task\d+/)?Class\d+$"]]
                                  for head in heads}}
    margins = {name: ["Margin", [tag_for(name), tag_for(qualified(name, LO)), tag_for(qualified(name, HI))]]
               for name in sorted(scalars or {}) if "/" not in name and qualified(name, LO) in scalars
               and qualified(name, HI) in scalars and not {LO, HI} & set(qualifiers_of(name))}
    if margins:
        layout["Drift with its 95 % interval"] = margins
    return layout


class OTDDMetric(_DriftMetric):
    keys = PREFIXES  # exact OTDD or the large-set variant, whichever the set size chose


class KIDMetric(_DriftMetric):
    keys = ("KID", "CKID")


class RealAccMetric(_DriftMetric):
    keys = ("RealAcc", "RealAccChance")
    per_extractor = False  # accuracy does not depend on the feature extractor


class DriftTimeMetric(_DriftMetric):
    keys = ("DriftTime", "DriftTimeCPU")  # and their parts, DriftTime/<part> (plugins.drift_time)
    per_extractor = False


class DriftSamplesMetric(_DriftMetric):
    keys = ("DriftSamplesPerClass",)
    per_extractor = False


class SamplesGridMetric(_DriftMetric):
    keys = ("Samples",)
    per_extractor = False


class UMAPMetric(_DriftMetric):
    keys = ("UMAP",)


def drift_metrics(
    *,
    reference_stream=None,
    features=None,
    n_per_class: int = 50,
    generator=None,
    feature_stream=None,
    seed: Optional[int] = None,
    device: Optional[str] = None,
    every: int = 1,
    unguided: bool = True,
    feature_cache_dir: Optional[str] = None,
    suite: Optional[SuiteConfig] = None,
) -> List[PluginMetric]:
    """The drift metrics to pass to ``EvaluationPlugin`` (like ``accuracy_metrics(...)``).

    Args:
        reference_stream: stream with the real data of every class (``benchmark.test_stream`` or
            ``benchmark.train_stream``); required.
        features: ``"clf"`` (default for images: a small CNN trained once on ``feature_stream``,
            cached on disk), ``"resnet50"``, ``"inception"`` (pretrained, need their weights
            files), ``"random"`` (frozen random CNN), ``"identity"`` (default for points), or any
            extractor with ``__call__(x) -> (N, d)`` and a ``name``. The name goes into the tags.
        n_per_class: real and synthetic samples per seen class (and, for the classifier
            extractor, training samples per class).
        generator: the generator to score; ``None`` finds it on the strategy (``docs/DRIFT_METRICS.md``).
        feature_stream: the stream whose data trains the classifier extractor, so it is disjoint
            from the reference it scores (e.g. ``benchmark.train_stream`` with the test stream as
            reference). ``None``: the reference stream, i.e. the extractor has then seen the very
            reference images it scores.
        seed: fixes real subsets, generation noise, the extractor and the RealAcc classifier;
            overrides ``suite.seed`` (``None``: the suite's, 0 by default).
        device: where the feature extractor runs and the RealAcc classifier trains; overrides
            ``suite.device`` (``None``: the suite's, the CPU by default).
        every: evaluate after every ``every``-th experience (0, k, 2k, ...) and after the last one
            of the stream; the others log nothing. The cheap setting: ``every=k, unguided=False``
            and ``SuiteConfig(real_accuracy=False)`` (costs: ``docs/DRIFT_COST.md``).
        unguided: when the replay is guided (DDGR with ``guidance_scale != 0``), also log the
            generator alone under the ``_unguided`` names (one more sampling and evaluation per
            experience).
        feature_cache_dir: where the classifier extractor is cached.
        suite: every other knob (which values, OTDD's variant, RealAcc's classifier, floor,
            intervals, ``FIDfixed``...), documented once in
            :class:`~bootdrift_avalanche.metrics.suite.SuiteConfig` (``None``: its defaults).
    """
    suite = suite if suite is not None else SuiteConfig()
    if seed is not None or device is not None:
        suite = replace(suite, **({"seed": seed} if seed is not None else {}),
                        **({"device": device} if device is not None else {}))
    comp = DriftComputation(reference_stream, suite, feature_stream=feature_stream, generator=generator,
                            features=features, n_per_class=n_per_class, feature_cache_dir=feature_cache_dir,
                            unguided=unguided, every=every)
    metrics: List[PluginMetric] = []
    for on, cls in ((suite.fid, FIDMetric), (suite.cfid, CFIDMetric), (suite.otdd, OTDDMetric),
                    (suite.kid, KIDMetric), (suite.real_accuracy, RealAccMetric), (suite.samples, SamplesGridMetric),
                    (suite.umap, UMAPMetric)):
        if on:
            metrics.append(cls(comp))
    metrics += [DriftTimeMetric(comp), DriftSamplesMetric(comp)]
    return metrics

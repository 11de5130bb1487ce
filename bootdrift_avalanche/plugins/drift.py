"""Drift evaluation for Avalanche: the drift suite (:mod:`bootdrift_avalanche.metrics.suite`) of a
strategy's generator at the end of every training experience, as ``PluginMetric`` s for
``EvaluationPlugin``; :func:`drift_metrics` is the factory a script calls.

It scores what is replayed (guided replays, with the generator alone under ``_unguided``) against a
seeded real reference of the seen classes, at equal n per class, and logs beside each value its
real-vs-real floor, the excess over it and an interval. What is sampled, compared, named and kept
for resuming: ``docs/DRIFT_METRICS.md`` ("How the evaluation works").
"""
from __future__ import annotations

import re
import warnings
from contextlib import nullcontext
from dataclasses import replace
from typing import Dict, List, Optional, Sequence, Tuple

import torch
from avalanche.evaluation import PluginMetric
from avalanche.models.utils import is_multi_task_module
from avalanche.evaluation.metric_results import MetricValue
from torch import Tensor

from ..benchmarks.views import eval_view
from ..metrics.features import make_extractor
from ..metrics.floor import RealFloor, floor_names
from ..metrics.intervals import DEFAULT_REPLICATES
from ..metrics.qualifiers import CEILING, FLOOR, HI, LO, base_name, qualified, qualifiers_of
from ..metrics.otdd_choice import DEFAULT_EXACT_MAX, DEFAULT_LARGE, PREFIXES
from ..logging import loggable
from ..metrics.suite import DriftSuite, DriftValues, SuiteConfig
from ..tags import TAG_SUFFIX, tag_for
from ..metrics.umap import UMAPProjection
from ..runtime.seeds import seed_for
from .drift_time import DriftTimer, TimedExtractor
from .generator_lookup import AvalancheGRAdapter, DriftSampler, as_generator, find_sampler
from .preflight import ValueStats, check_drift_setup, check_features, check_output
from .task_keys import (Key, TaskClassLabels, check_stream, labels_from_state, origin_stream, repeats_class_ids,
                        sample_keys, stream_keys)


UNGUIDED = "_unguided"  # head suffix of the values of the generator without guidance
_PER_CLASS = re.compile(r"/Class(\d+)$")  # the per-class part of a suite name, a generator label


class _ClassPool:
    """At most ``n_per_class`` samples per class of a stream (a seeded subset per class, read
    with eval transforms), loaded class by class on first use and kept.

    Entries are indexed by (task, class) (``task_keys``: each sample's ``targets_task_labels``, else
    its experience's task label, else 0). While no class id belongs to two tasks of the stream a
    class is all its samples whatever their task (as a class-incremental stream is read); once one
    does (``class_ids_from_zero_in_each_exp``), a class is its (task, class) pair alone."""

    def __init__(self, stream, *, n_per_class: int, seed: int, stream_name: str, seed_stream: str, offset: int = 0):
        self.experiences = list(stream)
        self.n_per_class, self.seed, self.offset = n_per_class, seed, offset  # offset: skip that many of the subset
        self.stream_name, self.seed_stream = stream_name, seed_stream
        self._index: Optional[Dict[Key, List[Tuple[int, int]]]] = None
        self._x: Dict[Key, Tensor] = {}

    def _class_index(self) -> Dict[Key, List[Tuple[int, int]]]:
        if self._index is None:
            self._index = {}
            for e, exp in enumerate(self.experiences):
                for pos, key in enumerate(sample_keys(exp)):
                    self._index.setdefault(key, []).append((e, pos))
        return self._index

    @property
    def repeated(self) -> bool:
        """Whether a class id of the stream belongs to two tasks."""
        return repeats_class_ids(self._class_index())

    def keys(self) -> List[Key]:
        """The (task, class) pairs of the stream in the order of their first sample."""
        return sorted(self._class_index(), key=lambda k: self._class_index()[k][0])

    def samples(self, key: Key) -> Tensor:
        if key not in self._x:
            t, c = key
            index = self._class_index()
            what = f"class {c} of task {t}" if self.repeated else f"class {c}"
            if self.repeated:
                entries = index.get(key, [])
                g = torch.Generator().manual_seed(seed_for(self.seed_stream, seed=self.seed, task=t, cls=c))
            else:  # the class's samples of every task, in stream order
                entries = sorted(e for (_, cc), es in index.items() if cc == c for e in es)
                g = torch.Generator().manual_seed(seed_for(self.seed_stream, seed=self.seed, cls=c))
            if self.offset:  # the next n_per_class of the same seeded order (the floor's second set)
                pick = torch.randperm(len(entries), generator=g)[self.offset: self.offset + self.n_per_class].tolist()
            elif len(entries) < 2:
                raise ValueError(
                    f"{what} has {len(entries)} real sample(s) in {self.stream_name}; the drift "
                    "metrics need at least 2 per seen class"
                )
            if not self.offset and len(entries) < self.n_per_class:
                warnings.warn(f"{what} has {len(entries)} real samples in {self.stream_name}, fewer than "
                              f"n_per_class={self.n_per_class}: the drift metrics use {len(entries)} "
                              "(logged as DriftSamplesPerClass)", RuntimeWarning, stacklevel=2)
            if not self.offset:
                pick = torch.randperm(len(entries), generator=g)[: self.n_per_class].tolist()
            views = {}
            xs = []
            for i in sorted(pick):
                e, pos = entries[i]
                if e not in views:
                    views[e] = eval_view(self.experiences[e].dataset)  # no augmentation
                xs.append(torch.as_tensor(views[e][pos][0]))
            self._x[key] = torch.stack(xs).float() if xs else torch.zeros(0)
        return self._x[key]

    def labelled(self, keys: Sequence[Key], labels: Sequence[int]) -> Tuple[Tensor, Tensor]:
        """The samples of ``keys`` with ``labels`` (one per key) as their labels."""
        xs = [self.samples(k) for k in keys]
        y = torch.cat([torch.full((len(x),), int(g), dtype=torch.long) for g, x in zip(labels, xs)])
        return torch.cat(xs), y


class DriftComputation:
    """Samples the generator and runs the drift suite once per experience; the PluginMetrics of
    one :func:`drift_metrics` call share it and each emits its part of the values.

    Args:
        reference_stream: real data the synthetic samples are compared with.
        suite: what the suite computes (:class:`~bootdrift_avalanche.metrics.suite.SuiteConfig`).
        feature_stream: real data the classifier feature extractor is trained on (``None``: the
            reference stream).
        generator: the generator to score (``None``: found on the strategy).
        features: kind or extractor, see :func:`~bootdrift_avalanche.metrics.features.make_extractor`.
        n_per_class: real (and synthetic) samples per seen class.
        gen_batch_size: labels per sampling call.
        feature_cache_dir: where the classifier extractor is cached.
        unguided: also score the generator without guidance when the replay is guided (the
            ``_unguided`` names, see the module docstring).
        floor: also log the real-vs-real floor of every value and the excess over it
            (:mod:`~bootdrift_avalanche.metrics.floor`; the second real set is the feature stream's
            next ``n_per_class`` images per class after those the extractor trained on, or without a
            feature stream the reference stream's after the reference's).
        fixed_n: also log ``FIDfixed_<ext>``, FID at the total n of the first evaluation (spread
            evenly over the seen classes) at every experience (``SuiteConfig.fid_fixed_n``; kept
            in ``state_dict`` so a resumed run keeps it).
    """

    def __init__(self, reference_stream, suite: SuiteConfig, *, feature_stream=None, generator=None,
                 features=None, n_per_class: int = 50, gen_batch_size: int = 256,
                 feature_cache_dir: Optional[str] = None, unguided: bool = True, every: int = 1,
                 real_accuracy_every: int = 1, floor: bool = True, fixed_n: bool = True):
        if every < 1:
            raise ValueError(f"every must be >= 1 (evaluate every k-th experience), got {every}")
        if real_accuracy_every < 1:
            raise ValueError("real_accuracy_every must be >= 1 (RealAcc every k-th experience), "
                             f"got {real_accuracy_every}")
        if reference_stream is None:
            raise ValueError(
                "drift_metrics needs reference_stream=: the stream with the real data to compare "
                "against, e.g. benchmark.test_stream (or benchmark.train_stream)"
            )
        if n_per_class < 2:
            raise ValueError(f"n_per_class must be >= 2 (FID needs two samples per class), got {n_per_class}")
        if gen_batch_size < 1:
            raise ValueError(f"gen_batch_size must be >= 1, got {gen_batch_size}")
        self.cfg = suite
        self.generator = as_generator(generator)  # a wrong generator fails here, not after training
        check_features(features)  # an unknown name or a missing weights file fails here too
        self.features = features
        self.n_per_class = n_per_class
        self.gen_batch_size = gen_batch_size
        self.feature_cache_dir = feature_cache_dir
        self.unguided = unguided
        self.every = every
        self.real_accuracy_every = real_accuracy_every
        self._timer: Optional[DriftTimer] = None  # of the evaluation in progress
        self.fixed_n = fixed_n
        self.labels = TaskClassLabels()  # grown from the training experiences, as the replay plugins' labels
        self._reference = _ClassPool(reference_stream, n_per_class=n_per_class, seed=suite.seed,
                                     stream_name="the reference stream", seed_stream="drift.reference")
        self._feature_stream = feature_stream
        self._suite: Optional[DriftSuite] = None
        self._real_f: Dict[Key, Tensor] = {}
        self._checked = False
        self._umap: Optional[UMAPProjection] = None
        self._last: Optional[Tuple[int, DriftValues]] = None
        self._floor: Optional[RealFloor] = None
        if floor:
            own = feature_stream is None or feature_stream is reference_stream
            pool = _ClassPool(reference_stream if own else feature_stream, n_per_class=n_per_class, seed=suite.seed,
                              stream_name="", seed_stream="drift.reference" if own else "drift.feature_data",
                              offset=n_per_class)
            self._floor = RealFloor(pool.samples, source="the reference stream" if own else "the feature stream")

    # ---- resuming ----------------------------------------------------------------------------
    @property
    def seen(self) -> List[int]:
        """The labels of the (task, class) pairs seen so far, sorted (class ids in a
        class-incremental stream)."""
        return self.labels.labels()

    def state_dict(self) -> dict:
        """What a resumed run needs: the (task, class) pairs seen so far and the UMAP map (``None``
        before the first UMAP figure); the rest is rebuilt from the seed."""
        return {"labels": self.labels.state_dict(), "umap": self._umap, "fid_fixed_n": self.cfg.fid_fixed_n}

    def load_state_dict(self, state: dict) -> None:
        """Restore :meth:`state_dict` (before the first experience after a resume). A state without
        a UMAP map fits a new one at the next UMAP figure; one with plain class ids (``"seen"``)
        reads them as the classes of task 0 (``task_keys.labels_from_state``)."""
        self.labels = labels_from_state(state, "seen")
        self._umap = state.get("umap")
        if state.get("fid_fixed_n"):
            self._fix_n(state["fid_fixed_n"])
        self._last = None

    def _fix_n(self, n: int) -> None:
        """Set the total n of ``FIDfixed`` (the real samples of the first evaluation)."""
        self.cfg = replace(self.cfg, fid_fixed_n=n)
        if self._suite is not None:
            self._suite.cfg = self.cfg

    # ---- feature space -----------------------------------------------------------------------
    @property
    def suite(self) -> DriftSuite:
        """The drift suite on the feature extractor, built (and the extractor trained) on first use."""
        if self._suite is None:
            with self._timer.part("extractor") if self._timer is not None else nullcontext():
                self._build_suite()
        return self._suite

    def _build_suite(self) -> None:
        """Train or build the extractor; its calls count as the ``features`` part of DriftTime."""
        if self._suite is None:
            x_fit = y_fit = None
            if self.features is None or isinstance(self.features, str):  # a kind: may need fit data
                pool = self._reference
                if self._feature_stream is not None:
                    pool = _ClassPool(self._feature_stream, n_per_class=self.n_per_class, seed=self.cfg.seed,
                                      stream_name="the feature stream", seed_stream="drift.feature_data")
                labels = TaskClassLabels(pool.keys())
                keys = sorted(labels.keys(), key=lambda k: labels.label(*k))
                x_fit, y_fit = pool.labelled(keys, [labels.label(*k) for k in keys])
            extractor = make_extractor(self.features, x_fit, y_fit, cache_dir=self.feature_cache_dir,
                                       seed=seed_for("drift.features", seed=self.cfg.seed), device=self.cfg.device)
            self._suite = DriftSuite(TimedExtractor(extractor, lambda: self._timer), self.cfg)

    def prepare(self) -> "DriftComputation":
        """Build the feature extractor now instead of at the first evaluation, so that a missing
        weights file or an unknown kind fails before any training; torch's RNG is left as it was
        (a user's extractor may draw from it)."""
        with torch.random.fork_rng():
            _ = self.suite
        return self

    @property
    def feature_name(self) -> str:
        """The extractor's name in the metric names (``clf``, ``resnet50``, ``inception``, ``random``,
        ``identity``)."""
        return self.suite.feature_name

    def _real_features(self, key: Key) -> Tensor:
        if key not in self._real_f:
            self._real_f[key] = self.suite.real_features(self._reference.samples(key))  # sharded under torchrun
        return self._real_f[key]

    def _projection(self) -> UMAPProjection:
        """The run's UMAP map of the real features of every reference class (made at the first
        evaluation, fitted when the suite draws its first figure: after the samples are checked)."""
        if self._umap is None:
            # the labels of the pairs not trained yet: as the stream will give them, in its order
            every = self.labels.copy().add(self._reference.keys())
            keys = sorted(every.keys(), key=lambda k: every.label(*k))
            feats = [self._real_features(k) for k in keys]
            labels = torch.cat([torch.full((len(f),), every.label(*k), dtype=torch.long) for k, f in zip(keys, feats)])
            self._umap = UMAPProjection(torch.cat(feats), labels, seed=self.cfg.seed)
        return self._umap

    # ---- per experience ----------------------------------------------------------------------
    def check(self, strategy) -> None:
        """Before the first experience trains (``before_training_exp``), once: on a task-incremental
        stream (class ids repeated across tasks, or a multi-head model) refuse a generator that
        cannot be asked for a (task, class) pair: Avalanche's ``GenerativeReplay`` (an unconditional
        VAE whose samples the solver labels), and one built for fewer labels than the stream's pairs."""
        if self._checked:
            return
        self._checked = True
        check_drift_setup(self, strategy)  # generator, reference classes, a probe: plugins/preflight.py
        if not (self._reference.repeated or is_multi_task_module(getattr(strategy, "model", None))):
            return
        sampler = find_sampler(strategy, self.generator)
        if isinstance(sampler.generator, AvalancheGRAdapter):
            raise ValueError(
                "drift_metrics cannot score Avalanche's GenerativeReplay on a task-incremental stream (class ids "
                "repeated across tasks, or a multi-head model): its VAE is unconditional and its samples are labelled "
                "by the solver's prediction, which names a class but not its task. Use DDGRPlugin or GANMemoryPlugin "
                "(they key on (task, class)), or pass drift_metrics(generator=...) taking the labels of "
                "bootdrift_avalanche.plugins.task_keys.TaskClassLabels")
        stream = origin_stream(strategy.experience)
        if stream is not None:
            check_stream(stream_keys(stream), sampler.generator, who="drift_metrics")

    def _due(self, strategy, step: int, every: Optional[int] = None) -> bool:
        """Whether experience ``step`` is evaluated: every ``every``-th one from the first, and the
        last of its stream (when the experience knows its stream) so a run always ends measured.
        (``every``: ``self.every`` unless given; RealAcc's schedule passes its own.)"""
        every = self.every if every is None else every
        stream = origin_stream(strategy.experience)
        try:
            last = stream is not None and step == len(stream) - 1
        except TypeError:  # a stream without a length (lazy): only the modulo rule
            last = False
        return step % every == 0 or last

    def result(self, strategy) -> Tuple[int, Optional[DriftValues]]:
        """``(step, values)`` after the current training experience (computed once per step);
        ``values`` is ``None`` for an experience that ``every`` skips."""
        step = int(strategy.clock.train_exp_counter)
        if self._last is not None and self._last[0] == step:
            return self._last
        self.labels.add_experience(strategy.experience)  # seen classes count on skipped experiences too
        if not self._due(strategy, step):
            self._last = (step, None)
            return self._last
        seen = sorted(self.seen)
        # The evaluation runs in the middle of training and must not change it: whatever a user
        # generator or extractor draws from torch's global RNG is drawn from a fork. (A resumed run
        # builds the extractor at another step than an uninterrupted one.)
        # DriftTime: the whole evaluation, by part (plugins.drift_time)
        timer = self._timer = DriftTimer()
        real_acc = self.cfg.real_accuracy and self._due(strategy, step, self.real_accuracy_every)
        with timer.total(), torch.random.fork_rng():
            sampler = find_sampler(strategy, self.generator)
            keys = [self.labels.key(g) for g in seen]
            with timer.part("reference"):
                real_x, real_y = self._reference.labelled(keys, seen)
            with timer.part("sampling"):  # the output contract is checked before any metric sees it
                syn_x = check_output(self._sample(strategy, sampler, real_y), real_y, who=repr(sampler),
                                     reference=ValueStats.of(real_x))
            if self.fixed_n and not self.cfg.fid_fixed_n:  # FIDfixed: the n of the first evaluation, for the run
                self._fix_n(len(real_y))
            suite = self.suite
            real_f = torch.cat([self._real_features(k) for k in keys]) if suite.needs_features else None
            title = f"after experience {step}"
            names = ({g: f"t{t} c{c}" for g, (t, c) in zip(seen, keys)} if self._reference.repeated else None)
            values = self._evaluate(self.cfg, real_acc, real_x, real_y, syn_x, real_f, title=title,
                                    umap_projection=self._projection() if self.cfg.umap else None,
                                    class_names=names)
            floor = {}
            if self._floor is not None:  # the ceiling of RealAcc follows RealAcc's schedule
                with timer.part("floor"):
                    floor = self._floor.values(
                        DriftSuite(suite.extractor, replace(self.cfg, real_accuracy=real_acc)), keys, seen, real_x,
                        real_y, real_f, names={k: names[g] for g, k in zip(seen, keys)} if names else None)
            values.scalars.update(floor_names(values.scalars, floor))
            if self.unguided and sampler.guided:
                values.scalars.update(self._unguided_scalars(strategy, sampler, real_x, real_y, real_f, title,
                                                             real_acc, floor))
        self._timer = None
        values.scalars.update(timer.scalars())
        if self._reference.repeated:  # CFID_clf/Class002 is the pair (1, 0): CFID_clf/Task001/Class000
            values.scalars = {_PER_CLASS.sub(lambda m: "/" + self.labels.name(int(m.group(1)), with_task=True), k): v
                              for k, v in values.scalars.items()}
        self._last = (step, values)
        return self._last

    def _evaluate(self, cfg: SuiteConfig, real_acc: bool, real_x: Tensor, real_y: Tensor, syn_x: Tensor,
                  real_f: Optional[Tensor], **kw) -> DriftValues:
        """The suite's values under ``cfg``, timed as the ``metrics`` part, with RealAcc (when
        ``real_acc``: its schedule) computed apart as the ``real_acc`` part."""
        with self._timer.part("metrics"):
            values = DriftSuite(self.suite.extractor, replace(cfg, real_accuracy=False)).evaluate(
                real_x, real_y, syn_x, real_y, real_features=real_f, **kw)
        if real_acc:
            only = replace(cfg, fid=False, cfid=False, otdd=False, kid=False, samples=False, umap=False)
            with self._timer.part("real_acc"):
                acc = DriftSuite(self.suite.extractor, only).evaluate(real_x, real_y, syn_x, real_y, title=kw["title"])
            values.scalars.update({k: v for k, v in acc.scalars.items()
                                   if base_name(k) in ("RealAcc", "RealAccChance")})
        return values

    def _unguided_scalars(self, strategy, sampler: DriftSampler, real_x: Tensor, real_y: Tensor,
                          real_f: Optional[Tensor], title: str, real_acc: bool,
                          floor: Dict[str, float]) -> Dict[str, float]:
        """The scalar values of the generator without guidance (same labels, seeds, reference and
        features as the replay), under the ``_unguided`` names."""
        cfg = replace(self.cfg, samples=False, umap=False)  # pictures of it would double the report
        if not (cfg.fid or cfg.cfid or cfg.otdd or cfg.kid or real_acc):
            return {}
        with self._timer.part("sampling"):
            plain_x = self._sample(strategy, sampler.unguided(), real_y)
        plain = self._evaluate(cfg, real_acc, real_x, real_y, plain_x, real_f, title=f"{title}, unguided")
        scalars = {**plain.scalars, **floor_names(plain.scalars, floor)}
        # RealAccChance and the floors equal the replay's (the same labels and reference); DriftTime
        # stays the replay's evaluation time
        return {qualified(name, UNGUIDED): v for name, v in scalars.items()
                if base_name(name) not in ("DriftTime", "RealAccChance", "DriftSamplesPerClass")
                and not {FLOOR, CEILING} & set(qualifiers_of(name))}

    def _sample(self, strategy, sampler: DriftSampler, labels: Tensor) -> Tensor:
        out = []
        for c in torch.unique(labels).tolist():  # one seed per class: unchanged generator, same samples
            lab = labels[labels == c]
            for i, chunk in enumerate(lab.split(self.gen_batch_size)):
                out.append(sampler.sample(strategy, chunk, seed=seed_for("drift.samples", seed=self.cfg.seed,
                                                                          cls=c, chunk=i)))
        return torch.cat(out)


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
        x = strategy.clock.train_iterations  # Avalanche's x_plot (GenericPluginMetric): see the module doc
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
    fid: bool = True,
    cfid: bool = True,
    otdd: bool = True,
    real_accuracy: bool = True,
    umap: bool = False,
    samples: bool = True,
    n_per_class: int = 50,
    features=None,
    generator=None,
    otdd_max_samples: Optional[int] = None,
    otdd_exact_max: Optional[int] = DEFAULT_EXACT_MAX,
    otdd_large: str = DEFAULT_LARGE,
    otdd_inner: str = "gaussian",
    real_acc_epochs: int = 30,
    real_acc_classifier: str = "small",
    seed: int = 0,
    feature_cache_dir: Optional[str] = None,
    feature_stream=None,
    unguided: bool = True,
    device: Optional[str] = None,
    every: int = 1,
    real_accuracy_every: int = 1,
    kid: bool = True,
    floor: bool = True,
    intervals: int = DEFAULT_REPLICATES,
    confidence: float = 0.95,
    fixed_n: bool = True,
) -> List[PluginMetric]:
    """The drift metrics to pass to ``EvaluationPlugin`` (like ``accuracy_metrics(...)``).

    Args:
        reference_stream: stream with the real data of every class (``benchmark.test_stream`` or
            ``benchmark.train_stream``); required.
        fid, cfid, otdd, real_accuracy, umap, samples: which values to emit (``DriftTime`` always;
            UMAP is off unless asked for: its first fit costs ~12 CPU s, see ``every``).
        n_per_class: real and synthetic samples per seen class (and, for the classifier
            extractor, training samples per class).
        features: ``"clf"`` (default for images: a small CNN trained once on ``feature_stream``,
            cached on disk), ``"resnet50"``, ``"inception"`` (pretrained, need their weights
            files), ``"random"`` (frozen random CNN), ``"identity"`` (default for points), or any
            extractor with ``__call__(x) -> (N, d)`` and a ``name``. The name goes into the tags.
        generator: the generator to score; ``None`` finds it on the strategy (see the module doc).
        otdd_max_samples, otdd_exact_max, otdd_large, otdd_inner: OTDD's subsample size, the set
            size up to which it is exact, the variant above (logged under its own name, e.g.
            ``OTDDhier_clf``), and the label cost (see ``SuiteConfig``).
        real_acc_epochs: epochs of the fresh classifier behind ``RealAcc``.
        real_acc_classifier: its architecture (a name of ``nets.CLASSIFIERS``: ``"small"``,
            ``"slim-resnet18"``, ``"resnet18"``).
        seed: fixes real subsets, generation noise, the extractor and the RealAcc classifier.
        feature_cache_dir: where the classifier extractor is cached.
        feature_stream: the stream whose data trains the classifier extractor, so it is disjoint
            from the reference it scores (e.g. ``benchmark.train_stream`` with the test stream as
            reference). ``None``: the reference stream, i.e. the extractor has then seen the very
            reference images it scores.
        unguided: when the replay is guided (DDGR with ``guidance_scale != 0``), also log the
            generator alone under the ``_unguided`` names (one more sampling and evaluation per
            experience; see the module docstring).
        device: where the feature extractor runs and the RealAcc classifier trains (``None``: CPU).
        every: evaluate after every ``every``-th experience (0, k, 2k, ...) and after the last one
            of the stream; the others log nothing. What costs what (``bench/drift_cost.py``,
            ``docs/DRIFT_COST.md``; DDGR on Split Digits at the tiny preset, CPU s per experience):
            sampling what is replayed ~1.0 and the generator alone (``_unguided``) ~0.7, RealAcc's
            fresh classifier ~0.6, FID/CFID/OTDD a few hundredths each, UMAP ~0.2 after a first
            fit of ~12 s (numba's compilation, once per process; hence ``umap=False`` by default).
            The cheap setting: ``real_accuracy=False, unguided=False, every=k``.
        real_accuracy_every: RealAcc (a classifier trained from scratch, the dearest part at many
            classes) only at every ``real_accuracy_every``-th evaluated experience and the last;
            fewer ``real_acc_epochs`` bias it down instead (``docs/DRIFT_SCALE.md``). What each
            evaluation cost is logged as ``DriftTime`` / ``DriftTimeCPU`` and their parts
            (``plugins.drift_time``).
        kid: log KID and per-class KID (``KID_<ext>``, ``CKID_<ext>``: unbiased, no floor needed).
        floor: log beside every value its real-vs-real floor and the excess over it
            (``FID_clf_floor``, ``FID_clf_excess``, ``CFID_clf_floor/Class003``, ``RealAcc_ceiling``;
            see :mod:`~bootdrift_avalanche.metrics.floor`): the value a perfect generator gets at
            this n, classes and extractor. Costs one more RealAcc classifier per experience.
        intervals, confidence: bootstrap replicates of the ``_lo``/``_hi`` interval logged beside
            every value (0: none), and its level (:mod:`~bootdrift_avalanche.metrics.intervals`).
        fixed_n: also log ``FIDfixed_<ext>``: FID at the first evaluation's total n at every
            experience, spread evenly over the seen classes, so adding classes does not move its bias.
    """
    suite = SuiteConfig(fid=fid, cfid=cfid, otdd=otdd, real_accuracy=real_accuracy, samples=samples, umap=umap,
                        otdd_max_samples=otdd_max_samples, otdd_exact_max=otdd_exact_max, otdd_large=otdd_large,
                        otdd_inner=otdd_inner, real_acc_epochs=real_acc_epochs,
                        real_acc_classifier=real_acc_classifier, seed=seed, device=device, kid=kid,
                        intervals=intervals, confidence=confidence)
    comp = DriftComputation(reference_stream, suite, feature_stream=feature_stream, generator=generator,
                            features=features, n_per_class=n_per_class, feature_cache_dir=feature_cache_dir,
                            unguided=unguided, every=every, real_accuracy_every=real_accuracy_every,
                            floor=floor, fixed_n=fixed_n)
    metrics: List[PluginMetric] = []
    for on, cls in ((fid, FIDMetric), (cfid, CFIDMetric), (otdd, OTDDMetric), (kid, KIDMetric),
                    (real_accuracy, RealAccMetric), (samples, SamplesGridMetric), (umap, UMAPMetric)):
        if on:
            metrics.append(cls(comp))
    metrics += [DriftTimeMetric(comp), DriftSamplesMetric(comp)]
    return metrics

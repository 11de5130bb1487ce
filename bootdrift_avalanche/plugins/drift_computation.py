"""One drift evaluation per training experience, shared by every drift metric of a run: the
reference pool, the generator's samples, the features, the suite's values with their floors and
intervals, and its timing (``docs/DRIFT_METRICS.md``, "How the evaluation works")."""
from __future__ import annotations

import re
from contextlib import nullcontext
from dataclasses import replace
from typing import Dict, List, Optional, Tuple

import torch
from avalanche.models.utils import is_multi_task_module
from torch import Tensor

from ..metrics.features import make_extractor
from ..metrics.floor import RealFloor, floor_names
from ..metrics.qualifiers import CEILING, FLOOR, base_name, qualified, qualifiers_of
from ..metrics.suite import DriftSuite, DriftValues, SuiteConfig
from ..metrics.umap import UMAPProjection
from ..runtime.seeds import seed_for
from .drift_time import DriftTimer, TimedExtractor
from .generator_lookup import AvalancheGRAdapter, DriftSampler, as_generator, find_sampler
from .preflight import ValueStats, check_drift_setup, check_features, check_output
from .reference_pool import ReferencePool
from .task_keys import Key, TaskClassLabels, check_stream, labels_from_state, origin_stream, stream_keys

UNGUIDED = "_unguided"  # head suffix of the values of the generator without guidance
_PER_CLASS = re.compile(r"/Class(\d+)$")  # the per-class part of a suite name, a generator label


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
        every: evaluate after every ``every``-th experience and after the last one of the stream.

        The floor (``suite.floor``: its second real set is the feature stream's next
        ``n_per_class`` images per class after those the extractor trained on, or without a feature
        stream the reference stream's after the reference's), ``FIDfixed`` (``suite.fixed_n``: the
        total n of the first evaluation, kept in ``state_dict`` so a resumed run keeps it) and
        ``suite.real_accuracy_every`` are read from ``suite``.
    """

    def __init__(self, reference_stream, suite: SuiteConfig, *, feature_stream=None, generator=None,
                 features=None, n_per_class: int = 50, gen_batch_size: int = 256,
                 feature_cache_dir: Optional[str] = None, unguided: bool = True, every: int = 1):
        if every < 1:
            raise ValueError(f"every must be >= 1 (evaluate every k-th experience), got {every}")
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
        self.real_accuracy_every = suite.real_accuracy_every
        self._timer: Optional[DriftTimer] = None  # of the evaluation in progress
        self.fixed_n = suite.fixed_n
        self.labels = TaskClassLabels()  # grown from the training experiences, as the replay plugins' labels
        self._reference = ReferencePool(reference_stream, n_per_class=n_per_class, seed=suite.seed,
                                     stream_name="the reference stream", seed_stream="drift.reference")
        self._feature_stream = feature_stream
        self._suite: Optional[DriftSuite] = None
        self._real_f: Dict[Key, Tensor] = {}
        self._checked = False
        self._umap: Optional[UMAPProjection] = None
        self._last: Optional[Tuple[int, DriftValues]] = None
        self._floor: Optional[RealFloor] = None
        if suite.floor:
            own = feature_stream is None or feature_stream is reference_stream
            pool = ReferencePool(reference_stream if own else feature_stream, n_per_class=n_per_class, seed=suite.seed,
                              stream_name="", seed_stream="drift.reference" if own else "drift.feature_data",
                              offset=n_per_class)
            self._floor = RealFloor(pool.samples, source="the reference stream" if own else "the feature stream")

    # ---- resuming ----------------------------------------------------------------------------
    @property
    def seen(self) -> List[int]:
        """The labels of the (task, class) pairs seen so far, sorted (class ids in a
        class-incremental stream)."""
        return self.labels.labels()

    @property
    def reference(self) -> ReferencePool:
        """The real reference samples per class (read lazily)."""
        return self._reference

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
                    pool = ReferencePool(self._feature_stream, n_per_class=self.n_per_class, seed=self.cfg.seed,
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

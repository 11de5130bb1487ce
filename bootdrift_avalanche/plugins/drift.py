"""Drift evaluation for Avalanche: the drift suite (:mod:`bootdrift_avalanche.metrics.suite`: FID,
CFID, OTDD, real-data accuracy, sample pictures, UMAP) of a strategy's generator, at the end of
every training experience, as ``PluginMetric`` s for ``EvaluationPlugin``.

Usage (the lines a user adds to an existing Avalanche script)::

    from bootdrift_avalanche.plugins import drift_metrics
    evaluator = EvaluationPlugin(accuracy_metrics(experience=True),
                                 *drift_metrics(reference_stream=benchmark.test_stream,
                                                feature_stream=benchmark.train_stream),
                                 loggers=[TensorboardLogger("runs/x")])
    strategy = GenerativeReplay(model, optimizer, criterion, evaluator=evaluator, ...)

**What is sampled** (see ``plugins.generator_lookup.find_sampler``): ``drift_metrics(generator=...)``
if given; otherwise one of our replay plugins (DDGR, GAN Memory) on the strategy, through its
``replay_samples``, so the drift measured is that of what is actually replayed (DDGR: guided by a
frozen copy of the solver); otherwise ``strategy.generator``; otherwise the generator of Avalanche's
``GenerativeReplayPlugin``. That one is unconditional, so its samples are labelled by the solver
(pseudo-labels: per-class metrics then measure "samples the solver calls class c"). No generator: a
``LookupError`` that says how to pass one.

**What is compared**: at the end of training experience k, the classes seen in experiences 0..k;
real samples of those classes come from ``reference_stream``, at most ``n_per_class`` per class (a
seeded subset, fixed for the run). The generator is asked for exactly as many samples of each class
as there are real ones, so CFID compares equal n per class; each class is generated with its own
seed, which does not depend on the experience, so a generator that did not change gives the same
samples (and values) for its classes at every step. Features of the real reference are computed
once per class and kept (features and at most ``n_per_class`` samples per class, never a stream).

**Feature space**: ``features="classifier"`` (default for images) trains a small CNN on
``feature_stream`` (at most ``n_per_class`` samples of every class, cached on disk); pass the train
stream while the reference is the test stream, so the extractor never saw the images it scores.
Without ``feature_stream`` it is trained on the reference stream itself. See
:func:`~bootdrift_avalanche.metrics.features.make_extractor`.

**Names and steps**: each scalar is one TensorBoard curve over experiences: the tag is the suite's
name with ``/train_phase/train_stream`` (``FID_clf/train_phase/train_stream``,
``CFID_clf/train_phase/train_stream/Class003``, ``RealAcc/...``, ``DriftTime/...``, ``Samples/...``,
``UMAP_clf/...``) and the step (``x_plot``) is the experience index, instead of Avalanche's
per-experience ``.../Exp003`` tags that would give one-point curves. Values are plain floats.

**Resuming**: ``metric.computation.state_dict()`` / ``load_state_dict()`` carry the seen classes;
everything else is rebuilt from the streams and the seed.
"""
from __future__ import annotations

from typing import Dict, List, Optional, Sequence, Tuple

import torch
from avalanche.evaluation import PluginMetric
from avalanche.evaluation.metric_results import MetricValue
from torch import Tensor

from ..benchmarks.views import eval_view
from ..metrics.features import extract_features, make_extractor
from ..metrics.suite import DriftSuite, DriftValues, SuiteConfig, loggable, tag_for
from ..runtime.seeds import seed_for
from .generator_lookup import find_sampler
from .replay import experience_classes


class _ClassPool:
    """At most ``n_per_class`` samples per class of a stream (a seeded subset per class, read
    with eval transforms), loaded class by class on first use and kept."""

    def __init__(self, stream, *, n_per_class: int, seed: int, stream_name: str, seed_stream: str):
        self.experiences = list(stream)
        self.n_per_class, self.seed = n_per_class, seed
        self.stream_name, self.seed_stream = stream_name, seed_stream
        self._index: Optional[Dict[int, List[Tuple[int, int]]]] = None
        self._x: Dict[int, Tensor] = {}

    def classes(self) -> List[int]:
        return sorted(self._class_index())

    def _class_index(self) -> Dict[int, List[Tuple[int, int]]]:
        if self._index is None:
            self._index = {}
            for e, exp in enumerate(self.experiences):
                for pos, t in enumerate(exp.dataset.targets):
                    self._index.setdefault(int(t), []).append((e, pos))
        return self._index

    def samples(self, c: int) -> Tensor:
        if c not in self._x:
            entries = self._class_index().get(c, [])
            if len(entries) < 2:
                raise ValueError(
                    f"class {c} has {len(entries)} real sample(s) in {self.stream_name}; the drift "
                    "metrics need at least 2 per seen class"
                )
            g = torch.Generator().manual_seed(seed_for(self.seed_stream, seed=self.seed, cls=c))
            pick = torch.randperm(len(entries), generator=g)[: self.n_per_class].tolist()
            views = {}
            xs = []
            for i in sorted(pick):
                e, pos = entries[i]
                if e not in views:
                    views[e] = eval_view(self.experiences[e].dataset)  # no augmentation
                xs.append(torch.as_tensor(views[e][pos][0]))
            self._x[c] = torch.stack(xs).float()
        return self._x[c]

    def labelled(self, classes: Sequence[int]) -> Tuple[Tensor, Tensor]:
        xs = [self.samples(c) for c in classes]
        y = torch.cat([torch.full((len(x),), c, dtype=torch.long) for c, x in zip(classes, xs)])
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
    """

    def __init__(self, reference_stream, suite: SuiteConfig, *, feature_stream=None, generator=None,
                 features=None, n_per_class: int = 50, gen_batch_size: int = 256,
                 feature_cache_dir: Optional[str] = None):
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
        self.generator = generator
        self.features = features
        self.n_per_class = n_per_class
        self.gen_batch_size = gen_batch_size
        self.feature_cache_dir = feature_cache_dir
        self.seen: List[int] = []
        self._reference = _ClassPool(reference_stream, n_per_class=n_per_class, seed=suite.seed,
                                     stream_name="the reference stream", seed_stream="drift.reference")
        self._feature_stream = feature_stream
        self._suite: Optional[DriftSuite] = None
        self._real_f: Dict[int, Tensor] = {}
        self._last: Optional[Tuple[int, DriftValues]] = None

    # ---- resuming ----------------------------------------------------------------------------
    def state_dict(self) -> dict:
        """What a resumed run needs: the classes seen so far (the rest is rebuilt from the seed)."""
        return {"seen": list(self.seen)}

    def load_state_dict(self, state: dict) -> None:
        """Restore :meth:`state_dict` (before the first experience after a resume)."""
        self.seen = [int(c) for c in state["seen"]]
        self._last = None

    # ---- feature space -----------------------------------------------------------------------
    @property
    def suite(self) -> DriftSuite:
        """The drift suite on the feature extractor, built (and the extractor trained) on first use."""
        if self._suite is None:
            x_fit = y_fit = None
            if self.features is None or isinstance(self.features, str):  # a kind: may need fit data
                pool = self._reference
                if self._feature_stream is not None:
                    pool = _ClassPool(self._feature_stream, n_per_class=self.n_per_class, seed=self.cfg.seed,
                                      stream_name="the feature stream", seed_stream="drift.feature_data")
                x_fit, y_fit = pool.labelled(pool.classes())
            extractor = make_extractor(self.features, x_fit, y_fit, cache_dir=self.feature_cache_dir,
                                       seed=seed_for("drift.features", seed=self.cfg.seed))
            self._suite = DriftSuite(extractor, self.cfg)
        return self._suite

    @property
    def feature_name(self) -> str:
        """The extractor's name in the metric names (``clf``, ``identity``...)."""
        return self.suite.feature_name

    def _real_features(self, c: int) -> Tensor:
        if c not in self._real_f:
            self._real_f[c] = extract_features(self.suite.extractor, self._reference.samples(c))
        return self._real_f[c]

    # ---- per experience ----------------------------------------------------------------------
    def result(self, strategy) -> Tuple[int, DriftValues]:
        """``(step, values)`` after the current training experience (computed once per step)."""
        step = int(strategy.clock.train_exp_counter)
        if self._last is not None and self._last[0] == step:
            return self._last
        for c in experience_classes(strategy.experience):
            if c not in self.seen:
                self.seen.append(c)
        seen = sorted(self.seen)
        # The evaluation runs in the middle of training and must not change it: whatever a user
        # generator or extractor draws from torch's global RNG is drawn from a fork. (A resumed run
        # builds the extractor at another step than an uninterrupted one.)
        with torch.random.fork_rng():
            real_x, real_y = self._reference.labelled(seen)
            syn_x = self._sample(strategy, real_y)
            suite = self.suite
            real_f = torch.cat([self._real_features(c) for c in seen]) if suite.needs_features else None
            values = suite.evaluate(real_x, real_y, syn_x, real_y, real_features=real_f,
                                    title=f"after experience {step}")
        self._last = (step, values)
        return self._last

    def _sample(self, strategy, labels: Tensor) -> Tensor:
        sampler = find_sampler(strategy, self.generator)
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
    says whether the suite adds ``_<extractor>`` to them. ``result()`` is the first key's value."""

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

    def after_training_exp(self, strategy):
        step, values = self.computation.result(strategy)
        names = self._names()
        self._value = values.scalars.get(names[0])
        # a name is ours when its first path component is (CFID_clf/Class003 belongs to CFID_clf)
        return [MetricValue(self, tag_for(name), v, step) for name, v in loggable(values).items()
                if name.partition("/")[0] in names]

    def __str__(self):
        return self.keys[0]


class FIDMetric(_DriftMetric):
    keys = ("FID",)


class CFIDMetric(_DriftMetric):
    keys = ("CFID",)


class OTDDMetric(_DriftMetric):
    keys = ("OTDD",)


class RealAccMetric(_DriftMetric):
    keys = ("RealAcc", "RealAccChance")
    per_extractor = False  # accuracy does not depend on the feature extractor


class DriftTimeMetric(_DriftMetric):
    keys = ("DriftTime",)
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
    umap: bool = True,
    samples: bool = True,
    n_per_class: int = 50,
    features=None,
    generator=None,
    otdd_max_samples: Optional[int] = 2000,
    otdd_inner: str = "gaussian",
    real_acc_epochs: int = 30,
    seed: int = 0,
    feature_cache_dir: Optional[str] = None,
    feature_stream=None,
) -> List[PluginMetric]:
    """The drift metrics to pass to ``EvaluationPlugin`` (like ``accuracy_metrics(...)``).

    Args:
        reference_stream: stream with the real data of every class (``benchmark.test_stream`` or
            ``benchmark.train_stream``); required.
        fid, cfid, otdd, real_accuracy, umap, samples: which values to emit (``DriftTime`` always).
        n_per_class: real and synthetic samples per seen class (and, for the classifier
            extractor, training samples per class).
        features: ``"classifier"`` (default for images: a small CNN trained once on
            ``feature_stream``, cached on disk), ``"identity"`` (default for points), or any
            extractor with ``__call__(x) -> (N, d)`` and a ``name``.
        generator: the generator to score; ``None`` finds it on the strategy (see the module doc).
        otdd_max_samples, otdd_inner: OTDD's subsample size and label cost.
        real_acc_epochs: epochs of the fresh classifier behind ``RealAcc``.
        seed: fixes real subsets, generation noise, the extractor and the RealAcc classifier.
        feature_cache_dir: where the classifier extractor is cached.
        feature_stream: the stream whose data trains the classifier extractor, so it is disjoint
            from the reference it scores (e.g. ``benchmark.train_stream`` with the test stream as
            reference). ``None``: the reference stream, i.e. the extractor has then seen the very
            reference images it scores.
    """
    suite = SuiteConfig(fid=fid, cfid=cfid, otdd=otdd, real_accuracy=real_accuracy, samples=samples, umap=umap,
                        otdd_max_samples=otdd_max_samples, otdd_inner=otdd_inner, real_acc_epochs=real_acc_epochs,
                        seed=seed)
    comp = DriftComputation(reference_stream, suite, feature_stream=feature_stream, generator=generator,
                            features=features, n_per_class=n_per_class, feature_cache_dir=feature_cache_dir)
    metrics: List[PluginMetric] = []
    for on, cls in ((fid, FIDMetric), (cfid, CFIDMetric), (otdd, OTDDMetric), (real_accuracy, RealAccMetric),
                    (samples, SamplesGridMetric), (umap, UMAPMetric)):
        if on:
            metrics.append(cls(comp))
    metrics.append(DriftTimeMetric(comp))
    return metrics

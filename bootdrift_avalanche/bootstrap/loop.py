"""The bootstrapping loop of "On the Dangers of Bootstrapping Generation for Continual Learning and
Beyond" (Zverev, Koepke, Henriques; arXiv 2512.11867): iterative retraining on synthetic data.

Stage 0 trains a generator on the real training data; every later stage trains on a set that the
``regime`` (``regimes.py``) builds from the previous stage's samples. After every stage the loop
logs the drift values of the one drift bundle (``metrics.suite``, the same names as the Avalanche
drift plugin) against real held-out data. It owns no run directory: ``checkpoint(stage, state)``
and ``resume_from`` let the experiment layer store and resume it, with the same results as an
uninterrupted run. Details: docs/BOOTSTRAP_LOOP.md.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Callable, Dict, List, Optional, Tuple

import torch
from torch import Tensor

from ..generators.base import check_finite_samples
from ..runtime import distributed as D
from ..runtime.checkpoint import rng_state, set_rng_state
from ..runtime.seeds import seed_for
from .regimes import make_regime

Dataset = Tuple[Tensor, Tensor]


@dataclass
class BootstrapResult:
    """Per-stage metric values: ``stages[s][name] = value``."""

    stages: List[Dict[str, float]] = field(default_factory=list)
    feature_name: str = ""

    def curve(self, name: str) -> List[float]:
        return [s.get(name, float("nan")) for s in self.stages]


def run_bootstrap(
    make_generator: Callable[[int], object],
    real_train: Dataset,
    real_test: Dataset,
    *,
    stages: int = 5,
    regime: str = "augment",
    mix_real: float = 0.0,
    fresh_pool: Optional[Dataset] = None,
    sample_kwargs: Optional[Callable[[int], Dict[str, Any]]] = None,
    continue_training: bool = False,
    features=None,
    loggers=(),
    seed: int = 0,
    otdd_max_samples: Optional[int] = 2000,
    real_acc_epochs: int = 30,
    real_acc_classifier: str = "small",
    extra_metrics: Optional[Callable[[Tensor, Tensor], Dict[str, float]]] = None,
    on_stage: Optional[Callable[[int, Tensor, Tensor, Dict[str, float]], None]] = None,
    checkpoint: Optional[Callable[[int, dict], None]] = None,
    resume_from: Optional[Tuple[int, dict]] = None,
    progress: bool = True,
    feature_cache_dir=None,
    stage0_generator: Optional[dict] = None,
    suite=None,
    model_metrics: Optional[Callable[[object], Dict[str, float]]] = None,
    floor_set: Optional[Dataset] = None,
    extractor_data: Optional[Dataset] = None,
    intervals: int = 0,
) -> BootstrapResult:
    """Run ``stages`` stages of train -> sample -> retrain (docs/BOOTSTRAP_LOOP.md).

    Args:
        make_generator: ``make_generator(stage)`` returns a fresh trainable generator (``fit(x, y)``,
            ``generate(labels, *, seed=None)``, ``state_dict``/``load_state_dict``).
        real_train, real_test: ``(x, y)`` tensors; the synthetic sets copy ``real_train``'s labels.
        stages: number of stages T (stage 0 = trained on real data).
        regime: ``replace``, ``augment`` (default; with ``mix_real=0`` it is ``replace``), ``fresh``
            or ``accumulate`` (``regimes.REGIMES``; compositions in ``regimes.py``).
        mix_real: fraction of each class's training set that is real from stage 1 on (augment, fresh).
        fresh_pool: ``(x, y)`` real points disjoint from ``real_train`` (fresh only); it must hold
            (stages - 1) round(mix_real n_c) points of every class c, checked before any training.
        sample_kwargs: ``sample_kwargs(stage)`` -> extra keywords for ``generate`` at that stage
            (the sampling-bias knob, e.g. ``lambda s: {"truncation": 0.7}``).
        continue_training: keep training the previous generator instead of a fresh one.
        features: a kind of ``metrics.features.EXTRACTOR_KINDS`` — ``"clf"`` (trained on
            ``real_train``, scored against ``real_test``), ``"resnet50"``, ``"inception"`` (need
            their weights files), ``"random"``, ``"identity"`` — or an extractor; default by data
            kind (``metrics.make_extractor``). Its name is in every feature-based tag (``FID_clf``).
        loggers: Avalanche loggers (``TensorboardLogger``, ``JSONLinesLogger``...).
        real_acc_classifier: architecture of the RealAcc classifier (a name of ``nets.CLASSIFIERS``;
            the experiment layer takes the preset's for the image size, e.g. ``resnet18`` at 64 px).
        extra_metrics: ``(x_syn, y_syn) -> {name: float}`` logged beside the drift values.
        on_stage: called as ``on_stage(stage, x_syn, y_syn, values)`` after each stage.
        checkpoint: called as ``checkpoint(stage, state)`` after each stage (state to resume from).
        resume_from: ``(stage, state)`` of an earlier ``checkpoint`` call: continue after that stage.
        stage0_generator: ``state_dict`` of a generator already trained on ``real_train`` by stage 0
            of a loop with the same generator, data and seed: stage 0 loads it instead of training.
            Stage 0 trains on D in every regime, so a regime sweep trains it once (stage 0 then only
            samples and scores; its values and everything after are those of a loop that trained it).
        suite: the drift suite (``real_features(x)``, ``evaluate(...) -> DriftValues`` as
            ``metrics.suite.DriftSuite``; e.g. ``text.suite.TextDriftSuite``); default: a
            ``DriftSuite`` on ``features`` (then ``features`` and the RealAcc settings apply).
        model_metrics: ``model_metrics(generator) -> {name: float}`` of each stage's trained model,
            logged beside the drift values (the text loop's held-out perplexity).
        floor_set: ``(x, y)`` real images disjoint from ``real_test`` and from ``extractor_data``,
            the same number n of every class of ``real_test`` (n at most ``real_train``'s count of
            it). Then the distances (FID, CFID, OTDD, KID) score the first n synthetic samples of
            each class, and every stage logs their real-vs-real floor (``floor_set`` against
            ``real_test``, same n, classes and features) and excess, and ``RealAcc_ceiling`` (the
            RealAcc classifier trained on ``real_train``); see ``metrics.floor`` and docs/DRIFT_FLOOR.md.
            With a ``suite`` of its own: real data disjoint from ``real_test`` with as many rows of
            every class as ``real_train`` (the synthetic set's n), scored by the suite as if it were
            synthetic; the floor and excess of the suite's ``floored`` values (``floor_names``) and
            the RealAcc ceiling are logged (the text suite: ``text.suite.FLOORED``).
        extractor_data: ``(x, y)`` that a trained extractor (``clf``) fits on; default ``real_train``.
        intervals: bootstrap replicates of the 95 % intervals of the drift values (0: none;
            ``metrics.intervals``); with a floor, the floor's and the excess's too.
    """
    from tqdm.auto import tqdm

    from ..metrics import make_extractor
    from ..logging import log_values
    from ..metrics.floor import FLOORED, floor_names
    from ..metrics.suite import DriftSuite, SuiteConfig

    if stages < 1:
        raise ValueError(f"stages must be >= 1, got {stages}")
    x_tr, y_tr = real_train
    x_te, y_te = real_test
    if x_tr.shape[1:] != x_te.shape[1:]:
        raise ValueError(f"train and test data differ in shape: {tuple(x_tr.shape[1:])} vs {tuple(x_te.shape[1:])}")
    own_suite = suite is not None
    if floor_set is not None and own_suite:
        _check_suite_floor_set(floor_set, y_tr, suite)
    elif floor_set is not None:
        n_floor = _check_floor_set(floor_set, y_tr, y_te)
    sets = make_regime(regime, real_train, mix_real=mix_real, stages=stages, fresh_pool=fresh_pool, seed=seed)
    torch.manual_seed(seed)
    if suite is None:
        x_fit, y_fit = real_train if extractor_data is None else extractor_data
        extractor = make_extractor(features, x_fit, y_fit, cache_dir=feature_cache_dir, seed=seed)
        suite = DriftSuite(extractor, SuiteConfig(otdd_max_samples=otdd_max_samples, real_acc_epochs=real_acc_epochs,
                                                  real_acc_classifier=real_acc_classifier, seed=seed,
                                                  intervals=intervals))
    real_test_feats = suite.real_features(x_te)  # sharded under torchrun
    floor, floored = None, FLOORED
    if floor_set is not None and own_suite:
        # the suite scores the second real set as if it were synthetic: at the synthetic set's n already
        floor, floored = dict(suite.evaluate(x_te, y_te, *floor_set, real_features=real_test_feats,
                                             title="real-vs-real floor").scalars), suite.floored
    elif floor_set is not None:
        # distances at the floor's n per class (the floor needs that many unseen real images per class);
        # RealAcc on the whole synthetic set, its ceiling on the whole real training set
        dist_suite = DriftSuite(suite.extractor, replace(suite.cfg, real_accuracy=False, samples=False))
        acc_suite = DriftSuite(suite.extractor, replace(suite.cfg, fid=False, cfid=False, otdd=False, kid=False,
                                                        umap=False))
        floor = dict(dist_suite.evaluate(x_te, y_te, *floor_set, real_features=real_test_feats,
                                         title="real-vs-real floor").scalars)
        ceiling = replace(acc_suite.cfg, samples=False)
        floor.update(DriftSuite(suite.extractor, ceiling).evaluate(x_te, y_te, x_tr, y_tr,
                                                                   title="RealAcc ceiling").scalars)
    result = BootstrapResult(feature_name=suite.feature_name)
    start, gen, train_set = 0, None, sets.initial()
    if resume_from is not None:
        last, state = resume_from
        result.stages = state["stages"]
        gen = make_generator(last)
        gen.load_state_dict(state["generator"])
        train_set = state["next_train"]
        sets.load_state_dict(state["regime"] if "regime" in state else {"rng": state["mix_rng"]})
        set_rng_state(state["rng"])
        start = last + 1

    bar = tqdm(range(start, stages), desc="bootstrap stages", disable=not progress, initial=start, total=stages)
    for s in bar:
        if gen is None or not continue_training:
            gen = make_generator(s)
        if s == 0 and stage0_generator is not None:
            gen.load_state_dict(stage0_generator)
        else:
            gen.fit(*train_set)
        # Under torchrun each rank samples its share of the labels; the shares are gathered.
        extra_kw = sample_kwargs(s) if sample_kwargs is not None else {}
        part = gen.generate(D.shard(y_tr), seed=seed_for("bootstrap.samples", seed=seed, stage=s, rank=D.rank()),
                            **extra_kw)
        part = part.detach()  # token ids (text) stay integers; images and points are compared in float32
        x_syn = D.gather_in_order(part.float() if part.is_floating_point() else part, len(y_tr)).cpu()
        check_finite_samples(x_syn, where=f"bootstrap stage {s}")
        y_syn = y_tr.clone()
        if floor is None or own_suite:
            values = suite.evaluate(x_te, y_te, x_syn, y_syn, real_features=real_test_feats, extra=extra_metrics,
                                    title=f"stage {s}")
        else:
            values = acc_suite.evaluate(x_te, y_te, x_syn, y_syn, extra=extra_metrics, title=f"stage {s}")
            first = _first_per_class(y_syn, n_floor)
            dist = dist_suite.evaluate(x_te, y_te, x_syn[first], y_syn[first], real_features=real_test_feats,
                                       title=f"stage {s}").scalars
            dist["DriftTime"] = dist.get("DriftTime", 0.0) + values.scalars.get("DriftTime", 0.0)
            values.scalars.update(dist)
        if floor is not None:
            values.scalars.update(floor_names(values.scalars, floor, floored))
        if model_metrics is not None:
            values.scalars.update(model_metrics(gen))
        result.stages.append(dict(values.scalars))
        log_values(loggers, values, s)
        if on_stage is not None:
            on_stage(s, x_syn, y_syn, dict(values.scalars))
        train_set = sets.next_train(s, x_syn, y_syn)
        if checkpoint is not None:
            checkpoint(s, {"stages": result.stages, "generator": gen.state_dict(), "next_train": train_set,
                           "regime": sets.state_dict(), "rng": rng_state()})
        bar.set_postfix({k: f"{v:.3g}" for k, v in values.scalars.items() if k.startswith(("FID", "RealAcc"))})
    return result


def _first_per_class(y: Tensor, n: int) -> Tensor:
    """Row indices of the first ``n`` rows of each class of ``y`` (in row order)."""
    return torch.cat([torch.nonzero(y == c).flatten()[:n] for c in torch.unique(y)])


def _check_floor_set(floor_set: Dataset, y_tr: Tensor, y_te: Tensor) -> int:
    """The floor set's n per class, after checking it can be the floor of every class (before any training)."""
    x_f, y_f = floor_set
    if len(x_f) != len(y_f):
        raise ValueError(f"floor_set has {len(x_f)} images but {len(y_f)} labels")
    counts = {int(c): int((y_f == c).sum()) for c in torch.unique(y_te)}
    ns = set(counts.values())
    if len(ns) != 1 or 0 in ns:
        raise ValueError(f"floor_set must hold the same number of images of every test class, got {counts}")
    n = ns.pop()
    short = {c: int((y_tr == c).sum()) for c in counts if int((y_tr == c).sum()) < n}
    if short:
        raise ValueError(f"floor_set holds {n} images per class, more than the training set has of classes {short}: "
                         "the synthetic set copies its labels, so the distances could not be scored at that n")
    return n


def _check_suite_floor_set(floor_set: Dataset, y_tr: Tensor, suite) -> None:
    """Check, before any training, that a suite of its own can score ``floor_set`` as the floor at the
    synthetic set's n: the suite names values with a floor, and the set holds as many rows of every
    class as the training set (the synthetic set copies its labels)."""
    if not getattr(suite, "floored", ()):
        raise ValueError(f"floor_set with a suite of its own needs the suite to name its floored values "
                         f"(``floored``), and {type(suite).__name__} names none: for images pass features=... "
                         "instead of a suite, or leave floor_set out")
    x_f, y_f = floor_set
    if len(x_f) != len(y_f):
        raise ValueError(f"floor_set has {len(x_f)} rows but {len(y_f)} labels")
    counts = {int(c): (int((y_f == c).sum()), int((y_tr == c).sum())) for c in torch.unique(torch.cat([y_tr, y_f]))}
    off = {c: (f, t) for c, (f, t) in counts.items() if f != t}
    if off:
        shown = ", ".join(f"class {c}: {f} (needs {t})" for c, (f, t) in list(off.items())[:5])
        raise ValueError(f"floor_set must hold as many real rows of every class as the training set (the synthetic "
                         f"set's n, at which the floor is scored); it differs for {len(off)} classes: {shown}")

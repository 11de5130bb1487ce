"""Drift evaluation for Avalanche: FID, CFID, OTDD, real-data accuracy, sample grids and UMAP
figures of a strategy's generator, at the end of every training experience.

Usage (the lines a user adds to an existing Avalanche script)::

    from bootdrift_avalanche.plugins import drift_metrics
    evaluator = EvaluationPlugin(accuracy_metrics(experience=True),
                                 *drift_metrics(reference_stream=benchmark.test_stream),
                                 loggers=[TensorboardLogger("runs/x")])
    strategy = GenerativeReplay(model, optimizer, criterion, evaluator=evaluator, ...)

**Which generator** is scored (see ``find_generator``): ``drift_metrics(generator=...)`` if given,
otherwise ``strategy.generator`` (our DDGR and GAN Memory strategies), otherwise the generator of
Avalanche's ``GenerativeReplayPlugin`` among the strategy's plugins. That generator is
unconditional, so its samples are labelled by the solver (pseudo-labels: per-class metrics then
measure "samples the solver calls class c"). No generator: a ``LookupError`` that says how to pass one.

**What is compared**: at the end of training experience k, the classes seen in experiences 0..k;
real images of those classes come from ``reference_stream`` (the test stream by default in the
examples; the train stream works too), at most ``n_per_class`` per class (a seeded subset). The
generator is asked for exactly as many samples of each class as there are real ones, so CFID
compares equal n per class. Features of the real reference are computed once per class and kept
(features and at most ``n_per_class`` images per class, never a whole stream).

**Names and steps**: each scalar is one TensorBoard curve over experiences: the tag is
``<Metric>_<extractor>/train_phase/train_stream`` (e.g. ``FID_clf/train_phase/train_stream``) and the
step (``x_plot``) is the experience index, instead of Avalanche's per-experience ``.../Exp003`` tags
that would give one-point curves. Per-class CFID values add ``/Class003``. Values are plain floats.
``DriftTime/train_phase/train_stream`` is the seconds the evaluation took.

Definitions (see ``bootdrift_avalanche.metrics``): FID (Heusel et al. 2017) on all seen classes;
CFID = mean over seen classes of the per-class FID (intra-FID, Miyato & Koyama 2018; biased upwards
for small classes, Chong & Forsyth 2020); OTDD (Alvarez-Melis & Fusi 2020), p = 2, Gaussian label
cost, exact outer OT, square root; RealAcc = top-1 accuracy on the real reference images of a fresh
classifier trained on the synthetic set only (with the chance level logged beside it).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence

import torch
from avalanche.evaluation import PluginMetric
from avalanche.evaluation.metric_results import MetricValue, TensorImage
from torch import Tensor

from ..generators.adapters import find_generator
from ..generators.base import check_finite_samples, seeded_generate
from .replay_data import experience_classes


@dataclass
class DriftConfig:
    """Settings of the drift evaluation (shared by all drift metrics of one factory call)."""

    n_per_class: int = 50  # real (and synthetic) samples per seen class
    otdd_max_samples: Optional[int] = 2000  # subsample for the outer OT problem (None = all)
    otdd_inner: str = "gaussian"  # label-to-label cost: "gaussian" (Bures) or "exact"
    accuracy_epochs: int = 30  # epochs of the fresh classifier behind RealAcc
    grid_per_class: int = 8  # samples per class in the image grid
    gen_batch_size: int = 256  # labels per generate() call
    seed: int = 0  # fixes the real subsets, generation and the RealAcc classifier
    feature_cache_dir: Optional[str] = None  # where ClassifierFeatures are cached


@dataclass
class DriftResult:
    """Everything computed at the end of one training experience."""

    step: int
    seen_classes: List[int]
    scalars: Dict[str, float] = field(default_factory=dict)
    per_class_cfid: Dict[int, float] = field(default_factory=dict)
    grid: Optional[Tensor] = None
    umap: object = None


class DriftComputation:
    """Computes all drift values once per experience; the PluginMetrics read from it."""

    def __init__(self, reference_stream, *, generator=None, features=None, cfg: DriftConfig,
                 enabled: Sequence[str]):
        if reference_stream is None:
            raise ValueError(
                "drift_metrics needs reference_stream=: the stream with the real data to compare "
                "against, e.g. benchmark.test_stream (or benchmark.train_stream)"
            )
        self.reference = list(reference_stream)
        self.generator = generator
        self.features = features
        self.cfg = cfg
        self.enabled = set(enabled)
        self.seen: List[int] = []
        self._index: Optional[Dict[int, List]] = None
        self._real_x: Dict[int, Tensor] = {}
        self._real_f: Dict[int, Tensor] = {}
        self._last: Optional[DriftResult] = None

    # ---- real reference -------------------------------------------------------------------
    def _class_index(self) -> Dict[int, List]:
        if self._index is None:
            self._index = {}
            for e, exp in enumerate(self.reference):
                for pos, t in enumerate(exp.dataset.targets):
                    self._index.setdefault(int(t), []).append((e, pos))
        return self._index

    def _real_images(self, c: int) -> Tensor:
        if c not in self._real_x:
            entries = self._class_index().get(c, [])
            if len(entries) < 2:
                raise ValueError(
                    f"class {c} has {len(entries)} real sample(s) in the reference stream; the drift "
                    "metrics need at least 2 per seen class"
                )
            g = torch.Generator().manual_seed(self.cfg.seed * 1000 + c)
            pick = torch.randperm(len(entries), generator=g)[: self.cfg.n_per_class].tolist()
            xs = []
            for i in sorted(pick):
                e, pos = entries[i]
                ds = self.reference[e].dataset
                ds = ds.eval() if hasattr(ds, "eval") else ds  # eval transforms, no augmentation
                xs.append(torch.as_tensor(ds[pos][0]))
            self._real_x[c] = torch.stack(xs).float()
        return self._real_x[c]

    def _extractor(self):
        if self.features is None or isinstance(self.features, str):
            from ..metrics import ClassifierFeatures, IdentityFeatures

            kind = self.features or ("identity" if self._real_images(self.seen[0]).dim() == 2 else "classifier")
            if kind == "identity":
                self.features = IdentityFeatures()
            elif kind == "classifier":
                # Trained once on the real reference data of *all* classes (the whole benchmark,
                # as an oracle feature space), capped per class, and cached on disk.
                xs, ys = [], []
                for c in sorted(self._class_index()):
                    x = self._real_images(c)
                    xs.append(x)
                    ys.append(torch.full((len(x),), c, dtype=torch.long))
                self.features = ClassifierFeatures.fit(
                    torch.cat(xs), torch.cat(ys), cache_dir=self.cfg.feature_cache_dir, seed=self.cfg.seed
                )
            else:
                raise ValueError(f"unknown features {kind!r}: use 'classifier', 'identity' or an extractor object")
        return self.features

    def _real_features(self, c: int) -> Tensor:
        if c not in self._real_f:
            from ..metrics import extract_features

            self._real_f[c] = extract_features(self._extractor(), self._real_images(c))
        return self._real_f[c]

    @property
    def feature_name(self) -> str:
        f = self.features
        if f is None or isinstance(f, str):
            return {"identity": "identity", None: "clf", "classifier": "clf"}.get(f, str(f))
        return getattr(f, "name", type(f).__name__)

    # ---- per experience ---------------------------------------------------------------------
    def result(self, strategy) -> DriftResult:
        step = int(strategy.clock.train_exp_counter)
        if self._last is not None and self._last.step == step:
            return self._last
        for c in experience_classes(strategy.experience):
            if c not in self.seen:
                self.seen.append(c)
        t0 = time.perf_counter()
        res = self._compute(strategy, step)
        res.scalars["DriftTime"] = time.perf_counter() - t0
        self._last = res
        return res

    def _generate(self, generator, labels: Tensor, step: int) -> Tensor:
        out = []
        for i, chunk in enumerate(labels.split(self.cfg.gen_batch_size)):
            seed = self.cfg.seed * 1_000_003 + 7919 * step + i
            out.append(seeded_generate(generator, chunk, seed).detach().float().cpu())
        return check_finite_samples(torch.cat(out), where=f"drift evaluation after experience {step}")

    def _compute(self, strategy, step: int) -> DriftResult:
        from ..metrics import cfid, extract_features, frechet_distance, otdd, real_data_accuracy

        gen = find_generator(strategy, self.generator)
        seen = sorted(self.seen)
        real_x = [self._real_images(c) for c in seen]
        real_y = torch.cat([torch.full((len(x),), c, dtype=torch.long) for c, x in zip(seen, real_x)])
        real_x = torch.cat(real_x)
        syn_x = self._generate(gen, real_y, step)
        if syn_x.shape != real_x.shape:
            raise ValueError(
                f"generator returned samples of shape {tuple(syn_x.shape[1:])}, but the real data of "
                f"the reference stream has shape {tuple(real_x.shape[1:])} (after experience {step})"
            )
        real_f = torch.cat([self._real_features(c) for c in seen])
        syn_f = extract_features(self._extractor(), syn_x)
        check_finite_samples(syn_f, where=f"features of the synthetic samples after experience {step}")
        res = DriftResult(step=step, seen_classes=seen)
        if "fid" in self.enabled:
            res.scalars["FID"] = float(frechet_distance(real_f, syn_f))
        if "cfid" in self.enabled:
            r = cfid(real_f, real_y, syn_f, real_y)
            res.scalars["CFID"] = float(r.mean)
            res.per_class_cfid = {int(k): float(v) for k, v in r.per_class.items()}
        if "otdd" in self.enabled:
            res.scalars["OTDD"] = float(otdd(real_f, real_y, syn_f, real_y, inner=self.cfg.otdd_inner,
                                             max_samples=self.cfg.otdd_max_samples, seed=self.cfg.seed))
        if "real_accuracy" in self.enabled:
            r = real_data_accuracy(syn_x, real_y, real_x, real_y, epochs=self.cfg.accuracy_epochs, seed=self.cfg.seed)
            res.scalars["RealAcc"] = float(r.accuracy)
            res.scalars["RealAccChance"] = float(r.chance)
        if "samples" in self.enabled:
            res.grid = self._grid(syn_x, real_y, seen)
        if "umap" in self.enabled:
            from ..metrics import umap_figure

            res.umap = umap_figure(real_f, real_y, syn_f, real_y, seed=self.cfg.seed,
                                   title=f"real vs synthetic ({self.feature_name} features), experience {step}")
        return res

    def _grid(self, x: Tensor, y: Tensor, seen: List[int]) -> Optional[Tensor]:
        if x.dim() != 4:  # points (the 2-D toy) have no image grid
            return None
        from torchvision.utils import make_grid

        k = self.cfg.grid_per_class
        rows = []
        for c in seen:
            xc = x[y == c][:k]
            if len(xc) < k:
                xc = torch.cat([xc, torch.zeros((k - len(xc),) + tuple(x.shape[1:]))])
            rows.append(xc)
        return make_grid(torch.cat(rows), nrow=k, padding=1, pad_value=1.0).clamp(0, 1)


class _DriftMetric(PluginMetric[float]):
    """One drift quantity, emitted after each training experience as a curve over experiences."""

    key = ""

    def __init__(self, computation: DriftComputation):
        super().__init__()
        self._comp = computation
        self._value: Optional[float] = None

    def reset(self) -> None:
        self._value = None

    def result(self):
        return self._value

    def _name(self, metric: str) -> str:
        return f"{metric}_{self._comp.feature_name}/train_phase/train_stream"

    def after_training_exp(self, strategy):
        res = self._comp.result(strategy)
        return self._emit(strategy, res)

    def _emit(self, strategy, res: DriftResult):
        self._value = res.scalars.get(self.key)
        return [MetricValue(self, self._name(self.key), self._value, res.step)]

    def __str__(self):
        return self.key


class FIDMetric(_DriftMetric):
    key = "FID"


class OTDDMetric(_DriftMetric):
    key = "OTDD"


class CFIDMetric(_DriftMetric):
    key = "CFID"

    def _emit(self, strategy, res):
        out = super()._emit(strategy, res)
        base = self._name(self.key)
        out += [MetricValue(self, f"{base}/Class{c:03d}", v, res.step) for c, v in sorted(res.per_class_cfid.items())]
        return out


class RealAccMetric(_DriftMetric):
    key = "RealAcc"

    def _emit(self, strategy, res):
        self._value = res.scalars["RealAcc"]
        # accuracy does not depend on the feature extractor: no extractor suffix
        return [
            MetricValue(self, "RealAcc/train_phase/train_stream", self._value, res.step),
            MetricValue(self, "RealAccChance/train_phase/train_stream", res.scalars["RealAccChance"], res.step),
        ]


class DriftTimeMetric(_DriftMetric):
    key = "DriftTime"

    def _emit(self, strategy, res):
        self._value = res.scalars["DriftTime"]
        return [MetricValue(self, "DriftTime/train_phase/train_stream", self._value, res.step)]


class SamplesGridMetric(_DriftMetric):
    key = "Samples"

    def _emit(self, strategy, res):
        if res.grid is None:
            return []
        return [MetricValue(self, "Samples/train_phase/train_stream", TensorImage(res.grid), res.step)]


class UMAPMetric(_DriftMetric):
    key = "UMAP"

    def _emit(self, strategy, res):
        if res.umap is None:
            return []
        return [MetricValue(self, self._name("UMAP"), res.umap, res.step)]


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
    accuracy_epochs: int = 30,
    seed: int = 0,
    feature_cache_dir: Optional[str] = None,
) -> List[PluginMetric]:
    """The drift metrics to pass to ``EvaluationPlugin`` (like ``accuracy_metrics(...)``).

    Args:
        reference_stream: stream with the real data of every class (``benchmark.test_stream`` or
            ``benchmark.train_stream``); required.
        fid, cfid, otdd, real_accuracy, umap, samples: which values to emit.
        n_per_class: real and synthetic samples per seen class.
        features: ``"classifier"`` (default for images: a small CNN trained once on the reference
            data, cached on disk), ``"identity"`` (default for points), or any extractor with
            ``__call__(x) -> (N, d)`` and a ``name``.
        generator: the generator to score; ``None`` finds it on the strategy (see the module doc).
        seed: fixes real subsets, generation noise and the RealAcc classifier.
    """
    enabled = [k for k, on in (("fid", fid), ("cfid", cfid), ("otdd", otdd), ("real_accuracy", real_accuracy),
                               ("umap", umap), ("samples", samples)) if on]
    cfg = DriftConfig(n_per_class=n_per_class, otdd_max_samples=otdd_max_samples, otdd_inner=otdd_inner,
                      accuracy_epochs=accuracy_epochs, seed=seed, feature_cache_dir=feature_cache_dir)
    comp = DriftComputation(reference_stream, generator=generator, features=features, cfg=cfg, enabled=enabled)
    metrics: List[PluginMetric] = []
    for key, cls in (("fid", FIDMetric), ("cfid", CFIDMetric), ("otdd", OTDDMetric),
                     ("real_accuracy", RealAccMetric), ("samples", SamplesGridMetric), ("umap", UMAPMetric)):
        if key in enabled:
            metrics.append(cls(comp))
    metrics.append(DriftTimeMetric(comp))
    return metrics

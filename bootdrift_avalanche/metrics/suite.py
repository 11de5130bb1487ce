"""The drift suite: the one bundle of drift values of a synthetic labelled set against a real one,
used by both the Avalanche drift plugin (the step is the experience) and the bootstrapping loop
(the step is the stage), so both report the same names with the same definitions. Tensors in,
numbers out: logging lives in ``bootdrift_avalanche.logging`` and tag naming in
``bootdrift_avalanche.tags``. The names and their definitions: ``docs/DRIFT_METRICS.md`` ("Names").

>>> import torch
>>> from bootdrift_avalanche.metrics.features import make_extractor
>>> x, y = torch.randn(40, 2), torch.arange(40) % 2
>>> values = DriftSuite(make_extractor("identity"), SuiteConfig(real_accuracy=False, samples=False,
...                     otdd=False, kid=False, intervals=0)).evaluate(x, y, x.clone(), y)
>>> round(values.scalars["FID_identity"], 6)
0.0
"""
from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Callable, Dict, Literal, Mapping, Optional

import torch
from torch import Tensor

from ..generators.base import check_finite_samples
from ..runtime.seeds import seed_for
from ._checks import as_labels
from .accuracy import real_data_accuracy
from . import sharded
from .feature_precision import check_precision
from .features import check_extractor
from .feature_values import feature_values, fixed_fid_value, kid_values, otdd_value
from .intervals import DEFAULT_REPLICATES, bootstrap, bounds_names, check_intervals, wilson
from .kid import SUBSET_SIZE, SUBSETS
from .otdd_choice import DEFAULT_EXACT_MAX, DEFAULT_LARGE, check_large
from .qualifiers import qualifiers_of
from ..pictures.sample_picture import sample_picture

if TYPE_CHECKING:
    from .umap import UMAPProjection

#: Fewer samples per class than this make FID/CFID/OTDD's covariances mostly noise (a warning says so).
MIN_SAMPLES_PER_CLASS = 10

ExtraMetrics = Callable[[Tensor, Tensor], Mapping[str, float]]


@dataclass(frozen=True)
class SuiteConfig:
    """Which drift values to compute and how: every knob of the drift suite and of the drift plugin
    (``drift_metrics(suite=...)``) that is not one of ``drift_metrics``' own arguments. Frozen: change
    one with ``dataclasses.replace(cfg, ...)``.

    Attributes:
        fid, cfid, otdd, real_accuracy, samples, umap: compute that value (see the module docstring;
            UMAP is off by default: its first fit is dear, ``docs/DRIFT_COST.md``).
        otdd_max_samples: exact OTDD on this many points per set, drawn at random (``None``: all
            points, with the size rule below).
        otdd_exact_max: exact OTDD while both sets have at most this many points, the variant
            ``otdd_large`` above (``None``: always exact; the exact OT costs O(n·m) memory).
        otdd_large: the variant for larger sets, a name in ``otdd_choice.LARGE_OTDD``
            (``"hierarchical"``, ``"entropic"``, ``"sliced"``), logged under its own name (e.g.
            ``OTDDhier_clf``); all use the Gaussian label cost.
        otdd_inner: OTDD's label-to-label cost, ``"gaussian"`` (Bures) or ``"exact"``.
        real_acc_epochs: training epochs of the RealAcc classifier (fewer bias it down,
            ``docs/DRIFT_SCALE.md``).
        real_acc_classifier: its architecture, a name of :data:`~bootdrift_avalanche.nets.CLASSIFIERS`
            (the presets pick it per image size: ``Preset.classifier_name``).
        grid_per_class: samples per class (one row each) in the image grid.
        seed: run seed of the real subsets, generation noise, the extractor, the OTDD subsample, the
            RealAcc classifier, the UMAP layout, KID's subsets and the bootstrap (``drift_metrics(seed=)``
            overrides it).
        device: where the RealAcc classifier trains, the extractor runs and OTDD's costs are computed
            (``None``: the CPU; ``drift_metrics(device=)`` overrides it).
        fid_fixed_n: also ``FIDfixed_<ext>``, FID on this many rows of each set spread evenly over
            the classes (0: not computed), so it compares across experiences with more classes.
        kid, kid_subsets, kid_subset_size: KID and CKID (:mod:`.kid`: unbiased, no floor needed) and
            their subsets.
        intervals: bootstrap replicates of the ``_lo``/``_hi`` interval of every feature-based
            value (0: no intervals; RealAcc then has no Wilson interval either), see :mod:`.intervals`.
        confidence: the intervals' level.
        feature_precision: how the extractor runs, ``"float32"`` (exact) or ``"bfloat16"``
            (autocast, faster on the CPU, values shifted: ``docs/DRIFT_SCALE.md``).
        floor: (drift plugin) log beside every value its real-vs-real floor and the excess over it
            (``FID_clf_floor``, ``FID_clf_excess``, ``RealAcc_ceiling``; :mod:`.floor`): what a
            perfect generator gets at this n, classes and extractor. Costs one more RealAcc
            classifier per experience.
        fixed_n: (drift plugin) also log ``FIDfixed_<ext>`` at the first evaluation's total n at
            every experience (sets ``fid_fixed_n`` itself), so adding classes does not move its bias.
        real_accuracy_every: (drift plugin) RealAcc only at every ``real_accuracy_every``-th
            evaluated experience and the last (what each evaluation cost: ``DriftTime``,
            ``docs/DRIFT_COST.md``).
    """

    fid: bool = True
    cfid: bool = True
    otdd: bool = True
    real_accuracy: bool = True
    samples: bool = True
    umap: bool = False
    otdd_max_samples: Optional[int] = None
    otdd_exact_max: Optional[int] = DEFAULT_EXACT_MAX
    otdd_large: str = DEFAULT_LARGE
    otdd_inner: Literal["gaussian", "exact"] = "gaussian"
    real_acc_epochs: int = 30
    real_acc_classifier: str = "small"
    grid_per_class: int = 8
    seed: int = 0
    device: Optional[str] = None
    fid_fixed_n: int = 0
    kid: bool = True
    kid_subsets: int = SUBSETS
    kid_subset_size: int = SUBSET_SIZE
    intervals: int = DEFAULT_REPLICATES
    confidence: float = 0.95
    feature_precision: Literal["float32", "bfloat16"] = "float32"
    floor: bool = True
    fixed_n: bool = True
    real_accuracy_every: int = 1

    def __post_init__(self) -> None:
        check_precision(self.feature_precision)
        if self.otdd_inner not in ("gaussian", "exact"):
            raise ValueError(f"otdd_inner must be 'gaussian' or 'exact', got {self.otdd_inner!r}")
        if self.otdd_max_samples is not None and self.otdd_max_samples < 1:
            raise ValueError(f"otdd_max_samples must be positive or None, got {self.otdd_max_samples}")
        from ..nets import CLASSIFIERS

        if self.real_acc_classifier not in CLASSIFIERS:
            raise ValueError(f"real_acc_classifier must be one of {', '.join(CLASSIFIERS)}, "
                             f"got {self.real_acc_classifier!r}")
        if self.otdd_exact_max is not None and self.otdd_exact_max < 1:
            raise ValueError(f"otdd_exact_max must be positive or None, got {self.otdd_exact_max}")
        check_large(self.otdd_large)
        if self.otdd_inner == "exact" and self.otdd_max_samples is None and self.otdd_exact_max is not None:
            raise ValueError("otdd_inner='exact' needs otdd_max_samples or otdd_exact_max=None: the large-set "
                             "OTDD variants use the Gaussian label cost")
        if self.real_acc_epochs < 1:
            raise ValueError(f"real_acc_epochs must be >= 1, got {self.real_acc_epochs}")
        if self.grid_per_class < 1:
            raise ValueError(f"grid_per_class must be >= 1, got {self.grid_per_class}")
        if self.fid_fixed_n < 0 or self.fid_fixed_n == 1:
            raise ValueError(f"fid_fixed_n must be 0 (off) or >= 2, got {self.fid_fixed_n}")
        check_intervals(self.intervals)
        if not 0.0 < self.confidence < 1.0:
            raise ValueError(f"confidence must lie in (0, 1), got {self.confidence}")
        if self.real_accuracy_every < 1:
            raise ValueError("real_accuracy_every must be >= 1 (RealAcc every k-th experience), "
                             f"got {self.real_accuracy_every}")
        if self.kid_subsets < 1 or self.kid_subset_size < 2:
            raise ValueError(f"kid_subsets must be >= 1 and kid_subset_size >= 2, got {self.kid_subsets}, "
                             f"{self.kid_subset_size}")


@dataclass
class DriftValues:
    """The values of one evaluation, by name (see the module docstring).

    Attributes:
        scalars: name -> plain Python float (``FID_clf``, ``CFID_clf/Class003``, ``RealAcc``,
            ``DriftTime``, extras...).
        images: name -> (3, H, W) float image in [0, 1] (``Samples`` for images).
        figures: name -> ``matplotlib.figure.Figure`` (``UMAP_clf``; ``Samples`` for 2-D points).
    """

    scalars: Dict[str, float] = field(default_factory=dict)
    images: Dict[str, Tensor] = field(default_factory=dict)
    figures: Dict[str, Any] = field(default_factory=dict)


class DriftSuite:
    """Computes :class:`DriftValues` of synthetic against real labelled sets.

    Args:
        extractor: feature extractor (from :func:`~bootdrift_avalanche.metrics.features.make_extractor`):
            a callable ``x -> (N, d)`` with a ``name``.
        cfg: what to compute.
    """

    def __init__(self, extractor, cfg: Optional[SuiteConfig] = None) -> None:
        self.extractor = check_extractor(extractor)
        self.cfg = cfg or SuiteConfig(intervals=0)

    @property
    def feature_name(self) -> str:
        """The extractor's name, the suffix of the feature-based metric names."""
        return self.extractor.name

    @property
    def needs_features(self) -> bool:
        """Whether any enabled value works on features (so callers can skip computing them)."""
        c = self.cfg
        return c.fid or c.cfid or c.otdd or c.umap or c.kid

    def real_features(self, real_x: Tensor) -> Tensor:
        """Features of real data, to compute once and pass to :meth:`evaluate` as ``real_features``
        (under ``torchrun`` each rank extracts its shard and every rank receives all rows)."""
        return sharded.gather(sharded.extract_part(self.extractor, real_x, self.cfg.feature_precision), len(real_x))

    def evaluate(
        self,
        real_x: Tensor,
        real_y: Tensor,
        syn_x: Tensor,
        syn_y: Tensor,
        *,
        real_features: Optional[Tensor] = None,
        syn_features: Optional[Tensor] = None,
        extra: Optional[ExtraMetrics] = None,
        umap_projection: Optional[UMAPProjection] = None,
        title: str = "",
        class_names: Optional[Mapping[int, str]] = None,
    ) -> DriftValues:
        """All enabled drift values of (syn_x, syn_y) against (real_x, real_y).

        Args:
            real_x, real_y: real reference samples (N, *shape) and integer labels (N,).
            syn_x, syn_y: synthetic samples of the same per-sample shape and their labels.
            real_features: features of ``real_x`` by this suite's extractor, when already computed
                (a fixed reference: compute once with :meth:`real_features`).
            syn_features: the same for ``syn_x`` (a second real set: :mod:`.floor`).
            extra: ``extra(syn_x, syn_y) -> {name: number}``, merged into ``scalars``.
            umap_projection: the :class:`~bootdrift_avalanche.metrics.umap.UMAPProjection` (of this
                extractor's features of the real data) that ``UMAP_<ext>`` draws in; ``None``: one
                fitted on ``real_features`` for this call alone.
            title: context for figure titles and error messages (``"experience 3"``, ``"stage 2"``).
            class_names: row labels of the sample grid by class id (default "class 3").

        Raises:
            TypeError / ValueError: non-tensor inputs, mismatched shapes or lengths, non-integer
                labels, non-finite real data, wrong ``real_features`` rows, an extra name that
                clashes with a built-in one or an extra value that is not a number.
            FloatingPointError: NaN/Inf in the synthetic samples (before anything is computed).
        """
        where = f" ({title})" if title else ""
        real_y, syn_y = self._check(real_x, real_y, syn_x, syn_y, title)
        t0 = time.perf_counter()
        cfg, name = self.cfg, self.feature_name
        out = DriftValues()
        if self.needs_features:
            # Under torchrun each rank holds the features of its shard of both sets (metrics.sharded);
            # in one process the "parts" are the whole sets and every call below is the plain one.
            if real_features is None:
                real_f = sharded.extract_part(self.extractor, real_x, self.cfg.feature_precision)
            elif real_features.dim() != 2 or real_features.shape[0] != real_x.shape[0]:
                raise ValueError(f"real_features must have one row per real sample ({real_x.shape[0]}), "
                                 f"got shape {tuple(real_features.shape)}{where}")
            else:
                real_f = sharded.part(real_features)
            syn_f = (sharded.extract_part(self.extractor, syn_x, self.cfg.feature_precision) if syn_features is None
                     else sharded.part(syn_features))
            if cfg.fid:
                out.scalars[f"FID_{name}"] = float(sharded.fid(real_f, syn_f))
            if cfg.cfid:
                r = sharded.class_fid(real_f, sharded.part(real_y), syn_f, sharded.part(syn_y))
                out.scalars[f"CFID_{name}"] = float(r.mean)
                for c, v in sorted(r.per_class.items()):
                    out.scalars[f"CFID_{name}/Class{int(c):03d}"] = float(v)
            if cfg.otdd or cfg.umap or cfg.kid or cfg.intervals or cfg.fid_fixed_n:  # every row, in the original order
                real_f, syn_f = sharded.gather(real_f, len(real_x)), sharded.gather(syn_f, len(syn_x))
            if cfg.fid and cfg.fid_fixed_n:
                out.scalars.update(fixed_fid_value(cfg, name, real_f, real_y, syn_f, syn_y))
            if cfg.otdd:
                out.scalars.update(otdd_value(cfg, name, real_f, real_y, syn_f, syn_y))
            if cfg.kid:
                out.scalars.update(kid_values(cfg, name, real_f, real_y, syn_f, syn_y))
            if cfg.intervals:
                # KID and CKID carry their jackknife intervals already (kid_values)
                estimate = {k: v for k, v in out.scalars.items()
                            if not qualifiers_of(k) and not k.startswith(("KID_", "CKID_"))}
                no_kid = replace(cfg, kid=False)
                out.scalars.update(bounds_names(bootstrap(
                    lambda a, ya, b, yb: feature_values(no_kid, name, a, ya, b, yb), real_f, real_y, syn_f, syn_y,
                    estimate=estimate, replicates=cfg.intervals, seed=seed_for("drift.intervals", seed=cfg.seed),
                    confidence=cfg.confidence)))
            if cfg.umap:
                from .umap import umap_figure

                out.figures[f"UMAP_{name}"] = umap_figure(
                    real_f, real_y, syn_f, syn_y, projection=umap_projection, seed=cfg.seed,
                    title=f"real vs synthetic ({name} features)" + (f", {title}" if title else ""))
        if cfg.real_accuracy:
            r = real_data_accuracy(syn_x, syn_y, real_x, real_y, epochs=cfg.real_acc_epochs,
                                   seed=seed_for("drift.real_acc", seed=cfg.seed), classifier=cfg.real_acc_classifier,
                                   device=cfg.device)
            out.scalars["RealAcc"] = float(r.accuracy)
            out.scalars["RealAccChance"] = float(r.chance)
            if cfg.intervals:
                out.scalars.update(bounds_names({"RealAcc": wilson(r.accuracy * r.n_test, r.n_test, cfg.confidence)}))
        if cfg.samples:
            pic = sample_picture(syn_x, syn_y, per_class=cfg.grid_per_class, title=title, real_x=real_x, real_y=real_y,
                                 class_names=class_names)
            if isinstance(pic, Tensor):
                out.images["Samples"] = pic
            elif pic is not None:
                out.figures["Samples"] = pic
        out.scalars["DriftSamplesPerClass"] = float(_fewest_per_class(real_y, syn_y))
        n = int(out.scalars["DriftSamplesPerClass"])
        d = real_f.shape[1] if self.needs_features else 0
        if (n < MIN_SAMPLES_PER_CLASS or n < d) and (cfg.fid or cfg.cfid or cfg.otdd):
            warnings.warn(f"drift metrics{where} scored {n} sample(s) of some class "
                          f"with {d}-dimensional {name} features "
                          f"(n {'<' if n < d else '>='} d): CFID and OTDD estimate per-class covariances "
                          "from them, so a "
                          "perfect generator already scores far above 0 (small-sample bias). Read the real-vs-real "
                          "floor logged beside each value (<value>_floor) and the drift beyond it (<value>_excess), or "
                          "KID, which has no such bias; to lower the floor raise n_per_class towards d or use a "
                          "lower-dimensional extractor (floor against n and d: docs/DRIFT_FLOOR.md); "
                          "a class the reference stream holds fewer images of needs a reference stream with more",
                          RuntimeWarning, stacklevel=2)
        if extra is not None:
            self._merge_extra(out, extra(syn_x, syn_y), where)
        out.scalars["DriftTime"] = time.perf_counter() - t0
        return out

    @staticmethod
    def _check(real_x, real_y, syn_x, syn_y, title: str):
        where = f" ({title})" if title else ""
        for nm, x in (("real_x", real_x), ("syn_x", syn_x)):
            if not isinstance(x, Tensor):
                raise TypeError(f"{nm} must be a torch.Tensor, got {type(x).__name__}{where}")
            if x.dim() < 2 or x.shape[0] < 2:
                raise ValueError(f"{nm} must hold at least 2 samples (N, *shape), got shape {tuple(x.shape)}{where}")
        if syn_x.shape[1:] != real_x.shape[1:]:
            raise ValueError(f"synthetic samples have shape {tuple(syn_x.shape[1:])}, but the real samples "
                             f"{tuple(real_x.shape[1:])}{where}")
        real_y = as_labels(real_y, real_x.shape[0], "real_y")
        syn_y = as_labels(syn_y, syn_x.shape[0], "syn_y")
        check_finite_samples(syn_x, where=title)
        if not bool(torch.isfinite(real_x).all()):
            raise ValueError(f"real_x contains NaN/Inf values{where}")
        _warn_if_off_scale(real_x, syn_x, where)
        return real_y, syn_y

    @staticmethod
    def _merge_extra(out: DriftValues, extra: Mapping[str, float], where: str) -> None:
        for k, v in extra.items():
            if k in out.scalars or k in out.images or k in out.figures or k == "DriftTime":
                raise ValueError(f"extra metric {k!r} clashes with a built-in drift value{where}")
            try:
                out.scalars[k] = float(v)  # NaN is kept: e.g. a mode statistic with no mode to measure
            except (TypeError, ValueError):
                raise ValueError(f"extra metric {k!r} returned {v!r}, not a number{where}") from None


def _fewest_per_class(real_y: Tensor, syn_y: Tensor) -> int:
    """The smallest per-class count over the classes of either set (a class absent from one set
    counts 0 there)."""
    classes = torch.unique(torch.cat([real_y, syn_y]))
    return int(min(min(int((real_y == c).sum()), int((syn_y == c).sum())) for c in classes))


def _warn_if_off_scale(real_x: Tensor, syn_x: Tensor, where: str) -> None:
    """Warn when the synthetic values overshoot the real range by more than its own width (a
    generator returning [0, 255] images against a [0, 1] reference would otherwise log an FID of
    ~1e7 without a word). Small overshoots are normal (a VAE's or an unclamped sampler's)."""
    lo, hi = float(real_x.min()), float(real_x.max())
    s_lo, s_hi = float(syn_x.min()), float(syn_x.max())
    width = max(hi - lo, 1e-12)
    if s_hi > hi + width or s_lo < lo - width:
        warnings.warn(f"synthetic samples{where} lie in [{s_lo:.4g}, {s_hi:.4g}] but the real reference in "
                      f"[{lo:.4g}, {hi:.4g}]: the generator's output is on another scale (the generator protocol asks "
                      "for the benchmark's own value range, e.g. [0, 1] images); its drift values are not meaningful",
                      RuntimeWarning, stacklevel=3)

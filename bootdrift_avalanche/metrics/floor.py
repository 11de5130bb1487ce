"""The real-vs-real floor of the drift values: what a perfect generator would score.

FID, CFID and OTDD are biased upwards at small n (a generator that draws from the real
distribution itself does not score 0), by an amount that depends on n per class, the classes and
the feature extractor. The floor is the value of the same metric, on the same extractor, classes
and n per class, between the real reference and a second, disjoint set of real images that the
extractor never trained on; the excess ``value − floor`` is the drift beyond the estimator's own
bias. ``RealAcc`` gets its ceiling: the same classifier, trained for the same epochs on as many
real images per class (instead of synthetic ones), tested on the same reference.

Names (:mod:`.qualifiers`): ``FID_clf_floor``, ``FID_clf_excess`` (and its ``_lo``/``_hi``),
``CFID_clf_floor/Class003``, ``KID_clf_floor``, ``RealAcc_ceiling``, with intervals
(``FID_clf_floor_lo``...). The floor is itself one draw of the estimator at this n, so the excess
interval is centred on value − floor with the half-widths of the value's and the floor's intervals
added in quadrature (without a floor interval, the value's counted twice).

Which real images, and what happens when there are too few: see :class:`RealFloor` and
``docs/DRIFT_FLOOR.md``.
"""
from __future__ import annotations

import math
import warnings
from dataclasses import replace
from typing import Callable, Dict, Hashable, List, Mapping, Optional, Sequence, Tuple

import torch
from torch import Tensor

from .otdd_choice import PREFIXES
from .qualifiers import CEILING, EXCESS, FLOOR, HI, LO, qualified, qualifiers_of

#: the metric families that have a floor (their first name component before ``_<ext>``)
FLOORED = ("FID", "FIDfixed", "CFID", "KID", "CKID", *PREFIXES)
#: values of the floor evaluation that are not floors of anything
_NOT_FLOORS = ("DriftTime", "RealAccChance", "DriftSamplesPerClass")


def _family(name: str) -> str:
    return name.partition("/")[0].split("_")[0]


def floor_names(values: Mapping[str, float], floor: Mapping[str, float],
                families: Sequence[str] = FLOORED) -> Dict[str, float]:
    """The floor, excess and ceiling names of ``values`` (suite names, possibly with ``_lo``/``_hi``)
    given ``floor`` (the suite's values of the real second set, under the same names); only the
    values of ``families`` get a floor (a suite of its own names its own: ``text.suite.FLOORED``)."""
    out: Dict[str, float] = {}
    for name, v in values.items():
        if qualifiers_of(name) or name not in floor or not math.isfinite(floor[name]):
            continue
        f = floor[name]
        f_lo, f_hi = floor.get(qualified(name, LO)), floor.get(qualified(name, HI))
        if name == "RealAcc":
            out[qualified(name, CEILING)] = f
            if f_lo is not None and f_hi is not None:
                out[qualified(qualified(name, CEILING), LO)], out[qualified(qualified(name, CEILING), HI)] = f_lo, f_hi
            continue
        if _family(name) not in families:
            continue
        out[qualified(name, FLOOR)] = f
        out[qualified(name, EXCESS)] = v - f
        lo, hi = values.get(qualified(name, LO)), values.get(qualified(name, HI))
        if f_lo is not None and f_hi is not None:
            out[qualified(qualified(name, FLOOR), LO)], out[qualified(qualified(name, FLOOR), HI)] = f_lo, f_hi
        if lo is not None and hi is not None:
            # both are estimates with their own sampling noise: the half-widths add in quadrature
            half = math.hypot((hi - lo) / 2.0, (f_hi - f_lo) / 2.0 if f_lo is not None else (hi - lo) / 2.0)
            out[qualified(qualified(name, EXCESS), LO)] = v - f - half
            out[qualified(qualified(name, EXCESS), HI)] = v - f + half
    return out


class RealFloor:
    """The floor values of a drift evaluation, from a second set of real images per class.

    Args:
        samples: ``key -> (n, *shape)`` real images of a class, disjoint from the reference and from
            the images the feature extractor trained on (the drift plugin: the feature stream's
            images after those the extractor used, else the reference stream's after the reference).
        source: where they come from, for the warning.

    A class whose second set has fewer images than the reference has of it has no floor: a
    ``RuntimeWarning`` names it once, its per-class floors are not logged, nor are the floors of
    the values over all classes (FID, CFID, OTDD, KID, CKID, the RealAcc ceiling) while it is seen.
    The floor values of a set of classes are computed once and kept (they do not change between
    experiences; the features of each class's second set are kept too).
    """

    def __init__(self, samples: Callable[[Hashable], Tensor], *, source: str):
        self._samples, self.source = samples, source
        self._features: Dict[Hashable, Tensor] = {}
        self._cache: Dict[Tuple, Dict[str, float]] = {}
        self._warned: set = set()

    def values(self, suite, keys: Sequence[Hashable], labels: Sequence[int], real_x: Tensor, real_y: Tensor,
               real_f: Optional[Tensor], names: Optional[Mapping[Hashable, str]] = None) -> Dict[str, float]:
        """The suite's values of the reference ``(real_x, real_y)`` (features ``real_f``) against
        the second real set, for classes ``keys`` labelled ``labels``; names as the suite's."""
        memo = (tuple(keys), tuple(int(g) for g in labels))
        if memo in self._cache:
            return self._cache[memo]
        xs: List[Tensor] = []
        have: List[int] = []
        for key, g in zip(keys, labels):
            need = int((real_y == g).sum())
            x = self._samples(key)
            if len(x) < need:
                if key not in self._warned:
                    self._warned.add(key)
                    what = names.get(key, str(key)) if names else str(key)
                    warnings.warn(
                        f"the drift floor of {what} needs {need} real images besides the reference, but "
                        f"{self.source} has {len(x)}: its floor is missing (not logged), and so are the floors "
                        "over all classes while it is seen; lower n_per_class or pass a larger feature_stream",
                        RuntimeWarning, stacklevel=3)
                continue
            xs.append(x[:need])
            have.append(g)
        out: Dict[str, float] = {}
        if have:
            keep = torch.isin(real_y, torch.tensor(have))
            fy = torch.cat([torch.full((len(x),), g, dtype=torch.long) for g, x in zip(have, xs)])
            floor_f = None
            if suite.needs_features:
                floor_f = torch.cat([self._features_of(suite, k, x) for k, g, x in
                                     zip([k for k, g in zip(keys, labels) if g in have], have, xs)])
            cfg = replace(suite.cfg, samples=False, umap=False)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # the value's evaluation warns already
                vals = type(suite)(suite.extractor, cfg).evaluate(
                    real_x[keep], real_y[keep], torch.cat(xs), fy,
                    real_features=None if real_f is None else real_f[keep], title="real-vs-real floor",
                    syn_features=floor_f)
            complete = len(have) == len(keys)
            out = {k: v for k, v in vals.scalars.items() if k not in _NOT_FLOORS and (complete or "/Class" in k)}
        self._cache[memo] = out
        return out

    def _features_of(self, suite, key: Hashable, x: Tensor) -> Tensor:
        if key not in self._features or len(self._features[key]) != len(x):
            self._features[key] = suite.real_features(x)
        return self._features[key]

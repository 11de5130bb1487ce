"""Cohort curves: the drift of a fixed set of classes over a continual-learning run.

FID and CFID over the classes seen so far change their class set (and FID its n) at every
experience, so their curves mix drift with the change of classes. A cohort is the classes first
seen in experience k; its curve is the mean of their per-class values at experience k and every
later one, always over the same classes and n. The cohort of experience 0 is the longest and the
cleanest drift curve a replay run has (how the first classes' replay degrades as the generator
is retrained), hence the report's headline.

Read off a metric table (``logging.metric_table``: ``{name: {experience: value}}``) of the per-class
values that the drift plugin logs (``CFID_clf/Class003`` and its ``_floor``, ``_excess``, ``_lo``,
``_hi``; :mod:`.qualifiers`). The cohort's interval is the mean's: the per-class half-widths added
in quadrature over the number of classes (the classes' estimates use disjoint samples).
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Dict, List, Mapping, Optional

from .qualifiers import EXCESS, FLOOR, HI, LO, qualified

_PER_CLASS = re.compile(r"^(?P<head>[^/]+)/train_phase/train_stream/(?P<cls>(?:Task\d+/)?Class\d+)$")


@dataclass(frozen=True)
class CohortPoint:
    """The cohort's mean over its classes at one experience: ``value``, ``floor`` and ``excess``
    (``None`` without floors), and the interval of the excess (else of the value)."""

    value: float
    floor: Optional[float]
    excess: Optional[float]
    lo: Optional[float]
    hi: Optional[float]


def _class_curves(table: Mapping[str, Mapping[int, float]], head: str) -> Dict[str, Mapping[int, float]]:
    out = {}
    for name, pts in table.items():
        m = _PER_CLASS.match(name)
        if m and m.group("head") == head:
            out[m.group("cls")] = pts
    return out


def cohort_curves(table: Mapping[str, Mapping[int, float]],
                  head: str = "CFID_clf") -> Dict[int, Dict[int, CohortPoint]]:
    """``{k: {experience: CohortPoint}}`` of the per-class values of ``head`` (e.g. ``CFID_clf``),
    cohort k holding the classes whose first value is at experience k."""
    values = _class_curves(table, head)
    floors = _class_curves(table, qualified(head, FLOOR))
    excess_lo, excess_hi = (_class_curves(table, qualified(qualified(head, EXCESS), q)) for q in (LO, HI))
    value_lo, value_hi = (_class_curves(table, qualified(head, q)) for q in (LO, HI))
    members: Dict[int, List[str]] = {}
    for cls, pts in values.items():
        if pts:
            members.setdefault(min(pts), []).append(cls)
    out: Dict[int, Dict[int, CohortPoint]] = {}
    for k, classes in sorted(members.items()):
        steps = sorted(set.intersection(*(set(values[c]) for c in classes)))
        curve = {}
        for x in steps:
            v = sum(values[c][x] for c in classes) / len(classes)
            has_floor = all(x in floors.get(c, {}) for c in classes)
            f = sum(floors[c][x] for c in classes) / len(classes) if has_floor else None
            lo_src, hi_src = (excess_lo, excess_hi) if has_floor else (value_lo, value_hi)
            centre = v - f if has_floor else v
            lo = hi = None
            if all(x in lo_src.get(c, {}) and x in hi_src.get(c, {}) for c in classes):
                half = math.sqrt(sum(((hi_src[c][x] - lo_src[c][x]) / 2) ** 2 for c in classes)) / len(classes)
                lo, hi = centre - half, centre + half
            curve[x] = CohortPoint(v, f, v - f if has_floor else None, lo, hi)
        out[k] = curve
    return out

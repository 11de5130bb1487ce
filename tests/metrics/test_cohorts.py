"""Cohort curves off a metric table, and the report's headline and interval marks built on them."""
import json

import pytest

from bootdrift_avalanche.experiments.report import write_report
from bootdrift_avalanche.experiments.tables import drift_table
from bootdrift_avalanche.metrics.cohorts import cohort_curves

S = "/train_phase/train_stream"


def _table():
    """Classes 0, 1 seen from experience 0, class 2 from experience 1; class 0 drifts."""
    t = {}
    for c, first in ((0, 0), (1, 0), (2, 1)):
        for x in range(first, 3):
            v = 10.0 + (5.0 * x if c == 0 else 0.0)
            t.setdefault(f"CFID_clf{S}/Class{c:03d}", {})[x] = v
            t.setdefault(f"CFID_clf_floor{S}/Class{c:03d}", {})[x] = 10.0
            t.setdefault(f"CFID_clf_excess{S}/Class{c:03d}", {})[x] = v - 10.0
            t.setdefault(f"CFID_clf_excess_lo{S}/Class{c:03d}", {})[x] = v - 10.0 - 3.0
            t.setdefault(f"CFID_clf_excess_hi{S}/Class{c:03d}", {})[x] = v - 10.0 + 3.0
    for x in range(3):
        t.setdefault(f"FID_clf{S}", {})[x] = 2.0 + 4 * x
        t.setdefault(f"FID_clf_lo{S}", {})[x] = 1.0 + 4 * x
        t.setdefault(f"FID_clf_hi{S}", {})[x] = 3.0 + 4 * x
        t.setdefault(f"FID_clf_floor{S}", {})[x] = 1.5
        t.setdefault(f"FID_clf_excess{S}", {})[x] = 0.5 + 4 * x
    return t


def test_cohorts_track_the_classes_first_seen_together():
    curves = cohort_curves(_table())
    assert sorted(curves) == [0, 1] and sorted(curves[0]) == [0, 1, 2] and sorted(curves[1]) == [1, 2]
    p = curves[0][2]  # classes 0 (excess 10) and 1 (excess 0) at experience 2
    assert p.value == pytest.approx(15.0) and p.floor == 10.0 and p.excess == pytest.approx(5.0)
    half = (3.0 ** 2 + 3.0 ** 2) ** 0.5 / 2  # per-class half-widths in quadrature over 2 classes
    assert (p.lo, p.hi) == (pytest.approx(5.0 - half), pytest.approx(5.0 + half))
    assert curves[1][2].excess == pytest.approx(0.0)  # class 2 does not drift


def test_report_headline_and_marks_and_the_printed_table(tmp_path):
    lines = [json.dumps({"name": n, "value": v, "step": x, "experience": x}) for n, pts in _table().items()
             for x, v in pts.items()]
    (tmp_path / "metrics.jsonl").write_text("\n".join(lines) + "\n")
    page = write_report(tmp_path).read_text()
    assert page.index("cohort 0") < page.index("<h2>Run</h2>")  # the headline comes first
    assert "▲ 6 [5, 7]" in page and "floor 1.5, excess 4.5" in page  # intervals 1-3 and 5-7 do not overlap
    text = drift_table({n: pts for n, pts in _table().items()})
    assert "cohort 0 CFID excess [95 %]" in text and "5 [2.88, 7.12]" in text.splitlines()[-1]

"""The verdicts of bench/reproduce_paper.py come from intervals: check the statistics it uses."""
import importlib.util
import math
from pathlib import Path

import pytest

_spec = importlib.util.spec_from_file_location(
    "reproduce_paper", Path(__file__).resolve().parents[1] / "bench" / "reproduce_paper.py")
rp = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(rp)


def test_t_interval_matches_the_textbook_value():
    m, h = rp.t_interval([1.0, 2.0, 3.0])
    assert m == 2.0 and h == pytest.approx(4.302653 * 1.0 / math.sqrt(3), rel=1e-5)
    assert math.isnan(rp.t_interval([1.0])[1])


@pytest.mark.parametrize("slopes,direction,verdict", [
    ([1.0, 1.2, 0.9], +1, "holds"),          # consistently growing
    ([1.0, -1.0, 0.5], +1, "mixed"),         # interval spans 0
    ([-1.0, -1.1, -0.9], +1, "does not hold"),
    ([-1.0, -1.1, -0.9], -1, "holds"),       # a fall, where the finding says "falls"
])
def test_trend_verdict_is_read_off_the_interval(slopes, direction, verdict):
    assert rp.trend(slopes, direction)[2] == verdict


def test_slope_ignores_missing_points():
    assert rp.slope([0.0, float("nan"), 2.0, 3.0]) == pytest.approx(1.0)

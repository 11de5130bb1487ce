"""Intervals of drift values (bootstrap, Wilson), their coverage, and the qualified names."""
import pytest
import torch

from bench.interval_coverage import coverage
from bootdrift_avalanche.metrics.floor import floor_names
from bootdrift_avalanche.metrics.intervals import bootstrap, bounds_names, wilson
from bootdrift_avalanche.metrics.qualifiers import base_name, qualified, qualifiers_of


@pytest.mark.slow
def test_95_percent_intervals_cover_the_true_fid_and_mmd_in_90_to_99_percent_of_200_draws():
    res = coverage(draws=200)
    for name, r in res.items():
        assert 0.90 <= r["coverage"] <= 0.99, (name, r)
        assert r["mc_se"] < 0.05 * r["width"]  # the "true" MMD² is known far better than the interval


def test_bootstrap_is_seeded_and_its_width_shrinks_with_n():
    g = torch.Generator().manual_seed(0)

    def stat(a, ya, b, yb):
        return {"m": float(a.mean() - b.mean())}

    widths = []
    for n in (50, 800):
        a, b = torch.randn(n, 1, generator=g), torch.randn(n, 1, generator=g)
        y = torch.zeros(n, dtype=torch.long)
        one = bootstrap(stat, a, y, b, y, estimate=stat(a, y, b, y), replicates=30, seed=3)
        assert one == bootstrap(stat, a, y, b, y, estimate=stat(a, y, b, y), replicates=30, seed=3)
        widths.append(one["m"][1] - one["m"][0])
    assert widths[1] < widths[0] / 2
    with pytest.raises(ValueError, match="replicates"):
        bootstrap(stat, a, y, b, y, estimate={}, replicates=1)


def test_wilson_interval():
    lo, hi = wilson(8, 10)
    assert lo == pytest.approx(0.4902, abs=1e-3) and hi == pytest.approx(0.9433, abs=1e-3)
    assert wilson(0, 5)[0] == pytest.approx(0.0, abs=1e-12) and wilson(5, 5)[1] == pytest.approx(1.0)


def test_qualified_names_keep_one_order():
    assert qualified("CFID_clf_lo/Class003", "_unguided") == "CFID_clf_unguided_lo/Class003"
    assert qualified(qualified("FID_clf", "_excess"), "_hi") == "FID_clf_excess_hi"
    assert base_name("CFID_clf_unguided_floor_lo/Class003") == "CFID_clf/Class003"
    assert qualifiers_of("RealAcc_ceiling") == ("_ceiling",)
    assert bounds_names({"FID_x": (1.0, 2.0)}) == {"FID_x_lo": 1.0, "FID_x_hi": 2.0}


def test_floor_names_excess_and_its_interval():
    values = {"FID_x": 5.0, "FID_x_lo": 4.0, "FID_x_hi": 6.0, "RealAcc": 0.8, "DriftTime": 1.0,
              "CFID_x/Class001": 3.0}
    floor = {"FID_x": 2.0, "FID_x_lo": 1.0, "FID_x_hi": 3.0, "RealAcc": 0.9, "DriftTime": 1.0, "CFID_x/Class001": 2.5}
    out = floor_names(values, floor)
    assert out["FID_x_floor"] == 2.0 and out["FID_x_excess"] == 3.0 and out["RealAcc_ceiling"] == 0.9
    half = 2 ** 0.5  # half-widths 1 and 1 in quadrature
    assert out["FID_x_excess_lo"] == pytest.approx(3.0 - half) and out["FID_x_excess_hi"] == pytest.approx(3.0 + half)
    assert out["CFID_x_floor/Class001"] == 2.5 and out["CFID_x_excess/Class001"] == 0.5
    assert not any(k.startswith("DriftTime") for k in out)

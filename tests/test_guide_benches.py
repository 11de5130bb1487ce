"""bench/guide_tuning.py and bench/guide_sweep.py run at tiny sizes (2 experiences); the sweep's summary
and figure on made-up rows."""
import importlib.util
from pathlib import Path

import pytest


def _load(name):
    spec = importlib.util.spec_from_file_location(name, Path(__file__).resolve().parents[1] / "bench" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_tuning_trials_start_from_the_reference_and_reach_the_plugin():
    tuning = _load("guide_tuning")
    assert tuning.TRIALS[0] == {"guidance_scale": 0.5, "sampler": "ddim"} and len(tuning.TRIALS) <= 5
    r = tuning._replay_tuning().run_trial("guide", {"recipe": {"guide": tuning.TRIALS[1]}}, preset="tiny", seed=0,
                                          experiences=2)
    assert 0.0 <= r["val_accuracy"] <= 1.0 and r["cpu_seconds"] > 0


@pytest.mark.slow
def test_the_sweep_reports_accuracy_forgetting_and_the_cohorts_drift_beyond_its_floor(tmp_path):
    sweep = _load("guide_sweep")
    r = sweep.run("guide", 0.5, seed=0, preset="tiny", experiences=2, out=tmp_path)
    assert 0.0 <= r["final_accuracy"] <= 1.0 and -1.0 <= r["forgetting_exp0"] <= 1.0
    for key in ("cohort0", "cohort0_unguided"):  # logged, with the floor and the excess's interval
        c = r[key]
        assert c["experience"] == 1 and c["floor"] is not None
        assert abs(c["value"] - c["floor"] - c["excess"]) < 1e-6 and c["lo"] <= c["excess"] <= c["hi"]
    assert r["cpu_seconds"] > 0


def test_the_summary_gives_t_intervals_a_rank_correlation_and_a_figure(tmp_path):
    sweep = _load("guide_sweep")

    def row(method, scale, seed, acc, forg, excess):
        none = dict.fromkeys(("value", "floor", "excess", "lo", "hi", "experience"))
        c = none if excess is None else {"value": excess + 10.0, "floor": 10.0, "excess": excess, "lo": excess - 1,
                                         "hi": excess + 1, "experience": 2}
        return {"method": method, "scale": scale, "seed": seed, "final_accuracy": acc, "forgetting_exp0": forg,
                "cohort0": c, "cohort0_unguided": none, "cpu_seconds": 1.0, "wall_seconds": 1.0}

    rows = [row("guide", s, seed, 0.9 - s / 10, s / 10 + seed / 100, 10 * s + seed) for s in (0.1, 0.5, 1.0)
            for seed in (0, 1, 2)] + [row("replay-buffer", None, seed, 0.95, 0.01, None) for seed in (0, 1)]
    summary = sweep.summarize(rows)
    guide = summary[0]
    assert guide["seeds"] == [0, 1, 2] and guide["excess"][0] == pytest.approx(2.0) and guide["excess"][2] == 3
    assert guide["excess"][1] == pytest.approx(4.303 / 3 ** 0.5, abs=1e-3)  # t(0.975, 2) * sd 1 / sqrt(3)
    assert summary[-1]["excess"][2] == 0  # a buffer has no drift
    corr = sweep.rank_correlations(summary)
    assert corr["n_configurations"] == 3 and corr["forgetting_exp0"][0] == pytest.approx(1.0)
    sweep.figure(summary, rows, tmp_path / "scatter.png")
    assert (tmp_path / "scatter.png").stat().st_size > 1000
    assert sweep.parse_run("gan-memory") == ("gan-memory", None) and sweep.parse_run("ddgr:1") == ("ddgr", 1.0)

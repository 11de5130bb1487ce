"""bench/guide_tuning.py and bench/guide_sweep.py run at tiny sizes (2 experiences)."""
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
def test_the_sweep_reports_accuracy_forgetting_and_the_cohorts_raw_drift(tmp_path):
    r = _load("guide_sweep").run("guide", 0.5, seed=0, preset="tiny", experiences=2, out=tmp_path)
    assert 0.0 <= r["final_accuracy"] <= 1.0 and -1.0 <= r["forgetting_exp0"] <= 1.0
    assert r["cfid_exp0"] == r["cfid_exp0"] and r["cfid_exp0_unguided"] == r["cfid_exp0_unguided"]  # logged

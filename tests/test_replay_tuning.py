"""bench/replay_tuning.py runs its trials (a broken solver call once went unnoticed here): one trial
per tuned method on tiny Split Digits-val, each on the recipe with the trial's settings."""
import importlib.util
from pathlib import Path

import pytest

spec = importlib.util.spec_from_file_location(
    "replay_tuning", Path(__file__).resolve().parents[1] / "bench" / "replay_tuning.py")
replay_tuning = importlib.util.module_from_spec(spec)
spec.loader.exec_module(replay_tuning)


@pytest.mark.parametrize("method", ["dgr-ddpm-anchored", "gan-memory-anchored"])
def test_a_trial_runs_on_the_validation_split(method):
    trial = replay_tuning.TRIALS[method][1]
    r = replay_tuning.run_trial(method, trial, preset="tiny", seed=0, experiences=2)
    assert 0.0 <= r["val_accuracy"] <= 1.0 and r["cpu_seconds"] > 0


def test_every_method_has_the_same_budget_and_starts_from_the_recipe_as_built():
    for method, trials in replay_tuning.TRIALS.items():
        assert len(trials) <= replay_tuning.BUDGET or method == "avalanche-gr"
    assert replay_tuning.TRIALS["dgr-ddpm-anchored"][0] == {} and replay_tuning.TRIALS["gan-memory-anchored"][0] == {}

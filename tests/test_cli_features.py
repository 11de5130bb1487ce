"""The --features flag: `bootdrift replay` checks the extractor before training (a missing weights file
is one clear error, nothing trained), `bootdrift bootstrap` hands it to the loop, and the metric
tags carry its name."""
import json

from bootdrift_avalanche import cli
from bootdrift_avalanche.metrics.features import INCEPTION_WEIGHTS


def test_replay_with_a_missing_weights_file_fails_before_training(tmp_path, capsys, monkeypatch):
    from avalanche.training.templates.base import BaseTemplate

    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.delenv(INCEPTION_WEIGHTS.env, raising=False)
    checkpoints = tmp_path / "torch" / "hub" / "checkpoints"

    def no_training(self, *args, **kwargs):
        raise AssertionError("training started before the feature extractor was checked")

    monkeypatch.setattr(BaseTemplate, "train", no_training)
    run = tmp_path / "run"
    assert cli.main(["replay", "--preset", "tiny", "--benchmark", "digits", "--experiences", "2", "--features",
                     "inception", "--no-umap", "--quiet", "--run-dir", str(run)]) == 2
    err = capsys.readouterr().err
    assert INCEPTION_WEIGHTS.file in err and str(checkpoints) in err


def test_bootstrap_cli_features_flag_reaches_the_loop(tmp_path):
    run = tmp_path / "run"
    assert cli.main(["bootstrap", "--generator", "ddpm", "--data", "digits", "--stages", "1", "--preset", "tiny",
                     "--generator-steps", "2", "--features", "random", "--quiet", "--run-dir", str(run)]) == 0
    assert json.loads((run / "config.json").read_text())["features"] == "random"
    heads = {json.loads(line)["name"].partition("/")[0] for line in (run / "metrics.jsonl").read_text().splitlines()}
    assert {"FID_random", "CFID_random", "OTDD_random", "RealAcc"} <= heads and "FID_clf" not in heads

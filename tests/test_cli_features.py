"""The --features flag: `bootdrift replay` checks the extractor before training (a missing weights file
is one clear error, nothing trained), `bootdrift bootstrap` hands it to the loop, the metric tags
carry its name, and the choice changes nothing but the feature-based values."""
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


def test_the_feature_space_does_not_change_training_or_samples(tmp_path):
    """Two runs that differ only in --features train the same solver and generator and score the
    same samples: accuracies and RealAcc (which uses no features) agree exactly. (GAN Memory: its
    replay has no guided and unguided pair to score, half the evaluation cost of DDGR.)"""
    from bootdrift_avalanche.experiments.config import ReplayConfig
    from bootdrift_avalanche.experiments.replay import run_replay

    out = {}
    for kind in ("random", "identity"):
        cfg = ReplayConfig(strategy="gan-memory", preset="tiny", experiences=2, umap=False, progress=False,
                           features=kind)
        out[kind] = run_replay(cfg, tmp_path / kind)
    assert out["random"].accuracy_matrix == out["identity"].accuracy_matrix
    assert out["random"].drift["RealAcc"] == out["identity"].drift["RealAcc"]
    assert "FID_random" in out["random"].drift and "FID_identity" in out["identity"].drift

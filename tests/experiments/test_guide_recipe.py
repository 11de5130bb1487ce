"""`bootdrift replay --strategy guide` at every preset: tiny and cpu-small (steps and replays cut) on Split
Digits, paper on fake CIFAR-100 files (the path ``bench/paper_step.py`` takes) with the tiny UNet
and the sampling steps cut in this process's presets table."""
import dataclasses
import json
from types import MappingProxyType

import pytest

from bootdrift_avalanche import cli
from bootdrift_avalanche.experiments import config
from bootdrift_avalanche.logging import read_metrics


def _names(run):
    return {r["name"] for r in read_metrics(run / "metrics.jsonl")}


def test_the_guide_setting_overrides_the_presets_entry():
    from bootdrift_avalanche.experiments.recipes.guide import GUIDERecipe

    cfg = config.resolve(config.ReplayConfig(strategy="guide", preset="cpu-small"))
    preset = config.PRESETS["cpu-small"]
    assert GUIDERecipe().options(cfg, preset)["guidance_scale"] == preset.guide["guidance_scale"]
    opts = GUIDERecipe(guide={"guidance_scale": 3.0}).options(cfg, preset)
    assert opts["guidance_scale"] == 3.0 and opts["replay_per_class"] == preset.replay_per_class
    assert GUIDERecipe().options(config.resolve(config.ReplayConfig(preset="paper")),
                                 config.PRESETS["paper"])["replay_per_class"] == 4  # the paper entry's own


def test_guide_replay_at_tiny_logs_the_guided_and_the_unguided_drift(tmp_path):
    run = tmp_path / "guide"
    assert cli.main(["replay", "--strategy", "guide", "--preset", "tiny", "--benchmark", "digits", "--experiences", "2",
                     "--run-dir", str(run), "--quiet", "--no-umap"]) == 0
    saved = json.loads((run / "config.json").read_text())
    assert saved["strategy"] == "guide"
    names = _names(run)
    assert {"FID_clf/train_phase/train_stream", "FID_clf_unguided/train_phase/train_stream",
            "Top1_Acc_Seen/eval_phase/test_stream"} <= names


def test_guide_replay_at_cpu_small_with_its_steps_cut(tmp_path, monkeypatch):
    small = dataclasses.replace(config.PRESETS["cpu-small"], replay_per_class=2)  # sampling steps stay
    monkeypatch.setattr(config, "PRESETS", MappingProxyType({**config.PRESETS, "cpu-small": small}))
    run = tmp_path / "guide"
    assert cli.main(["replay", "--strategy", "guide", "--preset", "cpu-small", "--benchmark", "digits",
                     "--experiences", "2", "--epochs", "1", "--generator-steps", "2",
                     "--n-per-class", "2", "--real-acc-epochs", "1", "--run-dir", str(run), "--quiet",
                     "--no-umap"]) == 0
    assert "FID_clf_unguided/train_phase/train_stream" in _names(run)


@pytest.mark.slow
def test_guide_replay_at_paper_on_fake_cifar100(tmp_path, monkeypatch):
    from tests.benchmarks.fake_data import write_fake_cifar100

    data = write_fake_cifar100(tmp_path / "fake_cifar100", n_per_class_train=2, n_per_class_test=2)
    paper = config.PRESETS["paper"]
    assert paper.guide["sampler"] == "ddim" and paper.guide["sampling_steps"] == 100  # the reference's
    cut = dataclasses.replace(
        paper, ddpm=MappingProxyType({**config.PRESETS["tiny"].ddpm, "num_inference_steps": 2}),
        guide=MappingProxyType({**paper.guide, "sampling_steps": 2, "generator_replay_per_class": 1}))
    monkeypatch.setattr(config, "PRESETS", MappingProxyType({**config.PRESETS, "paper": cut}))
    run = tmp_path / "run"
    assert cli.main(["replay", "--strategy", "guide", "--preset", "paper", "--benchmark", "cifar100",
                     "--data-root", str(data), "--experiences", "2", "--epochs", "1", "--generator-steps", "2",
                     "--n-per-class", "2", "--real-acc-epochs", "1", "--features", "random", "--no-umap",
                     "--quiet", "--run-dir", str(run)]) == 0
    saved = json.loads((run / "config.json").read_text())
    assert saved["preset"] == "paper" and saved["strategy"] == "guide"
    assert "FID_random_unguided/train_phase/train_stream" in _names(run)

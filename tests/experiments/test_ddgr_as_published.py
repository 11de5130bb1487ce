"""`ddgr` is DDGR as published: classifier guidance at the reference's scale by default, one
constant behind the plugin, the strategy, the recipe, the examples and the README; `dgr-ddpm` is the
same DDPM replay without guidance, under its own name."""
import inspect
import json
import re
from pathlib import Path

import pytest

from bootdrift_avalanche import cli
from bootdrift_avalanche.experiments.config import PRESETS, ReplayConfig, resolve
from bootdrift_avalanche.plugins.ddgr import GUIDANCE_SCALE, DDGRPlugin
from bootdrift_avalanche.strategies import DDGR

ROOT = Path(__file__).resolve().parents[2]


def test_the_published_scale_is_one_default_everywhere():
    assert GUIDANCE_SCALE == 1.0  # the reference's classifier_scale
    assert inspect.signature(DDGRPlugin).parameters["guidance_scale"].default == GUIDANCE_SCALE
    assert inspect.signature(DDGR).parameters["guidance_scale"].default == GUIDANCE_SCALE
    for name in PRESETS:
        assert resolve(ReplayConfig(strategy="ddgr", preset=name)).guidance_scale == GUIDANCE_SCALE
        assert resolve(ReplayConfig(strategy="dgr-ddpm", preset=name)).guidance_scale == 0.0
    # the text users copy: every guidance_scale= of the DDGR examples, the README and the replay page
    for path in ("examples/split_digits_ddgr.py", "examples/split_cifar100_ddgr.py", "README.md", "docs/REPLAY.md"):
        values = re.findall(r"guidance_scale=([0-9.]+)", (ROOT / path).read_text())
        assert values and all(float(v) == GUIDANCE_SCALE for v in values), (path, values)


def test_guidance_scale_is_refused_where_it_means_nothing():
    with pytest.raises(ValueError, match="dgr-ddpm is the DDPM replay without guidance"):
        resolve(ReplayConfig(strategy="dgr-ddpm", guidance_scale=1.0, preset="tiny"))
    for anchored in ("dgr-ddpm-anchored", "dgr-ddpm-anchored-select", "dgr-ddpm-anchored-moment"):
        assert resolve(ReplayConfig(strategy=anchored, preset="tiny")).guidance_scale == 0.0
        with pytest.raises(ValueError, match="without guidance"):  # a guided run would not be dgr-ddpm
            resolve(ReplayConfig(strategy=anchored, guidance_scale=1.0, preset="tiny"))
    with pytest.raises(ValueError, match="strategies with classifier guidance \\(ddgr, dgr-ddpm"):
        resolve(ReplayConfig(strategy="naive", guidance_scale=1.0, preset="tiny"))
    assert resolve(ReplayConfig(strategy="naive", preset="tiny")).guidance_scale is None
    assert resolve(ReplayConfig(strategy="ddgr", guidance_scale=0.0, preset="tiny")).guidance_scale == 0.0


class _Built(Exception):
    """Raised in place of training: the run is configured and its strategy built."""


@pytest.fixture
def built(monkeypatch):
    """Replaces training by recording, for the built strategy, the ``guidance_scale`` of the run's
    ``config.json`` and of its DDGR plugin (the run directory of a run that stops before its first
    checkpoint is removed, so it is read here)."""
    from avalanche.training.templates.base import BaseTemplate

    seen = {"run_dir": None, "config": [], "plugin": []}

    def record(self, *args, **kwargs):
        seen["config"].append(json.loads((seen["run_dir"] / "config.json").read_text())["guidance_scale"])
        seen["plugin"].append(next(p.guidance_scale for p in self.plugins if isinstance(p, DDGRPlugin)))
        raise _Built

    monkeypatch.setattr(BaseTemplate, "train", record)
    return seen


def _replay(seen, run_dir, *args):
    """``bootdrift replay ARGS`` up to its first training call: the config.json guidance scale."""
    seen["run_dir"] = run_dir
    with pytest.raises(_Built):
        cli.main(["replay", "--no-drift", "--no-umap", "--quiet", "--run-dir", str(run_dir), *args])
    return seen["config"][-1]


@pytest.mark.parametrize("preset", ["tiny", "cpu-small"])
def test_bootdrift_replay_ddgr_guides_at_the_published_scale(preset, tmp_path, built):
    assert _replay(built, tmp_path / "ddgr", "--strategy", "ddgr", "--preset", preset) == 1.0
    assert _replay(built, tmp_path / "off", "--strategy", "ddgr", "--preset", preset, "--guidance-scale", "0") == 0.0
    assert _replay(built, tmp_path / "dgr", "--strategy", "dgr-ddpm", "--preset", preset) == 0.0
    assert built["plugin"] == [1.0, 0.0, 0.0]


def test_bootdrift_replay_ddgr_at_the_paper_preset(tmp_path, built):
    """paper on fake CIFAR-100 files (as bench/paper_step.py): the reference's UNet is built, not trained."""
    from tests.benchmarks.fake_data import write_fake_cifar100

    data = write_fake_cifar100(tmp_path / "cifar", n_per_class_train=1, n_per_class_test=1)
    assert _replay(built, tmp_path / "run", "--strategy", "ddgr", "--preset", "paper", "--benchmark", "cifar100",
                   "--data-root", str(data), "--experiences", "2") == 1.0
    assert built["plugin"] == [1.0]


def test_a_scale_a_strategy_does_not_take_is_one_error_before_anything_runs(tmp_path, capsys):
    rc = cli.main(["replay", "--strategy", "naive", "--guidance-scale", "1", "--preset", "tiny", "--quiet",
                   "--run-dir", str(tmp_path / "run")])
    assert rc == 2 and "--guidance-scale" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


def test_dgr_ddpm_runs_from_the_command_line(tmp_path):
    run = tmp_path / "run"
    assert cli.main(["replay", "--strategy", "dgr-ddpm", "--preset", "tiny", "--experiences", "2", "--no-drift",
                     "--no-umap", "--quiet", "--run-dir", str(run)]) == 0
    saved = json.loads((run / "config.json").read_text())
    assert saved["strategy"] == "dgr-ddpm" and saved["guidance_scale"] == 0.0
    assert (run / "metrics.jsonl").read_text().count("Top1_Acc_Seen") == 2

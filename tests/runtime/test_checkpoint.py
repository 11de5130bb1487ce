import json

import pytest
import torch

from bootdrift_avalanche.runtime.checkpoint import (
    CheckpointError, CheckpointWarning, list_checkpoints, load_latest, save_checkpoint,
)
from bootdrift_avalanche.experiments.rundir import RunDirError, open_run_dir


def test_save_and_load_latest(tmp_path):
    for s in range(3):
        save_checkpoint(tmp_path, s, {"w": torch.full((3,), float(s))}, keep=2)
    assert [p.name for p in list_checkpoints(tmp_path)] == ["step_0001.pt", "step_0002.pt"]
    step, state = load_latest(tmp_path)
    assert step == 2 and torch.equal(state["w"], torch.full((3,), 2.0))
    assert not list(tmp_path.glob("*.tmp"))


def test_truncated_checkpoint_falls_back_with_warning(tmp_path):
    save_checkpoint(tmp_path, 0, {"w": torch.zeros(100)})
    p = save_checkpoint(tmp_path, 1, {"w": torch.ones(100)})
    p.write_bytes(p.read_bytes()[:50])
    with pytest.warns(CheckpointWarning, match="step_0001.pt.*SHA-256 mismatch"):
        step, state = load_latest(tmp_path)
    assert step == 0 and float(state["w"].sum()) == 0.0


def test_missing_hash_means_incomplete(tmp_path):
    save_checkpoint(tmp_path, 0, {"a": 1})
    p = save_checkpoint(tmp_path, 1, {"a": 2})
    p.with_name(p.name + ".sha256").unlink()
    with pytest.warns(CheckpointWarning, match="did not complete"):
        assert load_latest(tmp_path)[0] == 0


def test_all_corrupted_is_an_error(tmp_path):
    p = save_checkpoint(tmp_path, 0, {"a": 1})
    p.write_bytes(b"garbage")
    with pytest.warns(CheckpointWarning), pytest.raises(CheckpointError, match="all 1 checkpoint"):
        load_latest(tmp_path)
    assert load_latest(tmp_path / "none") is None


def test_run_dir_config_and_resume_check(tmp_path):
    d = open_run_dir(tmp_path / "run", {"seed": 0, "stages": 3, "device": "cpu"})
    cfg = json.loads((d / "config.json").read_text())
    assert cfg["seed"] == 0 and "torch" in cfg["versions"]
    assert (d / "tb").is_dir() and (d / "checkpoints").is_dir()
    with pytest.raises(RunDirError, match="already holds a run"):
        open_run_dir(d, {"seed": 0, "stages": 3})
    open_run_dir(d, {"seed": 0, "stages": 3, "device": "cuda"}, resume=True)  # device may differ
    with pytest.raises(RunDirError, match="another config.*seed"):
        open_run_dir(d, {"seed": 1, "stages": 3}, resume=True)


def test_resume_takes_a_setting_added_later_at_its_off_default_and_names_one_that_is_on(tmp_path):
    """A run started before a config field existed (text_file, added with the text loop) resumes when
    the field is at its default None; before, the check refused it and named no difference."""
    d = open_run_dir(tmp_path / "run", {"seed": 0, "stages": 3})
    open_run_dir(d, {"seed": 0, "stages": 3, "text_file": None}, resume=True)
    with pytest.raises(RunDirError, match=r"differs in: text_file\)"):
        open_run_dir(d, {"seed": 0, "stages": 3, "text_file": "a.txt"}, resume=True)

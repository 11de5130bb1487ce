"""Run directories: a run that fails before its first checkpoint leaves nothing behind."""
import pytest

from bootdrift_avalanche.benchmarks import MissingDataError
from bootdrift_avalanche.experiments.config import ReplayConfig
from bootdrift_avalanche.experiments.replay import run_replay
from bootdrift_avalanche.experiments.rundir import open_run


def test_a_run_that_fails_before_its_first_checkpoint_removes_its_directory(tmp_path):
    run_dir = tmp_path / "run"
    cfg = ReplayConfig(strategy="naive", benchmark="cifar100", data_root=str(tmp_path / "no-data"),
                       preset="tiny", experiences=1, progress=False)
    with pytest.raises(MissingDataError):
        run_replay(cfg, run_dir)
    assert not run_dir.exists()
    # so the same command can be run again once the data is there (not "already holds a run")
    with pytest.raises(MissingDataError):
        run_replay(cfg, run_dir)


def test_a_failed_run_keeps_its_checkpoints_and_a_directory_it_did_not_create(tmp_path):
    kept = tmp_path / "kept"
    with pytest.raises(RuntimeError):
        with open_run(kept, {"kind": "replay", "seed": 0}) as run:
            run.checkpoint(0, {"x": 1})
            raise RuntimeError("crash after a checkpoint")
    assert (kept / "config.json").exists() and any((kept / "checkpoints").iterdir())

    existing = tmp_path / "existing"
    existing.mkdir()
    (existing / "notes.txt").write_text("user file")
    with pytest.raises(Exception):
        with open_run(existing, {"kind": "replay", "seed": 0}):
            raise RuntimeError("crash")
    assert (existing / "notes.txt").read_text() == "user file"

"""Avalanche's own ``save_checkpoint`` / ``maybe_load_checkpoint`` in a user's script with DDGRPlugin
and the drift metrics: a run SIGKILLed after an experience and resumed ends with the same metric
values as one that ran through (the clock, the RNGs, the plugin's and the drift metrics' state all
come back from the checkpoint)."""
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch

SCRIPT = Path(__file__).with_name("avalanche_resume_script.py")
ROOT = Path(__file__).resolve().parents[2]


def _run(tmp_path, ckpt, out, *kill_after):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run([sys.executable, str(SCRIPT), str(tmp_path / ckpt), str(tmp_path / out),
                           *map(str, kill_after)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)


def test_optimizers_pickle_with_dill_after_the_plugins_are_imported():
    import dill

    import bootdrift_avalanche.plugins  # noqa: F401 - puts torch.optim's submodule names back

    opt = torch.optim.SGD(torch.nn.Linear(2, 2).parameters(), lr=0.1)
    back = dill.loads(dill.dumps(opt))
    assert type(back) is torch.optim.SGD and back.param_groups[0]["lr"] == 0.1


@pytest.mark.slow
def test_a_killed_and_resumed_script_ends_with_the_values_of_an_uninterrupted_one(tmp_path):
    through = _run(tmp_path, "a.ckpt", "a.json")
    assert through.returncode == 0, through.stderr[-3000:]
    killed = _run(tmp_path, "b.ckpt", "b.json", 0)
    assert killed.returncode == -signal.SIGKILL and (tmp_path / "b.ckpt").exists()
    assert not (tmp_path / "b.json").exists()
    resumed = _run(tmp_path, "b.ckpt", "b.json")
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    a, b = json.loads((tmp_path / "a.json").read_text()), json.loads((tmp_path / "b.json").read_text())
    timing = {k for k in a if k.startswith("DriftTime")}
    assert any(k.startswith("FID_random/") for k in a) and any(k.startswith("Top1_Acc_Stream") for k in a)
    assert {k: v for k, v in a.items() if k not in timing} == {k: v for k, v in b.items() if k not in timing}

"""The default device: the GPU when torch sees one (said on the console), for the CLI too; a
device given, or a resumed run's own, is kept."""
import pytest
import torch

from bootdrift_avalanche import cli
from bootdrift_avalanche.runtime.device import default_device, resolve_device


@pytest.mark.parametrize("cuda", [True, False])
def test_default_device_follows_cuda_availability(monkeypatch, capsys, cuda):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda)
    want = "cuda" if cuda else "cpu"
    assert default_device() == want
    assert resolve_device(None) == want and f"device: {want}" in capsys.readouterr().out
    assert resolve_device("cpu") == "cpu" and "device: cpu\n" in capsys.readouterr().out


def test_cli_defaults_to_cuda_when_available_unless_told_or_resuming(monkeypatch, capsys):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    seen = []
    monkeypatch.setattr(cli, "cmd_replay", lambda a: seen.append(a.device) or 0)
    assert cli.main(["replay", "--preset", "tiny"]) == 0
    assert cli.main(["replay", "--device", "cpu"]) == 0
    assert cli.main(["replay", "--resume", "runs/x"]) == 0  # None: the saved run's device
    assert seen == ["cuda", "cpu", None]
    assert "device: cuda" in capsys.readouterr().out

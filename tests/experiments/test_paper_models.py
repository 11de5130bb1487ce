"""The presets table decides the classifiers: SmallCNN on the CPU presets, Avalanche's SlimResNet18
(CIFAR-100, 32x32) and torchvision's ResNet-18 (Flowers102, 64x64) in `paper`, for the solver and
the RealAcc classifier alike; `bootdrift replay --preset paper --benchmark cifar100` builds them."""
import dataclasses
import importlib.util
import json
from pathlib import Path

import pytest
import torch
from avalanche.models.slim_resnet18 import ResNet as AvalancheResNet
from torchvision.models.resnet import ResNet as TorchvisionResNet

import bootdrift_avalanche.metrics.accuracy as accuracy_mod
from bootdrift_avalanche.experiments import config
from bootdrift_avalanche.metrics import real_data_accuracy
from bootdrift_avalanche.nets import CLASSIFIERS, SmallCNN, build_classifier, train_classifier

_spec = importlib.util.spec_from_file_location(
    "paper_step", Path(__file__).resolve().parents[2] / "bench" / "paper_step.py")
paper_step = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(paper_step)


@pytest.mark.parametrize("name,shape,expected", [
    ("tiny", (3, 32, 32), "small"), ("cpu-small", (3, 64, 64), "small"), ("paper", (1, 8, 8), "small"),
    ("paper", (3, 32, 32), "slim-resnet18"), ("paper", (3, 64, 64), "resnet18"),
])
def test_the_presets_table_picks_the_classifier_by_image_side(name, shape, expected):
    assert config.PRESETS[name].classifier_name(shape) == expected


def test_solvers_of_each_preset():
    tiny = config.PRESETS["tiny"].solver((3, 32, 32), 100)
    assert isinstance(tiny, SmallCNN) and tiny.conv[0].out_channels == config.PRESETS["tiny"].solver_width
    paper = config.PRESETS["paper"]
    slim = paper.solver((3, 32, 32), 100)
    assert isinstance(slim, AvalancheResNet) and slim.conv1.out_channels == 20 and slim.linear.out_features == 100
    flowers = paper.solver((3, 64, 64), 102)
    assert isinstance(flowers, TorchvisionResNet) and flowers.fc.out_features == 102
    assert flowers(torch.rand(2, 3, 64, 64)).shape == (2, 102)
    assert isinstance(paper.solver((1, 8, 8), 10), SmallCNN)  # Split Digits has no paper-scale model


def test_classifier_registry_errors():
    assert set(CLASSIFIERS) == {"small", "slim-resnet18", "resnet18"}
    with pytest.raises(ValueError, match="unknown classifier 'resnet'.*slim-resnet18"):
        build_classifier("resnet", (3, 32, 32), 10)
    with pytest.raises(ValueError, match="needs 3x32x32 images, got \\(3, 64, 64\\)"):
        build_classifier("slim-resnet18", (3, 64, 64), 10)
    with pytest.raises(ValueError, match="64x64"):
        build_classifier("resnet18", (3, 32, 32), 10)
    with pytest.raises(ValueError, match="fixed widths"):
        build_classifier("resnet18", (3, 64, 64), 10, width=32)
    with pytest.raises(ValueError, match="no preset entry for images of side 8"):
        dataclasses.replace(config.PRESETS["paper"], classifier={32: "slim-resnet18"}).classifier_name((3, 8, 8))


def test_slim_resnet18_trains_reproducibly_and_scores_real_accuracy():
    g = torch.Generator().manual_seed(0)
    x, y = torch.rand(12, 3, 32, 32, generator=g), torch.arange(12) % 3
    a = train_classifier(build_classifier("slim-resnet18", (3, 32, 32), 3), x, y, epochs=1, batch_size=6, seed=5)
    b = train_classifier(build_classifier("slim-resnet18", (3, 32, 32), 3), x, y, epochs=1, batch_size=6, seed=5)
    for (k, p), q in zip(a.state_dict().items(), b.state_dict().values()):
        assert torch.equal(p, q), k  # batch-norm statistics included
    r = real_data_accuracy(x, y, x, y, epochs=1, batch_size=6, classifier="slim-resnet18")
    assert 0.0 <= r.accuracy <= 1.0 and r.chance == pytest.approx(1 / 3)


@pytest.mark.slow
def test_replay_cli_with_the_paper_preset_builds_slim_resnet18_solver_and_real_acc(tmp_path, capsys):
    """bench/paper_step.py, which bench/gpu_check.sh runs on cuda with the paper's UNet, on the CPU:
    `bootdrift replay --preset paper --benchmark cifar100 --data-root <fake> --experiences 1` with
    step counts cut by flags and tiny's DDPM (2 sampling steps); the solver and the RealAcc
    classifier are SlimResNet18s, FID is logged as FID_random."""
    assert paper_step.main(["--device", "cpu", "--tiny-ddpm", "--sampling-steps", "2", "--out", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    assert "PASS solver is SlimResNet18" in printed and "PASS RealAcc classifier is SlimResNet18" in printed
    saved = json.loads((tmp_path / "run" / "config.json").read_text())
    assert saved["preset"] == "paper" and saved["features"] == "random" and saved["benchmark"] == "cifar100"
    assert config.PRESETS["paper"].ddpm["num_inference_steps"] == 250  # the cut preset did not leak out
    assert accuracy_mod.train_classifier is train_classifier



def test_the_bootstrapping_experiment_takes_the_presets_real_acc_classifier(monkeypatch, tmp_path):
    """`bootdrift bootstrap --preset paper` on 64x64 images scores RealAcc with the preset's ResNet-18
    (the loop builds its own SuiteConfig); points take the small classifier."""
    from bootdrift_avalanche.experiments.bootstrap import run_bootstrap_experiment

    seen = {}

    def fake_loop(*args, real_acc_classifier, **kw):
        seen["classifier"] = real_acc_classifier

    monkeypatch.setattr("bootdrift_avalanche.bootstrap.loop.run_bootstrap", fake_loop)
    x, y = torch.rand(8, 3, 64, 64), torch.arange(8) % 2
    monkeypatch.setattr("bootdrift_avalanche.experiments.registry.bootstrap_data_loader",
                        lambda name: (lambda cfg: ((x, y), (x, y), None)))
    run_bootstrap_experiment(config.BootstrapConfig(generator="ddpm", data="digits", preset="paper", stages=1,
                                                    progress=False), tmp_path / "run")
    assert seen["classifier"] == "resnet18"
    assert config.PRESETS["paper"].classifier_name((2,)) == "small"

"""The presets table decides the classifiers: SmallCNN on the CPU presets, Avalanche's SlimResNet18
(CIFAR-100, 32x32) and torchvision's ResNet-18 (Flowers102, 64x64) in `paper`, for the solver and
the RealAcc classifier alike; `bootdrift replay --preset paper --benchmark cifar100` builds them."""
import dataclasses
import json
from types import MappingProxyType

import pytest
import torch
from avalanche.models.slim_resnet18 import ResNet as AvalancheResNet
from torchvision.models.resnet import ResNet as TorchvisionResNet

import bootdrift_avalanche.metrics.accuracy as accuracy_mod
from bootdrift_avalanche import cli
from bootdrift_avalanche.experiments import config
from bootdrift_avalanche.metrics import real_data_accuracy
from bootdrift_avalanche.nets import CLASSIFIERS, SmallCNN, build_classifier, train_classifier
from bootdrift_avalanche.runtime.checkpoint import load_latest

from ..benchmarks.fake_data import write_fake_cifar100


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
def test_replay_cli_with_the_paper_preset_builds_slim_resnet18_solver_and_real_acc(tmp_path, monkeypatch):
    """`bootdrift replay --preset paper --benchmark cifar100 ... --experiences 1`: the solver and the
    RealAcc classifier are SlimResNet18s. Only sizes the classes do not depend on are made tiny: the
    DDPM is tiny's with 2 sampling steps (the paper's ADM UNet samples far too slowly on a CPU; the
    drift metrics sample 100 classes one by one), and the step counts come from flags.
    bench/gpu_check.sh runs the same command on cuda with the paper's own DDPM."""
    tiny_ddpm = MappingProxyType({**config.PRESETS["tiny"].ddpm, "num_inference_steps": 2})
    paper = dataclasses.replace(config.PRESETS["paper"], ddpm=tiny_ddpm)
    monkeypatch.setattr(config, "PRESETS", MappingProxyType({**config.PRESETS, "paper": paper}))
    trained = []
    real_train = accuracy_mod.train_classifier

    def spy(model, *args, **kwargs):  # the RealAcc classifier is trained here (the solver by Avalanche)
        trained.append(model)
        return real_train(model, *args, **kwargs)

    monkeypatch.setattr(accuracy_mod, "train_classifier", spy)
    data, run = write_fake_cifar100(tmp_path / "data", n_per_class_train=2, n_per_class_test=2), tmp_path / "run"
    assert cli.main(["replay", "--preset", "paper", "--benchmark", "cifar100", "--data-root", str(data),
                     "--device", "cpu", "--experiences", "1", "--epochs", "1", "--generator-steps", "2",
                     "--n-per-class", "2", "--real-acc-epochs", "1", "--features", "random", "--no-umap",
                     "--quiet", "--run-dir", str(run)]) == 0

    saved = json.loads((run / "config.json").read_text())
    assert saved["preset"] == "paper" and saved["features"] == "random"
    step, state = load_latest(run / "checkpoints")
    assert step == 0
    solver = build_classifier("slim-resnet18", (3, 32, 32), 100)
    solver.load_state_dict(state["strategy"]["model"])  # strict: the saved solver is a SlimResNet18
    assert trained and all(isinstance(m, AvalancheResNet) and m.linear.out_features == 100 for m in trained)
    tags = {json.loads(line)["name"] for line in (run / "metrics.jsonl").read_text().splitlines()}
    assert {"FID_random/train_phase/train_stream", "RealAcc/train_phase/train_stream"} <= tags
    assert not any("_clf" in t for t in tags)

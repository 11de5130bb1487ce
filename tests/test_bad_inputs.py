"""Every public entry point refuses bad input with one clear message (a table of cases)."""
import pytest
import torch

from bootdrift_avalanche.experiments.bootstrap import run_bootstrap_experiment
from bootdrift_avalanche.experiments.config import PRESETS, BootstrapConfig, ReplayConfig
from bootdrift_avalanche.generators.ddpm import DDPMGenerator
from bootdrift_avalanche.generators.gan_memory import GANMemoryGenerator
from bootdrift_avalanche.generators.wgan import WGANGenerator
from bootdrift_avalanche.metrics import cfid, frechet_distance, otdd
from bootdrift_avalanche.experiments.replay import run_replay
from bootdrift_avalanche.experiments.rundir import RunDirError, open_run_dir


def _ddpm():
    return DDPMGenerator(PRESETS["tiny"].ddpm_config(image_shape=(1, 8, 8), num_classes=10))


X = torch.rand(20, 1, 8, 8)
Y = torch.arange(20) % 10
F = torch.randn(30, 4)
L = torch.arange(30) % 3
NAN_F = F.clone()
NAN_F[3, 1] = float("nan")


def _refit_resume(tmp_path):
    open_run_dir(tmp_path / "r", {"kind": "replay", "seed": 0})
    open_run_dir(tmp_path / "r", {"kind": "replay", "seed": 1}, resume=True)


CASES = [
    ("ddpm: wrong image shape", lambda t: _ddpm().fit(torch.rand(20, 3, 8, 8), Y), ValueError, r"shape \(N, 1, 8, 8\)"),
    ("ddpm: wrong channels", lambda t: _ddpm().fit(torch.rand(20, 8, 8), Y), ValueError, r"shape"),
    ("ddpm: values out of range", lambda t: _ddpm().fit(X * 255, Y), ValueError, r"must lie in \[0.0, 1.0\]"),
    ("ddpm: NaN training images", lambda t: _ddpm().fit(X.masked_fill(X > 0.99, float("nan")), Y),
     ValueError, r"NaN or Inf"),
    ("ddpm: labels out of range", lambda t: _ddpm().generate(torch.tensor([3, 12])),
     ValueError, r"class id 12.*10 classes"),
    ("ddpm: float labels", lambda t: _ddpm().generate(torch.tensor([1.0, 2.0])), TypeError, r"integer"),
    ("wgan: wrong point dimension", lambda t: WGANGenerator().fit(torch.randn(10, 3), torch.arange(10) % 5),
     ValueError, r"shape"),
    ("gan memory: unknown label",
     lambda t: GANMemoryGenerator(PRESETS["tiny"].gan_memory_config(image_shape=(1, 8, 8), num_classes=10))
     .fit(X[:10], Y[:10] % 2).generate(torch.tensor([7])),
     ValueError, r"7"),
    ("fid: NaN features", lambda t: frechet_distance(NAN_F, F), ValueError, r"NaN/Inf.*row: 3"),
    ("fid: 1-D features", lambda t: frechet_distance(F[:, 0], F), ValueError, r"2-D"),
    ("fid: feature dimension mismatch", lambda t: frechet_distance(F, torch.randn(30, 5)),
     ValueError, r"differ: 4 vs 5"),
    ("fid: too few samples", lambda t: frechet_distance(F[:1], F), ValueError, r"at least 2"),
    ("cfid: class with 1 sample",
     lambda t: cfid(F, torch.cat([L[:-1], torch.tensor([7])]), F, torch.cat([L[:-1], torch.tensor([7])])),
     ValueError, r"class 7"),
    ("otdd: class with 1 sample", lambda t: otdd(F, torch.cat([L[:-1], torch.tensor([7])]), F, L), ValueError, r"7"),
    ("otdd: feature dimension mismatch", lambda t: otdd(F, L, torch.randn(30, 5), L), ValueError, r"4 vs 5"),
    ("replay: unknown strategy", lambda t: run_replay(ReplayConfig(strategy="dgr"), t / "x"),
     ValueError, r"unknown strategy 'dgr'"),
    ("replay: unknown benchmark", lambda t: run_replay(ReplayConfig(benchmark="mnist"), t / "x"),
     ValueError, r"unknown benchmark 'mnist'"),
    ("bootstrap: unknown data", lambda t: run_bootstrap_experiment(BootstrapConfig(data="cifar"), t / "x"),
     ValueError, r"unknown data 'cifar'"),
    ("bootstrap: wgan on images",
     lambda t: run_bootstrap_experiment(BootstrapConfig(data="digits", generator="wgan", preset="tiny"), t / "x"),
     ValueError, r"wgan generator models points"),
    ("resume: run dir of another config", _refit_resume,
     RunDirError, r"belongs to another config \(differs in: seed\)"),
]


@pytest.mark.parametrize("name,call,exc,match", CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_refused_clearly(tmp_path, name, call, exc, match):
    with pytest.raises(exc, match=match):
        call(tmp_path)

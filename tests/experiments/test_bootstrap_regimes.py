"""``bootdrift bootstrap --regime ... --mix-real --fresh-size --sampling-bias`` through the experiment
layer: the fresh pools of the registered data sets, the CLI run, and the errors."""
import json

import pytest
import torch

from bootdrift_avalanche.cli import main
from bootdrift_avalanche.experiments.config import BootstrapConfig, resolve
from bootdrift_avalanche.experiments.registry import FRESH_POOLS, SAMPLING_BIAS


def test_digits_fresh_pool_is_a_stratified_disjoint_split():
    g = torch.Generator().manual_seed(0)
    y = torch.arange(10).repeat_interleave(30)
    x = torch.rand(len(y), 1, 8, 8, generator=g)
    cfg = BootstrapConfig(data="digits", generator="ddpm", regime="fresh", mix_real=0.25, fresh_size=100)
    (xd, yd), (xp, yp) = FRESH_POOLS["digits"](cfg, (x, y))
    assert len(yd) == 200 and len(yp) == 100
    assert torch.equal(torch.bincount(yp), torch.full((10,), 10))  # 1/3 of every class
    rows = lambda t: {tuple(r.flatten().tolist()) for r in t}  # noqa: E731
    assert not rows(xd) & rows(xp) and rows(xd) | rows(xp) == rows(x)
    with pytest.raises(ValueError, match="give --fresh-size between 1 and 299"):
        FRESH_POOLS["digits"](BootstrapConfig(data="digits", regime="fresh"), (x, y))


def test_gmm_fresh_pool_holds_what_the_stages_need():
    cfg = resolve(BootstrapConfig(regime="fresh", mix_real=0.3, stages=4, preset="tiny"))  # 500 points
    train = (torch.zeros(500, 2), torch.arange(500) % 5)
    _, (xp, yp) = FRESH_POOLS["gmm"](cfg, train)
    assert torch.equal(torch.bincount(yp), torch.full((5,), 3 * 30))  # 3 later stages x round(0.3 * 100)
    assert SAMPLING_BIAS["wgan"](0.7) == {"truncation": 0.7}


def test_cli_fresh_regime_with_sampling_bias_runs_and_records_its_config(tmp_path, capsys):
    d = tmp_path / "fresh"
    args = ["bootstrap", "--generator", "wgan", "--data", "gmm", "--stages", "2", "--regime", "fresh",
            "--mix-real", "0.5", "--sampling-bias", "0.8", "--preset", "tiny", "--quiet", "--run-dir", str(d)]
    assert main(args) == 0
    cfg = json.loads((d / "config.json").read_text())
    assert (cfg["regime"], cfg["mix_real"], cfg["sampling_bias"]) == ("fresh", 0.5, 0.8)
    assert main(["bootstrap", "--resume", str(d), "--quiet"]) == 0
    for extra, message in ((), "--fresh-size"), (("--fresh-size", "400", "--stages", "3"), "fresh pool runs out"):
        rc = main(["bootstrap", "--data", "digits", "--generator", "ddpm", "--regime", "fresh", "--mix-real", "0.5",
                   "--preset", "tiny", "--quiet", "--run-dir", str(tmp_path / "digits"), *extra])
        assert rc == 2 and message in capsys.readouterr().err
        assert not (tmp_path / "digits").exists()  # refused, and no run directory is left behind

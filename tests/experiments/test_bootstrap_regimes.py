"""``bootdrift bootstrap --regime ... --mix-real --fresh-size --sampling-bias --guidance-scale
--train-size`` through the experiment layer: the fresh pools and D of the registered data sets, the
DDPM's guidance classifier, every regime and knob on digits from the CLI and the API, and the errors."""
import json

import pytest
import torch

from bootdrift_avalanche.bootstrap.regimes import REGIMES
from bootdrift_avalanche.cli import main
from bootdrift_avalanche.experiments.bootstrap import run_bootstrap_experiment
from bootdrift_avalanche.experiments.config import PRESETS, BootstrapConfig, resolve
from bootdrift_avalanche.experiments.registry import FRESH_POOLS, SAMPLING_BIAS, TRAIN_SUBSETS, sampling_kwargs
from bootdrift_avalanche.generators.ddpm import DDPMGenerator
from bootdrift_avalanche.nets import predict


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


def _rows(t):
    return {tuple(r.flatten().tolist()) for r in t}


def test_train_size_gives_every_regime_the_same_stratified_d_with_the_fresh_pool_outside_it():
    g = torch.Generator().manual_seed(0)
    y = torch.arange(10).repeat_interleave(30)
    x = torch.rand(len(y), 1, 8, 8, generator=g)
    cfg = BootstrapConfig(data="digits", generator="ddpm", train_size=100, fresh_size=150)
    xd, yd = TRAIN_SUBSETS["digits"](cfg, (x, y))
    assert torch.equal(torch.bincount(yd), torch.full((10,), 10))  # stratified
    (xf, yf), (xp, yp) = FRESH_POOLS["digits"](cfg, (x, y))
    assert torch.equal(xf, xd) and torch.equal(yf, yd)  # the fresh regime starts from the same D
    assert len(yp) == 150 and not _rows(xp) & _rows(xd)
    # without --train-size the fresh regime keeps its old split: D is everything outside the pool
    (xo, _), _ = FRESH_POOLS["digits"](BootstrapConfig(data="digits", fresh_size=150), (x, y))
    assert len(xo) == 150 and _rows(xo) | _rows(xp) == _rows(x)
    with pytest.raises(ValueError, match="--train-size 200 does not fit the 300 training points less the 150 of "
                                         "the fresh pool of 'digits': give --train-size between 1 and 150"):
        FRESH_POOLS["digits"](BootstrapConfig(data="digits", train_size=200, fresh_size=150), (x, y))


def test_ddpm_guidance_classifier_is_trained_once_on_d_and_is_a_wgan_error():
    cfg = resolve(BootstrapConfig(data="digits", generator="ddpm", preset="tiny", guidance_scale=2.0,
                                  sampling_bias=5, real_acc_epochs=20))
    g = torch.Generator().manual_seed(0)
    y = torch.arange(2).repeat_interleave(40)
    x = torch.rand(len(y), 1, 8, 8, generator=g) * 0.3 + 0.7 * y[:, None, None, None]  # two separable classes
    kw = sampling_kwargs(cfg, PRESETS["tiny"], (x, y), 2)
    assert (kw["num_inference_steps"], kw["guidance_scale"]) == (5, 2.0)
    clf = kw["guidance"]
    assert float((predict(clf, x) == y).float().mean()) == 1.0  # it learned D
    again = sampling_kwargs(cfg, PRESETS["tiny"], (x, y), 2)["guidance"]  # what a resumed run rebuilds
    assert all(torch.equal(a, b) for a, b in zip(clf.state_dict().values(), again.state_dict().values()))
    assert sampling_kwargs(resolve(BootstrapConfig(data="digits", generator="ddpm")), PRESETS["tiny"], (x, y),
                           2) is None
    with pytest.raises(ValueError, match="--guidance-scale is a knob of the ddpm generator"):
        sampling_kwargs(resolve(BootstrapConfig(guidance_scale=1.0)), PRESETS["tiny"], (x, y), 2)


def _spy_generate(monkeypatch):
    """Record the keywords of every ``DDPMGenerator.generate`` call."""
    calls, original = [], DDPMGenerator.generate

    def generate(self, labels, **kw):
        calls.append(kw)
        return original(self, labels, **kw)

    monkeypatch.setattr(DDPMGenerator, "generate", generate)
    return calls


def test_cli_digits_with_guidance_and_sampling_steps_runs_resumes_and_guides_every_stage(tmp_path, monkeypatch, capsys):
    calls = _spy_generate(monkeypatch)
    d = tmp_path / "digits"
    args = ["bootstrap", "--data", "digits", "--generator", "ddpm", "--preset", "tiny", "--stages", "2",
            "--regime", "augment", "--mix-real", "0.5", "--guidance-scale", "2", "--sampling-bias", "5",
            "--train-size", "100", "--generator-steps", "2", "--quiet", "--run-dir", str(d)]
    assert main(args) == 0
    cfg = json.loads((d / "config.json").read_text())
    assert (cfg["guidance_scale"], cfg["sampling_bias"], cfg["train_size"]) == (2.0, 5.0, 100)
    loop = [kw for kw in calls if "guidance" in kw]  # (the drift suite's sample grid does not sample)
    assert len(loop) == 2 and all(kw["guidance_scale"] == 2.0 and kw["num_inference_steps"] == 5 for kw in loop)
    assert all(isinstance(kw["guidance"], torch.nn.Module) for kw in loop)
    assert main(["bootstrap", "--resume", str(d), "--quiet"]) == 0  # complete: nothing left to run
    rc = main(["bootstrap", "--data", "gmm", "--train-size", "100", "--preset", "tiny", "--quiet",
               "--run-dir", str(tmp_path / "gmm")])
    assert rc == 2 and "--train-size applies to digits, flowers102, not 'gmm'" in capsys.readouterr().err


@pytest.mark.parametrize("regime", sorted(REGIMES))
def test_every_regime_runs_on_digits_through_the_api(tmp_path, regime):
    mix = {"augment": 0.5, "fresh": 0.5}.get(regime, 0.0)
    cfg = BootstrapConfig(data="digits", generator="ddpm", preset="tiny", stages=2, regime=regime, mix_real=mix,
                          train_size=100, fresh_size=50 if regime == "fresh" else None, generator_steps=2,
                          sampling_bias=3, progress=False)
    sizes = []
    res = run_bootstrap_experiment(cfg, tmp_path / regime, on_stage=lambda s, x, y, v: sizes.append(len(y)))
    assert sizes == [100, 100] and len(res.stages) == 2 and all("CFID_clf" in s for s in res.stages)


def test_stage0_from_another_regime_gives_the_results_of_training_it(tmp_path, monkeypatch):
    base = dict(data="digits", generator="ddpm", preset="tiny", stages=2, train_size=100, generator_steps=2,
                progress=False)
    run_bootstrap_experiment(BootstrapConfig(regime="replace", **base), tmp_path / "replace")
    full = run_bootstrap_experiment(BootstrapConfig(regime="accumulate", **base), tmp_path / "full")
    fits = []
    original = DDPMGenerator.fit
    monkeypatch.setattr(DDPMGenerator, "fit",
                        lambda self, x, y, **kw: fits.append(len(y)) or original(self, x, y, **kw))
    shared = run_bootstrap_experiment(BootstrapConfig(regime="accumulate", **base), tmp_path / "shared",
                                      stage0_from=tmp_path / "replace" / "checkpoints" / "step_0000.pt")
    assert fits == [200]  # stage 0 was not trained again; stage 1 trained on D and S_0
    timeless = lambda res: [{k: v for k, v in s.items() if k != "DriftTime"} for s in res.stages]  # noqa: E731
    assert timeless(shared) == timeless(full)  # every value of both stages (but the seconds they took)
    with pytest.raises(ValueError, match="is the checkpoint of stage 1, not of stage 0"):
        run_bootstrap_experiment(BootstrapConfig(regime="accumulate", **base), tmp_path / "bad",
                                 stage0_from=tmp_path / "replace" / "checkpoints" / "step_0001.pt")

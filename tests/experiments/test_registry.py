"""Strategy recipes: every registered one builds on tiny Split Digits, round-trips its state, and
the strategy name is switched on nowhere outside the registry."""
import re
from pathlib import Path

import pytest
import torch

from bootdrift_avalanche.experiments import registry
from bootdrift_avalanche.experiments.config import PRESETS, ReplayConfig, resolve
from bootdrift_avalanche.experiments.replay import build_solver

PACKAGE = Path(__file__).resolve().parents[2] / "bootdrift_avalanche"


def _ctx(name):
    cfg = resolve(ReplayConfig(strategy=name, preset="tiny", experiences=2, progress=False))
    rec = registry.recipe(name)
    bm = registry.benchmark_builder("digits")(cfg, rec.task_labels)
    from avalanche.training.plugins import EvaluationPlugin

    model = build_solver(bm, PRESETS["tiny"])
    return rec, registry.BuildContext(cfg=cfg, preset=PRESETS["tiny"], benchmark=bm, model=model,
                                      evaluator=EvaluationPlugin(loggers=[]))


@pytest.mark.parametrize("name", registry.strategy_names())
def test_recipe_builds_and_restores_its_state(name):
    rec, ctx = _ctx(name)
    strategy = rec.build(ctx)
    assert rec.has_generator == (rec.generator(strategy) is not None)
    torch.manual_seed(0)
    with torch.no_grad():
        for p in strategy.model.parameters():
            p.add_(torch.randn_like(p))
    state = rec.state_dict(strategy)
    rec2, ctx2 = _ctx(name)
    fresh = rec2.build(ctx2)
    rec2.load_state_dict(fresh, state, ctx2, done=0)
    for a, b in zip(strategy.model.state_dict().values(), fresh.model.state_dict().values()):
        assert torch.equal(a, b)


def test_unknown_names_list_the_choices():
    with pytest.raises(ValueError, match="unknown strategy 'dgr'; choose one of ddgr"):
        registry.recipe("dgr")
    with pytest.raises(ValueError, match="unknown benchmark 'mnist'"):
        registry.benchmark_builder("mnist")
    with pytest.raises(ValueError, match="unknown data 'cifar'"):
        registry.bootstrap_data_loader("cifar")


def test_no_string_switch_on_the_strategy_outside_the_registry():
    pattern = re.compile(r"strategy\s*(==|!=|in\s*\()")
    hits = [f"{p.relative_to(PACKAGE)}:{i}" for p in PACKAGE.rglob("*.py")
            for i, line in enumerate(p.read_text().splitlines(), 1) if pattern.search(line)]
    assert hits == []


def test_digits_validation_is_the_train_split_alone():
    from bootdrift_avalanche.benchmarks.digits import load_digits_tensors

    cfg = resolve(ReplayConfig(benchmark="digits-val", preset="tiny", experiences=2, seed=1))
    bm = registry.benchmark_builder("digits-val")(cfg, False)
    x_tr, _, x_te, _ = load_digits_tensors()

    def images(stream):
        return torch.cat([torch.stack([s[0] for s in exp.dataset]) for exp in stream]).flatten(1)

    fit, val = images(bm.train_stream), images(bm.test_stream)
    assert len(fit) + len(val) == len(x_tr) and len(val) == pytest.approx(0.2 * len(x_tr), abs=10)
    train_rows = {tuple(r) for r in x_tr.flatten(1).tolist()}
    only_test = {tuple(r) for r in x_te.flatten(1).tolist()} - train_rows  # test images absent from train
    rows = {tuple(r) for r in torch.cat([fit, val]).tolist()}
    assert rows <= train_rows and not rows & only_test


def test_recipe_settings_reach_the_strategy_and_unknown_ones_fail():
    from avalanche.training.plugins import GenerativeReplayPlugin

    rec, ctx = _ctx("avalanche-gr")
    strategy = type(rec)(nhid=3, replay_size=7, train_mb_size=8).build(ctx)
    assert strategy.generator_strategy.model.dim == 3 and strategy.train_mb_size == 8
    assert {p.replay_size for p in strategy.plugins if isinstance(p, GenerativeReplayPlugin)} == {7}
    assert type(rec)().describe(ctx.cfg, ctx.preset)["train_mb_size"] == rec.SETTINGS["train_mb_size"]
    ddgr, ctx = _ctx("ddgr")
    assert type(ddgr)(replay_ratio=None).build(ctx).ddgr_plugin.replay_ratio is None
    with pytest.raises(ValueError, match="unknown DDGRRecipe setting"):
        type(ddgr)(nhid=3)

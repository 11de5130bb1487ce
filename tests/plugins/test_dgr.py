"""Plain class-conditional generative replay (DGRPlugin) with the StyleGAN2 generator: the replay set
of the old classes goes into the mini-batches, the generator continues on real data plus its own
replays, the drift metrics score exactly that replay, and the ``dgr-stylegan2`` recipe runs from
the command line."""
import json

import pytest
import torch
from avalanche.training.plugins import EvaluationPlugin
from avalanche.training.templates import SupervisedTemplate

from bootdrift_avalanche.benchmarks import split_digits
from bootdrift_avalanche.cli import main
from bootdrift_avalanche.experiments.config import PRESETS
from bootdrift_avalanche.generators.stylegan2 import StyleGAN2Generator
from bootdrift_avalanche.logging import read_metrics, record_x
from bootdrift_avalanche.plugins import DDGRPlugin, DGRPlugin
from bootdrift_avalanche.plugins.generator_lookup import find_sampler

from .test_ddgr import BatchSpy, TinyCNN


class FitSpy(StyleGAN2Generator):
    """Records the label counts of every ``fit``."""

    def __init__(self, cfg):
        super().__init__(cfg)
        self.fed = []

    def fit(self, x, y, **kw):
        self.fed.append(torch.bincount(y, minlength=10).tolist())
        return super().fit(x, y, **kw)


def test_dgr_replays_old_classes_and_retrains_the_stylegan2_on_real_plus_replays():
    torch.manual_seed(0)
    bm = split_digits(n_experiences=2)
    gen = FitSpy(PRESETS["tiny"].stylegan2_config(image_shape=(1, 8, 8), num_classes=10, train_steps=2))
    plugin = DGRPlugin(gen, replay_per_class=3, replay_ratio=0.5, seed=0)
    spy = BatchSpy()
    model = TinyCNN()
    strategy = SupervisedTemplate(model=model, optimizer=torch.optim.SGD(model.parameters(), lr=0.05),
                                  criterion=torch.nn.CrossEntropyLoss(), train_mb_size=32, train_epochs=1,
                                  plugins=[plugin, spy], evaluator=EvaluationPlugin(loggers=[]))
    old, new = bm.classes_per_experience
    for exp in bm.train_stream:
        strategy.train(exp)
    # experience 1's mini-batches: its own classes plus replay_ratio x as many replays of experience 0's
    assert all(set(y.tolist()) <= set(old) for e, _, y in spy.batches if e == 0)  # nothing to replay yet
    for y in (y for e, _, y in spy.batches if e == 1):
        n_old = sum(int((y == c).sum()) for c in old)
        assert n_old == max(1, round(0.5 * (len(y) - n_old))) and set(y.tolist()) - set(old) <= set(new)
    # the generator fits: real data of experience 0; then experience 1's real data plus 3 replays per old class
    real = [[int((torch.tensor(list(e.dataset.targets)) == c).sum()) for c in range(10)] for e in bm.train_stream]
    assert gen.fed[0] == real[0]
    assert gen.fed[1] == [r + (3 if c in old else 0) for c, r in enumerate(real[1])]
    assert sorted(plugin.replay_y.tolist()) == sorted(torch.tensor(old).repeat_interleave(3).tolist())
    # the drift metrics sample the plugin, unguided: what it replays is the generator's own samples
    sampler = find_sampler(strategy)
    assert sampler.plugin is plugin and not sampler.guided
    assert torch.equal(plugin.replay_samples(strategy, plugin.replay_y, seed=4), gen.generate(plugin.replay_y, seed=4))


def test_ddgr_refuses_a_generator_without_guidance_where_dgr_takes_it():
    gen = StyleGAN2Generator(PRESETS["tiny"].stylegan2_config(image_shape=(1, 8, 8), num_classes=10))
    with pytest.raises(TypeError, match="guidance"):
        DDGRPlugin(gen)
    DGRPlugin(gen)


def test_dgr_stylegan2_recipe_runs_from_the_command_line(tmp_path):
    d = tmp_path / "run"
    assert main(["replay", "--strategy", "dgr-stylegan2", "--benchmark", "digits", "--experiences", "2",
                 "--preset", "tiny", "--run-dir", str(d), "--quiet", "--no-umap"]) == 0
    cfg = json.loads((d / "config.json").read_text())
    assert cfg["strategy"] == "dgr-stylegan2"
    recs = read_metrics(d / "metrics.jsonl")
    for name in ("FID_clf/train_phase/train_stream", "Top1_Acc_Seen/eval_phase/test_stream"):
        assert sorted(record_x(r) for r in recs if r["name"] == name) == [0, 1], name

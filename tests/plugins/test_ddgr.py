"""DDGR on a tiny 2-experience Split Digits stream, in both mini-batch formats."""
import time

import pytest
import torch
from avalanche.core import SupervisedPlugin
from avalanche.training.plugins import EvaluationPlugin

from bootdrift_avalanche.benchmarks import split_digits
from bootdrift_avalanche.experiments.config import PRESETS
from bootdrift_avalanche.generators.ddpm import DDPMGenerator
from bootdrift_avalanche.plugins import DDGRPlugin
from bootdrift_avalanche.plugins.generator_lookup import find_generator
from bootdrift_avalanche.strategies import DDGR


def tiny_ddpm(**over):
    return DDPMGenerator(PRESETS["tiny"].ddpm_config(image_shape=(1, 8, 8), num_classes=10, **over))


class TinyCNN(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.net = torch.nn.Sequential(torch.nn.Conv2d(1, 8, 3, padding=1), torch.nn.ReLU(),
                                       torch.nn.AdaptiveAvgPool2d(2), torch.nn.Flatten(), torch.nn.Linear(32, 10))

    def forward(self, x):
        return self.net(x)


class BatchSpy(SupervisedPlugin):
    """Records the labels of every training mini-batch after the replay plugin has run."""

    def __init__(self):
        super().__init__()
        self.batches = []

    def before_forward(self, strategy, **kw):
        self.batches.append((strategy.clock.train_exp_counter, len(strategy.mbatch), strategy.mbatch[1].clone()))


def run_tiny(strategy_cls, task_labels, **kw):
    """A tiny DDPM replay strategy (``DDGR``, ``GUIDE``) over two Split Digits experiences; returns the
    benchmark, the strategy, the spy of its mini-batches and the generator's fit info per experience."""
    torch.manual_seed(0)
    bm = split_digits(n_experiences=2, task_labels=task_labels)
    gen = tiny_ddpm(train_steps=3, num_inference_steps=3)
    model = TinyCNN()
    spy = BatchSpy()
    strategy = strategy_cls(model=model, optimizer=torch.optim.SGD(model.parameters(), lr=0.05),
                            criterion=torch.nn.CrossEntropyLoss(), generator=gen, train_mb_size=64, train_epochs=1,
                            plugins=[spy], evaluator=EvaluationPlugin(loggers=[]), **kw)
    fed = []
    for exp in bm.train_stream:
        strategy.train(exp)
        fed.append(dict(gen.last_fit_info))
    return bm, strategy, spy, fed


def _run(task_labels, replay_per_class=3):
    return run_tiny(DDGR, task_labels, replay_per_class=replay_per_class, guidance_scale=1.0, generator_steps=3)


@pytest.mark.parametrize("task_labels", [False, True])
def test_tiny_ddgr_two_experiences(task_labels):
    t0 = time.perf_counter()
    bm, strategy, spy, fed = _run(task_labels)
    assert time.perf_counter() - t0 < 60
    old, new = bm.classes_per_experience
    plugin = strategy.ddgr_plugin
    # the replay set of experience 2 holds only old classes, replay_per_class of each
    assert sorted(plugin.replay_y.tolist()) == sorted(old * 3)
    assert plugin.replay_x.shape == (len(old) * 3, 1, 8, 8)
    assert 0.0 <= float(plugin.replay_x.min()) and float(plugin.replay_x.max()) <= 1.0
    # mini-batches: experience 0 has only its own classes; experience 1 has its classes + replay
    exp0 = torch.cat([b for e, _, b in spy.batches if e == 0])
    exp1 = torch.cat([b for e, _, b in spy.batches if e == 1])
    assert set(exp0.tolist()) == set(old)
    assert set(exp1.tolist()) == set(old) | set(new)
    assert all(n == (3 if task_labels else 2) for _, n, _ in spy.batches)
    # the generator was fed real data of the experience, plus the replays of the old classes after exp 0
    n_real = [len(e.dataset) for e in bm.train_stream]
    assert fed[0]["num_samples"] == n_real[0]
    assert fed[1]["num_samples"] == n_real[1] + len(old) * 3
    counts = fed[1]["label_counts"]
    for c in old:
        assert counts[c] == 3
    assert strategy.generator is plugin.generator


def test_replay_samples_are_guided_like_the_replay_set():
    """What the drift metrics sample (``replay_samples``) is the generator guided by a frozen copy of
    the current classifier over the seen classes, as the replay set is drawn; seeded."""
    bm, strategy, _, _ = _run(False)
    plugin, gen = strategy.ddgr_plugin, strategy.generator
    labels = torch.tensor(sorted(plugin.seen_classes)).repeat_interleave(2)
    a = plugin.replay_samples(strategy, labels, seed=4)
    assert a.shape == (len(labels), 1, 8, 8) and a.device.type == "cpu"
    assert torch.equal(a, plugin.replay_samples(strategy, labels, seed=4))
    guided = gen.generate(labels, seed=4, guidance=strategy.model, guidance_scale=plugin.guidance_scale,
                          guidance_classes=sorted(plugin.seen_classes))
    torch.testing.assert_close(a, guided)
    assert not torch.equal(a, gen.generate(labels, seed=4))  # guidance changes the samples
    assert all(p.requires_grad for p in strategy.model.parameters())  # the learner itself is not frozen


def test_ddgr_plugin_on_any_template_exposes_its_generator():
    from avalanche.training import Naive

    gen = tiny_ddpm()
    model = TinyCNN()
    plugin = DDGRPlugin(gen)
    strategy = Naive(model=model, optimizer=torch.optim.SGD(model.parameters(), lr=0.1),
                     criterion=torch.nn.CrossEntropyLoss(), plugins=[plugin], evaluator=EvaluationPlugin(loggers=[]))
    assert find_generator(strategy) is gen and plugin.generator is gen and DDGRPlugin.supports_distributed


def test_bad_arguments():
    gen = tiny_ddpm()
    with pytest.raises(ValueError, match="replay_per_class"):
        DDGRPlugin(gen, replay_per_class=0)
    with pytest.raises(ValueError, match="replay_ratio"):
        DDGRPlugin(gen, replay_ratio=-1)

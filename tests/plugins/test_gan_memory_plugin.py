"""GAN Memory through the Avalanche plugin/strategy on a tiny Split Digits stream."""
from types import SimpleNamespace

import pytest
import torch
from avalanche.training.plugins import EvaluationPlugin

from bootdrift_avalanche.benchmarks import split_digits
from bootdrift_avalanche.generators.gan_memory import GANMemoryGenerator
from bootdrift_avalanche.logging import JSONLinesLogger, read_metrics
from bootdrift_avalanche.plugins import GANMemoryPlugin
from bootdrift_avalanche.strategies import GANMemory

from ..generators.test_gan_memory import tiny
from .test_ddgr import BatchSpy, TinyCNN


@pytest.mark.parametrize("task_labels", [False, True])
def test_gan_memory_strategy_replays_old_tasks_without_forgetting(tmp_path, task_labels):
    torch.manual_seed(0)
    bm = split_digits(n_experiences=3, task_labels=task_labels)
    gen = GANMemoryGenerator(tiny())
    model = TinyCNN()
    spy = BatchSpy()
    strategy = GANMemory(model=model, optimizer=torch.optim.SGD(model.parameters(), lr=0.05),
                         criterion=torch.nn.CrossEntropyLoss(), generator=gen, replay_per_class=4,
                         train_mb_size=64, plugins=[spy],
                         evaluator=EvaluationPlugin(loggers=[JSONLinesLogger(tmp_path / "m.jsonl")]))
    z = torch.randn(4, gen.config.z_dim)
    first = bm.classes_per_experience[0]
    snapshots = []
    for k, exp in enumerate(bm.train_stream):
        strategy.train(exp)
        snapshots.append(gen.generate(torch.tensor(first[:1] * 4), z=z))
        if k >= 1:
            old = [c for g in bm.classes_per_experience[:k] for c in g]
            assert sorted(strategy.gan_memory_plugin.replay_y.tolist()) == sorted(old * 4)
    assert torch.equal(snapshots[0], snapshots[1]) and torch.equal(snapshots[0], snapshots[2])
    assert gen.task_ids == [0, 1, 2]
    labels_seen = torch.cat([b for e, _, b in spy.batches if e == 2])
    assert set(labels_seen.tolist()) == set(range(10))  # current classes + replay of all old ones
    recs = read_metrics(tmp_path / "m.jsonl")
    params = [r for r in recs if r["name"] == "GANMemoryTaskParams/train_phase/train_stream"]
    assert [r["experience"] for r in params] == [0, 1, 2]
    steps = [r["step"] for r in params]  # Avalanche's x: training iterations so far
    assert 0 < steps[0] < steps[1] < steps[2]
    assert params[0]["value"] == gen.task_parameter_count(0) > 0
    assert strategy.generator is gen
    # what the drift metrics sample is what the plugin replays: the seeded memory itself
    plugin = strategy.gan_memory_plugin
    labels = torch.tensor([0, 5, 9])
    assert torch.equal(plugin.replay_samples(strategy, labels, seed=3), gen.generate(labels, seed=3))


class _FitRecorder:
    has_base, task_ids = False, [0]

    def __init__(self):
        self.fits = []

    def fit(self, x, y, *, steps=None, progress=False):
        self.fits.append((len(x), progress))
        return self

    def generate(self, labels, *, seed=None):  # never called here; the plugin requires it
        return torch.zeros(len(labels), 1, 8, 8)

    def task_parameter_count(self, task):
        return 1

    def base_parameter_count(self):
        return 2


@pytest.mark.parametrize("progress", [False, True])
def test_plugin_passes_progress_to_fit(progress):
    gen = _FitRecorder()
    plugin = GANMemoryPlugin(gen, progress=progress)
    data = torch.utils.data.TensorDataset(torch.rand(6, 1, 8, 8), torch.tensor([0, 1] * 3))
    exp = SimpleNamespace(dataset=data, classes_in_this_experience=[0, 1])
    plugin.after_training_exp(SimpleNamespace(experience=exp, clock=SimpleNamespace(train_exp_counter=0),
                                              evaluator=None))
    assert gen.fits == [(6, progress)] and plugin.seen_classes == [0, 1]

"""GAN Memory through the Avalanche plugin/strategy on a tiny Split Digits stream."""
import pytest
import torch
from avalanche.training.plugins import EvaluationPlugin

from bootdrift_avalanche.benchmarks import split_digits
from bootdrift_avalanche.generators.gan_memory import GANMemory as GANMemoryGenerator, GANMemoryConfig
from bootdrift_avalanche.logging import JSONLinesLogger, read_metrics
from bootdrift_avalanche.strategies import GANMemory

from .test_ddgr import BatchSpy, TinyCNN


@pytest.mark.parametrize("task_labels", [False, True])
def test_gan_memory_strategy_replays_old_tasks_without_forgetting(tmp_path, task_labels):
    torch.manual_seed(0)
    bm = split_digits(n_experiences=3, task_labels=task_labels)
    gen = GANMemoryGenerator(GANMemoryConfig.tiny(num_classes=10))
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
    assert [r["step"] for r in params] == [0, 1, 2]
    assert params[0]["value"] == gen.task_parameter_count(0) > 0
    assert strategy.generator is gen

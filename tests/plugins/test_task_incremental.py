"""Task-incremental streams (``class_ids_from_zero_in_each_exp=True``) and multi-head models with
the replay plugins and the drift metrics: guidance through the task's head,
replays with their own task label, generator and metrics keyed on (task, class), and refusals
before the first experience trains. Stream: digits 0-3 at 8x8 as 2 tasks of classes {0, 1}."""
import re

import pytest
import torch
from avalanche.benchmarks import nc_benchmark
from avalanche.core import SupervisedPlugin
from avalanche.models import MTSimpleMLP
from avalanche.training import Naive
from avalanche.training.plugins import EvaluationPlugin

from bootdrift_avalanche.benchmarks.digits import load_digits_tensors
from bootdrift_avalanche.experiments.config import PRESETS
from bootdrift_avalanche.generators.ddpm import DDPMGenerator
from bootdrift_avalanche.generators.gan_memory import GANMemoryGenerator
from bootdrift_avalanche.logging import JSONLinesLogger, read_metrics
from bootdrift_avalanche.metrics import SuiteConfig
from bootdrift_avalanche.plugins import DDGRPlugin, GANMemoryPlugin, drift_metrics
from bootdrift_avalanche.plugins.drift import per_class_layout
from bootdrift_avalanche.plugins.replay import append_to_minibatch
from bootdrift_avalanche.plugins.task_keys import TaskClassLabels, check_stream, experience_keys
from bootdrift_avalanche.strategies import avalanche_generative_replay

from ..generators.test_gan_memory import tiny as tiny_gan


def tiny_ddpm(num_classes, **over):
    return DDPMGenerator(PRESETS["tiny"].ddpm_config(image_shape=(1, 8, 8), num_classes=num_classes, **over))


def _digits():
    x_tr, y_tr, x_te, y_te = load_digits_tensors(image_size=8, test_size=0.2)

    def ds(x, y):
        keep = y < 4
        d = torch.utils.data.TensorDataset(x[keep], y[keep])
        d.targets = y[keep].tolist()
        return d

    return ds(x_tr, y_tr), ds(x_te, y_te), (x_te, y_te)


def task_incremental_digits():
    train, test, _ = _digits()
    return nc_benchmark(train, test, n_experiences=2, task_labels=True, class_ids_from_zero_in_each_exp=True,
                        fixed_class_order=[0, 1, 2, 3], seed=0)


class TaskBatchSpy(SupervisedPlugin):
    """Records (experience, y, t) of every training mini-batch after the replay plugin ran."""

    def __init__(self):
        super().__init__()
        self.batches = []

    def before_forward(self, strategy, **kw):
        self.batches.append((strategy.clock.train_exp_counter, strategy.mbatch[1].clone(), strategy.mbatch[2].clone()))


class TwoWayCNN(torch.nn.Module):
    """One head of 2 outputs shared by both tasks (class ids 0 and 1 in each)."""

    def __init__(self):
        super().__init__()
        self.net = torch.nn.Sequential(torch.nn.Conv2d(1, 8, 3, padding=1), torch.nn.ReLU(),
                                       torch.nn.AdaptiveAvgPool2d(2), torch.nn.Flatten(), torch.nn.Linear(32, 2))

    def forward(self, x):
        return self.net(x)


class RecordingMTMLP(MTSimpleMLP):
    """``MTSimpleMLP`` on 8x8 images that records the task labels of its eval-mode calls (DDGR's
    guidance calls a frozen eval copy; training calls are in train mode)."""

    guidance_tasks = []

    def forward(self, x, task_labels):
        if not self.training:
            RecordingMTMLP.guidance_tasks.append(sorted(set(torch.as_tensor(task_labels).flatten().tolist())))
        return super().forward(x, task_labels)


def _ddgr_run(model, *, drift=None):
    torch.manual_seed(0)
    bm = task_incremental_digits()
    gen = tiny_ddpm(num_classes=4, train_steps=3, num_inference_steps=3)
    plugin = DDGRPlugin(gen, replay_per_class=3, guidance_scale=1.0, generator_steps=3)
    spy = TaskBatchSpy()
    suite = SuiteConfig(otdd=False, real_accuracy=False, samples=False, umap=False)
    metrics = drift_metrics(reference_stream=bm.test_stream, features="random", n_per_class=10, unguided=False,
                            suite=suite) if drift else []
    loggers = [JSONLinesLogger(drift / "metrics.jsonl")] if drift else []
    strategy = Naive(model=model, optimizer=torch.optim.SGD(model.parameters(), lr=0.05),
                     criterion=torch.nn.CrossEntropyLoss(), train_mb_size=64, train_epochs=1,
                     plugins=[plugin, spy], evaluator=EvaluationPlugin(*metrics, loggers=loggers))
    fed = []
    for exp in bm.train_stream:
        strategy.train(exp)
        fed.append(dict(gen.last_fit_info))
    return bm, strategy, plugin, spy, fed, metrics


@pytest.fixture(scope="module")
def single_head_run(tmp_path_factory):
    return _ddgr_run(TwoWayCNN(), drift=tmp_path_factory.mktemp("task_il"))


def test_ddgr_guidance_calls_a_multi_head_model_with_each_replayed_pairs_task():
    """Before: ``model(x)`` without task labels, a TypeError at the start of experience 1."""
    RecordingMTMLP.guidance_tasks.clear()
    _, strategy, plugin, _, _, _ = _ddgr_run(RecordingMTMLP(input_size=64, hidden_size=16))
    # the replay set of experience 1 (task 0's pairs) was guided by task 0's head, at every denoising step
    assert RecordingMTMLP.guidance_tasks and all(t == [0] for t in RecordingMTMLP.guidance_tasks)
    assert plugin.replay_y.tolist() == [0, 0, 0, 1, 1, 1]
    # the guidance moved the samples: without it the same seed gives other images
    unguided = plugin.generator.generate(plugin.replay_y, seed=0)
    assert not torch.allclose(plugin.replay_samples(strategy, plugin.replay_y, seed=0), unguided)
    # task 1's pairs are guided by task 1's head
    RecordingMTMLP.guidance_tasks.clear()
    plugin.replay_samples(strategy, torch.tensor([2, 3]), seed=0)
    assert RecordingMTMLP.guidance_tasks and all(t == [1] for t in RecordingMTMLP.guidance_tasks)


def test_replayed_samples_carry_their_own_task_label(single_head_run):
    """Before: replays took the current mini-batch's task label (1), so task 0's classes trained as task 1's."""
    _, _, _, spy, _, _ = single_head_run
    y = torch.cat([b for e, b, _ in spy.batches if e == 1])
    t = torch.cat([t for e, _, t in spy.batches if e == 1])
    assert set(torch.cat([t for e, _, t in spy.batches if e == 0]).tolist()) == {0}
    assert set(t.tolist()) == {0, 1}
    # replay_ratio 1: every mini-batch is half replay, all of it task 0's classes 0 and 1
    assert int((t == 0).sum()) == int((t == 1).sum())
    assert set(y[t == 0].tolist()) == {0, 1}


def test_repeated_class_ids_are_keyed_by_task_and_class(single_head_run):
    """Before: task 1's digits 2 and 3 were trained and scored as classes 0 and 1 (task 0's digits)."""
    bm, strategy, plugin, _, fed, metrics = single_head_run
    n_real = [int((torch.tensor(list(e.dataset.targets)) == c).sum()) for e in bm.train_stream for c in (0, 1)]
    assert fed[0]["label_counts"][:4] == n_real[:2] + [0, 0]
    # experience 1: task 1's real images under labels 2 and 3, task 0's replays under 0 and 1
    assert fed[1]["label_counts"][:4] == [3, 3] + n_real[2:]
    assert plugin.labels.keys() == [(0, 0), (0, 1), (1, 0), (1, 1)]
    assert plugin.seen_classes == [0, 1, 2, 3]
    comp = metrics[0].computation
    assert comp.labels.keys() == plugin.labels.keys()  # the drift metrics agree on every label
    _, values = comp._last
    per_class = sorted(k for k in values.scalars if "/Class" in k and k.startswith("CFID_random/"))
    assert per_class == [f"CFID_random/Task{t:03d}/Class{c:03d}" for t in (0, 1) for c in (0, 1)]
    # logged per pair, and drawn in the one "Drift per class" chart
    logged = read_metrics(strategy.evaluator.loggers[0].path)
    tags = sorted({r["name"] for r in logged if r["name"].startswith("CFID_random/") and "/Task" in r["name"]})
    assert tags == [f"CFID_random/train_phase/train_stream/Task{t:03d}/Class{c:03d}" for t in (0, 1) for c in (0, 1)]
    (pattern,) = per_class_layout(["CFID_random"])["Drift per class"]["CFID_random"][1]
    assert all(re.match(pattern, t) for t in tags)
    # the reference of the pair (1, 0) is digit 2 of the test split, not digit 0
    _, _, (x_te, y_te) = _digits()
    ref = comp._reference.samples((1, 0))
    digit2 = x_te[y_te == 2].flatten(1)
    assert all(bool((digit2 == row.flatten()).all(1).any()) for row in ref)


def test_gan_memory_learns_repeated_class_ids_as_new_pairs():
    """Before: GAN Memory refused task 1's classes 0 and 1 ("already belong to task 0") after
    experience 1 had trained; now each (task, class) pair is a label of its own."""
    torch.manual_seed(0)
    bm = task_incremental_digits()
    gen = GANMemoryGenerator(tiny_gan(num_classes=4))
    plugin = GANMemoryPlugin(gen, replay_per_class=2)
    model = TwoWayCNN()
    strategy = Naive(model=model, optimizer=torch.optim.SGD(model.parameters(), lr=0.05),
                     criterion=torch.nn.CrossEntropyLoss(), train_mb_size=64, plugins=[plugin],
                     evaluator=EvaluationPlugin(loggers=[]))
    for exp in bm.train_stream:
        strategy.train(exp)
    assert gen.task_ids == [0, 1] and gen.classes_of(1) == [2, 3]
    assert plugin.labels.key(2) == (1, 0)


def _refused_before_training(strategy, spy, bm, match):
    with pytest.raises(ValueError, match=match):
        strategy.train(bm.train_stream[0])
    assert spy.batches == []  # nothing trained


def test_a_generator_with_too_few_labels_for_the_pairs_is_refused_before_training():
    bm = task_incremental_digits()
    spy = TaskBatchSpy()
    model = TwoWayCNN()
    strategy = Naive(model=model, optimizer=torch.optim.SGD(model.parameters(), lr=0.05),
                     criterion=torch.nn.CrossEntropyLoss(), train_mb_size=64,
                     plugins=[DDGRPlugin(tiny_ddpm(num_classes=2)), spy], evaluator=EvaluationPlugin(loggers=[]))
    _refused_before_training(strategy, spy, bm, r"4 \(task, class\) pairs.*built for 2 classes.*num_classes=4")


def test_avalanche_generative_replay_is_refused_on_a_task_incremental_stream_before_training():
    bm = task_incremental_digits()
    spy = TaskBatchSpy()
    model = TwoWayCNN()
    evaluator = EvaluationPlugin(*drift_metrics(reference_stream=bm.test_stream, features="random", n_per_class=4,
                                                suite=SuiteConfig(umap=False, real_accuracy=False)), loggers=[])
    strategy = avalanche_generative_replay(model=model, optimizer=torch.optim.SGD(model.parameters(), lr=0.05),
                                           criterion=torch.nn.CrossEntropyLoss(), image_shape=(1, 8, 8),
                                           plugins=[spy], evaluator=evaluator)
    _refused_before_training(strategy, spy, bm, "GenerativeReplay on a task-incremental stream")


def test_task_class_labels():
    ci = TaskClassLabels([(0, 3), (0, 7), (1, 1), (1, 2)])  # unique class ids: labels are the ids
    assert [ci.label(*k) for k in ci.keys()] == [3, 7, 1, 2] and not ci.repeated
    ti = TaskClassLabels([(0, 0), (0, 1), (1, 0), (1, 1), (2, 0), (2, 1)])
    assert [ti.label(*k) for k in ti.keys()] == [0, 1, 2, 3, 4, 5] and ti.repeated
    assert ti.key(3) == (1, 1) and ti.of_task(2) == [4, 5] and ti.name(3, with_task=True) == "Task001/Class001"
    tasks, classes = ti.to_keys(torch.tensor([5, 0]))
    assert tasks.tolist() == [2, 0] and classes.tolist() == [1, 0]
    assert ti.to_labels(tasks, classes).tolist() == [5, 0]
    again = TaskClassLabels()
    again.load_state_dict(ti.state_dict())
    assert again.keys() == ti.keys() and again.label(2, 1) == 5
    with pytest.raises(KeyError, match="label 9"):
        ti.key(9)
    bm = task_incremental_digits()
    assert experience_keys(bm.train_stream[1]) == [(1, 0), (1, 1)]
    check_stream(ti.keys(), tiny_ddpm(num_classes=6), who="x")  # enough labels: no error


def test_append_gives_each_replayed_sample_its_own_task_label():
    mb = [torch.zeros(2, 1, 8, 8), torch.zeros(2, dtype=torch.long), torch.full((2,), 1)]
    append_to_minibatch(mb, torch.ones(3, 1, 8, 8), torch.tensor([0, 1, 0]), task_labels=torch.tensor([0, 0, 2]))
    assert mb[2].tolist() == [1, 1, 0, 0, 2] and mb[1].tolist() == [0, 0, 0, 1, 0]

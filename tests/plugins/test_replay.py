"""The shared replay helpers and the ``ReplaySetPlugin`` base (plugins/replay.py)."""
from types import SimpleNamespace

import pytest
import torch

from bootdrift_avalanche.plugins.generator_lookup import find_sampler
from bootdrift_avalanche.plugins.replay import (
    ReplaySetPlugin,
    append_to_minibatch,
    experience_classes,
    experience_tensors,
)


def test_append_xy_and_xyt():
    xy = [torch.zeros(4, 1, 8, 8), torch.zeros(4, dtype=torch.long)]
    append_to_minibatch(xy, torch.ones(2, 1, 8, 8), torch.tensor([3, 5]))
    assert len(xy) == 2 and xy[0].shape[0] == 6 and xy[1].tolist() == [0, 0, 0, 0, 3, 5]
    xyt = [torch.zeros(4, 1, 8, 8), torch.zeros(4, dtype=torch.long), torch.full((4,), 2)]
    append_to_minibatch(xyt, torch.ones(2, 1, 8, 8), torch.tensor([3, 5]))
    assert len(xyt) == 3 and xyt[2].tolist() == [2] * 6 and xyt[1][-2:].tolist() == [3, 5]


def test_append_rejects_bad_batch():
    with pytest.raises(ValueError, match="mini-batch"):
        append_to_minibatch([torch.zeros(2)], torch.zeros(1), torch.zeros(1))


class _AugmentedDataset(torch.utils.data.Dataset):
    """An Avalanche-like dataset whose train view adds noise and whose eval view does not."""

    def __init__(self, augment=True):
        self.x, self.targets, self.augment = torch.rand(5, 1, 4, 4), [0, 1, 1, 0, 1], augment

    def eval(self):
        view = _AugmentedDataset(augment=False)
        view.x, view.targets = self.x, self.targets
        return view

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        noise = torch.rand(1, 4, 4) if self.augment else 0.0
        return self.x[i] + noise, self.targets[i]


def test_experience_tensors_read_the_eval_view_and_classes():
    exp = SimpleNamespace(dataset=_AugmentedDataset(), classes_in_this_experience=None)
    x, y = experience_tensors(exp, batch_size=2)
    assert torch.equal(x, exp.dataset.x) and y.tolist() == [0, 1, 1, 0, 1]
    assert experience_classes(exp) == [0, 1]
    assert experience_classes(SimpleNamespace(classes_in_this_experience=[3, 1])) == [1, 3]


class _Recorder:
    def __init__(self):
        self.calls = []

    def generate(self, labels, *, seed=None):
        self.calls.append((labels.tolist(), seed))
        return torch.zeros(len(labels), 2)


def test_replay_samples_defaults_to_seeded_generate_and_state_round_trips():
    gen = _Recorder()
    plugin = ReplaySetPlugin(gen, replay_per_class=2, replay_ratio=0.5, seed=3)
    assert find_sampler(SimpleNamespace(plugins=[plugin])).plugin is plugin and plugin.generator is gen
    out = plugin.replay_samples(None, torch.tensor([1, 2]), seed=11)
    assert out.shape == (2, 2) and gen.calls == [([1, 2], 11)]
    plugin.labels.add([(0, 2), (1, 2)])  # (task, class): class 2 of task 1 gets the free label 0
    other = ReplaySetPlugin(_Recorder(), replay_per_class=2, replay_ratio=0.5, seed=9)
    other.load_state_dict(plugin.state_dict())
    assert other.seen_classes == [0, 2] and other.labels.key(0) == (1, 2)
    assert torch.equal(torch.randint(100, (5,), generator=other._rng), torch.randint(100, (5,), generator=plugin._rng))
    with pytest.raises(ValueError, match="replay_per_class"):
        ReplaySetPlugin(gen, replay_per_class=0, replay_ratio=1.0, seed=0)


def _mbatch_after_replay(plugin, n_real, n_experience):
    strategy = SimpleNamespace(mbatch=[torch.zeros(n_real, 2), torch.zeros(n_real, dtype=torch.long)],
                               experience=SimpleNamespace(dataset=[0] * n_experience))
    plugin.before_training_iteration(strategy)
    return len(strategy.mbatch[0]) - n_real


def test_replay_ratio_none_replays_in_proportion_to_the_replay_set():
    plugin = ReplaySetPlugin(_Recorder(), replay_per_class=2, replay_ratio=None, seed=0)
    assert _mbatch_after_replay(plugin, 16, 100) == 0  # no replay set yet (first experience)
    plugin.replay_x, plugin.replay_y = torch.zeros(300, 2), torch.zeros(300, dtype=torch.long)
    assert _mbatch_after_replay(plugin, 16, 100) == 48  # 300 replays / 100 real images: 3 per real one
    assert _mbatch_after_replay(plugin, 16, 400) == 12
    plugin.replay_ratio = 0.5  # a fixed ratio ignores the sizes
    assert _mbatch_after_replay(plugin, 16, 100) == 8
    with pytest.raises(ValueError, match="replay_ratio"):
        ReplaySetPlugin(_Recorder(), replay_per_class=2, replay_ratio=-1.0, seed=0)

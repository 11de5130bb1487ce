import pytest
import torch

from bootdrift_avalanche.plugins.replay_data import append_to_minibatch


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

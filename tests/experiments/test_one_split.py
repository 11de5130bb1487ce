"""One held-out split for every seed: a run's seed changes the class order, the initialisation and
the sampling, never which digits are held out (test) or set aside for validation (digits-val)."""
import numpy as np
import torch

from bootdrift_avalanche.experiments import registry
from bootdrift_avalanche.experiments.bootstrap_splits import split_fresh_pool
from bootdrift_avalanche.experiments.config import BootstrapConfig, ReplayConfig, resolve


def _images(stream):
    """The stream's images as a sorted set of rows (the class order changes their order)."""
    x = torch.cat([torch.stack([exp.dataset[i][0] for i in range(len(exp.dataset))]) for exp in stream])
    rows = x.flatten(1)
    return rows[torch.as_tensor(np.lexsort(rows.numpy().T[::-1]))]


def test_the_digits_test_stream_is_the_same_for_every_seed():
    for name in ("digits", "digits-val"):
        streams = []
        for seed in (0, 1, 2):
            cfg = resolve(ReplayConfig(benchmark=name, preset="tiny", experiences=2, seed=seed))
            bm = registry.benchmark_builder(name)(cfg, False)
            streams.append((bm.classes_order, _images(bm.test_stream), _images(bm.train_stream)))
        (order0, test0, train0), *others = streams
        for order, test, train in others:
            assert torch.equal(test, test0) and torch.equal(train, train0), name
        assert any(order != order0 for order, _, _ in others)  # the seed still orders the classes


def test_the_bootstrapping_loop_splits_d_and_the_fresh_pool_alike_for_every_seed():
    x, y = torch.arange(40.0)[:, None], torch.arange(40) % 4
    splits = [split_fresh_pool(BootstrapConfig(data="digits", fresh_size=8, train_size=20, seed=s), (x, y))
              for s in (0, 1)]
    (d0, pool0), (d1, pool1) = splits
    assert torch.equal(d0[0], d1[0]) and torch.equal(pool0[0], pool1[0])

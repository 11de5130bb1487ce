import torch

from bootdrift_avalanche.benchmarks import gmm_samples, gmm_toy, split_digits
from bootdrift_avalanche.benchmarks.split import split_classes


def _all(stream):
    xs, ys = [], []
    for exp in stream:
        for item in exp.dataset:
            xs.append(item[0])
            ys.append(int(item[1]))
    return torch.stack(xs), torch.tensor(ys)


def test_split_digits_shape_range_and_classes():
    bm = split_digits()
    assert len(bm.train_stream) == 5 and len(bm.test_stream) == 5
    x, y = _all(bm.train_stream)
    xt, yt = _all(bm.test_stream)
    assert x.shape[1:] == (1, 8, 8) and x.dtype == torch.float32
    assert 0.0 <= float(x.min()) and float(x.max()) <= 1.0
    assert len(y) + len(yt) == 1797
    # stratified: every class in both splits, roughly 80/20
    for c in range(10):
        assert 0.7 < (y == c).sum() / ((y == c).sum() + (yt == c).sum()) < 0.9
    # experiences are disjoint groups of classes covering all 10
    groups = bm.classes_per_experience
    assert sorted(c for g in groups for c in g) == list(range(10))
    for exp, g in zip(bm.train_stream, groups):
        assert set(int(t) for t in exp.dataset.targets) == set(g)


def test_split_digits_seed_fixes_order_and_resize():
    a, b, c = split_digits(seed=0), split_digits(seed=0), split_digits(seed=1)
    assert a.classes_order == b.classes_order
    assert a.classes_order != c.classes_order
    big = split_digits(n_experiences=2, image_size=16)
    assert big.train_stream[0].dataset[0][0].shape == (1, 16, 16)


def test_batch_formats():
    xy = split_digits(n_experiences=2)
    xyt = split_digits(n_experiences=2, task_labels=True)
    assert xy.batch_format == "xy" and len(xy.train_stream[0].dataset[0]) == 2
    assert xyt.batch_format == "xyt" and len(xyt.train_stream[0].dataset[0]) == 3
    assert xyt.train_stream[0].dataset[0][2] == 0


def test_uneven_split_keeps_every_class():
    assert split_classes(102, 10) == [11, 11] + [10] * 8
    assert sum(split_classes(10, 3)) == 10
    bm = split_digits(n_experiences=3)
    assert [len(g) for g in bm.classes_per_experience] == [4, 3, 3]


def test_gmm_toy():
    x, y = gmm_samples(5000, seed=0)
    assert x.shape == (5000, 2) and torch.bincount(y).tolist() == [1000] * 5
    bm = gmm_toy()
    assert len(bm.train_stream) == 1
    centers = bm.gmm_spec.centers()
    d = torch.cdist(x, centers).min(1).values
    assert (d < 3 * bm.gmm_spec.std * 1.5).float().mean() > 0.99

"""Class-incremental splitting shared by our benchmarks (Split Digits, Split Flowers102, GMM toy).

We split classes ourselves instead of calling Avalanche's ``class_incremental_benchmark`` because
that helper silently drops leftover classes (102 Flowers classes over 10 experiences keeps 100) and
reseeds the global torch RNG. Here every class is kept: with C classes and E experiences, each
experience gets ``C // E`` classes and **the first ``C % E`` experiences get one extra class**.

Mini-batch format: ``task_labels=False`` (the default) gives ``[x, y]`` mini-batches, as Avalanche's
``class_incremental_benchmark`` does; ``task_labels=True`` attaches task label 0 to every sample and
gives ``[x, y, t]`` mini-batches, as ``nc_benchmark``/``SplitCIFAR100`` do. Both formats are what the
replay plugins must handle.

The returned benchmark carries ``classes_order`` (classes in presentation order),
``classes_per_experience`` (a list of class lists), ``n_classes`` and ``batch_format``.
"""
from __future__ import annotations

from typing import List, Optional, Sequence

import torch
from torch import Tensor

#: The seed of every data split the package makes itself (train/test, train/validation, the
#: bootstrapping loop's D and fresh pool): the same for every run seed, so held-out data stays held
#: out across seeds; a run's seed varies the class order, the initialisation and the sampling only.
SPLIT_SEED = 0


def split_classes(n_classes: int, n_experiences: int) -> List[int]:
    """Number of classes of each experience: ``C // E`` each, one more for the first ``C % E``."""
    if n_experiences < 1:
        raise ValueError(f"n_experiences must be >= 1, got {n_experiences}")
    if n_experiences > n_classes:
        raise ValueError(f"cannot split {n_classes} classes into {n_experiences} experiences")
    base, extra = divmod(n_classes, n_experiences)
    return [base + (1 if i < extra else 0) for i in range(n_experiences)]


def class_order(n_classes: int, seed: int, shuffle: bool = True) -> List[int]:
    """The fixed class order for ``seed`` (a local generator: the global RNG is not touched)."""
    if not shuffle:
        return list(range(n_classes))
    return torch.randperm(n_classes, generator=torch.Generator().manual_seed(seed)).tolist()


def _dataset(x: Tensor, y: Tensor, task_labels: bool):
    return _as_avalanche(torch.utils.data.TensorDataset(x, y), y.tolist(), task_labels)


def _as_avalanche(ds, targets: Sequence[int], task_labels: bool):
    """Wrap a map-style dataset of ``(x, y)`` pairs as an Avalanche classification dataset."""
    from avalanche.benchmarks.utils import DataAttribute, as_classification_dataset
    from avalanche.benchmarks.utils.classification_dataset import TaskAwareClassificationDataset

    ds.targets = list(targets)
    if not task_labels:
        return as_classification_dataset(ds)
    return TaskAwareClassificationDataset(
        [ds],
        data_attributes=[
            DataAttribute(list(targets), "targets"),
            DataAttribute([0] * len(targets), "targets_task_labels", use_in_getitem=True),
        ],
    )


def _build(order, n_experiences, make_train, make_test, n_classes, task_labels):
    from avalanche.benchmarks.scenarios.dataset_scenario import benchmark_from_datasets

    sizes = split_classes(n_classes, n_experiences)
    groups, start = [], 0
    for s in sizes:
        groups.append(order[start : start + s])
        start += s
    bm = benchmark_from_datasets(
        train=[make_train(g) for g in groups], test=[make_test(g) for g in groups]
    )
    bm.classes_order = order
    bm.classes_per_experience = groups
    bm.n_classes = n_classes
    bm.batch_format = "xyt" if task_labels else "xy"
    return bm


def _resolve_order(n_classes, seed, shuffle, fixed_class_order):
    if fixed_class_order is None:
        return class_order(n_classes, seed, shuffle)
    order = [int(c) for c in fixed_class_order]
    if sorted(order) != list(range(n_classes)):
        raise ValueError(f"fixed_class_order must be a permutation of 0..{n_classes - 1}")
    return order


def tensors_class_incremental(
    x_train: Tensor,
    y_train: Tensor,
    x_test: Tensor,
    y_test: Tensor,
    *,
    n_experiences: int,
    seed: int = 0,
    shuffle_classes: bool = True,
    fixed_class_order: Optional[Sequence[int]] = None,
    task_labels: bool = False,
):
    """An Avalanche benchmark from in-memory tensors, one experience per group of classes."""
    classes = sorted(set(y_train.tolist()) | set(y_test.tolist()))
    n_classes = len(classes)
    if classes != list(range(n_classes)):
        raise ValueError(f"labels must be 0..C-1, got classes {classes[:10]}...")
    order = _resolve_order(n_classes, seed, shuffle_classes, fixed_class_order)

    def part(x, y):
        def make(g):
            m = torch.isin(y, torch.tensor(g))
            return _dataset(x[m], y[m], task_labels)
        return make

    return _build(order, n_experiences, part(x_train, y_train), part(x_test, y_test), n_classes, task_labels)


def datasets_class_incremental(
    train,
    train_targets: Sequence[int],
    test,
    test_targets: Sequence[int],
    *,
    n_classes: int,
    n_experiences: int,
    seed: int = 0,
    fixed_class_order: Optional[Sequence[int]] = None,
    task_labels: bool = False,
):
    """Like :func:`tensors_class_incremental` for lazily loaded map-style datasets (images stay on
    disk until a mini-batch needs them); ``*_targets`` give every sample's class."""
    order = _resolve_order(n_classes, seed, True, fixed_class_order)

    def part(ds, targets):
        targets = torch.as_tensor(list(targets))

        def make(g):
            idx = torch.nonzero(torch.isin(targets, torch.tensor(g))).flatten().tolist()
            return _as_avalanche(torch.utils.data.Subset(ds, idx), targets[idx].tolist(), task_labels)
        return make

    return _build(order, n_experiences, part(train, train_targets), part(test, test_targets), n_classes, task_labels)

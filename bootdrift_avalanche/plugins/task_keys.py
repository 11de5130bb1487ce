"""Task-incremental streams: the (task, class) keys of a stream and the one generator label that
stands for each.

In a class-incremental stream every class id names one class. In a task-incremental stream built
with ``class_ids_from_zero_in_each_exp=True`` (Avalanche's ``nc_benchmark``, ``SplitMNIST(...,
return_task_id=True)``) the ids restart in every task: class 0 of task 0 and class 0 of task 1 are
different classes. A class-conditional generator, the drift metrics' reference pool and their
per-class values must then key on the pair (task, class), or they merge different classes under
one id.

:class:`TaskClassLabels` gives every (task, class) pair of a stream one **generator label**, the
integer the generator is trained on and asked for, in the order the experiences bring them: a pair
keeps its class id as its label while no other pair has that label (so a class-incremental stream,
with or without task labels, is unchanged: label = class id), and a repeated class id gets the
smallest free label. Split Digits as 5 tasks of classes {0, 1}: (t, c) -> 2t + c. The replay
plugins (``plugins.replay``) and the drift metrics (``plugins.drift``) both grow one from the
training experiences in order, so they agree on every label; the replay plugins hand the labels
back to the mini-batch as (class, task), and the drift metrics name per-class values of a stream
with repeated ids ``Task001/Class000``.
"""
from __future__ import annotations

from typing import Dict, Iterable, List, Optional, Sequence, Tuple

import torch
from torch import Tensor

Key = Tuple[int, int]  # (task label, class id)


def sample_keys(experience) -> List[Key]:
    """The (task, class) pair of every sample of an experience's dataset, in order: its
    ``targets_task_labels`` entry (else the experience's first task label, else 0) and its target."""
    ds = experience.dataset
    ts = getattr(ds, "targets_task_labels", None)
    if ts is None:
        ts = [(getattr(experience, "task_labels", None) or [0])[0]] * len(ds.targets)
    return [(int(t), int(c)) for t, c in zip(ts, ds.targets)]


def experience_keys(experience) -> List[Key]:
    """The sorted (task, class) pairs of one experience: its ``classes_in_this_experience`` under its
    task label when it has one task (Avalanche's ``task_labels``; none: task 0), else
    :func:`sample_keys`."""
    tasks = list(getattr(experience, "task_labels", None) or [0])
    classes = getattr(experience, "classes_in_this_experience", None)
    if len(tasks) == 1 and classes is not None:
        return sorted((int(tasks[0]), int(c)) for c in classes)
    return sorted(set(sample_keys(experience)))


def stream_keys(stream) -> Optional[List[Key]]:
    """The (task, class) pairs of a whole stream in experience order, or ``None`` for a stream that
    cannot be listed (a lazy one)."""
    try:
        experiences = list(stream)
    except TypeError:
        return None
    return [k for exp in experiences for k in experience_keys(exp)]


def repeats_class_ids(keys: Iterable[Key]) -> bool:
    """Whether some class id belongs to more than one task among ``keys``."""
    owner: Dict[int, int] = {}
    for t, c in keys:
        if owner.setdefault(c, t) != t:
            return True
    return False


class TaskClassLabels:
    """The generator label of every (task, class) pair seen so far (see the module docstring)."""

    def __init__(self, keys: Iterable[Key] = ()):
        self._label: Dict[Key, int] = {}
        self._key: Dict[int, Key] = {}
        self.add(keys)

    def add(self, keys: Iterable[Key]) -> "TaskClassLabels":
        """Give the new pairs of ``keys`` their labels, in the given order; returns ``self``."""
        for t, c in keys:
            key = (int(t), int(c))
            if key in self._label:
                continue
            label = key[1]
            if label in self._key:
                label = next(i for i in range(len(self._key) + 1) if i not in self._key)
            self._label[key], self._key[label] = label, key
        return self

    def add_experience(self, experience) -> "TaskClassLabels":
        """:meth:`add` the pairs of a training experience."""
        return self.add(experience_keys(experience))

    def copy(self) -> "TaskClassLabels":
        return TaskClassLabels(self.keys())

    def __len__(self) -> int:
        return len(self._label)

    def keys(self) -> List[Key]:
        """The pairs in the order they were added."""
        return list(self._label)

    def labels(self) -> List[int]:
        """Every label given so far, sorted."""
        return sorted(self._key)

    @property
    def repeated(self) -> bool:
        """Whether a class id came with two tasks (some label differs from its class id)."""
        return any(label != c for (_, c), label in self._label.items())

    def label(self, task: int, cls: int) -> int:
        return self._label[(int(task), int(cls))]

    def key(self, label: int) -> Key:
        try:
            return self._key[int(label)]
        except KeyError:
            raise KeyError(f"generator label {int(label)} stands for no (task, class) pair seen so far "
                           f"({dict(self._label)})") from None

    def to_labels(self, tasks: Tensor, classes: Tensor) -> Tensor:
        """The labels of per-sample ``tasks`` and ``classes`` (1-D tensors of one length)."""
        return torch.tensor([self.label(t, c) for t, c in zip(tasks.tolist(), classes.tolist())], dtype=torch.long)

    def to_keys(self, labels: Tensor) -> Tuple[Tensor, Tensor]:
        """``(tasks, classes)`` of per-sample ``labels``."""
        keys = [self.key(g) for g in labels.tolist()]
        return (torch.tensor([t for t, _ in keys], dtype=torch.long),
                torch.tensor([c for _, c in keys], dtype=torch.long))

    def of_task(self, task: int) -> List[int]:
        """The labels of ``task``'s pairs, sorted."""
        return sorted(g for g, (t, _) in self._key.items() if t == int(task))

    def name(self, label: int, *, with_task: bool) -> str:
        """The per-class part of a metric name: ``Class003``, or ``Task001/Class000`` ``with_task``
        (a stream whose class ids repeat across tasks)."""
        t, c = self.key(label)
        return f"Task{t:03d}/Class{c:03d}" if with_task else f"Class{c:03d}"

    def state_dict(self) -> dict:
        return {"keys": [list(k) for k in self._label], "labels": list(self._label.values())}

    def load_state_dict(self, state: dict) -> None:
        self._label = {(int(t), int(c)): int(g) for (t, c), g in zip(state["keys"], state["labels"])}
        self._key = {g: k for k, g in self._label.items()}

    def __repr__(self) -> str:
        return f"TaskClassLabels({dict(self._label)})"


def labels_from_state(state: dict, legacy_key: str) -> TaskClassLabels:
    """The labels a plugin saved under ``"labels"``; a state saved before task keys holds plain
    class ids under ``legacy_key``, read as the classes of task 0."""
    if "labels" in state:
        labels = TaskClassLabels()
        labels.load_state_dict(state["labels"])
        return labels
    return TaskClassLabels((0, int(c)) for c in state[legacy_key])


def origin_stream(experience):
    """The stream ``experience`` belongs to, or ``None`` for an experience that does not know it."""
    try:
        return experience.origin_stream
    except (AttributeError, AssertionError, TypeError):
        return None


def capacity(generator) -> Optional[int]:
    """The number of class labels a generator was built for (``config.num_classes`` of our
    generators), ``None`` when it does not say."""
    n = getattr(getattr(generator, "config", None), "num_classes", None)
    return int(n) if isinstance(n, int) else None


def check_stream(keys: Optional[Sequence[Key]], generator, *, who: str) -> None:
    """Refuse, before the first experience trains, a stream whose (task, class) pairs need more
    generator labels than ``generator`` has (a task-incremental stream needs one per pair)."""
    n = capacity(generator)
    if keys is None or n is None:
        return
    labels = TaskClassLabels(keys)
    need = max(labels.labels()) + 1 if len(labels) else 0
    if need > n:
        why = (f"{len(labels)} (task, class) pairs (class ids repeat across tasks, as with "
               "class_ids_from_zero_in_each_exp=True, so each pair gets its own generator label)"
               if labels.repeated else f"class ids up to {need - 1}")
        raise ValueError(f"{who}: the training stream has {why}, but the generator was built for {n} classes; "
                         f"build it with num_classes={need}")

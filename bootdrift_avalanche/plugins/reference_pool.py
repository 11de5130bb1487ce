"""The real images of each class a drift evaluation compares against: a seeded subset of at most
``n_per_class`` samples per (task, class) of a stream, read once and kept (never the stream)."""
from __future__ import annotations

import warnings
from typing import Dict, List, Optional, Sequence, Tuple

import torch
from torch import Tensor

from ..benchmarks.views import eval_view
from ..runtime.seeds import seed_for
from .task_keys import Key, repeats_class_ids, sample_keys


class ReferencePool:
    """At most ``n_per_class`` samples per class of a stream (a seeded subset per class, read
    with eval transforms), loaded class by class on first use and kept.

    Entries are indexed by (task, class) (``task_keys``: each sample's ``targets_task_labels``, else
    its experience's task label, else 0). While no class id belongs to two tasks of the stream a
    class is all its samples whatever their task (as a class-incremental stream is read); once one
    does (``class_ids_from_zero_in_each_exp``), a class is its (task, class) pair alone."""

    def __init__(self, stream, *, n_per_class: int, seed: int, stream_name: str, seed_stream: str, offset: int = 0):
        self.experiences = list(stream)
        self.n_per_class, self.seed, self.offset = n_per_class, seed, offset  # offset: skip that many of the subset
        self.stream_name, self.seed_stream = stream_name, seed_stream
        self._index: Optional[Dict[Key, List[Tuple[int, int]]]] = None
        self._x: Dict[Key, Tensor] = {}

    def _class_index(self) -> Dict[Key, List[Tuple[int, int]]]:
        if self._index is None:
            self._index = {}
            for e, exp in enumerate(self.experiences):
                for pos, key in enumerate(sample_keys(exp)):
                    self._index.setdefault(key, []).append((e, pos))
        return self._index

    @property
    def repeated(self) -> bool:
        """Whether a class id of the stream belongs to two tasks."""
        return repeats_class_ids(self._class_index())

    def keys(self) -> List[Key]:
        """The (task, class) pairs of the stream in the order of their first sample."""
        return sorted(self._class_index(), key=lambda k: self._class_index()[k][0])

    def counts(self) -> Dict[Key, int]:
        """How many samples the stream holds of each (task, class) pair (before the subset)."""
        return {k: len(v) for k, v in self._class_index().items()}

    def samples(self, key: Key) -> Tensor:
        if key not in self._x:
            t, c = key
            index = self._class_index()
            what = f"class {c} of task {t}" if self.repeated else f"class {c}"
            if self.repeated:
                entries = index.get(key, [])
                g = torch.Generator().manual_seed(seed_for(self.seed_stream, seed=self.seed, task=t, cls=c))
            else:  # the class's samples of every task, in stream order
                entries = sorted(e for (_, cc), es in index.items() if cc == c for e in es)
                g = torch.Generator().manual_seed(seed_for(self.seed_stream, seed=self.seed, cls=c))
            if self.offset:  # the next n_per_class of the same seeded order (the floor's second set)
                pick = torch.randperm(len(entries), generator=g)[self.offset: self.offset + self.n_per_class].tolist()
            elif len(entries) < 2:
                raise ValueError(
                    f"{what} has {len(entries)} real sample(s) in {self.stream_name}; the drift "
                    "metrics need at least 2 per seen class"
                )
            if not self.offset and len(entries) < self.n_per_class:
                warnings.warn(f"{what} has {len(entries)} real samples in {self.stream_name}, fewer than "
                              f"n_per_class={self.n_per_class}: the drift metrics use {len(entries)} "
                              "(logged as DriftSamplesPerClass)", RuntimeWarning, stacklevel=2)
            if not self.offset:
                pick = torch.randperm(len(entries), generator=g)[: self.n_per_class].tolist()
            views = {}
            xs = []
            for i in sorted(pick):
                e, pos = entries[i]
                if e not in views:
                    views[e] = eval_view(self.experiences[e].dataset)  # no augmentation
                xs.append(torch.as_tensor(views[e][pos][0]))
            self._x[key] = torch.stack(xs).float() if xs else torch.zeros(0)
        return self._x[key]

    def labelled(self, keys: Sequence[Key], labels: Sequence[int]) -> Tuple[Tensor, Tensor]:
        """The samples of ``keys`` with ``labels`` (one per key) as their labels."""
        xs = [self.samples(k) for k in keys]
        y = torch.cat([torch.full((len(x),), int(g), dtype=torch.long) for g, x in zip(labels, xs)])
        return torch.cat(xs), y

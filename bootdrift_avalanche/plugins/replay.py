"""What the generative-replay plugins share: ``ReplaySetPlugin`` (a replay set made once per
experience and appended to every training mini-batch, plus ``replay_samples``, the one way to ask a
replay plugin for "what I replay"), and the helpers that read an experience into tensors and append
replayed samples to a mini-batch in either Avalanche format (``[x, y]`` or ``[x, y, t]``).

Task-incremental streams: the generator is trained on and asked for **generator labels**, one per
(task, class) pair (``plugins.task_keys``; the class id itself in a class-incremental stream), and
every replayed sample goes back into the mini-batch as its own class and its own task label.
"""
from __future__ import annotations

from typing import List, Optional, Tuple, Union

import torch
from avalanche.core import SupervisedPlugin
from torch import Tensor

from ..benchmarks.views import eval_view
from ..generators.base import require_generator
from ..generators.contract import ValueStats, check_output
from ..runtime.seeds import seed_for
from .preflight import check_replay_data
from .task_keys import TaskClassLabels, check_stream, labels_from_state, origin_stream, stream_keys


def experience_tensors(experience, *, batch_size: int = 512) -> Tuple[Tensor, Tensor]:
    """All images and labels of one experience (eval transforms: no augmentation), on the CPU.
    Replay plugins call this for the current experience only, never for a whole stream."""
    x, y, _ = experience_task_tensors(experience, batch_size=batch_size)
    return x, y


def experience_task_tensors(experience, *, batch_size: int = 512) -> Tuple[Tensor, Tensor, Tensor]:
    """:func:`experience_tensors` plus each sample's task label (the third item of an ``[x, y, t]``
    sample; without one, the experience's task label, else 0)."""
    loader = torch.utils.data.DataLoader(eval_view(experience.dataset), batch_size=batch_size, shuffle=False)
    tasks = list(getattr(experience, "task_labels", None) or [0])
    xs, ys, ts = [], [], []
    for batch in loader:
        xs.append(batch[0].float())
        ys.append(torch.as_tensor(batch[1]).long())
        ts.append(torch.as_tensor(batch[2]).long() if len(batch) > 2 else torch.full((len(batch[0]),), int(tasks[0])))
    return torch.cat(xs), torch.cat(ys), torch.cat(ts)


def experience_classes(experience) -> List[int]:
    """The sorted class ids of one experience (Avalanche's ``classes_in_this_experience`` when set)."""
    cls = getattr(experience, "classes_in_this_experience", None)
    if cls is not None:
        return sorted(int(c) for c in cls)
    return sorted({int(t) for t in experience.dataset.targets})


def append_to_minibatch(mbatch: list, x: Tensor, y: Tensor, task_labels: Union[Tensor, int, None] = None) -> None:
    """Append replayed ``x``/``y`` to ``strategy.mbatch`` in place, handling both formats: with
    ``[x, y, t]`` the replayed samples get ``task_labels`` (one per sample, or one for all; default:
    the batch's first task label)."""
    if len(mbatch) < 2:
        raise ValueError(f"expected an [x, y] or [x, y, t] mini-batch, got {len(mbatch)} element(s)")
    dev = mbatch[0].device
    mbatch[0] = torch.cat([mbatch[0], x.to(dev, mbatch[0].dtype)])
    mbatch[1] = torch.cat([mbatch[1], y.to(dev, mbatch[1].dtype)])
    if len(mbatch) >= 3:
        t = mbatch[-1]
        if isinstance(task_labels, Tensor):
            new_t = task_labels.to(t.device, t.dtype)
        else:
            tl = int(t[0]) if task_labels is None and len(t) else int(task_labels or 0)
            new_t = torch.full((len(x),), tl, dtype=t.dtype, device=t.device)
        mbatch[-1] = torch.cat([t, new_t])


class ReplaySetPlugin(SupervisedPlugin):
    """Base of the replay plugins: a replay set generated once per experience, of which
    ``replay_ratio`` x the mini-batch size is appended to every training mini-batch.

    Subclasses may draw the replay set their own way in :meth:`_replay_set` and, after
    an experience, train the generator on :meth:`_generator_data` and record its (task, class) pairs
    with ``self.labels.add_experience``. Before the first experience trains, the stream is checked
    against the generator (``task_keys.check_stream``: enough labels for every (task, class) pair)
    and the experience's images against it (``preflight.check_replay_data``: its ``value_range``, a
    probe of a user generator); every replay set then meets the output contract
    (``generators.contract``: count, shape, finite, the data's scale) before the solver sees it.
    Added to any template, the plugin is found by the drift metrics (``plugins.generator_lookup``:
    a plugin with ``replay_samples`` and a ``generator``), which sample it through
    :meth:`replay_samples`, so they measure exactly what the plugin replays.

    Args:
        generator: the generator (``generate(labels, seed=)``, ``fit``; ``generators/base.py``).
        replay_per_class: replayed images per old class, generated at the start of each experience.
        replay_ratio: replayed samples appended per real sample in each mini-batch; ``None``: the
            replay set's size over the experience's (as if the replay set were part of the
            experience's data, the DDGR reference's concatenated data set), so each old class is
            replayed about ``replay_per_class`` / (real images per new class) as often as a new
            class is seen.
        seed: fixes replay generation and replay sampling.

    Attributes:
        labels: the generator label of every (task, class) pair trained so far
            (:class:`~bootdrift_avalanche.plugins.task_keys.TaskClassLabels`).
        replay_x, replay_y: the replay set and its generator labels.
    """

    #: what the plugin calls on its generator (checked when the plugin is built)
    generator_methods: Tuple[str, ...] = ("generate",)
    generate_keywords: Tuple[str, ...] = ("seed",)
    #: the named seed stream of the replay sets (``runtime.seeds.seed_for``)
    replay_seed_stream = "replay.set"

    def __init__(self, generator, *, replay_per_class: int, replay_ratio: Optional[float], seed: int):
        super().__init__()
        require_generator(generator, who=type(self).__name__, methods=self.generator_methods,
                          generate_keywords=self.generate_keywords)
        if replay_per_class < 1:
            raise ValueError(f"replay_per_class must be >= 1, got {replay_per_class}")
        if replay_ratio is not None and replay_ratio < 0:
            raise ValueError(f"replay_ratio must be >= 0 or None, got {replay_ratio}")
        self.generator = generator
        self.replay_per_class = replay_per_class
        self.replay_ratio = replay_ratio
        self.seed = seed
        self.labels = TaskClassLabels()
        self.replay_x: Optional[Tensor] = None
        self.replay_y: Optional[Tensor] = None
        self._replay_keys: Optional[Tuple[Tensor, Tensor]] = None  # (classes, tasks) of the replay set
        self._stream_checked = False
        self._data_stats: Optional[ValueStats] = None  # the scale of the training data (preflight)
        self._rng = torch.Generator().manual_seed(seed_for("replay.minibatch", seed=seed))

    @property
    def seen_classes(self) -> List[int]:
        """The generator labels of every (task, class) pair trained so far, sorted (the class ids
        in a class-incremental stream)."""
        return self.labels.labels()

    def replay_samples(self, strategy, labels: Tensor, *, seed: int) -> Tensor:
        """Samples of generator ``labels`` drawn the way this plugin draws its replay set (CPU,
        float32); ``seed`` fixes them. Here: ``generator.generate(labels, seed=seed)``."""
        return self.generator.generate(labels, seed=seed)

    def _replay_set(self, strategy, labels: Tensor) -> Tensor:
        """The replay set's images of generator ``labels``: :meth:`replay_samples` seeded from the
        plugin's ``replay_seed_stream`` and the experience."""
        exp = strategy.clock.train_exp_counter
        return self.replay_samples(strategy, labels,
                                   seed=seed_for(self.replay_seed_stream, seed=self.seed, experience=exp))

    def before_training_exp(self, strategy, **kwargs):
        """Check the stream (once, before the first experience trains), then draw this experience's
        replay set: ``replay_per_class`` images of every pair seen so far."""
        if not self._stream_checked:
            stream = origin_stream(strategy.experience)
            check_stream(stream_keys(stream) if stream is not None else None, self.generator,
                         who=type(self).__name__)
            self._stream_checked = True
        if self._data_stats is None:  # first experience (or a resume without it): read its images once
            x, y, t = experience_task_tensors(strategy.experience)
            self._data_stats = check_replay_data(self, strategy, x, self.labels.copy().add_experience(
                strategy.experience).to_labels(t, y))
        self.replay_x = self.replay_y = self._replay_keys = None
        if not len(self.labels):
            return
        labels = torch.tensor(self.seen_classes).repeat_interleave(self.replay_per_class)
        self.replay_x = check_output(self._replay_set(strategy, labels), labels, reference=self._data_stats,
                                     who=f"{type(self).__name__}'s generator {type(self.generator).__name__}")
        self.replay_y = labels
        tasks, classes = self.labels.to_keys(labels)
        self._replay_keys = (classes, tasks)

    def _generator_data(self, experience) -> Tuple[Tensor, Tensor]:
        """The experience's images and generator labels (its pairs are added to ``labels`` first)."""
        self.labels.add_experience(experience)
        x, y, t = experience_task_tensors(experience)
        return x, self.labels.to_labels(t, y)

    def _ratio(self, strategy) -> float:
        if self.replay_ratio is not None:
            return self.replay_ratio
        return len(self.replay_x) / max(1, len(strategy.experience.dataset))

    def before_training_iteration(self, strategy, **kwargs):
        if self.replay_x is None:
            return
        ratio = self._ratio(strategy)
        if ratio == 0:
            return
        n = max(1, int(round(len(strategy.mbatch[0]) * ratio)))
        idx = torch.randint(len(self.replay_x), (n,), generator=self._rng)
        if self._replay_keys is None:  # a replay set given from outside: its labels as they are
            append_to_minibatch(strategy.mbatch, self.replay_x[idx], self.replay_y[idx])
            return
        classes, tasks = self._replay_keys
        append_to_minibatch(strategy.mbatch, self.replay_x[idx], classes[idx], task_labels=tasks[idx])

    def state_dict(self) -> dict:
        """The (task, class) labels, the mini-batch sampling RNG and the generator's state (for resume)."""
        return {"labels": self.labels.state_dict(), "rng": self._rng.get_state(), "data_stats": self._data_stats,
                "generator": self.generator.state_dict() if hasattr(self.generator, "state_dict") else None}

    def load_state_dict(self, state: dict) -> None:
        """Restore :meth:`state_dict` (the generator too, when it was saved). A state from before
        task keys (``seen_classes``) is read as class ids of task 0."""
        self.labels = labels_from_state(state, "seen_classes")
        self._rng.set_state(state["rng"])
        self._data_stats = state.get("data_stats")
        if state.get("generator") is not None:
            self.generator.load_state_dict(state["generator"])

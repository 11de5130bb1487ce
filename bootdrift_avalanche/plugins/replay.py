"""What the generative-replay plugins share: ``ReplaySetPlugin`` (a replay set made once per
experience and appended to every training mini-batch, plus ``replay_samples``, the one way to ask a
replay plugin for "what I replay"), and the helpers that read an experience into tensors and append
replayed samples to a mini-batch in either Avalanche format (``[x, y]`` or ``[x, y, t]``)."""
from __future__ import annotations

from typing import List, Optional, Tuple

import torch
from avalanche.core import SupervisedPlugin
from torch import Tensor

from ..benchmarks.views import eval_view
from ..generators.base import require_generator
from ..runtime.seeds import seed_for


def experience_tensors(experience, *, batch_size: int = 512) -> Tuple[Tensor, Tensor]:
    """All images and labels of one experience (eval transforms: no augmentation), on the CPU.
    Replay plugins call this for the current experience only, never for a whole stream."""
    loader = torch.utils.data.DataLoader(eval_view(experience.dataset), batch_size=batch_size, shuffle=False)
    xs, ys = [], []
    for batch in loader:
        xs.append(batch[0].float())
        ys.append(torch.as_tensor(batch[1]).long())
    return torch.cat(xs), torch.cat(ys)


def experience_classes(experience) -> List[int]:
    """The sorted class ids of one experience (Avalanche's ``classes_in_this_experience`` when set)."""
    cls = getattr(experience, "classes_in_this_experience", None)
    if cls is not None:
        return sorted(int(c) for c in cls)
    return sorted({int(t) for t in experience.dataset.targets})


def append_to_minibatch(mbatch: list, x: Tensor, y: Tensor, task_label: Optional[int] = None) -> None:
    """Append replayed ``x``/``y`` to ``strategy.mbatch`` in place, handling both formats: with
    ``[x, y, t]`` the replayed samples get ``task_label`` (default: the batch's first task label)."""
    if len(mbatch) < 2:
        raise ValueError(f"expected an [x, y] or [x, y, t] mini-batch, got {len(mbatch)} element(s)")
    dev = mbatch[0].device
    mbatch[0] = torch.cat([mbatch[0], x.to(dev, mbatch[0].dtype)])
    mbatch[1] = torch.cat([mbatch[1], y.to(dev, mbatch[1].dtype)])
    if len(mbatch) >= 3:
        t = mbatch[-1]
        tl = int(t[0]) if task_label is None and len(t) else int(task_label or 0)
        mbatch[-1] = torch.cat([t, torch.full((len(x),), tl, dtype=t.dtype, device=t.device)])


class ReplaySetPlugin(SupervisedPlugin):
    """Base of the replay plugins: a replay set generated once per experience, of which
    ``replay_ratio`` x the mini-batch size is appended to every training mini-batch.

    Subclasses fill ``self.replay_x``/``self.replay_y`` in ``before_training_exp`` (with
    :meth:`replay_samples`) and record the classes seen so far with ``_remember_classes``.
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
    """

    #: what the plugin calls on its generator (checked when the plugin is built)
    generator_methods: Tuple[str, ...] = ("generate",)
    generate_keywords: Tuple[str, ...] = ("seed",)

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
        self.seen_classes: List[int] = []
        self.replay_x: Optional[Tensor] = None
        self.replay_y: Optional[Tensor] = None
        self._rng = torch.Generator().manual_seed(seed_for("replay.minibatch", seed=seed))

    def replay_samples(self, strategy, labels: Tensor, *, seed: int) -> Tensor:
        """Samples of ``labels`` drawn the way this plugin draws its replay set (CPU, float32);
        ``seed`` fixes them. Here: ``generator.generate(labels, seed=seed)``."""
        return self.generator.generate(labels, seed=seed)

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
        append_to_minibatch(strategy.mbatch, self.replay_x[idx], self.replay_y[idx])

    def _remember_classes(self, experience) -> None:
        for c in experience_classes(experience):
            if c not in self.seen_classes:
                self.seen_classes.append(c)

    def state_dict(self) -> dict:
        """Seen classes, the mini-batch sampling RNG and the generator's state (for resume)."""
        return {"seen_classes": list(self.seen_classes), "rng": self._rng.get_state(),
                "generator": self.generator.state_dict() if hasattr(self.generator, "state_dict") else None}

    def load_state_dict(self, state: dict) -> None:
        """Restore :meth:`state_dict` (the generator too, when it was saved)."""
        self.seen_classes = list(state["seen_classes"])
        self._rng.set_state(state["rng"])
        if state.get("generator") is not None:
            self.generator.load_state_dict(state["generator"])

"""Anchored generative replay: replay plugins whose replays of a class are kept aligned
with the real data of that class through feature statistics stored when the class was first seen
(``anchoring.ClassAnchors``), never images.
How it works, its cost and its choices: ``docs/ANCHORED_REPLAY.md`` (implementation notes).
"""
from __future__ import annotations

import inspect

import torch
from torch import Tensor

from ..anchoring import ClassAnchors, MomentMatching, kernel_herding
from ..runtime.seeds import seed_for
from .ddgr import DDGRPlugin
from .gan_memory import GANMemoryPlugin
from .replay import ReplaySetPlugin, experience_task_tensors


class AnchoredReplayPlugin(ReplaySetPlugin):
    """Anchoring for a replay plugin (combine by inheritance; ``docs/ANCHORED_REPLAY.md``).

    Args:
        generator: the wrapped plugin's generator.
        anchors: the stored statistics and their feature space (fresh: no class anchored yet).
        oversample: candidates generated per replayed image (1: no selection).
        **kwargs: the wrapped plugin's arguments.
    """

    def __init__(self, generator, *, anchors: ClassAnchors, oversample: int = 4, **kwargs):
        super().__init__(generator, **kwargs)
        if oversample < 1:
            raise ValueError(f"oversample must be >= 1, got {oversample}")
        self.anchors = anchors
        self.oversample = int(oversample)

    def before_training_exp(self, strategy, **kwargs):
        # Anchors are keyed by generator label (plugins.task_keys), the label replays are asked by;
        # a copy of the labels with this experience's pairs added gives the labels that
        # _generator_data will give them after training.
        x, y, t = experience_task_tensors(strategy.experience)
        labels = self.labels.copy().add_experience(strategy.experience)
        self.anchors.record(x, labels.to_labels(t, y))  # only classes seen for the first time; real images only
        super().before_training_exp(strategy, **kwargs)

    def replay_samples(self, strategy, labels: Tensor, *, seed: int) -> Tensor:
        """The wrapped plugin's samples of ``labels``; with ``oversample`` m > 1, m times as many
        candidates, of which kernel herding keeps, per class, as many as asked."""
        if self.oversample == 1:
            return super().replay_samples(strategy, labels, seed=seed)
        candidates = labels.repeat_interleave(self.oversample)
        x = super().replay_samples(strategy, candidates, seed=seed)
        out = torch.empty((len(labels),) + tuple(x.shape[1:]), dtype=x.dtype)
        for c in labels.unique().tolist():
            want = (labels == c).nonzero().flatten()
            pool = x[candidates == c]
            mean, cov = self.anchors.stats(c)
            out[want] = pool[kernel_herding(self.anchors.features(pool), len(want), mean, cov)]
        return out

    def state_dict(self) -> dict:
        return {**super().state_dict(), "anchors": self.anchors.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        super().load_state_dict(state)
        self.anchors.load_state_dict(state["anchors"])


class AnchoredDDGRPlugin(AnchoredReplayPlugin, DDGRPlugin):
    """DDGR with anchored replay: selection (``oversample``), moment matching (``moment_weight``)
    or both. ``moment_batch``, ``moment_t_max`` (a fraction of the DDPM's training timesteps):
    see ``anchoring.MomentMatching``; the other arguments are ``DDGRPlugin``'s."""

    def __init__(self, generator, *, anchors: ClassAnchors, oversample: int = 4, moment_weight: float = 0.0,
                 moment_batch: int = 32, moment_t_max: float = 0.3, **kwargs):
        super().__init__(generator, anchors=anchors, oversample=oversample, **kwargs)
        if moment_weight < 0 or not 0 < moment_t_max <= 1:
            raise ValueError(f"need moment_weight >= 0 and 0 < moment_t_max <= 1, got {moment_weight}, {moment_t_max}")
        if moment_weight > 0 and "regularizer" not in inspect.signature(generator.fit).parameters:
            raise TypeError(f"moment matching needs a generator whose fit() takes a regularizer (DDPMGenerator); "
                            f"{type(generator).__name__}.fit does not (use moment_weight=0 for selection only)")
        self.moment_weight, self.moment_batch, self.moment_t_max = moment_weight, moment_batch, moment_t_max
        self.moment_log: list = []  # per fit with the term: its scale-free Fréchet distance, first and last steps

    def generator_fit_kwargs(self, x: Tensor, y: Tensor) -> dict:
        replayed = [] if self.replay_y is None else sorted(set(self.replay_y.tolist()))
        old = [c for c in replayed if c in self.anchors]  # the old classes: those of the replay set
        if self.moment_weight == 0 or not old:
            return {}
        t_max = max(1, int(self.moment_t_max * self.generator.config.num_train_timesteps))
        term = MomentMatching(self.anchors, x, y, old, weight=self.moment_weight, batch=self.moment_batch,
                              t_max=t_max, seed=seed_for("anchored.moment", seed=self.seed, classes=len(old)))
        self.moment_log.append(term.history)
        return {"regularizer": term}


class AnchoredGANMemoryPlugin(AnchoredReplayPlugin, GANMemoryPlugin):
    """GAN Memory with anchored replay by selection (``oversample``); see ``docs/ANCHORED_REPLAY.md`` for
    why there is no moment matching. Other arguments: ``GANMemoryPlugin``'s."""

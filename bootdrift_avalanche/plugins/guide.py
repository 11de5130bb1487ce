"""GUIDE as an Avalanche plugin: "GUIDE: Guidance-based Incremental Learning with Diffusion Models"
(Cywiński, Deja, Trzciński, Twardowski, Kuciński 2024), on a class-conditional diffusers DDPM.

Instead of replaying old classes as faithfully as it can (DDGR), GUIDE steers each replayed sample
of an old class **toward the classes of the current task**, with the continual learner's own
gradient, so rehearsal lands near the decision boundary the new task is eroding.
How it works, its cost and its choices: ``docs/GUIDE.md`` (implementation notes).
"""
from __future__ import annotations

import copy
from typing import List, Optional

import torch
from avalanche.models.utils import is_multi_task_module
from torch import Tensor

from ..generators.ddpm.config import SAMPLERS
from ..generators.ddpm.guide_guidance import NewClassGuidance
from ..runtime.seeds import seed_for
from .ddgr import TaskGuide
from .dgr import DGRPlugin
from .task_keys import experience_keys


class GUIDEPlugin(DGRPlugin):
    """Diffusion replay guided toward the current task's classes (``docs/GUIDE.md``).

    Args:
        generator: a class-conditional generator with ``generate(labels, seed=, guidance=,
            guidance_scale=, sampler=, num_inference_steps=, progress=)`` and ``fit``, e.g.
            ``DDPMGenerator``.
        replay_per_class: guided images per old class in each replay set.
        guidance_scale: scale of the guidance toward the current classes (0: unguided replay).
        regenerate_every: training iterations between two draws of the replay set with the
            classifier as it is then (``None``: one draw per experience, at its start).
        sampler, sampling_steps: the sampler of the guided replays (``None``: the generator's own).
        generator_replay_per_class: unguided images per old class the generator rehearses on after
            each experience (``None``: ``replay_per_class``).
        generator_steps: optimisation steps of the generator after each experience (``None``: its
            configured ``train_steps``).
        replay_ratio: replayed samples appended per real sample in each mini-batch (``None``: the
            number of old experiences, the reference's split of a mini-batch).
        train_generator: set ``False`` to keep a pre-trained generator fixed.
        progress: tqdm bars while sampling and training the generator.
        seed: fixes replay generation and replay sampling.
    """

    generate_keywords = ("seed", "guidance", "guidance_scale", "sampler", "num_inference_steps", "progress")
    replay_seed_stream = "guide.replay"

    def __init__(self, generator, *, replay_per_class: int = 20, guidance_scale: float = 0.2,
                 regenerate_every: Optional[int] = None, sampler: Optional[str] = "ddim",
                 sampling_steps: Optional[int] = None, generator_replay_per_class: Optional[int] = None,
                 generator_steps: Optional[int] = None, replay_ratio: Optional[float] = None,
                 train_generator: bool = True, progress: bool = False, seed: int = 0):
        super().__init__(generator, replay_per_class=replay_per_class, generator_steps=generator_steps,
                         replay_ratio=replay_ratio, train_generator=train_generator, progress=progress, seed=seed)
        if guidance_scale < 0:
            raise ValueError(f"guidance_scale must be >= 0 (a positive scale guides toward the current classes), "
                             f"got {guidance_scale}")
        if regenerate_every is not None and regenerate_every < 1:
            raise ValueError(f"regenerate_every must be >= 1 or None, got {regenerate_every}")
        if sampler is not None and sampler not in SAMPLERS:
            raise ValueError(f"sampler must be one of {SAMPLERS} or None, got {sampler!r}")
        if sampling_steps is not None and sampling_steps < 1:
            raise ValueError(f"sampling_steps must be >= 1 or None, got {sampling_steps}")
        if generator_replay_per_class is not None and generator_replay_per_class < 1:
            raise ValueError(f"generator_replay_per_class must be >= 1 or None, got {generator_replay_per_class}")
        self.guidance_scale = float(guidance_scale)
        self.regenerate_every = regenerate_every
        self.sampler, self.sampling_steps = sampler, sampling_steps
        self.generator_replay_per_class = generator_replay_per_class or replay_per_class
        self.current_keys: List[tuple] = []  # (task, class) pairs of the experience trained last
        self.self_replay_x: Optional[Tensor] = None  # the generator's unguided rehearsal set
        self.self_replay_y: Optional[Tensor] = None
        self._iteration = 0
        self._draw = 0

    # -- the guidance --------------------------------------------------------------------------
    def replay_samples(self, strategy, labels: Tensor, *, seed: int) -> Tensor:
        """Images of generator ``labels`` guided toward the classes of the current (or last
        trained) experience by a frozen copy of ``strategy.model`` (``docs/GUIDE.md``); unguided
        before any experience or with ``guidance_scale`` 0."""
        guidance = self.guidance(strategy) if self.guidance_scale and self.current_keys else None
        return self.generator.generate(labels, seed=seed, guidance=guidance, guidance_scale=self.guidance_scale,
                                       sampler=self.sampler, num_inference_steps=self.sampling_steps,
                                       progress=self.progress)

    def guidance(self, strategy) -> NewClassGuidance:
        """The guidance of the next replays: a frozen eval copy of ``strategy.model``, targets the
        current experience's generator labels, softmax over the seen classes (or, for a multi-head
        model or repeated class ids, over the current task's head)."""
        classifier = copy.deepcopy(strategy.model).eval()
        for p in classifier.parameters():
            p.requires_grad_(False)
        labels = self.labels.copy().add(self.current_keys)
        targets = [labels.label(t, c) for t, c in self.current_keys]
        if not (is_multi_task_module(classifier) or labels.repeated):
            return NewClassGuidance(classifier, targets, labels.labels())
        tasks = sorted({t for t, _ in self.current_keys})
        if len(tasks) != 1:
            raise ValueError(f"GUIDE guides a multi-head model through the head of the current task; this experience "
                             f"holds tasks {tasks}")
        return NewClassGuidance(TaskGuide(classifier, tasks[0], labels), targets, labels.of_task(tasks[0]))

    # -- 1. the replay sets --------------------------------------------------------------------
    def _replay_set(self, strategy, labels: Tensor) -> Tensor:
        seed = seed_for(self.replay_seed_stream, seed=self.seed, experience=strategy.clock.train_exp_counter,
                        draw=self._draw)
        self._draw += 1
        return self.replay_samples(strategy, labels, seed=seed)

    def before_training_exp(self, strategy, **kwargs):
        self.current_keys = experience_keys(strategy.experience)
        self._iteration, self._draw = 0, 0
        super().before_training_exp(strategy, **kwargs)  # the first guided replay set
        self.self_replay_x = self.self_replay_y = None
        if self.replay_x is not None and self.train_generator:
            labels = torch.tensor(self.seen_classes).repeat_interleave(self.generator_replay_per_class)
            seed = seed_for("guide.self_replay", seed=self.seed, experience=strategy.clock.train_exp_counter)
            self.self_replay_x = self.generator.generate(labels, seed=seed, progress=self.progress)
            self.self_replay_y = labels

    # -- 2. replay in every mini-batch, drawn again every ``regenerate_every`` iterations --------
    def before_training_iteration(self, strategy, **kwargs):
        if self.replay_x is not None and self.regenerate_every and self._iteration \
                and self._iteration % self.regenerate_every == 0:
            self.replay_x = self._replay_set(strategy, self.replay_y)
        self._iteration += 1
        super().before_training_iteration(strategy, **kwargs)

    def _ratio(self, strategy) -> float:
        if self.replay_ratio is not None:
            return self.replay_ratio
        return float(strategy.clock.train_exp_counter)  # one share of the mini-batch per old experience

    # -- 3. the generator rehearses on its own unguided replays ---------------------------------
    def after_training_exp(self, strategy, **kwargs):
        x, y = self._generator_data(strategy.experience)
        if self.self_replay_x is not None:
            x, y = torch.cat([x, self.self_replay_x]), torch.cat([y, self.self_replay_y])
        if self.train_generator:
            self.generator.fit(x, y, steps=self.generator_steps, progress=self.progress)
        self.self_replay_x = self.self_replay_y = None

    def state_dict(self) -> dict:
        """:meth:`ReplaySetPlugin.state_dict` plus the current experience's (task, class) pairs."""
        return {**super().state_dict(), "current_keys": [list(k) for k in self.current_keys]}

    def load_state_dict(self, state: dict) -> None:
        super().load_state_dict(state)
        self.current_keys = [(int(t), int(c)) for t, c in state.get("current_keys", [])]


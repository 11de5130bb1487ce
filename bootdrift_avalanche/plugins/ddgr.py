"""DDGR as an Avalanche plugin: "DDGR: Continual Learning with Deep Diffusion-based Generative
Replay" (Gao & Liu, ICML 2023), on a class-conditional diffusers DDPM.
How it works, its cost and its choices: ``docs/DDGR.md`` (implementation notes).
"""
from __future__ import annotations

import copy
from typing import Optional, Sequence

import torch
from avalanche.models.utils import avalanche_forward, is_multi_task_module
from torch import Tensor

from ..runtime.seeds import seed_for
from .dgr import DGRPlugin

#: DDGR's classifier-guidance scale: the reference's ``classifier_scale`` (1.0). The one default of
#: the plugin, the ``DDGR`` strategy, the ``ddgr`` recipe, the examples and the README.
GUIDANCE_SCALE = 1.0


class DDGRPlugin(DGRPlugin, supports_distributed=True):
    """Diffusion-based generative replay with classifier guidance (``docs/DDGR.md``).

    Args:
        generator: a class-conditional generator with ``generate(labels, seed=, guidance=,
            guidance_scale=, guidance_classes=, progress=)`` and ``fit(x, y, steps=, progress=)``,
            e.g. ``DDPMGenerator``.
        replay_per_class: replayed images generated per old class at the start of each experience.
        guidance_scale: classifier-guidance scale (``GUIDANCE_SCALE``, the reference's; 0 disables
            guidance, which is plain generative replay with a DDPM, not DDGR).
        generator_steps: optimisation steps of the generator after each experience (``None``: the
            generator's configured ``train_steps``).
        replay_ratio: replayed samples appended per real sample in each mini-batch (``None``: in
            proportion to the replay set's size, see ``ReplaySetPlugin``).
        train_generator: set ``False`` to keep a pre-trained generator fixed.
        progress: tqdm bars while sampling the replay set and training the generator.
        seed: fixes replay generation and replay sampling.
    """

    generate_keywords = ("seed", "guidance", "guidance_scale", "guidance_classes", "progress")
    replay_seed_stream = "ddgr.replay"

    def __init__(self, generator, *, replay_per_class: int = 20, guidance_scale: float = GUIDANCE_SCALE,
                 generator_steps: Optional[int] = None, replay_ratio: Optional[float] = 1.0,
                 train_generator: bool = True, progress: bool = False, seed: int = 0):
        super().__init__(generator, replay_per_class=replay_per_class, generator_steps=generator_steps,
                         replay_ratio=replay_ratio, train_generator=train_generator, progress=progress, seed=seed)
        self.guidance_scale = guidance_scale

    def replay_samples(self, strategy, labels: Tensor, *, seed: int) -> Tensor:
        """Images of generator ``labels`` guided by a frozen copy of the current classifier
        (``strategy.model``) with a softmax over the seen classes (and any class of ``labels``
        not seen yet), scaled by ``guidance_scale``: how the replay set is drawn. Per task, through
        :class:`TaskGuide`, for a multi-head model or repeated class ids (``docs/DDGR.md``); the
        labels of each task then get their own seed, derived from ``seed``, unless only one task
        is asked for."""
        classifier = copy.deepcopy(strategy.model).eval()
        for p in classifier.parameters():
            p.requires_grad_(False)
        guide = classifier if self.guidance_scale else None
        if not (is_multi_task_module(classifier) or self.labels.repeated):
            classes = sorted(set(self.seen_classes) | set(labels.tolist()))
            return self._generate(labels, seed, guide, classes)
        tasks, _ = self.labels.to_keys(labels)
        groups = torch.unique(tasks).tolist()
        out = None
        for t in groups:
            rows = tasks == t
            classes = sorted(set(self.labels.of_task(t)) | set(labels[rows].tolist()))
            x = self._generate(labels[rows], seed if len(groups) == 1 else seed_for("ddgr.task", seed=seed, task=t),
                               TaskGuide(guide, t, self.labels) if guide is not None else None, classes)
            out = x.new_empty((len(labels),) + x.shape[1:]) if out is None else out
            out[rows] = x
        return out

    def _generate(self, labels: Tensor, seed: int, guide, classes: Sequence[int]) -> Tensor:
        return self.generator.generate(labels, seed=seed, guidance=guide, guidance_scale=self.guidance_scale,
                                       guidance_classes=classes, progress=self.progress)


class TaskGuide:
    """The guidance classifier of one task, in generator-label space: ``guide(x)`` calls
    ``avalanche_forward(model, x, task)`` (the task's head of a multi-head model; a single-head
    model is called as it is) and puts the logit of each (task, class) pair in the column of its
    generator label (other columns 0: ``guidance_classes`` keeps only this task's labels)."""

    def __init__(self, model, task: int, labels):
        self.model, self.task = model, int(task)
        self.columns = torch.tensor(labels.of_task(task), dtype=torch.long)  # generator labels
        self.classes = torch.tensor([labels.key(g)[1] for g in self.columns.tolist()], dtype=torch.long)
        self.width = int(self.columns.max()) + 1 if len(self.columns) else 0

    def __call__(self, x: Tensor) -> Tensor:
        logits = avalanche_forward(self.model, x, torch.full((len(x),), self.task, dtype=torch.long, device=x.device))
        cols, classes = self.columns.to(logits.device), self.classes.to(logits.device)
        return logits.new_zeros((len(x), self.width)).index_copy(1, cols, logits[:, classes])

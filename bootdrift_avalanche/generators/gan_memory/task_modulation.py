"""One task's modulation of a GAN Memory network: a ``StyleParams`` per modulated layer, plus the
generator's class bias (``GeneratorModulation``) or the discriminator's per-class head
(``DiscriminatorModulation``). See docs/GAN_MEMORY.md.
"""
from __future__ import annotations

from typing import Dict

import torch
from torch import Tensor, nn

from .modulated_layers import StyleParams


class TaskModulation(nn.Module):
    """Base of a task's modulation set: one ``StyleParams`` per modulated layer, by layer key."""

    def __init__(self, styles: Dict[str, StyleParams]):
        super().__init__()
        self.styles = nn.ModuleDict(styles)

    def style(self, key: str) -> StyleParams:
        try:
            return self.styles[key]
        except KeyError:
            raise KeyError(
                f"task modulation has no style for layer {key!r}: it was built for a different network"
            ) from None

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())


class GeneratorModulation(TaskModulation):
    """All of one task's generator parameters: layer styles, class bias, and the task's classes.

    ``class_bias`` (n_task_classes, fc_out) is the class-conditional part of GAN Memory: the
    reference's ``AdaFM_class_bias``, a linear map from the one-hot within-task class to the first
    layer's output. Indexing a row is that linear map without its bias, which would duplicate the
    first layer's per-task bias.
    """

    def __init__(self, styles: Dict[str, StyleParams], class_bias: Tensor, classes: Tensor):
        super().__init__(styles)
        if class_bias.shape[0] != classes.numel():
            raise ValueError(f"class_bias has {class_bias.shape[0]} rows for {classes.numel()} classes")
        self.class_bias = nn.Parameter(class_bias)
        # Global class ids of this task, in within-task order; a buffer so it travels with the bank.
        self.register_buffer("classes", classes.long().clone())
        # Whether the task has been trained (then frozen for good); saved so a loaded bank re-freezes.
        self.register_buffer("trained", torch.zeros((), dtype=torch.bool))

    def local_labels(self, labels: Tensor) -> Tensor:
        """Map global class ids to within-task indices (0..n_task_classes-1); errors on strangers."""
        match = labels.unsqueeze(1) == self.classes.to(labels.device).unsqueeze(0)
        if not bool(match.any(1).all()):
            strangers = sorted(set(labels[~match.any(1)].tolist()))
            raise ValueError(f"classes {strangers} do not belong to this task (its classes: {self.classes.tolist()})")
        return match.float().argmax(1)


class DiscriminatorModulation(TaskModulation):
    """One task's discriminator parameters: layer styles and a per-class output head.

    Only used while the task trains (generation needs the generator alone), so it is not stored in
    the bank.
    """

    def __init__(self, styles: Dict[str, StyleParams], head_weight: Tensor, head_bias: Tensor):
        super().__init__(styles)
        self.head_weight = nn.Parameter(head_weight)
        self.head_bias = nn.Parameter(head_bias)

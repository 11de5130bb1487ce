"""The mapping network: z and the class label to the intermediate latent w.

As in the reference (stylegan2-ada-pytorch's ``MappingNetwork``): the class is embedded by a
fully-connected layer on its one-hot vector, z and the embedding are each normalised to unit second
moment and **concatenated**, then ``layers`` fully-connected layers with leaky ReLU and a 100x lower
learning rate (``lr_mult``) give w. With ``z_dim=0`` the network maps the class alone; the
discriminator uses it that way for its projection vector.
"""
from __future__ import annotations

from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .layers import EqualLinear, normalize_2nd_moment


class MappingNetwork(nn.Module):
    """``forward(z, labels) -> w`` of shape (N, w_dim); ``z`` is ignored (may be None) when ``z_dim == 0``."""

    def __init__(self, z_dim: int, num_classes: int, w_dim: int, *, layers: int, lr_mult: float = 0.01,
                 embed_dim: Optional[int] = None):
        super().__init__()
        self.z_dim, self.num_classes = z_dim, num_classes
        embed_dim = w_dim if embed_dim is None else embed_dim
        self.embed = EqualLinear(num_classes, embed_dim)
        dims = [z_dim + embed_dim] + [w_dim] * layers
        self.fcs = nn.ModuleList(EqualLinear(a, b, lr_mult=lr_mult, activation="lrelu")
                                 for a, b in zip(dims[:-1], dims[1:]))

    def forward(self, z: Optional[Tensor], labels: Tensor) -> Tensor:
        onehot = F.one_hot(labels, self.num_classes).to(self.embed.weight.dtype)
        x = normalize_2nd_moment(self.embed(onehot))
        if self.z_dim:
            x = torch.cat([normalize_2nd_moment(z), x], dim=1)
        for fc in self.fcs:
            x = fc(x)
        return x

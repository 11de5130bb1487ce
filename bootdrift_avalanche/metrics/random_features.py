"""``RandomFeatures``: a frozen CNN drawn from a seed, the offline baseline feature space (no
training, no weights file)."""
from __future__ import annotations

from typing import Tuple, Union

import torch
from torch import Tensor, nn

from .image_input import images_in_unit_range


class RandomFeatures:
    """A frozen, randomly initialised CNN (no training, no weights file): an offline baseline feature
    space, the same for every run with the same ``seed``. ``name = "random"``.

    Four 3x3 convolutions with ReLU (64, 128, 256, ``num_features`` channels, the last three with
    stride 2), then a global average pool: (N, ``num_features``) features for images of any size.
    Weights are He-normal (variance-preserving through the ReLUs, so features neither vanish nor
    blow up), drawn from ``seed`` without touching torch's global RNG. Images are mapped from
    ``value_range`` to [-1, 1]; grey ones are repeated to RGB. Random convolutional features are
    a known sanity baseline for FID-style metrics; they are not a perceptual space, so compare
    their values only with each other (the name in the metric tags keeps them apart).
    """

    name = "random"

    def __init__(self, *, seed: int = 0, num_features: int = 512,
                 value_range: Tuple[float, float] = (0.0, 1.0)) -> None:
        if num_features < 1:
            raise ValueError(f"num_features must be positive, got {num_features}")
        self.seed, self.num_features, self.value_range = seed, num_features, value_range
        widths = (3, 64, 128, 256, num_features)
        layers: list = []
        with torch.random.fork_rng(devices=[]):  # weights from `seed` alone; the caller's RNG is left as it was
            torch.manual_seed(seed)
            for i, (cin, cout) in enumerate(zip(widths[:-1], widths[1:])):
                conv = nn.Conv2d(cin, cout, 3, stride=1 if i == 0 else 2, padding=1)
                nn.init.kaiming_normal_(conv.weight, nonlinearity="relu")
                nn.init.zeros_(conv.bias)
                layers += [conv, nn.ReLU()]
        self.model = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.model.eval().requires_grad_(False)

    @torch.no_grad()
    def __call__(self, x: Tensor) -> Tensor:
        x = images_in_unit_range(x, self.value_range, "RandomFeatures") * 2.0 - 1.0
        return self.model(x.to(next(self.model.parameters()).device))

    def to(self, device: Union[str, torch.device]) -> "RandomFeatures":
        self.model.to(device)
        return self

    def __repr__(self) -> str:
        return f"RandomFeatures(seed={self.seed}, num_features={self.num_features})"

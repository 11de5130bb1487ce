"""``ResNet50Features``: the penultimate layer of torchvision's ImageNet ResNet-50, a pretrained
feature space for OTDD; its weights file is looked up offline (docs/FEATURE_EXTRACTORS.md)."""
from __future__ import annotations

from pathlib import Path
from typing import Optional, Tuple, Union

import torch
from torch import Tensor, nn

from .image_input import images_in_unit_range
from .weights import RESNET50_WEIGHTS, find_or_download, load_or_explain


class ResNet50Features:
    """The penultimate layer (global average pool, 2048-d) of torchvision's ImageNet ResNet-50; the
    pretrained feature space the seed paper suggests for OTDD. ``name = "resnet50"``.

    Images are mapped from ``value_range`` to [0, 1], grey ones repeated to RGB, resized to
    ``resize`` x ``resize`` (bilinear; ImageNet's 224 by default, ``None`` keeps the input size) and
    normalised with ImageNet's mean and std, as torchvision's weights expect.

    Weights (:data:`RESNET50_WEIGHTS`, torchvision's default ``IMAGENET1K_V2``) are looked up in
    this order: ``weights_path``; ``$BOOTDRIFT_RESNET50_WEIGHTS``; torchvision's cache
    (``$TORCH_HOME/hub/checkpoints/resnet50-11ad3fa6.pth``). A file is a state dict of
    ``torchvision.models.resnet50`` (as torchvision publishes it). If none exists, ``download=True``
    lets torchvision fetch it; otherwise a single ``FileNotFoundError`` says what is missing,
    where it looked and how to supply it.
    """

    name = "resnet50"
    num_features = 2048
    MEAN, STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)

    def __init__(self, weights_path: Union[str, Path, None] = None, *, download: bool = False,
                 resize: Optional[int] = 224, value_range: Tuple[float, float] = (0.0, 1.0)) -> None:
        from torchvision.models import ResNet50_Weights, resnet50

        self.resize, self.value_range = resize, value_range
        path = find_or_download(RESNET50_WEIGHTS, weights_path, download)

        def load() -> nn.Module:
            with torch.random.fork_rng(devices=[]):  # the random init is overwritten; keep the caller's RNG
                model = resnet50(weights=None)
            state = (ResNet50_Weights.IMAGENET1K_V2.get_state_dict(progress=False) if path is None
                     else torch.load(path, map_location="cpu", weights_only=True))
            model.load_state_dict(state)
            return model

        self.model = load_or_explain(load, RESNET50_WEIGHTS, path)
        self.model.fc = nn.Identity()  # the pooled 2048-d features, not ImageNet's logits
        self.model.eval().requires_grad_(False)

    @torch.no_grad()
    def __call__(self, x: Tensor) -> Tensor:
        x = images_in_unit_range(x, self.value_range, "ResNet50Features")
        device = next(self.model.parameters()).device
        x = x.to(device)
        if self.resize is not None and x.shape[-2:] != (self.resize, self.resize):
            x = nn.functional.interpolate(x, size=(self.resize, self.resize), mode="bilinear", align_corners=False,
                                          antialias=True)
        mean = torch.tensor(self.MEAN, device=device).view(1, 3, 1, 1)
        std = torch.tensor(self.STD, device=device).view(1, 3, 1, 1)
        return self.model((x - mean) / std)

    def to(self, device: Union[str, torch.device]) -> "ResNet50Features":
        self.model.to(device)
        return self

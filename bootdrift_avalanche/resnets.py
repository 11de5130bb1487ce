"""The paper-scale classifiers: the continual-learning community's ResNet-18 variants, used as the
solver and as the RealAcc classifier by the ``paper`` preset (``experiments.config``). Both come from
libraries; only their input layer is chosen here.

* :func:`slim_resnet18`: Avalanche's ``SlimResNet18`` (the reduced ResNet-18 of Lopez-Paz & Ranzato's
  GEM, 20 base channels), for 3x32x32 images (CIFAR-100). Its ``forward`` reshapes every input to
  (3, 32, 32), so any other shape is refused here with a clear error instead of a silent reshape.
* :func:`resnet18_64`: torchvision's ``resnet18`` (64 base channels, random initialisation) for 64x64
  images (Flowers102). ImageNet's 7x7 stride-2 stem would leave a 2x2 map before the pooling at
  64 px; a 3x3 stride-1 stem (the usual small-image change) keeps the max-pool, so the residual
  stages see 32x32 -> 4x4, the same cost as the CIFAR ResNet-18 on 32x32 images.

Both use batch normalisation (as the reference models do); ``train_classifier`` re-initialises
their running statistics with the other parameters.
"""
from __future__ import annotations

from typing import Optional, Sequence

from torch import nn


def _image_shape(input_shape: Sequence[int], model: str) -> tuple:
    shape = tuple(int(s) for s in input_shape)
    if len(shape) != 3 or shape[1] != shape[2]:
        raise ValueError(f"{model} classifies square images (C, H, W), got input shape {shape}")
    return shape


def slim_resnet18(input_shape: Sequence[int], num_classes: int, *, width: Optional[int] = None) -> nn.Module:
    """Avalanche's ``SlimResNet18(num_classes, nf=width or 20)`` for (3, 32, 32) images."""
    from avalanche.models import SlimResNet18

    shape = _image_shape(input_shape, "slim-resnet18")
    if shape != (3, 32, 32):
        raise ValueError(f"slim-resnet18 (Avalanche's SlimResNet18) needs 3x32x32 images, got {shape}; "
                         "use the preset's classifier for other sizes (e.g. resnet18 for 64x64)")
    return SlimResNet18(num_classes, nf=width or 20)


def resnet18_64(input_shape: Sequence[int], num_classes: int, *, width: Optional[int] = None) -> nn.Module:
    """torchvision's ``resnet18(num_classes=...)`` with a 3x3 stride-1 stem for C x 64 x 64 images
    (see the module docstring). ``width`` must stay ``None``: torchvision's ResNet-18 has fixed
    channel widths (64 to 512)."""
    from torchvision.models import resnet18

    c, h, _ = _image_shape(input_shape, "resnet18")
    if h != 64:
        raise ValueError(f"resnet18 is set up for 64x64 images (Flowers102), got {h}x{h}")
    if width is not None:
        raise ValueError(f"resnet18 has torchvision's fixed widths; got width={width} (leave it unset)")
    model = resnet18(weights=None, num_classes=num_classes)
    model.conv1 = nn.Conv2d(c, 64, kernel_size=3, stride=1, padding=1, bias=False)
    return model

"""Small networks shared by the package: the classifier of the continual learner, the feature
extractor of :class:`~bootdrift_avalanche.metrics.features.ClassifierFeatures`, and the fresh
classifier of the real-data accuracy metric.

* :class:`SmallCNN` for (C, H, W) images (8x8 to 64x64): three 3x3 convolutions, two 2x2 poolings,
  a fully connected penultimate layer (``features``) and a linear head.
* :class:`MLPClassifier` for d-dimensional points (the 2-D Gaussian-mixture toy).
* :func:`make_classifier` picks one from the input shape; :func:`train_classifier` and
  :func:`predict` are the plain, seeded training and inference loops.
* :data:`CLASSIFIERS` is the registry of classifier architectures by name (``small``, and the
  paper-scale ``slim-resnet18`` and ``resnet18`` of :mod:`bootdrift_avalanche.resnets`);
  :func:`build_classifier` builds one. The presets table names them (``Preset.classifier``).

SmallCNN and MLPClassifier expose ``features(x) -> (N, feature_dim)`` (the penultimate activations)
and ``feature_dim``. They have no batch normalisation: they are trained on tiny, class-incremental
batches, where running statistics drift between experiences. The paper-scale ResNets keep the batch
normalisation of their published form.
"""
from __future__ import annotations

from typing import Callable, Dict, Optional, Sequence

import torch
from torch import Tensor, nn

from .resnets import resnet18_64, slim_resnet18
from .runtime import distributed as D


class SmallCNN(nn.Module):
    """A small convolutional classifier.

    Args:
        in_channels: image channels (1 for digits, 3 for CIFAR/Flowers).
        num_classes: output logits.
        image_size: side of the (square) input images, at least 4.
        width: channels of the first convolution (the second and third have 2x).
        feature_dim: size of the penultimate layer returned by :meth:`features`.
    """

    def __init__(
        self,
        in_channels: int = 1,
        num_classes: int = 10,
        image_size: int = 8,
        width: int = 32,
        *,
        feature_dim: int = 128,
    ) -> None:
        super().__init__()
        if image_size < 4:
            raise ValueError(f"image_size must be at least 4, got {image_size}")
        if min(in_channels, num_classes, width, feature_dim) < 1:
            raise ValueError("in_channels, num_classes, width and feature_dim must be positive")
        self.in_channels, self.num_classes, self.image_size = in_channels, num_classes, image_size
        self.feature_dim = feature_dim
        self.conv = nn.Sequential(
            nn.Conv2d(in_channels, width, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(width, 2 * width, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(2 * width, 2 * width, 3, padding=1),
            nn.ReLU(),
        )
        side = image_size // 4
        self.fc = nn.Sequential(nn.Flatten(), nn.Linear(2 * width * side * side, feature_dim), nn.ReLU())
        self.head = nn.Linear(feature_dim, num_classes)

    def features(self, x: Tensor) -> Tensor:
        """Penultimate activations, shape (N, feature_dim)."""
        if x.dim() != 4 or x.shape[1] != self.in_channels or x.shape[-1] != self.image_size:
            raise ValueError(
                f"expected images (N, {self.in_channels}, {self.image_size}, {self.image_size}), got {tuple(x.shape)}"
            )
        return self.fc(self.conv(x))

    def forward(self, x: Tensor) -> Tensor:
        """Class logits, shape (N, num_classes)."""
        return self.head(self.features(x))


class MLPClassifier(nn.Module):
    """A two-hidden-layer perceptron for d-dimensional points.

    Args:
        in_dim: input dimension.
        num_classes: output logits.
        hidden: width of both hidden layers (= ``feature_dim``).
    """

    def __init__(self, in_dim: int = 2, num_classes: int = 10, hidden: int = 64) -> None:
        super().__init__()
        if min(in_dim, num_classes, hidden) < 1:
            raise ValueError("in_dim, num_classes and hidden must be positive")
        self.in_dim, self.num_classes, self.feature_dim = in_dim, num_classes, hidden
        self.body = nn.Sequential(nn.Linear(in_dim, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU())
        self.head = nn.Linear(hidden, num_classes)

    def features(self, x: Tensor) -> Tensor:
        """Penultimate activations, shape (N, hidden)."""
        x = x.flatten(1)
        if x.shape[1] != self.in_dim:
            raise ValueError(f"expected inputs with {self.in_dim} values per sample, got {x.shape[1]}")
        return self.body(x)

    def forward(self, x: Tensor) -> Tensor:
        """Class logits, shape (N, num_classes)."""
        return self.head(self.features(x))


def make_classifier(input_shape: Sequence[int], num_classes: int, **kwargs) -> nn.Module:
    """:class:`SmallCNN` for image shapes (C, H, W) with H == W, :class:`MLPClassifier` for (d,);
    extra keyword arguments go to the chosen class."""
    shape = tuple(int(s) for s in input_shape)
    if len(shape) == 3:
        c, h, w = shape
        if h != w:
            raise ValueError(f"SmallCNN needs square images, got {h}x{w}")
        return SmallCNN(in_channels=c, num_classes=num_classes, image_size=h, **kwargs)
    if len(shape) == 1:
        return MLPClassifier(in_dim=shape[0], num_classes=num_classes, **kwargs)
    raise ValueError(f"input_shape must be (C, H, W) or (d,), got {shape}")


def _small(input_shape: Sequence[int], num_classes: int, *, width: Optional[int] = None) -> nn.Module:
    # width None: SmallCNN's default (what the RealAcc classifier and the clf extractor always used)
    return make_classifier(input_shape, num_classes, **({} if width is None else {"width": width}))


#: Classifier architectures by name: ``builder(input_shape, num_classes, *, width=None)``, ``width``
#: the base channel count (``None``: the architecture's own). A new architecture is one entry here.
CLASSIFIERS: Dict[str, Callable[..., nn.Module]] = {
    "small": _small,  # SmallCNN for images, MLPClassifier for points (make_classifier)
    "slim-resnet18": slim_resnet18,  # Avalanche's SlimResNet18, 3x32x32 (CIFAR-100)
    "resnet18": resnet18_64,  # torchvision's ResNet-18 with a small-image stem, 64x64 (Flowers102)
}


def build_classifier(name: str, input_shape: Sequence[int], num_classes: int, *,
                     width: Optional[int] = None) -> nn.Module:
    """The registered classifier ``name`` (see :data:`CLASSIFIERS`) for ``input_shape``."""
    if name not in CLASSIFIERS:
        raise ValueError(f"unknown classifier {name!r}; choose one of {', '.join(CLASSIFIERS)}")
    return CLASSIFIERS[name](input_shape, num_classes, width=width)


def has_batch_norm(model: nn.Module) -> bool:
    """Whether ``model`` has a batch-normalisation layer (so splitting its mini-batches across ranks
    would change its batch statistics: it then trains replicated)."""
    return any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in model.modules())


def train_classifier(
    model: nn.Module,
    x: Tensor,
    y: Tensor,
    *,
    epochs: int = 30,
    batch_size: int = 128,
    lr: float = 1e-3,
    seed: int = 0,
) -> nn.Module:
    """Train ``model`` in place with Adam and cross-entropy on (x, y), reproducibly: the weights are
    re-initialised and the batches shuffled from ``seed`` without touching the global RNG state.
    Returns the model in eval mode.

    Under ``torchrun`` with several ranks (every rank calls with the same data and seed) a model
    without batch normalisation trains with ``DistributedDataParallel``: every rank draws the same
    global mini-batch and computes the loss of its rows ``batch[rank::world]`` as its share of the
    batch mean (sum / global batch size · world, since DDP averages gradients over the ranks), so the
    gradient is that of the whole batch and the model equals the one-process model up to float
    rounding. A model with batch normalisation trains replicated on every rank (per-shard batch
    statistics would make it another model)."""
    if x.shape[0] != y.shape[0] or x.shape[0] == 0:
        raise ValueError(f"x and y must be non-empty with one label per sample, got {x.shape[0]} and {y.shape[0]}")
    if epochs < 1 or batch_size < 1 or lr <= 0:
        raise ValueError("epochs and batch_size must be positive and lr > 0")
    device = next(model.parameters()).device
    x, y = x.to(device), y.to(device=device, dtype=torch.long)
    with torch.random.fork_rng(devices=[] if device.type == "cpu" else [device]):
        torch.manual_seed(seed)
        for m in model.modules():
            if m is not model and hasattr(m, "reset_parameters"):
                m.reset_parameters()
        gen = torch.Generator().manual_seed(seed)
        opt = torch.optim.Adam(model.parameters(), lr=lr)
        ddp = D.sharded() and not has_batch_norm(model)
        net = D.maybe_ddp(model, str(device)) if ddp else model
        model.train()
        for _ in range(epochs):
            order = torch.randperm(x.shape[0], generator=gen).to(device)
            for s in range(0, x.shape[0], batch_size):
                idx = order[s : s + batch_size]
                if ddp:  # this rank's share of the global batch mean (see the docstring)
                    mine = idx[D.rank()::D.world_size()]
                    loss = nn.functional.cross_entropy(net(x[mine]), y[mine], reduction="sum") * (
                        D.world_size() / len(idx))
                else:
                    loss = nn.functional.cross_entropy(model(x[idx]), y[idx])
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
    return model.eval()


@torch.no_grad()
def predict(model: nn.Module, x: Tensor, *, batch_size: int = 512) -> Tensor:
    """Arg-max class predictions of ``model`` on ``x`` (eval mode, batched), on the CPU."""
    model.eval()
    device = next(model.parameters()).device
    out = [model(x[s : s + batch_size].to(device)).argmax(1).cpu() for s in range(0, x.shape[0], batch_size)]
    return torch.cat(out) if out else torch.empty(0, dtype=torch.long)

"""Real-data accuracy of synthetic data: train a fresh classifier on a synthetic labelled set only,
test its top-1 accuracy on real held-out data of the same classes.

This is the paper's measure of how much class information a generator preserves (the
"train on synthetic, test on real" protocol, e.g. Shmelkov et al. 2018, "How good is my GAN?").
Predictions are restricted to the classes present in the synthetic set, so the chance level is
1 / (number of those classes), reported alongside.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Tuple, Union

import torch
from torch import Tensor

from ..nets import build_classifier, train_classifier


@dataclass(frozen=True)
class RealAccuracyResult:
    """Attributes:
    accuracy: top-1 accuracy on the real test samples of the scored classes.
    chance: 1 / number of scored classes.
    n_train: synthetic training samples.
    n_test: real test samples of the scored classes.
    classes: the scored classes (those present in the synthetic set).
    """

    accuracy: float
    chance: float
    n_train: int
    n_test: int
    classes: Tuple[int, ...] = ()


def real_data_accuracy(
    x_syn: Tensor,
    y_syn: Tensor,
    x_real: Tensor,
    y_real: Tensor,
    *,
    num_classes: Optional[int] = None,
    epochs: int = 15,
    batch_size: int = 64,
    lr: float = 1e-3,
    seed: int = 0,
    device: Union[str, torch.device, None] = None,
    classifier: str = "small",
) -> RealAccuracyResult:
    """Train a fresh classifier (``classifier``, a name of
    :data:`~bootdrift_avalanche.nets.CLASSIFIERS`) on (x_syn, y_syn) and return its accuracy on the
    real samples (x_real, y_real) whose class occurs in ``y_syn``.

    Args:
        x_syn, y_syn: synthetic inputs (N, C, H, W) or (N, d) and their integer labels.
        x_real, y_real: real held-out inputs of the same per-sample shape and their labels.
        num_classes: logits of the classifier (default: largest label + 1).
        epochs, batch_size, lr: Adam training settings (defaults: a few seconds for Split Digits on
            one CPU core).
        seed: initialisation and shuffling seed (the result is reproducible, and torch's global
            RNG is left as it was, so scoring a run never changes its training).
        device: where to train (default: CPU).
        classifier: the architecture: ``"small"`` (SmallCNN / MLP, default), or the paper's
            ``"slim-resnet18"`` (3x32x32) and ``"resnet18"`` (64x64) that the ``paper`` preset picks.

    Raises:
        ValueError: mismatched shapes or lengths, or no real sample of a synthetic class.
    """
    for name, x, y in (("synthetic", x_syn, y_syn), ("real", x_real, y_real)):
        if x.dim() < 2 or y.dim() != 1 or x.shape[0] != y.shape[0]:
            raise ValueError(f"{name} inputs {tuple(x.shape)} and labels {tuple(y.shape)} do not match")
        if x.shape[0] == 0:
            raise ValueError(f"the {name} set is empty")
        if not bool(torch.isfinite(x).all()):
            raise ValueError(f"the {name} inputs contain NaN/Inf")
    if x_syn.shape[1:] != x_real.shape[1:]:
        raise ValueError(f"synthetic samples {tuple(x_syn.shape[1:])} and real samples {tuple(x_real.shape[1:])} "
                         "differ in shape")
    y_syn, y_real = y_syn.long().cpu(), y_real.long().cpu()
    classes = torch.unique(y_syn)
    keep = torch.isin(y_real, classes)
    if not bool(keep.any()):
        raise ValueError(f"no real test sample belongs to the synthetic classes {classes.tolist()}")
    num_classes = int(max(y_syn.max(), y_real.max())) + 1 if num_classes is None else num_classes
    if int(classes.min()) < 0 or int(classes.max()) >= num_classes:
        raise ValueError(f"synthetic labels {classes.tolist()} fall outside 0..{num_classes - 1}")
    # train_classifier redraws the initial weights from `seed`: building the model must not consume
    # the caller's RNG (scoring a run in the middle of training would otherwise change the training)
    with torch.random.fork_rng(devices=[]):
        model = build_classifier(classifier, x_syn.shape[1:], num_classes)
    model = model.to(device or "cpu")
    train_classifier(model, x_syn.float(), y_syn, epochs=epochs, batch_size=batch_size, lr=lr, seed=seed)
    x_test, y_test = x_real[keep].float(), y_real[keep]
    correct = 0
    with torch.no_grad():
        for s in range(0, x_test.shape[0], 512):
            logits = model(x_test[s : s + 512].to(next(model.parameters()).device)).cpu()
            pred = classes[logits[:, classes].argmax(1)]  # argmax over the scored classes only
            correct += int((pred == y_test[s : s + 512]).sum())
    return RealAccuracyResult(
        accuracy=correct / x_test.shape[0],
        chance=1.0 / classes.numel(),
        n_train=int(x_syn.shape[0]),
        n_test=int(x_test.shape[0]),
        classes=tuple(classes.tolist()),
    )

"""Split Digits: the embedded default benchmark, built from scikit-learn's bundled digits
(1,797 real 8x8 grey images of 10 classes; no download ever).

Images are 1-channel float tensors in [0, 1] (pixel values 0..16 divided by 16), optionally resized
to 16x16 or 32x32 with bilinear interpolation. The train/test split is stratified and **the same
for every run seed** (``benchmarks.split.SPLIT_SEED``): a seed varies the class order, the initialisation and the
sampling, never which images are held out, so a test image is never in another seed's train split.
"""
from __future__ import annotations

from typing import Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor

from .split import SPLIT_SEED

DIGITS_CLASSES = 10


def load_digits_tensors(*, image_size: int = 8, test_size: float = 0.2) -> Tuple[Tensor, Tensor, Tensor, Tensor]:
    """Return ``(x_train, y_train, x_test, y_test)``; images (N, 1, S, S) in [0, 1]; the split is
    fixed (``benchmarks.split.SPLIT_SEED``)."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    if image_size not in (8, 16, 32):
        raise ValueError(f"image_size must be 8, 16 or 32, got {image_size}")
    data = load_digits()
    x = torch.tensor(data.images, dtype=torch.float32).unsqueeze(1) / 16.0
    y = torch.tensor(data.target, dtype=torch.long)
    if image_size != 8:
        x = F.interpolate(x, size=(image_size, image_size), mode="bilinear", align_corners=False).clamp(0, 1)
    idx_tr, idx_te = train_test_split(
        torch.arange(len(y)).numpy(), test_size=test_size, stratify=y.numpy(), random_state=SPLIT_SEED
    )
    idx_tr, idx_te = torch.as_tensor(idx_tr), torch.as_tensor(idx_te)
    return x[idx_tr], y[idx_tr], x[idx_te], y[idx_te]


def load_digits_validation(*, image_size: int = 8, val_size: float = 0.2) -> Tuple[Tensor, Tensor, Tensor, Tensor]:
    """The train split alone, divided again (stratified, fixed like the test split) into
    ``(x_train, y_train, x_val, y_val)``: what tuning reads; the test split is never touched."""
    from sklearn.model_selection import train_test_split

    x, y, _, _ = load_digits_tensors(image_size=image_size)
    tr, va = (torch.as_tensor(i) for i in train_test_split(
        torch.arange(len(y)).numpy(), test_size=val_size, stratify=y.numpy(), random_state=SPLIT_SEED))
    return x[tr], y[tr], x[va], y[va]


def split_digits(
    n_experiences: int = 5,
    seed: int = 0,
    image_size: int = 8,
    *,
    test_size: float = 0.2,
    fixed_class_order: Optional[Sequence[int]] = None,
    task_labels: bool = False,
):
    """Split Digits as a class-incremental Avalanche benchmark.

    Args:
        n_experiences: number of experiences (10 classes; the first ``10 % n`` get one extra class).
        seed: fixes the class order (the stratified train/test split is the same for every seed).
        image_size: 8 (native), 16 or 32.
        test_size: fraction of each class held out for the test stream.
        fixed_class_order: overrides the seeded class order.
        task_labels: ``False`` -> ``[x, y]`` mini-batches; ``True`` -> ``[x, y, t]`` (task label 0).
    """
    from .split import tensors_class_incremental

    x_tr, y_tr, x_te, y_te = load_digits_tensors(image_size=image_size, test_size=test_size)
    bm = tensors_class_incremental(
        x_tr, y_tr, x_te, y_te,
        n_experiences=n_experiences, seed=seed,
        fixed_class_order=fixed_class_order, task_labels=task_labels,
    )
    bm.image_shape = (1, image_size, image_size)
    return bm

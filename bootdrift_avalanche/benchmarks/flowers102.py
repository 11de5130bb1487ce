"""Split Flowers102 from torchvision's ``Flowers102`` (102 classes), class-incremental.

On-disk format (torchvision's): ``<root>/flowers-102/jpg/image_NNNNN.jpg``,
``<root>/flowers-102/imagelabels.mat`` and ``<root>/flowers-102/setid.mat``. The default root is
``~/.avalanche/data/flowers102`` (Avalanche's data directory).

**Where the extra classes go**: 102 classes rarely divide the number of experiences. Every class is
kept: each experience gets ``102 // n`` classes and the first ``102 % n`` experiences get one more
(10 experiences: 11, 11, 10, ..., 10). Avalanche's ``class_incremental_benchmark`` would silently
drop the two leftover classes instead.

Training data = torchvision's ``train`` + ``val`` splits (10 images per class each), test data =
its ``test`` split, by default. Images are resized (shorter side) and centre-cropped to
``image_size`` and given as float tensors in [0, 1]. Mini-batches are ``[x, y]``
(``[x, y, t]`` with ``task_labels=True``). ``download=False`` trusts local files (MD5 sums are
checked on the download path only); missing files give one ``MissingDataError``.
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional, Sequence, Union

from .errors import MissingDataError, download_failed, missing_paths, unreadable

FLOWERS_CLASSES = 102
FLOWERS_FILES = ("flowers-102/jpg", "flowers-102/imagelabels.mat", "flowers-102/setid.mat")
FLOWERS_URL = "https://thor.robots.ox.ac.uk/flowers/102/"


def _default_root() -> Path:
    from avalanche.benchmarks.datasets.dataset_utils import default_dataset_location

    return Path(default_dataset_location("flowers102"))


def load_flowers102(
    dataset_root: Optional[Union[str, Path]] = None,
    *,
    download: bool = True,
    image_size: int = 64,
    train_splits: Sequence[str] = ("train", "val"),
):
    """Return ``(train, train_targets, test, test_targets)``; datasets yield ``(image, label)``."""
    import torch
    import torchvision.transforms as T
    from torchvision.datasets import Flowers102

    root = Path(dataset_root) if dataset_root is not None else _default_root()
    how = (
        f"download 102flowers.tgz, imagelabels.mat and setid.mat from {FLOWERS_URL} and put them in "
        f"{root}/flowers-102/ (the .tgz extracted there gives jpg/), or run with download=True "
        "(--download) on a machine with internet, or point dataset_root (--data-root) at the parent "
        "of flowers-102/."
    )

    class _LocalFlowers102(Flowers102):
        # See cifar100.py: without download, presence is checked by us and MD5 sums are skipped.
        _file_dict = {k: (v[0], None) for k, v in Flowers102._file_dict.items()}

    tf = T.Compose([T.Resize(image_size, antialias=True), T.CenterCrop(image_size), T.ToTensor()])
    if not download:
        missing = missing_paths(root, FLOWERS_FILES)
        if missing:
            raise MissingDataError("Flowers102", root, missing, how)

    def make(split):
        try:
            cls = Flowers102 if download else _LocalFlowers102
            return cls(str(root), split=split, transform=tf, download=download)
        except (OSError, RuntimeError, ValueError) as exc:
            if not download:
                raise unreadable("Flowers102", root, FLOWERS_FILES, how, exc) from None
            raise download_failed("Flowers102", root, FLOWERS_FILES, how, exc) from None

    trains = [make(s) for s in train_splits]
    test = make("test")
    train = torch.utils.data.ConcatDataset(trains)
    train_targets = [int(l) for d in trains for l in d._labels]
    return train, train_targets, test, [int(l) for l in test._labels]


def split_flowers102(
    n_experiences: int = 10,
    dataset_root: Optional[Union[str, Path]] = None,
    download: bool = True,
    image_size: int = 64,
    *,
    seed: int = 0,
    fixed_class_order: Optional[Sequence[int]] = None,
    task_labels: bool = False,
):
    """Split Flowers102 as a class-incremental Avalanche benchmark (see the module docstring for
    where the extra classes go and the mini-batch format)."""
    from .split import datasets_class_incremental

    train, ytr, test, yte = load_flowers102(dataset_root, download=download, image_size=image_size)
    bm = datasets_class_incremental(
        train, ytr, test, yte, n_classes=FLOWERS_CLASSES, n_experiences=n_experiences,
        seed=seed, fixed_class_order=fixed_class_order, task_labels=task_labels,
    )
    bm.image_shape = (3, image_size, image_size)
    return bm

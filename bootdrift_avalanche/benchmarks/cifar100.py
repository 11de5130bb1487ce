"""Split CIFAR-100 through torchvision's ``CIFAR100`` and Avalanche's ``nc_benchmark`` (the
construction Avalanche's own ``SplitCIFAR100`` uses), with an offline-friendly loader.

On-disk format (torchvision's): ``<root>/cifar-100-python/{train,test,meta}`` pickles. The default
root is Avalanche's, ``~/.avalanche/data/cifar100``.

- ``download=True``: torchvision checks the MD5 sums and downloads what is missing or corrupt (when
  the files are all there but fail the check and the download fails, the error says so).
- ``download=False``: the files must be there; they are parsed as they are (MD5 sums are only checked
  on the download path, so a locally re-packed copy works).
Either way, when the files are missing and cannot be fetched, one ``MissingDataError`` names the
files, the directory searched and how to supply them.

Images are float tensors in [0, 1] (``ToTensor``), optionally resized; no mean/std normalisation,
so generators and drift metrics see the images in the same range. Mini-batches are ``[x, y, t]``.
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional, Sequence, Union

from .errors import MissingDataError, download_failed, missing_paths, unreadable

CIFAR100_FILES = ("cifar-100-python/train", "cifar-100-python/test", "cifar-100-python/meta")
CIFAR100_URL = "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz"


def _default_root() -> Path:
    from avalanche.benchmarks.datasets.dataset_utils import default_dataset_location

    return Path(default_dataset_location("cifar100"))


def load_cifar100(dataset_root: Optional[Union[str, Path]] = None, *, download: bool = True):
    """Return torchvision ``(train, test)`` CIFAR-100 datasets, or raise ``MissingDataError``."""
    from torchvision.datasets import CIFAR100

    root = Path(dataset_root) if dataset_root is not None else _default_root()
    how = (
        f"download {CIFAR100_URL} and extract it into {root} (giving {root}/cifar-100-python/), "
        "or run with download=True (--download) on a machine with internet, "
        "or point dataset_root (--data-root) at a directory that holds cifar-100-python/."
    )

    class _LocalCIFAR100(CIFAR100):
        # Without download we trust the local files (presence checked below): md5=None makes
        # torchvision check existence only, so a re-packed copy is not "not found or corrupted".
        train_list = [[name, None] for name, _ in CIFAR100.train_list]
        test_list = [[name, None] for name, _ in CIFAR100.test_list]
        meta = {**CIFAR100.meta, "md5": None}

    if download:
        try:
            train = CIFAR100(str(root), train=True, download=True)
            test = CIFAR100(str(root), train=False, download=True)
            return train, test
        except (OSError, RuntimeError) as exc:  # URLError is an OSError
            raise download_failed("CIFAR-100", root, CIFAR100_FILES, how, exc) from None
    missing = missing_paths(root, CIFAR100_FILES)
    if missing:
        raise MissingDataError("CIFAR-100", root, missing, how)
    try:
        return (_LocalCIFAR100(str(root), train=True, download=False),
                _LocalCIFAR100(str(root), train=False, download=False))
    except Exception as exc:  # unpickling errors of a truncated/corrupt file
        raise unreadable("CIFAR-100", root, CIFAR100_FILES, how, exc) from None


def split_cifar100(
    n_experiences: int = 5,
    dataset_root: Optional[Union[str, Path]] = None,
    download: bool = True,
    image_size: int = 32,
    *,
    seed: int = 0,
    fixed_class_order: Optional[Sequence[int]] = None,
    return_task_id: bool = False,
):
    """Split CIFAR-100, class-incremental, ``[x, y, t]`` mini-batches (task label 0 unless
    ``return_task_id``). ``seed`` fixes the class order (``fixed_class_order`` overrides it)."""
    import torchvision.transforms as T
    from avalanche.benchmarks.scenarios.deprecated.generators import nc_benchmark

    train, test = load_cifar100(dataset_root, download=download)
    tf = [T.Resize((image_size, image_size), antialias=True)] if image_size != 32 else []
    tf = T.Compose(tf + [T.ToTensor()])
    bm = nc_benchmark(
        train, test, n_experiences, task_labels=return_task_id, seed=seed,
        fixed_class_order=fixed_class_order, train_transform=tf, eval_transform=tf,
    )
    bm.image_shape = (3, image_size, image_size)
    bm.n_classes = 100
    bm.classes_per_experience = [list(c) for c in bm.original_classes_in_exp]
    bm.batch_format = "xyt"
    return bm

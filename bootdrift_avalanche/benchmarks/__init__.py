"""Benchmarks: each function returns an Avalanche benchmark with ``train_stream``/``test_stream``.

- ``split_digits`` (embedded, offline): ``[x, y]`` batches, ``[x, y, t]`` with ``task_labels=True``.
- ``split_cifar100`` (Avalanche's ``SplitCIFAR100``): ``[x, y, t]`` batches.
- ``split_flowers102`` (torchvision's ``Flowers102``): ``[x, y]`` batches, ``[x, y, t]`` with ``task_labels=True``.
- ``gmm_toy`` (2-D Gaussian mixture): ``[x, y]`` batches.
"""
from .digits import load_digits_tensors, split_digits
from .gmm import GMMSpec, gmm_samples, gmm_toy
from .cifar100 import split_cifar100
from .flowers102 import split_flowers102
from .errors import MissingDataError

__all__ = [
    "split_digits", "load_digits_tensors", "split_cifar100", "split_flowers102",
    "gmm_toy", "gmm_samples", "GMMSpec", "MissingDataError",
]

"""How the feature extractor runs: ``"float32"`` (exact, the default) or ``"bfloat16"`` (autocast
on the CPU and CUDA, channels-last images; features returned as float32).

bfloat16 is for large evaluations where extraction dominates; its speed, its feature error and what
it does to FID, CFID and OTDD beside their floors are measured by ``bench/drift_scale.py``
(``docs/DRIFT_SCALE.md``). A value computed in one precision is not compared with one of another.
"""
from __future__ import annotations

from contextlib import ExitStack, contextmanager
from typing import Iterator

import torch
from torch import Tensor

#: Each precision and the autocast dtype it runs the extractor in (``None``: as the model is, float32).
FEATURE_PRECISIONS = {"float32": None, "bfloat16": torch.bfloat16}


def check_precision(precision: str) -> None:
    if precision not in FEATURE_PRECISIONS:
        raise ValueError(f"feature_precision must be one of {', '.join(FEATURE_PRECISIONS)}, got {precision!r}")


def prepare(x: Tensor, precision: str) -> Tensor:
    """The input as the precision wants it (channels-last images for bfloat16)."""
    low = FEATURE_PRECISIONS[precision] is not None
    return x.contiguous(memory_format=torch.channels_last) if low and x.dim() == 4 else x


@contextmanager
def running(precision: str) -> Iterator[None]:
    """The autocast context of ``precision`` (nothing for float32)."""
    check_precision(precision)
    with ExitStack() as stack:
        dtype = FEATURE_PRECISIONS[precision]
        if dtype is not None:
            stack.enter_context(torch.autocast("cpu", dtype=dtype))
            if torch.cuda.is_available():
                stack.enter_context(torch.autocast("cuda", dtype=dtype))
        yield

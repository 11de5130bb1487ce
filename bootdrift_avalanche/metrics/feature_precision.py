"""How the feature extractor runs: ``"float32"`` (exact, the default) or ``"bfloat16"`` (autocast
on the CPU and CUDA, channels-last images; features returned as float32).

bfloat16 is for large evaluations where extraction dominates: the ``random`` CNN goes from 1.38 to
0.31 ms per 32×32 image on one CPU thread, with 0.3 % largest relative feature error; what that does
to FID, CFID and OTDD beside their floors is measured by ``bench/drift_scale.py --probe drift``
(``docs/DRIFT_SCALE.md``). A value computed in one precision is not compared with one of another.
"""
from __future__ import annotations

from contextlib import ExitStack, contextmanager
from typing import Iterator

import torch
from torch import Tensor

FEATURE_PRECISIONS = ("float32", "bfloat16")


def check_precision(precision: str) -> None:
    if precision not in FEATURE_PRECISIONS:
        raise ValueError(f"feature_precision must be one of {', '.join(FEATURE_PRECISIONS)}, got {precision!r}")


def prepare(x: Tensor, precision: str) -> Tensor:
    """The input as the precision wants it (channels-last images for bfloat16)."""
    return x.contiguous(memory_format=torch.channels_last) if precision == "bfloat16" and x.dim() == 4 else x


@contextmanager
def running(precision: str) -> Iterator[None]:
    """The autocast context of ``precision`` (nothing for float32)."""
    check_precision(precision)
    with ExitStack() as stack:
        if precision == "bfloat16":
            stack.enter_context(torch.autocast("cpu", dtype=torch.bfloat16))
            if torch.cuda.is_available():
                stack.enter_context(torch.autocast("cuda", dtype=torch.bfloat16))
        yield

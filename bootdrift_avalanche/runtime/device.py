"""The device a run uses when the user names none: the GPU when torch sees one, else the CPU, said
on the console so a paper-sized run never lands on the CPU unnoticed."""
from __future__ import annotations

from typing import Optional

import torch


def default_device() -> str:
    """``"cuda"`` when ``torch.cuda.is_available()``, else ``"cpu"``."""
    return "cuda" if torch.cuda.is_available() else "cpu"


def describe_device(device: str) -> str:
    """``"cuda (NVIDIA H100 80GB HBM3)"``, ``"cpu"``: the device and, for a GPU, its name."""
    dev = torch.device(device)
    if dev.type == "cuda":
        try:
            return f"{device} ({torch.cuda.get_device_name(dev)})"
        except (RuntimeError, AssertionError, AttributeError):  # no driver: the name is unknown, the device stands
            return str(device)
    return str(device)


def resolve_device(device: Optional[str], *, announce: bool = True) -> str:
    """``device`` if given, else :func:`default_device`; printed as ``device: ...`` when ``announce``."""
    chosen = device or default_device()
    if announce:
        how = "" if device else " (default: the GPU when torch sees one, else the CPU; --device to choose)"
        print(f"device: {describe_device(chosen)}{how}", flush=True)
    return chosen

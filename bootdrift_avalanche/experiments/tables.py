"""Console tables: the one place that lays out rows of numbers for the terminal."""
from __future__ import annotations

from typing import Sequence


def format_table(head: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Right-aligned columns, each as wide as its widest cell, two spaces apart."""
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(head)]
    fmt = "  ".join(f"{{:>{w}}}" for w in widths)
    return "\n".join([fmt.format(*head)] + [fmt.format(*r) for r in rows])


def number(value: float, spec: str = ".3f") -> str:
    """``value`` formatted by ``spec``; ``nan`` for a missing value."""
    return format(float("nan") if value is None else float(value), spec)

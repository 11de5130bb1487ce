"""``JSONLinesLogger``: an Avalanche logger writing one JSON object per scalar metric value.

Avalanche's ``CSVLogger`` only writes accuracy/loss/forgetting columns and ignores custom metrics,
so a run's drift table could otherwise only be read through TensorBoard. Every run directory of
ours has its metrics in ``metrics.jsonl``: one line per value,
``{"name": <full metric name>, "value": <float>, "step": <experience or stage index>, "time": <unix s>}``.
Images and figures are not written here (they go to TensorBoard and the report); tensors with
one element are written as floats, other values are skipped.
"""
from __future__ import annotations

import json
import math
import os
import time
from pathlib import Path
from typing import Dict, List, Optional, Union

from avalanche.logging import BaseLogger


def _as_float(value) -> Optional[float]:
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, (int, float)):
        return float(value)
    numel = getattr(value, "numel", None) or getattr(value, "size", None)
    try:
        if numel is not None and (numel() if callable(numel) else numel) == 1:
            return float(value)
    except (TypeError, ValueError):
        return None
    return None


class JSONLinesLogger(BaseLogger):
    """Append scalar metric values to ``path`` as JSON lines (flushed and fsynced per batch of values,
    so a crash loses at most the values of the callback being logged)."""

    def __init__(self, path: Union[str, Path]):
        super().__init__()
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = open(self.path, "a", encoding="utf-8")

    def _line(self, name: str, value, x_plot) -> Optional[str]:
        v = _as_float(value)
        if v is None:
            return None
        rec = {"name": name, "value": v if math.isfinite(v) else None, "step": int(x_plot), "time": time.time()}
        if not math.isfinite(v):
            rec["raw"] = repr(v)
        return json.dumps(rec)

    def log_single_metric(self, name, value, x_plot) -> None:
        line = self._line(name, value, x_plot)
        if line is not None:
            self._write([line])

    def log_metrics(self, metric_values) -> None:
        lines = []
        for mv in metric_values:
            items = mv.value.items() if isinstance(mv.value, dict) else [(None, mv.value)]
            for k, v in items:
                line = self._line(mv.name if k is None else f"{mv.name}/{k}", v, mv.x_plot)
                if line is not None:
                    lines.append(line)
        if lines:
            self._write(lines)

    def _write(self, lines: List[str]) -> None:
        self._file.write("\n".join(lines) + "\n")
        self._file.flush()
        os.fsync(self._file.fileno())

    def close(self) -> None:
        if not self._file.closed:
            self._file.close()

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass


def read_metrics(path: Union[str, Path]) -> List[Dict]:
    """Read a ``metrics.jsonl`` file back (skipping a torn last line after a crash)."""
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    return out


def metric_table(records: List[Dict], prefix: str = "") -> Dict[str, Dict[int, float]]:
    """``{name: {step: value}}`` for the names starting with ``prefix`` (last value per step wins)."""
    table: Dict[str, Dict[int, float]] = {}
    for r in records:
        if r["name"].startswith(prefix):
            table.setdefault(r["name"], {})[r["step"]] = r["value"]
    return table


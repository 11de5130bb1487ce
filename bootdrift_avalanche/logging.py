"""``JSONLinesLogger``: an Avalanche logger writing one JSON object per scalar metric value.

Avalanche's ``CSVLogger`` only writes accuracy/loss/forgetting columns and ignores custom metrics,
so a run's drift table could otherwise only be read through TensorBoard. Every run directory of
ours has its metrics in ``metrics.jsonl``: one line per value,
``{"name": <full metric name>, "value": <float>, "step": <x_plot>, "experience": <index>, "time": <unix s>}``.
Images and figures are not written here (they go to TensorBoard and the report); tensors with
one element are written as floats, other values are skipped.

**Steps and experiences**: ``step`` is the metric's ``x_plot`` as Avalanche gives it to every
logger. Avalanche's own metrics (``accuracy_metrics``, ``forgetting_metrics``...) use the number of
training iterations so far (``strategy.clock.train_iterations``), and so do our drift metrics and
the experiment layer, so every curve of a run shares one x-axis in TensorBoard. Iterations are not
what a continual-learning table is read in, so the logger also writes ``experience``: the index of
the training experience last started (``strategy.clock.train_exp_counter`` at
``before_training_exp``; absent before the first one, e.g. an evaluation before any training).
:func:`metric_table` keys values by it when present; the bootstrapping loop logs without a
strategy, and its ``step`` is the stage.
"""
from __future__ import annotations

import json
import math
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Sequence, Union

from avalanche.evaluation.metric_results import TensorImage
from avalanche.logging import BaseLogger

from .tags import tag_for

if TYPE_CHECKING:
    from .metrics.suite import DriftValues


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
        self._experience: Optional[int] = None

    def before_training_exp(self, strategy, metric_values, **kwargs) -> None:
        """EvaluationPlugin's callback: later values belong to this training experience."""
        self._experience = int(strategy.clock.train_exp_counter)

    def _line(self, name: str, value, x_plot) -> Optional[str]:
        v = _as_float(value)
        if v is None:
            return None
        rec = {"name": name, "value": v if math.isfinite(v) else None, "step": int(x_plot), "time": time.time()}
        if self._experience is not None:
            rec["experience"] = self._experience
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


def record_x(record: Dict) -> int:
    """The experience of a record when the logger knew it, else its step (a bootstrapping stage,
    or an older file written before experiences were recorded)."""
    return record.get("experience", record["step"])


def metric_table(records: List[Dict], prefix: str = "") -> Dict[str, Dict[int, float]]:
    """``{name: {experience: value}}`` for the names starting with ``prefix`` (``{stage: value}``
    for a bootstrapping run; see :func:`record_x`). Several values of one experience (e.g. an
    evaluation during training and one after it): the last one logged wins. In a file that records
    experiences, values logged before the first training experience (an evaluation of the untrained
    model) have none and are left out: their step is an iteration count, not an experience."""
    if isinstance(records, (str, Path)):
        raise TypeError("metric_table takes the records of a file, not its path: "
                        f"metric_table(read_metrics({str(records)!r}))")
    by_experience = any("experience" in r for r in records)
    table: Dict[str, Dict[int, float]] = {}
    for r in records:
        if r["name"].startswith(prefix) and ("experience" in r or not by_experience):
            table.setdefault(r["name"], {})[record_x(r)] = r["value"]
    return table


def experience_of_step(records: List[Dict]) -> Dict[int, int]:
    """``{step: experience}`` of the records that carry both (to label TensorBoard images, whose
    steps are training iterations); empty for a bootstrapping run."""
    return {r["step"]: r["experience"] for r in records if "experience" in r}


def loggable(values: "DriftValues") -> Dict[str, Any]:
    """name -> the object to hand an Avalanche logger: floats as they are, images wrapped in
    ``TensorImage`` (so loggers show them as images, not histograms), figures as they are."""
    out: Dict[str, Any] = dict(values.scalars)
    out.update({k: TensorImage(v) for k, v in values.images.items()})
    out.update(values.figures)
    return out


def log_values(loggers: Sequence, values: "DriftValues", step: int) -> None:
    """Log every value under :func:`tag_for` its name with ``step`` as x, through each logger's
    ``log_single_metric`` (TensorBoard, ``JSONLinesLogger``; the latter keeps only scalars)."""
    items = loggable(values)
    for lg in loggers:
        for name, v in items.items():
            lg.log_single_metric(tag_for(name), v, step)

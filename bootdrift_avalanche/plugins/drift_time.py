"""Wall and CPU seconds of one drift evaluation and of its parts, logged as ``DriftTime`` (wall),
``DriftTimeCPU`` (this process's user + system CPU) and ``DriftTime/<part>``,
``DriftTimeCPU/<part>`` for the parts :data:`PARTS` (sampling, reading the real reference, training
the feature extractor, extracting features, FID/CFID/OTDD/KID and pictures, RealAcc, the
real-vs-real floors with RealAcc's ceiling), so a user can size a run from them.

Parts may nest (features are extracted inside the metrics); each part's time is *exclusive*, its
inner parts' time taken out, so the parts add up to the total up to the untimed glue between them.
"""
from __future__ import annotations

import time
from contextlib import contextmanager
from typing import Dict, Iterator, List

#: The parts of an evaluation, in the order they run (``extractor`` only at the first evaluation).
PARTS = ("sampling", "reference", "extractor", "features", "metrics", "real_acc", "floor")


def _clocks() -> tuple:
    return time.perf_counter(), time.process_time()


class DriftTimer:
    """Times one evaluation: ``with timer.total():`` around all of it, ``with timer.part(name):``
    around each part; :meth:`scalars` gives the values to log."""

    def __init__(self) -> None:
        self.wall: Dict[str, float] = {}
        self.cpu: Dict[str, float] = {}
        self._stack: List[list] = []  # [name, wall0, cpu0, inner wall, inner cpu]
        self.total_wall = self.total_cpu = 0.0

    @contextmanager
    def total(self) -> Iterator["DriftTimer"]:
        w0, c0 = _clocks()
        try:
            yield self
        finally:
            w1, c1 = _clocks()
            self.total_wall += w1 - w0
            self.total_cpu += c1 - c0

    @contextmanager
    def part(self, name: str) -> Iterator[None]:
        if name not in PARTS:
            raise ValueError(f"unknown drift time part {name!r}; the parts are {', '.join(PARTS)}")
        frame = [name, *_clocks(), 0.0, 0.0]
        self._stack.append(frame)
        try:
            yield
        finally:
            self._stack.pop()
            w1, c1 = _clocks()
            wall, cpu = w1 - frame[1], c1 - frame[2]
            self.wall[name] = self.wall.get(name, 0.0) + wall - frame[3]
            self.cpu[name] = self.cpu.get(name, 0.0) + cpu - frame[4]
            if self._stack:  # the enclosing part does not count this time again
                self._stack[-1][3] += wall
                self._stack[-1][4] += cpu

    def scalars(self) -> Dict[str, float]:
        """``DriftTime``, ``DriftTimeCPU`` and one ``DriftTime/<part>``, ``DriftTimeCPU/<part>`` per
        part that ran, in seconds."""
        out = {"DriftTime": self.total_wall, "DriftTimeCPU": self.total_cpu}
        for name in PARTS:
            if name in self.wall:
                out[f"DriftTime/{name}"] = self.wall[name]
                out[f"DriftTimeCPU/{name}"] = self.cpu[name]
        return out


class TimedExtractor:
    """A feature extractor whose calls count as the ``features`` part of ``timer`` (whatever calls
    it: the real reference or the suite's synthetic features); every other attribute is the
    extractor's own."""

    def __init__(self, extractor, timer_of) -> None:
        self._extractor = extractor
        self._timer_of = timer_of  # () -> the DriftTimer of the evaluation in progress, or None

    def __call__(self, x):
        timer = self._timer_of()
        if timer is None:
            return self._extractor(x)
        with timer.part("features"):
            return self._extractor(x)

    def __getattr__(self, name):
        if name.startswith("__") or name in ("_extractor", "_timer_of"):  # copy/pickle before __init__
            raise AttributeError(name)
        return getattr(self._extractor, name)

"""The PNG figures of a drift report: one panel per metric family, and per-class CFID as a class x
experience heatmap. Used by :mod:`.report`."""
from __future__ import annotations

import io
import math
from typing import Dict, List, Sequence, Tuple

from ..metrics.qualifiers import CEILING, FLOOR, HI, LO
from .report_data import _beside, _BETTER, _class_name, _FAMILIES, _family, _is_value, per_class, _without_unguided


def _figure_png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    return buf.getvalue()


def metric_figures(runs: Sequence[Tuple[str, Dict[str, Dict[int, float]]]], xlabel: str) -> List[Tuple[str, bytes]]:
    """One PNG per metric family, every run a line (chance level dashed where logged)."""
    from matplotlib.figure import Figure

    out = []
    for fam in _FAMILIES:
        fig = Figure(figsize=(4.6, 3.2))
        ax = fig.add_subplot(111)
        drawn = False
        for label, curves in runs:
            colour = {}  # head -> colour of its line, so the head's _unguided line matches
            # sorted: a guided head (FID_clf) comes before its unguided one (FID_clf_unguided)
            for name, pts in sorted(curves.items()):
                if _family(name) != fam or not pts or not _is_value(name):
                    continue
                head = name.split("/")[0]
                guided = _without_unguided(head)
                style = {"ls": "--", "color": colour[guided]} if guided != head and guided in colour else {}
                xs = sorted(pts)
                (line,) = ax.plot(xs, [pts[x] for x in xs], marker="o",
                                  label=f"{label}: {head}" if len(runs) > 1 else head, **style)
                colour[head] = line.get_color()
                lo, hi = _beside(curves, name, LO), _beside(curves, name, HI)
                band = [x for x in xs if x in lo and x in hi]
                if band:  # the value's interval
                    ax.fill_between(band, [lo[x] for x in band], [hi[x] for x in band],
                                    color=line.get_color(), alpha=0.15,
                                    label=f"{head} 95 % interval" + (" (bias-corrected)" if fam != "RealAcc" else ""))
                floor = _beside(curves, name, FLOOR) or _beside(curves, name, CEILING)
                if floor and guided == head:  # the real-vs-real floor (RealAcc: its ceiling), dotted
                    fx = sorted(floor)
                    ax.plot(fx, [floor[x] for x in fx], ls=":", color=line.get_color(),
                            label=f"{head} {'ceiling' if fam == 'RealAcc' else 'floor'} (real vs real)")
                drawn = True
            if fam == "RealAcc":
                for name, pts in curves.items():
                    if name.startswith("RealAccChance") and pts:
                        xs = sorted(pts)
                        ax.plot(xs, [pts[x] for x in xs], ls="--", color="grey", label="chance")
                        break
        if not drawn:
            continue
        _integer_ticks(ax.xaxis)
        ax.set_xlabel(xlabel)
        ax.set_title(f"{fam} ({_BETTER[fam]} is better)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
        out.append((fam, _figure_png(fig)))
    return out


def _integer_ticks(axis) -> None:
    from matplotlib.ticker import MaxNLocator

    axis.set_major_locator(MaxNLocator(integer=True))


def per_class_figures(table: Dict[str, Dict[int, float]], xlabel: str) -> List[Tuple[str, bytes]]:
    """One class x experience heatmap per CFID head (empty where a class was not seen yet), each
    cell annotated with its value: which class drifts, and when."""
    from matplotlib.figure import Figure

    out = []
    for head, classes in sorted(per_class(table).items()):
        ids = sorted(classes)
        xs = sorted({x for pts in classes.values() for x in pts})
        grid = [[classes[c].get(x, math.nan) for x in xs] for c in ids]
        fig = Figure(figsize=(1.6 + 0.7 * len(xs), 1.0 + 0.32 * len(ids)))
        ax = fig.add_subplot(111)
        im = ax.imshow(grid, aspect="auto", cmap="magma_r", interpolation="nearest")
        fig.colorbar(im, ax=ax, fraction=0.06)
        finite = [v for row in grid for v in row if math.isfinite(v)]
        mid = (min(finite) + max(finite)) / 2 if finite else 0.0
        for i, row in enumerate(grid):
            for j, v in enumerate(row):
                if math.isfinite(v):
                    ax.text(j, i, f"{v:.3g}", ha="center", va="center", fontsize=6,
                            color="white" if v > mid else "black")
        ax.set_xticks(range(len(xs)), [str(x) for x in xs])
        ax.set_yticks(range(len(ids)), [_class_name(c) for c in ids], fontsize=7)
        ax.set_xlabel(xlabel)
        ax.set_title(f"{head} per class (lower is better)", fontsize=9)
        out.append((f"{head}_per_class", _figure_png(fig)))
    return out

"""The HTML pieces of a drift report: the summary, the value table, the cohort section, the
``DriftTime`` breakdown, embedded images and the page style. Used by :mod:`.report`."""
from __future__ import annotations

import base64
import html
import json
from typing import Dict, List, Optional, Tuple

from ..metrics.cohorts import cohort_curves
from ..metrics.qualifiers import CEILING, EXCESS, FLOOR, HI, LO
from .report_data import _beside, ClassKey, _FAMILIES, _family, _is_value, per_class
from .report_figures import _figure_png, _integer_ticks


def _drift_time_html(table: Dict[str, Dict[int, float]], xlabel: str) -> str:
    """Wall and CPU seconds of each drift evaluation and of its parts, one row per step."""
    from ..plugins.drift_time import PARTS

    cols = [(f"{head} {part}".strip(), table.get(f"{head}/train_phase/train_stream" + (f"/{part}" if part else ""), {}))
            for part in ("",) + PARTS for head in ("DriftTime", "DriftTimeCPU")]
    cols = [(n.replace("DriftTimeCPU", "CPU s").replace("DriftTime", "wall s"), c) for n, c in cols if c]
    steps = sorted({s for _, c in cols for s in c})
    if not steps:
        return ""
    head = "".join(f"<th>{html.escape(n)}</th>" for n, _ in cols)
    rows = "".join(f"<tr><td>{s}</td>" + "".join(f"<td>{c.get(s, float('nan')):.3g}</td>" for _, c in cols) + "</tr>"
                   for s in steps)
    return f"<h2>Drift time per part</h2><table><tr><th>{xlabel}</th>{head}</tr>{rows}</table>"


def _img(png: bytes, alt: str, width: int = 0, pixelated: bool = False) -> str:
    w = f' width="{width}"' if width else ""
    style = ' style="image-rendering: pixelated"' if pixelated else ""
    return f'<img alt="{html.escape(alt)}"{w}{style} src="data:image/png;base64,{base64.b64encode(png).decode()}"/>'


_CSS = """body{font-family:sans-serif;margin:24px;max-width:1200px}h1{font-size:22px}h2{font-size:18px;margin-top:28px}
table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}
table.summary td{text-align:left}.warn{background:#fff3cd;border:1px solid #e0b000;padding:6px 10px}
.versions{font-size:11px;color:#666}
.figs img{margin:6px;border:1px solid #eee}.grid{display:inline-block;margin:6px;text-align:center;font-size:12px}
.row{display:flex;flex-wrap:nowrap;overflow-x:auto}.row .grid{flex:0 0 auto}"""


def _cell(curves: Dict[str, Dict[int, float]], name: str, s: int, prev: Optional[int]) -> str:
    """``value [lo, hi]``, the floor (or ceiling) and the excess below it; a change from the
    previous step whose intervals do not overlap is marked (▲ up, ▼ down)."""
    v = curves[name].get(s, float("nan"))
    lo, hi = _beside(curves, name, LO), _beside(curves, name, HI)
    text = f"{v:.4g}"
    if s in lo and s in hi:
        text += f" [{lo[s]:.3g}, {hi[s]:.3g}]"
        if prev is not None and prev in lo and prev in hi and (lo[s] > hi[prev] or hi[s] < lo[prev]):
            text = ("▲ " if lo[s] > hi[prev] else "▼ ") + text
    floor, ceiling = _beside(curves, name, FLOOR), _beside(curves, name, CEILING)
    if s in floor:
        text += f"<br/><small>floor {floor[s]:.3g}, excess {_beside(curves, name, EXCESS).get(s, float('nan')):.3g}"
        elo, ehi = _beside(curves, name, EXCESS, LO), _beside(curves, name, EXCESS, HI)
        text += (f" [{elo[s]:.3g}, {ehi[s]:.3g}]" if s in elo and s in ehi else "") + "</small>"
    elif s in ceiling:
        text += f"<br/><small>ceiling {ceiling[s]:.3g}</small>"
    return f"<td>{text}</td>"


def _table_html(curves: Dict[str, Dict[int, float]], xlabel: str) -> str:
    names = [n for n in sorted(curves) if _family(n) in _FAMILIES and _is_value(n)]
    steps = sorted({s for n in names for s in curves[n]})
    head = "".join(f"<th>{html.escape(n.split('/')[0])}</th>" for n in names)
    rows = "".join(
        f"<tr><td>{s}</td>" + "".join(_cell(curves, n, s, steps[i - 1] if i else None) for n in names) + "</tr>"
        for i, s in enumerate(steps))
    note = ("<p><small>value [95 % interval: of the population value, bias-corrected for FID, CFID and OTDD, so "
            "it can lie below the value]; below it the real-vs-real floor (what a perfect generator scores at "
            "this n, classes and extractor) and the excess over it; ▲/▼: the interval does not overlap the previous "
            f"{xlabel}'s.</small></p>") if any(_beside(curves, n, LO) for n in names) else ""
    return f"<table><tr><th>{xlabel}</th>{head}</tr>{rows}</table>{note}"


def cohort_html(table: Dict[str, Dict[int, float]], xlabel: str) -> Tuple[str, List[Tuple[str, bytes]]]:
    """The headline: the cohort curves of every CFID head (the classes first seen in experience k,
    tracked at every later experience; :mod:`~bootdrift_avalanche.metrics.cohorts`), cohort 0 as a
    table, all cohorts as one figure per head."""
    from matplotlib.figure import Figure

    parts, figs = [], []
    for head in sorted(per_class(table)):
        curves = cohort_curves(table, head)
        if not curves:
            continue
        c0 = curves[min(curves)]
        rows = "".join(
            f"<tr><td>{x}</td><td>{p.value:.4g}</td><td>{'' if p.floor is None else f'{p.floor:.3g}'}</td>"
            f"<td>{'' if p.excess is None else f'{p.excess:.3g}'}</td>"
            f"<td>{'' if p.lo is None else f'[{p.lo:.3g}, {p.hi:.3g}]'}</td></tr>" for x, p in sorted(c0.items()))
        what = "excess" if any(p.floor is not None for p in c0.values()) else "value"
        parts.append(f"<h3>{html.escape(head)}: cohort {min(curves)} (the classes of {xlabel} {min(curves)})</h3>"
                     f"<table><tr><th>{xlabel}</th><th>mean per class</th><th>floor</th><th>excess</th>"
                     f"<th>95 % interval of the {what}</th></tr>{rows}</table>")
        fig = Figure(figsize=(4.6, 3.2))
        ax = fig.add_subplot(111)
        for k, curve in sorted(curves.items()):
            xs = sorted(curve)
            ys = [curve[x].excess if curve[x].excess is not None else curve[x].value for x in xs]
            (line,) = ax.plot(xs, ys, marker="o", label=f"cohort {k}")
            band = [x for x in xs if curve[x].lo is not None]
            if band:
                ax.fill_between(band, [curve[x].lo for x in band], [curve[x].hi for x in band], color=line.get_color(),
                                alpha=0.15)
        ax.axhline(0.0, color="grey", lw=0.8)
        _integer_ticks(ax.xaxis)
        ax.set_xlabel(xlabel)
        ax.set_title(f"{head} per cohort, {what} (lower is better)", fontsize=9)
        ax.legend(fontsize=7)
        figs.append((f"{head}_cohorts", _figure_png(fig)))
    return "".join(parts), figs


def _split_text(split: Optional[List[List[ClassKey]]]) -> str:
    def name(c: ClassKey) -> str:
        return str(c) if isinstance(c, int) else f"t{c[0]}/{c[1]}"

    if not split:
        return "(no per-class CFID)"
    return "; ".join(f"{k}: {', '.join(map(name, cs))}" for k, cs in enumerate(split))


def _summary_html(cfg: dict, curves: Dict[str, Dict[int, float]], split, xlabel: str) -> str:
    """The config as a two-column table (versions in one small line below), and what the log says:
    how many experiences (or stages) and the classes each experience brought."""
    rows = [(k, v) for k, v in cfg.items() if k != "versions"]
    if not cfg:
        rows.append(("config", "none (no config.json: a run logged by JSONLinesLogger outside the bootdrift CLI)"))
    steps = sorted({x for pts in curves.values() for x in pts})
    rows.append((f"{xlabel}s logged", f"{len(steps)} ({', '.join(map(str, steps))})"))
    if xlabel == "experience":
        rows.append(("classes per experience", _split_text(split)))
    body = "".join(f"<tr><th>{html.escape(str(k))}</th>"
                   f"<td>{html.escape(json.dumps(v) if not isinstance(v, str) else v)}</td></tr>"
                   for k, v in rows)
    versions = cfg.get("versions") or {}
    ver = ", ".join(f"{k} {v}" for k, v in versions.items())
    return f'<table class="summary">{body}</table>' + (f'<p class="versions">{html.escape(ver)}</p>' if ver else "")

"""Drift reports: a self-contained HTML page (images embedded as base64) and PNG figures.

``write_report(run_dir)`` works on any directory with a ``metrics.jsonl`` written by
``JSONLinesLogger`` (a ``bootdrift`` run, or a plain Avalanche script's ``log_dir``) and, when
there, its TensorBoard events (in ``tb/``, or beside ``metrics.jsonl`` as the examples write them:
sample grids, UMAP figures) and ``config.json``. It writes
``RUN_DIR/report.html`` plus ``RUN_DIR/figures/*.png``: a summary (the config as a table, the
experiences and the classes each one brought, read off the per-class CFID curves), one panel per
metric family against experience or stage (integer ticks, "lower/higher is better" in the title):
drift (FID, CFID, OTDD), real-data accuracy against chance, the solver's accuracy and forgetting
(ours, ``Top1_Acc_Seen``/``Forgetting``, or Avalanche's ``Top1_Acc_Stream``/``StreamForgetting``
of an API run), a class x experience heatmap of per-class CFID (which class drifts), sample grids
per step and the UMAP projections (one panel per step, in a row in the order of the steps: the
drift plugin draws them all in one fixed map, so they compare).
Steps: the values are read per experience (``logging.metric_table``); TensorBoard images, whose
steps are Avalanche's training iterations, are labelled with the experience ``metrics.jsonl``
records at the same step.
A metric logged with ``_unguided`` after its head (DDGR's generator without guidance, beside what
it replays) shares the panel of its family, dashed in the colour of its guided curve.
``write_comparison(run_dirs, out)`` overlays the same metrics of several runs (DDGR vs GAN Memory vs
Avalanche's GenerativeReplay, or several mixing ratios), and warns (``RuntimeWarning``, and on the
page) when the runs differ in their number of experiences or their class split: their curves then
do not compare point by point.
"""
from __future__ import annotations

import base64
import html
import io
import json
import math
import re
import warnings
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple, Union

from ..logging import experience_of_step, metric_table, read_metrics
from ..metrics.cohorts import cohort_curves
from ..metrics.otdd_choice import PREFIXES as OTDD_PREFIXES  # exact OTDD and each large-set variant: own panels
from ..metrics.qualifiers import CEILING, EXCESS, FLOOR, HI, LO, qualified, qualifiers_of

# Metric families plotted in one panel each (prefix of the metric name before the first "/"), in
# order, with which direction is better. Top1_Acc_Seen/Forgetting: the CLI's own accuracy matrix;
# Top1_Acc_Stream/StreamForgetting: Avalanche's accuracy_metrics/forgetting_metrics of an API run.
_BETTER = {"FID": "lower", "FIDfixed": "lower", "CFID": "lower", **{p: "lower" for p in OTDD_PREFIXES},
           "KID": "lower", "CKID": "lower",
           "RealAcc": "higher",
           "Top1_Acc_Seen": "higher", "Top1_Acc_Stream": "higher", "Forgetting": "lower", "StreamForgetting": "lower",
           "ModesCovered": "higher", "HighQuality": "higher",
           # the language-model loop (text.suite): held-out perplexity and count statistics
           "Perplexity": "lower", "UnigramJSD": "lower", "BigramJSD": "lower", "TailSurvival": "higher",
           "Distinct1": "higher", "Distinct2": "higher", "Zipf": "closer to the real text's",
           "DriftTime": "lower"}
_FAMILIES = tuple(_BETTER)
# a per-class CFID curve of what is replayed: CFID_clf/train_phase/train_stream/Class003, or
# .../Task001/Class000 in a stream whose class ids repeat across tasks (plugins.task_keys)
_PER_CLASS = re.compile(r"^(CFID_[^/]*)/train_phase/train_stream/(?:Task(\d+)/)?Class(\d+)$")
#: a class of the per-class curves: its id, or (task, class id) where ids repeat across tasks
ClassKey = Union[int, Tuple[int, int]]
# Head suffix of a drift value of the generator without guidance (plugins.drift): drawn in its family.
_UNGUIDED = "_unguided"


def _figure_png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    return buf.getvalue()


def _records(run_dir: Path) -> List[dict]:
    p = run_dir / "metrics.jsonl"
    if not p.exists():
        raise FileNotFoundError(f"{p} not found: is {run_dir} a bootdrift run directory, or the log_dir of a "
                                "script with bootdrift_avalanche.logging.JSONLinesLogger among its loggers?")
    return read_metrics(p)


def _curves(table: Dict[str, Dict[int, float]]) -> Dict[str, Dict[int, float]]:
    """The curves of the panels and the table: no per-class or per-experience ones."""
    return {k: v for k, v in table.items() if "/Class" not in k and "/Exp" not in k and not _TIME_PART.match(k)}


# the time of one part of a drift evaluation (plugins.drift_time): DriftTime/train_phase/train_stream/sampling
_TIME_PART = re.compile(r"^(DriftTime|DriftTimeCPU)/train_phase/train_stream/(\w+)$")


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


def per_class(table: Dict[str, Dict[int, float]]) -> Dict[str, Dict[ClassKey, Dict[int, float]]]:
    """``{CFID head: {class: {experience: value}}}`` of the per-class CFID curves (the replay's,
    not the ``_unguided`` ones); a class is its id, or ``(task, id)`` in a task-incremental stream
    with repeated ids."""
    out: Dict[str, Dict[ClassKey, Dict[int, float]]] = {}
    for name, pts in table.items():
        m = _PER_CLASS.match(name)
        if m and not qualifiers_of(m.group(1)):  # the replay's values: no _unguided, floor or bound
            key = int(m.group(3)) if m.group(2) is None else (int(m.group(2)), int(m.group(3)))
            out.setdefault(m.group(1), {})[key] = pts
    return out


def _class_name(key: ClassKey) -> str:
    return f"class {key}" if isinstance(key, int) else f"task {key[0]} class {key[1]}"


def class_split(table: Dict[str, Dict[int, float]]) -> Optional[List[List[ClassKey]]]:
    """The classes each experience brought (the first experience of each class's CFID curve), or
    ``None`` without per-class CFID."""
    classes = next(iter(per_class(table).values()), None)
    if not classes:
        return None
    first: Dict[int, List[int]] = {}
    for c, pts in classes.items():
        first.setdefault(min(pts), []).append(c)
    return [sorted(first[x]) for x in sorted(first)]


def _without_unguided(head: str) -> str:
    return head[: -len(_UNGUIDED)] if head.endswith(_UNGUIDED) else head


def _family(name: str) -> str:
    head = _without_unguided(name.split("/")[0])  # FID_clf_unguided: FID, RealAcc_unguided: RealAcc
    return head.split("_")[0] if head.split("_")[0] in ("FID", "FIDfixed", "CFID", *OTDD_PREFIXES, "KID", "CKID",
                                                         "UMAP") else head


def _is_value(name: str) -> bool:
    """A value of its own, not a floor, excess, bound or spread logged beside one (metrics.qualifiers)."""
    return set(qualifiers_of(name)) <= {_UNGUIDED}


def _beside(curves: Dict[str, Dict[int, float]], name: str, *quals: str) -> Dict[int, float]:
    """The curve logged beside value ``name`` under ``quals`` (``_floor``, ``_lo``...), or ``{}``."""
    q = name
    for x in quals:
        q = qualified(q, x)
    return curves.get(q, {})


def _step_label(cfg: dict, records: List[dict]) -> str:
    if cfg.get("kind") == "bootstrap":
        return "stage"
    return "experience" if cfg.get("kind") == "replay" or any("experience" in r for r in records) else "step"


def _config(run_dir: Path) -> dict:
    p = Path(run_dir) / "config.json"
    return json.loads(p.read_text()) if p.exists() else {}


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


def _event_images(run_dir: Path, x_of_step: Dict[int, int]) -> Dict[str, List[Tuple[int, bytes]]]:
    """PNG-encoded images of the run's TensorBoard events, by tag: [(x, png), ...] in the order
    of x, one per x, where x is the experience ``metrics.jsonl`` records at the image's step (the
    step itself where it records none)."""
    tb = run_dir / "tb"  # a bootdrift run; a script's TensorboardLogger(log_dir) writes into log_dir
    tb = tb if tb.is_dir() else run_dir
    if not any(tb.glob("events.out.tfevents.*")):
        return {}
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(tb), size_guidance={"images": 0, "scalars": 0})
    acc.Reload()
    out = {}
    for tag in acc.Tags().get("images", []):
        # a resumed step: the last one
        by_x = {x_of_step.get(e.step, e.step): e.encoded_image_string for e in acc.Images(tag)}
        out[tag] = sorted(by_x.items())
    return out


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


def write_report(run_dir: Union[str, Path]) -> Path:
    """Write ``report.html`` and ``figures/*.png`` for one run; returns the HTML path."""
    from ..runtime.checkpoint import atomic_write_bytes

    run_dir = Path(run_dir)
    records = _records(run_dir)
    table = metric_table(records)
    curves = _curves(table)
    cfg = _config(run_dir)
    xlabel = _step_label(cfg, records)
    figs = metric_figures([(run_dir.name, curves)], xlabel)
    heatmaps = per_class_figures(table, xlabel)
    (run_dir / "figures").mkdir(exist_ok=True)
    for fam, png in figs + heatmaps:
        atomic_write_bytes(run_dir / "figures" / f"{fam}.png", png)
    images = _event_images(run_dir, experience_of_step(records))
    cohorts, cohort_figs = cohort_html(table, xlabel)
    for fam, png in cohort_figs:
        atomic_write_bytes(run_dir / "figures" / f"{fam}.png", png)
    parts = [f"<h1>bootdrift report: {html.escape(run_dir.name)}</h1>"]
    if cohorts:
        parts += ["<h2>Drift of fixed classes (cohorts)</h2><p><small>The mean per-class CFID of the classes first "
                  f"seen in one {xlabel}, at every later one: the same classes and n throughout, so the curve is drift "
                  "alone (FID and CFID over the seen classes also change with the class set). The floor is the same "
                  "value between two sets of real images.</small></p>", cohorts,
                  '<div class="figs">' + "".join(_img(p, f) for f, p in cohort_figs) + "</div>"]
    parts += ["<h2>Run</h2>", _summary_html(cfg, curves, class_split(table), xlabel),
             "<h2>Metrics per " + xlabel + "</h2>", _table_html(curves, xlabel), _drift_time_html(table, xlabel),
             '<h2>Curves</h2><div class="figs">' + "".join(_img(p, f) for f, p in figs) + "</div>"]
    if heatmaps:
        parts.append('<h2>Per-class CFID</h2><div class="figs">' + "".join(_img(p, f) for f, p in heatmaps) + "</div>")
    for tag, entries in sorted(images.items()):
        umap = tag.startswith("UMAP")
        # UMAP panels side by side (one map: they compare across steps); sample grids wrap
        parts.append(f"<h2>{html.escape(tag.split('/')[0])}</h2>")
        if umap:
            parts.append("<p><small>Illustration only: umap-learn's <code>transform</code> places each synthetic point "
                         "near its nearest real neighbours, so off-manifold samples look aligned whatever the drift. "
                         "Read drift from the values, floors and intervals above.</small></p>")
        parts.append("<div" + (' class="row">' if umap else ">"))
        for step, png in entries:
            atomic_write_bytes(run_dir / "figures" / f"{tag.split('/')[0]}_{step:03d}.png", png)
            if umap:
                img = _img(png, f"{tag} {step}", 360)
            else:  # sample grids of small images: enlarge without blurring
                from PIL import Image

                w = Image.open(io.BytesIO(png)).size[0]
                img = _img(png, f"{tag} {step}", min(4 * w, 560) if w < 200 else w, pixelated=True)
            parts.append(f'<div class="grid">{img}<br/>{xlabel} {step}</div>')
        parts.append("</div>")
    page = (f"<!doctype html><html><head><meta charset='utf-8'><title>bootdrift report</title>"
            f"<style>{_CSS}</style></head><body>{''.join(parts)}</body></html>")
    out = run_dir / "report.html"
    atomic_write_bytes(out, page.encode("utf-8"))
    return out


def comparability_problems(runs: Sequence[Tuple[str, Dict[str, Dict[int, float]], str]]) -> List[str]:
    """Why the curves of ``(label, metric table, x label)`` runs do not compare point by point:
    different x (stage vs experience), numbers of experiences or class splits (as the per-class
    CFID curves show them, over the experiences all runs have; runs without them are not checked
    for it)."""
    problems = []
    if len({xl for _, _, xl in runs}) > 1:
        problems.append("the runs are of different kinds: " + ", ".join(f"{l}: per {xl}" for l, _, xl in runs))
    counts = {l: len({x for pts in _curves(t).values() for x in pts}) for l, t, _ in runs}
    if len(set(counts.values())) > 1:
        problems.append("different numbers of experiences/stages: " + ", ".join(f"{l}: {n}" for l, n in counts.items()))
    splits = {l: class_split(t) for l, t, _ in runs}
    known = {l: sp for l, sp in splits.items() if sp is not None}
    common = min((len(sp) for sp in known.values()), default=0)  # a shorter run: its experiences only
    if len({json.dumps(sp[:common]) for sp in known.values()}) > 1:
        problems.append("different class splits (classes per experience): "
                        + " | ".join(f"{l}: {_split_text(sp)}" for l, sp in known.items()))
    return problems


def write_comparison(run_dirs: Sequence[Union[str, Path]], out: Union[str, Path]) -> Path:
    """Overlay the metric curves of several runs in one HTML page (and PNGs beside it)."""
    from ..runtime.checkpoint import atomic_write_bytes

    loaded = []
    for d in run_dirs:
        d = Path(d)
        cfg = _config(d)
        records = _records(d)
        if cfg:
            label = cfg.get("strategy") or f"{cfg.get('generator', '')} mix={cfg.get('mix_real', '')}"
            label = f"{d.name} ({label})"
        else:
            label = d.name
        loaded.append((label, metric_table(records), _step_label(cfg, records)))
    problems = comparability_problems(loaded)
    for p in problems:
        warnings.warn(f"compare: {p}; their curves do not line up point by point", RuntimeWarning, stacklevel=2)
    runs = [(label, _curves(t)) for label, t, _ in loaded]
    xlabel = loaded[0][2]
    figs = metric_figures(runs, xlabel)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    for fam, png in figs:
        atomic_write_bytes(out.with_name(f"{out.stem}_{fam}.png"), png)
    tables = "".join(f"<h2>{html.escape(l)}</h2>{_table_html(c, xlabel)}" for l, c in runs)
    warn = "".join(f'<p class="warn">Not comparable point by point: {html.escape(p)}</p>' for p in problems)
    page = (f"<!doctype html><html><head><meta charset='utf-8'><title>bootdrift comparison</title>"
            f"<style>{_CSS}</style></head>"
            f"<body><h1>bootdrift comparison</h1>{warn}"
            f"<div class='figs'>{''.join(_img(p, f) for f, p in figs)}</div>{tables}</body></html>")
    atomic_write_bytes(out, page.encode("utf-8"))
    return out

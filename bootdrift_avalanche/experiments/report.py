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

import html
import io
import json
import warnings
from pathlib import Path
from typing import Dict, List, Sequence, Tuple, Union

from ..logging import experience_of_step, metric_table
from .report_data import _config, _curves, _event_images, _records, _step_label, class_split
from .report_data import _FAMILIES, _family, per_class  # noqa: F401  (re-exported)
from .report_figures import metric_figures, per_class_figures
from .report_html import _CSS, _drift_time_html, _img, _split_text, _summary_html, _table_html, cohort_html


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

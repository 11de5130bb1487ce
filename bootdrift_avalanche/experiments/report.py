"""Drift reports: a self-contained HTML page (images embedded as base64) and PNG figures.

``write_report(run_dir)`` reads the run's ``metrics.jsonl`` (scalars) and its TensorBoard events
(sample grids, UMAP figures) and writes ``RUN_DIR/report.html`` plus ``RUN_DIR/figures/*.png``:
drift metrics against experience or stage, real-data accuracy against chance, the solver's accuracy
and forgetting (replay runs), sample grids per step and the UMAP projections (one panel per step, in
a row in the order of the steps: the drift plugin draws them all in one fixed map, so they compare).
A metric logged with ``_unguided`` after its head (DDGR's generator without guidance, beside what
it replays) shares the panel of its family, dashed in the colour of its guided curve.
``write_comparison(run_dirs, out)`` overlays the same metrics of several runs (DDGR vs GAN Memory vs
Avalanche's GenerativeReplay, or several mixing ratios).
"""
from __future__ import annotations

import base64
import html
import io
import json
from pathlib import Path
from typing import Dict, List, Sequence, Tuple, Union

from ..logging import metric_table, read_metrics
from ..metrics.otdd_choice import PREFIXES as OTDD_PREFIXES  # exact OTDD and each large-set variant: own panels

# Metric families plotted in one panel each (prefix of the metric name before the first "/").
_FAMILIES = ("FID", "CFID", *OTDD_PREFIXES, "RealAcc", "Top1_Acc_Seen", "Forgetting", "ModesCovered", "HighQuality", "DriftTime")
# Head suffix of a drift value of the generator without guidance (plugins.drift): drawn in its family.
_UNGUIDED = "_unguided"


def _figure_png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    return buf.getvalue()


def _curves(run_dir: Path) -> Dict[str, Dict[int, float]]:
    p = run_dir / "metrics.jsonl"
    if not p.exists():
        raise FileNotFoundError(f"{p} not found: is {run_dir} a bootdrift run directory?")
    table = metric_table(read_metrics(p))
    return {k: v for k, v in table.items() if "/Class" not in k and "/Exp" not in k}


def _without_unguided(head: str) -> str:
    return head[: -len(_UNGUIDED)] if head.endswith(_UNGUIDED) else head


def _family(name: str) -> str:
    head = _without_unguided(name.split("/")[0])  # FID_clf_unguided: FID, RealAcc_unguided: RealAcc
    return head.split("_")[0] if head.split("_")[0] in ("FID", "CFID", *OTDD_PREFIXES, "UMAP") else head


def _step_label(run_dir: Path) -> str:
    cfg = _config(run_dir)
    return "stage" if cfg.get("kind") == "bootstrap" else "experience"


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
                if _family(name) != fam or not pts:
                    continue
                head = name.split("/")[0]
                guided = _without_unguided(head)
                style = {"ls": "--", "color": colour[guided]} if guided != head and guided in colour else {}
                xs = sorted(pts)
                (line,) = ax.plot(xs, [pts[x] for x in xs], marker="o",
                                  label=f"{label}: {head}" if len(runs) > 1 else head, **style)
                colour[head] = line.get_color()
                drawn = True
            if fam == "RealAcc":
                for name, pts in curves.items():
                    if name.startswith("RealAccChance") and pts:
                        xs = sorted(pts)
                        ax.plot(xs, [pts[x] for x in xs], ls="--", color="grey", label="chance")
                        break
        if not drawn:
            continue
        ax.set_xlabel(xlabel)
        ax.set_title(fam)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
        out.append((fam, _figure_png(fig)))
    return out


def _event_images(run_dir: Path) -> Dict[str, List[Tuple[int, bytes]]]:
    """PNG-encoded images of the run's TensorBoard events, by tag: [(step, png), ...] in the order
    of the steps, one per step."""
    tb = run_dir / "tb"
    if not tb.exists():
        return {}
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(tb), size_guidance={"images": 0, "scalars": 0})
    acc.Reload()
    out = {}
    for tag in acc.Tags().get("images", []):
        by_step = {e.step: e.encoded_image_string for e in acc.Images(tag)}  # a resumed step: the last one
        out[tag] = sorted(by_step.items())
    return out


def _img(png: bytes, alt: str, width: int = 0, pixelated: bool = False) -> str:
    w = f' width="{width}"' if width else ""
    style = ' style="image-rendering: pixelated"' if pixelated else ""
    return f'<img alt="{html.escape(alt)}"{w}{style} src="data:image/png;base64,{base64.b64encode(png).decode()}"/>'


_CSS = """body{font-family:sans-serif;margin:24px;max-width:1200px}h1{font-size:22px}h2{font-size:18px;margin-top:28px}
table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}
.figs img{margin:6px;border:1px solid #eee}.grid{display:inline-block;margin:6px;text-align:center;font-size:12px}
.row{display:flex;flex-wrap:nowrap;overflow-x:auto}.row .grid{flex:0 0 auto}"""


def _table_html(curves: Dict[str, Dict[int, float]], xlabel: str) -> str:
    names = [n for n in sorted(curves) if _family(n) in _FAMILIES]
    steps = sorted({s for n in names for s in curves[n]})
    head = "".join(f"<th>{html.escape(n.split('/')[0])}</th>" for n in names)
    rows = "".join(
        f"<tr><td>{s}</td>" + "".join(f"<td>{curves[n].get(s, float('nan')):.4g}</td>" for n in names) + "</tr>"
        for s in steps)
    return f"<table><tr><th>{xlabel}</th>{head}</tr>{rows}</table>"


def write_report(run_dir: Union[str, Path]) -> Path:
    """Write ``report.html`` and ``figures/*.png`` for one run; returns the HTML path."""
    from ..runtime.checkpoint import atomic_write_bytes

    run_dir = Path(run_dir)
    curves = _curves(run_dir)
    xlabel = _step_label(run_dir)
    figs = metric_figures([(run_dir.name, curves)], xlabel)
    (run_dir / "figures").mkdir(exist_ok=True)
    for fam, png in figs:
        atomic_write_bytes(run_dir / "figures" / f"{fam}.png", png)
    images = _event_images(run_dir)
    cfg = _config(run_dir)
    parts = [f"<h1>bootdrift report: {html.escape(run_dir.name)}</h1>",
             f"<p>{html.escape(json.dumps({k: v for k, v in cfg.items() if k != 'versions'}))}</p>",
             "<h2>Metrics per " + xlabel + "</h2>", _table_html(curves, xlabel),
             '<h2>Curves</h2><div class="figs">' + "".join(_img(p, f) for f, p in figs) + "</div>"]
    for tag, entries in sorted(images.items()):
        umap = tag.startswith("UMAP")
        # UMAP panels side by side (one map: they compare across steps); sample grids wrap
        parts.append(f"<h2>{html.escape(tag.split('/')[0])}</h2><div" + (' class="row">' if umap else ">"))
        for step, png in entries:
            atomic_write_bytes(run_dir / "figures" / f"{tag.split('/')[0]}_{step:03d}.png", png)
            if umap:
                img = _img(png, f"{tag} {step}", 360)
            else:  # sample grids of 8x8 images: enlarge without blurring
                from PIL import Image

                w = Image.open(io.BytesIO(png)).size[0]
                img = _img(png, f"{tag} {step}", min(4 * w, 560), pixelated=True)
            parts.append(f'<div class="grid">{img}<br/>{xlabel} {step}</div>')
        parts.append("</div>")
    page = f"<!doctype html><html><head><meta charset='utf-8'><title>bootdrift report</title><style>{_CSS}</style></head><body>{''.join(parts)}</body></html>"
    out = run_dir / "report.html"
    atomic_write_bytes(out, page.encode("utf-8"))
    return out


def write_comparison(run_dirs: Sequence[Union[str, Path]], out: Union[str, Path]) -> Path:
    """Overlay the metric curves of several runs in one HTML page (and PNGs beside it)."""
    from ..runtime.checkpoint import atomic_write_bytes

    runs = []
    for d in run_dirs:
        d = Path(d)
        cfg = _config(d)
        label = cfg.get("strategy") or f"{cfg.get('generator', '')} mix={cfg.get('mix_real', '')}"
        runs.append((f"{d.name} ({label})", _curves(d)))
    xlabel = _step_label(Path(run_dirs[0]))
    figs = metric_figures(runs, xlabel)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    for fam, png in figs:
        atomic_write_bytes(out.with_name(f"{out.stem}_{fam}.png"), png)
    tables = "".join(f"<h2>{html.escape(l)}</h2>{_table_html(c, xlabel)}" for l, c in runs)
    page = (f"<!doctype html><html><head><meta charset='utf-8'><title>bootdrift comparison</title><style>{_CSS}</style></head>"
            f"<body><h1>bootdrift comparison</h1><div class='figs'>{''.join(_img(p, f) for f, p in figs)}</div>{tables}</body></html>")
    atomic_write_bytes(out, page.encode("utf-8"))
    return out

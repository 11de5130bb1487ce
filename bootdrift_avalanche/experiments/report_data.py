"""What a drift report reads from a run directory: the metrics of ``metrics.jsonl`` as curves, the
per-class CFID curves and the class split they reveal, ``config.json``, the TensorBoard images, and the
metric families (which direction is better). Used by :mod:`.report`."""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Dict, List, Optional, Tuple, Union

from ..logging import read_metrics
from ..metrics.otdd_choice import PREFIXES as OTDD_PREFIXES  # exact OTDD and each large-set variant: own panels
from ..metrics.qualifiers import qualified, qualifiers_of

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

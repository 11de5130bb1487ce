"""Console tables: the one place that lays out rows of numbers for the terminal."""
from __future__ import annotations

from typing import Dict, Mapping, Sequence

from ..metrics.cohorts import cohort_curves
from ..metrics.otdd_choice import PREFIXES as OTDD_PREFIXES
from ..metrics.qualifiers import EXCESS, FLOOR, HI, LO, UNGUIDED, qualified, qualifiers_of

# drift value families shown by default (exact OTDD or the large-set variant the size chose)
DRIFT_KEYS = ("FID", "CFID", *OTDD_PREFIXES, "RealAcc", "DriftTime")


def format_table(head: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Right-aligned columns, each as wide as its widest cell, two spaces apart."""
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(head)]
    fmt = "  ".join(f"{{:>{w}}}" for w in widths)
    return "\n".join([fmt.format(*head)] + [fmt.format(*r) for r in rows])


def number(value: float, spec: str = ".3f") -> str:
    """``value`` formatted by ``spec``; ``nan`` for a missing value."""
    return format(float("nan") if value is None else float(value), spec)


def replay_table(outcome, keys: Sequence[str] = DRIFT_KEYS) -> str:
    """Per experience: accuracy on the seen classes and the drift metrics, then the final figures
    (``outcome`` is an ``experiments.replay.ReplayOutcome``)."""
    cols = [k for k in outcome.drift if k.split("_")[0] in keys and "/Class" not in k  # values and their excess
            and set(qualifiers_of(k)) <= {UNGUIDED, EXCESS}]
    rows = []
    for k, accs in enumerate(outcome.accuracy_matrix):
        seen = accs[: k + 1]
        rows.append([str(k), number(sum(seen) / len(seen))] + [number(outcome.drift[c].get(k)) for c in cols])
    return (format_table(["exp", "acc_seen"] + cols, rows)
            + f"\nfinal average accuracy {outcome.final_accuracy:.3f}, average forgetting "
              f"{outcome.forgetting:.3f}, {outcome.seconds:.0f} s")


def bootstrap_table(result) -> str:
    """Per stage: every scalar the loop measured but per-class values and the chance level
    (``result`` is a ``bootstrap.loop.BootstrapResult``)."""
    if not result.stages:
        return "(no stages)"
    keys = [k for k in result.stages[0] if k != "RealAccChance" and "/Class" not in k]
    rows = [[str(s)] + [number(v.get(k), ".4g") for k in keys] for s, v in enumerate(result.stages)]
    return format_table(["stage"] + keys, rows)


def eval_results_table(results: Sequence[dict], seconds: float,
                       keys: Sequence[str] = DRIFT_KEYS) -> str:
    """The table of a plain Avalanche script: ``results[k]`` is what ``strategy.eval(test_stream)``
    returned after training experience k (Avalanche's ``Top1_Acc_Exp``/``StreamForgetting`` values
    and the drift metrics). Per experience: accuracy on the classes seen so far (mean over test
    experiences 0..k) and the drift values; then final average accuracy and forgetting."""
    drift = [n for n in results[-1] if n.endswith("/train_phase/train_stream")
             and n.split("/")[0].split("_")[0] in keys]
    rows, acc = [], []
    for k, m in enumerate(results):
        seen = [v for n, v in m.items() if n.startswith("Top1_Acc_Exp/eval_phase/test_stream") and int(n[-3:]) <= k]
        acc.append(sum(seen) / len(seen))
        rows.append([str(k), number(acc[k])] + [number(m.get(n)) for n in drift])
    return (format_table(["exp", "acc_seen"] + [n.split("/")[0] for n in drift], rows)
            + f"\nfinal average accuracy {acc[-1]:.3f}, average forgetting "
              f"{number(results[-1].get('StreamForgetting/eval_phase/test_stream'))}, {seconds:.0f} s")


def _with_interval(table: Mapping[str, Mapping[int, float]], name: str, x: int) -> str:
    v = table.get(name, {}).get(x)
    lo, hi = table.get(qualified(name, LO), {}).get(x), table.get(qualified(name, HI), {}).get(x)
    return number(v, ".3g") + (f" [{number(lo, '.3g')}, {number(hi, '.3g')}]"
                               if lo is not None and hi is not None else "")


def drift_table(table: Mapping[str, Mapping[int, float]], ext: str = "clf") -> str:
    """Per experience of a metric table (``logging.metric_table`` of ``metrics.jsonl``): FID, CFID,
    OTDD and KID of extractor ``ext`` as value, real-vs-real floor and excess over it [95 % interval]
    (without floors: value [95 % interval]), and the headline, the CFID excess of cohort 0 (the
    classes of the first experience, :mod:`..metrics.cohorts`)."""
    suffix = "/train_phase/train_stream"
    heads = [h for h in (f"FID_{ext}", f"FIDfixed_{ext}", f"CFID_{ext}", *(f"{p}_{ext}" for p in OTDD_PREFIXES),
                         f"KID_{ext}")
             if h + suffix in table]
    cohorts: Dict[int, object] = cohort_curves(table, f"CFID_{ext}")
    c0 = cohorts[min(cohorts)] if cohorts else {}
    xs = sorted({x for h in heads for x in table[h + suffix]})
    rows = []
    for x in xs:
        row = [str(x)]
        for h in heads:
            floor = table.get(qualified(h, FLOOR) + suffix, {}).get(x)
            row.append(number(table[h + suffix].get(x), ".3g") if floor is not None else "")
            row.append(number(floor, ".3g"))
            row.append(_with_interval(table, (qualified(h, EXCESS) if floor is not None else h) + suffix, x))
        p = c0.get(x)
        row.append("" if p is None else (number(p.excess if p.excess is not None else p.value, ".3g")
                                         + ("" if p.lo is None
                                            else f" [{number(p.lo, '.3g')}, {number(p.hi, '.3g')}]")))
        rows.append(row)
    head = ["exp"] + [c for h in heads for c in (h, "floor", "excess [95 %]")] + ["cohort 0 CFID excess [95 %]"]
    return format_table(head, rows)

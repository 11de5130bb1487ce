"""Every finding of the seed paper and every open question, with this project's verdict, its
interval, the command and the commit: ``docs/FINDINGS.md``, written from the records of the scripts
that measured them (never typed by hand).

    python bench/findings.py --reproduction docs/reproduction/results.json \\
        --loop-regimes docs/loop_regimes/summary.json docs/loop_regimes/T10/summary.json \\
        docs/loop_regimes/digits/summary.json \\
        --anchored docs/anchored_replay/anchored_floor.json docs/anchored_replay/anchored_floor_rest.json \\
        --text-loop docs/text_loop/ngram_bigram_summary.json docs/text_loop/ngram_unigram_summary.json \\
        docs/text_loop/gpt2_summary.json \\
        --doc docs/FINDINGS.md

``--reproduction`` is the ``results.json`` of ``bench/reproduce_paper.py`` (findings F1-F4). The open
questions come from the records of ``examples/loop_regimes.py`` (how much real data keeps the loop
stable), ``bench/anchored_replay.py`` (can replay stay aligned with real data) and
``examples/text_bootstrap.py`` (does the loop's degradation hold for text); a question whose record
is not given, or holds no value measured against a floor, is listed with the reason and its page.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Callable, Dict, List, Tuple

sys.path.insert(0, str(Path(__file__).resolve().parent))  # its bench/ neighbours, imported by name
from reproduce_paper import _fmt as fmt, command_line  # noqa: E402  (one number format, one command line)

FINDINGS = {
    "F1": "FID, CFID and OTDD grow with the retraining stages of the bootstrapping loop",
    "F2": "a classifier trained on the loop's synthetic data falls toward chance on real data",
    "F3": "DDGR and GAN Memory do not prevent the replays' misalignment with the real data",
    "F4": "bootstrapping adds bias and variance to maximum-likelihood estimates",
}

QUESTIONS = {
    "Q1": ("can replay stay aligned with the real data (anchored replay)?", "ANCHORED_REPLAY.md"),
    "Q2": ("does the loop's degradation hold for text?", "TEXT_LOOP.md"),
    "Q3": ("how much real data keeps the loop stable?", "LOOP_REGIMES.md"),
}


def _cell(text: str) -> str:
    return str(text).replace("|", "/").replace("\n", " ")


def _commit(c: dict) -> str:
    return f"`{c.get('short') or c.get('sha', '?')[:7]}`" + (" (dirty)" if c.get("dirty") else "")


def _made_by(record: dict) -> str:
    """``commit, command`` of a record that names them once (loop_regimes, text_bootstrap)."""
    return f"{_commit(record.get('commit') or {})}, `{record.get('command', '?')}`"


def reproduction_rows(report: dict) -> List[List[str]]:
    """One row per verdict of ``bench/reproduce_paper.py``: finding, setup, what is judged, class set,
    excess beyond the floor at the last step (mean ± 95 % over seeds), slope per step, verdict."""
    rows = []
    for r in report["verdicts"]:
        ex = fmt(*r["excess_last"]) if r.get("excess_last") else "n/a (accuracy)"
        rows.append([r["finding"], r["setup"], r["metric"], r["class_set"], ex, fmt(*r["slope"]), r["verdict"]])
    for name, st in report["setups"].items():
        if st.get("F2"):
            a = st["F2"]
            rows.append(["F2", name, f"RealAcc over {a['stages']} stages (ceiling {fmt(*a['ceiling'])}, chance "
                         f"{a['chance']:.3g})", "all classes", f"last {fmt(*a['last'])}", fmt(*a["slope"]),
                         a["verdict"]])
        for g in st.get("guidance") or []:
            rows.append(["F3", name, "replays minus generator alone, cohort-0 CFID excess (mean over experiences)",
                         "cohort 0", fmt(*g["mean"]), "", g["verdict"]])
    f4 = report.get("F4")
    if f4:
        ev, vm = f4["expected_var"], f4["n_var_of_mean"]
        rows.append(["F4", f"Gaussian MLE loop, n = {f4['n']}, t = {f4['t']}",
                     f"E[fitted variance] (1 = unbiased; closed form {ev['closed_form']:.3g})", "one Gaussian",
                     fmt(*ev["mc"]), "", f"bias: {ev['verdict_bias']}"])
        rows.append(["F4", f"Gaussian MLE loop, n = {f4['n']}, t = {f4['t']}",
                     f"n·Var[fitted mean] (1 = one fit; closed form {vm['closed_form']:.3g})", "one Gaussian",
                     fmt(*vm["mc"]), "", f"added variance: {vm['verdict_variance']}"])
    return rows


def verdict_summary(finding: str, rows: List[List[str]]) -> str:
    """``setup: verdict (judged on), ...`` for the rows of one finding, in table order."""
    parts = [f"{row[1]} {row[6]} ({row[2].split(' (')[0]})" for row in rows if row[0] == finding]
    return "; ".join(parts) if parts else "not measured"


#: A reader: a record -> (its rows: verdict, judged on, class set, value; "commit, command" that made it).
Reader = Callable[[dict], Tuple[List[List[str]], str]]


def question_rows(key: str, records: List[dict], reader: Reader) -> List[List[str]]:
    """The rows of one open question from its records, or one row saying why there is none."""
    question, page = QUESTIONS[key]
    if not records:
        return [[key, question, "not re-measured against a floor at this commit", "", "", "", f"docs/{page}"]]
    out = []
    for record in records:
        rows, provenance = reader(record)
        if not rows:
            out.append([key, question, "its record holds no verdict measured against a floor", "", "", "",
                        f"docs/{page}"])
        out += [[key, question] + r + [f"docs/{page}; {provenance}"] for r in rows]
    return out


def loop_regimes_rows(record: dict) -> Tuple[List[List[str]], str]:
    """Q3 from ``examples/loop_regimes.py``'s ``summary.json``: the smallest real fraction λ whose final
    drift beyond the floor stays inside the λ = 1 retraining-noise band, per regime, beside theory."""
    provenance = _made_by(record)
    if "excess" not in record.get("judged_on", ""):
        return [], provenance
    measured, theory = record["lambda_star_measured"], record.get("lambda_star_theory", {})
    paired = record.get("lambda_star_measured_paired", {})
    lo, hi = record["band"]
    rows = []
    for regime, lam in measured.items():
        why = (f"paired by seed: {paired.get(regime, float('nan')):g}; Gaussian MLE theory "
               f"{theory.get(regime, float('nan')):.3g}")
        if lam <= 0:  # λ = 0 is replace: a band that holds it separates nothing
            verdict = f"{regime}: not resolved: even λ = 0 (no real data) ends inside the λ = 1 band ({why})"
        else:
            verdict = f"{regime}: the mean final excess is inside the λ = 1 band from λ = {lam:g} on ({why})"
        rows.append([verdict, f"final {record['judged_on']} after {record['stages']} stages ({record['data']})",
                     f"{record['classes']}, {record['n_per_class']} per class (floor n = {record['floor_n']})",
                     f"λ = 1 band [{lo:.4g}, {hi:.4g}] ({len(record['seeds'])} seeds)"])
    return rows, provenance


def anchored_rows(record: dict) -> Tuple[List[List[str]], str]:
    """Q1 from ``bench/anchored_replay.py``'s JSON (method -> its runs): per method, whether the cohort-0
    CFID excess at the last experience stays within the interval of its experience-0 value
    (``cohort0_verdict``), with the paired change over seeds; the commits and commands its runs name."""
    import anchored_replay

    rows, commits, commands, seeds = [], set(), set(), set()
    for method, r in record.items():
        runs = [x for x in r["runs"] if x.get("cohort0")]
        if not runs:
            continue
        commits |= {_commit(x.get("commit") or {}) for x in runs}
        commands |= {x["command"] for x in runs if x.get("command")}
        seeds |= {x["seed"] for x in runs}
        last = len(runs[0]["cohort0"][f"{anchored_replay.COHORT}_excess"]) - 1
        v = anchored_replay.cohort0_verdict(runs, last)
        classes = "; ".join(f"seed {x['seed']}: {' '.join(c)}" for x, c in zip(runs, v["classes"]))
        m, h = v["change"]
        side = "above 0" if m - h > 0 else "below 0" if m + h < 0 else "includes 0"
        rows.append([f"{method}: {v['verdict']} (the paired change's interval {side}; {sum(v['within'])} of "
                     f"{v['seeds']} seeds within experience 0's interval, ± {fmt(v['exp0_halfwidth'][0])})",
                     f"{anchored_replay.COHORT}_excess, change experience {last} - experience 0",
                     f"cohort 0, its classes at every experience ({classes})", fmt(*v["change"])])
    if not commands:
        commands = {f"bench/anchored_replay.py, methods {' '.join(m for m in record if record[m]['runs'])}, seeds "
                    f"{' '.join(map(str, sorted(seeds)))} (the file records no command: see the page)"}
    return rows, f"{', '.join(sorted(commits))}, {'; '.join(f'`{c}`' for c in sorted(commands))}"


def text_loop_rows(record: dict) -> Tuple[List[List[str]], str]:
    """Q2 from ``examples/text_bootstrap.py``'s ``summary.json``: per model and regime, whether each word
    statistic's excess beyond its real-vs-real floor grows over the stages (per-seed slope, t-interval)."""
    made = "tabulated at " if record.get("tables_only") else ""  # --tables-only: the runs may be older
    provenance = made + _made_by(record)
    rows = []
    for key, table in record.get("tables", {}).items():
        beyond = table.get("beyond_floor") or {}
        gen, _, regime = key.partition("/")
        model = f"{gen} (order {record.get('ngram_order')})" if gen == "ngram" else gen
        stages = beyond.get("per_stage", {})
        for name, t in beyond.get("trend", {}).items():
            first, last = stages[min(stages, key=int)], stages[max(stages, key=int)]
            rows.append([f"{model}, {regime}: drift beyond the floor grows: {t['verdict']}",
                         f"{name} excess beyond the real-vs-real floor, least-squares slope per stage over "
                         f"{record['stages']} stages (pydoc)",
                         "all topics; floor: the real training text against the held-out text, same n",
                         f"{fmt(t['mean'], t['half'])} per stage ({len(t['slopes'])} seeds); excess "
                         f"{fmt(*first[name + '_excess'])} → {fmt(*last[name + '_excess'])} over a floor of "
                         f"{fmt(*last[name + '_floor'])}"])
    return rows, provenance


READERS: Dict[str, Reader] = {"Q1": anchored_rows, "Q2": text_loop_rows, "Q3": loop_regimes_rows}


def markdown(report: dict, questions: Dict[str, List[dict]], command: str = "python bench/findings.py") -> str:
    c = report["commit"]
    lines = ["# Findings of the seed paper and its open questions, with this project's verdicts", "",
             "Written by", "", f"    {command}", "",
             "from the records of the scripts that measured each row (do not edit by hand). Distances are judged",
             "by their excess over the real-vs-real floor on a fixed class set; cells are mean ± 95 % t half-width",
             "over seeds. The full tables, curves and configurations are on each row's page.", "",
             "## The seed paper's findings", "",
             f"From `{report['command']}` at commit `{c['sha']}`{' (dirty)' if c.get('dirty') else ''}, preset "
             f"`{report['preset']}`, seeds {report['seeds']}: every table and curve is in "
             "[REPRODUCTION.md](REPRODUCTION.md).", ""]
    rows = reproduction_rows(report)
    for key, text in FINDINGS.items():
        lines.append(f"- **{key}**: {text}. Here: {verdict_summary(key, rows)}.")
    lines += ["", "| finding | setup | judged on | class set | excess beyond the floor, last step | slope per step "
              "| verdict |", "|---|---|---|---|---|---|---|"]
    lines += ["| " + " | ".join(_cell(x) for x in row) + " |" for row in rows]
    lines += ["", "## The open questions", "",
              "| question | | verdict | judged on | class set | value | page, commit, command |",
              "|---|---|---|---|---|---|---|"]
    for key in QUESTIONS:
        for row in question_rows(key, questions.get(key, []), READERS.get(key)):
            lines.append("| " + " | ".join(_cell(x) for x in row) + " |")
    return "\n".join(lines) + "\n"


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--reproduction", type=Path, required=True, help="results.json of bench/reproduce_paper.py")
    p.add_argument("--anchored", type=Path, nargs="*", default=[],
                   help="Q1's records (bench/anchored_replay.py's JSON, one per invocation)")
    p.add_argument("--loop-regimes", type=Path, nargs="*", default=[],
                   help="Q3's records (examples/loop_regimes.py's summary.json, one per data set)")
    p.add_argument("--text-loop", type=Path, nargs="*", default=[],
                   help="Q2's records (examples/text_bootstrap.py's summary.json, one per model order)")
    p.add_argument("--doc", type=Path, default=Path("docs/FINDINGS.md"))
    return p


def page(a: argparse.Namespace, command: str) -> str:
    """The page from the records ``a`` names; ``command`` is shown as what wrote it."""
    load = lambda path: json.loads(path.read_text())  # noqa: E731
    questions = {"Q1": [load(p) for p in a.anchored], "Q2": [load(p) for p in a.text_loop],
                 "Q3": [load(p) for p in a.loop_regimes]}
    return markdown(load(a.reproduction), questions, command)


def main(argv=None) -> None:
    a = parser().parse_args(argv)
    command = command_line("bench/findings.py", argv)
    text = page(a, command)
    tmp = a.doc.with_suffix(".tmp")
    tmp.write_text(text)
    tmp.replace(a.doc)
    print(text)


if __name__ == "__main__":
    main()

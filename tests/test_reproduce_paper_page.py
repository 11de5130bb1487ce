"""bench/reproduce_paper.py records what produced its tables and writes the page docs/REPRODUCTION.md
is: the fast test on a made-up report, the slow one end to end at the tiny preset."""
import importlib.util
import json
import math
import os
import subprocess
import sys
import types
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("reproduce_paper", ROOT / "bench" / "reproduce_paper.py")
rp = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(rp)


def tables(page: str) -> list:
    """The Markdown tables of ``page`` as lists of rows of cells (header first); each one checked
    to have a separator row and as many cells in every row as in its header."""
    out, block = [], []
    for line in page.splitlines() + [""]:
        if line.startswith("|"):
            block.append([c.strip() for c in line.strip().strip("|").split("|")])
            continue
        if block:
            head, sep, *rows = block
            assert all(set(c) <= {"-"} and c for c in sep) and len(sep) == len(head), block[:2]
            assert all(len(r) == len(head) for r in rows), (head, [r for r in rows if len(r) != len(head)])
            out.append([head] + rows)
            block = []
    return out


def _curves(n, rising, seed):
    up = [1.0 + rising * s + 0.01 * seed for s in range(n)]
    acc = [0.9 - 0.05 * s + 0.01 * seed for s in range(n)]
    c = {}
    for m in ("FID_clf", "CFID_clf", "OTDD_clf", "cohort0:CFID_clf", "cohort0:CFID_clf_unguided"):
        c[m], c[m + "_floor"], c[m + "_excess"] = [v + 2 for v in up], [2.0] * n, up
        c[m + "_excess_lo"], c[m + "_excess_hi"] = [v - 0.1 for v in up], [v + 0.1 for v in up]
    c.update(RealAcc=acc, RealAcc_lo=[a - 0.03 for a in acc], RealAccChance=[0.1] * n, RealAcc_ceiling=[0.93] * n,
             RealAccAboveChance=[(a - 0.1) / 0.9 for a in acc])
    return c


def _report():
    a = types.SimpleNamespace(preset="tiny", seeds=[0, 1, 2], machine="2 CPU cores")
    setups = {"digits_ddpm_loop": dict(kind="bootstrap", findings="F1 F2",
                                       resolved={s: {"floor_n": 30} for s in (0, 1, 2)}),
              "digits_ddgr_replay": dict(kind="replay", findings="F3", resolved={s: {} for s in (0, 1, 2)})}
    results = {name: {s: {"curves": _curves(5, 1.0, s), "classes": ["Class001", "Class004"], "resumed": False,
                          "seconds": 1.0, "cpu_seconds": 1.0} for s in (0, 1, 2)} for name in setups}
    report = rp.build_report(a, setups, results, {"sha": "0" * 40, "short": "0000000", "dirty": False},
                             "python bench/reproduce_paper.py --seeds 0 1 2")
    report.update(seconds=60.0, cpu_seconds=100.0)
    return report


def check_report(report: dict) -> None:
    assert report["commit"]["sha"] and report["commit"]["dirty"] in (True, False)
    assert report["command"].startswith("python bench/reproduce_paper.py")
    assert set(report["configs"]) == set(report["setups"]) and all(report["configs"].values())
    # every distance is judged by its excess over the floor; only RealAcc rows have none
    judged = [r for r in report["verdicts"] if not r["metric"].startswith("RealAcc")]
    assert judged and all(r["metric"].endswith("_excess") for r in judged)
    for r in report["verdicts"]:
        assert r["class_set"]
        if r["metric"].endswith("_excess"):
            assert math.isfinite(r["excess_last"][0]), r


def check_page(page: str) -> None:
    heads = [t[0] for t in tables(page)]
    assert heads[0][:4] == ["finding", "setup", "judged on", "class set"] and \
        "excess beyond the floor, last step" in heads[0]
    assert any(h[:3] == ["setup", "stages", "RealAcc, stage 0"] and "ceiling" in h and "chance" in h for h in heads)
    assert any(h[0] == "metric" and h[-1] == "slope per step" for h in heads)
    verdicts = tables(page)[0][1:]
    assert verdicts and all(row[3] for row in verdicts)  # every row names its class set


def test_the_page_and_the_record_from_a_made_up_report():
    report = _report()
    check_report(report)
    page = rp.markdown(report)
    check_page(page)
    assert "python bench/reproduce_paper.py --seeds 0 1 2" in page and "0" * 40 in page
    assert report["setups"]["digits_ddpm_loop"]["F2"]["verdict"]
    assert report["setups"]["digits_ddgr_replay"]["guidance"]


def test_f2_verdicts():
    def fake(curve):
        n = len(curve)
        return {"curves": {"RealAcc": curve, "RealAcc_lo": [a - 0.02 for a in curve], "RealAccChance": [0.1] * n,
                           "RealAcc_ceiling": [0.93] * n}}

    plateau = {s: fake([0.5 + 0.4 * math.exp(-0.8 * t) + 0.002 * s * (t % 2) for t in range(12)]) for s in range(3)}
    assert rp.f2_analysis(plateau)["verdict"].startswith("plateaus")
    chance = {s: fake([max(0.1, 0.9 - 0.1 * t) + 0.001 * s for t in range(12)]) for s in range(3)}
    assert rp.f2_analysis(chance)["verdict"].startswith("heads to chance")


def test_the_committed_page_is_in_the_scripts_format():
    doc = (ROOT / "docs" / "REPRODUCTION.md").read_text()
    if "This page is written, whole, by one invocation" not in doc:
        pytest.skip("docs/REPRODUCTION.md predates the page writer (not yet regenerated)")
    assert [t[0] for t in tables(doc)][:1] == [t[0] for t in tables(rp.markdown(_report()))][:1]
    check_page(doc)


@pytest.mark.slow
def test_tiny_run_end_to_end(tmp_path):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    subprocess.run([sys.executable, "bench/reproduce_paper.py", "--seeds", "0", "--preset", "tiny", "--workers", "1",
                    "--out", str(tmp_path / "out"), "--setups", "digits_ddpm_loop", "digits_ddgr_replay",
                    "--doc", str(tmp_path / "PAGE.md")], cwd=ROOT, env=env, check=True)
    report = json.loads((tmp_path / "out" / "results.json").read_text())
    check_report(report)
    page = (tmp_path / "PAGE.md").read_text()
    check_page(page)
    assert page == (tmp_path / "out" / "summary.md").read_text()
    assert report["configs"]["digits_ddgr_replay"]["0"]["guidance_scale"] == 1.0
    assert {r["metric"] for r in report["verdicts"] if r["setup"] == "digits_ddgr_replay"} >= {
        "cohort0:CFID_clf_excess", "cohort0:CFID_clf_unguided_excess"}
    assert (tmp_path / "reproduction" / "digits_ddpm_loop.png").is_file()


def test_the_committed_page_is_its_records_output():
    """docs/REPRODUCTION.md is exactly what the script writes from the results.json kept beside it:
    no hand edits."""
    report = json.loads((ROOT / "docs" / "reproduction" / "results.json").read_text())
    assert rp.markdown(report) == (ROOT / "docs" / "REPRODUCTION.md").read_text()

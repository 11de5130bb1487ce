"""bench/anchored_replay.py judges the cohort of experience 0 beyond its floor: the verdict on made-up
runs, and a tiny run that records the cohort curves and prints the table beside the floors."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
import anchored_replay  # noqa: E402

C = anchored_replay.COHORT


def _run(excess, hi0):
    """A run whose cohort-0 CFID excess is ``excess`` per experience, experience 0's upper bound ``hi0``."""
    n = len(excess)
    return {"cohort0": {C: [e + 10 for e in excess], f"{C}_floor": [10.0] * n, f"{C}_excess": excess,
                        f"{C}_excess_lo": [2 * excess[0] - hi0] + [0.0] * (n - 1),
                        f"{C}_excess_hi": [hi0] + [0.0] * (n - 1)},
            "cohort0_classes": ["Class000", "Class001"]}


@pytest.mark.parametrize("runs, verdict", [
    ([_run([5.0, 5.5, 5.8], 7.0), _run([4.0, 4.2, 4.1], 6.0), _run([6.0, 6.0, 7.5], 8.0)], "yes"),
    ([_run([5.0, 7.5, 9.0], 7.0), _run([4.0, 6.5, 8.1], 6.0), _run([6.0, 9.0, 10.0], 8.0)], "no"),
    ([_run([5.0, 5.5, 5.8], 7.0), _run([4.0, 6.5, 8.1], 6.0), _run([6.0, 3.0, 2.0], 8.0)], "mixed"),
    # every seed inside a wide experience-0 interval, but the drift grows in every seed: not kept
    ([_run([5.0, 6.0, 8.0], 20.0), _run([4.0, 5.0, 7.1], 20.0), _run([6.0, 7.0, 8.9], 20.0)], "no"),
])
def test_cohort0_verdict_compares_the_last_excess_with_experience_0s_interval(runs, verdict):
    v = anchored_replay.cohort0_verdict(runs, last=2)
    assert v["verdict"] == verdict and v["seeds"] == 3 and v["classes"] == [["Class000", "Class001"]] * 3
    assert v["floor"][0] == pytest.approx(10.0)
    assert v["change"][0] == pytest.approx(sum(r["cohort0"][f"{C}_excess"][2] - r["cohort0"][f"{C}_excess"][0]
                                               for r in runs) / 3)


def test_raw_results_have_no_cohort_verdict():
    assert anchored_replay.cohort0_verdict([{"drift": {}}], last=2) == {}


@pytest.mark.slow
def test_a_tiny_bench_records_cohort0_and_prints_the_table_beyond_the_floor(tmp_path):
    out = subprocess.run([sys.executable, str(ROOT / "bench" / "anchored_replay.py"), "--preset", "tiny",
                          "--experiences", "2", "--seeds", "0", "--methods", "dgr-ddpm", "gan-memory",
                          "--json", str(tmp_path / "a.json")], capture_output=True, text=True, cwd=ROOT,
                         env={"PYTHONPATH": str(ROOT), "TQDM_DISABLE": "1", "MPLBACKEND": "Agg",
                              "HOME": str(tmp_path), "PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr[-3000:]
    assert "commit " in out.stdout and "beyond the floor, experience 1" in out.stdout
    row = next(l for l in out.stdout.splitlines() if l.startswith("| dgr-ddpm | 1 | ") and "(" in l)
    assert row.rstrip(" |").split(" | ")[-1] in ("yes", "no", "mixed")
    run = json.loads((tmp_path / "a.json").read_text())["dgr-ddpm"]["runs"][0]
    assert {f"{C}_excess", f"{C}_floor", f"{C}_excess_hi"} <= set(run["cohort0"]) and run["cohort0_classes"]
    assert run["commit"]["sha"]


def _scored(excess):
    """A run with a floor logged: OTDD/CFID/FID excess ``excess`` per experience, floor 10."""
    n = len(excess)
    curve = {str(e): v for e, v in enumerate(excess)}
    drift = {f"{m}{p}": (curve if p == "_excess" else {str(e): 10.0 for e in range(n)})
             for m in ("FID_clf", "CFID_clf", "OTDD_clf") for p in ("", "_excess", "_floor")}
    return {**_run(excess, excess[0] + 5.0), "drift": drift}


def test_the_buffer_is_named_unscored_not_raw_and_the_figure_draws_the_excess(tmp_path, capsys):
    from types import SimpleNamespace

    results = {"replay-buffer": {"runs": [{"drift": {}}]},
               "dgr-ddpm": {"runs": [_scored([1.0, 2.0]), _scored([2.0, 2.5])]}}
    a = SimpleNamespace(experiences=2)
    anchored_replay.beyond_floor(results, a)
    out = capsys.readouterr().out
    assert "no replayed distribution scored (it replays stored real images): replay-buffer" in out
    assert "no floor logged" not in out and "| dgr-ddpm | 2 | " in out
    anchored_replay.figure(results, a, str(tmp_path / "f.png"))
    assert (tmp_path / "f.png").stat().st_size > 0

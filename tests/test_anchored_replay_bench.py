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

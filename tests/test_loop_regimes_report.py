"""examples/loop_regimes.py judges the regimes on the CFID excess over the floor: its report, fed
made-up curves (no training), prints the commit and the floor beside every final excess, and finds
the lambda threshold from the excess."""
import argparse
import json
import runpy
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LR = runpy.run_path(str(ROOT / "examples" / "loop_regimes.py"))  # not as __main__: main() is not called

# final excess per run (stages 0..2; stage 0 is the same in every regime of a seed)
FINAL = {"replace": 1.0, "augment 0.5": 0.11, "augment 1": 0.10, "fresh 0.5": 0.6, "accumulate": 0.12}


def _curves(floor=5.0):
    out = {}
    for label, last in FINAL.items():
        for seed in (0, 1, 2):
            jitter = 0.01 * (seed - 1)
            excess = [0.1 + jitter, (0.1 + last) / 2 + jitter, last + jitter]
            out.setdefault(label, {})[seed] = {
                "value": [e + floor + seed for e in excess], "floor": [floor + seed] * 3, "excess": excess,
                "excess_lo": [e - 0.02 for e in excess], "excess_hi": [e + 0.02 for e in excess]}
    return out


def test_the_report_judges_the_excess_and_prints_floor_commit_and_threshold(tmp_path, capsys):
    a = argparse.Namespace(data="gmm", preset="tiny", stages=3, seeds=[0, 1, 2], lambdas=[0.5, 1.0],
                           fresh_lambdas=[0.5], accumulate=True, biases=[], floor_n=40)
    LR["report"](a, _curves(), tmp_path)
    out = capsys.readouterr().out
    s = json.loads((tmp_path / "summary.json").read_text())
    assert s["judged_on"] == "CFID_identity_excess" and s["floor_n"] == 40 and s["commit"]["sha"]
    assert "commit " in out and "command: python examples/loop_regimes.py" in out
    # the values sit 5-7 above the floor: judged on them, every run would be far outside a band of the
    # excess; the excess puts augment 0.5 inside augment 1's band and fresh 0.5 outside
    assert s["final"]["augment 0.5"][0] == pytest.approx(0.11)
    assert s["final_floor"]["replace"][0] == pytest.approx(6.0)
    assert s["final_value"]["replace"][0] == pytest.approx(7.0)
    assert s["lambda_star_measured"] == {"augment": 0.5, "fresh": None}
    assert "augment: smallest lambda with final excess in the band: measured 0.5" in out
    line = next(l for l in out.splitlines() if l.startswith("| replace | +"))
    assert "+1.0000" in line and "7.0000" in line and "6.0000" in line  # excess, value, floor
    for name in ("regimes_vs_stage.png", "drift_vs_lambda.png"):
        assert (tmp_path / name).stat().st_size > 0


def test_replot_refuses_a_summary_of_raw_values(tmp_path):
    import subprocess
    import sys

    old = tmp_path / "old.json"
    old.write_text(json.dumps({"curves": {"replace": {"0": [0.1, 0.2]}}}))
    run = subprocess.run([sys.executable, str(ROOT / "examples" / "loop_regimes.py"), "--seeds", "0",
                          "--replot", str(old), "--out", str(tmp_path)], capture_output=True, text=True)
    assert run.returncode != 0 and "raw values only" in run.stderr

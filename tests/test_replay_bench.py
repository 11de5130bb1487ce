"""bench/replay_bench.py runs any set of methods and writes its table, with the commit, as JSON."""
import json
import runpy
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_replay_bench_runs_two_methods_and_writes_their_table(tmp_path, monkeypatch, capsys):
    out = tmp_path / "bench.json"
    monkeypatch.syspath_prepend(str(ROOT / "bench"))  # as when run as a script: its helpers import
    monkeypatch.setattr(sys, "argv", ["bench/replay_bench.py", "--methods", "ddgr", "dgr-ddpm", "--seeds", "0",
                                      "--preset", "tiny", "--experiences", "2", "--no-drift", "--json", str(out),
                                      "--out", str(tmp_path / "runs")])
    runpy.run_path(str(ROOT / "bench" / "replay_bench.py"), run_name="__main__")
    printed = capsys.readouterr().out
    assert "| ddgr |" in printed and "| dgr-ddpm |" in printed
    res = json.loads(out.read_text())
    assert res["_run"]["complete"] and res["_run"]["commit"] and "--methods ddgr dgr-ddpm" in res["_run"]["command"]
    assert res["ddgr"]["config"]["guidance_scale"] == 1.0 and res["dgr-ddpm"]["config"]["guidance_scale"] == 0.0
    for key in ("ddgr", "dgr-ddpm"):
        assert len(res[key]["runs"]) == 1 and 0.0 <= res[key]["final_accuracy"][0] <= 1.0
    # the tables again from the file, with the paired difference, running nothing
    monkeypatch.setattr(sys, "argv", ["bench/replay_bench.py", "--report", str(out), "--paired", "ddgr", "dgr-ddpm"])
    runpy.run_path(str(ROOT / "bench" / "replay_bench.py"), run_name="__main__")
    printed = capsys.readouterr().out
    assert "| ddgr |" in printed and "paired ddgr − dgr-ddpm, seeds [0]:" in printed
    assert res["_run"]["commit"] in printed and "final_accuracy:" in printed

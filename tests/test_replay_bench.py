"""bench/replay_bench.py runs any set of methods and writes its table, with the commit, as JSON."""
import json
import runpy
import sys
from pathlib import Path

import pytest

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
    # the tables again from the file, merged with a second seed's file, with the paired difference
    second = dict(res, _run=res["_run"])
    for key in ("ddgr", "dgr-ddpm"):
        second[key] = dict(res[key], runs=[dict(res[key]["runs"][0], seed=1, final_accuracy=0.5)])
    (tmp_path / "seed1.json").write_text(json.dumps(second))
    monkeypatch.setattr(sys, "argv", ["bench/replay_bench.py", "--report", str(out), str(tmp_path / "seed1.json"),
                                      "--paired", "ddgr", "dgr-ddpm"])
    runpy.run_path(str(ROOT / "bench" / "replay_bench.py"), run_name="__main__")
    printed = capsys.readouterr().out
    assert "paired ddgr − dgr-ddpm, seeds [0, 1]:" in printed and res["_run"]["commit"] in printed
    acc = res["ddgr"]["final_accuracy"][0]
    assert f"| ddgr | {(acc + 0.5) / 2:.3f} ± " in printed and f"{acc:.3f}, 0.500 |" in printed
    # a seed twice is refused
    monkeypatch.setattr(sys, "argv", ["bench/replay_bench.py", "--report", str(out), str(out)])
    with pytest.raises(SystemExit, match="ddgr has a seed in several files"):
        runpy.run_path(str(ROOT / "bench" / "replay_bench.py"), run_name="__main__")

"""bench/text_floor.py prints the text loop's real-vs-real floor table at tiny sizes, with its commit."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_text_floor_bench_prints_its_table_and_commit(tmp_path):
    run = subprocess.run([sys.executable, str(ROOT / "bench" / "text_floor.py"), "--seeds", "0", "1", "--preset",
                          "tiny"], capture_output=True, text=True, cwd=ROOT,
                         env={"PYTHONPATH": str(ROOT), "HOME": str(tmp_path), "MPLBACKEND": "Agg",
                              "PATH": "/usr/bin:/bin"}, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    lines = run.stdout.splitlines()
    assert lines[0].startswith("commit ")
    rows = [l for l in lines if l.startswith("| half") or l.startswith("| all")]
    assert len(rows) == 3 and all(len(r.strip("| ").split(" | ")) == 8 for r in rows)
    assert "CPU s per floor" in run.stdout

"""bench/findings.py writes docs/FINDINGS.md from the scripts' records: every finding with its
verdict and interval, every open question with a verdict or the reason it has none."""
import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


findings = _load("findings", ROOT / "bench" / "findings.py")
rpp = _load("reproduce_paper_page", ROOT / "tests" / "test_reproduce_paper_page.py")  # its made-up report


def test_every_finding_and_question_has_a_row(tmp_path):
    report = rpp._report()
    q3 = {"commit": {"short": "abc1234", "dirty": False}, "command": "python examples/loop_regimes.py --seeds 0 1 2",
          "data": "gmm", "judged_on": "CFID_identity_excess", "classes": "all classes", "n_per_class": 1000,
          "floor_n": 200, "stages": 5, "seeds": [0, 1, 2], "band": [0.5, 0.7],
          "lambda_star_measured": {"augment": 0.0, "fresh": 0.5}, "lambda_star_theory": {"fresh": 0.31}}
    (tmp_path / "r.json").write_text(json.dumps(report))
    (tmp_path / "q3.json").write_text(json.dumps(q3))
    findings.main(["--reproduction", str(tmp_path / "r.json"), "--loop-regimes", str(tmp_path / "q3.json"),
                   "--doc", str(tmp_path / "F.md")])
    page = (tmp_path / "F.md").read_text()
    tables = rpp.tables(page)
    found = {row[0] for row in tables[0][1:]}
    assert found == {"F1", "F2", "F3", "F4"}
    assert all(row[4] != "n/a" or "accuracy" in row[4] for row in tables[0][1:])
    questions = {row[0]: row for row in tables[1][1:]}
    assert set(questions) == {"Q1", "Q2", "Q3"}
    assert "not re-measured" in questions["Q1"][2] and "[0.5, 0.7]" in questions["Q3"][5]
    assert "λ = 0.5" in page and "excess" in questions["Q3"][3]
    assert "abc1234" in questions["Q3"][6] and report["commit"]["sha"] in page


def test_the_anchored_replay_record_gives_one_row_per_method(tmp_path):
    record = ROOT / "docs" / "anchored_replay" / "anchored_floor.json"
    findings.main(["--reproduction", str(ROOT / "docs" / "reproduction" / "results.json"), "--anchored", str(record),
                   "--doc", str(tmp_path / "F.md")])
    rows = [row for row in rpp.tables((tmp_path / "F.md").read_text())[1][1:] if row[0] == "Q1"]
    methods = {row[2].split(":")[0] for row in rows}
    assert methods == set(json.loads(record.read_text())) and all("cohort0:CFID_clf_excess" in r[3] for r in rows)
    assert all(row[2].split(": ")[1].split(" ")[0] in ("yes", "no", "mixed") for row in rows)


def test_the_text_loop_records_give_a_row_per_model_regime_and_word_statistic(tmp_path):
    records = [ROOT / "docs" / "text_loop" / f"ngram_{order}_summary.json" for order in ("bigram", "unigram")]
    findings.main(["--reproduction", str(ROOT / "docs" / "reproduction" / "results.json"), "--text-loop",
                   *map(str, records), "--doc", str(tmp_path / "F.md")])
    rows = [row for row in rpp.tables((tmp_path / "F.md").read_text())[1][1:] if row[0] == "Q2"]
    assert len(rows) == 2 * 2 * 2  # (bigram, unigram) x (replace, accumulate) x (UnigramJSD, BigramJSD)
    assert all("drift beyond the floor grows: " in r[2] and "excess beyond the real-vs-real floor" in r[3]
               for r in rows)
    bigram_replace = [r for r in rows if r[2].startswith("ngram (order 2), replace")]
    assert [r[2].rsplit(": ", 1)[1] for r in bigram_replace] == ["holds", "holds"]
    commit = json.loads(records[0].read_text())["commit"]["short"]
    assert commit in bigram_replace[0][6] and "examples/text_bootstrap.py" in bigram_replace[0][6]


def test_the_committed_page_is_its_records_output(monkeypatch):
    """docs/FINDINGS.md is exactly what bench/findings.py writes from the records its command names."""
    page = (ROOT / "docs" / "FINDINGS.md").read_text()
    command = next(line.strip() for line in page.splitlines() if line.strip().startswith("python bench/findings.py"))
    monkeypatch.chdir(ROOT)
    assert findings.page(findings.parser().parse_args(command.split()[2:]), command) == page

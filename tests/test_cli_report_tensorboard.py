"""The `bootdrift` command end to end on tiny presets, the HTML report (also of a hand-made run with
UMAP panels and unguided curves), and a real TensorBoard server asked over HTTP for the drift scalars
of a run."""
import json
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from bootdrift_avalanche.cli import main
from bootdrift_avalanche.logging import read_metrics, record_x


@pytest.fixture(scope="module")
def replay_run(tmp_path_factory):
    d = tmp_path_factory.mktemp("cli") / "ddgr"
    rc = main(["replay", "--strategy", "ddgr", "--benchmark", "digits", "--experiences", "2",
               "--preset", "tiny", "--run-dir", str(d), "--quiet", "--no-umap"])
    assert rc == 0
    return d


def test_replay_command_writes_run_dir(replay_run, capsys):
    cfg = json.loads((replay_run / "config.json").read_text())
    assert cfg["strategy"] == "ddgr" and "torch" in cfg["versions"] and cfg["seed"] == 0
    recs = read_metrics(replay_run / "metrics.jsonl")
    for name in ("FID_clf/train_phase/train_stream", "RealAcc/train_phase/train_stream",
                 "Top1_Acc_Seen/eval_phase/test_stream"):
        assert sorted(record_x(r) for r in recs if r["name"] == name) == [0, 1], name
    # one x for drift and accuracy: Avalanche's training-iteration count after each experience
    steps = {name: sorted(r["step"] for r in recs if r["name"] == name)
             for name in ("FID_clf/train_phase/train_stream", "Top1_Acc_Seen/eval_phase/test_stream")}
    assert steps["FID_clf/train_phase/train_stream"] == steps["Top1_Acc_Seen/eval_phase/test_stream"]
    assert 0 < steps["FID_clf/train_phase/train_stream"][0] < steps["FID_clf/train_phase/train_stream"][1]
    assert len(list((replay_run / "checkpoints").glob("step_*.pt"))) == 2


def test_bootstrap_command_and_resume(tmp_path, capsys):
    d = tmp_path / "gmm"
    args = ["bootstrap", "--generator", "wgan", "--data", "gmm", "--stages", "2", "--mix-real", "0",
            "--seed", "1", "--preset", "tiny", "--quiet"]
    assert main(args + ["--run-dir", str(d)]) == 0
    out = capsys.readouterr().out
    assert "stage" in out and "tensorboard --logdir" in out
    steps = sorted(r["step"] for r in read_metrics(d / "metrics.jsonl") if r["name"].startswith("FID"))
    assert steps == [0, 1]
    # resume a finished run: nothing to do, same table; a different seed is refused
    assert main(["bootstrap", "--resume", str(d), "--quiet"]) == 0
    assert main(["bootstrap", "--resume", str(d), "--seed", "2", "--quiet"]) == 2
    assert "belongs to another config" in capsys.readouterr().err


def test_replay_cifar100_offline_error(tmp_path, capsys):
    rc = main(["replay", "--benchmark", "cifar100", "--data-root", str(tmp_path / "none"),
               "--preset", "tiny", "--run-dir", str(tmp_path / "run"), "--quiet"])
    err = capsys.readouterr().err
    assert rc == 2 and "CIFAR-100 not found" in err and "How to supply it" in err


def test_unknown_names_are_refused(capsys):
    with pytest.raises(SystemExit):
        main(["replay", "--strategy", "nope"])
    assert "invalid choice" in capsys.readouterr().err


def test_report_and_compare(replay_run, tmp_path):
    assert main(["report", str(replay_run)]) == 0
    page = (replay_run / "report.html").read_text()
    assert page.count("data:image/png;base64,") >= 3 and "FID_clf" in page
    assert (replay_run / "figures" / "FID.png").exists()
    out = tmp_path / "cmp.html"
    assert main(["compare", str(replay_run), str(replay_run), "--out", str(out)]) == 0
    assert out.exists() and "data:image/png" in out.read_text()


def test_report_lays_out_one_umap_panel_per_experience_and_pairs_unguided_curves(tmp_path):
    import torch
    from avalanche.logging import TensorboardLogger
    from sklearn.decomposition import PCA

    from bootdrift_avalanche.experiments.report import write_report
    from bootdrift_avalanche.logging import JSONLinesLogger
    from bootdrift_avalanche.metrics import umap_figure
    from bootdrift_avalanche.metrics.umap import UMAPProjection

    run = tmp_path / "run"
    scalars = JSONLinesLogger(run / "metrics.jsonl")
    g = torch.Generator().manual_seed(0)
    real_x, real_y = torch.randn(30, 4, generator=g), torch.arange(30) % 3
    proj = UMAPProjection(real_x, real_y, reducer=PCA(2))
    for step in (2, 0, 1, 1):  # out of order, and step 1 logged twice (a resumed experience)
        tb = TensorboardLogger(run / "tb")  # a new events file each time, as after a restart
        fig = umap_figure(real_x, real_y, real_x + 0.1 * step, real_y, projection=proj,
                          title=f"after experience {step}")
        tb.log_single_metric("UMAP_clf/train_phase/train_stream", fig, step)
        tb.writer.close()
    for step in (0, 1, 2):
        for name, v in (("FID_clf", 3.0 - step), ("FID_clf_unguided", 4.0 - step), ("RealAcc", 0.5),
                        ("RealAcc_unguided", 0.4), ("RealAccChance", 0.2)):
            scalars.log_single_metric(f"{name}/train_phase/train_stream", v, step)
    scalars.close()
    page = write_report(run).read_text()
    # the UMAP panels: one per experience, side by side in the order of the experiences
    umap_section = page[page.index("<h2>UMAP_clf</h2>"):]
    assert umap_section.startswith("<h2>UMAP_clf</h2><p><small>Illustration only")  # not evidence of drift
    assert umap_section.split("</p>", 1)[1].startswith('<div class="row">')
    alts = [int(a.split('"')[0]) for a in umap_section.split('alt="UMAP_clf/train_phase/train_stream ')[1:]]
    assert alts == [0, 1, 2]
    assert sorted(p.name for p in (run / "figures").glob("UMAP_*.png")) == [f"UMAP_clf_{s:03d}.png" for s in range(3)]
    # unguided values: their own columns, drawn in the panel of their family (no panel of their own)
    for name in ("FID_clf", "FID_clf_unguided", "RealAcc", "RealAcc_unguided"):
        assert f"<th>{name}</th>" in page
    assert sorted(p.name for p in (run / "figures").glob("[!U]*.png")) == ["FID.png", "RealAcc.png"]


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url):
    with urllib.request.urlopen(url, timeout=5) as r:
        return json.loads(r.read().decode())


@pytest.mark.slow
def test_tensorboard_server_serves_drift_scalars(replay_run):
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "tensorboard.main", "--logdir", str(replay_run / "tb"),
                             "--host", "127.0.0.1", "--port", str(port), "--load_fast", "false"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{port}"
        tags, deadline = {}, time.time() + 90
        while time.time() < deadline:
            try:
                tags = _get(f"{base}/data/plugin/scalars/tags")
                if any("FID_clf/train_phase/train_stream" in t for t in tags.values()):
                    break
            except OSError:
                pass
            time.sleep(1)
        run = next(r for r, t in tags.items() if "FID_clf/train_phase/train_stream" in t)
        iterations = sorted(r["step"] for r in read_metrics(replay_run / "metrics.jsonl")
                            if r["name"] == "Top1_Acc_Seen/eval_phase/test_stream")
        for tag in ("FID_clf/train_phase/train_stream", "CFID_clf/train_phase/train_stream",
                    "OTDD_clf/train_phase/train_stream", "RealAcc/train_phase/train_stream"):
            q = urllib.parse.urlencode({"run": run, "tag": tag})
            rows = _get(f"{base}/data/plugin/scalars/scalars?{q}")
            assert [r[1] for r in rows] == iterations, (tag, rows)  # [wall_time, step, value]
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.mark.slow
@pytest.mark.skipif(not shutil.which("chromium"), reason="Debian's chromium is not installed (.ci/run installs it)")
def test_report_renders_in_headless_chromium(replay_run, tmp_path):
    from PIL import Image

    assert main(["report", str(replay_run)]) == 0
    png = tmp_path / "shot.png"
    subprocess.run(["bash", "scripts/report_screenshot.sh", str(replay_run), str(png)], check=True,
                   cwd=Path(__file__).resolve().parents[1], timeout=120)
    img = Image.open(png).convert("L")
    assert img.size == (1280, 2600)
    hist = img.histogram()
    assert max(hist) < 0.97 * sum(hist)  # not a blank page: the figures are drawn


def _hand_run(d, split, experiences=None):
    """A metrics.jsonl as JSONLinesLogger writes it for a script (steps = training iterations, the
    experience beside them): FID and per-class CFID of the classes of ``split`` (a class: its id,
    or (task, id) for a task-incremental stream with repeated ids)."""
    recs, seen = [], []
    for k, classes in enumerate(split[:experiences]):
        seen += classes
        recs.append({"name": "FID_clf/train_phase/train_stream", "value": 1.0 + k, "step": 10 * (k + 1),
                     "experience": k})
        recs += [{"name": "CFID_clf/train_phase/train_stream/" + (f"Class{c:03d}" if isinstance(c, int) else
                                                                    f"Task{c[0]:03d}/Class{c[1]:03d}"),
                  "value": 2.0 + k, "step": 10 * (k + 1), "experience": k} for c in seen]
    d.mkdir(parents=True)
    (d / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in recs))
    return d


def test_compare_warns_when_runs_differ_in_class_split_or_experiences(tmp_path):
    from bootdrift_avalanche.experiments.report import class_split, write_comparison
    from bootdrift_avalanche.logging import metric_table

    a = _hand_run(tmp_path / "a", [[0, 1], [2, 3]])
    assert class_split(metric_table(read_metrics(a / "metrics.jsonl"))) == [[0, 1], [2, 3]]
    with pytest.warns(RuntimeWarning, match="class splits"):
        page = write_comparison([a, _hand_run(tmp_path / "b", [[0, 2], [1, 3]])], tmp_path / "ab.html").read_text()
    assert "Not comparable point by point" in page and "0: 0, 2; 1: 1, 3" in page
    with pytest.warns(RuntimeWarning, match="different numbers of experiences") as caught:
        write_comparison([a, _hand_run(tmp_path / "c", [[0, 1], [2, 3]], experiences=1)], tmp_path / "ac.html")
    assert len(caught) == 1  # the shorter run's one experience has the same classes: not a split warning
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the same split and length: no warning
        page = write_comparison([a, _hand_run(tmp_path / "d", [[0, 1], [2, 3]])], tmp_path / "ad.html").read_text()
    assert "Not comparable" not in page


def test_report_keys_per_class_cfid_of_a_task_incremental_run_on_task_and_class(tmp_path):
    """Task001/Class000 is its own heatmap row, not merged with (or dropped beside) Task000/Class000."""
    from bootdrift_avalanche.experiments.report import class_split, per_class, write_report
    from bootdrift_avalanche.logging import metric_table

    run = _hand_run(tmp_path / "t", [[(0, 0), (0, 1)], [(1, 0), (1, 1)]])
    table = metric_table(read_metrics(run / "metrics.jsonl"))
    assert class_split(table) == [[(0, 0), (0, 1)], [(1, 0), (1, 1)]]
    assert per_class(table)["CFID_clf"][(1, 0)] == {1: 3.0}
    page = write_report(run).read_text()
    assert "Per-class CFID" in page and "0: t0/0, t0/1; 1: t1/0, t1/1" in page

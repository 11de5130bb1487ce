"""DriftTime covers the whole evaluation (sampling, reference, extractor training, features,
metrics, RealAcc) with each part logged, and RealAcc follows its own schedule."""
import time

import pytest
import torch

from bootdrift_avalanche.metrics import SuiteConfig
from bootdrift_avalanche.plugins.drift import DriftComputation
from bootdrift_avalanche.plugins.drift_time import PARTS, DriftTimer
from tests.plugins.test_drift_plugin import _stream, _strategy


class _SlowImages:
    """A conditional generator of 1x8x8 images (a bright row per class) that takes ``delay`` s per call."""

    def __init__(self, delay=0.0):
        self.delay = delay

    def generate(self, labels, *, seed=None):
        time.sleep(self.delay)
        g = torch.Generator().manual_seed(seed)
        x = 0.2 * torch.rand(len(labels), 1, 8, 8, generator=g)
        x[torch.arange(len(labels)), 0, 2 * labels] += 0.6
        return x


def _computation(generator, features="clf", **kw):
    cfg = SuiteConfig(real_acc_epochs=kw.pop("epochs", 2), samples=False, intervals=0,
                      real_accuracy_every=kw.pop("real_accuracy_every", 1))
    stream = _stream(0, images=True)
    return DriftComputation(stream, cfg, generator=generator, features=features, n_per_class=10,
                            feature_cache_dir=False, **kw), stream


def test_timer_parts_are_exclusive_and_add_up():
    timer = DriftTimer()
    with timer.total():
        with timer.part("metrics"):
            time.sleep(0.05)
            with timer.part("features"):
                time.sleep(0.1)
    out = timer.scalars()
    assert out["DriftTime/features"] == pytest.approx(0.1, abs=0.03)
    assert out["DriftTime/metrics"] == pytest.approx(0.05, abs=0.03)
    # the untimed glue between the parts is a few lines of Python; a loaded machine may preempt there
    assert out["DriftTime/metrics"] + out["DriftTime/features"] == pytest.approx(out["DriftTime"], abs=0.05)
    assert out["DriftTimeCPU"] < 0.1  # sleeping is wall time, not CPU time
    with pytest.raises(ValueError, match="unknown drift time part"):
        with timer.part("loading"):
            pass


def test_drift_time_of_a_clf_first_experience_is_its_wall_time():
    comp, stream = _computation(_SlowImages(delay=0.05))
    t0 = time.perf_counter()
    _, values = comp.result(_strategy(stream[0], 0))
    wall = time.perf_counter() - t0
    s = values.scalars
    assert s["DriftTime"] == pytest.approx(wall, rel=0.10)
    # every part ran, the extractor's training included (first experience), and they add up
    assert {f"DriftTime/{p}" for p in PARTS} <= set(s)
    assert s["DriftTime/sampling"] >= 0.1  # two classes, one call each, 0.05 s of sleep per call
    assert sum(s[f"DriftTime/{p}"] for p in PARTS) == pytest.approx(s["DriftTime"], rel=0.10)
    assert 0 < s["DriftTimeCPU"] and all(s[f"DriftTimeCPU/{p}"] >= 0 for p in PARTS)
    # the next experience reuses the extractor: no extractor part
    _, later = comp.result(_strategy(stream[1], 1))
    assert "DriftTime/extractor" not in later.scalars and later.scalars["DriftTime/real_acc"] > 0


def test_real_accuracy_every_k_experiences_and_the_last():
    comp, stream = _computation(_SlowImages(), features="identity", real_accuracy_every=2)
    exps = [stream[0], stream[1], stream[0], stream[1]]
    for e in exps:
        e.origin_stream = exps
    got = {}
    for step, e in enumerate(exps):
        comp.labels = type(comp.labels)()  # same classes at every step
        got[step] = comp.result(_strategy(e, step))[1].scalars
    assert ["RealAcc" in got[k] for k in range(4)] == [True, False, True, True]  # 0, 2 and the last
    assert "FID_identity" in got[1] and "DriftTime/real_acc" not in got[1]
    with pytest.raises(ValueError, match="real_accuracy_every"):
        _computation(_SlowImages(), real_accuracy_every=0)


def test_report_shows_the_drift_time_per_part(tmp_path):
    from bootdrift_avalanche.experiments.report import write_report
    from bootdrift_avalanche.logging import JSONLinesLogger
    from bootdrift_avalanche.metrics import tag_for

    log = JSONLinesLogger(tmp_path / "metrics.jsonl")
    for step in (0, 1):
        for name, v in {"FID_clf": 3.0, "DriftTime": 10.0 + step, "DriftTimeCPU": 8.0, "DriftTime/sampling": 6.5,
                        "DriftTimeCPU/sampling": 5.25, "DriftTime/real_acc": 3.5}.items():
            log.log_single_metric(tag_for(name), v, step)
    page = write_report(tmp_path).read_text()
    section = page.split("<h2>Drift time per part</h2>")[1].split("</table>")[0]
    assert ">wall s sampling<" in section and ">CPU s sampling<" in section and ">wall s real_acc<" in section
    assert ">6.5<" in section and ">5.25<" in section and ">11<" in section
    # the parts are not curves of the metrics table
    metrics = page.split("<h2>Metrics per")[1].split("</table>")[0]
    assert metrics.count(">DriftTime<") == 1

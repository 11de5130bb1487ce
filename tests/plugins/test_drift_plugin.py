"""End-to-end drift metrics on a 2-experience Split Digits stream, read back from the logs."""
import math

import pytest
import torch
from avalanche.evaluation.metrics import accuracy_metrics
from avalanche.logging import TensorboardLogger
from avalanche.training import Naive
from avalanche.training.plugins import EvaluationPlugin

from bootdrift_avalanche.benchmarks import split_digits
from bootdrift_avalanche.logging import JSONLinesLogger, read_metrics
from bootdrift_avalanche.nets import SmallCNN
from bootdrift_avalanche.plugins import drift_metrics
from bootdrift_avalanche.strategies.avalanche_gr import avalanche_generative_replay

SCALARS = ("FID", "CFID", "OTDD")


def _solver():
    return SmallCNN(in_channels=1, num_classes=10, image_size=8, width=8)


def _drift(**kw):
    return drift_metrics(n_per_class=10, accuracy_epochs=3, otdd_max_samples=200, umap=True, **kw)


def _scalars(acc, tag):
    return [e.value for e in acc.Scalars(tag)], [e.step for e in acc.Scalars(tag)]


@pytest.mark.slow
def test_avalanche_gr_with_drift_to_tensorboard(tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    bm = split_digits(n_experiences=2, task_labels=True)  # Avalanche's GR needs [x, y, t]
    model = _solver()
    evaluator = EvaluationPlugin(*_drift(reference_stream=bm.test_stream, features="identity"),
                                 loggers=[TensorboardLogger(tmp_path / "tb")])
    strategy = avalanche_generative_replay(model=model, optimizer=torch.optim.Adam(model.parameters(), 1e-2),
                                           criterion=torch.nn.CrossEntropyLoss(), image_shape=(1, 8, 8),
                                           train_mb_size=64, train_epochs=1, evaluator=evaluator)
    for exp in bm.train_stream:
        strategy.train(exp)
    evaluator.loggers[0].writer.flush()
    acc = EventAccumulator(str(tmp_path / "tb"), size_guidance={"images": 0, "scalars": 0})
    acc.Reload()
    tags = acc.Tags()
    for key in SCALARS:
        vals, steps = _scalars(acc, f"{key}_identity/train_phase/train_stream")
        assert steps == [0, 1] and all(math.isfinite(v) and v >= 0 for v in vals), (key, vals)
    vals, steps = _scalars(acc, "RealAcc/train_phase/train_stream")
    assert steps == [0, 1] and all(0.0 <= v <= 1.0 for v in vals)
    assert "Samples/train_phase/train_stream" in tags["images"]
    assert "UMAP_identity/train_phase/train_stream" in tags["images"]
    assert any(t.startswith("CFID_identity/train_phase/train_stream/Class") for t in tags["scalars"])


def _naive_with(bm, metrics, loggers):
    model = _solver()
    return Naive(model=model, optimizer=torch.optim.SGD(model.parameters(), lr=0.05), criterion=torch.nn.CrossEntropyLoss(),
                 train_mb_size=64, train_epochs=1,
                 evaluator=EvaluationPlugin(*metrics, loggers=loggers))


class _NoisyCopy:
    """A stand-in generator: real test images of the asked class plus noise."""

    def __init__(self, bm, noise):
        xs, ys = [], []
        for exp in bm.test_stream:
            for item in exp.dataset:
                xs.append(item[0]); ys.append(int(item[1]))
        self.x, self.y, self.noise = torch.stack(xs), torch.tensor(ys), noise
        self.calls = 0

    def generate(self, labels):
        self.calls += 1
        out = []
        for c in labels.tolist():
            pool = self.x[self.y == c]
            out.append(pool[torch.randint(len(pool), (1,))][0])
        return (torch.stack(out) + self.noise * torch.randn(len(labels), 1, 8, 8)).clamp(0, 1)


@pytest.mark.parametrize("task_labels", [False, True])
def test_jsonl_logger_both_batch_formats(tmp_path, task_labels):
    bm = split_digits(n_experiences=2, task_labels=task_labels)
    gen = _NoisyCopy(bm, 0.3)
    metrics = drift_metrics(reference_stream=bm.test_stream, generator=gen, features="identity",
                            n_per_class=10, accuracy_epochs=3, otdd_max_samples=200, umap=False)
    strategy = _naive_with(bm, metrics, [JSONLinesLogger(tmp_path / "metrics.jsonl")])
    for exp in bm.train_stream:
        strategy.train(exp)
    recs = read_metrics(tmp_path / "metrics.jsonl")
    names = {r["name"] for r in recs}
    for key in ("FID_identity", "CFID_identity", "OTDD_identity", "RealAcc", "DriftTime"):
        steps = sorted(r["step"] for r in recs if r["name"] == f"{key}/train_phase/train_stream")
        assert steps == [0, 1], (key, names)
    per_class = [n for n in names if "/Class" in n]
    assert len(per_class) == 10  # 5 classes seen after exp 0, all 10 after exp 1
    assert gen.calls >= 2


def test_less_noise_gives_less_drift(tmp_path):
    bm = split_digits(n_experiences=2)
    out = {}
    for noise in (0.05, 0.5):
        ms = drift_metrics(reference_stream=bm.test_stream, generator=_NoisyCopy(bm, noise), features="identity",
                           n_per_class=15, real_accuracy=False, umap=False, samples=False, otdd_max_samples=None)
        s = _naive_with(bm, ms, [])
        s.train(bm.train_stream[0])
        out[noise] = {type(m).__name__: m.result() for m in ms}
    assert out[0.05]["FIDMetric"] < out[0.5]["FIDMetric"]
    assert out[0.05]["OTDDMetric"] < out[0.5]["OTDDMetric"]
    assert out[0.05]["CFIDMetric"] < out[0.5]["CFIDMetric"]


def test_no_generator_is_a_clear_error():
    bm = split_digits(n_experiences=2)
    s = _naive_with(bm, drift_metrics(reference_stream=bm.test_stream, features="identity"), [])
    with pytest.raises(LookupError, match="found no generator.*drift_metrics\\(generator=...\\)"):
        s.train(bm.train_stream[0])


def test_missing_reference_stream_is_a_clear_error():
    with pytest.raises(ValueError, match="reference_stream"):
        drift_metrics()


def test_nan_samples_stop_before_logging(tmp_path):
    bm = split_digits(n_experiences=2)

    class NaNGen:
        def generate(self, labels):
            return torch.full((len(labels), 1, 8, 8), float("nan"))

    logger = JSONLinesLogger(tmp_path / "m.jsonl")
    s = _naive_with(bm, drift_metrics(reference_stream=bm.test_stream, generator=NaNGen(), features="identity"), [logger])
    with pytest.raises(FloatingPointError, match="NaN or Inf.*experience 0"):
        s.train(bm.train_stream[0])
    assert not [r for r in read_metrics(tmp_path / "m.jsonl") if r["name"].startswith("FID")]

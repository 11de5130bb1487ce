"""The Avalanche drift plugin and the bootstrapping loop log the same metric names, computed by the
same code (metrics.suite): for the same generator and data they log the same values."""
from collections import defaultdict

import pytest
import torch

from bootdrift_avalanche.benchmarks.split import tensors_class_incremental
from bootdrift_avalanche.bootstrap import run_bootstrap
from bootdrift_avalanche.logging import JSONLinesLogger, metric_table, read_metrics
from bootdrift_avalanche.metrics import SuiteConfig
from bootdrift_avalanche.plugins import drift_metrics

K, N, SHAPE = 4, 12, (1, 8, 8)


class PatternGenerator(torch.nn.Module):
    """Deterministic: the i-th sample of class c in a call is means[c] + offsets[i], whatever the
    seed, so both callers get identical synthetic sets for the same labels."""

    def __init__(self):
        super().__init__()
        g = torch.Generator().manual_seed(0)
        self.register_buffer("means", torch.rand((K,) + SHAPE, generator=g) * 0.5)
        self.register_buffer("offsets", torch.rand((N,) + SHAPE, generator=g) * 0.5)

    def fit(self, x, y, *, steps=None, progress=False):
        return self

    def generate(self, labels, *, seed=None):
        count = defaultdict(int)
        out = []
        for c in labels.tolist():
            out.append(self.means[c] + self.offsets[count[c]])
            count[c] += 1
        return torch.stack(out)


def _data(seed):
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(K).repeat_interleave(N)  # sorted by class, N per class
    return torch.rand((K * N,) + SHAPE, generator=g), y


def _drift_values(path, step):
    table = metric_table(read_metrics(path))
    return {k: v[step] for k, v in table.items() if step in v and not k.startswith("DriftTime")}


def test_plugin_and_loop_log_the_same_names_and_values(tmp_path):
    from avalanche.training import Naive
    from avalanche.training.plugins import EvaluationPlugin

    (x_tr, y_tr), (x_te, y_te) = _data(1), _data(2)
    gen = PatternGenerator()
    common = dict(features="identity", otdd_max_samples=None, real_acc_epochs=2, seed=0)

    bm = tensors_class_incremental(x_tr, y_tr, x_te, y_te, n_experiences=2, shuffle_classes=False)
    plugin_log = JSONLinesLogger(tmp_path / "plugin.jsonl")
    # the loop has no floors, intervals or fixed-n FID: the plugin's shared values are compared
    metrics = drift_metrics(reference_stream=bm.test_stream, feature_stream=bm.train_stream, n_per_class=N,
                            generator=gen, features="identity", seed=0,
                            suite=SuiteConfig(otdd_max_samples=None, real_acc_epochs=2, umap=False, floor=False,
                                              intervals=0, fixed_n=False))
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64, K))
    strategy = Naive(model=model, optimizer=torch.optim.SGD(model.parameters(), lr=0.01),
                     criterion=torch.nn.CrossEntropyLoss(), train_mb_size=16, train_epochs=1,
                     evaluator=EvaluationPlugin(*metrics, loggers=[plugin_log]))
    for exp in bm.train_stream:  # after the second experience all K classes are seen
        strategy.train(exp)
    plugin_log.close()

    loop_log = JSONLinesLogger(tmp_path / "loop.jsonl")
    run_bootstrap(lambda stage: gen, (x_tr, y_tr), (x_te, y_te), stages=1, loggers=[loop_log],
                  progress=False, **common)
    loop_log.close()

    from_plugin = _drift_values(tmp_path / "plugin.jsonl", step=1)
    from_loop = _drift_values(tmp_path / "loop.jsonl", step=0)
    assert set(from_plugin) == set(from_loop)
    assert {"FID_identity/train_phase/train_stream", "CFID_identity/train_phase/train_stream",
            "OTDD_identity/train_phase/train_stream", "RealAcc/train_phase/train_stream",
            "CFID_identity/train_phase/train_stream/Class003"} <= set(from_loop)
    for name, v in from_loop.items():
        assert from_plugin[name] == pytest.approx(v, rel=1e-9, abs=1e-12), name


def test_plugin_and_loop_name_the_feature_space_they_were_given(tmp_path):
    """features="random" (no training, no weights) reaches the extractor of both, and every
    feature-based value is logged under its name."""
    from avalanche.training import Naive
    from avalanche.training.plugins import EvaluationPlugin

    (x_tr, y_tr), (x_te, y_te) = _data(1), _data(2)
    gen = PatternGenerator()
    bm = tensors_class_incremental(x_tr, y_tr, x_te, y_te, n_experiences=1, shuffle_classes=False)
    log = JSONLinesLogger(tmp_path / "plugin.jsonl")
    metrics = drift_metrics(reference_stream=bm.test_stream, n_per_class=N, generator=gen, features="random",
                            suite=SuiteConfig(umap=False, real_accuracy=False, samples=False))
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64, K))
    Naive(model=model, optimizer=torch.optim.SGD(model.parameters(), lr=0.01), criterion=torch.nn.CrossEntropyLoss(),
          train_mb_size=16, train_epochs=1,
          evaluator=EvaluationPlugin(*metrics, loggers=[log])).train(bm.train_stream[0])
    log.close()
    result = run_bootstrap(lambda stage: gen, (x_tr, y_tr), (x_te, y_te), stages=1, features="random",
                           real_acc_epochs=1, progress=False)
    assert result.feature_name == "random" and metrics[0].computation.feature_name == "random"
    names = {"FID_random", "CFID_random", "OTDD_random"}
    for heads in ({k.partition("/")[0] for k in _drift_values(tmp_path / "plugin.jsonl", step=0)},
                  {k.partition("/")[0] for k in result.stages[0]}):
        assert names <= heads and not any(h.endswith(("_clf", "_identity")) for h in heads)

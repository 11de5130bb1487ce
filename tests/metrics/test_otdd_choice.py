"""The drift suite computes exact OTDD up to ``otdd_exact_max`` points per set and the chosen
large-set variant above, under the variant's own name; the drift plugin's OTDD metric emits it."""
import pytest
import torch

from bootdrift_avalanche.metrics import DriftSuite, IdentityFeatures, SuiteConfig, otdd, otdd_hierarchical
from bootdrift_avalanche.metrics.otdd_choice import LARGE_OTDD, choose_otdd
from bootdrift_avalanche.plugins.drift import OTDDMetric


def _sets():
    g = torch.Generator().manual_seed(0)
    y = torch.arange(3).repeat_interleave(20)
    centres = torch.tensor([[3.0 * c, 0.0] for c in range(3)])
    return (centres[y] + 0.5 * torch.randn(60, 2, generator=g), y,
            centres[y] + 0.5 * torch.randn(60, 2, generator=g) + 0.3)


def _otdd_scalars(**cfg):
    rx, y, sx = _sets()
    suite = DriftSuite(IdentityFeatures(), SuiteConfig(fid=False, cfid=False, kid=False, real_accuracy=False,
                                                       samples=False, **{"intervals": 0, **cfg}))
    return {k: v for k, v in suite.evaluate(rx, y, sx, y).scalars.items()
            if k not in ("DriftTime", "DriftSamplesPerClass")}


def test_exact_below_the_threshold_and_the_named_variant_above():
    rx, y, sx = _sets()
    assert _otdd_scalars(otdd_exact_max=60) == {"OTDD_identity": pytest.approx(otdd(rx, y, sx, y), rel=1e-12)}
    assert _otdd_scalars(otdd_exact_max=59) == {
        "OTDDhier_identity": pytest.approx(otdd_hierarchical(rx, y, sx, y), rel=1e-12)}
    assert set(_otdd_scalars(otdd_exact_max=59, otdd_large="sliced")) == {"sOTDD_identity"}
    assert set(_otdd_scalars(otdd_exact_max=59, otdd_max_samples=30)) == {"OTDD_identity"}  # explicit subsample: exact
    assert choose_otdd(10, 11, exact_max=None, large="entropic").prefix == "OTDD"


def test_every_variant_is_emitted_by_the_plugin_metric_and_bad_names_are_refused():
    assert {v.prefix for v in LARGE_OTDD.values()} | {"OTDD"} == set(OTDDMetric.keys)
    with pytest.raises(ValueError, match="unknown large-set OTDD variant 'lowrank'.*hierarchical"):
        SuiteConfig(otdd_large="lowrank")
    with pytest.raises(ValueError, match="otdd_inner='exact' needs otdd_max_samples"):
        SuiteConfig(otdd_inner="exact")
    SuiteConfig(otdd_inner="exact", otdd_exact_max=None)


def test_the_drift_plugin_logs_the_variant_under_its_own_tag():
    from types import SimpleNamespace

    from bootdrift_avalanche.plugins import drift_metrics
    from tests.plugins.test_drift_plugin import _Data  # the minimal experience dataset of the plugin tests

    rx, y, _ = _sets()
    stream = [SimpleNamespace(dataset=_Data(rx, y), classes_in_this_experience=[0, 1, 2])]

    class Generator:  # a deterministic conditional generator of 2-D points
        def generate(self, labels, *, seed=None):
            g = torch.Generator().manual_seed(seed)
            return torch.stack([torch.tensor([3.0 * c, 0.3]) for c in labels.tolist()]) + 0.5 * torch.randn(
                len(labels), 2, generator=g)

    strategy = SimpleNamespace(clock=SimpleNamespace(train_exp_counter=0, train_iterations=0), experience=stream[0],
                               plugins=[], model=None)
    tags = {}
    for exact_max in (60, 59):  # 20 per class x 3 classes = 60 points per set
        metric = next(m for m in drift_metrics(reference_stream=stream, generator=Generator(), features="identity",
                                               n_per_class=20,
                                               suite=SuiteConfig(fid=False, cfid=False, real_accuracy=False, umap=False,
                                                                 samples=False, otdd_exact_max=exact_max, kid=False,
                                                                 floor=False, intervals=0))
                      if isinstance(m, OTDDMetric))
        tags[exact_max] = [v.name for v in metric.after_training_exp(strategy)]
        assert metric.result() is not None and metric.result() > 0
    assert tags == {60: ["OTDD_identity/train_phase/train_stream"], 59: ["OTDDhier_identity/train_phase/train_stream"]}


def test_report_and_tables_show_each_variant_as_its_own_family():
    from bootdrift_avalanche.experiments import report, tables

    assert {"OTDD", "OTDDhier", "OTDDent", "sOTDD"} <= set(tables.DRIFT_KEYS) & set(report._FAMILIES)
    assert report._family("OTDDhier_clf_unguided") == "OTDDhier" and report._family("OTDD_clf") == "OTDD"

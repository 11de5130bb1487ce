"""Drift metrics plugin: end to end on a 2-experience Split Digits stream read back from the logs,
per-class seeds (a frozen generator gives the same values at every step), the feature stream,
sampling through a replay plugin, the ``_unguided`` values of a guided replay (tiny DDGR vs GAN
Memory), the one UMAP map of a run, resuming, and clear errors."""
import math
import pickle
import re
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from avalanche.logging import TensorboardLogger
from avalanche.training import Naive
from avalanche.training.plugins import EvaluationPlugin

from bootdrift_avalanche.benchmarks import split_digits
from bootdrift_avalanche.logging import JSONLinesLogger, metric_table, read_metrics
from bootdrift_avalanche.nets import SmallCNN
from bootdrift_avalanche.plugins import drift_metrics
from bootdrift_avalanche.metrics import SuiteConfig
from bootdrift_avalanche.plugins.drift import DriftComputation, FIDMetric
from bootdrift_avalanche.strategies.avalanche_gr import avalanche_generative_replay

SCALARS = ("FID", "CFID", "OTDD")


def _solver():
    return SmallCNN(in_channels=1, num_classes=10, image_size=8, width=8)


def _drift(**kw):
    return drift_metrics(n_per_class=10, **kw, suite=SuiteConfig(real_acc_epochs=3, otdd_max_samples=200, umap=True))


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
    iterations = []
    for exp in bm.train_stream:
        strategy.train(exp)
        iterations.append(strategy.clock.train_iterations)
    evaluator.loggers[0].writer.flush()
    acc = EventAccumulator(str(tmp_path / "tb"), size_guidance={"images": 0, "scalars": 0})
    acc.Reload()
    tags = acc.Tags()
    for key in SCALARS:
        vals, steps = _scalars(acc, f"{key}_identity/train_phase/train_stream")
        assert steps == iterations and all(math.isfinite(v) and v >= 0 for v in vals), (key, vals)
    vals, steps = _scalars(acc, "RealAcc/train_phase/train_stream")
    assert steps == iterations and all(0.0 <= v <= 1.0 for v in vals)
    assert "Samples/train_phase/train_stream" in tags["images"]
    assert "UMAP_identity/train_phase/train_stream" in tags["images"]
    assert any(t.startswith("CFID_identity/train_phase/train_stream/Class") for t in tags["scalars"])


def _naive_with(bm, metrics, loggers):
    model = _solver()
    return Naive(model=model, optimizer=torch.optim.SGD(model.parameters(), lr=0.05),
                 criterion=torch.nn.CrossEntropyLoss(), train_mb_size=64, train_epochs=1,
                 evaluator=EvaluationPlugin(*metrics, loggers=loggers))


class _NoisyCopy:
    """A stand-in generator: real test images of the asked class plus noise, reproducible from
    ``seed`` (the generator protocol ``generate(labels, *, seed=None)``)."""

    def __init__(self, bm, noise):
        xs, ys = [], []
        for exp in bm.test_stream:
            for item in exp.dataset:
                xs.append(item[0])
                ys.append(int(item[1]))
        self.x, self.y, self.noise = torch.stack(xs), torch.tensor(ys), noise
        self.calls = 0

    def generate(self, labels, *, seed=None):
        self.calls += 1
        g = torch.Generator()
        g.manual_seed(seed) if seed is not None else g.seed()
        out = []
        for c in labels.tolist():
            pool = self.x[self.y == c]
            out.append(pool[torch.randint(len(pool), (1,), generator=g)][0])
        noise = torch.randn(len(labels), 1, 8, 8, generator=g)
        return (torch.stack(out) + self.noise * noise).clamp(0, 1)


@pytest.mark.parametrize("task_labels", [False, True])
def test_jsonl_logger_both_batch_formats(tmp_path, task_labels):
    bm = split_digits(n_experiences=2, task_labels=task_labels)
    gen = _NoisyCopy(bm, 0.3)
    metrics = drift_metrics(reference_stream=bm.test_stream, generator=gen, features="identity", n_per_class=10,
                            suite=SuiteConfig(real_acc_epochs=3, otdd_max_samples=200, umap=False))
    assert all(m.computation is metrics[0].computation for m in metrics)
    strategy = _naive_with(bm, metrics, [JSONLinesLogger(tmp_path / "metrics.jsonl")])
    iterations = []
    for exp in bm.train_stream:
        strategy.train(exp)
        iterations.append(strategy.clock.train_iterations)
    recs = read_metrics(tmp_path / "metrics.jsonl")
    names = {r["name"] for r in recs}
    for key in ("FID_identity", "CFID_identity", "OTDD_identity", "RealAcc", "RealAccChance", "DriftTime"):
        mine = [r for r in recs if r["name"] == f"{key}/train_phase/train_stream"]
        # Avalanche's x (training iterations so far), and the experience beside it
        assert [r["step"] for r in mine] == iterations and [r["experience"] for r in mine] == [0, 1], (key, names)
    per_class = [n for n in names if "/Class" in n and n.startswith("CFID_identity/")]
    assert len(per_class) == 10  # 5 classes seen after exp 0, all 10 after exp 1
    # each per-class value has its floor, excess and interval under the same class
    for q in ("CFID_identity_floor", "CFID_identity_excess", "CFID_identity_lo", "CFID_identity_hi", "CKID_identity"):
        assert len([n for n in names if n.startswith(q + "/train_phase/train_stream/Class")]) == 10, q
    assert gen.calls >= 2


def test_less_noise_gives_less_drift(tmp_path):
    bm = split_digits(n_experiences=2)
    out = {}
    for noise in (0.05, 0.5):
        ms = drift_metrics(reference_stream=bm.test_stream, generator=_NoisyCopy(bm, noise), features="identity",
                           n_per_class=15,
                           suite=SuiteConfig(real_accuracy=False, umap=False, samples=False, otdd_max_samples=None))
        s = _naive_with(bm, ms, [])
        s.train(bm.train_stream[0])
        out[noise] = {type(m).__name__: m.result() for m in ms}
    assert out[0.05]["FIDMetric"] < out[0.5]["FIDMetric"]
    assert out[0.05]["OTDDMetric"] < out[0.5]["OTDDMetric"]
    assert out[0.05]["CFIDMetric"] < out[0.5]["CFIDMetric"]


# ---- without a training loop: a fake strategy around a tiny labelled stream --------------------
class _Data:
    """A minimal dataset of an experience: ``targets`` and ``(x, y)`` items."""

    def __init__(self, x, y):
        self.x, self.targets = x, y.tolist()

    def __len__(self):
        return len(self.targets)

    def __getitem__(self, i):
        return self.x[i], self.targets[i]


def _stream(seed, n_per_class=12, classes=((0, 1), (2, 3)), images=False):
    """Two experiences of 2-D points around class centres, or of 1x8x8 images with a bright row
    per class."""
    g = torch.Generator().manual_seed(seed)
    out = []
    for cls in classes:
        y = torch.tensor(cls).repeat_interleave(n_per_class)
        if images:
            x = 0.2 * torch.rand(len(y), 1, 8, 8, generator=g)
            x[torch.arange(len(y)), 0, 2 * y] += 0.7
        else:
            x = (torch.stack([torch.tensor([3.0 * c, -1.0 * c]) for c in y.tolist()])
                 + 0.4 * torch.randn(len(y), 2, generator=g))
        out.append(SimpleNamespace(dataset=_Data(x, y), classes_in_this_experience=list(cls)))
    return out


class _FrozenGaussians:
    """A deterministic conditional generator of 2-D points: N(class centre + offset, 0.5²)."""

    def __init__(self, offset=0.2):
        self.offset = offset
        self.seeds = []

    def generate(self, labels, *, seed=None):
        self.seeds.append(seed)
        g = torch.Generator().manual_seed(seed)
        centres = torch.stack([torch.tensor([3.0 * c, -1.0 * c]) for c in labels.tolist()])
        return centres + self.offset + 0.5 * torch.randn(len(labels), 2, generator=g)


_QUIET = SuiteConfig(real_acc_epochs=1, otdd_max_samples=None, samples=False, umap=False, intervals=0)


def _strategy(experience, step, plugins=()):
    return SimpleNamespace(clock=SimpleNamespace(train_exp_counter=step, train_iterations=10 * step),
                           experience=experience, plugins=list(plugins), model=None)


def _computation(generator=None, **kw):
    cfg = SuiteConfig(real_acc_epochs=2, otdd_max_samples=None, samples=False, intervals=0)
    return DriftComputation(_stream(0), cfg, generator=generator, features=kw.pop("features", "identity"),
                            n_per_class=10, **kw)


def test_frozen_generator_gives_identical_values_at_two_steps():
    stream = _stream(0)
    gen = _FrozenGaussians()
    comp = _computation(gen)
    step0, first = comp.result(_strategy(stream[0], 0))
    assert comp.result(_strategy(stream[0], 0))[1] is first  # computed once per step
    comp.load_state_dict({"seen": []})  # the same classes again, now at a later step
    step3, later = comp.result(_strategy(stream[0], 3))
    assert (step0, step3) == (0, 3)
    assert {k: v for k, v in first.scalars.items() if not k.startswith("DriftTime")} == \
           {k: v for k, v in later.scalars.items() if not k.startswith("DriftTime")}
    # the seed of a class does not change with the step or with which other classes are seen
    _, both = comp.result(_strategy(stream[1], 4))
    assert set(gen.seeds[:2]) <= set(gen.seeds[4:])
    assert both.scalars["CFID_identity/Class001"] == first.scalars["CFID_identity/Class001"]


def test_samples_come_from_replay_samples_of_a_replay_plugin():
    stream = _stream(0)

    class ReplayPlugin:
        def __init__(self):
            self.generator = _FrozenGaussians(offset=5.0)  # what generate() alone would give
            self.calls = []

        def replay_samples(self, strategy, labels, *, seed):
            self.calls.append((strategy.clock.train_exp_counter, labels.tolist(), seed))
            return _FrozenGaussians(offset=0.0).generate(labels, seed=seed)

    plugin = ReplayPlugin()
    _, via_plugin = _computation().result(_strategy(stream[0], 0, plugins=[plugin]))
    assert [c[1][0] for c in plugin.calls] == [0, 1] and not plugin.generator.seeds
    _, via_generate = _computation(plugin.generator).result(_strategy(stream[0], 0, plugins=[plugin]))
    assert plugin.generator.seeds  # a generator passed in is sampled directly, even with the plugin there
    assert via_plugin.scalars["FID_identity"] < via_generate.scalars["FID_identity"]


class _GuidedReplay:
    """A replay plugin whose replay is guided (``guidance_scale``): its replay is offset from what
    its generator gives alone."""

    def __init__(self, guidance_scale=1.0):
        self.generator = _FrozenGaussians(offset=2.0)
        self.guidance_scale = guidance_scale
        self.seeds = []

    def replay_samples(self, strategy, labels, *, seed):
        self.seeds.append(seed)
        return _FrozenGaussians(offset=0.0).generate(labels, seed=seed)


def test_a_guided_replay_also_scores_the_generator_unguided():
    stream = _stream(0)
    plugin = _GuidedReplay()
    comp = _computation()
    _, vals = comp.result(_strategy(stream[0], 0, plugins=[plugin]))
    for key in ("FID_identity", "CFID_identity", "CFID_identity/Class001", "OTDD_identity", "RealAcc"):
        head, sep, rest = key.partition("/")
        assert vals.scalars[f"{head}_unguided{sep}{rest}"] != vals.scalars[key], key
    assert vals.scalars["FID_identity"] < vals.scalars["FID_identity_unguided"]  # the replay is nearer
    assert "RealAccChance_unguided" not in vals.scalars and "DriftTime_unguided" not in vals.scalars
    assert plugin.generator.seeds == plugin.seeds  # generate() alone, with the replay's labels and seeds
    _, plain = _computation(plugin.generator).result(_strategy(stream[0], 0))
    assert plain.scalars["FID_identity"] == vals.scalars["FID_identity_unguided"]
    # each metric emits its own family's unguided values, under their own tags
    metrics = drift_metrics(reference_stream=stream, n_per_class=10, features="identity",
                            suite=SuiteConfig(real_acc_epochs=2, otdd_max_samples=None, samples=False, umap=False))
    tags = {type(m).__name__: {v.name for v in m.after_training_exp(_strategy(stream[0], 0, plugins=[plugin]))}
            for m in metrics}
    assert "FID_identity_unguided/train_phase/train_stream" in tags["FIDMetric"]
    assert "CFID_identity_unguided/train_phase/train_stream/Class000" in tags["CFIDMetric"]
    assert "OTDD_identity_unguided/train_phase/train_stream" in tags["OTDDMetric"]
    assert "RealAcc_unguided/train_phase/train_stream" in tags["RealAccMetric"]
    assert not any("unguided" in t for t in tags["DriftTimeMetric"])


@pytest.mark.parametrize("plugin, unguided", [(_GuidedReplay(guidance_scale=0.0), True), (_GuidedReplay(), False)])
def test_no_unguided_values_without_guidance_or_when_switched_off(plugin, unguided):
    _, vals = _computation(unguided=unguided).result(_strategy(_stream(0)[0], 0, plugins=[plugin]))
    assert "FID_identity" in vals.scalars and not [k for k in vals.scalars if "unguided" in k]


def _tiny_drift_run(tmp_path, strategy_cls, generator, **kw):
    """Two experiences of a tiny replay strategy on Split Digits with the drift metrics (classifier
    features) logged to metrics.jsonl; returns {name: {step: value}}."""
    from bootdrift_avalanche.logging import metric_table

    from .test_ddgr import TinyCNN

    torch.manual_seed(0)
    bm = split_digits(n_experiences=2)
    metrics = drift_metrics(reference_stream=bm.test_stream, feature_stream=bm.train_stream, n_per_class=10,
                            feature_cache_dir=str(tmp_path / "cache"),
                            suite=SuiteConfig(real_acc_epochs=3, otdd_max_samples=200, umap=False, samples=False))
    model = TinyCNN()
    strategy = strategy_cls(model=model, optimizer=torch.optim.SGD(model.parameters(), lr=0.05),
                            criterion=torch.nn.CrossEntropyLoss(), generator=generator, replay_per_class=3,
                            train_mb_size=64, evaluator=EvaluationPlugin(*metrics, loggers=[
                                JSONLinesLogger(tmp_path / "metrics.jsonl")]), **kw)
    for exp in bm.train_stream:
        strategy.train(exp)
    return metric_table(read_metrics(tmp_path / "metrics.jsonl"))


@pytest.mark.slow
def test_tiny_ddgr_logs_guided_and_unguided_drift_and_gan_memory_only_its_own(tmp_path):
    from bootdrift_avalanche.generators.gan_memory import GANMemoryGenerator
    from bootdrift_avalanche.strategies import DDGR, GANMemory

    from ..generators.test_gan_memory import tiny
    from .test_ddgr import tiny_ddpm

    table = _tiny_drift_run(tmp_path / "ddgr", DDGR, tiny_ddpm(train_steps=3, num_inference_steps=3),
                               guidance_scale=1.0, generator_steps=3)
    for head in ("FID_clf", "CFID_clf", "OTDD_clf", "RealAcc"):
        guided, plain = table[f"{head}/train_phase/train_stream"], table[f"{head}_unguided/train_phase/train_stream"]
        assert sorted(guided) == sorted(plain) == [0, 1], head
        if head != "RealAcc":  # (an accuracy of a few dozen images may well be equal)
            assert guided[1] != plain[1], head  # the guide (the classifier of experience 0) changes the replay
    assert {n for n in table if n.startswith("CFID_clf_unguided/train_phase/train_stream/Class")} == \
           {f"CFID_clf_unguided/train_phase/train_stream/Class{c:03d}" for c in range(10)}
    table = _tiny_drift_run(tmp_path / "gan", GANMemory, GANMemoryGenerator(tiny()))
    assert sorted(table["FID_clf/train_phase/train_stream"]) == [0, 1]
    assert not [n for n in table if "unguided" in n]


def test_feature_stream_trains_the_classifier_extractor(tmp_path, monkeypatch):
    import bootdrift_avalanche.metrics.features as features_mod

    fitted = []
    real_fit = features_mod.ClassifierFeatures.fit.__func__

    def spy(cls, x, y, **kw):
        fitted.append(x.clone())
        return real_fit(cls, x, y, **{**kw, "epochs": 1})

    monkeypatch.setattr(features_mod.ClassifierFeatures, "fit", classmethod(spy))
    ref, feat = _stream(0, images=True), _stream(1, images=True)

    class Noise:
        def generate(self, labels, *, seed=None):
            return torch.rand(len(labels), 1, 8, 8, generator=torch.Generator().manual_seed(seed))

    comp = DriftComputation(ref, SuiteConfig(real_acc_epochs=1, otdd=False, samples=False, intervals=0),
                            feature_stream=feat, generator=Noise(), n_per_class=6, feature_cache_dir=str(tmp_path))
    _, vals = comp.result(_strategy(ref[0], 0))
    assert comp.feature_name == "clf" and "FID_clf" in vals.scalars  # images: classifier by default
    (fit_x,) = fitted
    assert len(fit_x) == 4 * 6  # n_per_class of every class of the feature stream
    ref_x = torch.cat([e.dataset.x for e in ref])
    feat_x = torch.cat([e.dataset.x for e in feat])
    assert all(bool((feat_x == row).all(dim=(1, 2, 3)).any()) for row in fit_x)
    assert not any(bool((ref_x == row).all(dim=(1, 2, 3)).any()) for row in fit_x)


def test_evaluation_does_not_touch_the_global_rng():
    class GlobalNoise:  # a user generator that ignores the seed and draws from torch's global RNG
        def generate(self, labels, *, seed=None):
            return torch.rand(len(labels), 1, 8, 8)

    ref = _stream(0, images=True)
    comp = DriftComputation(ref, SuiteConfig(real_acc_epochs=1, otdd=False, intervals=0), generator=GlobalNoise(),
                            features=None, n_per_class=4, feature_cache_dir=False)
    state = torch.get_rng_state()
    comp.result(_strategy(ref[0], 0))  # trains the classifier extractor, samples, trains RealAcc
    assert torch.equal(torch.get_rng_state(), state)


def test_state_dict_restores_seen_classes():
    stream = _stream(0)
    comp = _computation(_FrozenGaussians())
    comp.result(_strategy(stream[0], 0))
    comp.result(_strategy(stream[1], 1))
    state = comp.state_dict()
    assert state["umap"] is None  # no UMAP figure: no map
    assert state["labels"] == {"keys": [[0, c] for c in range(4)], "labels": [0, 1, 2, 3]}  # (task, class) -> label
    fresh = _computation(_FrozenGaussians())
    fresh.load_state_dict(state)
    assert fresh.seen == [0, 1, 2, 3]
    older = _computation(_FrozenGaussians())
    older.load_state_dict({"seen": [0, 1, 2, 3], "umap": None})  # a checkpoint from before task keys
    assert older.labels.keys() == fresh.labels.keys()
    _, vals = fresh.result(_strategy(stream[1], 1))
    assert {f"CFID_identity/Class{c:03d}" for c in range(4)} <= set(vals.scalars)


class _PCA2:
    """A fast deterministic stand-in for UMAP (fit_transform / transform), counting its fits."""

    fits = 0

    def fit_transform(self, x):
        type(self).fits += 1
        self.mean = x.mean(0)
        self.axes = np.linalg.svd(x - self.mean, full_matrices=False)[2][:2]
        return self.transform(x)

    def transform(self, x):
        return (x - self.mean) @ self.axes.T


def test_umap_map_is_fitted_once_on_all_reference_classes_and_survives_resume(monkeypatch):
    import bootdrift_avalanche.metrics.umap as umap_mod

    monkeypatch.setattr(umap_mod, "_umap_reducer", lambda n, **kw: _PCA2())
    monkeypatch.setattr(_PCA2, "fits", 0)
    stream = _stream(0)
    cfg = SuiteConfig(real_acc_epochs=2, otdd_max_samples=None, samples=False, umap=True, intervals=0)

    def computation():
        return DriftComputation(stream, cfg, generator=_FrozenGaussians(), features="identity", n_per_class=10)

    def points(values):
        real, syn = values.figures["UMAP_identity"].axes[0].collections
        return real.get_offsets().data.copy(), syn.get_offsets().data.copy()

    comp = computation()
    real0, syn0 = points(comp.result(_strategy(stream[0], 0))[1])
    proj = comp.state_dict()["umap"]
    assert _PCA2.fits == 1 and proj.classes == [0, 1, 2, 3]  # all classes, before 2 and 3 are seen
    assert len(real0) == 20 and np.array_equal(real0, proj.embedding[:20])
    real1, syn1 = points(comp.result(_strategy(stream[1], 1))[1])
    assert _PCA2.fits == 1
    assert np.array_equal(real1[:20], real0)  # the real points of classes 0, 1 did not move
    assert np.array_equal(syn1[:20], syn0)  # nor the (unchanged) generator's samples of them
    # resuming: the map comes back with the checkpoint (pickled) and is not refitted
    resumed = computation()
    resumed.load_state_dict(pickle.loads(pickle.dumps(comp.state_dict())))
    real_r, syn_r = points(resumed.result(_strategy(stream[1], 1))[1])
    assert _PCA2.fits == 1 and np.array_equal(real_r, real1) and np.array_equal(syn_r, syn1)


def test_no_generator_is_a_clear_error():
    bm = split_digits(n_experiences=2)
    s = _naive_with(bm, drift_metrics(reference_stream=bm.test_stream, features="identity"), [])
    with pytest.raises(LookupError, match="found no generator.*drift_metrics\\(generator=...\\)"):
        s.train(bm.train_stream[0])


def test_missing_reference_stream_and_bad_arguments_are_clear_errors():
    with pytest.raises(ValueError, match="reference_stream"):
        drift_metrics()
    with pytest.raises(ValueError, match="n_per_class"):
        drift_metrics(reference_stream=_stream(0), n_per_class=1)
    with pytest.raises(ValueError, match="unknown features 'pixels'"):
        _computation(_FrozenGaussians(), features="pixels").result(_strategy(_stream(0)[0], 0))


def test_generator_without_seed_is_a_clear_error():
    class OldGen:
        def generate(self, labels):
            return torch.zeros(len(labels), 2)

    with pytest.raises(TypeError, match=r"OldGen.generate must accept a seed.*generate\(labels, \*, seed=None\)"):
        _computation(OldGen()).result(_strategy(_stream(0)[0], 0))


def test_nan_samples_stop_before_logging(tmp_path):
    bm = split_digits(n_experiences=2)

    class NaNGen:
        def generate(self, labels, *, seed=None):
            return torch.full((len(labels), 1, 8, 8), float("nan"))

    logger = JSONLinesLogger(tmp_path / "m.jsonl")
    s = _naive_with(bm, drift_metrics(reference_stream=bm.test_stream, generator=NaNGen(), features="identity"),
                    [logger])
    with pytest.raises(ValueError, match="NaNGen .probed before training. returned 2 of 2 sample.s. with NaN or Inf"):
        s.train(bm.train_stream[0])  # refused by the probe, before any iteration
    assert s.clock.train_iterations == 0
    assert not [r for r in read_metrics(tmp_path / "m.jsonl") if r["name"].startswith("FID")]


def test_n_actually_used_is_logged_and_a_cap_or_a_tiny_n_warns():
    stream = _stream(0, n_per_class=12)
    comp = DriftComputation(stream, _QUIET,
                            generator=_FrozenGaussians(), features="identity", n_per_class=50)
    with pytest.warns(RuntimeWarning, match="has 12 real samples in the reference stream, fewer than n_per_class=50"):
        _, vals = comp.result(_strategy(stream[0], 0))
    assert vals.scalars["DriftSamplesPerClass"] == 12.0
    names = [str(m) for m in drift_metrics(reference_stream=stream)]
    assert "DriftSamplesPerClass" in names  # emitted to the loggers like DriftTime
    assert "UMAP" not in names  # off by default: its first fit costs ~12 CPU s (docs/DRIFT_COST.md)

    small = DriftComputation(stream, _QUIET,
                             generator=_FrozenGaussians(), features="identity", n_per_class=3)
    with pytest.warns(RuntimeWarning, match="scored 3 sample.s. of some class .*small-sample bias"):
        _, vals = small.result(_strategy(stream[0], 0))
    assert vals.scalars["DriftSamplesPerClass"] == 3.0


def test_samples_on_another_scale_than_the_reference_are_refused():
    stream = _stream(0, images=True)

    class Bytes:  # a generator that forgot to divide by 255
        def generate(self, labels, *, seed=None):
            return 255.0 * torch.rand(len(labels), 1, 8, 8, generator=torch.Generator().manual_seed(seed))

    comp = DriftComputation(stream, _QUIET,
                            generator=Bytes(), features="identity", n_per_class=10)
    with pytest.raises(ValueError, match=r"Bytes\): its samples look \[0, 255\].*values in \[.*, 25\d\]"):
        comp.result(_strategy(stream[0], 0))  # the output contract (generators/contract.py), before any metric


@pytest.fixture(scope="module")
def api_run(tmp_path_factory):
    """A user's script: ``Naive`` + ``DDGRPlugin`` (tiny DDPM) with Avalanche's ``accuracy_metrics``
    and ``forgetting_metrics`` and the drift metrics, to TensorBoard and ``metrics.jsonl`` (no
    CLI); returns the log dir and the training iterations after each experience."""
    from avalanche.evaluation.metrics import accuracy_metrics, forgetting_metrics

    from bootdrift_avalanche.plugins import DDGRPlugin

    from .test_ddgr import TinyCNN, tiny_ddpm

    log_dir = tmp_path_factory.mktemp("api_run")
    torch.manual_seed(0)
    bm = split_digits(n_experiences=2)
    ddpm = tiny_ddpm(train_steps=2, num_inference_steps=2)
    model = TinyCNN()
    tb = TensorboardLogger(log_dir)  # events beside metrics.jsonl, as the examples write them
    evaluator = EvaluationPlugin(accuracy_metrics(experience=True, stream=True), forgetting_metrics(stream=True),
                                 # samples the DDGR replay
                                 *drift_metrics(reference_stream=bm.test_stream, features="identity", n_per_class=10,
                                                suite=SuiteConfig(real_acc_epochs=1, otdd=False, umap=False)),
                                 loggers=[tb, JSONLinesLogger(log_dir / "metrics.jsonl")])
    strategy = Naive(model=model, optimizer=torch.optim.SGD(model.parameters(), lr=0.05),
                     criterion=torch.nn.CrossEntropyLoss(), train_mb_size=128, train_epochs=1,
                     plugins=[DDGRPlugin(ddpm, replay_per_class=2, guidance_scale=0.0, generator_steps=2)],
                     evaluator=evaluator)
    iterations = []
    for exp in bm.train_stream:
        strategy.train(exp)
        iterations.append(strategy.clock.train_iterations)
        strategy.eval(bm.test_stream)
    tb.writer.flush()
    return SimpleNamespace(dir=log_dir, iterations=iterations, first_class=bm.classes_per_experience[0][0],
                           split=[sorted(c) for c in bm.classes_per_experience])


def test_naive_ddgr_plugin_accuracy_and_drift_share_avalanche_x_in_tensorboard(api_run):
    """Avalanche's accuracy and the drift curves are at Avalanche's x (training iterations so far),
    so they overlay; metrics.jsonl maps both back to experiences; the per-class CFID layout (custom
    scalars) is written once."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from tensorboard.plugins.custom_scalar import layout_pb2, metadata

    iterations = api_run.iterations
    acc = EventAccumulator(str(api_run.dir), size_guidance={"scalars": 0, "tensors": 0})
    acc.Reload()
    assert 0 < iterations[0] < iterations[1]
    stream_acc = "Top1_Acc_Stream/eval_phase/test_stream"
    assert _scalars(acc, stream_acc)[1] == iterations  # Avalanche's own x ...
    for tag in ("FID_identity/train_phase/train_stream",
                f"CFID_identity/train_phase/train_stream/Class{api_run.first_class:03d}",  # seen from experience 0
                "RealAcc/train_phase/train_stream"):
        assert _scalars(acc, tag)[1] == iterations, tag  # ... is the drift curves' x
    # metrics.jsonl maps both back to experiences
    table = metric_table(read_metrics(api_run.dir / "metrics.jsonl"))
    assert sorted(table[stream_acc]) == sorted(table["FID_identity/train_phase/train_stream"]) == [0, 1]
    # the per-class CFID chart: one custom-scalars layout event, one multi-line chart of every class
    layouts = [layout_pb2.Layout.FromString(e.tensor_proto.string_val[0])
               for e in acc.Tensors(metadata.CONFIG_SUMMARY_TAG)]
    assert len(layouts) == 1
    (chart,) = layouts[0].category[0].chart
    assert chart.title == "CFID_identity"
    (regex,) = chart.multiline.tag
    tags = [t for t in acc.Tags()["scalars"] if re.search(regex, t)]
    assert sorted(tags) == [f"CFID_identity/train_phase/train_stream/Class{c:03d}" for c in range(10)]
    # the margin charts: each value between its interval bounds
    margins = {c.title: c.margin.series[0] for cat in layouts[0].category[1:] for c in cat.chart}
    assert (margins["FID_identity"].value, margins["FID_identity"].lower, margins["FID_identity"].upper) == (
        "FID_identity/train_phase/train_stream", "FID_identity_lo/train_phase/train_stream",
        "FID_identity_hi/train_phase/train_stream")


def test_report_of_an_api_run_shows_accuracy_forgetting_drift_and_grids_per_experience(api_run):
    """The report reads a plain script's log dir (no config.json): Avalanche's accuracy and
    forgetting beside the drift panels, the per-class CFID heatmap, the classes of each experience,
    and one labelled sample grid per experience (not per training iteration)."""
    from bootdrift_avalanche.experiments.report import write_report

    page = write_report(api_run.dir).read_text()
    figures = {p.name for p in (api_run.dir / "figures").glob("*.png")}
    assert {"Top1_Acc_Stream.png", "StreamForgetting.png", "FID.png", "CFID.png", "RealAcc.png",
            "CFID_identity_per_class.png", "Samples_000.png", "Samples_001.png"} <= figures
    assert "no config.json" in page
    split = "; ".join(f"{k}: {', '.join(map(str, cs))}" for k, cs in enumerate(api_run.split))
    assert f"<td>{split}</td>" in page
    grids = page[page.index("<h2>Samples</h2>"):]
    assert grids.count("<br/>experience ") == 2 and "experience 0" in grids and "experience 1" in grids


def test_every_k_evaluates_every_kth_and_the_last_experience_and_keeps_the_seen_classes():
    stream = _stream(0, classes=((0, 1), (2, 3), (4, 5), (6, 7)))
    for i, exp in enumerate(stream):
        exp.origin_stream = stream  # Avalanche experiences know their stream
    gen = _FrozenGaussians()
    comp = DriftComputation(stream, _QUIET,
                            generator=gen, features="identity", n_per_class=10, every=2)
    metric = FIDMetric(comp)
    logged, results = {}, {}
    for k in range(4):
        logged[k] = metric.after_training_exp(_strategy(stream[k], k))
        results[k] = metric.result()
        if k == 2:
            _, at2 = comp.result(_strategy(stream[k], k))  # the values computed at experience 2
    assert [k for k, mvs in logged.items() if mvs] == [0, 2, 3]  # 0, 2 by the rule; 3 is the last
    assert logged[1] == [] and results[1] is None and results[2] is not None
    assert {int(k[-3:]) for k in at2.scalars if "/Class" in k} == {0, 1, 2, 3, 4, 5}  # exp 1's classes too
    with pytest.raises(ValueError, match="every must be >= 1"):
        DriftComputation(stream, SuiteConfig(intervals=0), every=0)

"""Each bad input a new user tries on a small Avalanche script gives one clear error (or warning)
before any training iteration, or before the solver sees a bad replay; nothing is scored silently
wrong. One test per case."""
import pytest
import torch
from avalanche.core import SupervisedPlugin
from avalanche.models import SimpleMLP
from avalanche.training.plugins import EvaluationPlugin
from avalanche.training.supervised import Naive

from bootdrift_avalanche.benchmarks import split_digits
from bootdrift_avalanche.benchmarks.digits import load_digits_tensors
from bootdrift_avalanche.benchmarks.split import tensors_class_incremental
from bootdrift_avalanche.experiments.config import PRESETS
from bootdrift_avalanche.generators.contract import GeneratorOutputError, ValueStats, check_output, scale_problem
from bootdrift_avalanche.generators.ddpm import DDPMGenerator
from bootdrift_avalanche.metrics import SuiteConfig
from bootdrift_avalanche.plugins import DDGRPlugin, DGRPlugin, drift_metrics

BM = split_digits(n_experiences=2)
MEAN, STD = 0.3, 0.38  # about Split Digits' pixel mean and std


class UserGenerator:
    """A user's class-conditional generator: good samples (real images of the class) until it has been
    fitted, then broken as ``mode`` says (``good`` stays good); ``mode_now`` breaks it from the start."""

    def __init__(self, mode="good", *, mode_now=None):
        x, y, _, _ = load_digits_tensors(image_size=8, test_size=0.2)
        self.x, self.y = x, y
        self.mode, self.now = mode, mode_now
        self.fits = 0

    def generate(self, labels, *, seed=None):
        g = torch.Generator().manual_seed(seed or 0)
        out = torch.stack([self.x[self.y == int(c)][int(torch.randint(10, (1,), generator=g))] for c in labels])
        mode = self.now or (self.mode if self.fits else "good")
        if mode == "nan":
            out[0, 0, 0, 0] = float("nan")
        elif mode == "short":
            out = out[:-1]
        elif mode == "byte":
            out = out * 255
        elif mode == "sym":
            out = out * 2 - 1
        elif mode == "list":
            out = list(out)
        elif mode == "shape":
            out = out[:, :, :4, :4]
        elif mode == "normalised":
            out = (out - MEAN) / STD
        return out

    def fit(self, x, y, *, steps=None, progress=False):
        self.fits += 1
        return self


def _naive(plugins=(), metrics=(), x_shape=64):
    model = SimpleMLP(num_classes=10, input_size=x_shape, hidden_size=16)
    return Naive(model=model, optimizer=torch.optim.SGD(model.parameters(), lr=0.1),
                 criterion=torch.nn.CrossEntropyLoss(), train_mb_size=32, train_epochs=1, plugins=list(plugins),
                 evaluator=EvaluationPlugin(*metrics, loggers=[]))


def _train_all(strategy, stream=BM.train_stream):
    for exp in stream:
        strategy.train(exp)


def _normalised_digits():
    x_tr, y_tr, x_te, y_te = load_digits_tensors(image_size=8, test_size=0.2)
    return tensors_class_incremental((x_tr - MEAN) / STD, y_tr, (x_te - MEAN) / STD, y_te, n_experiences=2, seed=0)


# ---- 1. replay plugins refuse broken generator output before the solver sees it ----------------------
@pytest.mark.parametrize("mode,match", [
    ("nan", r"NaN or Inf"),
    ("short", r"shape \(39, 1, 8, 8\) for 40 label"),
    ("byte", r"look \[0, 255\].*real data is \[0, 1\].*value_range=\(0, 1\)"),
    ("list", r"returned a list.*torch.stack"),
])
def test_replay_plugin_refuses_a_broken_replay_before_the_solver_trains_on_it(mode, match):
    gen = UserGenerator(mode)
    strategy = _naive([DGRPlugin(gen, replay_per_class=8, seed=0)])
    strategy.train(BM.train_stream[0])
    before = [p.detach().clone() for p in strategy.model.parameters()]
    iterations = strategy.clock.train_iterations
    with pytest.raises(GeneratorOutputError, match=match) as err:
        strategy.train(BM.train_stream[1])
    assert "DGRPlugin's generator UserGenerator" in str(err.value)
    assert strategy.clock.train_iterations == iterations  # no iteration of experience 1 ran
    assert all(torch.equal(a, b) for a, b in zip(before, strategy.model.parameters()))


def test_replay_plugin_probes_a_user_generator_before_the_first_experience():
    strategy = _naive([DGRPlugin(UserGenerator(mode_now="shape"), seed=0)])
    with pytest.raises(GeneratorOutputError, match=r"samples of shape \(1, 4, 4\).*\(1, 8, 8\)"):
        strategy.train(BM.train_stream[0])
    assert strategy.clock.train_iterations == 0


def test_a_good_user_generator_replays_without_complaint():
    strategy = _naive([DGRPlugin(UserGenerator("good"), replay_per_class=4, seed=0)])
    _train_all(strategy)
    assert strategy.clock.train_exp_counter == 2


# ---- 2. a wrong value range is refused, not scored as a plausible number -----------------------------
def test_drift_metrics_refuse_a_minus_one_one_generator_against_a_zero_one_reference():
    metrics = drift_metrics(reference_stream=BM.test_stream, generator=UserGenerator(mode_now="sym"), n_per_class=5,
                            features="random", suite=SuiteConfig(real_accuracy=False, samples=False))
    with pytest.raises(GeneratorOutputError, match=r"look \[-1, 1\].*real data is \[0, 1\].*value_range=\(0, 1\)"):
        _train_all(_naive(metrics=metrics))


def test_drift_metrics_refuse_a_zero_one_generator_against_a_normalised_reference():
    bm = _normalised_digits()
    metrics = drift_metrics(reference_stream=bm.test_stream, generator=UserGenerator(mode_now="good"), n_per_class=5,
                            features="random", suite=SuiteConfig(real_accuracy=False, samples=False))
    strategy = _naive(metrics=metrics)
    with pytest.raises(GeneratorOutputError, match=r"look \[0, 1\].*normalised per channel.*value_range=\(-0.7"):
        strategy.train(bm.train_stream[0])
    assert strategy.clock.train_iterations == 0


def test_drift_metrics_refuse_a_generator_that_turns_to_another_scale_after_training():
    """The probe passes (the generator is good before training); the evaluation's check refuses it."""
    metrics = drift_metrics(reference_stream=BM.test_stream, generator=UserGenerator("normalised"), n_per_class=5,
                            features="random", suite=SuiteConfig(real_accuracy=False, samples=False))
    gen = metrics[0].computation.generator

    class FitFirst(SupervisedPlugin):  # the user's own training of the generator, after the probe
        def before_training_exp(self, strategy, **kwargs):
            gen.fit(None, None)

    strategy = _naive(metrics=metrics)
    strategy.plugins.append(FitFirst())  # after the evaluator: the probe sees the generator before it fits
    with pytest.raises(GeneratorOutputError, match=r"look normalised per channel.*real data is \[0, 1\]") as err:
        strategy.train(BM.train_stream[0])
    assert "probed" not in str(err.value)  # refused by the evaluation's own check


@pytest.mark.parametrize("x,ok", [("same", True), ("noise", True), ("constant", True)])
def test_the_scale_check_leaves_poor_generators_on_the_right_scale_alone(x, ok):
    xs, _, _, _ = load_digits_tensors(image_size=8, test_size=0.2)
    ref = ValueStats.of(xs[:300])
    samples = {"same": xs[300:400], "noise": torch.rand(100, 1, 8, 8), "constant": torch.full((100, 1, 8, 8), 0.5)}[x]
    assert (scale_problem(samples, ref) is None) == ok


# ---- 3. what can be checked before training is checked before training --------------------------------
def test_no_generator_on_the_strategy_fails_before_the_first_iteration():
    strategy = _naive(metrics=drift_metrics(reference_stream=BM.test_stream, n_per_class=5, features="random"))
    with pytest.raises(LookupError, match="found no generator on Naive"):
        strategy.train(BM.train_stream[0])
    assert strategy.clock.train_iterations == 0


def test_a_misspelled_feature_extractor_fails_when_the_metrics_are_built():
    with pytest.raises(ValueError, match=r"unknown features 'inceptoin' \(did you mean 'inception'\?\)"):
        drift_metrics(reference_stream=BM.test_stream, features="inceptoin")


def test_a_missing_weights_file_fails_when_the_metrics_are_built(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    monkeypatch.delenv("BOOTDRIFT_INCEPTION_WEIGHTS", raising=False)
    with pytest.raises(FileNotFoundError, match=r"InceptionV3 weights file .* is missing"):
        drift_metrics(reference_stream=BM.test_stream, features="inception")


def test_a_reference_stream_without_a_train_class_fails_before_training():
    only_first = split_digits(n_experiences=2).test_stream[:1]  # the classes of experience 0 only
    strategy = _naive([DGRPlugin(UserGenerator(), seed=0)],
                      drift_metrics(reference_stream=only_first, n_per_class=5, features="random"))
    with pytest.raises(ValueError, match=r"reference stream has no sample of class \d, which the train stream"):
        strategy.train(BM.train_stream[0])
    assert strategy.clock.train_iterations == 0


def _reference_with(n_of_class0):
    x_tr, y_tr, x_te, y_te = load_digits_tensors(image_size=8, test_size=0.2)
    keep = torch.cat([torch.nonzero(y_te == 0).flatten()[:n_of_class0], torch.nonzero(y_te != 0).flatten()])
    return tensors_class_incremental(x_tr, y_tr, x_te[keep], y_te[keep], n_experiences=2, seed=0,
                                     fixed_class_order=list(range(10)))


def test_a_class_with_one_reference_image_fails_before_training_and_does_not_ask_for_more_n_per_class():
    bm = _reference_with(1)
    strategy = _naive([DGRPlugin(UserGenerator(), seed=0)],
                      drift_metrics(reference_stream=bm.test_stream, n_per_class=5, features="random"))
    with pytest.raises(ValueError, match=r"has 1 sample of class 0.*raising n_per_class cannot help"):
        strategy.train(bm.train_stream[0])
    assert strategy.clock.train_iterations == 0


def test_a_class_with_two_reference_images_warns_that_n_per_class_cannot_help():
    bm = _reference_with(2)
    metrics = drift_metrics(reference_stream=bm.test_stream, n_per_class=20, features="random")
    strategy = _naive([DGRPlugin(UserGenerator(), seed=0)])
    strategy.experience = bm.train_stream[0]  # where before_training_exp finds it
    with pytest.warns(RuntimeWarning, match=r"only 2 samples of class 0.*raising n_per_class cannot help"):
        metrics[0].computation.check(strategy)


@pytest.mark.parametrize("mode,match", [
    ("nan", r"NaN or Inf"),
    ("short", r"shape \(1, 1, 8, 8\) for 2 label"),
    ("list", r"returned a list"),
    ("shape", r"samples of shape \(1, 4, 4\)"),
])
def test_a_broken_user_generator_given_to_the_drift_metrics_fails_before_training(mode, match):
    strategy = _naive(metrics=drift_metrics(reference_stream=BM.test_stream, generator=UserGenerator(mode_now=mode),
                                            n_per_class=5, features="random"))
    with pytest.raises(GeneratorOutputError, match=match):
        strategy.train(BM.train_stream[0])
    assert strategy.clock.train_iterations == 0


def test_a_normalised_stream_with_a_default_ddpm_names_value_range_before_training():
    bm = _normalised_digits()
    ddpm = DDPMGenerator(PRESETS["tiny"].ddpm_config(image_shape=(1, 8, 8), num_classes=10))
    strategy = _naive([DGRPlugin(ddpm, seed=0)])
    with pytest.raises(ValueError, match=r"outside the generator's value_range=\(0.0, 1.0\).*"
                                         r"build it with value_range=\(-0.7"):
        strategy.train(bm.train_stream[0])
    assert strategy.clock.train_iterations == 0


# ---- 6. messages ------------------------------------------------------------------------------------------
def test_the_ddgr_plugin_names_each_generate_keyword_once():
    class NoGuidance:
        def generate(self, labels, *, seed=None):
            return torch.zeros(len(labels), 1, 8, 8)

        def fit(self, x, y, **kw):
            return self

    with pytest.raises(TypeError, match=r"generate\(labels, seed=, guidance=, guidance_scale=") as err:
        DDGRPlugin(NoGuidance())
    assert "seed=, seed=" not in str(err.value)


def test_check_output_keeps_good_samples_and_casts_them():
    out = check_output(torch.zeros(3, 1, 8, 8, dtype=torch.float64), torch.tensor([0, 1, 2]), who="g")
    assert out.dtype == torch.float32 and out.shape == (3, 1, 8, 8)


def test_the_generative_replay_helper_prints_no_logger_warning_of_its_own_vae():
    import warnings

    from bootdrift_avalanche.strategies import avalanche_generative_replay

    model = SimpleMLP(num_classes=10, input_size=64)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        avalanche_generative_replay(model=model, optimizer=torch.optim.SGD(model.parameters(), lr=0.1),
                                    criterion=torch.nn.CrossEntropyLoss(), image_shape=(1, 8, 8),
                                    evaluator=EvaluationPlugin(loggers=[_Quiet()]))
    assert not [w for w in caught if "No loggers specified" in str(w.message)]


class _Quiet:
    """A logger that logs nothing (so the user's own evaluator has one)."""

    def log_single_metric(self, *a, **k):
        pass

    def log_metrics(self, *a, **k):
        pass

    def __getattr__(self, name):  # every before_/after_ callback: nothing to do
        if name.startswith(("before_", "after_")):
            return lambda *a, **k: None
        raise AttributeError(name)


def test_metric_table_given_a_path_says_to_read_it_first(tmp_path):
    from bootdrift_avalanche.logging import metric_table

    with pytest.raises(TypeError, match=r"metric_table\(read_metrics\('.*m.jsonl'\)\)"):
        metric_table(str(tmp_path / "m.jsonl"))


def test_the_small_sample_warning_does_not_only_ask_for_more_n_per_class():
    from bootdrift_avalanche.metrics.features import make_extractor
    from bootdrift_avalanche.metrics.suite import DriftSuite, SuiteConfig

    x = torch.randn(8, 2)
    y = torch.arange(8) % 2
    suite = DriftSuite(make_extractor("identity"), SuiteConfig(real_accuracy=False, samples=False, otdd=False,
                                                               intervals=0))
    with pytest.warns(RuntimeWarning, match="needs a reference stream with more"):
        suite.evaluate(x, y, x.clone(), y)

"""The text loop's real-vs-real floor: the word statistics' floor is the same statistic of the real
training text against the held-out text (same at every stage), the excess is value − floor, a
generator that returns the real training text has excess 0, the encoder distances get no floor, and a
floor set that cannot be the floor fails before training."""
import pytest
import torch

from bootdrift_avalanche.bootstrap import run_bootstrap
from bootdrift_avalanche.experiments.bootstrap import run_bootstrap_experiment
from bootdrift_avalanche.experiments.config import BootstrapConfig
from bootdrift_avalanche.logging import metric_table, read_metrics
from bootdrift_avalanche.text.corpus import text_dir_corpus
from bootdrift_avalanche.text.encoder import EncoderConfig
from bootdrift_avalanche.text.stats import tail_tokens, text_statistics
from bootdrift_avalanche.text.suite import FLOORED, TextDriftSuite
from bootdrift_avalanche.text.tokens import tokenize_corpus
from bootdrift_avalanche.text.topic_accuracy import topic_accuracy

from .test_text_loop import _write_dir


def test_the_loop_logs_the_floor_and_excess_of_the_word_statistics(tmp_path):
    d = _write_dir(tmp_path / "d", topics=3)
    cfg = BootstrapConfig(generator="ngram", data="textfile", text_dir=str(d), stages=2, regime="replace",
                          preset="tiny", progress=False)
    result = run_bootstrap_experiment(cfg, tmp_path / "run")
    t = tokenize_corpus(text_dir_corpus(d), chunk_len=8)
    floor = text_statistics(t.x_test, t.x_train, tail_tokens(t.x_train, t.vocab_size), t.vocab_size)  # real vs real
    ceiling = topic_accuracy(t.x_train, t.y_train, t.x_test, t.y_test, t.vocab_size)[0]
    assert floor["UnigramJSD"] > 0 and floor["BigramJSD"] > 0
    for st in result.stages:
        for name in FLOORED:
            assert st[f"{name}_floor"] == pytest.approx(floor[name], rel=1e-12)
            assert st[f"{name}_excess"] == st[name] - st[f"{name}_floor"]
        assert st["RealAcc_ceiling"] == pytest.approx(ceiling)
        assert not [k for k in st if k.startswith(("FID_enc_", "CFID_enc_", "OTDD_enc_"))]  # no floor of theirs
    logged = metric_table(read_metrics(tmp_path / "run" / "metrics.jsonl"))
    assert {"UnigramJSD_floor", "UnigramJSD_excess", "BigramJSD_excess", "RealAcc_ceiling"} <= {
        n.split("/")[0] for n in logged}


class Copy:
    """Returns the real training chunks of the asked labels, in order: a generator at its floor."""

    def __init__(self, x, y):
        self.x, self.y = x, y

    def fit(self, x, y, **kw):
        return self

    def generate(self, labels, *, seed=None, **kw):
        assert torch.equal(labels, self.y)
        return self.x.clone()


def _suite_and_data(tmp_path):
    t = tokenize_corpus(text_dir_corpus(_write_dir(tmp_path / "d", topics=3)), chunk_len=8)
    suite = TextDriftSuite(t.x_train, t.y_train, t.vocab_size, len(t.topics), decode=t.decode,
                           encoder=EncoderConfig(width=8, epochs=1))
    return t, suite


def test_a_generator_of_the_real_training_text_has_no_excess_and_a_drifting_one_has_some(tmp_path):
    t, suite = _suite_and_data(tmp_path)
    train, test = (t.x_train, t.y_train), (t.x_test, t.y_test)
    perfect = run_bootstrap(lambda s: Copy(*train), train, test, stages=2, regime="replace", suite=suite,
                            floor_set=train, progress=False)
    for st in perfect.stages:
        assert st["UnigramJSD_excess"] == 0.0 and st["BigramJSD_excess"] == 0.0
    suite.intervals = 6  # with the bootstrap intervals: the floor's own, and the excess's holding 0
    st = run_bootstrap(lambda s: Copy(*train), train, test, stages=1, suite=suite, floor_set=train,
                       progress=False).stages[0]
    for name in FLOORED:
        assert st[f"{name}_floor_lo"] < st[f"{name}_floor"] < st[f"{name}_floor_hi"]
        assert st[f"{name}_excess_lo"] < 0.0 < st[f"{name}_excess_hi"]
    assert st["RealAcc_ceiling_lo"] <= st["RealAcc_ceiling"] <= st["RealAcc_ceiling_hi"]
    suite.intervals = 0
    g = torch.Generator().manual_seed(0)
    noise = torch.randint(2, t.vocab_size, t.x_train.shape, generator=g)
    drift = run_bootstrap(lambda s: Copy(noise, t.y_train), train, test, stages=1, suite=suite, floor_set=train,
                          progress=False)
    assert drift.stages[0]["UnigramJSD_excess"] > 0.05 and drift.stages[0]["BigramJSD_excess"] > 0.05


def test_a_floor_set_that_cannot_be_the_floor_fails_before_training(tmp_path):
    t, suite = _suite_and_data(tmp_path)
    train, test = (t.x_train, t.y_train), (t.x_test, t.y_test)
    with pytest.raises(ValueError, match="as many real rows of every class as the training set"):
        run_bootstrap(lambda s: pytest.fail("trained"), train, test, stages=1, suite=suite,
                      floor_set=(t.x_test, t.y_test), progress=False)

    with pytest.raises(ValueError, match="intervals must be 0"):
        TextDriftSuite(t.x_train, t.y_train, t.vocab_size, 3, decode=t.decode, intervals=1)

    class NoFloor:
        floored = ()

    with pytest.raises(ValueError, match="needs the suite to name its floored values"):
        run_bootstrap(lambda s: pytest.fail("trained"), train, test, stages=1, suite=NoFloor(), floor_set=train,
                      progress=False)
    cfg = BootstrapConfig(generator="ngram", data="textfile", text_dir=str(tmp_path / "d"), stages=1, preset="tiny",
                          floor_n=2, progress=False)
    with pytest.raises(ValueError, match="--floor-n does not apply"):
        run_bootstrap_experiment(cfg, tmp_path / "run")
    assert not (tmp_path / "run").exists()

"""The language-model loop (bootdrift_avalanche.text): corpora in their on-disk layouts, word-token
chunks, the n-gram and GPT-2 generators, the text metrics, the tail closed form, and the loop through
the CLI and the experiment layer on a few hundred words (tiny preset: 8-token chunks, 2 stages)."""
import random

import numpy as np
import pytest
import torch

from bootdrift_avalanche.benchmarks.errors import MissingDataError
from bootdrift_avalanche.cli import main
from bootdrift_avalanche.experiments.bootstrap import run_bootstrap_experiment
from bootdrift_avalanche.experiments.config import BootstrapConfig
from bootdrift_avalanche.logging import metric_table, read_metrics
from bootdrift_avalanche.text.corpus import (pydoc_corpus, split_by_paragraph, text_dir_corpus, text_file_corpus,
                                             wikitext_corpus)
from bootdrift_avalanche.text.ngram import NGramConfig, NGramGenerator
from bootdrift_avalanche.text.stats import distinct, jsd, tail_survival, tail_tokens, zipf_exponent
from bootdrift_avalanche.text.tail_theory import expected_tail_survival
from bootdrift_avalanche.text.tokens import PAD_ID, UNK_ID, chunk, tokenize_corpus

WORDS = ("alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho sigma tau "
         "upsilon phi chi psi omega").split()
METRICS = {"Perplexity", "FID_enc", "CFID_enc", "OTDD_enc", "RealAcc", "RealAccChance", "UnigramJSD", "BigramJSD",
           "TailSurvival", "Distinct1", "Distinct2", "Zipf", "DriftTime"}


def _topic_text(seed, paragraphs=10, words=12):
    """``paragraphs`` blank-line separated paragraphs of Zipf-ish words, one vocabulary slant per seed."""
    rng = random.Random(seed)
    vocab = WORDS[seed % 5:] + [f"rare{seed}_{i}" for i in range(6)]
    weights = [1.0 / (i + 1) for i in range(len(vocab))]
    return "\n\n".join(" ".join(rng.choices(vocab, weights, k=words)) + " ." for _ in range(paragraphs))


def _write_dir(root, topics=2):
    root.mkdir()
    for t in range(topics):
        (root / f"topic{t}.txt").write_text(_topic_text(t), encoding="utf-8")
    return root


def test_split_by_paragraph_holds_out_every_fifth_from_the_third():
    text = "\n\n".join(f"p{i}" for i in range(12))
    train, test = split_by_paragraph([text, "a\n\nb\n\nc"])
    assert [p for _, p in test] == ["p2", "p7", "c"]
    assert [p for t, p in train if t == 0] == [f"p{i}" for i in range(12) if i % 5 != 2]


def test_pydoc_corpus_every_topic_in_both_splits():
    c = pydoc_corpus()
    assert len(c.topics) == 79
    assert {t for t, _ in c.train} == {t for t, _ in c.test} == set(range(79))


def test_text_file_dir_and_wikitext_layouts(tmp_path):
    f = tmp_path / "one.txt"
    f.write_text(_topic_text(0), encoding="utf-8")
    assert text_file_corpus(f).topics == ("one",)
    d = text_dir_corpus(_write_dir(tmp_path / "dir", topics=3))
    assert d.topics == ("topic0", "topic1", "topic2") and len(d.test) == 3 * 2
    w = tmp_path / "wikitext-2-raw"
    w.mkdir()
    body = " = Title = \n\n first paragraph words here . \n\n second one , more words . \n"
    for name in ("wiki.train.raw", "wiki.valid.raw", "wiki.test.raw"):
        (w / name).write_text(body if name != "wiki.test.raw" else " held out words .\n", encoding="utf-8")
    wc = wikitext_corpus(w)
    assert [p for _, p in wc.train] == ["first paragraph words here .", "second one , more words ."]
    assert [p for _, p in wc.test] == ["held out words ."]
    (w / "wiki.valid.raw").unlink()
    with pytest.raises(MissingDataError, match="wiki.valid.raw"):
        wikitext_corpus(w)
    with pytest.raises(MissingDataError, match="missing.txt"):
        text_file_corpus(tmp_path / "missing.txt")
    with pytest.raises(MissingDataError, match=r"\*\.txt"):
        text_dir_corpus(tmp_path / "nowhere")


def test_cli_missing_text_data_is_one_clear_error(tmp_path, capsys):
    assert main(["bootstrap", "--data", "wikitext", "--data-root", str(tmp_path), "--generator", "ngram",
                 "--preset", "tiny", "--run-dir", str(tmp_path / "run"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "wiki.train.raw" in err and "How to supply it" in err
    assert main(["bootstrap", "--data", "textfile", "--generator", "ngram", "--preset", "tiny",
                 "--run-dir", str(tmp_path / "run2"), "--quiet"]) == 2
    assert "--text-file" in capsys.readouterr().err
    assert not (tmp_path / "run").exists() and not (tmp_path / "run2").exists()


def test_chunks_pad_the_last_and_unknown_words_are_unk(tmp_path):
    c = text_dir_corpus(_write_dir(tmp_path / "d"))
    t = tokenize_corpus(c, chunk_len=8)
    assert t.x_train.shape[1] == 8 and t.x_train.dtype == torch.int64
    assert (t.x_train != UNK_ID).all()  # every training word is in the vocabulary
    words = sum(len(p.split()) for _, p in c.train)
    assert int((t.x_train != PAD_ID).sum()) == words  # no word dropped, the rest is padding
    x, y = chunk([(0, "alpha beta never_seen_word")], 1, t.tokenizer, 8)
    assert x[0, 2] == UNK_ID and (x[0, 3:] == PAD_ID).all() and y.tolist() == [0]


def _tokens(tmp_path):
    return tokenize_corpus(text_dir_corpus(_write_dir(tmp_path / "d", topics=3)), chunk_len=8)


def test_ngram_mle_samples_only_seen_ngrams_and_add_k_adds_new_ones(tmp_path):
    t = _tokens(tmp_path)
    cfg = NGramConfig(vocab_size=t.vocab_size, num_topics=3, chunk_len=8, order=2)
    g = NGramGenerator(cfg).fit(t.x_train, t.y_train)
    x = g.generate(t.y_train, seed=0)
    assert x.shape == t.x_train.shape and torch.equal(x, g.generate(t.y_train, seed=0))
    seen = {(int(c), int(a), int(b)) for row, c in zip(t.x_train, t.y_train) for a, b in zip(row[:-1], row[1:])}
    pairs = {(int(c), int(a), int(b)) for row, c in zip(x, t.y_train) for a, b in zip(row[:-1], row[1:])}
    assert pairs <= seen  # maximum likelihood: nothing the training text lacks
    smoothed = NGramGenerator(NGramConfig(vocab_size=t.vocab_size, num_topics=3, chunk_len=8, order=2, add_k=1.0))
    xs = smoothed.fit(t.x_train, t.y_train).generate(t.y_train, seed=0)
    assert not {(int(c), int(a), int(b)) for row, c in zip(xs, t.y_train) for a, b in zip(row[:-1], row[1:])} <= seen
    assert 1.0 < g.perplexity(t.x_train, t.y_train) < g.perplexity(t.x_test, t.y_test)
    one = NGramGenerator(NGramConfig(vocab_size=4, num_topics=1, chunk_len=4, order=1, score_k=0.5))
    one.fit(torch.tensor([[2, 2, 3, PAD_ID]]), torch.tensor([0]))  # counts 2: 2, 3: 1, [PAD]: 1
    expected = np.exp(-np.mean(np.log([2.5 / 6, 1.5 / 6, 0.5 / 6])))  # add-0.5 over 4 types; [PAD] not scored
    assert one.perplexity(torch.tensor([[2, 3, UNK_ID, PAD_ID]]), torch.tensor([0])) == pytest.approx(expected)
    restored = NGramGenerator(cfg)
    restored.load_state_dict(g.state_dict())
    assert torch.equal(restored.generate(t.y_train, seed=3), g.generate(t.y_train, seed=3))


def test_text_statistics():
    x = torch.tensor([[2, 3, 4, 0], [2, 2, 5, 0]])
    assert distinct(x, 6) == {"Distinct1": 4 / 6, "Distinct2": 4 / 4}
    assert jsd([1, 2, 3], [2, 4, 6]) == pytest.approx(0.0, abs=1e-12) and jsd([1, 0], [0, 1]) == pytest.approx(1.0)
    assert zipf_exponent(np.array([1000.0 / r ** 1.5 for r in range(1, 200)])) == pytest.approx(1.5, rel=1e-6)
    tail = tail_tokens(torch.tensor([[2, 2, 2, 3, 3, 4, 5, 6, 7, 8, 9, 10, 11]]), 12, fraction=0.2)
    assert tail.tolist() == [4, 5]  # ten types, the two rarest (count 1, ties by id)
    assert tail_survival(torch.tensor([[4, 2, 0]]), tail, 12) == 0.5


def test_truncated_closed_form_matches_the_full_chain():
    from bootdrift_avalanche.bootstrap.theory import categorical_closed_form

    p = np.array([1 / 400, 2 / 400, 397 / 400])
    full = categorical_closed_form(p, 400, 5)
    cut = categorical_closed_form(p, 400, 5, max_count=60)
    err = np.abs(cut["p_lost"] - full["p_lost"])
    assert np.all(err <= cut["truncated_mass"] + 1e-12)  # the dropped mass bounds the error
    assert cut["truncated_mass"][:2].max() < 1e-9 and cut["truncated_mass"][2, 1] > 0.99
    assert not full["truncated_mass"].any()


def test_unigram_tail_survival_matches_the_closed_form(tmp_path):
    """Order-1 n-gram, replace loop, 3 stages, 300 seeds: the mean TailSurvival per stage lies within
    4 standard errors of the categorical closed form."""
    t = _tokens(tmp_path)
    tail = tail_tokens(t.x_train, t.vocab_size, fraction=0.3)
    cfg = NGramConfig(vocab_size=t.vocab_size, num_topics=3, chunk_len=8, order=1)
    runs = []
    for seed in range(300):
        x, r = t.x_train, []
        for s in range(3):
            x = NGramGenerator(cfg).fit(x, t.y_train).generate(t.y_train, seed=seed * 10 + s)
            r.append(tail_survival(x, tail, t.vocab_size))
        runs.append(r)
    runs = np.array(runs)
    theory = expected_tail_survival(t.x_train, t.y_train, tail, t.vocab_size, 3)
    se = runs.std(axis=0, ddof=1) / np.sqrt(len(runs))
    assert theory[0] > theory[2] + 0.05  # the tail does disappear here
    assert np.all(np.abs(runs.mean(axis=0) - theory) < 4 * se + 1e-9), (runs.mean(axis=0), theory, se)


class _Recorder:
    """Wraps a generator factory: the training set of every fit, in order."""

    def __init__(self, monkeypatch, cls):
        self.sets = []
        fit = cls.fit

        def recording_fit(gen, x, y, **kw):
            self.sets.append((x.clone(), y.clone()))
            return fit(gen, x, y, **kw)

        monkeypatch.setattr(cls, "fit", recording_fit)


@pytest.mark.parametrize("regime", ["replace", "accumulate"])
def test_each_stage_trains_on_what_the_regime_prescribes_and_logs_every_metric(tmp_path, monkeypatch, regime):
    rec = _Recorder(monkeypatch, NGramGenerator)
    samples = []
    cfg = BootstrapConfig(generator="ngram", data="textfile", text_dir=str(_write_dir(tmp_path / "d")), stages=2,
                          regime=regime, preset="tiny", progress=False)
    result = run_bootstrap_experiment(cfg, tmp_path / "run", on_stage=lambda s, x, y, v: samples.append((x, y)))
    (x0, y0), (x1, y1) = rec.sets
    real = tokenize_corpus(text_dir_corpus(tmp_path / "d"), chunk_len=8)
    assert torch.equal(x0, real.x_train) and torch.equal(y0, real.y_train)
    syn_x, syn_y = samples[0]
    assert syn_x.dtype == torch.int64 and torch.equal(syn_y, real.y_train)
    if regime == "replace":
        assert torch.equal(x1, syn_x) and torch.equal(y1, syn_y)
    else:
        assert torch.equal(x1, torch.cat([real.x_train, syn_x])) and torch.equal(y1, torch.cat([real.y_train, syn_y]))
    table = metric_table(read_metrics(tmp_path / "run" / "metrics.jsonl"))
    logged = {name.split("/")[0] for name in table}
    assert METRICS <= logged
    for name, per_stage in table.items():
        assert sorted(per_stage) == [0, 1], name
    assert [set(s) for s in result.stages][0] == set(result.stages[1])
    assert (tmp_path / "run" / "tb").is_dir() and any((tmp_path / "run" / "tb").iterdir())


def test_gpt2_loop_through_the_cli_resumes_to_the_same_values(tmp_path, monkeypatch):
    pytest.importorskip("transformers")
    d = _write_dir(tmp_path / "d")
    args = ["bootstrap", "--data", "textfile", "--text-dir", str(d), "--generator", "gpt2", "--stages", "2",
            "--regime", "accumulate", "--preset", "tiny", "--quiet"]
    assert main(args + ["--run-dir", str(tmp_path / "full")]) == 0
    full = metric_table(read_metrics(tmp_path / "full" / "metrics.jsonl"))
    assert METRICS <= {n.split("/")[0] for n in full} and all(sorted(v) == [0, 1] for v in full.values())
    # Interrupt a second run after stage 0's checkpoint: stage 1's fit fails once.
    from bootdrift_avalanche.text.gpt2 import GPT2TextGenerator

    fit, calls = GPT2TextGenerator.fit, []

    def failing_fit(gen, x, y, **kw):
        calls.append(len(x))
        if len(calls) == 2:
            raise KeyboardInterrupt
        return fit(gen, x, y, **kw)

    monkeypatch.setattr(GPT2TextGenerator, "fit", failing_fit)
    with pytest.raises(KeyboardInterrupt):
        main(args + ["--run-dir", str(tmp_path / "cut")])
    monkeypatch.setattr(GPT2TextGenerator, "fit", fit)
    assert main(["bootstrap", "--resume", str(tmp_path / "cut"), "--quiet"]) == 0
    cut = metric_table(read_metrics(tmp_path / "cut" / "metrics.jsonl"))
    for name, per_stage in full.items():
        if not name.startswith("DriftTime"):
            assert cut[name] == pytest.approx(per_stage, rel=1e-6, abs=1e-9), name

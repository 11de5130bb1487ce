"""The text drift suite: every per-stage value of the language-model loop, under the image
metrics' names where the concept is the same, returned as ``metrics.suite.DriftValues`` and logged
by the same ``log_values`` (TensorBoard, ``metrics.jsonl``, the report).

Of generated chunks (synthetic) against the real held-out chunks:

* ``FID_enc``, ``CFID_enc`` (+ ``CFID_enc/Class003`` per topic), ``OTDD_enc``: the package's
  Fréchet distance, per-topic Fréchet distance (CFID's analogue) and OTDD on (feature, topic), on
  the mean-pooled hidden states of the fixed encoder trained once on the real training text
  (``text.encoder``). CFID and OTDD score the topics with at least 2 held-out chunks (a covariance
  needs 2 rows; with the pydoc split and 32-token chunks: 57 of 79 topics), FID every chunk.
* ``RealAcc`` / ``RealAccChance``: topic classifier trained on the synthetic text, tested on the
  real held-out text (``text.topic_accuracy``), and 1 / number of topics.
* ``UnigramJSD``, ``BigramJSD``, ``TailSurvival``, ``Distinct1``, ``Distinct2``, ``Zipf``
  (``text.stats``).
* ``Perplexity`` (:meth:`TextDriftSuite.model_metrics`, of the stage's **model** rather than its
  samples): the model's perplexity on the real held-out text (the maximum-likelihood view of drift).
* ``Samples``: a figure with generated chunks of the first topics (TensorBoard image, report).
* ``DriftTime``: seconds the sample-based values took.

**Floor** (``FLOORED``, read by the loop's ``floor_set``): the word statistics' real-vs-real floor is
the same statistic of a disjoint real text of the synthetic set's n against the same reference
(the experiment layer gives the real training text). The encoder distances get none: the encoder
trains on all the training text, so no unseen real text of that n exists (docs/TEXT_LOOP.md).
With ``intervals``, the floored values get the bootstrap ``_lo``/``_hi`` of ``metrics.intervals``
(chunks of both sets resampled within each topic), centred on the value: the JSDs' plug-in bias
is shared by value and floor at the same n, and the bootstrap's bias correction overshoots it
(docs/TEXT_LOOP.md); RealAcc gets its Wilson interval, as in the image suite.
"""
from __future__ import annotations

import textwrap
import time
from typing import Callable, Dict, Optional, Sequence

import torch
from torch import Tensor

from ..metrics.cfid import cfid
from ..metrics.fid import frechet_distance
from ..metrics.intervals import bootstrap, bounds_names, check_intervals, wilson
from ..metrics.otdd import otdd
from ..metrics.suite import DriftValues
from ..runtime.seeds import seed_for
from .encoder import EncoderConfig, train_text_encoder
from .stats import tail_tokens, text_statistics, word_jsds
from .topic_accuracy import topic_accuracy

__all__ = ["TextDriftSuite", "FLOORED"]

#: the values whose real-vs-real floor any real text disjoint from the reference gives (no learned features)
FLOORED = ("UnigramJSD", "BigramJSD")


def _scorable(y: Tensor, n_min: int = 2) -> Tensor:
    """Mask of the rows whose topic has at least ``n_min`` rows."""
    counts = torch.bincount(y)
    return counts[y] >= n_min


class TextDriftSuite:
    """Drift values of generated token chunks against real held-out chunks (module docstring).

    Args:
        x_train, y_train: the real training chunks (the encoder and the tail are fitted on them).
        vocab_size, num_topics: of the tokenized corpus.
        decode: ``ids -> str`` for the samples figure; topics: the topic names (its labels).
        encoder: sizes of the fixed encoder; seed: run seed (encoder, OTDD subsample).
        otdd_max_samples: exact OTDD on at most this many chunks per set.
        intervals: bootstrap replicates of the 95 % intervals of the floored values (0: none).
    """

    def __init__(self, x_train: Tensor, y_train: Tensor, vocab_size: int, num_topics: int, *,
                 decode: Callable[[Tensor], str], topics: Sequence[str] = (), encoder: EncoderConfig = EncoderConfig(),
                 seed: int = 0, otdd_max_samples: Optional[int] = 2000, intervals: int = 0) -> None:
        check_intervals(intervals)
        self.vocab_size, self.num_topics, self.decode, self.seed = vocab_size, num_topics, decode, seed
        self.intervals = intervals
        self.topics = tuple(topics)
        self.otdd_max_samples = otdd_max_samples
        self.tail = tail_tokens(x_train, vocab_size)
        self.extractor = train_text_encoder(x_train, y_train, vocab_size, num_topics, encoder, seed=seed)

    floored = FLOORED

    @property
    def feature_name(self) -> str:
        return self.extractor.name

    def real_features(self, real_x: Tensor) -> Tensor:
        return self.extractor(real_x)

    def model_metrics(self, real_x: Tensor, real_y: Tensor) -> Callable[[object], Dict[str, float]]:
        """``generator -> {"Perplexity": its perplexity on (real_x, real_y)}``."""
        return lambda generator: {"Perplexity": float(generator.perplexity(real_x, real_y))}

    def evaluate(self, real_x: Tensor, real_y: Tensor, syn_x: Tensor, syn_y: Tensor, *,
                 real_features: Optional[Tensor] = None, extra=None, title: str = "") -> DriftValues:
        """Every sample-based value of (syn_x, syn_y) against (real_x, real_y)."""
        t0 = time.perf_counter()
        syn_x, real_x = syn_x.long(), real_x.long()
        if syn_x.dim() != 2 or syn_x.shape[1] != real_x.shape[1]:
            raise ValueError(f"synthetic chunks have shape {tuple(syn_x.shape)}, real ones {tuple(real_x.shape)}"
                             + (f" ({title})" if title else ""))
        out = DriftValues()
        rf = self.extractor(real_x) if real_features is None else real_features
        sf = self.extractor(syn_x)
        out.scalars[f"FID_{self.feature_name}"] = float(frechet_distance(rf, sf))
        keep_r, keep_s = _scorable(real_y), _scorable(syn_y)
        r = cfid(rf[keep_r], real_y[keep_r], sf[keep_s], syn_y[keep_s])
        out.scalars[f"CFID_{self.feature_name}"] = float(r.mean)
        for c, v in sorted(r.per_class.items()):
            out.scalars[f"CFID_{self.feature_name}/Class{int(c):03d}"] = float(v)
        common = torch.isin(real_y, syn_y[keep_s]) & keep_r
        out.scalars[f"OTDD_{self.feature_name}"] = float(otdd(
            rf[common], real_y[common], sf[keep_s & torch.isin(syn_y, real_y[common])],
            syn_y[keep_s & torch.isin(syn_y, real_y[common])], max_samples=self.otdd_max_samples,
            seed=seed_for("drift.otdd", seed=self.seed)))
        acc, chance = topic_accuracy(syn_x, syn_y, real_x, real_y, self.vocab_size)
        out.scalars["RealAcc"], out.scalars["RealAccChance"] = acc, chance
        out.scalars.update(text_statistics(real_x, syn_x, self.tail, self.vocab_size))
        if self.intervals:
            out.scalars.update(bounds_names(bootstrap(
                lambda a, ya, b, yb: word_jsds(a, b, self.vocab_size), real_x, real_y, syn_x, syn_y,
                estimate={k: out.scalars[k] for k in FLOORED}, replicates=self.intervals,
                seed=seed_for("drift.intervals", seed=self.seed), centred=lambda name: True)))
            out.scalars.update(bounds_names({"RealAcc": wilson(acc * len(real_y), len(real_y))}))
        if extra is not None:
            out.scalars.update({k: float(v) for k, v in extra(syn_x, syn_y).items()})
        out.figures["Samples"] = self._samples_figure(syn_x, syn_y, title)
        out.scalars["DriftTime"] = time.perf_counter() - t0
        return out

    def _samples_figure(self, x: Tensor, y: Tensor, title: str, topics: int = 4):
        """One generated chunk of each of the first ``topics`` topics present, as wrapped text."""
        from matplotlib.figure import Figure

        lines = []
        for c in torch.unique(y)[:topics].tolist():
            text = self.decode(x[torch.nonzero(y == c)[0, 0]])
            name = self.topics[c] if c < len(self.topics) else f"topic {c}"
            lines += [f"{name}:"] + textwrap.wrap(text, 100)[:4] + [""]
        fig = Figure(figsize=(8, 0.14 * len(lines) + 0.3))
        fig.text(0.01, 0.98, "\n".join(([f"generated text, {title}"] if title else []) + lines), va="top",
                 ha="left", family="monospace", fontsize=7)
        return fig

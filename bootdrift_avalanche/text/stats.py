"""Count statistics of token chunks: how far generated text has drifted from real text.

All of them skip ``[PAD]`` (the end-of-text filler, ``tokens.PAD_ID``); bigrams are pairs of
adjacent non-padding tokens within one chunk. Names as logged by the text drift suite:

* ``UnigramJSD`` / ``BigramJSD``: Jensen-Shannon divergence (base 2, in [0, 1]) between the
  token (bigram) frequencies of the generated and of the real held-out text
  (``scipy.spatial.distance.jensenshannon``, squared: scipy returns its square root).
* ``TailSurvival``: the share of the **tail** of the real training text's vocabulary, its rarest
  decile of word types (:func:`tail_tokens`), that still occurs at least once in the generated
  text (Shumailov et al. 2024's "disappearing tails"; its expectation under the categorical
  theory: ``text.tail_theory``).
* ``Distinct1`` / ``Distinct2``: distinct tokens (bigrams) over all tokens (bigrams) of the
  generated text (Li et al. 2016).
* ``Zipf``: the exponent s of rank-frequency f(r) ~ r^(-s), least squares of log f on log r
  over every type of the generated text.
"""
from __future__ import annotations

from typing import Dict

import numpy as np
import torch
from torch import Tensor

from .tokens import PAD_ID

__all__ = ["unigram_counts", "bigram_counts", "jsd", "word_jsds", "tail_tokens", "tail_survival", "distinct",
           "zipf_exponent", "text_statistics", "TAIL_FRACTION"]

#: The tail is this fraction of the training vocabulary's types, the rarest ones.
TAIL_FRACTION = 0.1


def unigram_counts(x: Tensor, vocab_size: int) -> np.ndarray:
    """(vocab_size,) token counts of chunks ``x`` (padding left out)."""
    ids = x.reshape(-1)
    c = torch.bincount(ids[ids != PAD_ID], minlength=vocab_size).numpy()
    return c.astype(np.float64)


def bigram_counts(x: Tensor, vocab_size: int) -> Dict[int, int]:
    """{a * vocab_size + b: count} of adjacent non-padding pairs within each chunk."""
    a, b = x[:, :-1].reshape(-1), x[:, 1:].reshape(-1)
    keep = (a != PAD_ID) & (b != PAD_ID)
    keys, counts = torch.unique(a[keep] * vocab_size + b[keep], return_counts=True)
    return dict(zip(keys.tolist(), counts.tolist()))


def jsd(p, q) -> float:
    """Jensen-Shannon divergence (base 2) of two count vectors (normalised here)."""
    from scipy.spatial.distance import jensenshannon

    p, q = np.asarray(p, dtype=np.float64), np.asarray(q, dtype=np.float64)
    if p.sum() <= 0 or q.sum() <= 0:
        return 1.0
    return float(jensenshannon(p, q, base=2)) ** 2


def _bigram_jsd(a: Dict[int, int], b: Dict[int, int]) -> float:
    keys = sorted(set(a) | set(b))
    return jsd([a.get(k, 0) for k in keys], [b.get(k, 0) for k in keys])


def tail_tokens(x_train: Tensor, vocab_size: int, fraction: float = TAIL_FRACTION) -> Tensor:
    """The rarest ``fraction`` of the word types of ``x_train`` (by count, ties broken by id, so the
    set is fixed): a 1-D tensor of token ids."""
    counts = unigram_counts(x_train, vocab_size)
    types = np.nonzero(counts > 0)[0]
    order = types[np.lexsort((types, counts[types]))]
    return torch.from_numpy(order[:max(1, int(round(fraction * len(types))))].copy())


def tail_survival(x_syn: Tensor, tail: Tensor, vocab_size: int) -> float:
    """Share of the ``tail`` token ids that occur in ``x_syn``."""
    return float((unigram_counts(x_syn, vocab_size)[tail.numpy()] > 0).mean())


def distinct(x: Tensor, vocab_size: int) -> Dict[str, float]:
    """Distinct-1 and Distinct-2 of chunks ``x``."""
    uni, bi = unigram_counts(x, vocab_size), bigram_counts(x, vocab_size)
    return {"Distinct1": float((uni > 0).sum() / max(uni.sum(), 1)),
            "Distinct2": float(len(bi) / max(sum(bi.values()), 1))}


def zipf_exponent(counts: np.ndarray) -> float:
    """s of f(r) ~ r^(-s): minus the least-squares slope of log count on log rank."""
    f = np.sort(counts[counts > 0])[::-1]
    if len(f) < 2:
        return float("nan")
    r = np.arange(1, len(f) + 1)
    return float(-np.polyfit(np.log(r), np.log(f), 1)[0])


def word_jsds(x_real: Tensor, x_syn: Tensor, vocab_size: int) -> Dict[str, float]:
    """``UnigramJSD`` and ``BigramJSD`` of ``x_syn`` against ``x_real`` (the two-set statistics)."""
    return {"UnigramJSD": jsd(unigram_counts(x_real, vocab_size), unigram_counts(x_syn, vocab_size)),
            "BigramJSD": _bigram_jsd(bigram_counts(x_real, vocab_size), bigram_counts(x_syn, vocab_size))}


def text_statistics(x_real: Tensor, x_syn: Tensor, tail: Tensor, vocab_size: int) -> Dict[str, float]:
    """Every count statistic of the module docstring, of ``x_syn`` against ``x_real``."""
    return {**word_jsds(x_real, x_syn, vocab_size), "TailSurvival": tail_survival(x_syn, tail, vocab_size),
            **distinct(x_syn, vocab_size), "Zipf": zipf_exponent(unigram_counts(x_syn, vocab_size))}

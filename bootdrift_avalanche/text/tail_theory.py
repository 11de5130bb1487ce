"""The categorical closed form's prediction of ``TailSurvival`` for the n-gram loop (replace regime).

At ``order = 1`` the topic-conditional n-gram model is, for every topic c, a categorical
distribution over the vocabulary fitted by maximum likelihood to its n_c = (chunks of c) x
(chunk length) tokens, ``[PAD]`` included; under the replace regime each stage draws exactly n_c
tokens of topic c from the previous fit and refits: the Wright-Fisher chain of
``bootstrap.theory.categorical``, with fit 0 = the real training frequencies p_c. Stage s's samples
are draws from fit s + 1's counts, so a token w is absent from all of stage s's text with probability
prod_c P_c(w lost by fit s + 1) (topics are independent chains), and

    E[TailSurvival_s] = mean over tail tokens w of (1 - prod_c p_lost(p_c,w, n_c, s + 1)).

Only the tail tokens' chains are needed, each followed on counts 0 .. ``MAX_COUNT`` (exact up to
the dropped mass, checked below 1e-9): the closed form treats every category on its own (a
multinomial's marginal), so each topic's other tokens are merged into one category. For ``order >=
2`` the same formula is an approximation (a token's count then also depends on how often its
contexts are drawn), which ``examples/text_bootstrap.py`` measures.
"""
from __future__ import annotations

import numpy as np
from torch import Tensor

from ..bootstrap.theory.categorical import categorical_closed_form

__all__ = ["expected_tail_survival"]

#: The chains of tail tokens (counts 1 or 2 in pydoc) are followed on counts 0 .. MAX_COUNT: the
#: mass they leave there within a few stages is below 1e-9 (checked), and the exact chain on all
#: n_c + 1 counts of a large topic would take far longer and far more memory (n_c in the thousands).
MAX_COUNT = 100


def expected_tail_survival(x_train: Tensor, y_train: Tensor, tail: Tensor, vocab_size: int, stages: int) -> np.ndarray:
    """(stages,) E[TailSurvival] at stages 0 .. stages - 1 of the replace loop (module docstring)."""
    tail_ids = tail.numpy()
    log_kept_absent = np.zeros((len(tail_ids), stages))  # sum_c log P_c(lost) per tail token and stage
    for c in np.unique(y_train.numpy()):
        rows = x_train[y_train == int(c)].reshape(-1).numpy()
        n = len(rows)
        counts = np.bincount(rows, minlength=vocab_size)[tail_ids].astype(np.float64)
        present = counts > 0
        if not present.any():
            continue
        p = counts[present] / n
        probs = np.append(p, max(0.0, 1.0 - p.sum()))  # the topic's other tokens as one category
        cf = categorical_closed_form(probs / probs.sum(), n, stages, max_count=MAX_COUNT)
        if cf["truncated_mass"][:-1].max() > 1e-9:
            raise ValueError(f"topic {int(c)}: a tail token's count may exceed {MAX_COUNT} within {stages} stages; "
                             "the truncated closed form does not apply")
        lost = cf["p_lost"][:-1, 1:]
        log_kept_absent[present] += np.log(np.clip(lost, 1e-300, 1.0))
    return 1.0 - np.exp(log_kept_absent).mean(axis=0)

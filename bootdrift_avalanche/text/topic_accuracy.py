"""Real-data accuracy for text (the analogue of ``RealAcc``): a topic classifier trained on synthetic
chunks only and tested on real held-out chunks.

The classifier is scikit-learn's complement naive Bayes on bags of words (Rennie et al. 2003, the
naive Bayes variant made for text with unbalanced classes; deterministic and far cheaper than a
TF-IDF logistic regression of about the same accuracy, docs/TEXT_LOOP.md): it asks whether the
generated text of a topic still carries the words that tell the topics apart.
Chance is ``1 / number of topics in the synthetic set``, as for images.
"""
from __future__ import annotations

from typing import Tuple

import numpy as np
from torch import Tensor

from .tokens import PAD_ID

__all__ = ["bag_of_words", "topic_accuracy"]


def bag_of_words(x: Tensor, vocab_size: int):
    """Sparse (N, vocab_size) token counts of chunks ``x`` (padding left out)."""
    from scipy.sparse import csr_matrix

    ids = x.long().numpy()
    rows = np.repeat(np.arange(len(ids)), ids.shape[1])
    keep = ids.ravel() != PAD_ID
    return csr_matrix((np.ones(int(keep.sum())), (rows[keep], ids.ravel()[keep])), shape=(len(ids), vocab_size))


def topic_accuracy(
    x_syn: Tensor, y_syn: Tensor, x_real: Tensor, y_real: Tensor, vocab_size: int
) -> Tuple[float, float]:
    """(accuracy on the real chunks, chance level) of a classifier fitted on the synthetic chunks."""
    from sklearn.naive_bayes import ComplementNB

    ys = y_syn.numpy()
    classes = np.unique(ys)
    if len(classes) < 2:  # one topic: the classifier can only answer it
        return float((y_real.numpy() == classes[0]).mean()), 1.0
    clf = ComplementNB(alpha=1.0).fit(bag_of_words(x_syn, vocab_size), ys)
    acc = float((clf.predict(bag_of_words(x_real, vocab_size)) == y_real.numpy()).mean())
    return acc, 1.0 / len(classes)

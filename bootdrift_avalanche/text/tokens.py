"""Word tokens and fixed-length chunks: the samples the language-model loop trains and scores on.

The loop's regimes (``bootstrap.regimes``) treat a sample as one row of a tensor, so text enters the
loop as ``(N, chunk_len)`` int64 token ids with the topic as the label. :func:`tokenize_corpus`:

1. trains a word-level tokenizer (Hugging Face ``tokenizers``: ``WordLevel`` model, ``Whitespace``
   pre-tokenizer = runs of word characters or of punctuation; case kept) on the **training**
   paragraphs only; every training word is in the vocabulary, held-out words it never saw become
   ``[UNK]``;
2. joins each topic's paragraphs of a split in document order into one token stream and cuts it into
   chunks of ``chunk_len`` tokens; a topic's last, shorter chunk is filled up with ``[PAD]`` (so no
   text is dropped and every topic has at least one chunk in each split).

Every generator (n-gram, GPT-2) models these ids and every text metric counts them, so the models
and metrics of a run share one alphabet, and the categorical theory of an n-gram applies to the very
tokens the metrics count (words, not sub-word pieces). ``[PAD]`` (id 0) marks the end of a topic's
text; the metrics skip it. ``[UNK]`` (id 1) occurs only in held-out text.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Sequence, Tuple

import torch
from torch import Tensor

from .corpus import Pairs, TopicCorpus

__all__ = ["PAD", "UNK", "PAD_ID", "UNK_ID", "TokenizedText", "tokenize_corpus", "train_tokenizer", "chunk"]

PAD, UNK = "[PAD]", "[UNK]"
PAD_ID, UNK_ID = 0, 1


@dataclass
class TokenizedText:
    """A tokenized corpus: train/test chunks ``(N, L)`` int64 with topic labels ``(N,)``."""

    x_train: Tensor
    y_train: Tensor
    x_test: Tensor
    y_test: Tensor
    topics: Tuple[str, ...]
    tokenizer: object  # tokenizers.Tokenizer

    @property
    def vocab_size(self) -> int:
        return int(self.tokenizer.get_vocab_size())

    def decode(self, ids: Sequence[int]) -> str:
        """Text of one chunk (padding left out)."""
        return self.tokenizer.decode([int(i) for i in ids if int(i) != PAD_ID])


def train_tokenizer(texts: Sequence[str]):
    """A word-level ``tokenizers.Tokenizer`` whose vocabulary is every word of ``texts`` (ids 0, 1 are
    ``[PAD]``, ``[UNK]``; then by decreasing frequency, as ``WordLevelTrainer`` orders them)."""
    from tokenizers import Tokenizer
    from tokenizers.models import WordLevel
    from tokenizers.pre_tokenizers import Whitespace
    from tokenizers.trainers import WordLevelTrainer

    tok = Tokenizer(WordLevel(unk_token=UNK))
    tok.pre_tokenizer = Whitespace()
    tok.train_from_iterator(texts, WordLevelTrainer(special_tokens=[PAD, UNK], min_frequency=1, show_progress=False))
    if tok.token_to_id(PAD) != PAD_ID or tok.token_to_id(UNK) != UNK_ID:
        raise RuntimeError("tokenizers put the special tokens at unexpected ids")
    return tok


def chunk(pairs: Pairs, n_topics: int, tokenizer, chunk_len: int) -> Tuple[Tensor, Tensor]:
    """``(N, chunk_len)`` ids and ``(N,)`` topics: each topic's paragraphs (in order) as one token
    stream cut into chunks, the last one padded."""
    if chunk_len < 2:
        raise ValueError(f"chunk_len must be at least 2 tokens, got {chunk_len}")
    streams: Dict[int, List[int]] = {t: [] for t in range(n_topics)}
    encoded = tokenizer.encode_batch([p for _, p in pairs])
    for (topic, _), enc in zip(pairs, encoded):
        streams[topic].extend(enc.ids)
    rows, labels = [], []
    for topic, ids in streams.items():
        for start in range(0, len(ids), chunk_len):
            piece = ids[start:start + chunk_len]
            rows.append(piece + [PAD_ID] * (chunk_len - len(piece)))
            labels.append(topic)
    return torch.tensor(rows, dtype=torch.int64), torch.tensor(labels, dtype=torch.int64)


def tokenize_corpus(corpus: TopicCorpus, chunk_len: int) -> TokenizedText:
    """Tokenizer trained on ``corpus.train``; both splits as chunks (module docstring)."""
    tok = train_tokenizer([p for _, p in corpus.train])
    k = len(corpus.topics)
    x_tr, y_tr = chunk(corpus.train, k, tok, chunk_len)
    x_te, y_te = chunk(corpus.test, k, tok, chunk_len)
    return TokenizedText(x_tr, y_tr, x_te, y_te, corpus.topics, tok)

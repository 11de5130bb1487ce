"""A topic-conditional count-based n-gram language model: the generator of the text loop whose
maximum-likelihood fit is exactly the categorical model of ``bootstrap.theory.categorical``.
How it works, its cost and its choices: ``docs/TEXT_LOOP.md`` (implementation notes).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Optional

import numpy as np
import torch
from torch import Tensor

from .tokens import PAD_ID

__all__ = ["NGramConfig", "NGramGenerator"]


@dataclass(frozen=True)
class NGramConfig:
    """Sizes of :class:`NGramGenerator`."""

    vocab_size: int
    num_topics: int
    chunk_len: int
    order: int = 2  # n: 1 = unigram per topic, 2 = bigram, ...
    add_k: float = 0.0  # sampling smoothing; 0 = maximum likelihood (the categorical theory)
    score_k: float = 0.1  # smoothing of the held-out perplexity only

    def __post_init__(self) -> None:
        if self.order < 1:
            raise ValueError(f"order must be >= 1, got {self.order}")
        if self.add_k < 0 or self.score_k <= 0:
            raise ValueError(f"need add_k >= 0 and score_k > 0, got add_k={self.add_k}, score_k={self.score_k}")
        if (self.num_topics + 1) * (self.vocab_size + 1) ** self.order >= 2 ** 62:
            raise ValueError(
                f"order {self.order} with a vocabulary of {self.vocab_size} overflows the int64 n-gram keys"
            )


class NGramGenerator:
    """Generator protocol (``fit(x, y)``, ``generate(labels, *, seed=None)``, ``state_dict``) for
    token chunks ``(N, chunk_len)`` with topic labels; see ``docs/TEXT_LOOP.md``."""

    def __init__(self, cfg: NGramConfig) -> None:
        self.cfg = cfg
        self.bos = cfg.vocab_size  # context id before a chunk's start (never a sampled token)
        self.tables: list = []  # per context length m = order-1 .. 0: (keys, totals, cum, next_tokens)

    # --- counting -----------------------------------------------------------------------------
    def _contexts(self, x: np.ndarray, m: int) -> np.ndarray:
        """(N, L, m) the m tokens before each position ([BOS]-padded)."""
        padded = np.concatenate([np.full((len(x), m), self.bos, dtype=np.int64), x], axis=1)
        shifted = [padded[:, j:j + x.shape[1]] for j in range(m)] or [np.empty(x.shape, np.int64)]
        return np.stack(shifted, axis=2)[..., :m]

    def _key(self, topic: np.ndarray, ctx: np.ndarray) -> np.ndarray:
        key = topic.astype(np.int64)
        for j in range(ctx.shape[-1]):
            key = key * (self.cfg.vocab_size + 1) + ctx[..., j]
        return key

    def fit(self, x: Tensor, y: Tensor, *, steps=None, progress: bool = False) -> "NGramGenerator":
        """Count the n-grams of chunks ``x`` (N, L) of topics ``y`` (N,)."""
        xs = np.asarray(x.long().cpu().numpy())
        ys = np.asarray(y.long().cpu().numpy())
        if xs.ndim != 2 or xs.shape[1] != self.cfg.chunk_len or len(ys) != len(xs):
            raise ValueError(f"fit takes (N, {self.cfg.chunk_len}) token ids and N topics, got {tuple(xs.shape)} "
                             f"and {tuple(ys.shape)}")
        if xs.min() < 0 or xs.max() >= self.cfg.vocab_size:
            raise ValueError(f"token ids must lie in [0, {self.cfg.vocab_size}), got [{xs.min()}, {xs.max()}]")
        topic = np.broadcast_to(ys[:, None], xs.shape)
        self.tables = []
        for m in range(self.cfg.order - 1, -1, -1):
            key = self._key(topic, self._contexts(xs, m)).ravel()
            pairs, counts = np.unique(np.stack([key, xs.ravel()], 1), axis=0, return_counts=True)
            ctx_keys, start = np.unique(pairs[:, 0], return_index=True)
            cum = np.cumsum(counts)
            totals = np.diff(np.append(start, len(counts)))  # number of next-token types per context
            self.tables.append({"keys": ctx_keys, "start": start, "types": totals, "cum": cum,
                                "next": pairs[:, 1].copy(), "counts": counts})
        return self

    # --- lookups ------------------------------------------------------------------------------
    def _rows(self, table: dict, keys: np.ndarray):
        """Index of each context key in ``table`` and whether it is there."""
        pos = np.searchsorted(table["keys"], keys).clip(max=len(table["keys"]) - 1)
        return pos, table["keys"][pos] == keys

    def _count(self, table: dict, pos: np.ndarray, found: np.ndarray, w: Optional[np.ndarray] = None):
        """Context totals c(t, h) (and c(t, h, w) when ``w`` is given) for rows ``pos``."""
        s, e = table["start"][pos], table["start"][pos] + table["types"][pos]
        before = np.where(s > 0, table["cum"][np.maximum(s - 1, 0)], 0)
        total = np.where(found, table["cum"][e - 1] - before, 0)
        if w is None:
            return total
        # the pair (context, w) sits in [s, e) sorted by w
        nxt = table["next"]
        idx = np.array([s[i] + np.searchsorted(nxt[s[i]:e[i]], w[i]) for i in range(len(w))], dtype=np.int64)
        hit = found & (idx < e) & (nxt[np.minimum(idx, len(nxt) - 1)] == w)
        return total, np.where(hit, table["counts"][np.minimum(idx, len(nxt) - 1)], 0)

    def generate(self, labels: Tensor, *, seed: Optional[int] = None, temperature: float = 1.0) -> Tensor:
        """One chunk ``(chunk_len,)`` per topic label: ``(N, chunk_len)`` int64. ``temperature`` != 1
        draws from counts^(1/temperature) (the sampling-bias knob; < 1 sharpens, favouring the
        head of every distribution)."""
        if not self.tables:
            raise RuntimeError("the n-gram model is not fitted")
        if temperature <= 0:
            raise ValueError(f"temperature must be positive, got {temperature}")
        rng = np.random.default_rng(seed)
        topics = np.asarray(labels.long().cpu().numpy())
        n, L, V, k = len(topics), self.cfg.chunk_len, self.cfg.vocab_size, self.cfg.add_k
        out = np.zeros((n, L), dtype=np.int64)
        hist = np.full((n, self.cfg.order - 1), self.bos, dtype=np.int64)
        for t in range(L):
            w = np.full(n, -1, dtype=np.int64)
            for level, table in enumerate(self.tables):  # longest context first, back off when unseen
                m = self.cfg.order - 1 - level
                todo = np.nonzero(w < 0)[0]
                if len(todo) == 0:
                    break
                pos, found = self._rows(table, self._key(topics[todo], hist[todo, self.cfg.order - 1 - m:]))
                ok = found if level < len(self.tables) - 1 else np.ones_like(found)
                todo, pos, found = todo[ok], pos[ok], found[ok]
                w[todo] = self._draw(table, pos, found, rng, temperature)
                if k > 0:  # add-k: with probability kV / (c + kV) a uniform token instead
                    c = self._count(table, pos, found)
                    uniform = rng.random(len(todo)) < k * V / (c + k * V)
                    w[todo[uniform]] = rng.integers(0, V, int(uniform.sum()))
            out[:, t] = w
            if self.cfg.order > 1:
                hist = np.concatenate([hist[:, 1:], w[:, None]], axis=1)
        return torch.from_numpy(out)

    @staticmethod
    def _draw(table: dict, pos: np.ndarray, found: np.ndarray, rng, temperature: float) -> np.ndarray:
        """A next token from the counts of each row (a row of an unseen unigram context: -1)."""
        s, types = table["start"][pos], table["types"][pos]
        if temperature == 1.0:
            before = np.where(s > 0, table["cum"][np.maximum(s - 1, 0)], 0)
            total = table["cum"][s + types - 1] - before
            u = before + np.floor(rng.random(len(pos)) * total).astype(np.int64)
            return np.where(found, table["next"][np.searchsorted(table["cum"], u, side="right")], -1)
        out = np.full(len(pos), -1, dtype=np.int64)
        for i in np.nonzero(found)[0]:  # tempered: per row (the bias knob is a side experiment)
            c = table["counts"][s[i]:s[i] + types[i]].astype(np.float64) ** (1.0 / temperature)
            out[i] = table["next"][s[i] + rng.choice(types[i], p=c / c.sum())]
        return out

    def perplexity(self, x: Tensor, y: Tensor) -> float:
        """exp of the mean negative log-likelihood of the non-padding tokens of chunks ``x`` (topics
        ``y``) under the longest-context counts smoothed add-``score_k`` (``docs/TEXT_LOOP.md``)."""
        if not self.tables:
            raise RuntimeError("the n-gram model is not fitted")
        xs, ys = np.asarray(x.long().cpu().numpy()), np.asarray(y.long().cpu().numpy())
        table, m = self.tables[0], self.cfg.order - 1
        keys = self._key(np.broadcast_to(ys[:, None], xs.shape), self._contexts(xs, m)).ravel()
        w = xs.ravel()
        keep = w != PAD_ID
        pos, found = self._rows(table, keys[keep])
        total, c = self._count(table, pos, found, w[keep])
        k, V = self.cfg.score_k, self.cfg.vocab_size
        return float(np.exp(-np.mean(np.log((c + k) / (total + k * V)))))

    def state_dict(self) -> dict:
        return {"config": asdict(self.cfg), "tables": [{k: v.copy() for k, v in t.items()} for t in self.tables]}

    def load_state_dict(self, state: dict) -> None:
        if state["config"] != asdict(self.cfg):
            raise ValueError(f"n-gram state of config {state['config']} does not fit this model's {asdict(self.cfg)}")
        self.tables = [{k: np.asarray(v) for k, v in t.items()} for t in state["tables"]]

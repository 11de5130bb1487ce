"""The fixed text encoder of the text drift metrics (the text analogue of the ``clf`` features).

A small network (word embedding -> 1-D convolution over 3 tokens -> GELU) whose hidden states,
mean-pooled over a chunk's non-padding tokens, are the features of FID / CFID / OTDD on text. It is
trained **once**, on the real training chunks only, as a topic classifier (a linear head on the
pooled state), and then frozen: generated text and real held-out text are scored in one fixed space
that no synthetic text ever shaped, as the image metrics' classifier features are. The feature
extractor protocol of ``metrics.features`` (callable ``x -> (N, d)`` with a ``name``) holds, so the
package's FID, CFID and OTDD code scores these features unchanged.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from ..runtime.seeds import seed_for
from .tokens import PAD_ID

__all__ = ["EncoderConfig", "TextEncoder", "train_text_encoder"]


@dataclass(frozen=True)
class EncoderConfig:
    width: int = 64  # embedding and hidden width = feature dimension
    epochs: int = 8
    batch_size: int = 64
    lr: float = 3e-3


class TextEncoder(nn.Module):
    """Embedding -> Conv1d(k=3) -> GELU -> masked mean pool (the features) -> linear topic head."""

    name = "enc"

    def __init__(self, vocab_size: int, num_topics: int, width: int = 64) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab_size, width, padding_idx=PAD_ID)
        self.conv = nn.Conv1d(width, width, kernel_size=3, padding=1)
        self.head = nn.Linear(width, num_topics)

    def pooled(self, x: Tensor) -> Tensor:
        h = nn.functional.gelu(self.conv(self.embed(x).transpose(1, 2))).transpose(1, 2)  # (N, L, d)
        mask = (x != PAD_ID).unsqueeze(-1).float()
        return (h * mask).sum(1) / mask.sum(1).clamp(min=1.0)

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.pooled(x))


class _Features:
    """The frozen encoder as a feature extractor: ``x (N, L) ids -> (N, width)`` float32 features."""

    def __init__(self, encoder: TextEncoder, batch_size: int = 512) -> None:
        self.encoder, self.batch_size = encoder.eval(), batch_size
        self.name = encoder.name

    @torch.no_grad()
    def __call__(self, x: Tensor) -> Tensor:
        return torch.cat([self.encoder.pooled(x[i:i + self.batch_size].long())
                          for i in range(0, len(x), self.batch_size)]).float()


def train_text_encoder(x: Tensor, y: Tensor, vocab_size: int, num_topics: int, cfg: EncoderConfig = EncoderConfig(),
                       *, seed: int = 0) -> _Features:
    """Train :class:`TextEncoder` on real chunks ``x`` with topics ``y``; returns the frozen feature
    extractor (``name = "enc"``)."""
    torch.manual_seed(seed_for("text.encoder", seed=seed))
    enc = TextEncoder(vocab_size, num_topics, cfg.width)
    opt = torch.optim.Adam(enc.parameters(), lr=cfg.lr)
    g = torch.Generator().manual_seed(seed_for("text.encoder.batches", seed=seed))
    x, y = x.long(), y.long()
    for _ in range(cfg.epochs):
        perm = torch.randperm(len(x), generator=g)
        for i in range(0, len(x), cfg.batch_size):
            idx = perm[i:i + cfg.batch_size]
            loss = nn.functional.cross_entropy(enc(x[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    for p in enc.parameters():
        p.requires_grad_(False)
    return _Features(enc)

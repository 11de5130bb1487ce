"""A small GPT-2 (Hugging Face ``transformers``) trained from scratch: the text loop's neural generator.

``transformers.GPT2LMHeadModel`` with a ``GPT2Config`` sized for the CPU (a few layers, width 128 in
``cpu-small``) over the run's word tokens (``text.tokens``; the vocabulary is the training text's,
so n-gram and GPT-2 samples are scored in the same units) plus one **topic prefix token** per
topic (ids ``vocab_size + topic``): a training sequence is ``[topic] w_1 .. w_L`` and the loss is the
next-token cross-entropy on w_1 .. w_L. Sampling (``transformers``' ``generate``) starts from the
topic token, draws exactly L tokens and never a topic token; ``temperature`` and ``top_p`` are the
sampling-bias knobs (1.0 and 1.0: ancestral sampling, the model's own distribution).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Optional

import torch
from torch import Tensor

from ..runtime.seeds import seed_for
from .tokens import PAD_ID

__all__ = ["GPT2TextConfig", "GPT2TextGenerator"]


@dataclass(frozen=True)
class GPT2TextConfig:
    vocab_size: int
    num_topics: int
    chunk_len: int
    n_layer: int = 2
    n_embd: int = 128
    n_head: int = 4
    dropout: float = 0.1
    train_steps: int = 300
    batch_size: int = 32
    lr: float = 2e-3
    warmup_steps: int = 30
    temperature: float = 1.0
    top_p: float = 1.0
    sample_batch_size: int = 512
    seed: int = 0
    device: str = "cpu"


class GPT2TextGenerator:
    """Generator protocol for token chunks with topic labels (module docstring)."""

    def __init__(self, cfg: GPT2TextConfig) -> None:
        from transformers import GPT2Config, GPT2LMHeadModel

        self.cfg = cfg
        torch.manual_seed(seed_for("text.gpt2.init", seed=cfg.seed))
        self.model = GPT2LMHeadModel(GPT2Config(
            vocab_size=cfg.vocab_size + cfg.num_topics, n_positions=cfg.chunk_len + 1, n_embd=cfg.n_embd,
            n_layer=cfg.n_layer, n_head=cfg.n_head, resid_pdrop=cfg.dropout, embd_pdrop=cfg.dropout,
            attn_pdrop=cfg.dropout, bos_token_id=None, eos_token_id=None, pad_token_id=PAD_ID,
            loss_type="ForCausalLM")).to(cfg.device)

    def _sequences(self, x: Tensor, y: Tensor) -> Tensor:
        return torch.cat([(y.long() + self.cfg.vocab_size)[:, None], x.long()], dim=1).to(self.cfg.device)

    def fit(self, x: Tensor, y: Tensor, *, steps: Optional[int] = None, progress: bool = False) -> "GPT2TextGenerator":
        """``steps`` (default ``train_steps``) AdamW steps on random mini-batches of chunks ``x``."""
        cfg = self.cfg
        steps = cfg.train_steps if steps is None else steps
        seqs = self._sequences(x, y)
        labels = seqs.clone()
        labels[:, 0] = -100  # the topic token is given, never predicted
        opt = torch.optim.AdamW(self.model.parameters(), lr=cfg.lr, weight_decay=0.01)
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda i: min(1.0, (i + 1) / max(cfg.warmup_steps, 1)))
        g = torch.Generator().manual_seed(seed_for("text.gpt2.batches", seed=cfg.seed))
        self.model.train()
        for _ in range(steps):
            idx = torch.randint(len(seqs), (min(cfg.batch_size, len(seqs)),), generator=g)
            loss = self.model(input_ids=seqs[idx], attention_mask=torch.ones_like(seqs[idx]), labels=labels[idx]).loss
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
        self.model.eval()
        return self

    @torch.no_grad()
    def generate(self, labels: Tensor, *, seed: Optional[int] = None, temperature: Optional[float] = None,
                 top_p: Optional[float] = None) -> Tensor:
        """One chunk per topic label: ``(N, chunk_len)`` int64 token ids on the CPU."""
        cfg = self.cfg
        temperature = cfg.temperature if temperature is None else float(temperature)
        top_p = cfg.top_p if top_p is None else float(top_p)
        if temperature <= 0 or not 0 < top_p <= 1:
            raise ValueError(f"need temperature > 0 and 0 < top_p <= 1, got {temperature}, {top_p}")
        topics = list(range(cfg.vocab_size, cfg.vocab_size + cfg.num_topics))
        out = []
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed_for("text.gpt2.sample", seed=cfg.seed) if seed is None else seed)
            for i in range(0, len(labels), cfg.sample_batch_size):
                prompt = (labels[i:i + cfg.sample_batch_size].long() + cfg.vocab_size)[:, None].to(cfg.device)
                seq = self.model.generate(input_ids=prompt, attention_mask=torch.ones_like(prompt), do_sample=True,
                                          max_new_tokens=cfg.chunk_len, min_new_tokens=cfg.chunk_len,
                                          temperature=temperature, top_p=top_p, top_k=0, suppress_tokens=topics,
                                          pad_token_id=PAD_ID)
                out.append(seq[:, 1:].cpu())
        return torch.cat(out)

    @torch.no_grad()
    def perplexity(self, x: Tensor, y: Tensor) -> float:
        """exp of the mean next-token negative log-likelihood of the non-padding tokens of ``x``."""
        seqs = self._sequences(x, y)
        labels = seqs.clone()
        labels[:, 0] = -100
        labels[labels == PAD_ID] = -100
        nll, count = 0.0, 0
        for i in range(0, len(seqs), self.cfg.sample_batch_size):
            lab = labels[i:i + self.cfg.sample_batch_size]
            n = int((lab[:, 1:] != -100).sum())
            ids = seqs[i:i + self.cfg.sample_batch_size]
            nll += float(self.model(input_ids=ids, attention_mask=torch.ones_like(ids), labels=lab).loss) * n
            count += n
        return float(torch.exp(torch.tensor(nll / max(count, 1))))

    def state_dict(self) -> dict:
        return {"config": asdict(self.cfg), "model": self.model.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        if state["config"] != asdict(self.cfg):
            raise ValueError(f"GPT-2 state of config {state['config']} does not fit this model's {asdict(self.cfg)}")
        self.model.load_state_dict(state["model"])
        self.model.eval()

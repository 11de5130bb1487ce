"""Adapters that let the drift metrics score generators that do not follow our protocol.

``AvalancheGRAdapter`` wraps the generator of Avalanche's own ``GenerativeReplay`` strategy (by
default an unconditional ``MlpVAE``), the baseline most Avalanche users know. The VAE cannot be
asked for a class, so ``generate(labels)`` samples, labels every sample with the **solver's
prediction** (restricted to the classes asked for) and keeps, per requested class, samples the solver
assigns to it (rejection sampling over a few rounds). If a class is still short after
``max_rounds``, its remaining slots are filled with the drawn samples that the solver finds most
likely to be of that class. The classes of its samples are therefore **pseudo-labels**: per-class
drift metrics (CFID, OTDD, RealAcc) of this adapter measure "samples the solver calls class c", not
samples the generator was asked to draw of class c.
"""
from __future__ import annotations

from typing import Callable, Optional, Sequence

import torch
from torch import Tensor, nn

from .base import check_finite_samples, validate_labels

# MlpVAE's decoder ends in a hard-coded MNIST Normalize((0.1307,), (0.3081,)) after its Sigmoid.
_MNIST_MEAN, _MNIST_STD = 0.1307, 0.3081


def _undo_mlpvae_normalize(model: nn.Module) -> Optional[Callable[[Tensor], Tensor]]:
    dec = getattr(model, "decoder", None)
    if dec is not None and hasattr(dec, "invTrans"):
        return lambda x: (x * _MNIST_STD + _MNIST_MEAN).clamp(0.0, 1.0)
    return None


class AvalancheGRAdapter:
    """Conditional ``generate(labels)`` on top of an unconditional Avalanche generator.

    Args:
        generator: an object with ``generate(batch_size)`` (Avalanche's ``Generator`` API).
        solver: the classifier used to pseudo-label samples (the strategy's model).
        output_transform: maps generator outputs to the benchmark's range; by default, the MNIST
            normalisation of Avalanche's ``MlpVAE`` is undone, otherwise outputs are used as they are.
        max_rounds: rejection-sampling rounds before falling back to the most likely samples.
        oversample: samples drawn per round, as a multiple of the number requested.
    """

    pseudo_labels = True  # the metrics' docs and names say so

    def __init__(self, generator, solver: nn.Module, *, output_transform=None, max_rounds: int = 5, oversample: float = 2.0):
        if not callable(getattr(generator, "generate", None)):
            raise TypeError("AvalancheGRAdapter needs a generator with a generate(batch_size) method")
        self.generator = generator
        self.solver = solver
        self.output_transform = output_transform or _undo_mlpvae_normalize(generator) or (lambda x: x)
        self.max_rounds = max_rounds
        self.oversample = oversample

    @torch.no_grad()
    def _draw(self, n: int, classes: Tensor):
        was_training = [m.training for m in (self.generator, self.solver) if isinstance(m, nn.Module)]
        mods = [m for m in (self.generator, self.solver) if isinstance(m, nn.Module)]
        for m in mods:
            m.eval()
        try:
            x = self.output_transform(self.generator.generate(n))
            device = next(self.solver.parameters()).device
            logits = self.solver(x.to(device)).float().cpu()
        finally:
            for m, t in zip(mods, was_training):
                m.train(t)
        probs = torch.softmax(logits[:, classes], dim=1)  # over the asked classes only
        return x.cpu(), probs

    def generate(self, labels: Tensor) -> Tensor:
        labels = validate_labels(labels, None)
        classes = torch.unique(labels)
        need = {int(c): int((labels == c).sum()) for c in classes}
        got = {c: [] for c in need}
        pool_x, pool_p = [], []
        for _ in range(self.max_rounds):
            short = sum(max(0, need[c] - len(got[c])) for c in need)
            if short == 0:
                break
            x, p = self._draw(max(8, int(short * self.oversample)), classes)
            pred = classes[p.argmax(1)]
            for i in range(len(x)):
                c = int(pred[i])
                if len(got[c]) < need[c]:
                    got[c].append(x[i])
            pool_x.append(x)
            pool_p.append(p)
        xs, ps = torch.cat(pool_x), torch.cat(pool_p)
        for j, c in enumerate(classes.tolist()):
            short = need[c] - len(got[c])
            if short > 0:  # fall back to the samples most likely to be of class c
                top = torch.argsort(ps[:, j], descending=True)[:short]
                got[c].extend(xs[top])
        out = torch.empty((len(labels),) + tuple(xs.shape[1:]), dtype=xs.dtype)
        for c in need:
            idx = torch.nonzero(labels == c).flatten()
            out[idx] = torch.stack(got[c][: len(idx)])
        return check_finite_samples(out, where="Avalanche GenerativeReplay generator")


def find_generator(strategy, generator=None):
    """The generator the drift metrics score, in this order: the one passed in; the strategy's
    ``generator`` attribute (our DDGR and GAN Memory strategies set it); the generator of one of our
    replay plugins (``exposes_generator``) added to any template; the generator of Avalanche's
    ``GenerativeReplayPlugin`` found among the strategy's plugins, wrapped in
    :class:`AvalancheGRAdapter`. Raises ``LookupError`` when there is none."""
    if generator is not None:
        return generator
    gen = getattr(strategy, "generator", None)
    if gen is not None and callable(getattr(gen, "generate", None)):
        return gen
    for p in getattr(strategy, "plugins", []) or []:  # our replay plugins added to any template
        gen = getattr(p, "generator", None) if getattr(p, "exposes_generator", False) else None
        if gen is not None:
            return gen
    try:
        from avalanche.training.plugins import GenerativeReplayPlugin
    except ImportError:  # pragma: no cover - avalanche is a hard dependency
        GenerativeReplayPlugin = ()
    for p in getattr(strategy, "plugins", []) or []:
        if isinstance(p, GenerativeReplayPlugin) and getattr(p, "generator_strategy", None) is not None:
            return AvalancheGRAdapter(p.generator_strategy.model, strategy.model)
    raise LookupError(
        f"drift metrics found no generator on {type(strategy).__name__}: pass "
        "drift_metrics(generator=...) (any object with generate(labels) -> images), use a strategy "
        "with a `.generator` attribute (bootdrift_avalanche.strategies.DDGR / GANMemory), or "
        "Avalanche's GenerativeReplay (recognised automatically)."
    )

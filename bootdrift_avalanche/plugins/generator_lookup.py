"""Which generator the drift metrics score on a strategy, and how to sample it.

:func:`find_sampler` returns a :class:`DriftSampler`: either one of our replay plugins (DDGR, GAN
Memory), sampled through its ``replay_samples(strategy, labels, *, seed)`` so the drift is that of
what the plugin actually replays (for DDGR: guided by a frozen copy of the solver), or a plain
generator sampled by ``generate(labels, *, seed=None)``. :func:`find_generator` is the generator
alone.

**Guided replay**: a sampler is :attr:`DriftSampler.guided` when what its plugin replays differs from
what its generator gives alone, by one rule: the plugin has a non-zero ``guidance_scale`` (DDGR's
classifier guidance; GAN Memory and plain generators have none). :meth:`DriftSampler.unguided` is
then the same generator sampled by ``generate(labels, seed=...)``, without the guide, so the drift
metrics can log both.

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

from dataclasses import dataclass
from typing import Any, Optional

import torch
from torch import Tensor, nn

from ..generators.base import check_finite_samples, validate_labels
from ..generators.contract import check_output


class AvalancheGRAdapter:
    """Conditional ``generate(labels, *, seed=None)`` on top of an unconditional Avalanche generator.

    Args:
        generator: an object with ``generate(batch_size)`` (Avalanche's ``Generator`` API).
        solver: the classifier used to pseudo-label samples (the strategy's model).
        output_transform: maps generator outputs to the benchmark's range; by default none, because
            the raw ``generate`` output is exactly what ``GenerativeReplayPlugin`` replays to the
            solver. (``MlpVAE``'s decoder ends in a fixed MNIST ``Normalize`` after its sigmoid, but
            its loss compares that normalised output with the input itself, so a VAE trained on
            [0, 1] images learns to emit [0, 1]-scale images through it; undoing the normalisation,
            as this adapter once did, scored images the solver never saw.)
        max_rounds: rejection-sampling rounds before falling back to the most likely samples.
        oversample: samples drawn per round, as a multiple of the number requested.
    """

    pseudo_labels = True  # the metrics' docs and names say so

    def __init__(self, generator, solver: nn.Module, *, output_transform=None, max_rounds: int = 5,
                 oversample: float = 2.0):
        if not callable(getattr(generator, "generate", None)):
            raise TypeError("AvalancheGRAdapter needs a generator with a generate(batch_size) method")
        self.generator = generator
        self.solver = solver
        self.output_transform = output_transform or (lambda x: x)
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

    def _rng_devices(self) -> list:
        params = self.generator.parameters() if isinstance(self.generator, nn.Module) else iter(())
        dev = next(params, torch.empty(0)).device
        return [dev] if dev.type == "cuda" else []

    def generate(self, labels: Tensor, *, seed: Optional[int] = None) -> Tensor:
        """One sample per label (float32, CPU). With ``seed``, reproducible and without touching
        the global RNG: Avalanche's VAE samples from torch's global generator, so it is forked."""
        labels = validate_labels(labels, None)
        if seed is None:
            return self._generate(labels)
        with torch.random.fork_rng(devices=self._rng_devices()):
            torch.manual_seed(seed)
            return self._generate(labels)

    def _generate(self, labels: Tensor) -> Tensor:
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
        out = torch.empty((len(labels),) + tuple(xs.shape[1:]), dtype=torch.float32)
        for c in need:
            idx = torch.nonzero(labels == c).flatten()
            out[idx] = torch.stack(got[c][: len(idx)]).float()
        return check_finite_samples(out, where="Avalanche GenerativeReplay generator")


class CallableGenerator:
    """The generator protocol around a plain function ``fn(labels) -> samples``, so that
    ``drift_metrics(generator=my_function)`` works. ``generate(labels, seed=s)`` calls ``fn`` with
    torch's global RNG seeded with ``s`` inside a fork, so the call is reproducible and leaves the
    caller's random stream untouched."""

    def __init__(self, fn):
        self.fn = fn

    def generate(self, labels: Tensor, *, seed: Optional[int] = None) -> Tensor:
        if seed is None:
            return self.fn(labels)
        with torch.random.fork_rng():
            torch.manual_seed(seed)
            return self.fn(labels)

    def __repr__(self) -> str:
        return f"CallableGenerator({getattr(self.fn, '__name__', type(self.fn).__name__)})"


def as_generator(generator):
    """``generator`` itself when it has ``generate``, a plain callable wrapped in
    :class:`CallableGenerator`, ``None`` kept (found on the strategy later); anything else is
    refused here, when the drift metrics are built, not after the first experience."""
    if generator is None or callable(getattr(generator, "generate", None)):
        return generator
    if callable(generator):
        return CallableGenerator(generator)
    raise TypeError(
        f"drift_metrics(generator=...) got a {type(generator).__name__}, which has no generate method and is not "
        "callable: pass an object with generate(labels, *, seed=None) -> samples, or a function labels -> samples"
    )


@dataclass(frozen=True, repr=False)
class DriftSampler:
    """Where the drift metrics get their synthetic samples from.

    Attributes:
        generator: the scored generator (``generate(labels, *, seed=None)``).
        plugin: the replay plugin owning it, when the samples should be what it replays
            (``plugin.replay_samples(strategy, labels, seed=...)``); ``None`` otherwise.
    """

    generator: Any
    plugin: Any = None

    @property
    def guided(self) -> bool:
        """Whether the samples are the plugin's guided replay, not ``generator.generate`` alone: the
        plugin has a non-zero ``guidance_scale`` (see the module docstring)."""
        return self.plugin is not None and getattr(self.plugin, "guidance_scale", 0) != 0

    def unguided(self) -> "DriftSampler":
        """The same generator without its plugin: ``generator.generate(labels, seed=...)``."""
        return DriftSampler(self.generator)

    def sample(self, strategy, labels: Tensor, *, seed: int) -> Tensor:
        """One sample per label, reproducible from ``seed``, as a float32 CPU tensor."""
        if self.plugin is not None:
            out = self.plugin.replay_samples(strategy, labels, seed=seed)
        else:
            try:
                out = self.generator.generate(labels, seed=seed)
            except TypeError as err:
                if "seed" not in str(err):
                    raise
                raise TypeError(
                    f"{type(self.generator).__name__}.generate must accept a seed: the generator protocol is "
                    "generate(labels, *, seed=None) -> samples"
                ) from err
        # count, dtype, finite; CPU float32 (user generators may hand back GPU or float64 tensors)
        return check_output(out, labels, who=repr(self))

    def __repr__(self) -> str:  # the generator's own repr may be a whole network
        via = f", via {type(self.plugin).__name__}.replay_samples" if self.plugin is not None else ""
        return f"DriftSampler({type(self.generator).__name__}{via})"


def _replays(plugin) -> bool:
    return callable(getattr(plugin, "replay_samples", None)) and getattr(plugin, "generator", None) is not None


def find_sampler(strategy, generator=None) -> DriftSampler:
    """The sampling source of the drift metrics, in this order: the generator passed in; one of our
    replay plugins among the strategy's plugins (a plugin with ``replay_samples`` and a
    ``generator``, on any template, including our DDGR / GAN Memory strategies); the strategy's
    ``generator`` attribute; the generator of Avalanche's ``GenerativeReplayPlugin``, wrapped in
    :class:`AvalancheGRAdapter`. Raises ``LookupError`` when there is none."""
    if generator is not None:
        return DriftSampler(generator)
    plugins = list(getattr(strategy, "plugins", []) or [])
    for p in plugins:
        if _replays(p):
            return DriftSampler(p.generator, plugin=p)
    gen = getattr(strategy, "generator", None)
    if gen is not None and callable(getattr(gen, "generate", None)):
        return DriftSampler(gen)
    from avalanche.training.plugins import GenerativeReplayPlugin

    for p in plugins:
        if isinstance(p, GenerativeReplayPlugin) and getattr(p, "generator_strategy", None) is not None:
            return DriftSampler(AvalancheGRAdapter(p.generator_strategy.model, strategy.model))
    raise LookupError(
        f"drift metrics found no generator on {type(strategy).__name__}: pass "
        "drift_metrics(generator=...) (any object with generate(labels, *, seed=None) -> samples), use a "
        "strategy with a `.generator` attribute (bootdrift_avalanche.strategies.DDGR / GANMemory), one of "
        "our replay plugins, or Avalanche's GenerativeReplay (recognised automatically)."
    )


def find_generator(strategy, generator=None):
    """The generator the drift metrics score (see :func:`find_sampler` for the lookup order)."""
    return find_sampler(strategy, generator).generator

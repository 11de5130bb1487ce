"""Generator lookup of the drift metrics: the order of the sources, sampling through a replay
plugin, the guided rule, and the seeded adapter for Avalanche's unconditional GenerativeReplay
generator."""
from types import SimpleNamespace

import pytest
import torch
from avalanche.training.plugins import GenerativeReplayPlugin
from torch import nn

from bootdrift_avalanche.plugins.generator_lookup import (
    AvalancheGRAdapter,
    DriftSampler,
    find_generator,
    find_sampler,
)


class _VAE(nn.Module):
    """Unconditional like Avalanche's MlpVAE: ``generate(n)`` from torch's global RNG."""

    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(2, 4)

    def generate(self, n):
        return torch.sigmoid(self.lin(torch.randn(n, 2)))


class _Solver(nn.Module):
    """Class = arg-max of the first three values (so every class is reachable)."""

    def __init__(self):
        super().__init__()
        self.dummy = nn.Parameter(torch.zeros(1))

    def forward(self, x):
        return x[:, :3] + 0 * self.dummy


class _Gen:
    def generate(self, labels, *, seed=None):
        return torch.zeros(len(labels), 2, dtype=torch.float64)


def _strategy(plugins=(), generator=None):
    s = SimpleNamespace(plugins=list(plugins), model=_Solver())
    if generator is not None:
        s.generator = generator
    return s


def test_adapter_is_seeded_without_touching_the_global_rng():
    ad = AvalancheGRAdapter(_VAE(), _Solver())
    labels = torch.tensor([0, 1, 2, 2, 1, 0, 0])
    state = torch.get_rng_state()
    a = ad.generate(labels, seed=5)
    assert torch.equal(torch.get_rng_state(), state)
    assert torch.equal(a, ad.generate(labels, seed=5))
    assert not torch.equal(a, ad.generate(labels, seed=6))
    assert a.dtype == torch.float32 and a.device.type == "cpu" and a.shape == (7, 4)
    assert ad.pseudo_labels
    unseeded = ad.generate(labels)  # no seed: the global stream, as Avalanche itself samples
    assert unseeded.shape == (7, 4) and not torch.equal(torch.get_rng_state(), state)
    with pytest.raises(TypeError, match="generate\\(batch_size\\)"):
        AvalancheGRAdapter(object(), _Solver())


def test_lookup_order():
    passed, own, plain = _Gen(), _Gen(), _Gen()

    class Replay:
        generator = own

        def replay_samples(self, strategy, labels, *, seed):
            return torch.ones(len(labels), 2)

    replay = Replay()
    other = SimpleNamespace(generator=_Gen())  # a plugin with a generator but no replay_samples
    avalanche_gr = GenerativeReplayPlugin(generator_strategy=SimpleNamespace(model=_VAE()))

    s = _strategy([other, replay, avalanche_gr], generator=plain)
    assert find_sampler(s, passed) == DriftSampler(passed)
    assert find_sampler(s) == DriftSampler(own, plugin=replay)  # what is replayed, not generate()
    assert find_generator(s) is own
    assert find_sampler(_strategy([other, avalanche_gr], generator=plain)) == DriftSampler(plain)
    adapted = find_generator(_strategy([other, avalanche_gr]))
    assert isinstance(adapted, AvalancheGRAdapter) and isinstance(adapted.generator, _VAE)
    with pytest.raises(LookupError, match="found no generator on SimpleNamespace"):
        find_sampler(_strategy([other]))


def test_sampler_calls_replay_samples_or_generate_and_returns_cpu_float32():
    calls = []

    class Replay:
        generator = _Gen()

        def replay_samples(self, strategy, labels, *, seed):
            calls.append((strategy, labels.tolist(), seed))
            return torch.ones(len(labels), 2, dtype=torch.float64)

    s = _strategy()
    out = DriftSampler(Replay.generator, plugin=Replay()).sample(s, torch.tensor([1, 2]), seed=9)
    assert calls == [(s, [1, 2], 9)] and out.dtype == torch.float32
    out = DriftSampler(_Gen()).sample(s, torch.tensor([1, 2, 3]), seed=9)
    assert out.shape == (3, 2) and out.dtype == torch.float32


def test_guided_rule_and_the_unguided_sampler():
    class Replay:
        generator = _Gen()

        def __init__(self, **attrs):
            self.__dict__.update(attrs)

        def replay_samples(self, strategy, labels, *, seed):
            return torch.ones(len(labels), 2)

    # the rule: a replay plugin with a non-zero guidance_scale (DDGR's classifier guidance)
    assert DriftSampler(Replay.generator, plugin=Replay(guidance_scale=1.0)).guided
    assert not DriftSampler(Replay.generator, plugin=Replay(guidance_scale=0.0)).guided
    assert not DriftSampler(Replay.generator, plugin=Replay()).guided  # e.g. GAN Memory
    assert not DriftSampler(_Gen()).guided
    guided = DriftSampler(Replay.generator, plugin=Replay(guidance_scale=2.0))
    plain = guided.unguided()
    assert plain == DriftSampler(Replay.generator) and not plain.guided
    assert torch.equal(plain.sample(_strategy(), torch.tensor([0, 1]), seed=1), torch.zeros(2, 2))


def test_adapter_scores_exactly_what_generative_replay_feeds_the_solver():
    # Avalanche's MlpVAE, trained on [0, 1] data, emits [0, 1]-scale images through its decoder's
    # fixed MNIST Normalize, and GenerativeReplayPlugin replays that raw output: the adapter must
    # not undo the normalisation (it used to, which shrank the images to [0.13, 0.44]).
    from avalanche.models import MlpVAE

    vae = MlpVAE((1, 8, 8), nhid=4)
    solver = nn.Sequential(nn.Flatten(), nn.Linear(64, 3))
    vae.eval()
    torch.manual_seed(5)
    with torch.no_grad():
        raw = vae.generate(32)  # one class asked: the first round draws 2 x 16 and keeps the first 16
    adapted = AvalancheGRAdapter(vae, solver).generate(torch.zeros(16, dtype=torch.long), seed=5)
    assert torch.allclose(adapted, raw[:16], atol=1e-6)

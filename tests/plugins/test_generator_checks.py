"""A wrong generator is refused when the plugin or the drift metrics are built, with a message
that names what is missing, instead of an AttributeError/TypeError after the first experience."""
import pytest
import torch

from bootdrift_avalanche.benchmarks import split_digits
from bootdrift_avalanche.experiments.config import PRESETS
from bootdrift_avalanche.generators.ddpm import DDPMGenerator
from bootdrift_avalanche.generators.gan_memory import GANMemoryGenerator
from bootdrift_avalanche.plugins import DDGRPlugin, GANMemoryPlugin, drift_metrics
from bootdrift_avalanche.plugins.generator_lookup import CallableGenerator, DriftSampler

TINY = PRESETS["tiny"]


def test_gan_memory_plugin_refuses_a_ddpm_generator_when_built():
    ddpm = DDPMGenerator(TINY.ddpm_config(image_shape=(1, 8, 8), num_classes=10))
    with pytest.raises(TypeError, match="GANMemoryPlugin cannot use a DDPMGenerator: it has no task_ids"):
        GANMemoryPlugin(ddpm)


def test_ddgr_plugin_refuses_a_generator_without_guidance_when_built():
    gm = GANMemoryGenerator(TINY.gan_memory_config(image_shape=(1, 8, 8), num_classes=10))
    with pytest.raises(TypeError, match="DDGRPlugin cannot use a GANMemoryGenerator: its generate.. takes no guidance"):
        DDGRPlugin(gm)
    with pytest.raises(TypeError, match="DDGRPlugin needs a generator"):
        DDGRPlugin(None)


def test_drift_metrics_wrap_a_plain_function_and_refuse_a_non_generator():
    bm = split_digits(n_experiences=2)

    def fn(labels):
        return torch.rand(len(labels), 1, 8, 8)

    metrics = drift_metrics(reference_stream=bm.test_stream, generator=fn, n_per_class=4)
    gen = metrics[0].computation.generator
    assert isinstance(gen, CallableGenerator)
    labels = torch.tensor([0, 1, 1])
    state = torch.random.get_rng_state()
    a, b = gen.generate(labels, seed=3), gen.generate(labels, seed=3)
    assert torch.equal(a, b) and torch.equal(torch.random.get_rng_state(), state)
    with pytest.raises(TypeError, match="has no generate method and is not callable"):
        drift_metrics(reference_stream=bm.test_stream, generator=42)


def test_a_sample_count_mismatch_names_the_counts():
    short = CallableGenerator(lambda labels: torch.zeros(len(labels) - 1, 1, 8, 8))
    with pytest.raises(ValueError, match=r"returned shape \(3, 1, 8, 8\) for 4 label\(s\)"):
        DriftSampler(short).sample(None, torch.tensor([0, 0, 1, 1]), seed=0)

"""The sampling-bias knob (latent truncation psi) of the WGAN and GAN Memory generators."""
import pytest
import torch

from bootdrift_avalanche.experiments.config import PRESETS
from bootdrift_avalanche.generators.gan_memory import GANMemoryGenerator
from bootdrift_avalanche.generators.wgan import WGANGenerator


def _spread(x, y):
    """Mean over classes of the per-class total variance of the samples."""
    return float(torch.stack([x[y == c].reshape((y == c).sum(), -1).var(0).sum() for c in torch.unique(y)]).mean())


def test_wgan_truncation_pulls_samples_together():
    g = torch.Generator().manual_seed(0)
    y = torch.arange(3).repeat_interleave(40)
    x = torch.randn(len(y), 2, generator=g) + 3.0 * y[:, None]
    gen = WGANGenerator(PRESETS["tiny"].wgan_config(dim=2, num_classes=3, seed=0)).fit(x, y)
    labels = torch.arange(3).repeat_interleave(200)
    full = gen.generate(labels, seed=1)
    assert torch.equal(full, gen.generate(labels, seed=1, truncation=1.0))  # psi = 1: the model as trained
    spreads = [_spread(gen.generate(labels, seed=1, truncation=psi), labels) for psi in (1.0, 0.5, 0.0)]
    assert spreads[0] > spreads[1] > spreads[2] and spreads[2] < 1e-10  # psi = 0: one point per class
    with pytest.raises(ValueError, match="truncation"):
        gen.generate(labels, truncation=1.5)


def test_gan_memory_truncation_pulls_samples_together():
    torch.manual_seed(0)
    gm = GANMemoryGenerator(PRESETS["tiny"].gan_memory_config(image_shape=(1, 8, 8), num_classes=2, base_steps=2))
    y = torch.tensor([0, 1]).repeat_interleave(8)
    gm.fit(torch.rand(len(y), 1, 8, 8, generator=torch.Generator().manual_seed(1)), y)
    labels = torch.tensor([0, 1]).repeat_interleave(20)
    assert torch.equal(gm.generate(labels, seed=2), gm.generate(labels, seed=2, truncation=1.0))
    spreads = [_spread(gm.generate(labels, seed=2, truncation=psi), labels) for psi in (1.0, 0.0)]
    assert spreads[0] > 0 and spreads[1] < 1e-10
    with pytest.raises(ValueError, match="truncation"):
        gm.generate(labels, truncation=-0.1)

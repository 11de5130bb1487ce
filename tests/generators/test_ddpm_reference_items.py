"""The DDGR reference's items that the `paper` preset takes over (docs/DDGR.md): horizontal flips of
the training images, a cosine schedule of T = 4000 sampled on 250 respaced steps, 20 replays per
class, AdamW annealed per task."""
from types import SimpleNamespace

import torch
import torch.nn as nn

from bootdrift_avalanche.experiments.config import PRESETS
from bootdrift_avalanche.generators.ddpm import DDPMConfig, DDPMGenerator
from bootdrift_avalanche.generators.ddpm.training import train_denoiser


class _Scale(nn.Module):
    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.ones(()))

    def forward(self, x, t, class_labels=None):
        return SimpleNamespace(sample=x * self.w)


class _Recorder:
    """A scheduler that records the clean images of every training step."""

    def __init__(self):
        self.seen = []

    def add_noise(self, x0, noise, t):
        self.seen.append(x0.clone())
        return x0 + noise


def _fed_images(hflip, steps=8):
    x = torch.arange(4.0).repeat(4, 1, 4, 1)[:4]  # 4 images whose rows read 0 1 2 3: a flip reverses them
    rec = _Recorder()
    cfg = DDPMConfig(image_shape=(1, 4, 4), block_out_channels=(8,), norm_num_groups=4, batch_size=4, hflip=hflip)
    train_denoiser(_Scale(), rec, SimpleNamespace(step=lambda params: None), x, torch.zeros(4, dtype=torch.long),
                   cfg=cfg, steps=steps, rng=torch.Generator().manual_seed(0))
    return torch.cat(rec.seen), x[0]


def test_hflip_mirrors_about_half_the_training_images_and_nothing_without_it():
    fed, image = _fed_images(hflip=True)
    mirrored = torch.tensor([torch.equal(f, image.flip(-1)) for f in fed])
    assert all(torch.equal(f, image) or torch.equal(f, image.flip(-1)) for f in fed)
    assert 0.2 < mirrored.float().mean() < 0.8
    fed, image = _fed_images(hflip=False)
    assert all(torch.equal(f, image) for f in fed)


def test_paper_preset_takes_the_reference_items():
    p = PRESETS["paper"]
    c = p.ddpm_config(image_shape=(3, 32, 32), num_classes=100)
    assert (c.num_train_timesteps, c.num_inference_steps, c.beta_schedule) == (4000, 250, "squaredcos_cap_v2")
    assert (c.lr, c.lr_schedule, c.batch_size, c.ema_decay, c.hflip, c.train_steps) == (
        1e-4, "linear", 64, 0.9999, True, 15_000)
    assert p.replay_per_class == 20


def test_respaced_sampling_of_a_4000_step_cosine_chain_runs_guided():
    """T = 4000 sampled on 250 respaced steps, with classifier guidance, on a tiny UNet."""
    g = DDPMGenerator(DDPMConfig(image_shape=(1, 8, 8), block_out_channels=(8,), layers_per_block=1,
                                 norm_num_groups=4, num_train_timesteps=4000, num_inference_steps=250,
                                 train_steps=2, batch_size=4))
    g.fit(torch.rand(8, 1, 8, 8), torch.arange(8) % 2)
    clf = nn.Sequential(nn.Flatten(), nn.Linear(64, 2))
    x = g.generate(torch.tensor([0, 1]), seed=0, guidance=clf, guidance_scale=1.0)
    assert x.shape == (2, 1, 8, 8) and torch.isfinite(x).all()

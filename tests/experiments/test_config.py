"""The one presets table and config resolution."""
import dataclasses

import pytest

from bootdrift_avalanche.experiments.config import (
    PRESETS, BootstrapConfig, ReplayConfig, config_from, preset, resolve,
)


def test_resolve_fills_none_from_the_preset_and_never_mutates():
    cfg = ReplayConfig(preset="tiny")
    out = resolve(cfg)
    assert cfg.epochs is None and out is not cfg
    p = PRESETS["tiny"]
    assert (out.epochs, out.n_per_class, out.replay_per_class, out.generator_steps, out.real_acc_epochs) == (
        p.epochs, p.n_per_class, p.replay_per_class, p.generator_steps, p.real_acc_epochs)
    assert resolve(dataclasses.replace(cfg, epochs=7)).epochs == 7  # a given value wins
    assert resolve(BootstrapConfig(preset="cpu-small")).n_samples == PRESETS["cpu-small"].gmm_samples
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.epochs = 3


@pytest.mark.parametrize("name,shape,channels,attention", [
    ("tiny", (1, 8, 8), (8, 16), ()),
    ("cpu-small", (1, 8, 8), (16, 32), ()),
    ("cpu-small", (3, 32, 32), (16, 32, 32, 32), ()),
    ("paper", (3, 32, 32), (128, 256, 256, 256), (16, 8)),  # DDGR's CIFAR UNet
    ("paper", (3, 64, 64), (128, 256, 384, 512), (32, 16, 8)),
])
def test_ddpm_sizes_follow_the_image(name, shape, channels, attention):
    c = PRESETS[name].ddpm_config(image_shape=shape, num_classes=10)
    assert c.block_out_channels == channels and c.attention_resolutions == attention
    assert c.image_shape == shape and c.num_classes == 10


def test_every_preset_sizes_every_generator():
    for p in PRESETS.values():
        assert p.gan_memory_config(image_shape=(1, 8, 8), num_classes=10).image_shape == (1, 8, 8)
        assert p.wgan_config(dim=2, num_classes=5).dim == 2
        assert p.ddpm_config(image_shape=(1, 8, 8), num_classes=10, train_steps=3).train_steps == 3
        assert p.ngram_config(vocab_size=50, num_topics=3).chunk_len == p.text["chunk_len"]
        assert p.gpt2_config(vocab_size=50, num_topics=3, train_steps=2).train_steps == 2
        assert p.encoder_config().width > 0


def test_unknown_preset_and_fields():
    with pytest.raises(ValueError, match="unknown preset 'huge'; choose one of tiny, cpu-small, paper"):
        preset("huge")
    with pytest.raises(ValueError, match="no field"):
        config_from(ReplayConfig, {"strategyy": "ddgr"})


def test_config_from_keeps_saved_values_but_not_ignored_keys():
    cfg = config_from(ReplayConfig, {"epochs": 3}, saved={"seed": 4, "device": "cuda", "kind": "replay"})
    assert (cfg.seed, cfg.epochs, cfg.device) == (4, 3, "cpu")

"""The class-conditional StyleGAN2 (generators/stylegan2): shapes and value range by image size,
demodulation keeping the activations' scale, truncation towards each class's mean latent, the
Generator protocol (seeds, state round trip, bad input), a short fit that lowers FID_clf on digits,
and the bootstrapping loop's registry entry."""
import pytest
import torch

from bootdrift_avalanche.experiments.config import PRESETS
from bootdrift_avalanche.generators.base import TrainableGenerator
from bootdrift_avalanche.generators.stylegan2 import StyleGAN2Config, StyleGAN2Generator
from bootdrift_avalanche.generators.stylegan2.layers import SynthesisLayer, lrelu, modulated_conv2d


def _tiny(**kw):
    return StyleGAN2Generator(PRESETS["tiny"].stylegan2_config(**{"image_shape": (1, 8, 8), "num_classes": 10, **kw}))


@pytest.mark.parametrize("shape", [(1, 8, 8), (3, 16, 16), (3, 32, 32)])
def test_generate_shapes_value_range_and_blocks_by_image_size(shape):
    gen = _tiny(image_shape=shape, num_classes=4, value_range=(-1.0, 1.0) if shape[0] == 3 else (0.0, 1.0))
    labels = torch.tensor([0, 3, 1, 1, 2])
    x = gen.generate(labels, seed=0)
    assert x.shape == (5, *shape) and x.dtype == torch.float32 and x.device.type == "cpu"
    lo, hi = gen.config.value_range
    assert x.min() >= lo and x.max() <= hi and x.std() > 0
    # one synthesis block per resolution 4, 8, ..., side; the discriminator mirrors it
    assert [b.conv1.resolution for b in gen.g.synthesis.blocks] == list(gen.config.resolutions())
    assert len(gen.d.blocks) == len(gen.config.resolutions()) - 1
    assert gen.d(torch.zeros(2, *shape), torch.tensor([0, 1])).shape == (2,)


def test_demodulation_keeps_the_activation_scale_through_eight_layers():
    torch.manual_seed(0)
    layers = [SynthesisLayer(32, 32, 16, 8) for _ in range(8)]
    w = torch.randn(16, 16)
    x = torch.randn(16, 32, 8, 8)
    h, stds = x, []
    with torch.no_grad():
        for layer in layers:
            h = layer(h, w, noise_mode="none")
            stds.append(float(h.std()))
        assert all(0.5 <= s <= 2.0 for s in stds), stds
        # the same stack without demodulation: the scale runs away (the check can fail)
        h = x
        for layer in layers:
            conv = modulated_conv2d(h, layer.weight, layer.affine(w), demodulate=False)
            h = lrelu(conv + layer.bias.view(1, -1, 1, 1))
        assert not 0.5 <= float(h.std()) <= 2.0


def test_truncation_zero_gives_the_class_mean_latent_image():
    gen = _tiny(mean_latent_samples=4000)
    gen.fit(*_digits(64), steps=3)
    labels = torch.tensor([2, 2, 2, 7])
    x = gen.generate(labels, seed=0, truncation=0.0, noise_mode="const")
    y = gen.generate(labels, seed=1, truncation=0.0, noise_mode="const")
    assert torch.equal(x, y) and torch.equal(x[0], x[1]) and not torch.equal(x[0], x[3])
    with torch.no_grad():
        ws = gen.g_ema.w_avg[labels].unsqueeze(1).repeat(1, gen.g_ema.num_ws, 1)
        ref = gen.g_ema.synthesis(ws, noise_mode="const")
    lo, hi = gen.config.value_range
    assert torch.allclose(x, ((ref.clamp(-1, 1) + 1) / 2) * (hi - lo) + lo, atol=1e-6)
    # each class's mean latent is the mean of w over seeded z of that class
    z = torch.randn(5000, gen.config.z_dim)
    with torch.no_grad():
        w2 = gen.g_ema.mapping(z, torch.full((5000,), 2)).mean(0)
    assert torch.allclose(gen.g_ema.w_avg[2], w2, atol=0.05)
    # psi = 1 keeps the class's diversity
    assert gen.generate(torch.full((8,), 2), seed=3, noise_mode="const").std(0).mean() > 0.01


def _digits(n=None):
    from bootdrift_avalanche.benchmarks.digits import load_digits_tensors

    x, y, _, _ = load_digits_tensors()
    return (x, y) if n is None else (x[:n], y[:n])


def test_protocol_seeds_and_state_round_trip(tmp_path):
    gen = _tiny()
    assert isinstance(gen, TrainableGenerator)
    gen.fit(*_digits(64), steps=4)
    assert int(gen.steps_done) == 4
    assert gen.last_fit_info["label_counts"] == torch.bincount(_digits(64)[1], minlength=10).tolist()
    labels = torch.arange(10)
    assert torch.equal(gen.generate(labels, seed=5), gen.generate(labels, seed=5))
    assert not torch.equal(gen.generate(labels, seed=5), gen.generate(labels, seed=6))
    torch.save(gen.state_dict(), tmp_path / "g.pt")
    other = _tiny()
    other.load_state_dict(torch.load(tmp_path / "g.pt"))
    assert torch.equal(other.generate(labels, seed=5), gen.generate(labels, seed=5))
    # a reloaded model continues training exactly like the original
    gen.fit(*_digits(64), steps=3)
    other.fit(*_digits(64), steps=3)
    assert torch.equal(other.generate(labels, seed=1), gen.generate(labels, seed=1))


def test_path_length_regularisation_runs_and_tracks_its_target():
    gen = _tiny(pl_weight=2.0, pl_every=1)
    gen.fit(*_digits(64), steps=3)
    assert len(gen.last_fit_info["history"]["pl"]) == 3 and float(gen.pl_mean) > 0
    assert len(gen.last_fit_info["history"]["r1"]) == 1  # r1_every=4 in the tiny preset: step 0 only


def test_bad_inputs_give_clear_errors():
    with pytest.raises(ValueError, match="power of two"):
        StyleGAN2Config(image_shape=(1, 12, 12))
    with pytest.raises(ValueError, match="truncation"):
        StyleGAN2Config(truncation=1.5)
    gen = _tiny()
    with pytest.raises(ValueError, match="class id 10"):
        gen.generate(torch.tensor([10]))
    with pytest.raises(ValueError, match="truncation"):
        gen.generate(torch.tensor([1]), truncation=-0.1)
    with pytest.raises(ValueError, match="noise_mode"):
        gen.generate(torch.tensor([1]), noise_mode="fixed")
    with pytest.raises(ValueError, match=r"must lie in \[0.0, 1.0\]"):
        gen.fit(torch.full((4, 1, 8, 8), 2.0), torch.zeros(4, dtype=torch.long))
    with pytest.raises(ValueError, match="shape"):
        gen.fit(torch.zeros(4, 1, 16, 16), torch.zeros(4, dtype=torch.long))


def test_bootstrap_registry_builds_it_and_maps_the_sampling_bias():
    from bootdrift_avalanche.experiments import registry
    from bootdrift_avalanche.experiments.config import BootstrapConfig

    cfg = BootstrapConfig(generator="stylegan2", data="digits", preset="tiny")
    make = registry.generator_factory(cfg, PRESETS["tiny"], torch.zeros(3, 1, 8, 8), 10)
    gen = make(7)
    assert isinstance(gen, StyleGAN2Generator) and gen.config.seed == 7 and gen.config.threads is None
    assert registry.SAMPLING_BIAS["stylegan2"](0.7) == {"truncation": 0.7}
    with pytest.raises(ValueError, match="models images"):
        registry.generator_factory(cfg, PRESETS["tiny"], torch.zeros(3, 2), 5)
    # sized by image side: the paper preset's widths at 32 and 64 px
    paper = PRESETS["paper"]
    assert paper.stylegan2_config(image_shape=(3, 64, 64), num_classes=102).channels(64) == 256
    assert paper.stylegan2_config(image_shape=(3, 32, 32), num_classes=100).channels(32) == 512


@pytest.mark.slow
def test_a_short_fit_lowers_fid_clf_on_digits():
    from bootdrift_avalanche.metrics import frechet_distance
    from bootdrift_avalanche.nets import make_classifier, train_classifier

    x, y = _digits()
    judge = train_classifier(make_classifier((1, 8, 8), 10), x, y, epochs=5, seed=0).requires_grad_(False)
    real = judge.features(x).double()
    gen = StyleGAN2Generator(PRESETS["cpu-small"].stylegan2_config(image_shape=(1, 8, 8), num_classes=10,
                                                                   channel_max=32, batch_size=16))
    labels = torch.arange(10).repeat_interleave(30)

    def fid():
        with torch.no_grad():
            return frechet_distance(judge.features(gen.generate(labels, seed=0)).double(), real)

    before = fid()
    gen.fit(x, y, steps=150)
    after = fid()
    assert after < 0.5 * before, (before, after)


@pytest.mark.slow
def test_bootstrap_loop_resume_after_sigkill_gives_identical_metrics(tmp_path):
    from bootdrift_avalanche.cli import main

    from ..test_resume import _compare, _kill_after_first_checkpoint

    args = ["bootstrap", "--generator", "stylegan2", "--data", "digits", "--stages", "2", "--preset", "tiny",
            "--quiet", "--seed", "4", "--sampling-bias", "0.8"]
    killed = tmp_path / "killed"
    _kill_after_first_checkpoint(args, killed)
    assert main(["bootstrap", "--resume", str(killed), "--quiet"]) == 0
    assert main(args + ["--run-dir", str(tmp_path / "reference")]) == 0
    _compare(killed, tmp_path / "reference")


def test_modulated_conv_equals_a_convolution_with_per_sample_demodulated_kernels():
    import torch.nn.functional as F

    torch.manual_seed(1)
    x, weight, styles = torch.randn(3, 4, 5, 5), torch.randn(6, 4, 3, 3), torch.randn(3, 4)
    for demod in (True, False):
        got = modulated_conv2d(x, weight, styles, demodulate=demod)
        for i in range(3):
            k = weight * styles[i].view(1, 4, 1, 1)
            if demod:
                k = k / (k.square().sum(dim=(1, 2, 3), keepdim=True) + 1e-8).sqrt()
            assert torch.allclose(got[i:i + 1], F.conv2d(x[i:i + 1], k, padding=1), atol=1e-5)

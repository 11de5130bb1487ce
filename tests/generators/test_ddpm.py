"""Tests of the class-conditional DDPM generator (generators/ddpm/), its EMA and checkpoints, the
presets table's DDPM entries, and the CPU settings it runs under (runtime/threads.py). Tiny seeded
models: channels 8/16, 8x8 images, a few steps."""
import io

import pytest
import torch
import torch.nn as nn

from bootdrift_avalanche.experiments.config import PRESETS
from bootdrift_avalanche.generators.base import Generator, TrainableGenerator
from bootdrift_avalanche.generators.ddpm import DDPMConfig, DDPMGenerator, classifier_log_prob_grad, num_levels
from bootdrift_avalanche.runtime.threads import flush_denormal_active, thread_settings


def toy_data(n_per_class=24, seed=0):
    """Two classes of 1x8x8 images in [0, 1]: class 0 dark (~0.15), class 1 bright (~0.85)."""
    g = torch.Generator().manual_seed(seed)
    dark = (0.15 + 0.05 * torch.randn(n_per_class, 1, 8, 8, generator=g)).clamp(0, 1)
    bright = (0.85 + 0.05 * torch.randn(n_per_class, 1, 8, 8, generator=g)).clamp(0, 1)
    x = torch.cat([dark, bright])
    y = torch.cat([torch.zeros(n_per_class), torch.ones(n_per_class)]).long()
    return x, y


class BrightnessClassifier(nn.Module):
    """Fixed 2-class 'classifier' on mean brightness: logit(bright) - logit(dark) = k (mean - 0.5)."""

    def __init__(self, k=20.0, extra_classes=0):
        super().__init__()
        self.k = k
        self.extra_classes = extra_classes

    def forward(self, x):
        m = x.flatten(1).mean(1) - 0.5
        logits = torch.stack([-self.k * m / 2, self.k * m / 2], dim=1)
        if self.extra_classes:  # columns that a restricted softmax must ignore
            logits = torch.cat([logits, torch.full((len(x), self.extra_classes), 50.0)], dim=1)
        return logits


def tiny(image_shape=(1, 8, 8), **over):
    return PRESETS["tiny"].ddpm_config(image_shape=image_shape, num_classes=3, **over)


@pytest.fixture(scope="module")
def trained():
    """A tiny generator fitted on the toy data (shared read-only by the sampling tests)."""
    x, y = toy_data()
    return DDPMGenerator(tiny(train_steps=40)).fit(x, y)


# -- training ---------------------------------------------------------------------------------
def test_fit_reduces_loss_and_records_what_it_was_fed(trained):
    info = trained.last_fit_info
    assert info["num_samples"] == 48
    assert info["label_counts"] == [24, 24, 0]
    assert info["steps"] == 40 and len(info["losses"]) == 40
    assert info["loss_last"] < 0.8 * info["loss_first"], (info["loss_first"], info["loss_last"])
    assert int(trained.ema_updates) == 40 and int(trained.fit_calls) == 1


def test_fit_continues_from_current_weights():
    x, y = toy_data(8)
    g = DDPMGenerator(tiny())
    g.fit(x, y, steps=2)
    before = [p.detach().clone() for p in g.unet.parameters()]
    g.fit(x[y == 1], y[y == 1], steps=2)
    # a continued fit starts from the trained weights: a small step away, not a re-initialisation
    fresh = DDPMGenerator(tiny(seed=123))
    moved = sum(float((p.detach() - b).abs().sum()) for p, b in zip(g.unet.parameters(), before))
    reinit = sum(float((p.detach() - b).abs().sum()) for p, b in zip(fresh.unet.parameters(), before))
    assert 0 < moved < 0.5 * reinit
    assert g.last_fit_info["label_counts"] == [0, 8, 0] and int(g.ema_updates) == 4


def test_protocol():
    g = DDPMGenerator(tiny())
    assert isinstance(g, Generator) and isinstance(g, TrainableGenerator)
    assert g.device.type == "cpu" and DDPMConfig().device == "cpu"


# -- sampling ---------------------------------------------------------------------------------
@pytest.mark.parametrize("sampler", ["ddpm", "ddim"])
def test_generate_shape_range_dtype_one_per_label(trained, sampler):
    labels = torch.tensor([0, 1, 1, 2, 0])
    out = trained.generate(labels, sampler=sampler, seed=1, batch_size=2)  # 3 batches, last one partial
    assert out.shape == (5, 1, 8, 8) and out.dtype == torch.float32 and out.device.type == "cpu"
    assert out.min() >= 0.0 and out.max() <= 1.0
    assert trained.generate(torch.tensor([], dtype=torch.long)).shape == (0, 1, 8, 8)


def test_generate_maps_to_the_benchmark_value_range():
    g = DDPMGenerator(tiny(value_range=(-3.0, 5.0), image_shape=(2, 8, 16)))
    out = g.generate(torch.tensor([0, 1, 2]), seed=0)
    assert out.shape == (3, 2, 8, 16)
    assert out.min() >= -3.0 and out.max() <= 5.0 and out.max() > 1.0  # not left in [-1, 1]


def test_trained_generator_follows_the_labels(trained):
    labels = torch.tensor([0] * 8 + [1] * 8)
    out = trained.generate(labels, seed=0)
    means = out.flatten(1).mean(1)
    assert means[8:].mean() > means[:8].mean() + 0.2  # bright class brighter than dark class


def test_seeded_generate_is_deterministic(trained):
    labels = torch.tensor([0, 1, 2, 1])
    for sampler in ("ddpm", "ddim"):
        a = trained.generate(labels, seed=7, sampler=sampler)
        b = trained.generate(labels, seed=7, sampler=sampler)
        assert torch.equal(a, b)
        assert not torch.equal(a, trained.generate(labels, seed=8, sampler=sampler))
    # unseeded calls continue the generator's own seeded stream: successive calls differ
    assert not torch.equal(trained.generate(labels), trained.generate(labels))


@pytest.mark.parametrize("sampler", ["ddpm", "ddim"])
def test_guidance_pulls_samples_towards_the_asked_class(sampler):
    """An untrained model ignores its labels; with guidance, the fixed classifier gives the asked
    class a clearly higher probability, and guiding with the opposite classifier lowers it."""
    g = DDPMGenerator(tiny())
    clf = BrightnessClassifier()
    labels = torch.tensor([0, 1] * 8)

    def prob_of_labels(x):
        return torch.softmax(clf(x), 1).gather(1, labels[:, None]).mean().item()

    kw = dict(seed=3, sampler=sampler)
    p_plain = prob_of_labels(g.generate(labels, **kw))
    p_guided = prob_of_labels(g.generate(labels, guidance=clf, guidance_scale=10.0, **kw))
    p_anti = prob_of_labels(g.generate(labels, guidance=lambda x: clf(x).flip(1), guidance_scale=10.0, **kw))
    assert p_guided > p_plain + 0.2, (p_plain, p_guided)
    assert p_anti < p_plain - 0.2, (p_plain, p_anti)


def test_guidance_gradient_matches_the_analytic_value_and_restricted_softmax():
    """For the brightness classifier, d/dx_t log p(y | x) has a closed form; x_t lives in [-1, 1]
    and is mapped to the value range [0, 1] (chain-rule factor 1/2) before the classifier."""
    k = 4.0
    clf = BrightnessClassifier(k=k, extra_classes=1)  # column 2 would dominate an unrestricted softmax
    x_t = torch.full((2, 1, 8, 8), 0.6)  # value 0.8: mean brightness 0.3 above 0.5
    y = torch.tensor([1, 0])
    p1 = torch.sigmoid(torch.tensor(k * 0.3))  # softmax over {0, 1}: logit gap k * (mean - 0.5)
    g = classifier_log_prob_grad(clf, x_t, y, (0.0, 1.0), classes=torch.tensor([0, 1]))
    dgap = k / (2 * 64)  # d(logit gap)/d(one pixel of x_t): 1/64 from the mean, 1/2 from the range map
    torch.testing.assert_close(g[0], torch.full_like(g[0], float((1 - p1) * dgap)))  # brighten for 1
    torch.testing.assert_close(g[1], torch.full_like(g[1], float(-p1 * dgap)))  # darken for 0
    # unrestricted, column 2 takes all the mass and the gradient is that of the own logit alone
    g_all = classifier_log_prob_grad(clf, x_t, y, (0.0, 1.0))
    torch.testing.assert_close(g_all[0], torch.full_like(g[0], dgap / 2), atol=1e-6, rtol=1e-4)


def test_guidance_restores_classifier_mode_and_checks_classes(trained):
    clf = BrightnessClassifier(extra_classes=1).train()
    trained.generate(torch.tensor([0, 1]), guidance=clf, guidance_classes=[0, 1], seed=0)
    assert clf.training
    with pytest.raises(ValueError, match="not among guidance_classes"):
        trained.generate(torch.tensor([0, 2]), guidance=clf, guidance_classes=[0, 1])
    with pytest.raises(ValueError, match="classifier has 2 outputs"):
        trained.generate(torch.tensor([2]), guidance=BrightnessClassifier())
    with pytest.raises(ValueError, match="logits of shape"):
        trained.generate(torch.tensor([0]), guidance=lambda x: x.mean((1, 2, 3)))
    with pytest.raises(TypeError, match="callable"):
        trained.generate(torch.tensor([0]), guidance="classifier")
    with pytest.raises(ValueError, match="do not depend differentiably"):
        trained.generate(torch.tensor([0]), guidance=lambda x: clf(x).detach())


# -- errors -----------------------------------------------------------------------------------
def test_bad_labels_images_and_config_give_clear_errors(trained):
    x, y = toy_data(4)
    with pytest.raises(ValueError, match="class id 3"):
        trained.generate(torch.tensor([0, 3]))
    with pytest.raises(ValueError, match="negative"):
        trained.generate(torch.tensor([-1]))
    with pytest.raises(TypeError, match="integer"):
        trained.generate(torch.tensor([0.0, 1.0]))
    with pytest.raises(ValueError, match="1-D"):
        trained.generate(torch.zeros(2, 2, dtype=torch.long))
    g = DDPMGenerator(tiny())
    with pytest.raises(ValueError, match=r"shape \(N, 1, 8, 8\)"):
        g.fit(torch.rand(8, 1, 16, 16), y[:8])
    with pytest.raises(ValueError, match=r"must lie in \[0.0, 1.0\]"):
        g.fit(x * 255, y)
    with pytest.raises(ValueError, match="8 training images but 7 labels"):
        g.fit(x, y[:7])
    with pytest.raises(ValueError, match="sampler"):
        g.generate(torch.tensor([0]), sampler="euler")
    with pytest.raises(ValueError, match="norm_num_groups"):
        tiny(block_out_channels=(6, 16))
    with pytest.raises(ValueError, match="multiples of 2"):
        DDPMConfig(image_shape=(1, 9, 9), block_out_channels=(8, 16))
    with pytest.raises(ValueError, match="threads"):
        tiny(threads=0)
    assert int(g.fit_calls) == 0  # nothing was trained by the failed calls


def test_nan_samples_raise():
    g = DDPMGenerator(tiny())
    with torch.no_grad():
        g.ema_unet.conv_out.bias.fill_(float("nan"))
    with pytest.raises(FloatingPointError, match="NaN or Inf"):
        g.generate(torch.tensor([0, 1]))


# -- checkpoints, EMA and presets -------------------------------------------------------------
def _assert_same_state(a, b):
    sa, sb = a.state_dict(), b.state_dict()
    assert sa.keys() == sb.keys()
    for k in sa:
        assert (torch.equal(sa[k], sb[k]) if torch.is_tensor(sa[k]) else sa[k] == sb[k]), k


def test_state_dict_round_trip_gives_identical_samples_and_training(trained):
    clone = DDPMGenerator(tiny(seed=99, train_steps=40))  # different initial weights
    clone.load_state_dict(trained.state_dict())
    labels = torch.tensor([0, 1, 2])
    assert torch.equal(trained.generate(labels, seed=5), clone.generate(labels, seed=5))
    assert clone.ema_updates == 40 and int(clone.fit_calls) == 1
    # ... and, with the same config, continues training exactly alike (same batches, fresh AdamW)
    x, y = toy_data(4)
    a, b = DDPMGenerator(tiny(train_steps=40)), DDPMGenerator(tiny(train_steps=40))
    a.load_state_dict(trained.state_dict())
    b.load_state_dict(trained.state_dict())
    a.fit(x, y, steps=2)
    b.fit(x, y, steps=2)
    _assert_same_state(a, b)


def test_ema_state_survives_a_state_dict_round_trip():
    """The EMA's averages (ema_unet) and its step count (which sets the warm-up decay) come back
    from a saved state dict, also through torch.load(weights_only=True) and load_state_dict(assign=True),
    so a resumed model's EMA continues bit for bit like the uninterrupted one."""
    x, y = toy_data(8)
    ref = DDPMGenerator(tiny()).fit(x, y, steps=3)
    buf = io.BytesIO()
    torch.save(ref.state_dict(), buf)
    saved = torch.load(io.BytesIO(buf.getvalue()), weights_only=True)
    assert saved["_extra_state"] == {"ema_step": 3}
    for assign in (False, True):
        resumed = DDPMGenerator(tiny())  # same config (it seeds the training batches), untrained weights
        resumed.load_state_dict(torch.load(io.BytesIO(buf.getvalue()), weights_only=True), assign=assign)
        assert resumed.ema_updates == 3
        _assert_same_state(resumed, ref)
        resumed.fit(x, y, steps=2)
        assert resumed.ema_updates == 5
        ema_after = [p.clone() for p in resumed.ema_unet.parameters()]
        assert not all(torch.equal(a, b) for a, b in zip(ema_after, ref.ema_unet.parameters()))  # it moved
    ref.fit(x, y, steps=2)
    _assert_same_state(resumed, ref)
    # the step count matters: with it reset, the same weights give another average (warm-up decay)
    reset = DDPMGenerator(tiny())
    reset.load_state_dict(saved)
    reset.ema.optimization_step = 0
    reset.fit(x, y, steps=2)
    assert any(not torch.equal(a, b) for a, b in zip(reset.ema_unet.parameters(), ref.ema_unet.parameters()))


def test_ema_follows_diffusers_warm_up():
    """One EMA step copies the weights; the next ones blend with decay min(ema_decay, (1+n)/(10+n))."""
    x, y = toy_data(4)
    g = DDPMGenerator(tiny(ema_decay=0.9)).fit(x, y, steps=1)
    for e, p in zip(g.ema_unet.parameters(), g.unet.parameters()):
        assert torch.equal(e, p)
    before = [p.detach().clone() for p in g.ema_unet.parameters()]
    g.fit(x, y, steps=1)
    decay = 2 / 11  # second update: (1 + 1) / (10 + 1) < 0.9
    for e, b, p in zip(g.ema_unet.parameters(), before, g.unet.parameters()):
        torch.testing.assert_close(e, decay * b + (1 - decay) * p)


def test_presets_table_adapts_the_unet_to_the_image_shape():
    cpu_small = PRESETS["cpu-small"]
    assert cpu_small.ddpm_config(image_shape=(1, 8, 8), num_classes=10).block_out_channels == (16, 32)
    c = cpu_small.ddpm_config(image_shape=(3, 32, 32), num_classes=100)
    assert c.level_resolutions() == (32, 16, 8, 4)
    p = PRESETS["paper"].ddpm_config(image_shape=(3, 64, 64), num_classes=100)
    assert p.block_out_channels == (128, 256, 384, 512) and p.attention_resolutions == (32, 16, 8)
    assert p.device == "cpu" and p.threads is None
    assert PRESETS["paper"].ddpm_config(image_shape=(3, 32, 32), num_classes=100).attention_resolutions == (16, 8)
    assert tiny(image_shape=(1, 16, 16)).level_resolutions() == (16, 8, 4)
    assert num_levels((1, 8, 8), max_levels=4) == 2 and num_levels((3, 64, 64), max_levels=4) == 4


# -- CPU settings -----------------------------------------------------------------------------
def test_cpu_settings_are_scoped_and_restored():
    torch.set_num_threads(2)
    torch.set_flush_denormal(False)
    try:
        with thread_settings("cpu", threads=1, flush_denormal=True):
            assert torch.get_num_threads() == 1
            assert flush_denormal_active()
        assert torch.get_num_threads() == 2 and not flush_denormal_active()
        with thread_settings("cpu", threads=None, flush_denormal=False):
            assert torch.get_num_threads() == 2 and not flush_denormal_active()
        with pytest.raises(RuntimeError):
            with thread_settings("cpu", threads=1):
                raise RuntimeError("boom")
        assert torch.get_num_threads() == 2 and not flush_denormal_active()
        with thread_settings("cuda", threads=1):  # nothing changes for other devices
            assert torch.get_num_threads() == 2
        # generate() runs under the config's settings (seen from inside, through the classifier)
        seen = []

        def spy(x):
            seen.append((torch.get_num_threads(), flush_denormal_active()))
            return x.flatten(1)[:, :3] * 0.0

        DDPMGenerator(tiny(num_inference_steps=1)).generate(torch.tensor([0]), guidance=spy)
        assert seen == [(1, True)]
        assert torch.get_num_threads() == 2 and not flush_denormal_active()
    finally:
        torch.set_num_threads(1)
        torch.set_flush_denormal(False)


# -- classifier guidance: Algorithm 1 (DDPM) and Algorithm 2 (DDIM) ---------------------------
class OracleEps(nn.Module):
    """A denoiser that 'predicts' the true noise of x_t, so the unguided step is exact and the only
    difference between the guided and the unguided step is the guidance term."""

    def __init__(self, eps):
        super().__init__()
        self.eps = eps

    def forward(self, x, t, class_labels=None):
        return type("Out", (), {"sample": self.eps})()


def _guidance_shift_per_step(scale=1.0, seed=0):
    """For every timestep t of a 50-step respaced cosine chain (T=1000, trailing spacing): x_t from
    the toy images with a fixed noise ε, one guided and one unguided DDPM step with the same noise
    draw, and the expected shift Σ_t·s·g with Σ_t the variance the scheduler itself samples with
    (``DDPMScheduler._get_variance`` for the respaced step, ``fixed_small``) and g the classifier
    gradient at x_t. Returns [(t, measured shift, expected shift)]."""
    from bootdrift_avalanche.generators.ddpm.sampling import denoise_step, sampling_scheduler

    cfg = tiny(num_train_timesteps=1000, num_inference_steps=50)
    g = DDPMGenerator(cfg)
    sched = sampling_scheduler(g.scheduler, "ddpm")
    sched.set_timesteps(cfg.num_inference_steps)
    assert sched.config.variance_type == "fixed_small"
    x, y = toy_data(4, seed=seed)
    # float64, so that float32 rounding of x (~1e-7) does not blur the small shifts at small t
    x0, clf = (x * 2 - 1).double(), BrightnessClassifier(k=20.0)
    eps = torch.randn(x0.shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    out = []
    for t in sched.timesteps:
        x_t = sched.add_noise(x0, eps, t.expand(len(x0)))
        step = dict(cfg=cfg, sampler="ddpm", eta=0.0, classes=None)
        guided = denoise_step(OracleEps(eps), sched, x_t, t, y, guidance=clf, scale=scale,
                              rng=torch.Generator().manual_seed(1), **step)
        plain = denoise_step(OracleEps(eps), sched, x_t, t, y, guidance=None, scale=scale,
                             rng=torch.Generator().manual_seed(1), **step)
        grad = classifier_log_prob_grad(clf, x_t, y, cfg.value_range)
        out.append((int(t), guided - plain, float(sched._get_variance(t)) * scale * grad))
    return out


def test_ddpm_guidance_moves_the_posterior_mean_by_sigma_s_grad_at_every_step():
    """Algorithm 1 of Dhariwal & Nichol (guided-diffusion's condition_mean): the guided step is the
    unguided one (same noise draw) moved by Σ_t·s·∇log p(y|x_t), added after the clip of x0, so
    the ratio measured/expected is 1 at every step (the ε-form shift used before gave 0.4-1.9)."""
    shifts = _guidance_shift_per_step(scale=2.0)
    assert len(shifts) == 50
    for t, measured, expected in shifts[:-1]:
        ratio = float((measured * expected).sum() / (expected * expected).sum())
        assert abs(ratio - 1) < 0.02, (t, ratio)
        torch.testing.assert_close(measured, expected, rtol=0.02, atol=1e-6 * float(expected.abs().max()))
    t_last, measured, _ = shifts[-1]  # the last step has no noise and Σ = 0: no shift
    assert t_last == 19 and float(measured.abs().max()) < 1e-6


def test_ddim_guidance_shifts_the_noise_prediction():
    """Algorithm 2 (guided-diffusion's condition_score) for DDIM: ε̂ − sqrt(1−ᾱ_t)·s·g, x0 from it."""
    from bootdrift_avalanche.generators.ddpm.sampling import denoise_step, sampling_scheduler

    cfg = tiny(num_train_timesteps=1000, num_inference_steps=20)
    sched = sampling_scheduler(DDPMGenerator(cfg).scheduler, "ddim")
    sched.set_timesteps(cfg.num_inference_steps)
    x, y = toy_data(4)
    eps = torch.randn(x.shape, generator=torch.Generator().manual_seed(0))
    clf = BrightnessClassifier()
    for t in sched.timesteps[[0, 10, -1]]:
        x_t = sched.add_noise(x * 2 - 1, eps, t.expand(len(x)))
        got = denoise_step(OracleEps(eps), sched, x_t, t, y, cfg=cfg, sampler="ddim", eta=0.0,
                           rng=torch.Generator(), guidance=clf, scale=3.0, classes=None)
        shifted = eps - ((1 - sched.alphas_cumprod[int(t)]).sqrt() * 3.0
                         * classifier_log_prob_grad(clf, x_t, y, (0.0, 1.0)))
        want = sched.step(shifted, t, x_t, eta=0.0, use_clipped_model_output=True).prev_sample
        torch.testing.assert_close(got, want)


# -- the DDGR reference's training / sampling options ---------------------
def test_linear_lr_schedule_anneals_to_zero_over_each_fit():
    from bootdrift_avalanche.generators.ddpm.training import lr_at

    cfg = tiny(lr=1e-3, lr_schedule="linear")
    assert [lr_at(cfg, k, 4) for k in range(4)] == pytest.approx([1e-3, 7.5e-4, 5e-4, 2.5e-4])
    assert lr_at(tiny(lr=1e-3), 3, 4) == 1e-3  # the default stays constant
    x, y = toy_data(8)
    lin = DDPMGenerator(cfg).fit(x, y, steps=4)
    assert (lin.last_fit_info["lr_first"], lin.last_fit_info["lr_last"]) == pytest.approx((1e-3, 2.5e-4))
    lin.fit(x, y, steps=2)  # the next fit anneals again from lr, over its own steps
    assert (lin.last_fit_info["lr_first"], lin.last_fit_info["lr_last"]) == pytest.approx((1e-3, 5e-4))
    const = DDPMGenerator(tiny(lr=1e-3)).fit(x, y, steps=4)
    assert const.last_fit_info["lr_last"] == 1e-3
    # same data, noise and first step: the weights part only once the rates differ
    lin1, const1 = DDPMGenerator(cfg).fit(x, y, steps=1), DDPMGenerator(tiny(lr=1e-3)).fit(x, y, steps=1)
    _assert_same_state(lin1, const1)
    assert any(not torch.equal(a, b) for a, b in zip(lin.unet.parameters(), const.unet.parameters()))


def test_sample_with_ema_false_samples_from_the_raw_weights():
    x, y = toy_data(8)
    raw = DDPMGenerator(tiny(sample_with_ema=False)).fit(x, y, steps=3)
    labels = torch.tensor([0, 1, 2])
    assert torch.equal(raw.generate(labels, seed=2), raw.generate(labels, seed=2, use_ema=False))
    assert not torch.equal(raw.generate(labels, seed=2), raw.generate(labels, seed=2, use_ema=True))
    assert raw.ema_updates == 3  # the EMA is still kept (and saved) for use_ema=True
    ema = DDPMGenerator(tiny()).fit(x, y, steps=3)  # the default samples from the EMA
    assert torch.equal(ema.generate(labels, seed=2), ema.generate(labels, seed=2, use_ema=True))


def test_reference_options_are_validated():
    with pytest.raises(ValueError, match="lr_schedule must be one of"):
        tiny(lr_schedule="cosine")
    with pytest.raises(ValueError, match="sample_with_ema must be True or False"):
        tiny(sample_with_ema="no")
    c = DDPMConfig()
    assert c.lr_schedule == "constant" and c.sample_with_ema is True

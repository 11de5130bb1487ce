"""GAN Memory generator: exact start at the source generator, no forgetting, frozen base, label
routing, bank save/load, and that training really moves the samples. Tiny models (8x8, a few
thousand parameters) and a handful of steps."""
import pytest
import torch

from bootdrift_avalanche.experiments.config import PRESETS
from bootdrift_avalanche.generators.base import Generator, TrainableGenerator, from_unit_range
from bootdrift_avalanche.generators.gan_memory import GANMemoryConfig, GANMemoryGenerator
from bootdrift_avalanche.generators.gan_memory.modulated_layers import ModulatedConv2d, ModulatedLinear, modulate
from bootdrift_avalanche.runtime import checkpoint


def tiny(image_shape=(1, 8, 8), num_classes=10, **over) -> GANMemoryConfig:
    """The tiny preset: a few thousand parameters and a handful of steps."""
    return PRESETS["tiny"].gan_memory_config(image_shape=image_shape, num_classes=num_classes, **over)


def _data(classes, n_per_class=12, seed=0):
    g = torch.Generator().manual_seed(seed)
    y = torch.tensor(classes).repeat_interleave(n_per_class)
    x = torch.rand(len(y), 1, 8, 8, generator=g)
    return x, y


def _clone_state(module):
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


@pytest.fixture(scope="module")
def three_tasks():
    """A memory that learned tasks {0,1} (base = first experience), {2,3}, {4,5}, with snapshots
    of task 0's samples, the base and task 0's parameters taken right after the first task."""
    torch.manual_seed(0)
    gm = GANMemoryGenerator(tiny(base_steps=3, task_steps=3))
    gm.fit(*_data([0, 1], seed=1))
    z = torch.randn(10, gm.config.z_dim, generator=torch.Generator().manual_seed(5))
    labels0 = torch.tensor([0, 1] * 5)
    snap = dict(
        z=z,
        labels0=labels0,
        images0=gm.generate(labels0, z=z),
        seeded0=gm.generate(labels0, seed=3),
        base_g=_clone_state(gm.generator),
        base_d=_clone_state(gm.discriminator),
        task0=_clone_state(gm.bank.get(0)),
    )
    gm.fit(*_data([2, 3], seed=2))
    gm.fit(*_data([4, 5], seed=3))
    return gm, snap


# (a) a new task starts exactly at the source generator -----------------------------------------
@pytest.mark.parametrize("layer", [ModulatedConv2d(3, 5, 3), ModulatedLinear(7, 6)])
def test_modulated_layer_init_reconstructs_base_weight(layer):
    trained = layer.weight.detach().clone()
    with torch.no_grad():
        layer.weight[0].fill_(0.25)  # a constant slice: σ = 0, handled by the floor on σ
        trained[0].fill_(0.25)
    layer.freeze()
    style = layer.new_style()
    stat_shape = (5, 3, 1, 1) if isinstance(layer, ModulatedConv2d) else (6, 1)
    assert style.gamma.shape == stat_shape and style.beta.shape == stat_shape
    assert torch.equal(style.gamma, layer.w_sigma) and torch.equal(style.beta, layer.w_mu)
    w_hat = modulate(layer.w_norm, style.gamma, style.beta)
    assert torch.equal(w_hat, layer.weight)  # bit-identical to the frozen kernel
    torch.testing.assert_close(w_hat, trained, rtol=0, atol=1e-6)  # and to the trained one
    assert torch.equal(w_hat[0], trained[0])
    # normalisation really is per (out, in) pair / per output row
    dims = (2, 3) if isinstance(layer, ModulatedConv2d) else (1,)
    torch.testing.assert_close(layer.w_norm[1:].mean(dims), torch.zeros_like(layer.w_norm[1:].mean(dims)),
                               atol=1e-5, rtol=0)
    x = torch.randn(2, 3, 4, 4) if isinstance(layer, ModulatedConv2d) else torch.randn(2, 7)
    assert torch.equal(layer(x, style), layer(x))


def test_fresh_task_output_equals_base_output():
    gm = GANMemoryGenerator(tiny(base_steps=5))
    gm.fit_base(*_data([0, 1]), labels_are_global=True)
    G, D = gm.generator, gm.discriminator
    z = torch.randn(6, gm.config.z_dim)
    mod0 = gm.add_task(0, [0, 1])  # classes the base learned: starts at their own base rows
    mod1 = gm.add_task(1, [2, 3])  # new classes: starts at the base with its mean class row
    local = torch.tensor([0, 1, 1, 0, 0, 1])
    with torch.no_grad():
        base_src = G(z, G.class_embed[local])
        mean_row = G.class_embed[[0, 1]].mean(0)
        base_new = G(z, mean_row.expand(6, -1))
        assert torch.equal(G(z, mod0.class_bias[local], mod0), base_src)
        assert torch.equal(G(z, mod1.class_bias[local], mod1), base_new)
        # through the public API: generate() == base output mapped to the value range
        assert torch.equal(gm.generate(local, z=z), from_unit_range(base_src, gm.config.value_range))
        # the per-task discriminator (modulation + head) also starts at the base discriminator
        x = torch.rand(6, 1, 8, 8) * 2 - 1
        d_mod = gm._new_discriminator_modulation([0, 1])
        assert torch.equal(D(x, local, d_mod), D(x, local))
    # modulation has the reference's shapes: γ, β per (out, in) pair, bias per output channel
    conv = G.blocks[0].conv_0
    style = mod1.styles[conv.style_key]
    assert style.gamma.shape == (conv.out_channels, conv.in_channels, 1, 1)
    assert style.bias.shape == (conv.out_channels,) and not style.bias.any()


def test_task_parameter_count_matches_layer_shapes():
    gm = GANMemoryGenerator(tiny(base_steps=1))
    gm.fit_base(*_data([0, 1]), labels_are_global=True)
    gm.add_task(7, [3, 4, 5])
    expected = 0
    for m in gm.generator.modulated_layers():
        if isinstance(m, ModulatedConv2d):
            expected += 2 * m.out_channels * m.in_channels + m.out_channels
        else:
            expected += 2 * m.out_features + m.out_features
    expected += 3 * gm.generator.fc_out  # class bias, one row per task class
    assert gm.task_parameter_count(7) == expected
    assert gm.task_parameter_count(7) < gm.base_parameter_count()


# (b) no forgetting and (c) frozen base -----------------------------------------------------------
def test_no_forgetting_task0_images_bit_identical(three_tasks):
    gm, snap = three_tasks
    assert gm.task_ids == [0, 1, 2] and gm.seen_classes == [0, 1, 2, 3, 4, 5]
    assert torch.equal(gm.generate(snap["labels0"], z=snap["z"]), snap["images0"])
    again = gm.generate(snap["labels0"], seed=3)
    assert torch.equal(again, snap["seeded0"])
    for k, v in gm.bank.get(0).state_dict().items():
        assert torch.equal(v, snap["task0"][k]), k
    assert all(not p.requires_grad for t in gm.task_ids for p in gm.bank.get(t).parameters())


def test_base_weights_never_change_after_freeze(three_tasks):
    gm, snap = three_tasks
    for net, ref in ((gm.generator, snap["base_g"]), (gm.discriminator, snap["base_d"])):
        state = net.state_dict()
        assert state.keys() == ref.keys()
        for k, v in state.items():
            assert torch.equal(v, ref[k]), k
        assert all(not p.requires_grad for p in net.parameters())
    with pytest.raises(RuntimeError, match="already trained and frozen"):
        gm.fit_base(*_data([0, 1]))


def test_tasks_do_learn_something(three_tasks):
    # guards the two tests above against passing vacuously (nothing trained at all)
    gm, _ = three_tasks
    for t in gm.task_ids:
        fc = gm.bank.get(t).styles["fc"]
        assert not torch.equal(fc.gamma, gm.generator.fc.w_sigma)


# (d) label routing and errors --------------------------------------------------------------------
def test_labels_routed_to_their_task(three_tasks):
    gm, _ = three_tasks
    labels = torch.tensor([4, 0, 2, 5, 1, 3, 0])
    z = torch.randn(len(labels), gm.config.z_dim)
    out = gm.generate(labels, z=z)
    assert out.shape == (7, 1, 8, 8)
    assert 0.0 <= float(out.min()) and float(out.max()) <= 1.0
    for t in gm.task_ids:
        sel = torch.tensor([gm.task_of(int(c)) == t for c in labels])
        with torch.no_grad():
            own = from_unit_range(gm(z[sel], labels[sel], task_id=t), gm.config.value_range)
        torch.testing.assert_close(out[sel], own, rtol=0, atol=1e-6)
    # another task's modulation gives other images for the same noise and within-task class
    with torch.no_grad():
        a = gm(z[:1], torch.tensor([0]), task_id=0)
        b = gm(z[:1], torch.tensor([2]), task_id=1)
    assert not torch.allclose(a, b)
    # select_task pins forward() to one task
    gm.select_task(2)
    try:
        with torch.no_grad():
            torch.testing.assert_close(gm(z[:2], torch.tensor([4, 5])),
                                       gm(z[:2], torch.tensor([4, 5]), task_id=2), rtol=0, atol=0)
        with pytest.raises(ValueError, match=r"do not belong to this task"):
            gm(z[:1], torch.tensor([0]))
    finally:
        gm.select_task(None)


def test_routing_errors_are_clear(three_tasks):
    gm, _ = three_tasks
    with pytest.raises(ValueError, match=r"no task for class\(es\) \[7, 9\]"):
        gm.generate(torch.tensor([0, 9, 7]))
    with pytest.raises(ValueError, match="built for 10 classes"):
        gm.generate(torch.tensor([10]))
    with pytest.raises(TypeError, match="integer"):
        gm.generate(torch.tensor([0.0]))
    with pytest.raises(ValueError, match=r"classes \[2\] already belong to task"):
        gm.add_task(9, [2, 8])
    with pytest.raises(RuntimeError, match="never revisits"):
        gm.fit_task(1, *_data([2, 3]))
    with pytest.raises(KeyError, match="no task 42"):
        gm.select_task(42)
    x, y = _data([6, 7])
    with pytest.raises(ValueError, match="differ in number"):
        gm.fit(x, y[:-1])
    assert gm.task_ids == [0, 1, 2]  # a rejected fit leaves no half-made task


def test_misuse_before_base_and_bad_configs():
    gm = GANMemoryGenerator(tiny(source="separate"))
    with pytest.raises(RuntimeError, match="fit_base"):
        gm.fit(*_data([0, 1]))
    with pytest.raises(RuntimeError, match="no base GAN yet"):
        gm.add_task(0, [0])
    with pytest.raises(RuntimeError, match="no trained task"):
        gm.generate(torch.tensor([0]))
    with pytest.raises(ValueError, match="must lie in"):
        gm.fit_base(torch.full((4, 1, 8, 8), 2.0))
    with pytest.raises(ValueError, match="power of two"):
        GANMemoryGenerator(tiny(image_shape=(1, 12, 12)))
    with pytest.raises(ValueError, match="source must be one of"):
        tiny(source="pretrained")


def test_networks_sized_by_image_size():
    gm = GANMemoryGenerator(tiny(image_shape=(3, 32, 32), base_steps=1))
    assert len(gm.generator.blocks) == 4 and len(gm.discriminator.blocks) == 4  # 4 -> 8 -> 16 -> 32
    assert gm.generator.channels == [8, 8, 8, 4]  # doubling towards 4x4, capped at max_channels
    x, y = _data([0, 1], n_per_class=2)
    gm.fit(x.repeat(1, 3, 4, 4), y)
    assert gm.generate(torch.tensor([1, 0])).shape == (2, 3, 32, 32)


def test_separate_source_and_value_range():
    # base from a separate, unlabelled source; tasks then start from the mean (single) source row
    cfg = tiny(source="separate", value_range=(0.0, 255.0), num_classes=4)
    gm = GANMemoryGenerator(cfg)
    x_src, _ = _data([0, 0])
    gm.fit_base(x_src * 255)
    x, y = _data([1, 3])
    gm.fit(x * 255, y)
    assert gm.task_ids == [0] and gm.classes_of(0) == [1, 3]
    out = gm.generate(torch.tensor([1, 3, 3]))
    assert out.shape == (3, 1, 8, 8) and float(out.min()) >= 0 and float(out.max()) <= 255
    assert isinstance(gm, Generator) and isinstance(gm, TrainableGenerator)


# (e) save / load ---------------------------------------------------------------------------------
def test_bank_and_full_state_round_trip(three_tasks, tmp_path):
    gm, _ = three_tasks
    labels = torch.tensor([0, 1, 2, 3, 4, 5])
    z = torch.randn(6, gm.config.z_dim)
    ref = gm.generate(labels, z=z)

    # base checkpoint + bank checkpoint (only modulation parameters) into a fresh object
    gm.save_bank(tmp_path / "bank.pt")
    bank = torch.load(tmp_path / "bank.pt", weights_only=True)
    assert all(k == "base_signature" or k.startswith("tasks.") for k in bank)
    assert not any("conv_s" in k or "conv_img" in k for k in bank)  # frozen layers stay out
    fresh = GANMemoryGenerator(gm.config)
    fresh.load_base_state_dict(gm.base_state_dict())
    fresh.load_bank(tmp_path / "bank.pt")
    assert fresh.task_ids == gm.task_ids and fresh.seen_classes == gm.seen_classes
    assert torch.equal(fresh.generate(labels, z=z), ref)
    assert all(not p.requires_grad for p in fresh.parameters())  # trained tasks come back frozen

    # the whole model (config + base + bank)
    gm.save(tmp_path / "full.pt")
    loaded = GANMemoryGenerator.load(tmp_path / "full.pt")
    assert torch.equal(loaded.generate(labels, z=z), ref)
    assert loaded.task_parameter_count(1) == gm.task_parameter_count(1)

    # a bank must not be loaded onto a different base
    other = GANMemoryGenerator(tiny(base_steps=2, seed=1))
    other.fit_base(*_data([0, 1]), labels_are_global=True)
    with pytest.raises(ValueError, match="different base generator"):
        other.load_bank(tmp_path / "bank.pt")


# (f) training moves the samples towards the data --------------------------------------------------
def _pattern_data(kind, n=48):
    """Per class, a clean half-bright pattern plus a little noise: class means are easy targets."""
    g = torch.Generator().manual_seed(0)
    x = torch.rand(2 * n, 1, 8, 8, generator=g) * 0.1
    if kind == "left_right":
        x[:n, ..., :4] += 0.85
        x[n:, ..., 4:] += 0.85
    else:  # top/bottom
        x[:n, ..., :4, :] += 0.85
        x[n:, ..., 4:, :] += 0.85
    return x, torch.arange(2).repeat_interleave(n)


def _class_mean_error(gm, x, y, classes):
    """Mean squared distance between generated and real per-class mean images."""
    err = 0.0
    for k, c in enumerate(classes):
        s = gm.generate(torch.full((64,), c), seed=11)
        err += float((s.mean(0) - x[y == k].mean(0)).pow(2).mean())
    return err / len(classes)


def test_short_fit_moves_samples_towards_data():
    # Measured margins at these settings: base error 0.03-0.06x the untrained one, task error
    # 0.07-0.10x its value at the start of the task (seeds 0-6); the thresholds leave room.
    small = dict(base_channels=8, max_channels=16, z_dim=8, batch_size=16)
    gm = GANMemoryGenerator(tiny(**small, lr=3e-3, base_steps=40, task_steps=40, r1_every=2))
    x0, y0 = _pattern_data("left_right")
    gm.fit_base(x0, y0, labels_are_global=True)
    gm.add_task(0, [0, 1])  # starts exactly at the trained base
    base_err = _class_mean_error(gm, x0, y0, [0, 1])
    untrained = GANMemoryGenerator(tiny(**small, base_steps=0))
    untrained.fit_base(x0[:2], y0[:2], labels_are_global=True)
    untrained.add_task(0, [0, 1])
    assert base_err < 0.3 * _class_mean_error(untrained, x0, y0, [0, 1])

    # a new task on another pattern, learned by modulation only, moves towards its own data
    x1, y1 = _pattern_data("top_bottom")
    gm.add_task(1, [2, 3])
    before = _class_mean_error(gm, x1, y1, [2, 3])
    gm.fit_task(1, x1, y1 + 2)
    after = _class_mean_error(gm, x1, y1, [2, 3])
    assert after < 0.4 * before
    assert [s.phase for s in gm.fit_log] == ["base", "task"] and gm.fit_log[-1].steps == 40
    assert len(gm.fit_log[-1].history) == 40


# (g) atomic saves, the fit protocol and the EMA ---------------------------------------------------
def test_save_and_save_bank_are_atomic(three_tasks, tmp_path, monkeypatch):
    """A save that fails mid-write (here: the final rename) leaves the previous file intact and no
    temporary file behind; a completed save returns the SHA-256 of what it wrote."""
    import hashlib

    gm, _ = three_tasks
    for save, name in ((gm.save, "full.pt"), (gm.save_bank, "bank.pt")):
        path = tmp_path / name
        digest = save(path)
        good = path.read_bytes()
        assert digest == hashlib.sha256(good).hexdigest()

        def crash(src, dst):
            raise OSError("disk full")

        monkeypatch.setattr(checkpoint.os, "replace", crash)
        with pytest.raises(OSError, match="disk full"):
            save(path)
        monkeypatch.undo()
        assert path.read_bytes() == good
        assert sorted(p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")) == []
    labels = torch.tensor([0, 3, 5])
    assert torch.equal(GANMemoryGenerator.load(tmp_path / "full.pt").generate(labels, seed=1),
                       gm.generate(labels, seed=1))


def test_fit_protocol_steps_and_cpu_float_output():
    gm = GANMemoryGenerator(tiny())
    x, y = _data([0, 1])
    assert gm.fit(x, y, steps=2, progress=True) is gm
    assert [(s.phase, s.steps) for s in gm.fit_log] == [("base", 4), ("task", 2)]  # steps= sets the task's
    gm.fit(*_data([2, 3]), task_id=5)
    assert gm.task_ids == [0, 5] and gm.fit_log[-1].steps == 4
    out = gm.generate(torch.tensor([0, 2]), seed=0)
    assert out.dtype == torch.float32 and out.device.type == "cpu"
    with pytest.raises(ValueError, match="steps must be >= 0"):
        gm.fit(*_data([6]), steps=-1)
    assert gm.task_ids == [0, 5]


def test_generator_ema_is_applied_and_deterministic():
    x, y = _data([0, 1])
    plain = GANMemoryGenerator(tiny()).fit(x, y)
    a = GANMemoryGenerator(tiny(ema_decay=0.9)).fit(x, y)
    b = GANMemoryGenerator(tiny(ema_decay=0.9)).fit(x, y)
    labels = torch.tensor([0, 1, 1])
    assert torch.equal(a.generate(labels, seed=2), b.generate(labels, seed=2))
    assert not torch.equal(a.generate(labels, seed=2), plain.generate(labels, seed=2))


def test_presets_table_builds_gan_memory_configs():
    c = PRESETS["cpu-small"].gan_memory_config(image_shape=(1, 8, 8), num_classes=10)
    assert (c.z_dim, c.base_channels, c.max_channels, c.lr, c.r1_every) == (16, 16, 32, 1e-3, 4)
    assert (c.base_steps, c.task_steps, c.ema_decay, c.threads) == (800, 400, 0.999, 1)
    p = PRESETS["paper"].gan_memory_config(image_shape=(3, 64, 64), num_classes=102)
    assert p.hflip and p.max_channels == 1024 and p.batch_size == 16 and p.device == "cpu"
    assert GANMemoryGenerator(tiny()).generator.channels == [8, 4]  # 4x4 -> 8x8, capped at max_channels

"""GAN Memory (Cong, Zhao, Li, Wang, Carin, "GAN Memory with No Forgetting", NeurIPS 2020) as a
class-conditional generator that follows the ``Generator`` protocol of ``generators/base.py``.

The method: a base GAN (GP-GAN ResNet generator and discriminator, Mescheder et al. 2018) is
trained once on a *source* dataset and frozen. Every later task learns only style-modulation
parameters of the frozen generator (Ŵ = γ ⊙ (W − μ)/σ + β per 3x3 kernel and for the first linear
layer, plus a per-task bias and a per-task class bias; see ``gan_memory_layers.py``), starting
exactly at the source generator (γ = σ, β = μ). A trained task's parameters are frozen, so the
generator memory of old tasks never changes: ``generate(labels)`` routes each label to the task
that learned it and uses that task's modulation.

Where the base comes from (``GANMemoryConfig.source``):

* ``"first_experience"`` (default): the first call of ``fit(x, y)`` trains the base fully on that
  experience's data, freezes it, then adds task 0 for those classes and trains its modulation
  (starting from the base, whose class rows it copies). This is the only choice on an offline
  machine with Split Digits (no pretrained GAN exists for 8x8 digits), and the one used by the
  Split Digits example.
* ``"separate"``: call ``fit_base(x_src, y_src)`` with a separate source dataset (or
  ``load_base_state_dict`` with a saved base) before the first task: the paper's setting, a GP-GAN
  pretrained on CelebA, then Flowers, Cathedrals, Cats, ... ``fit`` then refuses to start without
  a base rather than silently falling back to the first experience.

Per benchmark: Split Digits uses the first experience (no pretrained 8x8 GAN exists, and the
machine may be offline). Split CIFAR-100 in the DDGR protocol starts with a 50-class task, a broad
source, so the first experience is a sound default there too. Split Flowers102 is where a separate
source matters most (the first experience has only a few flower classes): pass a base trained on
another 64x64 dataset when one is available; offline, the first experience is the fallback. The
reference's CelebA checkpoint cannot be loaded here (256 px, 1024-channel GP-GAN, another layout).

Training (both phases): non-saturating GAN loss, R1 penalty on real data with weight
``r1_weight`` (γ/2 · E‖∇ₓD(x)‖², Mescheder et al. 2018), Adam(lr 1e-4, betas (0, 0.99)) as in the
reference, and an exponential moving average of the generator's trainable parameters (the
reference's generator EMA 0.999), copied into the model at the end of each phase.

The discriminator during a task: a fresh modulation of the frozen base discriminator (same γ/β
scheme on its 3x3 convs) plus a per-task head with one logit per task class, initialised from the
base head (copied rows for classes the base learned, their mean for new ones). Only these are
trained, as in the reference (D's AdaFM + fc). They are discarded after the task: generation needs
the generator alone, and each task starts its discriminator from the frozen base again.

Deviations from the reference, each for a reason:

* the class bias of a new task starts at the base's class bias (a copied row for a class the base
  learned, the mean of the learned rows otherwise) instead of a random linear layer, so a new
  task starts *exactly* at the source generator (for a new class: the base evaluated at its mean
  class bias);
* the base generator is class-conditional through the same additive class bias at the first
  layer (the reference base had a single CelebA class);
* the output conv is 3x3 (the reference's 7x7 suits 256 px, not 8x8 digits).
"""
from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field, replace
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from tqdm.auto import tqdm

from .base import (
    check_finite_samples,
    from_unit_range,
    to_unit_range,
    validate_images,
    validate_labels,
)
from .gan_memory_layers import (
    DiscriminatorModulation,
    GeneratorModulation,
    ModulatedConv2d,
    ModulatedLinear,
    ModulationBank,
    ResNetDiscriminator,
    ResNetGenerator,
    StyleParams,
    base_signature,
)

__all__ = [
    "GANMemoryConfig",
    "GANMemory",
    "FitStats",
    "ModulatedConv2d",
    "ModulatedLinear",
    "ModulationBank",
    "GeneratorModulation",
    "StyleParams",
]

SOURCES = ("first_experience", "separate")


@dataclass
class GANMemoryConfig:
    """Everything that sizes and trains a GAN Memory. Presets: ``tiny`` (tests), ``cpu_small``
    (Split Digits on a CPU, tuned and measured), ``paper`` (64x64 on a GPU, the reference's
    optimiser settings). The plain defaults pair the reference's optimiser with a small 8x8
    network and are not tuned: start from a preset."""

    image_shape: Tuple[int, int, int] = (1, 8, 8)  # (C, H, W); square, side a power of two >= 8
    num_classes: int = 10  # global class ids 0..num_classes-1 that tasks may own
    value_range: Tuple[float, float] = (0.0, 1.0)  # range of training images and of generate()'s output
    z_dim: int = 32  # latent size (reference: 256)
    base_channels: int = 32  # channels at the image resolution; doubles per halving (reference nf=64)
    max_channels: int = 64  # cap on channels at low resolution (reference: 16·nf = 1024)
    num_source_classes: Optional[int] = None  # classes of the base's own table; None -> num_classes
    source: str = "first_experience"  # where the base comes from: "first_experience" or "separate"
    lr: float = 1e-4  # Adam learning rate of G and D in both phases (reference: 1e-4)
    betas: Tuple[float, float] = (0.0, 0.99)  # Adam betas (reference / GP-GAN: (0, 0.99))
    r1_weight: float = 10.0  # γ of the R1 penalty γ/2·E‖∇D(x_real)‖² (reference: 10)
    r1_every: int = 1  # R1 on every k-th D step, weighted by k (StyleGAN2's lazy R1); reference: 1
    batch_size: int = 64  # mini-batch of real and of fake images per step (reference: 16)
    base_steps: int = 2000  # optimiser steps training the base GAN
    task_steps: int = 600  # optimiser steps training one task's modulation
    ema_decay: float = 0.999  # generator EMA (reference: 0.999); 0 disables
    hflip: bool = False  # random horizontal flips of real images (reference: on; off for digits)
    sample_batch_size: int = 512  # images per forward pass in generate()
    seed: int = 0  # seeds the initial weights, the training noise and the mini-batch draws
    device: str = "cpu"  # where the networks live and train
    progress: bool = True  # tqdm bars during fit (TQDM_DISABLE=1 also silences them)

    def __post_init__(self):
        self.image_shape = tuple(int(s) for s in self.image_shape)
        self.value_range = tuple(float(v) for v in self.value_range)
        self.betas = tuple(float(b) for b in self.betas)
        if len(self.image_shape) != 3:
            raise ValueError(f"image_shape must be (C, H, W), got {self.image_shape}")
        if self.source not in SOURCES:
            raise ValueError(f"source must be one of {SOURCES}, got {self.source!r}")
        if self.num_classes < 1:
            raise ValueError(f"num_classes must be >= 1, got {self.num_classes}")
        if self.value_range[0] >= self.value_range[1]:
            raise ValueError(f"value_range must be (low, high) with low < high, got {self.value_range}")
        for name in ("z_dim", "base_channels", "max_channels", "batch_size", "sample_batch_size", "r1_every"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        for name in ("base_steps", "task_steps"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")
        if not 0.0 <= self.ema_decay < 1.0:
            raise ValueError(f"ema_decay must be in [0, 1), got {self.ema_decay}")
        if self.r1_weight < 0:
            raise ValueError(f"r1_weight must be >= 0, got {self.r1_weight}")

    @property
    def source_classes(self) -> int:
        return self.num_classes if self.num_source_classes is None else self.num_source_classes

    @classmethod
    def tiny(cls, **overrides) -> "GANMemoryConfig":
        """A few thousand parameters and a handful of steps: for unit tests only."""
        base = dict(image_shape=(1, 8, 8), z_dim=8, base_channels=4, max_channels=8, batch_size=8,
                    base_steps=4, task_steps=4, ema_decay=0.0, progress=False)
        return cls(**{**base, **overrides})

    @classmethod
    def cpu_small(cls, **overrides) -> "GANMemoryConfig":
        """Split Digits (1x8x8, 5 tasks of 2 classes) on one CPU thread: base on the first
        experience plus five task modulations in about 80 CPU-seconds (150 s wall on a 2-core
        machine shared with other jobs).

        Measured (scikit-learn digits, train split, seeded class order): a logistic regression
        trained on real digits labels 96.5% of 1,000 generated samples correctly (96.7% on the real
        test set; weakest class 8 at 80%); per-class sample spread is 80-95% of the real one;
        8,288 modulation parameters per task against 39,921 in the base generator. The learning
        rate is 10x the reference's and R1 is lazy (every 4th step) to fit in that time: at lr
        1e-4 the same 400 base steps gave ~50% sample accuracy.
        """
        base = dict(image_shape=(1, 8, 8), z_dim=16, base_channels=16, max_channels=32, batch_size=32,
                    lr=1e-3, r1_every=4, base_steps=400, task_steps=200, ema_decay=0.999)
        return cls(**{**base, **overrides})

    @classmethod
    def paper(cls, **overrides) -> "GANMemoryConfig":
        """64x64 RGB on a GPU with the reference's optimiser settings (lr 1e-4, betas (0, 0.99),
        R1 10, batch 16, 60k iterations per task, EMA 0.999, flips) and its channel plan scaled to
        64 px (1024 channels at 4x4 halving to 64 at 64x64, z 256). Pass ``device="cuda"``: like
        every config it defaults to the CPU."""
        base = dict(image_shape=(3, 64, 64), z_dim=256, base_channels=64, max_channels=1024,
                    batch_size=16, base_steps=60_000, task_steps=60_000, ema_decay=0.999, hflip=True,
                    sample_batch_size=128)
        return cls(**{**base, **overrides})


@dataclass
class FitStats:
    """What one training phase did, for logs: phase, task, steps, seconds and final-loss means."""

    phase: str
    task_id: Optional[int]
    steps: int
    seconds: float
    d_loss: float = float("nan")
    g_loss: float = float("nan")
    r1: float = float("nan")
    history: List[Tuple[float, float]] = field(default_factory=list)  # (d_loss, g_loss) per step


def _gan_training(
    *,
    generate_fake: Callable[[Tensor, Tensor], Tensor],
    discriminate: Callable[[Tensor, Tensor], Tensor],
    g_params: List[nn.Parameter],
    d_params: List[nn.Parameter],
    x: Tensor,
    y: Tensor,
    cfg: GANMemoryConfig,
    steps: int,
    seed: int,
    desc: str,
) -> FitStats:
    """Non-saturating GAN + R1 on real data, alternating one D and one G step; EMA of ``g_params``
    copied into them at the end. ``x`` in [-1, 1] on the training device, ``y`` local class ids."""
    stats = FitStats(phase=desc, task_id=None, steps=steps, seconds=0.0)
    if steps == 0:
        return stats
    dev = x.device
    gen = torch.Generator(device=dev)
    gen.manual_seed(seed)
    opt_g = torch.optim.Adam(g_params, lr=cfg.lr, betas=cfg.betas)
    opt_d = torch.optim.Adam(d_params, lr=cfg.lr, betas=cfg.betas)
    ema = [p.detach().clone() for p in g_params] if cfg.ema_decay > 0 else None
    n, bs = x.shape[0], cfg.batch_size
    # Per-step losses stay on the device (no host sync per step on a GPU); NaN marks steps without R1.
    hist = torch.full((steps, 3), float("nan"), device=dev)
    t0 = time.perf_counter()
    bar = tqdm(range(steps), desc=desc, disable=not cfg.progress, leave=False)
    for step in bar:
        idx = torch.randint(0, n, (bs,), generator=gen, device=dev)
        x_real, y_real = x[idx], y[idx]
        if cfg.hflip:
            flip = torch.rand(bs, generator=gen, device=dev) < 0.5
            x_real = torch.where(flip.view(-1, 1, 1, 1), x_real.flip(-1), x_real)

        # Discriminator step: softplus(D(fake)) + softplus(-D(real)) + γ/2·‖∇D(real)‖².
        z = torch.randn(bs, cfg.z_dim, generator=gen, device=dev)
        with torch.no_grad():
            x_fake = generate_fake(z, y_real)
        # The R1 double backward costs about as much as the rest of the D step: lazy R1 applies it
        # every r1_every-th step with a weight scaled by r1_every (same penalty on average).
        do_r1 = cfg.r1_weight > 0 and step % cfg.r1_every == 0
        x_real = x_real.detach().requires_grad_(do_r1)
        d_real = discriminate(x_real, y_real)
        d_fake = discriminate(x_fake, y_real)
        d_loss = F.softplus(d_fake).mean() + F.softplus(-d_real).mean()
        d_total = d_loss
        if do_r1:
            (grad,) = torch.autograd.grad(d_real.sum(), x_real, create_graph=True)
            r1 = grad.pow(2).flatten(1).sum(1).mean()
            d_total = d_loss + 0.5 * cfg.r1_weight * cfg.r1_every * r1
            hist[step, 2] = r1.detach()
        opt_d.zero_grad(set_to_none=True)
        d_total.backward()
        opt_d.step()

        # Generator step: non-saturating softplus(-D(G(z))). D's weights are switched off so the
        # backward pass does not compute gradients nobody uses.
        for p in d_params:
            p.requires_grad_(False)
        z = torch.randn(bs, cfg.z_dim, generator=gen, device=dev)
        g_loss = F.softplus(-discriminate(generate_fake(z, y_real), y_real)).mean()
        opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        opt_g.step()
        for p in d_params:
            p.requires_grad_(True)

        if ema is not None:
            # Warm-up (as in many GAN codebases): short runs are not dominated by the initial weights.
            decay = min(cfg.ema_decay, (1.0 + step) / (10.0 + step))
            with torch.no_grad():
                for e, p in zip(ema, g_params):
                    e.lerp_(p.detach(), 1.0 - decay)

        hist[step, 0], hist[step, 1] = d_loss.detach(), g_loss.detach()
        if step % 50 == 0 or step == steps - 1:  # a host sync now and then, not every step
            dl, gl = hist[step, :2].tolist()
            if not (math.isfinite(dl) and math.isfinite(gl)):
                raise FloatingPointError(f"{desc}: GAN loss became non-finite at step {step} (D {dl}, G {gl})")
            bar.set_postfix(d=f"{dl:.3f}", g=f"{gl:.3f}")
    bar.close()
    with torch.no_grad():
        for p in list(g_params) + list(d_params):
            p.grad = None
        if ema is not None:
            for e, p in zip(ema, g_params):
                p.copy_(e)
    hist = hist.cpu()
    tail = hist[-max(1, steps // 10):]  # final-loss means over the last 10% of steps
    stats.d_loss, stats.g_loss = tail[:, :2].mean(0).tolist()
    stats.r1 = float(tail[:, 2].nanmean()) if cfg.r1_weight > 0 else float("nan")
    stats.history = [tuple(r) for r in hist[:, :2].tolist()]
    stats.seconds = time.perf_counter() - t0
    return stats


class GANMemory(nn.Module):
    """GAN Memory: a frozen base GAN plus one style modulation per task; class-conditional.

    Typical use (``source="first_experience"``)::

        gm = GANMemory(GANMemoryConfig.cpu_small())
        for exp in stream:                 # each experience brings new classes
            gm.fit(x_exp, y_exp)           # first call: base + task 0; later: a new task
        images = gm.generate(torch.tensor([0, 3, 7]))   # in value_range, routed by label

    With ``source="separate"``: ``gm.fit_base(x_src, y_src)`` first. Finer control:
    ``add_task(task_id, classes)`` then ``fit_task(task_id, x, y)``.
    """

    def __init__(self, config: Optional[GANMemoryConfig] = None, **overrides):
        super().__init__()
        cfg = config or GANMemoryConfig()
        if overrides:
            cfg = replace(cfg, **overrides)
        self.config = cfg
        # Seed the initial weights without touching the caller's global RNG state.
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(cfg.seed)
            self.generator = ResNetGenerator(
                z_dim=cfg.z_dim, image_shape=cfg.image_shape, base_channels=cfg.base_channels,
                max_channels=cfg.max_channels, num_source_classes=cfg.source_classes,
            )
            self.discriminator = ResNetDiscriminator(
                image_shape=cfg.image_shape, base_channels=cfg.base_channels,
                max_channels=cfg.max_channels, num_source_classes=cfg.source_classes,
            )
        self.bank = ModulationBank()
        # Which rows of the base class table were trained, and whether they are global class ids
        # (source = first experience) or a separate source dataset's own labels.
        self.register_buffer("source_class_mask", torch.zeros(cfg.source_classes, dtype=torch.bool))
        self.register_buffer("source_labels_global", torch.zeros((), dtype=torch.bool))
        self.active_task: Optional[int] = None
        self.fit_log: List[FitStats] = []  # one entry per training phase, for the plugin's logs
        self.to(cfg.device)

    # ------------------------------------------------------------------ properties and lookups
    @property
    def device(self) -> torch.device:
        return self.generator.class_embed.device

    @property
    def has_base(self) -> bool:
        """Whether the base GAN is trained and frozen (tasks can be added)."""
        return self.generator.is_frozen

    @property
    def task_ids(self) -> List[int]:
        return self.bank.task_ids()

    @property
    def seen_classes(self) -> List[int]:
        """Global class ids the memory can generate, sorted."""
        return sorted(self.bank.class_owners())

    def classes_of(self, task_id: int) -> List[int]:
        return self.bank.get(task_id).classes.tolist()

    def task_of(self, label: int) -> int:
        owners = self.bank.class_owners()
        if int(label) not in owners:
            raise ValueError(self._unknown_msg([int(label)], owners))
        return owners[int(label)]

    def task_parameter_count(self, task_id: int) -> int:
        """Number of trainable parameters one task adds to the memory (γ, β, biases, class bias)."""
        return self.bank.get(task_id).num_parameters()

    def base_parameter_count(self) -> int:
        """Number of parameters of the base generator (what a task would cost without modulation)."""
        return sum(p.numel() for p in self.generator.parameters())

    def _unknown_msg(self, labels: Sequence[int], owners: Dict[int, int]) -> str:
        return (
            f"GAN Memory has no task for class(es) {sorted(set(labels))}; it can generate "
            f"{sorted(owners) or 'nothing yet'} (fit or add_task those classes first)"
        )

    # ------------------------------------------------------------------ base
    def fit_base(self, x: Tensor, y: Optional[Tensor] = None, *, labels_are_global: bool = False) -> "GANMemory":
        """Train the base generator and discriminator fully on a source dataset, then freeze them.

        Args:
            x: source images (N, C, H, W) in ``config.value_range``.
            y: source labels in ``[0, num_source_classes)``; ``None`` trains an unconditional base
                (every image class 0).
            labels_are_global: the source labels are the global class ids of the first task
                (``source="first_experience"``): a later task owning one of them then starts from
                that class's base row instead of the mean row.
        """
        if self.has_base:
            raise RuntimeError("the base GAN is already trained and frozen; GAN Memory trains it once")
        cfg = self.config
        validate_images(x, cfg.image_shape, cfg.value_range, what="source images")
        if y is None:
            y = torch.zeros(x.shape[0], dtype=torch.long)
        y = validate_labels(y, cfg.source_classes, what="source labels")
        if y.shape[0] != x.shape[0]:
            raise ValueError(f"source images and labels differ in number: {x.shape[0]} vs {y.shape[0]}")
        if x.shape[0] == 0:
            raise ValueError("fit_base needs at least one source image")
        xd = to_unit_range(x.to(self.device, torch.float32), cfg.value_range)
        yd = y.to(self.device)
        G, D = self.generator, self.discriminator
        G.train(), D.train()
        stats = _gan_training(
            generate_fake=lambda z, yy: G(z, G.class_embed[yy]),
            discriminate=lambda xx, yy: D(xx, yy),
            g_params=[p for p in G.parameters()],
            d_params=[p for p in D.parameters()],
            x=xd, y=yd, cfg=cfg, steps=cfg.base_steps, seed=cfg.seed, desc="GAN Memory base",
        )
        stats.phase = "base"
        self.fit_log.append(stats)
        G.freeze()
        D.freeze()
        G.eval(), D.eval()
        mask = torch.zeros_like(self.source_class_mask)
        mask[yd.unique()] = True
        self.source_class_mask.copy_(mask)
        self.source_labels_global.fill_(bool(labels_are_global))
        self.bank.base_signature.copy_(base_signature(G.parameters()))
        return self

    def _init_rows(self, table: Tensor, classes: Sequence[int]) -> Tensor:
        """Rows of a base per-class ``table`` for a new task's classes: a copied row for a class the
        base learned under the same global id, the mean of the learned rows otherwise."""
        learned = self.source_class_mask.nonzero().flatten()
        mean_row = table[learned].mean(0) if learned.numel() else torch.zeros_like(table[0])
        rows = []
        for c in classes:
            if bool(self.source_labels_global) and c < table.shape[0] and bool(self.source_class_mask[c]):
                rows.append(table[c])
            else:
                rows.append(mean_row)
        return torch.stack(rows).detach().clone()

    # ------------------------------------------------------------------ tasks
    def add_task(self, task_id: int, classes: Sequence[int]) -> GeneratorModulation:
        """Add a task owning the global ``classes``; its modulation starts exactly at the base."""
        if not self.has_base:
            raise RuntimeError(
                "no base GAN yet: call fit_base(x_src, y_src) first (or fit(x, y) with "
                "source='first_experience')"
            )
        classes_t = validate_labels(torch.as_tensor(list(classes)), self.config.num_classes, what="task classes")
        if classes_t.numel() == 0:
            raise ValueError("a task needs at least one class")
        if classes_t.unique().numel() != classes_t.numel():
            raise ValueError(f"task classes contain duplicates: {classes_t.tolist()}")
        class_rows = self._init_rows(self.generator.class_embed, classes_t.tolist())
        mod = self.generator.new_modulation(class_rows, classes_t.to(self.device))
        self.bank.add(int(task_id), mod.to(self.device))
        return mod

    def select_task(self, task_id: Optional[int]) -> "GANMemory":
        """Make ``task_id``'s modulation the one ``forward`` uses (``None``: route by label)."""
        if task_id is not None:
            self.bank.get(task_id)  # raises a clear KeyError for an unknown task
        self.active_task = task_id
        return self

    def _new_discriminator_modulation(self, classes: Sequence[int]) -> DiscriminatorModulation:
        head = self.discriminator.head
        w = self._init_rows(head.weight, classes)
        b = self._init_rows(head.bias.unsqueeze(1), classes).squeeze(1)
        return self.discriminator.new_modulation(w, b).to(self.device)

    def fit_task(self, task_id: int, x: Tensor, y: Tensor) -> "GANMemory":
        """Train only ``task_id``'s generator modulation (and a per-task discriminator modulation
        and head), then freeze the task for good."""
        cfg = self.config
        mod = self.bank.get(task_id)
        if bool(mod.trained):
            raise RuntimeError(
                f"task {task_id} is already trained and frozen; GAN Memory never revisits a task "
                "(add a new task for new data)"
            )
        validate_images(x, cfg.image_shape, cfg.value_range)
        y = validate_labels(y, cfg.num_classes)
        if y.shape[0] != x.shape[0]:
            raise ValueError(f"images and labels differ in number: {x.shape[0]} vs {y.shape[0]}")
        if x.shape[0] == 0:
            raise ValueError("fit_task needs at least one image")
        xd = to_unit_range(x.to(self.device, torch.float32), cfg.value_range)
        y_local = mod.local_labels(y.to(self.device))
        d_mod = self._new_discriminator_modulation(mod.classes.tolist())
        G, D = self.generator, self.discriminator
        stats = _gan_training(
            generate_fake=lambda z, yy: G(z, mod.class_bias[yy], mod),
            discriminate=lambda xx, yy: D(xx, yy, d_mod),
            g_params=list(mod.parameters()),
            d_params=list(d_mod.parameters()),
            x=xd, y=y_local, cfg=cfg, steps=cfg.task_steps,
            # A distinct, reproducible stream per task (not the base's).
            seed=cfg.seed * 1_000_003 + 7919 * (int(task_id) + 1),
            desc=f"GAN Memory task {task_id}",
        )
        stats.phase, stats.task_id = "task", int(task_id)
        self.fit_log.append(stats)
        self.bank.freeze(task_id)
        return self

    def fit(self, x: Tensor, y: Tensor, *, task_id: Optional[int] = None) -> "GANMemory":
        """Learn the classes of ``y`` as one new task (the ``TrainableGenerator`` protocol).

        Without a base yet and ``source="first_experience"``, the base is trained on this data
        first (source = first experience), then task ``task_id`` (default: next free id) for these
        classes is trained starting from it. With ``source="separate"``, ``fit_base`` must have run.
        """
        cfg = self.config
        # Validate everything before any state changes, so a bad call leaves no half-made task.
        validate_images(x, cfg.image_shape, cfg.value_range)
        y = validate_labels(y, cfg.num_classes)
        if y.shape[0] != x.shape[0]:
            raise ValueError(f"images and labels differ in number: {x.shape[0]} vs {y.shape[0]}")
        if not self.has_base:
            if cfg.source != "first_experience":
                raise RuntimeError(
                    "source='separate': call fit_base(x_src, y_src) with the source dataset before "
                    "the first task (or use source='first_experience')"
                )
            if cfg.source_classes < cfg.num_classes:
                raise ValueError(
                    "source='first_experience' indexes the base class table by global class id: "
                    f"num_source_classes ({cfg.source_classes}) must be >= num_classes ({cfg.num_classes})"
                )
            self.fit_base(x, y, labels_are_global=True)
        if task_id is None:
            task_id = max(self.task_ids, default=-1) + 1
        self.add_task(task_id, sorted(set(y.tolist())))
        try:
            return self.fit_task(task_id, x, y)
        except BaseException:
            # A task whose training failed (or was interrupted) would own its classes untrained.
            del self.bank.tasks[self.bank.key(task_id)]
            raise

    # ------------------------------------------------------------------ generation
    def _task_images(self, task_id: int, z: Tensor, labels: Tensor) -> Tensor:
        mod = self.bank.get(task_id)
        local = mod.local_labels(labels)
        return self.generator(z, mod.class_bias[local], mod)

    def forward(self, z: Tensor, labels: Tensor, *, task_id: Optional[int] = None) -> Tensor:
        """Images in [-1, 1] for latent ``z`` (B, z_dim) and global ``labels`` (B,).

        Uses ``task_id`` (or the task chosen with ``select_task``); with neither, each label is
        routed to the task that owns it.
        """
        task_id = self.active_task if task_id is None else task_id
        if task_id is not None:
            return self._task_images(task_id, z, labels)
        owners = self.bank.class_owners()
        label_list = labels.tolist()
        unknown = [c for c in label_list if c not in owners]
        if unknown:
            raise ValueError(self._unknown_msg(unknown, owners))
        task_of = torch.tensor([owners[c] for c in label_list], device=labels.device, dtype=torch.long)
        out = z.new_empty((z.shape[0], *self.config.image_shape))
        for t in sorted(set(task_of.tolist())):
            sel = (task_of == t).nonzero().flatten()
            out[sel] = self._task_images(t, z[sel], labels[sel])
        return out

    @torch.no_grad()
    def generate(self, labels: Tensor, *, z: Optional[Tensor] = None,
                 generator: Optional[torch.Generator] = None) -> Tensor:
        """One image per global label, in ``config.value_range``, on ``config.device``.

        Args:
            labels: 1-D integer tensor of class ids; each must belong to a task of the memory.
            z: optional latent codes (len(labels), z_dim) for reproducible samples.
            generator: optional ``torch.Generator`` (on the model's device) drawing ``z``; the codes
                are drawn for the whole label vector at once, so a label's sample does not depend
                on which other tasks exist.
        """
        cfg = self.config
        labels = validate_labels(labels, cfg.num_classes).to(self.device)
        if not self.task_ids:
            raise RuntimeError("GAN Memory has no trained task yet: call fit(x, y) first")
        n = labels.shape[0]
        if z is None:
            z = torch.randn(n, cfg.z_dim, generator=generator, device=self.device)
        elif tuple(z.shape) != (n, cfg.z_dim):
            raise ValueError(f"z must have shape ({n}, {cfg.z_dim}), got {tuple(z.shape)}")
        z = z.to(self.device, torch.float32)
        was_training = self.training
        self.eval()
        try:
            chunks = [
                self.forward(z[i:i + cfg.sample_batch_size], labels[i:i + cfg.sample_batch_size])
                for i in range(0, n, cfg.sample_batch_size)
            ]
        finally:
            self.train(was_training)
        x = torch.cat(chunks) if chunks else z.new_empty((0, *cfg.image_shape))
        check_finite_samples(x, where="GAN Memory")
        return from_unit_range(x, cfg.value_range)

    # ------------------------------------------------------------------ saving the memory
    def base_state_dict(self) -> Dict[str, Tensor]:
        """The frozen base GAN (generator, discriminator, source bookkeeping) without the bank."""
        return {k: v for k, v in self.state_dict().items() if not k.startswith("bank.")}

    def load_base_state_dict(self, state_dict: Dict[str, Tensor]) -> "GANMemory":
        """Load a base saved by ``base_state_dict`` (before adding or loading any task)."""
        if self.task_ids:
            raise RuntimeError("load the base before adding or loading tasks: their modulations depend on it")
        stray = sorted(k for k in state_dict if k.startswith("bank."))
        if stray:
            raise ValueError(f"this is not a base state dict (it has bank entries, e.g. {stray[0]!r}); "
                             "use load_state_dict for a full GANMemory state")
        result = self.load_state_dict(state_dict, strict=False)
        missing = [k for k in result.missing_keys if not k.startswith("bank.")]
        if missing or result.unexpected_keys:
            raise ValueError(f"base state dict does not fit this config: missing {missing}, "
                             f"unexpected {result.unexpected_keys}")
        self.bank.base_signature.copy_(base_signature(self.generator.parameters()))
        return self

    def bank_state_dict(self) -> Dict[str, Tensor]:
        """Only the modulation parameters (plus task classes and the base's signature)."""
        return self.bank.state_dict()

    def load_bank_state_dict(self, state_dict: Dict[str, Tensor]) -> "GANMemory":
        """Load a bank saved by ``bank_state_dict`` onto this (trained, frozen) base."""
        if not self.has_base:
            raise RuntimeError("load the base GAN (or fit_base) before loading a modulation bank")
        saved = state_dict.get("base_signature")
        mine = base_signature(self.generator.parameters())
        if saved is None or not torch.allclose(saved.double().cpu(), mine, rtol=1e-6, atol=1e-9):
            raise ValueError(
                "this modulation bank was trained on a different base generator (base signatures "
                f"differ: saved {None if saved is None else saved.tolist()}, current {mine.tolist()})"
            )
        self.bank.load_state_dict(state_dict)
        return self

    def save_bank(self, path) -> None:
        torch.save(self.bank_state_dict(), path)

    def load_bank(self, path) -> "GANMemory":
        return self.load_bank_state_dict(torch.load(path, map_location=self.device, weights_only=True))

    def save(self, path) -> None:
        """Save the config, the frozen base and the bank (everything ``GANMemory.load`` needs)."""
        torch.save({"config": asdict(self.config), "state_dict": self.state_dict()}, path)

    @classmethod
    def load(cls, path, *, device: Optional[str] = None) -> "GANMemory":
        blob = torch.load(path, map_location="cpu", weights_only=True)
        cfg = GANMemoryConfig(**blob["config"])
        if device is not None:
            cfg = replace(cfg, device=device)
        gm = cls(cfg)
        gm.load_state_dict(blob["state_dict"])
        return gm

    def load_state_dict(self, state_dict, strict: bool = True, assign: bool = False):
        result = super().load_state_dict(state_dict, strict=strict, assign=assign)
        # A loaded base is frozen for good, like a trained one.
        if self.has_base:
            for p in list(self.generator.parameters()) + list(self.discriminator.parameters()):
                p.requires_grad_(False)
        return result

"""``GANMemoryGenerator``: the generator memory of GAN Memory (a frozen base GAN plus one style
modulation per task) as an ``nn.Module`` that follows the Generator protocol of
``generators/base.py``: ``fit`` learns one task per call, ``generate(labels, seed=)`` routes each
label to the task that learned it. The method, its choices and deviations: docs/GAN_MEMORY.md.
"""
from __future__ import annotations

from dataclasses import asdict, replace
from typing import Dict, List, Optional, Sequence

import torch
from torch import Tensor, nn

from ...runtime.checkpoint import atomic_torch_save
from ...runtime.seeds import seed_for
from ...runtime.threads import thread_settings
from ..base import check_finite_samples, from_unit_range, to_unit_range, validate_images, validate_labels
from .config import GANMemoryConfig
from .bank import ModulationBank, base_signature
from .networks import ResNetDiscriminator, ResNetGenerator
from .task_modulation import DiscriminatorModulation, GeneratorModulation
from .training import FitStats, gan_training


def _check_data(x: Tensor, y: Tensor, cfg, num_classes: int, *, images: str, labels: str, pair: str,
                empty: str) -> Tensor:
    """The checks of both training phases: shape, range and finiteness of ``x``, class ids of ``y``,
    equal counts, at least one image; returns the validated labels. The strings name the data in
    the errors (``images``/``labels``: the validators' ``what``; ``pair``: the count mismatch;
    ``empty``: the whole message for no data)."""
    validate_images(x, cfg.image_shape, cfg.value_range, what=images)
    y = validate_labels(y, num_classes, what=labels)
    if y.shape[0] != x.shape[0]:
        raise ValueError(f"{pair} differ in number: {x.shape[0]} vs {y.shape[0]}")
    if x.shape[0] == 0:
        raise ValueError(empty)
    return y


def _check_steps(steps: int) -> int:
    steps = int(steps)
    if steps < 0:
        raise ValueError(f"steps must be >= 0, got {steps}")
    return steps


class GANMemoryGenerator(nn.Module):
    """GAN Memory: a frozen base GAN plus one style modulation per task; class-conditional.

    Typical use (``source="first_experience"``)::

        cfg = PRESETS["cpu-small"].gan_memory_config(image_shape=(1, 8, 8), num_classes=10)
        gm = GANMemoryGenerator(cfg)
        for exp in stream:                 # each experience brings new classes
            gm.fit(x_exp, y_exp)           # first call: base + task 0; later: a new task
        images = gm.generate(torch.tensor([0, 3, 7]), seed=0)   # in value_range, routed by label

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
            torch.manual_seed(seed_for("gan_memory.init", seed=cfg.seed))
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

    def _threads(self):
        return thread_settings(self.device, threads=self.config.threads)

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
    def fit_base(self, x: Tensor, y: Optional[Tensor] = None, *, steps: Optional[int] = None, progress: bool = False,
                 labels_are_global: bool = False) -> "GANMemoryGenerator":
        """Train the base generator and discriminator fully on a source dataset, then freeze them.

        Args:
            x: source images (N, C, H, W) in ``config.value_range``.
            y: source labels in ``[0, num_source_classes)``; ``None`` trains an unconditional base
                (every image class 0).
            steps: optimiser steps (``None``: ``config.base_steps``).
            progress: show a tqdm bar.
            labels_are_global: the source labels are the global class ids of the first task
                (``source="first_experience"``): a later task owning one of them then starts from
                that class's base row instead of the mean row.
        """
        if self.has_base:
            raise RuntimeError("the base GAN is already trained and frozen; GAN Memory trains it once")
        cfg = self.config
        if y is None:
            y = torch.zeros(x.shape[0], dtype=torch.long)
        y = _check_data(x, y, cfg, cfg.source_classes, images="source images", labels="source labels",
                        pair="source images and labels", empty="fit_base needs at least one source image")
        steps = _check_steps(cfg.base_steps if steps is None else steps)
        xd = to_unit_range(x.to(self.device, torch.float32), cfg.value_range)
        yd = y.to(self.device)
        G, D = self.generator, self.discriminator
        G.train(), D.train()
        with self._threads():
            stats = gan_training(
                generate_fake=lambda z, yy: G(z, G.class_embed[yy]),
                discriminate=lambda xx, yy: D(xx, yy),
                g_params=list(G.parameters()),
                d_params=list(D.parameters()),
                x=xd, y=yd, cfg=cfg, steps=steps, seed=seed_for("gan_memory.base", seed=cfg.seed),
                desc="GAN Memory base", progress=progress,
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

    def select_task(self, task_id: Optional[int]) -> "GANMemoryGenerator":
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

    def fit_task(self, task_id: int, x: Tensor, y: Tensor, *, steps: Optional[int] = None,
                 progress: bool = False) -> "GANMemoryGenerator":
        """Train only ``task_id``'s generator modulation (and a per-task discriminator modulation
        and head) for ``steps`` steps (``None``: ``config.task_steps``), then freeze the task for
        good."""
        cfg = self.config
        mod = self.bank.get(task_id)
        if bool(mod.trained):
            raise RuntimeError(
                f"task {task_id} is already trained and frozen; GAN Memory never revisits a task "
                "(add a new task for new data)"
            )
        y = _check_data(x, y, cfg, cfg.num_classes, images="training images", labels="labels",
                        pair="images and labels", empty="fit_task needs at least one image")
        steps = _check_steps(cfg.task_steps if steps is None else steps)
        xd = to_unit_range(x.to(self.device, torch.float32), cfg.value_range)
        y_local = mod.local_labels(y.to(self.device))
        d_mod = self._new_discriminator_modulation(mod.classes.tolist())
        G, D = self.generator, self.discriminator
        with self._threads():
            stats = gan_training(
                generate_fake=lambda z, yy: G(z, mod.class_bias[yy], mod),
                discriminate=lambda xx, yy: D(xx, yy, d_mod),
                g_params=list(mod.parameters()),
                d_params=list(d_mod.parameters()),
                x=xd, y=y_local, cfg=cfg, steps=steps,
                seed=seed_for("gan_memory.task", seed=cfg.seed, task=int(task_id)),
                desc=f"GAN Memory task {task_id}", progress=progress,
            )
        stats.phase, stats.task_id = "task", int(task_id)
        self.fit_log.append(stats)
        self.bank.freeze(task_id)
        return self

    def fit(self, x: Tensor, y: Tensor, *, steps: Optional[int] = None, progress: bool = False,
            task_id: Optional[int] = None) -> "GANMemoryGenerator":
        """Learn the classes of ``y`` as one new task (the ``TrainableGenerator`` protocol).

        Without a base yet and ``source="first_experience"``, the base is trained on this data
        first (``config.base_steps``; source = first experience), then task ``task_id`` (default:
        next free id) for these classes is trained starting from it for ``steps`` steps (``None``:
        ``config.task_steps``). With ``source="separate"``, ``fit_base`` must have run.
        """
        cfg = self.config
        # Validate everything before any state changes, so a bad call leaves no half-made task.
        validate_images(x, cfg.image_shape, cfg.value_range)
        y = validate_labels(y, cfg.num_classes)
        if y.shape[0] != x.shape[0]:
            raise ValueError(f"images and labels differ in number: {x.shape[0]} vs {y.shape[0]}")
        if steps is not None:
            _check_steps(steps)
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
            self.fit_base(x, y, progress=progress, labels_are_global=True)
        if task_id is None:
            task_id = max(self.task_ids, default=-1) + 1
        self.add_task(task_id, sorted(set(y.tolist())))
        try:
            return self.fit_task(task_id, x, y, steps=steps, progress=progress)
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
    def generate(self, labels: Tensor, *, seed: Optional[int] = None, z: Optional[Tensor] = None,
                 truncation: float = 1.0) -> Tensor:
        """One image per global label, in ``config.value_range``: float32, on the CPU.

        Args:
            labels: 1-D integer tensor of class ids; each must belong to a task of the memory.
            seed: seeds the latent codes (same seed, same images, on any device: they are drawn on
                the CPU); ``None`` draws them from torch's global RNG. The codes are drawn for the
                whole label vector at once, so a label's sample does not depend on which other
                tasks exist.
            z: explicit latent codes (len(labels), z_dim) instead of drawn ones (``seed`` unused).
            truncation: psi in [0, 1], the sampling-bias knob: the codes are pulled towards their
                mean, z -> psi z (StyleGAN's truncation; the latent is a centred Gaussian, so its
                mean is 0). 1 samples as trained; smaller values trade diversity for typicality.
        """
        if not 0.0 <= float(truncation) <= 1.0:
            raise ValueError(f"truncation (psi) must lie in [0, 1], got {truncation!r}")
        cfg = self.config
        labels = validate_labels(labels, cfg.num_classes).to(self.device)
        if not self.task_ids:
            raise RuntimeError("GAN Memory has no trained task yet: call fit(x, y) first")
        n = labels.shape[0]
        if z is None:
            rng = torch.Generator().manual_seed(int(seed)) if seed is not None else None
            z = torch.randn(n, cfg.z_dim, generator=rng)
        elif tuple(z.shape) != (n, cfg.z_dim):
            raise ValueError(f"z must have shape ({n}, {cfg.z_dim}), got {tuple(z.shape)}")
        z = float(truncation) * z.to(self.device, torch.float32)
        was_training = self.training
        self.eval()
        try:
            with self._threads():
                chunks = [
                    self.forward(z[i:i + cfg.sample_batch_size], labels[i:i + cfg.sample_batch_size])
                    for i in range(0, n, cfg.sample_batch_size)
                ]
        finally:
            self.train(was_training)
        x = torch.cat(chunks) if chunks else z.new_empty((0, *cfg.image_shape))
        check_finite_samples(x, where="GAN Memory")
        return from_unit_range(x, cfg.value_range).cpu()

    # ------------------------------------------------------------------ saving the memory
    def base_state_dict(self) -> Dict[str, Tensor]:
        """The frozen base GAN (generator, discriminator, source bookkeeping) without the bank."""
        return {k: v for k, v in self.state_dict().items() if not k.startswith("bank.")}

    def load_base_state_dict(self, state_dict: Dict[str, Tensor]) -> "GANMemoryGenerator":
        """Load a base saved by ``base_state_dict`` (before adding or loading any task)."""
        if self.task_ids:
            raise RuntimeError("load the base before adding or loading tasks: their modulations depend on it")
        stray = sorted(k for k in state_dict if k.startswith("bank."))
        if stray:
            raise ValueError(f"this is not a base state dict (it has bank entries, e.g. {stray[0]!r}); "
                             "use load_state_dict for a full GANMemoryGenerator state")
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

    def load_bank_state_dict(self, state_dict: Dict[str, Tensor]) -> "GANMemoryGenerator":
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

    def save_bank(self, path) -> str:
        """Write ``bank_state_dict()`` to ``path`` atomically; returns the file's SHA-256."""
        return atomic_torch_save(self.bank_state_dict(), path)

    def load_bank(self, path) -> "GANMemoryGenerator":
        """Load a bank written by ``save_bank``."""
        return self.load_bank_state_dict(torch.load(path, map_location=self.device, weights_only=True))

    def save(self, path) -> str:
        """Write the config, the frozen base and the bank (everything ``load`` needs) to ``path``
        atomically: an interrupted save leaves the previous file intact. Returns its SHA-256."""
        return atomic_torch_save({"config": asdict(self.config), "state_dict": self.state_dict()}, path)

    @classmethod
    def load(cls, path, *, device: Optional[str] = None) -> "GANMemoryGenerator":
        """A generator rebuilt from a file written by ``save`` (on ``device`` if given)."""
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

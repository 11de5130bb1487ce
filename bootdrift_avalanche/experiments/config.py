"""What an experiment does: ``ReplayConfig``, ``BootstrapConfig`` and the **one** ``PRESETS`` table.

A preset names a scale (``tiny`` for tests, ``cpu-small`` for a 2-core CPU, ``paper`` for a GPU) and
fixes every size that scale implies: the solver, each generator, the drift evaluation and the
RealAcc classifier. A config field left ``None`` takes the preset's value in ``resolve(cfg)``, which
returns a new config (``dataclasses.replace``); configs are never mutated, so what ``config.json``
records is exactly what ran.

Examples and library users read the same table::

    preset = PRESETS["cpu-small"]
    generator = DDPMGenerator(preset.ddpm_config(image_shape=(1, 8, 8), num_classes=10))
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Dict, Mapping, Optional, Sequence


@dataclass(frozen=True)
class Preset:
    """Every size of one scale (see the module docstring). Generator entries are keyword
    arguments of the generator's config; ``ddpm`` adds two sizing rules (``widths``, ``max_levels``)
    that depend on the image shape and are resolved by :meth:`ddpm_config`. ``classifier`` picks the
    architecture of the solver and of the RealAcc classifier by image side (:meth:`classifier_name`)."""

    name: str
    solver_width: Optional[int]  # base channels of the solver (SmallCNN's first conv); None: the architecture's own
    epochs: int  # solver epochs per experience
    replay_per_class: int  # DDPM / GAN Memory / StyleGAN2 replayed images per old class
    generator_steps: Optional[int]  # DDGR generator steps per experience (None: the DDPM's train_steps)
    n_per_class: int  # drift metrics: real and synthetic samples per seen class
    real_acc_epochs: int  # epochs of the fresh classifier behind RealAcc
    gmm_samples: int  # bootstrapping on the GMM toy: training (and held-out) points
    ddpm: Mapping[str, Any] = field(default_factory=dict)
    gan_memory: Mapping[str, Any] = field(default_factory=dict)
    wgan: Mapping[str, Any] = field(default_factory=dict)
    stylegan2: Mapping[str, Any] = field(default_factory=dict)
    guide: Mapping[str, Any] = field(default_factory=dict)  # GUIDEPlugin keyword arguments (recipes/guide.py)
    # the language-model loop (bootdrift_avalanche.text): chunk_len, and keyword arguments of the
    # n-gram (NGramConfig), the GPT-2 (GPT2TextConfig) and the fixed text encoder (EncoderConfig)
    text: Mapping[str, Any] = field(default_factory=dict)
    # {min image side: a name of nets.CLASSIFIERS}: the entry of the largest side not above the image's
    classifier: Mapping[int, str] = field(default_factory=lambda: MappingProxyType({0: "small"}))

    def classifier_name(self, image_shape: Sequence[int]) -> str:
        """The classifier architecture of this preset for ``image_shape`` (solver and RealAcc);
        points (a 1-D shape, the GMM toy) take the entry of side 0."""
        side = min(int(s) for s in image_shape[1:]) if len(image_shape) > 1 else 0
        return _for_side(self.classifier, side)

    def solver(self, image_shape: Sequence[int], num_classes: int):
        """The continual learner for ``image_shape``: :meth:`classifier_name`'s architecture with
        ``solver_width`` base channels."""
        from ..nets import build_classifier

        return build_classifier(self.classifier_name(image_shape), image_shape, num_classes, width=self.solver_width)

    def ddpm_config(self, *, image_shape: Sequence[int], num_classes: int, **overrides):
        """The ``DDPMConfig`` of this preset for ``image_shape`` (overrides win).

        ``widths``: channels per UNet level (the last entry repeats), or ``{min_side: widths}``
        (the entry of the largest key not above the image's smaller side). ``max_levels``: the UNet
        halves the image down to no less than 4 pixels, at most this many levels.
        ``attention_resolutions`` keeps only sides below the image's own side.
        """
        from ..generators.ddpm import DDPMConfig, num_levels

        shape = tuple(int(s) for s in image_shape)
        side = min(shape[1:])
        sizes = dict(self.ddpm)
        widths = sizes.pop("widths")
        if isinstance(widths, Mapping):
            widths = _for_side(widths, side)
        levels = num_levels(shape, max_levels=sizes.pop("max_levels"))
        sizes["block_out_channels"] = tuple(widths[min(i, len(widths) - 1)] for i in range(levels))
        sizes["attention_resolutions"] = tuple(r for r in sizes.get("attention_resolutions", ()) if r < side)
        return DDPMConfig(**{**sizes, "image_shape": shape, "num_classes": int(num_classes), **overrides})

    def gan_memory_config(self, *, image_shape: Sequence[int], num_classes: int, **overrides):
        """The ``GANMemoryConfig`` of this preset for ``image_shape`` (overrides win)."""
        from ..generators.gan_memory import GANMemoryConfig

        return GANMemoryConfig(**{**self.gan_memory, "image_shape": tuple(image_shape),
                                  "num_classes": int(num_classes), **overrides})

    def stylegan2_config(self, *, image_shape: Sequence[int], num_classes: int, **overrides):
        """The ``StyleGAN2Config`` of this preset for ``image_shape`` (overrides win); the widths
        follow the image side through ``channel_base`` / ``channel_max``."""
        from ..generators.stylegan2 import StyleGAN2Config

        return StyleGAN2Config(**{**self.stylegan2, "image_shape": tuple(int(s) for s in image_shape),
                                  "num_classes": int(num_classes), **overrides})

    def wgan_config(self, *, dim: int, num_classes: int, **overrides):
        """The ``WGANConfig`` of this preset for ``dim``-dimensional points (overrides win)."""
        from ..generators.wgan import WGANConfig

        return WGANConfig(**{**self.wgan, "dim": int(dim), "num_classes": int(num_classes), **overrides})


    def ngram_config(self, *, vocab_size: int, num_topics: int, **overrides):
        """The ``text.ngram.NGramConfig`` of this preset (overrides win)."""
        from ..text.ngram import NGramConfig

        return NGramConfig(**{**self.text["ngram"], "vocab_size": int(vocab_size), "num_topics": int(num_topics),
                              "chunk_len": self.text["chunk_len"], **overrides})

    def gpt2_config(self, *, vocab_size: int, num_topics: int, **overrides):
        """The ``text.gpt2.GPT2TextConfig`` of this preset (overrides win)."""
        from ..text.gpt2 import GPT2TextConfig

        return GPT2TextConfig(**{**self.text["gpt2"], "vocab_size": int(vocab_size), "num_topics": int(num_topics),
                                 "chunk_len": self.text["chunk_len"], **overrides})

    def encoder_config(self):
        """The ``text.encoder.EncoderConfig`` of the text drift metrics' fixed encoder."""
        from ..text.encoder import EncoderConfig

        return EncoderConfig(**self.text["encoder"])


def _frozen(**kw) -> Mapping[str, Any]:
    return MappingProxyType(kw)


def _for_side(by_side: Mapping[int, Any], side: int):
    """The entry of ``{min_side: value}`` with the largest key not above ``side``."""
    fits = [k for k in by_side if k <= side]
    if not fits:
        raise ValueError(f"no preset entry for images of side {side}: the smallest side listed is {min(by_side)}")
    return by_side[max(fits)]


#: The one presets table. cpu-small's generators are points of the quality-per-CPU-second frontier
#: and its replay count was chosen on a validation split (bench/generator_frontier.py,
#: bench/replay_tuning.py, docs/REPLAY_FRONTIER.md): the DDPM at 250 steps (~0.065 CPU s each)
#: samples digits a judge labels right 97.5 % of the time, and 250 steps per experience scored 0.924
#: on validation (0.931 at 400) and 0.916 on test over 3 seeds (0.915 at 400) for 40 % less CPU;
#: `make demo` takes 2 minutes on an idle 2-core machine. Those values were chosen for the unguided
#: DDPM replay (``dgr-ddpm``); ``ddgr`` runs them with the published guidance (docs/DDGR.md). paper
#: follows the DDGR / GAN Memory reference code, item by item or with the reason why not (docs/DDGR.md).
PRESETS: Mapping[str, Preset] = MappingProxyType({
    "tiny": Preset(
        name="tiny", solver_width=16, epochs=1, replay_per_class=4, generator_steps=4, n_per_class=8,
        real_acc_epochs=2, gmm_samples=500,
        ddpm=_frozen(widths=(8, 16), max_levels=3, layers_per_block=1, norm_num_groups=4, mid_attention=True,
                     num_train_timesteps=100, batch_size=32, train_steps=20, num_inference_steps=10,
                     ema_decay=0.9, lr=2e-3),
        gan_memory=_frozen(z_dim=8, base_channels=4, max_channels=8, batch_size=8, base_steps=4, task_steps=4,
                           ema_decay=0.0),
        wgan=_frozen(train_steps=20, hidden=32, batch_size=64),
        stylegan2=_frozen(z_dim=8, w_dim=16, mapping_layers=1, channel_base=64, channel_max=16, batch_size=16,
                          train_steps=10, r1_every=4, mean_latent_samples=64, ema_halflife_images=200.0),
        guide=_frozen(guidance_scale=0.5, regenerate_every=2, sampler=None, replay_ratio=None),
        text=_frozen(chunk_len=8, ngram=_frozen(order=2), encoder=_frozen(width=8, epochs=1),
                     gpt2=_frozen(n_layer=1, n_embd=16, n_head=2, train_steps=3, batch_size=8, warmup_steps=1)),
    ),
    "cpu-small": Preset(
        name="cpu-small", solver_width=32, epochs=20, replay_per_class=120, generator_steps=250, n_per_class=30,
        real_acc_epochs=30, gmm_samples=5000,
        # Channels 16/32 learned the digits as fast per CPU second as 32/64 (which costs 2x per step).
        ddpm=_frozen(widths=(16, 32), max_levels=4, layers_per_block=1, norm_num_groups=8, mid_attention=True,
                     num_train_timesteps=1000, batch_size=128, train_steps=600, lr=2e-3, ema_decay=0.995,
                     sampler="ddpm", num_inference_steps=50),
        # lr 10x the reference's and lazy R1: at lr 1e-4 the same 400 base steps gave ~50% sample accuracy.
        # 800/400 steps: judge accuracy 0.970 vs 0.945 at 400/200 (bench/generator_frontier.py), validation
        # accuracy 0.934 vs 0.903 (bench/replay_tuning.py), for ~20 more CPU s per run.
        gan_memory=_frozen(z_dim=16, base_channels=16, max_channels=32, batch_size=32, lr=1e-3, r1_every=4,
                           base_steps=800, task_steps=400, ema_decay=0.999),
        wgan=_frozen(),
        # 500 steps (~33 CPU s): judge accuracy 0.995 on Split Digits, on the frontier; FID_clf 17 (the
        # DDPM's 4-6), flat up to 1000 steps (bench/generator_frontier.py, docs/STYLEGAN2.md). Not tuned.
        stylegan2=_frozen(z_dim=32, w_dim=64, mapping_layers=2, channel_base=512, channel_max=64, batch_size=32,
                          train_steps=500),
        # chosen on digits-val, 3 experiences (bench/guide_tuning.py trial 3, docs/GUIDE.md)
        guide=_frozen(guidance_scale=0.2, regenerate_every=None, sampler=None, replay_ratio=None),
        # 32-word chunks: 2,244 training and 627 held-out chunks of pydoc. GPT-2: 2 layers, width 128
        # (0.98 M parameters), 400 AdamW steps of 32 chunks per stage: ~55 CPU s per stage with its
        # sampling and metrics (held-out perplexity 131 after one stage on real text; docs/TEXT_LOOP.md).
        text=_frozen(chunk_len=32, ngram=_frozen(order=2), encoder=_frozen(width=64, epochs=5),
                     gpt2=_frozen(n_layer=2, n_embd=128, n_head=4, train_steps=400, batch_size=32)),
    ),
    "paper": Preset(
        # 20 replays per old class: the DDGR reference's num_samples (docs/DDGR.md lists every item).
        name="paper", solver_width=None, epochs=30, replay_per_class=20, generator_steps=None, n_per_class=200,
        real_acc_epochs=50, gmm_samples=5000,
        # Solver and RealAcc classifier: the reduced ResNet-18 of the CL literature (Avalanche's
        # SlimResNet18, 20 base channels) on 32x32 CIFAR-100, torchvision's ResNet-18 on 64x64
        # Flowers102; SmallCNN (32 channels) below 32 px (Split Digits has no paper model).
        classifier=MappingProxyType({0: "small", 32: "slim-resnet18", 64: "resnet18"}),
        # The DDGR reference's ADM UNet: 128 base channels (mults 1,2,2,2; 1,2,3,4 from 64 px),
        # attention at 32/16/8 px, dropout 0.3, lr 1e-4, batch 64, 15k steps; cosine T = 4000,
        # sampled on 250 respaced steps. Fixed (not learned) variances: docs/DDGR.md.
        ddpm=_frozen(widths={0: (128, 256, 256, 256), 64: (128, 256, 384, 512)}, max_levels=4,
                     layers_per_block=3, attention_resolutions=(32, 16, 8), mid_attention=True,
                     attention_head_dim=64, norm_num_groups=32, dropout=0.3, num_train_timesteps=4000,
                     beta_schedule="squaredcos_cap_v2", lr=1e-4, batch_size=64, train_steps=15_000,
                     ema_decay=0.9999, sampler="ddpm", num_inference_steps=250, threads=None,
                     # the reference samples from and keeps training the raw weights, lr annealed to 0
                     # per task; an EMA of 0.9999 would carry ~22 % of the previous task's model
                     sample_with_ema=False, lr_schedule="linear", hflip=True),
        # GAN Memory's reference optimiser (lr 1e-4, betas (0, 0.99), R1 10, batch 16, 60k steps).
        gan_memory=_frozen(z_dim=256, base_channels=64, max_channels=1024, batch_size=16, base_steps=60_000,
                           task_steps=60_000, ema_decay=0.999, hflip=True, sample_batch_size=128),
        wgan=_frozen(),
        # stylegan2-ada-pytorch's "auto" configuration at 32-64 px (channels 16384/res capped at 512,
        # 2 mapping layers, batch 32, lr 0.0025, R1 gamma 0.0002 res^2/batch, EMA half-life 10 kimg,
        # path length weight 2); 50k steps = 1.6M images (the reference trains for 25M: a GPU budget).
        stylegan2=_frozen(z_dim=512, w_dim=512, mapping_layers=2, channel_base=16384, channel_max=512,
                          batch_size=32, train_steps=50_000, pl_weight=2.0, threads=None),
        # GUIDE's CIFAR-100/5 run (cywinski/guide README): DDIM-100, scale 0.5 toward the new classes,
        # replays drawn again every 10 steps, 10,000 unguided self-replays per task (docs/GUIDE.md)
        guide=_frozen(guidance_scale=0.5, sampler="ddim", sampling_steps=100, regenerate_every=10,
                      replay_per_class=4, generator_replay_per_class=500, replay_ratio=None),
        # Text: a GPU scale of our choosing (the seed paper has no text experiment to follow).
        text=_frozen(chunk_len=64, ngram=_frozen(order=3), encoder=_frozen(width=128, epochs=10),
                     gpt2=_frozen(n_layer=6, n_embd=256, n_head=8, train_steps=5000, batch_size=64, lr=6e-4,
                                  warmup_steps=200)),
    ),
})


def preset(name: str) -> Preset:
    """``PRESETS[name]`` with an error that lists the choices."""
    try:
        return PRESETS[name]
    except KeyError:
        raise ValueError(f"unknown preset {name!r}; choose one of {', '.join(PRESETS)}") from None


@dataclass(frozen=True)
class ReplayConfig:
    """What a replay run does (every field ends up in ``config.json``)."""

    strategy: str = "ddgr"  # a registered recipe (experiments.registry.strategy_names())
    benchmark: str = "digits"  # a registered benchmark (experiments.registry.BENCHMARKS)
    experiences: int = 5  # number of experiences of the class-incremental stream
    preset: str = "cpu-small"  # sizes: tiny (tests), cpu-small, paper (GPU)
    seed: int = 0  # fixes class order, initialisation, replay and metrics
    device: str = "cpu"  # torch device of solver and generator
    data_root: Optional[str] = None  # dataset root for cifar100/flowers102 (None: Avalanche's default)
    download: bool = False  # allow downloading cifar100/flowers102
    image_size: Optional[int] = None  # None: the benchmark's native size (8, 32, 64)
    epochs: Optional[int] = None  # solver epochs per experience (None: preset's)
    lr: float = 2e-3  # solver learning rate (Adam); 1e-3 left the solver undertrained on 2-class digits experiences
    batch_size: int = 64  # solver mini-batch size
    replay_per_class: Optional[int] = None  # DDGR/GAN Memory replay images per old class (None: preset's)
    # classifier-guidance scale (None: the recipe's; ddgr: 1.0 as published, docs/DDGR.md)
    guidance_scale: Optional[float] = None
    generator_steps: Optional[int] = None  # generator steps per experience (None: preset's)
    drift: bool = True  # compute drift metrics after each experience (strategies with a generator)
    n_per_class: Optional[int] = None  # drift metrics: samples per class (None: preset's)
    real_acc_epochs: Optional[int] = None  # epochs of the RealAcc classifier (None: preset's)
    umap: bool = True  # UMAP figure per experience
    features: str = "clf"  # drift feature extractor: clf | resnet50 | inception | random | identity (metrics.features)
    progress: bool = True  # tqdm progress bars


@dataclass(frozen=True)
class BootstrapConfig:
    """What a bootstrapping run does (every field ends up in ``config.json``)."""

    # a registered generator (experiments.registry.GENERATORS): wgan (points), ddpm, stylegan2 (images)
    generator: str = "wgan"
    data: str = "gmm"  # a registered data set (experiments.registry.DATA): gmm, digits, flowers102
    stages: int = 10  # number of stages T (stage 0 trains on real data)
    mix_real: float = 0.0  # fraction of real data kept in every later stage's training set (augment, fresh)
    regime: str = "augment"  # training sets (bootstrap.regimes.REGIMES): replace, augment, fresh, accumulate
    # fresh: real points set aside as the fresh pool (gmm default: what the stages need)
    fresh_size: Optional[int] = None
    # generate's bias knob at every stage: wgan/stylegan2 truncation psi, ddpm sampling steps
    sampling_bias: Optional[float] = None
    guidance_scale: Optional[float] = None  # ddpm: classifier-guidance scale at every stage (classifier trained on D)
    train_size: Optional[int] = None  # digits, flowers102: D is a stratified subset of this many training points
    continue_training: bool = False  # keep training one generator instead of a fresh one per stage
    preset: str = "cpu-small"  # sizes: tiny (tests), cpu-small, paper (GPU)
    seed: int = 0  # fixes data, initialisation, sampling and metrics
    device: str = "cpu"  # torch device of the generator
    n_samples: Optional[int] = None  # gmm: training (and held-out) points (None: preset's)
    generator_steps: Optional[int] = None  # training steps per stage (None: the preset's)
    data_root: Optional[str] = None  # flowers102 dataset root
    download: bool = False  # allow downloading flowers102
    real_acc_epochs: Optional[int] = None  # epochs of the RealAcc classifier (None: preset's)
    features: Optional[str] = None  # drift feature extractor (None: identity for points, clf for images)
    progress: bool = True  # tqdm progress bars
    text_file: Optional[str] = None  # data textfile: one UTF-8 text file (one topic)
    text_dir: Optional[str] = None  # data textfile: a folder of .txt files (one topic each)
    ngram_order: Optional[int] = None  # ngram generator: n (None: the preset's)
    # real images per class of D set aside from the extractor's data as the drift floor's second set
    # (None: no floor); the distances are then scored at this n per class (bootstrap.loop floor_set)
    floor_n: Optional[int] = None
    intervals: int = 0  # bootstrap replicates of the drift values' 95 % intervals (0: none)


#: Config keys that may differ between a run and its resumption without changing its results.
RESUME_IGNORED = frozenset({"device", "progress", "resume", "run_dir", "versions", "command"})

# For each config class: field -> Preset attribute that fills it when None.
_FROM_PRESET: Dict[type, Dict[str, str]] = {
    ReplayConfig: {"epochs": "epochs", "n_per_class": "n_per_class", "replay_per_class": "replay_per_class",
                   "generator_steps": "generator_steps", "real_acc_epochs": "real_acc_epochs"},
    BootstrapConfig: {"n_samples": "gmm_samples", "real_acc_epochs": "real_acc_epochs"},
}


def resolve(cfg):
    """A copy of ``cfg`` with every ``None`` size taken from its preset (and, for a replay run, the
    guidance scale from its strategy's recipe, which refuses a scale it does not take)."""
    p = preset(cfg.preset)
    fill = {k: getattr(p, attr) for k, attr in _FROM_PRESET[type(cfg)].items() if getattr(cfg, k) is None}
    if isinstance(cfg, ReplayConfig):
        from .registry import recipe

        fill["guidance_scale"] = recipe(cfg.strategy).guidance_scale(cfg.guidance_scale)
    return dataclasses.replace(cfg, **fill)


def config_from(cls, given: Mapping[str, Any], saved: Optional[Mapping[str, Any]] = None):
    """``cls`` built from ``given`` values over (on resume) the ``saved`` ones or (new run) the
    defaults. Saved keys that cannot change results (``RESUME_IGNORED``) are not carried over."""
    names = {f.name for f in dataclasses.fields(cls)}
    base = {k: v for k, v in (saved or {}).items() if k in names and k not in RESUME_IGNORED}
    unknown = sorted(set(given) - names)
    if unknown:
        raise ValueError(f"{cls.__name__} has no field(s) {', '.join(unknown)}")
    return cls(**{**base, **given})


def as_record(cfg, kind: str) -> Dict[str, Any]:
    """The JSON-safe dict written to ``config.json`` (``kind`` tells replay from bootstrap runs)."""
    return {"kind": kind, **dataclasses.asdict(cfg)}

"""A bootstrapping experiment in a run directory (what ``bootdrift bootstrap`` and the examples run):
data + generator factory + loggers + the toy's extra metrics around ``bootstrap.run_bootstrap``.

Data: ``gmm`` (the paper's 5-mode 2-D mixture, 5,000 training points, 5,000 held-out points),
``digits`` (Split Digits, all classes at once; 1,437 train / 360 test images), ``flowers102``
(64x64; needs the files, see ``benchmarks.flowers102``). Generators: ``wgan`` (points) and ``ddpm``
(images). Metrics go to ``RUN_DIR/metrics.jsonl`` and ``RUN_DIR/tb`` with the stage as the step.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Optional

import torch

GENERATORS = ("wgan", "ddpm")
DATA = ("gmm", "digits", "flowers102")


@dataclass
class BootstrapConfig:
    """What a bootstrapping run does (every field ends up in ``config.json``)."""

    generator: str = "wgan"  # wgan (points) or ddpm (images)
    data: str = "gmm"  # gmm, digits or flowers102
    stages: int = 10  # number of stages T (stage 0 trains on real data)
    mix_real: float = 0.0  # fraction of real data kept in every later stage's training set
    continue_training: bool = False  # keep training one generator instead of a fresh one per stage
    preset: str = "cpu-small"  # generator size: tiny (tests), cpu-small, paper (GPU)
    seed: int = 0  # fixes data, initialisation, sampling and metrics
    device: str = "cpu"  # torch device of the generator
    n_samples: Optional[int] = None  # gmm: training (and held-out) points (None: 5,000; tiny preset: 500)
    generator_steps: Optional[int] = None  # training steps per stage (None: the preset's)
    data_root: Optional[str] = None  # flowers102 dataset root
    download: bool = False  # allow downloading flowers102
    accuracy_epochs: Optional[int] = None  # epochs of the RealAcc classifier (None: 30; tiny preset: 3)
    progress: bool = True  # tqdm progress bars


def resolved(cfg: BootstrapConfig) -> BootstrapConfig:
    """``cfg`` with the preset-dependent defaults filled in."""
    import dataclasses

    tiny = cfg.preset == "tiny"
    return dataclasses.replace(
        cfg,
        n_samples=cfg.n_samples if cfg.n_samples is not None else (500 if tiny else 5000),
        accuracy_epochs=cfg.accuracy_epochs if cfg.accuracy_epochs is not None else (3 if tiny else 30),
    )


def load_data(cfg: BootstrapConfig):
    """``(train, test, extra_metrics)`` for ``cfg.data``."""
    if cfg.data == "gmm":
        from .benchmarks.gmm import GMMSpec, gmm_samples
        from .metrics.modes import mode_metrics

        spec = GMMSpec()
        train = gmm_samples(cfg.n_samples, spec=spec, seed=cfg.seed)
        test = gmm_samples(cfg.n_samples, spec=spec, seed=cfg.seed + 10_000)

        def extra(x, y):
            m = mode_metrics(x, spec.centers(), spec.std, labels=y)
            return {"ModesCovered": float(m["modes_covered"]), "HighQuality": float(m["high_quality_fraction"]),
                    **({"LabelAgreement": float(m["label_agreement"])} if "label_agreement" in m else {})}

        return train, test, extra
    if cfg.data == "digits":
        from .benchmarks.digits import load_digits_tensors

        x_tr, y_tr, x_te, y_te = load_digits_tensors(seed=cfg.seed)
        return (x_tr, y_tr), (x_te, y_te), None
    if cfg.data == "flowers102":
        from .benchmarks.flowers102 import load_flowers102

        train, ytr, test, yte = load_flowers102(cfg.data_root, download=cfg.download, image_size=64)

        def stack(ds):
            return torch.stack([ds[i][0] for i in range(len(ds))])

        return (stack(train), torch.tensor(ytr)), (stack(test), torch.tensor(yte)), None
    raise ValueError(f"unknown data {cfg.data!r}; choose one of {', '.join(DATA)}")


def generator_factory(cfg: BootstrapConfig, x_train, n_classes: int):
    """``make(stage) -> generator``; each stage's generator is seeded by (seed, stage)."""
    if cfg.generator not in GENERATORS:
        raise ValueError(f"unknown generator {cfg.generator!r}; choose one of {', '.join(GENERATORS)}")
    if cfg.generator == "wgan":
        if x_train.dim() != 2:
            raise ValueError("the wgan generator models points (data gmm); use --generator ddpm for images")
        from .generators.wgan import WGANConfig, WGANGenerator

        def make(stage):
            over = dict(train_steps=20, hidden=32, batch_size=64) if cfg.preset == "tiny" else {}
            if cfg.generator_steps:
                over["train_steps"] = cfg.generator_steps
            return WGANGenerator(WGANConfig(dim=x_train.shape[1], num_classes=n_classes,
                                            seed=cfg.seed * 1000 + stage, device=cfg.device, **over))
        return make
    if x_train.dim() != 4:
        raise ValueError("the ddpm generator models images; use --generator wgan for the gmm data")
    from .generators.ddpm import DDPMConfig, DDPMGenerator

    def make(stage):
        gcfg = DDPMConfig.preset(cfg.preset, image_shape=tuple(x_train.shape[1:]), num_classes=n_classes,
                                 seed=cfg.seed * 1000 + stage, device=cfg.device)
        if cfg.generator_steps:
            gcfg.train_steps = cfg.generator_steps
        return DDPMGenerator(gcfg)
    return make


def run_bootstrap_experiment(cfg: BootstrapConfig, run_dir, *, resume: bool = False, on_stage=None):
    """Run (or resume) the bootstrapping loop for ``cfg`` in ``run_dir``; returns the result.
    ``on_stage(stage, x_syn, y_syn, values)`` is called after every stage (e.g. to keep samples)."""
    from avalanche.logging import TensorboardLogger

    from .bootstrap import run_bootstrap
    from .logging import JSONLinesLogger
    from .rundir import open_run_dir

    if cfg.data not in DATA:
        raise ValueError(f"unknown data {cfg.data!r}; choose one of {', '.join(DATA)}")
    from . import distributed as D

    cfg = resolved(cfg)
    main = D.is_main_process()  # under torchrun: rank 0 alone writes config, logs and checkpoints
    if main:
        run_dir = open_run_dir(run_dir, {"kind": "bootstrap", **asdict(cfg)}, resume=resume)
    D.barrier()
    run_dir = Path(run_dir)
    train, test, extra = load_data(cfg)
    n_classes = int(max(train[1].max(), test[1].max())) + 1
    make = generator_factory(cfg, train[0], n_classes)
    loggers = [TensorboardLogger(str(run_dir / "tb")), JSONLinesLogger(run_dir / "metrics.jsonl")] if main else []
    result = run_bootstrap(make, train, test, stages=cfg.stages, mix_real=cfg.mix_real,
                           continue_training=cfg.continue_training, loggers=loggers, run_dir=run_dir,
                           resume=resume, seed=cfg.seed, accuracy_epochs=cfg.accuracy_epochs,
                           extra_metrics=extra, progress=cfg.progress, on_stage=on_stage,
                           feature_cache_dir=str(run_dir / "cache"))
    if loggers:
        loggers[0].writer.flush()
    return result


def bootstrap_table(result) -> str:
    """Per-stage values as a one-screen table."""
    if not result.stages:
        return "(no stages)"
    keys = [k for k in result.stages[0] if k != "RealAccChance"]
    head = ["stage"] + keys
    rows = [[str(s)] + [f"{v.get(k, float('nan')):.4g}" for k in keys] for s, v in enumerate(result.stages)]
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(head)]
    fmt = "  ".join(f"{{:>{w}}}" for w in widths)
    return "\n".join([fmt.format(*head)] + [fmt.format(*r) for r in rows])

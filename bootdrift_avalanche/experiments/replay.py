"""One replay experiment in a run directory: a benchmark, a solver, a replay strategy (DDGR, GAN
Memory, Avalanche's GenerativeReplay, Naive, or joint training as the upper bound) and the drift
metrics, logged to TensorBoard and ``metrics.jsonl``, checkpointed after every experience.

Used by the examples, ``bootdrift replay`` and ``bench/replay_bench.py``.

Accuracy is measured by us after each experience on every test experience (an accuracy matrix
R[k][j] = accuracy on test experience j after training experience k), so resuming needs no Avalanche
metric state: final average accuracy = mean_j R[T-1][j]; average forgetting = mean over j < T-1 of
max_{k<T-1} R[k][j] - R[T-1][j] (Chaudhry et al. 2018). Both are logged as
``Top1_Acc_Seen/eval_phase/test_stream`` and ``Forgetting/eval_phase/test_stream`` (step = experience).
"""
from __future__ import annotations

import copy
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Dict, List, Optional

import torch

STRATEGIES = ("ddgr", "gan-memory", "avalanche-gr", "naive", "joint")
BENCHMARKS = ("digits", "cifar100", "flowers102")
PRESETS = ("tiny", "cpu-small", "paper")


@dataclass
class ReplayConfig:
    """What a replay run does (every field ends up in ``config.json``)."""

    strategy: str = "ddgr"  # one of STRATEGIES
    benchmark: str = "digits"  # one of BENCHMARKS
    experiences: int = 5  # number of experiences of the class-incremental stream
    preset: str = "cpu-small"  # model/generator sizes: tiny (tests), cpu-small, paper (GPU)
    seed: int = 0  # fixes class order, initialisation, replay and metrics
    device: str = "cpu"  # torch device of solver and generator
    data_root: Optional[str] = None  # dataset root for cifar100/flowers102 (None: Avalanche's default)
    download: bool = False  # allow downloading cifar100/flowers102
    image_size: Optional[int] = None  # None: the benchmark's native size (8, 32, 64)
    epochs: Optional[int] = None  # solver epochs per experience (None: preset's)
    lr: float = 2e-3  # solver learning rate (Adam); 1e-3 left the solver undertrained on 2-class digits experiences
    batch_size: int = 64  # solver mini-batch size
    replay_per_class: Optional[int] = None  # DDGR/GAN Memory replay images per old class (None: preset's)
    guidance_scale: float = 1.0  # DDGR classifier-guidance scale
    generator_steps: Optional[int] = None  # generator steps per experience (None: preset's)
    drift: bool = True  # compute drift metrics after each experience
    n_per_class: Optional[int] = None  # drift metrics: samples per class (None: preset's)
    umap: bool = True  # UMAP figure per experience
    features: str = "classifier"  # drift feature extractor: classifier | identity
    progress: bool = True  # tqdm progress bars


# Sizes per preset: solver epochs, drift samples per class, replay per class, generator steps.
_PRESET = {
    "tiny": dict(epochs=1, n_per_class=8, replay_per_class=4, generator_steps=4, accuracy_epochs=2),
    # cpu-small: 400 DDPM steps per experience (~0.15 s each on one core) keeps `make demo` under 10 min.
    "cpu-small": dict(epochs=20, n_per_class=30, replay_per_class=60, generator_steps=400, accuracy_epochs=30),
    "paper": dict(epochs=30, n_per_class=200, replay_per_class=200, generator_steps=None, accuracy_epochs=50),
}


def _resolved(cfg: ReplayConfig) -> ReplayConfig:
    if cfg.strategy not in STRATEGIES:
        raise ValueError(f"unknown strategy {cfg.strategy!r}; choose one of {', '.join(STRATEGIES)}")
    if cfg.benchmark not in BENCHMARKS:
        raise ValueError(f"unknown benchmark {cfg.benchmark!r}; choose one of {', '.join(BENCHMARKS)}")
    if cfg.preset not in PRESETS:
        raise ValueError(f"unknown preset {cfg.preset!r}; choose one of {', '.join(PRESETS)}")
    p = _PRESET[cfg.preset]
    c = copy.copy(cfg)
    for k in ("epochs", "n_per_class", "replay_per_class", "generator_steps"):
        if getattr(c, k) is None:
            setattr(c, k, p[k])
    return c


def build_benchmark(cfg: ReplayConfig, *, task_labels: bool = False):
    from .benchmarks import split_cifar100, split_digits, split_flowers102

    if cfg.benchmark == "digits":
        return split_digits(cfg.experiences, seed=cfg.seed, image_size=cfg.image_size or 8, task_labels=task_labels)
    if cfg.benchmark == "cifar100":
        return split_cifar100(cfg.experiences, dataset_root=cfg.data_root, download=cfg.download,
                              image_size=cfg.image_size or 32, seed=cfg.seed)
    return split_flowers102(cfg.experiences, dataset_root=cfg.data_root, download=cfg.download,
                            image_size=cfg.image_size or 64, seed=cfg.seed, task_labels=task_labels)


def build_generator(cfg: ReplayConfig, bm):
    """The generator of a DDGR or GAN Memory run, sized by the preset."""
    if cfg.strategy == "ddgr":
        from .generators.ddpm import DDPMConfig, DDPMGenerator

        gcfg = DDPMConfig.preset(cfg.preset, image_shape=tuple(bm.image_shape), num_classes=bm.n_classes,
                                 seed=cfg.seed, device=cfg.device)
        return DDPMGenerator(gcfg)
    if cfg.strategy == "gan-memory":
        from .generators.gan_memory import GANMemory, GANMemoryConfig

        make = getattr(GANMemoryConfig, cfg.preset.replace("-", "_"))
        return GANMemory(make(image_shape=tuple(bm.image_shape), num_classes=bm.n_classes, seed=cfg.seed,
                              device=cfg.device, progress=cfg.progress))
    return None


def build_solver(bm, cfg: ReplayConfig):
    from .nets import SmallCNN

    c, h, _ = bm.image_shape
    width = 16 if cfg.preset == "tiny" else 32
    return SmallCNN(in_channels=c, num_classes=bm.n_classes, image_size=h, width=width)


@dataclass
class ReplayOutcome:
    """What a run measured."""

    accuracy_matrix: List[List[float]] = field(default_factory=list)
    final_accuracy: float = float("nan")
    forgetting: float = float("nan")
    seconds: float = 0.0
    drift: Dict[str, Dict[int, float]] = field(default_factory=dict)
    ranks_agree: Optional[bool] = None  # under torchrun: every rank ended with the same models


def accuracy_summary(R: List[List[float]]):
    """(average accuracy over seen experiences after the last one, average forgetting)."""
    if not R:
        return float("nan"), float("nan")
    last = R[-1]
    k = len(R)
    acc = sum(last[:k]) / k
    if k == 1:
        return acc, 0.0
    forg = [max(R[i][j] for i in range(j, k - 1)) - last[j] for j in range(k - 1)]
    return acc, sum(forg) / len(forg)


@torch.no_grad()
def evaluate_accuracy(model, stream, device, batch_size: int = 256) -> List[float]:
    """Top-1 accuracy on each experience of ``stream``."""
    was = model.training
    model.eval()
    out = []
    for exp in stream:
        ds = exp.dataset.eval() if hasattr(exp.dataset, "eval") else exp.dataset
        correct = total = 0
        for batch in torch.utils.data.DataLoader(ds, batch_size=batch_size):
            pred = model(batch[0].to(device)).argmax(1).cpu()
            correct += int((pred == torch.as_tensor(batch[1])).sum())
            total += len(pred)
        out.append(correct / max(total, 1))
    model.train(was)
    return out


def make_strategy(cfg: ReplayConfig, bm, model, generator, evaluator):
    """The Avalanche strategy for ``cfg.strategy`` (a template plus plugins)."""
    from avalanche.training import Cumulative, Naive

    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    crit = torch.nn.CrossEntropyLoss()
    common = dict(train_mb_size=cfg.batch_size, train_epochs=cfg.epochs, eval_mb_size=256,
                  device=cfg.device, evaluator=evaluator)
    if cfg.strategy == "ddgr":
        from .strategies.ddgr import DDGR

        return DDGR(model=model, optimizer=opt, criterion=crit, generator=generator, replay_per_class=cfg.replay_per_class,
                    guidance_scale=cfg.guidance_scale, generator_steps=cfg.generator_steps,
                    progress=cfg.progress, seed=cfg.seed, **common)
    if cfg.strategy == "gan-memory":
        from .strategies.gan_memory import GANMemory

        return GANMemory(model=model, optimizer=opt, criterion=crit, generator=generator, replay_per_class=cfg.replay_per_class,
                         progress=cfg.progress, seed=cfg.seed, **common)
    if cfg.strategy == "avalanche-gr":
        from .strategies.avalanche_gr import avalanche_generative_replay

        return avalanche_generative_replay(model=model, optimizer=opt, criterion=crit, image_shape=bm.image_shape, **common)
    if cfg.strategy == "joint":  # cumulative training: after the last experience, joint training
        return Cumulative(model=model, optimizer=opt, criterion=crit, **common)
    return Naive(model=model, optimizer=opt, criterion=crit, **common)


def _strategy_state(strategy, cfg) -> dict:
    state = {"model": strategy.model.state_dict(), "optimizer": strategy.optimizer.state_dict(),
             "clock": dict(vars(strategy.clock))}
    for name in ("ddgr_plugin", "gan_memory_plugin"):
        plugin = getattr(strategy, name, None)
        if plugin is not None:
            state["plugin"] = plugin.state_dict()
    if cfg.strategy == "avalanche-gr":
        state["vae"] = strategy.generator_strategy.model.state_dict()
    return state


def _load_strategy_state(strategy, cfg, state: dict, bm, done: int) -> None:
    strategy.model.load_state_dict(state["model"])
    # Avalanche resets the optimizer state on a strategy's first training experience (when it has
    # no `optimized_param_id` yet); mark the parameters as known so the restored Adam moments stay.
    strategy.optimized_param_id = dict(strategy.model.named_parameters())
    strategy.optimizer.load_state_dict(state["optimizer"])
    for k, v in state["clock"].items():
        setattr(strategy.clock, k, v)
    for name in ("ddgr_plugin", "gan_memory_plugin"):
        plugin = getattr(strategy, name, None)
        if plugin is not None:
            plugin.load_state_dict(state["plugin"])
    if cfg.strategy == "avalanche-gr":
        from avalanche.training.plugins import GenerativeReplayPlugin

        strategy.generator_strategy.model.load_state_dict(state["vae"])
        for p in strategy.plugins:
            if isinstance(p, GenerativeReplayPlugin):
                p.untrained_solver = False  # the solver was trained before the crash
    if cfg.strategy == "joint":
        from avalanche.benchmarks.utils import concat_datasets

        strategy.dataset = concat_datasets([bm.train_stream[i].dataset for i in range(done + 1)])


def _drift_table(records) -> Dict[str, Dict[int, float]]:
    from .logging import metric_table

    table = metric_table(records)
    return {k.split("/")[0]: v for k, v in table.items() if k.endswith("/train_phase/train_stream")}


def run_replay(cfg: ReplayConfig, run_dir, *, resume: bool = False) -> ReplayOutcome:
    """Run (or resume) one replay experiment in ``run_dir``; returns the measured outcome."""
    from avalanche.logging import TensorboardLogger
    from avalanche.training.plugins import EvaluationPlugin
    from tqdm.auto import tqdm

    from .checkpoint import load_latest, rng_state, save_checkpoint, set_rng_state
    from .logging import JSONLinesLogger, read_metrics
    from .plugins.drift import drift_metrics
    from .rundir import open_run_dir

    from . import distributed as D

    cfg = _resolved(cfg)
    main = D.is_main_process()  # under torchrun: rank 0 alone writes logs, checkpoints and config
    if main:
        run_dir = open_run_dir(run_dir, {"kind": "replay", **asdict(cfg)}, resume=resume)
    D.barrier()
    run_dir = Path(run_dir)
    torch.manual_seed(cfg.seed)
    # Avalanche's GenerativeReplay fails on [x, y] mini-batches: give it [x, y, t] ones.
    bm = build_benchmark(cfg, task_labels=cfg.strategy == "avalanche-gr")
    model = build_solver(bm, cfg)
    generator = build_generator(cfg, bm)
    loggers = [TensorboardLogger(str(run_dir / "tb")), JSONLinesLogger(run_dir / "metrics.jsonl")] if main else []
    metrics = []
    if cfg.drift and cfg.strategy in ("ddgr", "gan-memory", "avalanche-gr"):
        p = _PRESET[cfg.preset]
        metrics = drift_metrics(reference_stream=bm.test_stream, n_per_class=cfg.n_per_class,
                                features=cfg.features, umap=cfg.umap, accuracy_epochs=p["accuracy_epochs"],
                                seed=cfg.seed, feature_cache_dir=str(run_dir / "cache"))
    evaluator = EvaluationPlugin(*metrics, loggers=loggers)
    strategy = make_strategy(cfg, bm, model, generator, evaluator)

    outcome = ReplayOutcome()
    start = 0
    found = load_latest(run_dir / "checkpoints") if resume else None
    if found is not None:
        done, state = found
        _load_strategy_state(strategy, cfg, state["strategy"], bm, done)
        outcome.accuracy_matrix = state["R"]
        outcome.seconds = state["seconds"]
        if metrics:
            metrics[0]._comp.seen = [c for g in bm.classes_per_experience[: done + 1] for c in g]
        set_rng_state(state["rng"])
        start = done + 1

    bar = tqdm(range(start, len(bm.train_stream)), desc=f"{cfg.strategy} on {cfg.benchmark}",
               disable=not cfg.progress, initial=start, total=len(bm.train_stream))
    for k in bar:
        t0 = time.perf_counter()
        strategy.train(bm.train_stream[k])
        accs = evaluate_accuracy(strategy.model, bm.test_stream, cfg.device)
        outcome.accuracy_matrix.append(accs)
        acc, forg = accuracy_summary(outcome.accuracy_matrix)
        for lg in loggers:
            lg.log_single_metric("Top1_Acc_Seen/eval_phase/test_stream", acc, k)
            lg.log_single_metric("Forgetting/eval_phase/test_stream", forg, k)
            for j, a in enumerate(accs[: k + 1]):
                lg.log_single_metric(f"Top1_Acc_Exp/eval_phase/test_stream/Exp{j:03d}", a, k)
        outcome.seconds += time.perf_counter() - t0
        if main:
            save_checkpoint(run_dir / "checkpoints", k, {
                "strategy": _strategy_state(strategy, cfg), "R": outcome.accuracy_matrix,
                "seconds": outcome.seconds, "rng": rng_state(),
            })
        D.barrier()
        bar.set_postfix(acc=f"{acc:.3f}")
    outcome.final_accuracy, outcome.forgetting = accuracy_summary(outcome.accuracy_matrix)
    if D.is_distributed():
        outcome.ranks_agree = D.ranks_agree(strategy.model) and (generator is None or D.ranks_agree(generator))
    if main:
        loggers[0].writer.flush()
        outcome.drift = _drift_table(read_metrics(run_dir / "metrics.jsonl"))
    return outcome


def summary_table(outcome: ReplayOutcome, keys=("FID", "CFID", "OTDD", "RealAcc", "DriftTime")) -> str:
    """A one-screen table: per experience, accuracy on seen classes and the drift metrics."""
    cols = [k for k in outcome.drift if k.split("_")[0] in keys and "/Class" not in k]
    head = ["exp", "acc_seen"] + cols
    rows = []
    for k, accs in enumerate(outcome.accuracy_matrix):
        seen = accs[: k + 1]
        row = [str(k), f"{sum(seen) / len(seen):.3f}"]
        row += [f"{outcome.drift[c].get(k, float('nan')):.3f}" for c in cols]
        rows.append(row)
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(head)]
    fmt = "  ".join(f"{{:>{w}}}" for w in widths)
    lines = [fmt.format(*head)] + [fmt.format(*r) for r in rows]
    lines.append(f"final average accuracy {outcome.final_accuracy:.3f}, average forgetting "
                 f"{outcome.forgetting:.3f}, {outcome.seconds:.0f} s")
    return "\n".join(lines)

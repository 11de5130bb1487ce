"""One replay experiment in a run directory: a benchmark, a solver, a replay strategy (any
registered recipe: DDGR, GAN Memory, Avalanche's GenerativeReplay, Naive, joint training...) and the
drift metrics, logged to TensorBoard and ``metrics.jsonl``, checkpointed after every experience.

Used by ``bootdrift replay`` and ``bench/replay_bench.py``; the examples show the same pieces as a
plain Avalanche script.

Accuracy is measured here after each experience on every test experience (an accuracy matrix
R[k][j] = accuracy on test experience j after training experience k), so resuming needs no Avalanche
metric state: final average accuracy = mean_j R[T-1][j]; average forgetting = mean over j < T-1 of
max_{k<T-1} R[k][j] - R[T-1][j] (Chaudhry et al. 2018). Both are logged as
``Top1_Acc_Seen/eval_phase/test_stream`` and ``Forgetting/eval_phase/test_stream`` at Avalanche's
x (``strategy.clock.train_iterations``, as ``accuracy_metrics`` and the drift metrics), so the
curves of a run overlay in TensorBoard; ``metrics.jsonl`` records the experience beside it
(``logging.JSONLinesLogger``).

The drift metrics score the generator of the strategy against the real **test** stream, in the
feature space ``cfg.features`` (default ``clf``: a classifier trained on the **train** stream, never
on the images it scores). The preset decides the solver and the RealAcc classifier
(``Preset.classifier``: SmallCNN on the CPU presets, the ResNet-18s in ``paper``).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional

import torch

from .config import Preset, ReplayConfig, as_record, preset, resolve


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
    from ..benchmarks.views import eval_view

    was = model.training
    model.eval()
    out = []
    for exp in stream:
        correct = total = 0
        for batch in torch.utils.data.DataLoader(eval_view(exp.dataset), batch_size=batch_size):
            pred = model(batch[0].to(device)).argmax(1).cpu()
            correct += int((pred == torch.as_tensor(batch[1])).sum())
            total += len(pred)
        out.append(correct / max(total, 1))
    model.train(was)
    return out


def build_solver(bm, p: Preset):
    """The continual learner: the preset's classifier for the benchmark's images (SmallCNN on the
    CPU presets; SlimResNet18 on 32x32 and ResNet-18 on 64x64 images in ``paper``)."""
    return p.solver(tuple(bm.image_shape), bm.n_classes)


def _drift(cfg: ReplayConfig, p: Preset, bm, run) -> list:
    from ..metrics.suite import SuiteConfig
    from ..plugins.drift import drift_metrics

    # feature_cache_dir=None: the user's cache, so the extractor is trained once per benchmark
    # (keyed by data, seed and configuration) and reused by every later run.
    metrics = drift_metrics(reference_stream=bm.test_stream, feature_stream=bm.train_stream,
                            n_per_class=cfg.n_per_class, features=cfg.features, seed=cfg.seed, feature_cache_dir=None,
                            device=cfg.device,
                            suite=SuiteConfig(umap=cfg.umap, real_acc_epochs=cfg.real_acc_epochs,
                                              real_acc_classifier=p.classifier_name(bm.image_shape)))
    metrics[0].computation.prepare()  # e.g. a missing weights file: fail before training, not after it
    return metrics


def _drift_table(path: Path) -> Dict[str, Dict[int, float]]:
    from ..logging import metric_table, read_metrics
    from ..tags import TAG_SUFFIX

    table = metric_table(read_metrics(path))
    return {k[: -len(TAG_SUFFIX)]: v for k, v in table.items() if k.endswith(TAG_SUFFIX)}


def run_replay(cfg: ReplayConfig, run_dir, *, resume: bool = False) -> ReplayOutcome:
    """Run (or resume) one replay experiment in ``run_dir``; returns the measured outcome."""
    from avalanche.training.plugins import EvaluationPlugin
    from tqdm.auto import tqdm

    from ..runtime import distributed as D
    from ..runtime.checkpoint import rng_state, set_rng_state
    from . import registry
    from .recipe import BuildContext
    from .rundir import open_run

    cfg = resolve(cfg)
    recipe = registry.recipe(cfg.strategy)
    build_benchmark = registry.benchmark_builder(cfg.benchmark)  # both checked before the run dir exists
    p = preset(cfg.preset)
    with open_run(run_dir, as_record(cfg, "replay"), resume=resume) as run:
        torch.manual_seed(cfg.seed)
        bm = build_benchmark(cfg, recipe.task_labels)
        model = build_solver(bm, p)
        metrics = _drift(cfg, p, bm, run) if cfg.drift and recipe.has_generator else []
        evaluator = EvaluationPlugin(*metrics, loggers=run.loggers)
        ctx = BuildContext(cfg=cfg, preset=p, benchmark=bm, model=model, evaluator=evaluator)
        strategy = recipe.build(ctx)
        if D.sharded():  # last, after the replay plugins have extended each mini-batch
            from ..plugins.data_parallel import DataParallelPlugin

            strategy.plugins.append(DataParallelPlugin())
        drift = metrics[0].computation if metrics else None

        outcome = ReplayOutcome()
        start = 0
        found = run.latest()
        if found is not None:
            done, state = found
            recipe.load_state_dict(strategy, state["strategy"], ctx, done)
            if drift is not None:
                drift.load_state_dict(state["drift"])
            outcome.accuracy_matrix = state["R"]
            outcome.seconds = state["seconds"]
            set_rng_state(state["rng"])
            start = done + 1

        n = len(bm.train_stream)
        bar = tqdm(range(start, n), desc=f"{cfg.strategy} on {cfg.benchmark}", disable=not cfg.progress,
                   initial=start, total=n)
        for k in bar:
            t0 = time.perf_counter()
            strategy.train(bm.train_stream[k])
            accs = evaluate_accuracy(strategy.model, bm.test_stream, cfg.device)
            outcome.accuracy_matrix.append(accs)
            acc, forg = accuracy_summary(outcome.accuracy_matrix)
            x = strategy.clock.train_iterations  # Avalanche's x_plot: see the module docstring
            run.log("Top1_Acc_Seen/eval_phase/test_stream", acc, x)
            run.log("Forgetting/eval_phase/test_stream", forg, x)
            for j, a in enumerate(accs[: k + 1]):
                run.log(f"Top1_Acc_Exp/eval_phase/test_stream/Exp{j:03d}", a, x)
            outcome.seconds += time.perf_counter() - t0
            run.checkpoint(k, {"strategy": recipe.state_dict(strategy), "R": outcome.accuracy_matrix,
                               "drift": drift.state_dict() if drift is not None else None,
                               "seconds": outcome.seconds, "rng": rng_state()})
            bar.set_postfix(acc=f"{acc:.3f}")
        outcome.final_accuracy, outcome.forgetting = accuracy_summary(outcome.accuracy_matrix)
        if D.is_distributed():
            gen = recipe.generator(strategy)
            outcome.ranks_agree = D.ranks_agree(strategy.model) and (gen is None or D.ranks_agree(gen))
    if run.main:
        outcome.drift = _drift_table(run.dir / "metrics.jsonl")
    return outcome

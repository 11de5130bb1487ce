"""The bootstrapping loop of "On the Dangers of Bootstrapping Generation for Continual Learning and
Beyond" (Zverev, Koepke, Henriques; arXiv 2512.11867): iterative retraining on synthetic data.

Stage 0 trains a generator on the real training data D. Every stage then samples a synthetic set of
the same size and class balance as D (the same label vector), and stage s+1 trains a **fresh**
generator (``continue_training=True``: keeps training the previous one) on that set, in which a
fraction ``mix_real`` of each class is replaced by real samples of that class (0 = the paper's
setting, 1 = always real data). After every stage, against the real **held-out** data:

- FID and CFID (per-class FID) on a feature space (identity for 2-D points, a classifier trained on
  the real training data for images), OTDD (p = 2, Gaussian label cost, exact outer OT);
- RealAcc: accuracy on real held-out data of a fresh classifier trained on the stage's synthetic set;
- optional extra metrics (``extra_metrics(x_syn, y_syn) -> {name: float}``, e.g. the toy's modes);
- a sample grid (images) or a scatter plot (points).

Values are logged with the stage as the step to every Avalanche logger given (TensorBoard,
``JSONLinesLogger``), under names ``<Metric>_<extractor>/bootstrap`` (``RealAcc/bootstrap``...).
With a ``run_dir`` each stage ends with an atomic checkpoint (generator state, the next training set,
metrics, RNG states): ``resume=True`` continues after the last complete stage and gives the same
results as an uninterrupted run (same seed, same machine, CPU).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple, Union

import torch
from torch import Tensor

from . import distributed as D
from .checkpoint import load_latest, rng_state, save_checkpoint, set_rng_state
from .generators.base import check_finite_samples, seeded_generate

Dataset = Tuple[Tensor, Tensor]


@dataclass
class BootstrapResult:
    """Per-stage metric values: ``stages[s][name] = value``."""

    stages: List[Dict[str, float]] = field(default_factory=list)
    feature_name: str = ""

    def curve(self, name: str) -> List[float]:
        return [s.get(name, float("nan")) for s in self.stages]


def mix_with_real(x_syn: Tensor, y_syn: Tensor, x_real: Tensor, y_real: Tensor, mix_real: float,
                  generator: torch.Generator) -> Dataset:
    """Replace a fraction ``mix_real`` of each class's synthetic samples by real ones of that class
    (class balance and total size are kept)."""
    if not 0.0 <= mix_real <= 1.0:
        raise ValueError(f"mix_real must be in [0, 1], got {mix_real}")
    if mix_real == 0.0:
        return x_syn, y_syn
    x = x_syn.clone()
    for c in torch.unique(y_syn).tolist():
        syn_idx = torch.nonzero(y_syn == c).flatten()
        real_idx = torch.nonzero(y_real == c).flatten()
        k = min(int(round(mix_real * len(syn_idx))), len(real_idx))
        if k == 0:
            continue
        dst = syn_idx[torch.randperm(len(syn_idx), generator=generator)[:k]]
        src = real_idx[torch.randperm(len(real_idx), generator=generator)[:k]]
        x[dst] = x_real[src]
    return x, y_syn


def _features(features, x_train: Tensor, y_train: Tensor, seed: int, cache_dir):
    from .metrics import ClassifierFeatures, IdentityFeatures

    if features is None:
        features = "identity" if x_train.dim() == 2 else "classifier"
    if features == "identity":
        return IdentityFeatures()
    if features == "classifier":
        return ClassifierFeatures.fit(x_train, y_train, cache_dir=cache_dir, seed=seed)
    if isinstance(features, str):
        raise ValueError(f"unknown features {features!r}: use 'classifier', 'identity' or an extractor")
    return features


def stage_metrics(x_syn: Tensor, y_syn: Tensor, x_test: Tensor, y_test: Tensor, extractor, *,
                  real_test_feats: Tensor, seed: int, otdd_max_samples: Optional[int],
                  accuracy_epochs: int, extra_metrics=None) -> Dict[str, float]:
    """The drift values of one stage (see the module docstring for the definitions)."""
    from .metrics import cfid, extract_features, frechet_distance, otdd, real_data_accuracy

    name = getattr(extractor, "name", "features")
    f_syn = extract_features(extractor, x_syn)
    out = {
        f"FID_{name}": float(frechet_distance(real_test_feats, f_syn)),
        f"CFID_{name}": float(cfid(real_test_feats, y_test, f_syn, y_syn).mean),
        f"OTDD_{name}": float(otdd(real_test_feats, y_test, f_syn, y_syn, max_samples=otdd_max_samples, seed=seed)),
    }
    acc = real_data_accuracy(x_syn, y_syn, x_test, y_test, epochs=accuracy_epochs, seed=seed)
    out["RealAcc"] = float(acc.accuracy)
    out["RealAccChance"] = float(acc.chance)
    if extra_metrics is not None:
        out.update({k: float(v) for k, v in extra_metrics(x_syn, y_syn).items()})
    return out


def _log(loggers: Sequence, values: Dict[str, float], step: int, images=None) -> None:
    from avalanche.evaluation.metric_results import TensorImage

    for lg in loggers:
        for k, v in values.items():
            lg.log_single_metric(f"{k}/bootstrap", float(v), step)
        if images is not None:
            lg.log_single_metric("Samples/bootstrap", images if not isinstance(images, Tensor) else TensorImage(images), step)


def _picture(x: Tensor, y: Tensor, stage: int, per_class: int = 8):
    """A grid of images per class, or a scatter figure for points."""
    if x.dim() == 4:
        from torchvision.utils import make_grid

        rows = [x[y == c][:per_class] for c in torch.unique(y).tolist()]
        rows = [r for r in rows if len(r) == per_class]
        return make_grid(torch.cat(rows), nrow=per_class, padding=1, pad_value=1.0).clamp(0, 1) if rows else None
    if x.dim() == 2 and x.shape[1] == 2:
        from matplotlib.figure import Figure

        fig = Figure(figsize=(3.2, 3.2))
        ax = fig.add_subplot(111)
        ax.scatter(x[:, 0].numpy(), x[:, 1].numpy(), c=y.numpy(), s=2, cmap="tab10")
        ax.set_title(f"stage {stage}")
        ax.set_aspect("equal")
        return fig
    return None


def run_bootstrap(
    make_generator: Callable[[int], object],
    real_train: Dataset,
    real_test: Dataset,
    *,
    stages: int = 5,
    mix_real: float = 0.0,
    continue_training: bool = False,
    features=None,
    loggers: Sequence = (),
    run_dir: Optional[Union[str, Path]] = None,
    resume: bool = False,
    seed: int = 0,
    otdd_max_samples: Optional[int] = 2000,
    accuracy_epochs: int = 30,
    extra_metrics: Optional[Callable[[Tensor, Tensor], Dict[str, float]]] = None,
    on_stage: Optional[Callable[[int, Tensor, Tensor, Dict[str, float]], None]] = None,
    progress: bool = True,
    feature_cache_dir=None,
) -> BootstrapResult:
    """Run ``stages`` stages of train -> sample -> retrain (see the module docstring).

    Args:
        make_generator: ``make_generator(stage)`` returns a fresh trainable generator (``fit(x, y)``,
            ``generate(labels)``, ``state_dict``/``load_state_dict``).
        real_train, real_test: ``(x, y)`` tensors; the synthetic sets copy ``real_train``'s labels.
        stages: number of stages T (stage 0 = trained on real data).
        mix_real: fraction of each class's training set that is real from stage 1 on.
        continue_training: keep training the previous generator instead of a fresh one.
        features: ``"identity"``, ``"classifier"`` or an extractor (default by data kind).
        loggers: Avalanche loggers (``TensorboardLogger``, ``JSONLinesLogger``...).
        run_dir / resume: checkpoint every stage under ``run_dir/checkpoints``; continue after the
            last complete one.
        on_stage: called as ``on_stage(stage, x_syn, y_syn, values)`` after each stage.
    """
    from tqdm.auto import tqdm

    from .metrics import extract_features

    if stages < 1:
        raise ValueError(f"stages must be >= 1, got {stages}")
    x_tr, y_tr = real_train
    x_te, y_te = real_test
    if x_tr.shape[1:] != x_te.shape[1:]:
        raise ValueError(f"train and test data differ in shape: {tuple(x_tr.shape[1:])} vs {tuple(x_te.shape[1:])}")
    torch.manual_seed(seed)
    extractor = _features(features, x_tr, y_tr, seed, feature_cache_dir)
    real_test_feats = extract_features(extractor, x_te)
    result = BootstrapResult(feature_name=getattr(extractor, "name", "features"))
    mix_gen = torch.Generator().manual_seed(seed + 1)
    ckpt_dir = Path(run_dir) / "checkpoints" if run_dir is not None else None

    start, gen, train_set = 0, None, (x_tr, y_tr)
    if resume and ckpt_dir is not None:
        found = load_latest(ckpt_dir)
        if found is not None:
            last, state = found
            result.stages = state["stages"]
            gen = make_generator(last)
            gen.load_state_dict(state["generator"])
            train_set = state["next_train"]
            mix_gen.set_state(state["mix_rng"])
            set_rng_state(state["rng"])
            start = last + 1

    bar = tqdm(range(start, stages), desc="bootstrap stages", disable=not progress, initial=start, total=stages)
    for s in bar:
        if gen is None or not continue_training:
            gen = make_generator(s)
        gen.fit(*train_set)
        # Under torchrun each rank samples its share of the labels; the shares are gathered.
        part = seeded_generate(gen, D.shard(y_tr), seed * 1_000_003 + s + 7_919 * D.rank())
        x_syn = D.gather_in_order(part.detach().float().cpu(), len(y_tr))
        check_finite_samples(x_syn, where=f"bootstrap stage {s}")
        y_syn = y_tr.clone()
        values = stage_metrics(x_syn, y_syn, x_te, y_te, extractor, real_test_feats=real_test_feats, seed=seed,
                               otdd_max_samples=otdd_max_samples, accuracy_epochs=accuracy_epochs,
                               extra_metrics=extra_metrics)
        result.stages.append(values)
        _log(loggers, values, s, _picture(x_syn, y_syn, s))
        if on_stage is not None:
            on_stage(s, x_syn, y_syn, values)
        train_set = mix_with_real(x_syn, y_syn, x_tr, y_tr, mix_real, mix_gen)
        if ckpt_dir is not None and D.is_main_process():
            save_checkpoint(ckpt_dir, s, {
                "stages": result.stages, "generator": gen.state_dict(), "next_train": train_set,
                "mix_rng": mix_gen.get_state(), "rng": rng_state(),
            })
        bar.set_postfix({k: f"{v:.3g}" for k, v in values.items() if k.startswith(("FID", "RealAcc"))})
    return result

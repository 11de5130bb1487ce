"""Training-set regimes of the self-consuming loop: what each stage's generator is trained on.

``replace`` (samples only), ``augment`` (a fraction ``mix_real`` of each class swapped for real
points of D), ``fresh`` (the same fraction from a pool of never-seen real points) and
``accumulate`` (D and every synthetic set so far). A regime's state (its random stream, the
accumulated sets, the fresh-pool cursor) is in ``state_dict()``, so a resumed loop builds exactly
the training sets of an uninterrupted one. ``REGIMES`` maps a name to its class; ``make_regime``
looks it up. Exact definitions: docs/BOOTSTRAP_LOOP.md; measurements: docs/LOOP_REGIMES.md.
"""
from __future__ import annotations

import abc
import math
from typing import Dict, List, Mapping, Optional, Tuple

import torch
from torch import Tensor

from ..runtime.seeds import seed_for

Dataset = Tuple[Tensor, Tensor]

__all__ = ["REGIMES", "Regime", "make_regime", "mix_with_real", "real_counts", "regime_class"]


def real_counts(y: Tensor, mix_real: float) -> Dict[int, int]:
    """k_c = round_half_up(mix_real * n_c) for every class c of ``y``: the real points of class c in
    a mixed stage's training set (the same rounding as ``theory.n_real_samples``)."""
    return {int(c): int(math.floor(float(mix_real) * int((y == c).sum()) + 0.5)) for c in torch.unique(y).tolist()}


def _replace_per_class(x_syn: Tensor, y_syn: Tensor, x_real: Tensor, y_real: Tensor,
                       generator: torch.Generator) -> Dataset:
    """Put every real point (x_real, y_real) in place of a random synthetic point of its class."""
    x = x_syn.clone()
    for c in torch.unique(y_real).tolist():
        syn_idx = torch.nonzero(y_syn == c).flatten()
        src = x_real[y_real == c]
        dst = syn_idx[torch.randperm(len(syn_idx), generator=generator)[:len(src)]]
        x[dst] = src
    return x, y_syn


def mix_with_real(x_syn: Tensor, y_syn: Tensor, x_real: Tensor, y_real: Tensor, mix_real: float,
                  generator: torch.Generator) -> Dataset:
    """Replace k_c = round_half_up(``mix_real`` n_c) of each class's synthetic samples, chosen at
    random, by real ones of that class drawn at random without replacement from (x_real, y_real)
    (class balance and total size are kept). The count rounds half up, like
    ``theory.n_real_samples``, so the loop and its theory mix the same number of real points."""
    if not 0.0 <= mix_real <= 1.0:
        raise ValueError(f"mix_real must be in [0, 1], got {mix_real}")
    if mix_real == 0.0:
        return x_syn, y_syn
    x = x_syn.clone()
    for c, k in real_counts(y_syn, mix_real).items():
        syn_idx = torch.nonzero(y_syn == c).flatten()
        real_idx = torch.nonzero(y_real == c).flatten()
        k = min(k, len(real_idx))
        if k == 0:
            continue
        dst = syn_idx[torch.randperm(len(syn_idx), generator=generator)[:k]]
        src = real_idx[torch.randperm(len(real_idx), generator=generator)[:k]]
        x[dst] = x_real[src]
    return x, y_syn


class Regime(abc.ABC):
    """Base: stage 0 trains on D; subclasses say what later stages train on (docs/BOOTSTRAP_LOOP.md)."""

    needs_mix_real = True  # False: the regime fixes the real fraction itself (mix_real must be 0)
    uses_fresh_pool = False  # True: takes ``fresh_pool``, real points disjoint from real_train

    def __init__(self, real_train: Dataset, *, mix_real: float = 0.0, stages: int = 1,
                 fresh_pool: Optional[Dataset] = None, seed: int = 0) -> None:
        if not 0.0 <= float(mix_real) <= 1.0:
            raise ValueError(f"mix_real must be in [0, 1], got {mix_real}")
        if not self.needs_mix_real and mix_real != 0.0:
            raise ValueError(f"the {self.name!r} regime takes no real fraction (got mix_real={mix_real}); "
                             "use regime='augment' or 'fresh' for a fixed real fraction")
        if fresh_pool is not None and not self.uses_fresh_pool:
            raise ValueError(f"fresh_pool is only used by the 'fresh' regime, not {self.name!r}")
        self.real_train, self.mix_real, self.stages = real_train, float(mix_real), int(stages)
        self.rng = torch.Generator().manual_seed(seed_for("bootstrap.mix", seed=seed))

    @property
    def name(self) -> str:
        return next(k for k, v in REGIMES.items() if v is type(self))

    def initial(self) -> Dataset:
        return self.real_train

    @abc.abstractmethod
    def next_train(self, stage: int, x_syn: Tensor, y_syn: Tensor) -> Dataset:
        """The training set of stage ``stage + 1``, given stage ``stage``'s samples."""

    def state_dict(self) -> dict:
        return {"rng": self.rng.get_state()}

    def load_state_dict(self, state: Mapping) -> None:
        self.rng.set_state(state["rng"])


class Replace(Regime):
    needs_mix_real = False

    def next_train(self, stage, x_syn, y_syn):
        return x_syn, y_syn


class Augment(Regime):
    def next_train(self, stage, x_syn, y_syn):
        return mix_with_real(x_syn, y_syn, *self.real_train, self.mix_real, self.rng)


class Fresh(Regime):
    uses_fresh_pool = True

    def __init__(self, real_train: Dataset, *, mix_real: float = 0.0, stages: int = 1,
                 fresh_pool: Optional[Dataset] = None, seed: int = 0) -> None:
        super().__init__(real_train, mix_real=mix_real, stages=stages, seed=seed)
        if fresh_pool is None:
            raise ValueError("the 'fresh' regime needs fresh_pool=(x, y): real points disjoint from real_train "
                             "(bootdrift bootstrap: --fresh-size sets how many)")
        x_pool, y_pool = fresh_pool
        x_tr, y_tr = real_train
        if x_pool.shape[1:] != x_tr.shape[1:]:
            raise ValueError(
                f"fresh_pool points have shape {tuple(x_pool.shape[1:])}, real_train {tuple(x_tr.shape[1:])}"
            )
        self.k = real_counts(y_tr, self.mix_real)
        short = {c: (stages - 1) * k - int((y_pool == c).sum()) for c, k in self.k.items()}
        short = {c: v for c, v in short.items() if v > 0}
        if short:
            raise ValueError(
                f"the fresh pool runs out: {stages - 1} stages x round({self.mix_real:g} n_c) fresh points per class "
                f"need {', '.join(f'class {c}: {v} more' for c, v in sorted(short.items()))} "
                f"(pool: {len(y_pool)} points); enlarge the pool (--fresh-size), or lower --mix-real or --stages")
        # Equal rows betray a pool cut from D by mistake (the toy's points and the digits images are
        # all distinct, so a correct pool never trips this).
        flat_tr = {bytes(r.numpy().tobytes()) for r in x_tr.reshape(len(x_tr), -1).float()}
        if any(bytes(r.numpy().tobytes()) in flat_tr for r in x_pool.reshape(len(x_pool), -1).float()):
            raise ValueError("fresh_pool shares points with real_train: the fresh draws must be disjoint from D")
        # One seeded order per class, fixed at construction; the cursor walks along it.
        order_gen = torch.Generator().manual_seed(seed_for("bootstrap.fresh_order", seed=seed))
        self.pool = fresh_pool
        self.order = {c: (idx := torch.nonzero(y_pool == c).flatten())[torch.randperm(len(idx), generator=order_gen)]
                      for c in self.k}
        self.cursor = {c: 0 for c in self.k}

    def next_train(self, stage, x_syn, y_syn):
        idx = []
        for c, k in self.k.items():
            idx.append(self.order[c][self.cursor[c]:self.cursor[c] + k])
            self.cursor[c] += k
        idx = torch.cat(idx)
        return _replace_per_class(x_syn, y_syn, self.pool[0][idx], self.pool[1][idx], self.rng)

    def state_dict(self) -> dict:
        return {**super().state_dict(), "cursor": dict(self.cursor)}

    def load_state_dict(self, state: Mapping) -> None:
        super().load_state_dict(state)
        self.cursor = {int(c): int(v) for c, v in state["cursor"].items()}


class Accumulate(Regime):
    needs_mix_real = False

    def __init__(self, *args, **kw) -> None:
        super().__init__(*args, **kw)
        self.synthetic: List[Dataset] = []

    def next_train(self, stage, x_syn, y_syn):
        self.synthetic.append((x_syn, y_syn))
        sets = [self.real_train, *self.synthetic]
        return torch.cat([x for x, _ in sets]), torch.cat([y for _, y in sets])

    def state_dict(self) -> dict:
        return {**super().state_dict(), "synthetic": list(self.synthetic)}

    def load_state_dict(self, state: Mapping) -> None:
        super().load_state_dict(state)
        self.synthetic = list(state["synthetic"])


#: Regime name -> class (the loop's ``regime=``, ``bootdrift bootstrap --regime``).
REGIMES: Mapping[str, type] = {"replace": Replace, "augment": Augment, "fresh": Fresh, "accumulate": Accumulate}


def regime_class(name: str) -> type:
    """``REGIMES[name]``, with an error that lists the choices."""
    if name not in REGIMES:
        raise ValueError(f"unknown regime {name!r}; choose one of {', '.join(REGIMES)}")
    return REGIMES[name]


def make_regime(name: str, real_train: Dataset, **kw) -> Regime:
    """The regime ``name`` (see ``REGIMES``) for ``real_train``; keyword arguments as ``Regime``."""
    return regime_class(name)(real_train, **kw)

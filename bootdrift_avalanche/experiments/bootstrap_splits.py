"""The bootstrapping loop's splits of its training data: D (``--train-size`` points, stratified
by class) and the ``fresh`` regime's pool of never-seen real points, the same for every run seed
(``benchmarks.split.SPLIT_SEED``); the GMM toy draws its pool from its own seed stream instead.
``experiments.registry`` maps data names to them (``FRESH_POOLS``, ``TRAIN_SUBSETS``).
"""
from __future__ import annotations

import torch

from .config import BootstrapConfig


def gmm_fresh_pool(cfg: BootstrapConfig, train):
    """New toy points from their own seed stream (disjoint from train and test with probability 1):
    ``cfg.fresh_size`` of them, by default exactly what the stages need."""
    from ..benchmarks.gmm import GMMSpec, gmm_samples
    from ..bootstrap.regimes import real_counts
    from ..runtime.seeds import seed_for

    spec = GMMSpec()
    need = max(real_counts(train[1], cfg.mix_real).values()) * max(cfg.stages - 1, 0)
    size = cfg.fresh_size if cfg.fresh_size is not None else max(spec.n_modes, spec.n_modes * need)
    pool = gmm_samples(size, spec=spec, seed=seed_for("gmm.fresh", seed=cfg.seed))
    return train, pool


def _stratified_order(cfg: BootstrapConfig, y):
    """The training split's indices in a fixed order in which every prefix (and every suffix) holds
    about the same fraction of every class: the fresh pool is a prefix, D a suffix. The order is the
    same for every run seed (``benchmarks.split.SPLIT_SEED``): D and the pool are a split of the data."""
    from ..benchmarks.split import SPLIT_SEED
    from ..runtime.seeds import seed_for

    g = torch.Generator().manual_seed(seed_for("bootstrap.fresh_split", seed=SPLIT_SEED))
    perm = torch.randperm(len(y), generator=g)
    # Rank of every point within its class in the random order, over the class size: taking the
    # smallest keys takes about the same fraction of every class.
    key = torch.empty(len(y))
    for c in torch.unique(y).tolist():
        idx = perm[y[perm] == c]
        key[idx] = (torch.arange(len(idx)) + 0.5) / len(idx)
    return torch.argsort(key, stable=True)


def _d_size(cfg: BootstrapConfig, n: int, reserved: int) -> int:
    """The number of points in D: ``cfg.train_size`` (checked against the ``n - reserved`` points
    left after the fresh pool), or all of them."""
    if cfg.train_size is None:
        return n - reserved
    if not 0 < cfg.train_size <= n - reserved:
        what = f"{n} training points" + (f" less the {reserved} of the fresh pool" if reserved else "")
        raise ValueError(f"--train-size {cfg.train_size} does not fit the {what} of {cfg.data!r}: give --train-size "
                         f"between 1 and {n - reserved}")
    return cfg.train_size


def split_fresh_pool(cfg: BootstrapConfig, train):
    """``cfg.fresh_size`` training points set aside (stratified by class, the same for every seed) as the fresh pool;
    D is the rest, or (``cfg.train_size``) that many of the rest: the same D as ``split_subset``
    builds for the other regimes, so every regime starts from the same stage 0."""
    x, y = train
    if cfg.fresh_size is None or not 0 < cfg.fresh_size < len(y):
        raise ValueError(f"the fresh regime on {cfg.data!r} takes its pool out of the {len(y)} training points: "
                         f"give --fresh-size between 1 and {len(y) - 1} (got {cfg.fresh_size})")
    order = _stratified_order(cfg, y)
    keep = order[len(y) - _d_size(cfg, len(y), cfg.fresh_size):].sort().values
    pool = order[:cfg.fresh_size]
    return (x[keep], y[keep]), (x[pool], y[pool])


def split_subset(cfg: BootstrapConfig, train):
    """D = ``cfg.train_size`` training points, stratified by class (the last ones of the fixed
    order, so the fresh pool of ``split_fresh_pool`` lies outside it)."""
    x, y = train
    keep = _stratified_order(cfg, y)[len(y) - _d_size(cfg, len(y), 0):].sort().values
    return x[keep], y[keep]


def floor_split(cfg: BootstrapConfig, train):
    """``(extractor_data, floor_set)``: ``cfg.floor_n`` images of every class of D (in a seeded
    order) as the drift floor's second real set, and the rest of D for a trained extractor, so
    the extractor never sees the floor's images. The generator still trains on all of D."""
    x, y = train
    classes = torch.unique(y).tolist()
    short = {c: int((y == c).sum()) for c in classes if int((y == c).sum()) <= cfg.floor_n}
    if cfg.floor_n < 1 or short:
        raise ValueError(f"floor_n={cfg.floor_n}: the floor needs at least 1 and fewer images per class than D holds "
                         f"(classes with too few: {short})")
    g = torch.Generator().manual_seed(cfg.seed)
    perm = torch.randperm(len(y), generator=g)
    floor = torch.cat([perm[y[perm] == c][: cfg.floor_n] for c in classes])
    rest = torch.ones(len(y), dtype=torch.bool)
    rest[floor] = False
    return (x[rest], y[rest]), (x[floor], y[floor])

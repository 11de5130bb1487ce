"""The feature-based drift values of two labelled feature sets, in one process, under the suite's
names: what :class:`~.suite.DriftSuite` computes from features (FID, FID at a fixed n, CFID and its
classes, OTDD, KID and CKID), written once for the bootstrap of :mod:`.intervals` (which recomputes them on
every resample) and for KID/CKID in the suite itself. ``cfg`` is a :class:`~.suite.SuiteConfig`.
"""
from __future__ import annotations

from typing import Dict

import torch
from torch import Tensor

from ..runtime.seeds import seed_for
from .cfid import cfid
from .fid import frechet_distance
from .intervals import bounds_names, z_of
from .kid import class_kid, jackknife_sd, kid
from .otdd_choice import EXACT, choose_otdd


def kid_values(cfg, name: str, real_f: Tensor, real_y: Tensor, syn_f: Tensor, syn_y: Tensor) -> Dict[str, float]:
    """``KID_<name>``, its spread over subsets ``KID_<name>_std``, ``CKID_<name>`` and
    ``CKID_<name>/Class003`` (see :mod:`.kid`); with ``cfg.intervals``, their ``_lo``/``_hi`` from
    the jackknife standard error (sets of equal size; KID is unbiased, so centred on the value)."""
    seed = seed_for("drift.kid", seed=cfg.seed)
    k = kid(real_f, syn_f, subsets=cfg.kid_subsets, subset_size=cfg.kid_subset_size, seed=seed)
    out = {f"KID_{name}": k.mean, f"KID_{name}_std": k.std}
    c = class_kid(real_f, real_y, syn_f, syn_y, subsets=cfg.kid_subsets, subset_size=cfg.kid_subset_size, seed=seed)
    out[f"CKID_{name}"] = c.mean
    out.update({f"CKID_{name}/Class{int(cl):03d}": v for cl, v in sorted(c.per_class.items())})
    if cfg.intervals:
        z = z_of(cfg.confidence)
        sds = {f"CKID_{name}/Class{int(cl):03d}": v for cl, v in c.per_class_sd.items()}
        if c.sd is not None:
            sds[f"CKID_{name}"] = c.sd
        if len(real_f) == len(syn_f) >= 3:
            sds[f"KID_{name}"] = jackknife_sd(real_f, syn_f)
        out.update(bounds_names({k: (out[k] - z * sd, out[k] + z * sd) for k, sd in sds.items()}))
    return out


def stratified_subset(y: Tensor, total: int, seed: int) -> Tensor:
    """Row indices of ``total`` rows of ``y`` spread evenly over its classes (the first classes get
    one more when ``total`` does not divide; at least one row per class), a seeded choice."""
    classes = torch.unique(y).tolist()
    per, extra = divmod(total, len(classes))
    g = torch.Generator().manual_seed(seed)
    out = []
    for i, c in enumerate(classes):
        rows = torch.nonzero(y == c).flatten()
        out.append(rows[torch.randperm(len(rows), generator=g)[: max(1, per + (i < extra))]])
    return torch.cat(out)


def fixed_fid_value(cfg, name: str, real_f: Tensor, real_y: Tensor, syn_f: Tensor, syn_y: Tensor) -> Dict[str, float]:
    """``FIDfixed_<name>``: FID on ``cfg.fid_fixed_n`` rows of each set spread evenly over the
    classes, so that its n, and with it its small-sample bias, stays the same as classes are added."""
    seed = seed_for("drift.fid_fixed", seed=cfg.seed)
    ia, ib = stratified_subset(real_y, cfg.fid_fixed_n, seed), stratified_subset(syn_y, cfg.fid_fixed_n, seed + 1)
    return {f"FIDfixed_{name}": float(frechet_distance(real_f[ia], syn_f[ib]))}


def otdd_value(cfg, name: str, real_f: Tensor, real_y: Tensor, syn_f: Tensor, syn_y: Tensor) -> Dict[str, float]:
    """OTDD under the name of the variant the set sizes choose (see :mod:`.otdd_choice`), its class
    moments, label cost and block costs on ``cfg.device``."""
    if cfg.device is not None:
        real_f, syn_f = real_f.to(cfg.device), syn_f.to(cfg.device)
    variant = EXACT if cfg.otdd_max_samples is not None else choose_otdd(
        len(real_f), len(syn_f), exact_max=cfg.otdd_exact_max, large=cfg.otdd_large)
    if variant is EXACT:
        value = variant.fn(real_f, real_y, syn_f, syn_y, inner=cfg.otdd_inner, max_samples=cfg.otdd_max_samples,
                           seed=seed_for("drift.otdd", seed=cfg.seed))
    else:
        value = variant.fn(real_f, real_y, syn_f, syn_y)
    return {f"{variant.prefix}_{name}": float(value)}


def feature_values(cfg, name: str, real_f: Tensor, real_y: Tensor, syn_f: Tensor, syn_y: Tensor) -> Dict[str, float]:
    """Every enabled feature-based value of ``cfg`` (no figures)."""
    out: Dict[str, float] = {}
    if cfg.fid:
        out[f"FID_{name}"] = float(frechet_distance(real_f, syn_f))
    if cfg.fid and cfg.fid_fixed_n:
        out.update(fixed_fid_value(cfg, name, real_f, real_y, syn_f, syn_y))
    if cfg.cfid:
        r = cfid(real_f, real_y, syn_f, syn_y)
        out[f"CFID_{name}"] = float(r.mean)
        out.update({f"CFID_{name}/Class{int(c):03d}": float(v) for c, v in sorted(r.per_class.items())})
    if cfg.otdd:
        out.update(otdd_value(cfg, name, real_f, real_y, syn_f, syn_y))
    if cfg.kid:
        out.update(kid_values(cfg, name, real_f, real_y, syn_f, syn_y))
    return out

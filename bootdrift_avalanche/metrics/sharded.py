"""Drift metrics across processes (``torchrun`` with more than one rank): each rank extracts the
features of its shard ``x[rank::world]`` of the real and the synthetic set, and the ranks combine
what each metric needs — never more than one process would hold:

* **FID / CFID**: the float64 sufficient statistics of each set (per class for CFID): count,
  Σ (x − μ) and Σ (x − μ)(x − μ)ᵀ about the global mean μ (itself from an all-reduced sum), summed
  over the ranks by ``all_reduce``; the Fréchet distances are computed from them
  (:meth:`GaussianStats.from_sums`). A set with fewer rows than dimensions also gathers its rows
  (at most d×d numbers, the size of its covariance) so that the exact nuclear-norm route of
  :func:`~.fid.frechet_distance` stays available, as :class:`GaussianStats` itself keeps them.
* **OTDD and UMAP**: the features are gathered in their original order (:func:`gather`). The
  exact OT and every large-set variant (:mod:`.otdd_choice`) couple individual points, so they need
  every point, not statistics; with the features in the original order the value (also the seeded
  ``max_samples`` subsample) is the one-process value. Every rank computes it (identical inputs,
  so identical values, and no rank can wait on a collective that another skipped after an error).
* **RealAcc**: the fresh classifier trains with DDP (:func:`~bootdrift_avalanche.nets.train_classifier`).

Every function here is the plain one-process function when the work is not sharded
(``runtime.distributed.sharded()`` is false: no process group, or a group of one rank), so those
runs keep their numbers exactly. Sharded values equal them up to float rounding (summation order;
the covariance from sums instead of from centred rows): ``tests/distributed/test_sharded_metrics.py``.
"""
from __future__ import annotations

from typing import Callable, Dict, Tuple

import numpy as np
import torch
import torch.distributed as dist
from torch import Tensor

from ..runtime import distributed as D
from ._gaussian import gram
from .features import extract_features
from .cfid import CFIDResult, cfid, check_class_size
from .fid import frechet_distance
from .gaussian_stats import GaussianStats


def part(x: Tensor) -> Tensor:
    """This rank's rows ``x[rank::world]`` (all of ``x`` when not sharded)."""
    return D.shard(x) if D.sharded() else x


def gather(p: Tensor, total: int) -> Tensor:
    """Inverse of :func:`part`: all ``total`` rows in the original order, on every rank."""
    return D.gather_in_order(p, total) if D.sharded() else p


def extract_part(extractor: Callable[[Tensor], Tensor], x: Tensor) -> Tensor:
    """Features of this rank's rows of ``x`` (of all of ``x`` when not sharded)."""
    mine = part(x)
    if len(mine) == 0:  # fewer rows than ranks: an empty (0, d) block; d from one row's features
        return extract_features(extractor, x[:1])[:0]
    return extract_features(extractor, mine)


def shard_sums(p: Tensor, shift: Tensor) -> Tuple[Tensor, Tensor]:
    """Σ (x − shift) (d,) and Σ (x − shift)(x − shift)ᵀ (d, d) over the rows of ``p``, float64."""
    xs = p.double() - shift
    return xs.sum(0), gram(xs)


def global_stats(p: Tensor) -> GaussianStats:
    """:class:`GaussianStats` of the union of every rank's rows ``p`` (N_r, d) (all ranks call).
    The shift is the global mean, so the summed moments carry no large common offset."""
    d = p.shape[1]
    head = D.all_reduce(torch.cat([p.double().sum(0), torch.tensor([float(len(p))], dtype=torch.float64)]))
    n = int(round(float(head[-1])))
    if n == 0:
        raise ValueError("no rank holds any feature row")
    shift = head[:d] / n
    s, o = shard_sums(p, shift)
    sums = D.all_reduce(torch.cat([s[None], o]))
    rows = D.gather_rows(p.double()) if n < d else None
    return GaussianStats.from_sums(n, shift, sums[0], sums[1:], rows=rows)


def fid(real_p: Tensor, syn_p: Tensor) -> float:
    """FID between the sets whose rows this rank holds as ``real_p`` and ``syn_p``."""
    if not D.sharded():
        return frechet_distance(real_p, syn_p)
    return frechet_distance(global_stats(real_p), global_stats(syn_p))


def class_counts(y_p: Tensor) -> Tensor:
    """Global count of every class id 0..max over the ranks' label rows ``y_p`` (all ranks call)."""
    top = D.all_reduce(torch.tensor([int(y_p.max()) + 1 if len(y_p) else 0]), op=dist.ReduceOp.MAX)
    return D.all_reduce(torch.bincount(y_p.long().cpu(), minlength=int(top)))


def class_fid(real_p: Tensor, real_yp: Tensor, syn_p: Tensor, syn_yp: Tensor) -> CFIDResult:
    """CFID (:func:`~.fid.cfid` with its defaults: every sample of each common class) of the sets
    whose rows and labels this rank holds; the same checks and messages."""
    if not D.sharded():
        return cfid(real_p, real_yp, syn_p, syn_yp)
    na, nb = class_counts(real_yp), class_counts(syn_yp)
    ca = {c for c in range(len(na)) if na[c] > 0}
    cb = {c for c in range(len(nb)) if nb[c] > 0}
    common = sorted(ca & cb)
    if not common:
        raise ValueError(f"no class is present in both sets (a: {sorted(ca)}, b: {sorted(cb)})")
    for c in common:
        check_class_size(c, int(na[c]), "feats_a")
        check_class_size(c, int(nb[c]), "feats_b")
    per_class: Dict[int, float] = {
        c: frechet_distance(global_stats(real_p[real_yp == c]), global_stats(syn_p[syn_yp == c])) for c in common}
    return CFIDResult(mean=float(np.mean(list(per_class.values()))), per_class=per_class,
                      n_per_class={c: (int(na[c]), int(nb[c])) for c in common},
                      skipped_classes=tuple(sorted(ca ^ cb)))

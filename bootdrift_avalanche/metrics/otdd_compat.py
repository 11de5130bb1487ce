"""OTDD in the convention of the reference code (microsoft/otdd, ``DatasetDistance`` defaults), on
the reference's own engine: geomloss' ``SamplesLoss("sinkhorn", p=2, debias=True, blur=√ε,
scaling=0.5, backend="tensorized")`` with a custom cost.
How it works, its cost and its choices: ``docs/DRIFT_METRICS.md`` (implementation notes).
"""
from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor

from ._checks import ArrayLike
from .otdd import class_gaussians, joint_label_distances, labelled_sets, subsample


def otdd_compat(
    feats_a: ArrayLike,
    labels_a: ArrayLike,
    feats_b: ArrayLike,
    labels_b: ArrayLike,
    *,
    entreg: float = 0.1,
    scaling: float = 0.5,
    max_samples: Optional[int] = None,
    seed: int = 0,
    double: bool = False,
) -> float:
    """microsoft/otdd's dataset distance (debiased Sinkhorn divergence on halved costs, no root).

    Args:
        feats_a, feats_b: (N, d) features, same d; any device (computed on ``feats_a``'s device).
        labels_a, labels_b: (N,) integer labels; the ids of A and B need not correspond.
        entreg: ε of the entropic regularisation (geomloss ``blur`` = √ε).
        scaling: geomloss' ε-annealing factor (0.5, its default and the reference's).
        max_samples: subsample each set to this many points (seeded) for the outer problem; the
            class Gaussians use all points (the reference's ``maxsamples``).
        seed: seed of the subsample.
        double: float64 instead of the reference's float32.

    Raises:
        ValueError: bad shapes, NaN/Inf, mismatched dimensions, a class with fewer than 2 points.
    """
    from geomloss import SamplesLoss

    if entreg <= 0 or not 0 < scaling < 1:
        raise ValueError(f"need entreg > 0 and 0 < scaling < 1, got entreg={entreg}, scaling={scaling}")
    if max_samples is not None and max_samples < 1:
        raise ValueError(f"max_samples must be positive, got {max_samples}")
    xa, ia, classes_a, xb, ib, classes_b = labelled_sets(feats_a, labels_a, feats_b, labels_b)
    device = xa.device
    ga = class_gaussians(xa, ia, classes_a, "feats_a")
    gb = class_gaussians(xb, ib, classes_b, "feats_b")
    dtype = torch.float64 if double else torch.float32
    label_cost = (0.5 * joint_label_distances(ga, gb)).to(device=device, dtype=dtype)
    gen = torch.Generator().manual_seed(seed)
    sa = subsample(xa.shape[0], max_samples, gen).to(device)
    sb = subsample(xb.shape[0], max_samples, gen).to(device)
    # the class index rides along as a last coordinate (B's classes after A's): the cost reads it,
    # and geomloss' diameter (the start of the ε schedule) sees it, as in the reference
    za = torch.cat([xa[sa], ia[sa, None].to(xa.dtype)], 1).to(dtype)
    zb = torch.cat([xb[sb], (ib[sb, None] + len(classes_a)).to(xb.dtype)], 1).to(dtype)

    def cost(z1: Tensor, z2: Tensor) -> Tensor:  # (B, N, d+1), (B, M, d+1) -> (B, N, M)
        f1, f2 = z1[..., :-1], z2[..., :-1]
        sq = (f1 * f1).sum(-1)[:, :, None] + (f2 * f2).sum(-1)[:, None, :] - 2 * f1 @ f2.transpose(1, 2)
        return 0.5 * sq + label_cost[z1[..., -1].long()[:, :, None], z2[..., -1].long()[:, None, :]]

    loss = SamplesLoss("sinkhorn", p=2, blur=entreg**0.5, scaling=scaling, debias=True, cost=cost,
                       backend="tensorized")
    return float(loss(za, zb))

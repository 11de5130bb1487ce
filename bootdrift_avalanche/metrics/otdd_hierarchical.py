"""Hierarchical OTDD: OTDD for large sets by transporting classes first, then points within the
coupled class pairs (the two-level scheme of hierarchical OT, Yurochkin et al., "Hierarchical
Optimal Transport for Document Representation", NeurIPS 2019, applied to the OTDD ground cost of
Alvarez-Melis & Fusi 2020).
How it works, its cost and its choices: ``docs/DRIFT_METRICS.md`` (implementation notes).
"""
from __future__ import annotations

import math

import torch

from ._checks import ArrayLike
from .otdd import class_gaussians, emd2, gaussian_label_distances, labelled_sets, sq_dists


def otdd_hierarchical(feats_a: ArrayLike, labels_a: ArrayLike, feats_b: ArrayLike, labels_b: ArrayLike) -> float:
    """Hierarchical OTDD between (feats_a, labels_a) and (feats_b, labels_b) (``docs/DRIFT_METRICS.md``).

    Raises:
        ValueError: bad shapes, NaN/Inf, mismatched dimensions, a class with fewer than 2 points.
        RuntimeError: if a network simplex stops before optimality.
    """
    import ot

    xa, ia, classes_a, xb, ib, classes_b = labelled_sets(feats_a, labels_a, feats_b, labels_b)
    w = gaussian_label_distances(class_gaussians(xa, ia, classes_a, "feats_a"),
                                 class_gaussians(xb, ib, classes_b, "feats_b"))
    mass_a = torch.bincount(ia, minlength=len(classes_a)).double().cpu() / xa.shape[0]
    mass_b = torch.bincount(ib, minlength=len(classes_b)).double().cpu() / xb.shape[0]
    plan = ot.emd(mass_a.numpy(), mass_b.numpy(), (2.0 * w).numpy())
    total = 0.0
    for i, j in zip(*plan.nonzero()):
        block = emd2(sq_dists(xa[ia == int(i)], xb[ib == int(j)]).cpu())
        total += float(plan[i, j]) * (max(block, 0.0) + float(w[i, j]))
    return math.sqrt(total)

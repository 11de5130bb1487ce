"""Anchored generative replay (the seed paper's open question 1): per-class feature
statistics, stored once from real data when a class is first seen, that keep the replay of that
class aligned with the real data afterwards without storing a single image.

* :class:`ClassAnchors` — the fixed feature space (a frozen, seeded, randomly initialised CNN, the
  ``RandomFeatures`` architecture; never trained, so never on future data) and the stored mean and
  covariance of every class seen so far — :mod:`.anchors`
* :func:`kernel_herding` — choose, among generated candidates, the subset whose distribution is
  closest to a stored Gaussian (selection) — :mod:`.herding`
* :func:`frechet_to_anchor` and :class:`MomentMatching` — the differentiable Fréchet distance of a
  batch to a stored Gaussian, and the DDPM training term built on it (moment matching) —
  :mod:`.moment_matching`

The plugins that use them are in :mod:`bootdrift_avalanche.plugins.anchored_replay`.
"""
from .anchors import ClassAnchors
from .herding import kernel_herding
from .moment_matching import MomentMatching, frechet_to_anchor

__all__ = ["ClassAnchors", "kernel_herding", "frechet_to_anchor", "MomentMatching"]

"""Categorical maximum-likelihood bootstrapping: how the tails of a distribution disappear.

The model: K categories with probabilities p (the truth, fit 0). Fit t draws n samples from fit t-1
and refits by maximum likelihood, p_t = counts / n (a multinomial fit: exactly an n-gram language
model's next-token table for one context, Shumailov et al., Nature 2024, "disappearing tails").

*Every category on its own is a Markov chain.* Given fit t-1, the count of category c is
X_t ~ Binomial(n, p_{t-1,c}) whatever the other categories do (a multinomial's marginal), so the
count X_t of a category of probability p follows the Wright-Fisher chain of population genetics,
X_1 ~ Bin(n, p), X_t | X_{t-1} ~ Bin(n, X_{t-1} / n), on {0, ..., n}. Zero is absorbing (a category
with no sample gets probability 0 and is never drawn again), so

    P(lost by fit t) = P(X_t = 0) = [pi_1 P^(t-1)]_0,   P_ij = C(n, j) (i/n)^j (1 - i/n)^(n-j),

with pi_1 the Bin(n, p) distribution: exact, computed by t - 1 products with the (n+1) x (n+1)
transition matrix (O(t n^2) per category). Special cases: at t = 1 it is (1 - p)^n ~ exp(-n p) (a
category with n p << 1 is lost at once); as t -> inf it tends to 1 - p (p_t is a bounded martingale
that ends at 0 or 1, at 1 with probability p: eventually one category takes everything). By
linearity the expected number of categories left at fit t is sum_c (1 - P(category c lost by t)).
One closed form holds for every t: E[p_t (1 - p_t)] = (1 - 1/n)^t p (1 - p) (from
E[X(n - X)] = n(n-1) p'(1 - p') for X ~ Bin(n, p')), so the expected Gini impurity
sum_c E[p_t,c (1 - p_t,c)] decays like (1 - 1/n)^t, and E[p_t] = p.

``simulate_categorical`` runs the same loop with numpy's multinomial sampler, to check.
"""
from __future__ import annotations

import math
from typing import Dict, Optional

import numpy as np
from scipy.stats import binom

__all__ = ["categorical_closed_form", "simulate_categorical"]


def _check(probs, n: int, t_max: int) -> np.ndarray:
    p = np.asarray(probs, dtype=np.float64)
    if p.ndim != 1 or len(p) < 1 or (p < 0).any() or not math.isclose(float(p.sum()), 1.0, rel_tol=0, abs_tol=1e-9):
        raise ValueError(f"probs must be a 1-D probability vector (non-negative, sum 1), got {probs!r}")
    if not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be a positive integer number of samples per fit, got {n!r}")
    if not isinstance(t_max, (int, np.integer)) or t_max < 0:
        raise ValueError(f"t_max must be a non-negative integer, got {t_max!r}")
    return p


def categorical_closed_form(probs, n: int, t_max: int, *, max_count: Optional[int] = None) -> Dict[str, np.ndarray]:
    """Exact expectations of categorical ML bootstrapping for fits ``t = 0 .. t_max`` (module
    docstring). Returns float64 arrays: ``"t"``; ``"p_lost"`` (K, t_max + 1), the probability that
    category c has probability 0 at fit t; ``"expected_left"`` (t_max + 1), the expected number of
    categories with probability > 0; ``"expected_gini"``, E[sum_c p_t,c (1 - p_t,c)]; and
    ``"truncated_mass"`` (K, t_max + 1), see ``max_count``.

    ``max_count``: follow each chain on the counts 0 .. max_count only (O(t max_count^2) instead of
    O(t n^2) time and memory: for rare categories of a large n, e.g. an n-gram's tail tokens). The
    probability mass that leaves those states is dropped and reported as ``truncated_mass``; every
    ``p_lost`` is then low by at most that mass (0 without truncation)."""
    p = _check(probs, n, t_max)
    top = n if max_count is None else int(min(max(int(max_count), 1), n))
    states = np.arange(top + 1)
    transition = binom.pmf(states[None, :], n, states[:, None] / n)  # row i: Bin(n, i/n), cut at top
    p_lost = np.zeros((len(p), t_max + 1))
    p_lost[:, 0] = (p == 0).astype(float)
    dropped = np.zeros((len(p), t_max + 1))
    if t_max >= 1:
        dist = binom.pmf(states[None, :], n, p[:, None])  # fit 1: Bin(n, p), one row per category
        p_lost[:, 1] = dist[:, 0]
        dropped[:, 1] = np.clip(1.0 - dist.sum(axis=1), 0.0, None)
        for t in range(2, t_max + 1):
            dist = dist @ transition
            p_lost[:, t] = dist[:, 0]
            dropped[:, t] = np.clip(1.0 - dist.sum(axis=1), 0.0, None)
    if top == n:  # nothing was cut: the sums differ from 1 by rounding only
        dropped[:] = 0.0
    t = np.arange(t_max + 1)
    return {"t": t, "p_lost": p_lost, "expected_left": (1.0 - p_lost).sum(axis=0),
            "expected_gini": float((p * (1.0 - p)).sum()) * (1.0 - 1.0 / n) ** t, "truncated_mass": dropped}


def simulate_categorical(probs, n: int, t_max: int, n_runs: int = 10_000, seed: int = 0) -> Dict[str, np.ndarray]:
    """``n_runs`` independent chains of multinomial refits. Returns ``"t"``, ``"p_lost"`` (K,
    t_max + 1: fraction of chains where the category is gone) and its standard error
    ``"p_lost_se"``, ``"expected_left"`` and ``"expected_left_se"``, ``"expected_gini"`` and
    ``"expected_gini_se"`` (means over chains)."""
    p = _check(probs, n, t_max)
    if not isinstance(n_runs, (int, np.integer)) or n_runs < 2:
        raise ValueError(f"n_runs must be an integer >= 2, got {n_runs!r}")
    rng = np.random.default_rng(seed)
    fit = np.broadcast_to(p, (n_runs, len(p))).copy()
    lost = np.empty((n_runs, len(p), t_max + 1), dtype=bool)
    gini = np.empty((n_runs, t_max + 1))
    lost[:, :, 0], gini[:, 0] = fit == 0, (fit * (1 - fit)).sum(axis=1)
    for t in range(1, t_max + 1):
        fit = rng.multinomial(n, fit) / n
        lost[:, :, t], gini[:, t] = fit == 0, (fit * (1 - fit)).sum(axis=1)
    left = (~lost).sum(axis=1).astype(float)
    root = math.sqrt(n_runs)
    frac = lost.mean(axis=0)
    return {"t": np.arange(t_max + 1), "p_lost": frac, "p_lost_se": np.sqrt(frac * (1 - frac) / n_runs),
            "expected_left": left.mean(axis=0), "expected_left_se": left.std(axis=0, ddof=1) / root,
            "expected_gini": gini.mean(axis=0), "expected_gini_se": gini.std(axis=0, ddof=1) / root}

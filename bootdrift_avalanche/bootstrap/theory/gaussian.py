"""Gaussian maximum-likelihood bootstrapping: the bias/variance argument behind model collapse.

A 1-D Gaussian is fitted by maximum likelihood to n samples, n new samples are drawn from the fit
(mixed with real ones as the loop's regime says), and the fit repeats: the analytic counterpart of
the bootstrapping loop (``bootstrap/loop.py``). The ML variance's bias shrinks the spread and each
fit's sampling error moves the mean. ``gaussian_closed_form(regime, ...)`` gives the exact
moments of every regime (``GAUSSIAN_REGIMES``), ``simulate_gaussian`` checks them by Monte Carlo;
``t = 0`` is the truth and loop stage ``s`` is fit ``t = s + 1``. Derivations:
docs/GAUSSIAN_THEORY.md.
"""
from __future__ import annotations

import math
from typing import Dict

import numpy as np

__all__ = [
    "GAUSSIAN_REGIMES",
    "gaussian_closed_form",
    "n_real_samples",
    "mle_bootstrap_closed_form",
    "simulate_gaussian",
    "simulate_mle_bootstrap",
]


def n_real_samples(n: int, mix_real: float) -> int:
    """Number of real samples among the ``n`` of one fit: ``mix_real * n`` rounded half up."""
    if not isinstance(n, (int, np.integer)) or n < 2:
        raise ValueError(f"n must be an integer >= 2 (the ML variance of one sample is 0), got {n!r}")
    if not 0.0 <= float(mix_real) <= 1.0:
        raise ValueError(f"mix_real must lie in [0, 1], got {mix_real!r}")
    return int(math.floor(float(mix_real) * int(n) + 0.5))


def _check_common(t_max: int, sigma2: float) -> None:
    if not isinstance(t_max, (int, np.integer)) or t_max < 0:
        raise ValueError(f"t_max must be a non-negative integer, got {t_max!r}")
    if not (float(sigma2) > 0.0 and math.isfinite(float(sigma2))):
        raise ValueError(f"sigma2 must be a positive finite variance, got {sigma2!r}")


def mle_bootstrap_closed_form(
    t_max: int, n: int, sigma2: float = 1.0, mix_real: float = 0.0
) -> Dict[str, np.ndarray]:
    """Exact expectations of Gaussian ML bootstrapping for fits ``t = 0 .. t_max``, in the fresh
    regime (fresh real samples at every fit; ``mix_real=0`` is replace).

    See docs/GAUSSIAN_THEORY.md for the derivation. ``mix_real`` is the fraction of fresh real samples
    in each fit, rounded to ``m = n_real_samples(n, mix_real)`` points; the formulas use the
    effective fraction ``m / n``.

    Returns a dict of float64 arrays of length ``t_max + 1``:

    - ``"t"``: 0 .. t_max;
    - ``"expected_var"``: E[fitted variance] = sigma2 - var_of_mean;
    - ``"var_of_mean"``: Var[fitted mean] = sigma2 (1 - rho^t) / (1 + N);
    - ``"expected_sq_dev"``: E[fitted variance + (fitted mean - mu)^2], which is sigma2 at every t;
    - ``"var_of_var"``: Var[fitted variance], only when ``m == 0``
      (sigma2^2 (((n^2-1)/n^2)^t - ((n-1)/n)^(2t)));

    and scalars ``"mix_real_effective"`` (m / n), ``"rho"`` (the per-fit contraction factor of the
    mean's excess variance), ``"stationary_var_of_mean"`` (sigma2 / (1 + N)) and
    ``"stationary_expected_var"`` (sigma2 N / (1 + N); 0 when ``m == 0``).
    """
    _check_common(t_max, sigma2)
    m = n_real_samples(n, mix_real)
    lam = m / n
    sigma2 = float(sigma2)
    t = np.arange(t_max + 1)
    rho = (1.0 - lam) * (1.0 - lam - 1.0 / n) + 0.0  # + 0.0 turns the -0.0 of lambda = 1 into 0.0
    big_n = lam * (2.0 * n - 1.0 - n * lam)
    var_of_mean = sigma2 * (1.0 - rho ** t) / (1.0 + big_n)
    out: Dict[str, np.ndarray] = {
        "t": t,
        "expected_var": sigma2 - var_of_mean,
        "var_of_mean": var_of_mean,
        "expected_sq_dev": np.full(t_max + 1, sigma2),
        "mix_real_effective": np.float64(lam),
        "rho": np.float64(rho),
        "stationary_var_of_mean": np.float64(sigma2 / (1.0 + big_n)),
        "stationary_expected_var": np.float64(sigma2 * big_n / (1.0 + big_n)),
    }
    if m == 0:
        q = (n - 1.0) / n
        out["var_of_var"] = sigma2 ** 2 * (((n * n - 1.0) / (n * n)) ** t - q ** (2 * t))
    return out


def simulate_mle_bootstrap(
    t_max: int,
    n: int,
    sigma2: float = 1.0,
    mu: float = 0.0,
    mix_real: float = 0.0,
    n_runs: int = 10_000,
    seed: int = 0,
    *,
    method: str = "auto",
) -> Dict[str, np.ndarray]:
    """Monte-Carlo simulation of Gaussian ML bootstrapping (fresh regime; ``mix_real=0``: replace),
    ``n_runs`` independent chains at once.

    Each chain starts from the truth N(``mu``, ``sigma2``) at ``t = 0`` and refits ``t_max`` times on
    ``n`` samples, ``m = n_real_samples(n, mix_real)`` of them fresh real draws and ``n - m`` drawn
    from the previous fit. ``method``: ``"samples"`` draws every sample (memory ``n_runs * n``
    floats per fit), ``"statistics"`` draws the groups' sufficient statistics (same distribution,
    independent of ``n``), ``"auto"`` uses samples while ``n_runs * n <= 2e6``.

    Returns a dict of float64 arrays (length ``t_max + 1`` unless noted), with the same key names as
    :func:`mle_bootstrap_closed_form` for the estimates:

    - ``"t"``; ``"expected_var"`` and its standard error ``"expected_var_se"`` (mean over chains of
      the fitted variance); ``"var_of_mean"`` and ``"var_of_mean_se"`` (mean over chains of
      (fitted mean - mu)^2, i.e. the variance of the fitted mean around its known expectation mu);
      ``"mean_of_mean"`` (should stay at mu); ``"var_of_var"`` (sample variance of the fitted
      variance over chains);
    - ``"fitted_mean"``, ``"fitted_var"``: the raw (n_runs, t_max + 1) chains.
    """
    _check_common(t_max, sigma2)
    if not isinstance(n_runs, (int, np.integer)) or n_runs < 2:
        raise ValueError(f"n_runs must be an integer >= 2, got {n_runs!r}")
    if method not in ("auto", "samples", "statistics"):
        raise ValueError(f"method must be 'auto', 'samples' or 'statistics', got {method!r}")
    m = n_real_samples(n, mix_real)
    k = n - m
    if method == "auto":
        method = "samples" if n_runs * n <= 2_000_000 else "statistics"
    rng = np.random.default_rng(seed)
    sigma = math.sqrt(float(sigma2))
    means = np.empty((n_runs, t_max + 1))
    vars_ = np.empty((n_runs, t_max + 1))
    means[:, 0], vars_[:, 0] = mu, sigma2
    for t in range(1, t_max + 1):
        prev_mu, prev_sd = means[:, t - 1], np.sqrt(vars_[:, t - 1])
        if method == "samples":
            real = mu + sigma * rng.standard_normal((n_runs, m))
            synth = prev_mu[:, None] + prev_sd[:, None] * rng.standard_normal((n_runs, k))
            x = np.concatenate([real, synth], axis=1)
            means[:, t] = x.mean(axis=1)
            vars_[:, t] = x.var(axis=1)  # ddof=0: the maximum-likelihood variance
        else:
            # Group means are normal; within-group sums of squares are (variance * chi2_{size-1}),
            # independent of the means; the pooled ML variance adds the between-group term.
            r_bar = mu + sigma / math.sqrt(m) * rng.standard_normal(n_runs) if m else np.zeros(n_runs)
            w_r = sigma2 * rng.chisquare(m - 1, n_runs) if m > 1 else np.zeros(n_runs)
            s_bar = prev_mu + prev_sd / math.sqrt(k) * rng.standard_normal(n_runs) if k else np.zeros(n_runs)
            w_s = vars_[:, t - 1] * rng.chisquare(k - 1, n_runs) if k > 1 else np.zeros(n_runs)
            means[:, t] = (m * r_bar + k * s_bar) / n
            vars_[:, t] = (w_r + w_s + (m * k / n) * (r_bar - s_bar) ** 2) / n
    sq_dev = (means - mu) ** 2
    root_n = math.sqrt(n_runs)
    return {
        "t": np.arange(t_max + 1),
        "expected_var": vars_.mean(axis=0),
        "expected_var_se": vars_.std(axis=0, ddof=1) / root_n,
        "var_of_mean": sq_dev.mean(axis=0),
        "var_of_mean_se": sq_dev.std(axis=0, ddof=1) / root_n,
        "mean_of_mean": means.mean(axis=0),
        "var_of_var": vars_.var(axis=0, ddof=1),
        "fitted_mean": means,
        "fitted_var": vars_,
    }


def _augment_closed_form(t_max: int, n: int, sigma2: float = 1.0, mix_real: float = 0.0) -> Dict[str, np.ndarray]:
    """Augment (fixed real set D, a fresh subset of it at every fit); see docs/GAUSSIAN_THEORY.md."""
    _check_common(t_max, sigma2)
    m = n_real_samples(n, mix_real)
    lam, q, t = m / n, (n - 1.0) / n, np.arange(t_max + 1)
    rho = (1.0 - lam) * (1.0 - lam - 1.0 / n) + 0.0
    c = (1.0 - lam) * (lam / (n - 1.0) + 1.0 / n)
    excess = q * sigma2 * c * (1.0 - rho ** np.maximum(t - 1, 0)) / (1.0 - rho)  # E[M_t] for t >= 1
    var_of_mean = np.where(t == 0, 0.0, sigma2 / n + excess)
    expected_var = np.where(t == 0, sigma2, q * sigma2 - excess)
    return {"t": t, "expected_var": expected_var, "var_of_mean": var_of_mean,
            "mix_real_effective": np.float64(lam), "rho": np.float64(rho),
            "stationary_var_of_mean": np.float64(sigma2 / n + q * sigma2 * c / (1.0 - rho))}


def _accumulate_closed_form(t_max: int, n: int, sigma2: float = 1.0, mix_real: float = 0.0) -> Dict[str, np.ndarray]:
    """Accumulate (fit t on D and every earlier fit's n samples); see docs/GAUSSIAN_THEORY.md."""
    _check_common(t_max, sigma2)
    n_real_samples(n, mix_real)  # validates n
    _no_real_fraction("accumulate", mix_real)
    t = np.arange(t_max + 1)
    expected_var = sigma2 * np.cumprod(np.r_[1.0, 1.0 - 1.0 / (n * t[1:] ** 2.0)])
    x = math.pi / math.sqrt(n)
    return {"t": t, "expected_var": expected_var, "var_of_mean": sigma2 - expected_var,
            "mix_real_effective": np.float64(0.0),
            "stationary_expected_var": np.float64(sigma2 * math.sin(x) / x),
            "stationary_var_of_mean": np.float64(sigma2 * (1.0 - math.sin(x) / x))}


def _no_real_fraction(regime: str, mix_real: float) -> None:
    if mix_real != 0.0:
        raise ValueError(f"the {regime} regime takes no real fraction, got mix_real={mix_real}")


def _simulate_augment(rng, d, t_max, n, mix_real):
    """Chains of (fitted mean, fitted variance): fit 1 on D, then m points of D drawn without
    replacement (random keys) and n - m from the previous fit."""
    m = n_real_samples(n, mix_real)
    means, vars_ = np.empty((len(d), t_max + 1)), np.empty((len(d), t_max + 1))
    x = d
    for t in range(1, t_max + 1):
        if t > 1:
            pick = np.argsort(rng.random(d.shape), axis=1)[:, :m]
            synth = means[:, t - 1, None] + np.sqrt(vars_[:, t - 1, None]) * rng.standard_normal((len(d), n - m))
            x = np.concatenate([np.take_along_axis(d, pick, axis=1), synth], axis=1)
        means[:, t], vars_[:, t] = x.mean(axis=1), x.var(axis=1)
    return means, vars_


def _simulate_accumulate(rng, d, t_max, n, mix_real):
    """Chains of (fitted mean, fitted variance) of the ML fit to D and every earlier fit's n samples
    (running sums: the fit needs only the sum and the sum of squares)."""
    _no_real_fraction("accumulate", mix_real)
    means, vars_ = np.empty((len(d), t_max + 1)), np.empty((len(d), t_max + 1))
    total, total_sq = d.sum(axis=1), (d ** 2).sum(axis=1)
    for t in range(1, t_max + 1):
        if t > 1:
            s = means[:, t - 1, None] + np.sqrt(vars_[:, t - 1, None]) * rng.standard_normal((len(d), n))
            total, total_sq = total + s.sum(axis=1), total_sq + (s ** 2).sum(axis=1)
        means[:, t] = total / (t * n)
        vars_[:, t] = np.maximum(total_sq / (t * n) - means[:, t] ** 2, 0.0)
    return means, vars_


def _replace_closed_form(t_max, n, sigma2=1.0, mix_real=0.0):
    _no_real_fraction("replace", mix_real)
    return mle_bootstrap_closed_form(t_max, n, sigma2)


def _simulate_replace(t_max, n, sigma2, mu, mix_real, n_runs, seed):
    _no_real_fraction("replace", mix_real)
    return simulate_mle_bootstrap(t_max, n, sigma2, mu, 0.0, n_runs, seed)


def _chain_simulator(step):
    """A ``simulate`` function from a chain stepper ``step(rng, D, t_max, n, mix_real)``."""
    def simulate(t_max, n, sigma2, mu, mix_real, n_runs, seed):
        _check_common(t_max, sigma2)
        rng = np.random.default_rng(seed)
        d = mu + math.sqrt(float(sigma2)) * rng.standard_normal((n_runs, n))  # D, fit 1's training set
        means, vars_ = step(rng, d, t_max, n, mix_real)
        means[:, 0], vars_[:, 0] = mu, sigma2
        sq_dev, root = (means - mu) ** 2, math.sqrt(n_runs)
        return {"t": np.arange(t_max + 1), "expected_var": vars_.mean(axis=0),
                "expected_var_se": vars_.std(axis=0, ddof=1) / root, "var_of_mean": sq_dev.mean(axis=0),
                "var_of_mean_se": sq_dev.std(axis=0, ddof=1) / root}
    return simulate


#: Regime name -> (closed form ``(t_max, n, sigma2, mix_real) -> dict``, Monte-Carlo simulator
#: ``(t_max, n, sigma2, mu, mix_real, n_runs, seed) -> dict``); keys as ``mle_bootstrap_closed_form``.
GAUSSIAN_REGIMES = {
    "replace": (_replace_closed_form, _simulate_replace),
    "augment": (_augment_closed_form, _chain_simulator(_simulate_augment)),
    "fresh": (mle_bootstrap_closed_form, simulate_mle_bootstrap),
    "accumulate": (_accumulate_closed_form, _chain_simulator(_simulate_accumulate)),
}


def _regime(name: str):
    if name not in GAUSSIAN_REGIMES:
        raise ValueError(f"unknown regime {name!r}; choose one of {', '.join(GAUSSIAN_REGIMES)}")
    return GAUSSIAN_REGIMES[name]


def gaussian_closed_form(regime: str, t_max: int, n: int, sigma2: float = 1.0, mix_real: float = 0.0
                         ) -> Dict[str, np.ndarray]:
    """E[fitted variance] (``"expected_var"``) and Var[fitted mean] (``"var_of_mean"``) for fits
    ``t = 0 .. t_max`` of Gaussian ML bootstrapping in ``regime`` (docs/GAUSSIAN_THEORY.md; loop stage s is
    fit t = s + 1), as float64 arrays, with ``"t"`` and regime-specific scalars."""
    return _regime(regime)[0](t_max, n, sigma2, mix_real)


def simulate_gaussian(regime: str, t_max: int, n: int, sigma2: float = 1.0, mu: float = 0.0,
                      mix_real: float = 0.0, n_runs: int = 10_000, seed: int = 0) -> Dict[str, np.ndarray]:
    """Monte-Carlo counterpart of :func:`gaussian_closed_form`: ``n_runs`` independent chains, drawn
    sample by sample (fresh: ``simulate_mle_bootstrap``'s automatic method). Returns ``"t"``,
    ``"expected_var"``, ``"expected_var_se"``, ``"var_of_mean"``, ``"var_of_mean_se"`` (as
    ``simulate_mle_bootstrap``)."""
    return _regime(regime)[1](t_max, n, sigma2, mu, mix_real, n_runs, seed)

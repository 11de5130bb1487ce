"""Gaussian maximum-likelihood bootstrapping: the bias/variance argument behind model collapse.

The simplest generative model is a 1-D Gaussian fitted by maximum likelihood. Bootstrapping it means:
fit the mean and the (1/n, i.e. maximum-likelihood) variance to n samples, draw n new samples from
the fit, refit, and repeat. This is the analytic counterpart of the bootstrapping loop
(``bootstrap.py``) of "On the Dangers of Bootstrapping Generation for Continual Learning and Beyond"
(arXiv 2512.11867); Shumailov et al. (2024, "AI models collapse when trained on recursively
generated data", Nature 631) make the same Gaussian argument. Two effects compound over stages:

- **bias**: the ML variance underestimates the truth by the factor ``(n-1)/n`` at every fit, so the
  expected fitted variance decays geometrically and the fitted distribution collapses;
- **variance**: every fit moves the mean by a fresh sampling error, so the fitted mean performs a
  random walk away from the true mean.

Indexing. ``t`` counts fits: ``t = 0`` is the true distribution N(mu, sigma2) (mu_0 = mu,
s2_0 = sigma2); fit ``t >= 1`` is trained on n samples, of which ``m = n_real_samples(n, mix_real)``
are fresh draws from the truth and ``k = n - m`` are drawn from fit ``t-1``. Fit 1 therefore sees only
real data whatever ``mix_real`` is, exactly like stage 0 of the bootstrapping loop: loop stage ``s``
corresponds to ``t = s + 1``. The real samples are fresh at every fit (the loop instead reuses its
fixed real training set, which adds a correlation this model ignores).

Derivation (write lambda = m/n, q = (n-1)/n, V_t = E[s2_t], M_t = Var[mu_t] = E[(mu_t - mu)^2];
E[mu_t] = mu at every t, because every sampling step is unbiased for the mean).

*No real data (lambda = 0).* Given fit t-1, the n samples are i.i.d. N(mu_{t-1}, s2_{t-1}), so
n s2_t / s2_{t-1} ~ chi2_{n-1}, independent of the new sample mean, which is N(mu_{t-1}, s2_{t-1}/n).
Hence E[s2_t | past] = q s2_{t-1} and::

    E[s2_t]   = sigma2 q^t
    Var[mu_t] = sum_{s=1..t} E[s2_{s-1}] / n = sigma2/n sum_{s=0..t-1} q^s = sigma2 (1 - q^t)

(the mean increments are martingale differences, so their variances add). Also
E[s2_t^2] = E[s2_{t-1}^2] E[(chi2_{n-1}/n)^2] = E[s2_{t-1}^2] (n^2 - 1)/n^2, giving
Var[s2_t] = sigma2^2 (((n^2-1)/n^2)^t - q^(2t)).

*A fraction lambda of real data.* The pooled ML fit of m real points R (mean Rbar) and k synthetic
points S (mean Sbar) has mu_t = lambda Rbar + (1-lambda) Sbar and
n s2_t = W_R + W_S + (m k / n)(Rbar - Sbar)^2, where W_R, W_S are the within-group sums of squares
and the last term is the between-group term. With E[W_R] = (m-1) sigma2,
E[W_S | past] = (k-1) s2_{t-1} and E[(Rbar - Sbar)^2 | past] = sigma2/m + s2_{t-1}/k + (mu - mu_{t-1})^2::

    E[s2_t | past] = q (lambda sigma2 + (1-lambda) s2_{t-1}) + lambda (1-lambda) (mu_{t-1} - mu)^2
    V_t = q (lambda sigma2 + (1-lambda) V_{t-1}) + lambda (1-lambda) M_{t-1}
    M_t = (1-lambda)^2 M_{t-1} + (lambda sigma2 + (1-lambda) V_{t-1}) / n

an exact linear recursion for (V_t, M_t), from V_0 = sigma2, M_0 = 0. Adding the two lines gives a
conservation law, V_t + M_t = lambda sigma2 + (1-lambda)(V_{t-1} + M_{t-1}) = sigma2 for every t (the ML
fit preserves the samples' mean squared deviation from mu, s2_t + (mu_t - mu)^2, and that is
sigma2 in expectation): the variance the fit loses to the bias reappears as the wandering of the
mean. Substituting V_{t-1} = sigma2 - M_{t-1} gives the closed form::

    rho = (1 - lambda)(1 - lambda - 1/n),    N = lambda (2n - 1 - n lambda) = n (1 - rho) - 1
    Var[mu_t] = sigma2 (1 - rho^t) / (1 + N),    E[s2_t] = sigma2 - Var[mu_t]

with stationary values Var[mu_inf] = sigma2 / (1 + N) and E[s2_inf] = sigma2 N / (1 + N). At
lambda = 0 this is the collapse above (rho = q, N = 0: E[s2_t] -> 0); at lambda = 1 every fit is a
fresh fit to real data (rho = 0: no drift); in between the relative variance deficit settles at
1/(1 + N), about 1/(n lambda (2 - lambda)) for large n.

The Monte-Carlo simulator draws either the raw samples (``method="samples"``; exact and independent
of the algebra above, O(n) per run and stage) or the sufficient statistics (``method="statistics"``;
the same distribution, using only that a Gaussian sample's mean and within-group sum of squares are
independent normal and scaled chi-squared variables; O(1) per run and stage, for large n).
"""
from __future__ import annotations

import math
from typing import Dict

import numpy as np

__all__ = [
    "n_real_samples",
    "mle_bootstrap_closed_form",
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
    """Exact expectations of Gaussian ML bootstrapping for fits ``t = 0 .. t_max``.

    See the module docstring for the derivation. ``mix_real`` is the fraction of fresh real samples
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
    """Monte-Carlo simulation of Gaussian ML bootstrapping, ``n_runs`` independent chains at once.

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

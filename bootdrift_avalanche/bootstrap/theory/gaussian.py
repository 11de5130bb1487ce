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
corresponds to ``t = s + 1``. The loop's regimes (``bootstrap.regimes``) map onto four models:

- **replace**: m = 0 (below, lambda = 0);
- **fresh**: the m real samples are fresh draws from the truth at every fit (below: "A fraction
  lambda of real data"; ``mle_bootstrap_closed_form`` and ``simulate_mle_bootstrap`` are this model);
- **augment**: the m real samples are drawn without replacement, anew at every fit, from the fixed
  set D of n real points that fit 1 was trained on ("Augment" below);
- **accumulate**: fit t is trained on D and on the n samples of every earlier fit, t n points in all
  ("Accumulate" below).

``gaussian_closed_form(regime, ...)`` and ``simulate_gaussian(regime, ...)`` take the regime by name
(``GAUSSIAN_REGIMES``).

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

*Augment (a fixed real set).* Condition on D (mean Dbar, ML variance S2; E[S2] = q sigma2) and write
M_t = E[(mu_t - Dbar)^2 | D], V_t = E[s2_t | D]. The m real points R are a uniform subset of D, so
E[Rbar | D] = Dbar, Var[Rbar | D] = S2 (n - m) / ((n - 1) m) (finite-population correction), and the
ML fit preserves the mean squared deviation from Dbar of its training set: each real point has
E[(x - Dbar)^2 | D] = S2, each synthetic one s2_{t-1} + (mu_{t-1} - Dbar)^2. Hence
V_t + M_t = lambda S2 + (1 - lambda)(V_{t-1} + M_{t-1}), and from V_1 = S2, M_1 = 0 (fit 1 is fitted
to D itself), V_t + M_t = S2 for every t >= 1. The fitted mean is
mu_t - Dbar = lambda (Rbar - Dbar) + (1 - lambda)(Sbar - Dbar) with independent parts, so::

    M_t = lambda^2 S2 (n - m)/((n - 1) m) + (1 - lambda)^2 (M_{t-1} + V_{t-1}/k)
        = rho M_{t-1} + c S2,    rho = (1 - lambda)(1 - lambda - 1/n),  c = (1 - lambda)(lambda/(n - 1) + 1/n)

(substituting V_{t-1} = S2 - M_{t-1}), so M_t = c S2 (1 - rho^(t-1)) / (1 - rho). Every step is
unbiased for Dbar given D, so the cross term with Dbar - mu (variance sigma2/n) vanishes::

    Var[mu_t] = sigma2/n + q sigma2 c (1 - rho^(t-1)) / (1 - rho),    E[s2_t] = q sigma2 (1 - c (1 - rho^(t-1)) / (1 - rho))

for t >= 1. lambda = 0 gives c/(1 - rho) = 1 and the collapse above; lambda = 1 gives c = 0 (every fit
is the fit to D). For lambda > 0 the excess Var[mu_inf] - sigma2/n = q sigma2 c/(1 - rho) is about
sigma2 (1 - lambda^2) / (n lambda (2 - lambda)): the same order 1/(n lambda) as with fresh data, but the
fixed set's own error sigma2/n is never averaged away.

*Accumulate.* Fit t is the ML fit to D and S_1, ..., S_{t-1} (S_j: n samples of fit j), so
t mu_t = Dbar + sum_{j<t} Sbar_j and hence mu_{t+1} = mu_t + a_t / (t + 1) with a_t = Sbar_t - mu_t,
E[a_t | past] = 0, E[a_t^2 | past] = s2_t / n. The mean is a martingale with shrinking steps::

    Var[mu_t] = sigma2/n + sum_{j=1}^{t-1} E[s2_j] / (n (j + 1)^2).

The variance follows from the same conservation: the t n training points have
sum (x - mu_t)^2 = sum (x - mu)^2 - t n (mu_t - mu)^2, with E = n sigma2 from D and
n (E[s2_j] + Var[mu_j]) from S_j, so with U_j = E[s2_j] + Var[mu_j]: t U_t = sigma2 + sum_{j<t} U_j,
and U_1 = q sigma2 + sigma2/n = sigma2 gives U_t = sigma2 for all t. Then V_t = sigma2 - Var[mu_t]
and the mean's recursion give V_{t+1} = V_t (1 - 1/(n (t + 1)^2)), V_1 = sigma2 (1 - 1/n)::

    E[s2_t] = sigma2 prod_{j=1}^{t} (1 - 1/(n j^2)),    Var[mu_t] = sigma2 - E[s2_t].

The product converges (sum 1/j^2 < inf), to Euler's sin(pi x)/(pi x) at x = 1/sqrt(n): the error stays
bounded, E[s2_inf] = sigma2 sin(pi/sqrt(n)) / (pi/sqrt(n)) ~ sigma2 (1 - pi^2/(6 n)), where replace's
E[s2_t] = sigma2 q^t goes to 0 (Gerstgrasser et al. 2024 show the same bound for linear regression).

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
    """Augment (fixed real set D, a fresh subset of it at every fit); see the module docstring."""
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
    """Accumulate (fit t on D and every earlier fit's n samples); see the module docstring."""
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
    ``t = 0 .. t_max`` of Gaussian ML bootstrapping in ``regime`` (module docstring; loop stage s is
    fit t = s + 1), as float64 arrays, with ``"t"`` and regime-specific scalars."""
    return _regime(regime)[0](t_max, n, sigma2, mix_real)


def simulate_gaussian(regime: str, t_max: int, n: int, sigma2: float = 1.0, mu: float = 0.0,
                      mix_real: float = 0.0, n_runs: int = 10_000, seed: int = 0) -> Dict[str, np.ndarray]:
    """Monte-Carlo counterpart of :func:`gaussian_closed_form`: ``n_runs`` independent chains, drawn
    sample by sample (fresh: ``simulate_mle_bootstrap``'s automatic method). Returns ``"t"``,
    ``"expected_var"``, ``"expected_var_se"``, ``"var_of_mean"``, ``"var_of_mean_se"`` (as
    ``simulate_mle_bootstrap``)."""
    return _regime(regime)[1](t_max, n, sigma2, mu, mix_real, n_runs, seed)

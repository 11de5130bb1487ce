"""The ML bootstrapping closed forms (Gaussian in every regime, categorical) against Monte-Carlo
simulation (seeded)."""
import numpy as np
import pytest

from bootdrift_avalanche.bootstrap.theory import (GAUSSIAN_REGIMES, categorical_closed_form, gaussian_closed_form,
                                                  mle_bootstrap_closed_form, n_real_samples, simulate_categorical,
                                                  simulate_gaussian, simulate_mle_bootstrap)

T_CHECK = [1, 2, 5, 10, 20]


def _z_scores(sim, closed, key):
    t = np.array(T_CHECK)
    return (sim[key][t] - closed[key][t]) / sim[key + "_se"][t]


@pytest.mark.parametrize("method", ["samples", "statistics"])
@pytest.mark.parametrize("mix_real", [0.0, 0.5])
def test_closed_form_matches_simulation(mix_real, method):
    n, sigma2 = 10, 2.0
    closed = mle_bootstrap_closed_form(20, n, sigma2=sigma2, mix_real=mix_real)
    sim = simulate_mle_bootstrap(20, n, sigma2=sigma2, mu=1.5, mix_real=mix_real, n_runs=20_000,
                                 seed=3, method=method)
    # 5 stages x 2 quantities: all within 4 standard errors (a false alarm is ~1e-3 per test).
    assert np.abs(_z_scores(sim, closed, "expected_var")).max() < 4
    assert np.abs(_z_scores(sim, closed, "var_of_mean")).max() < 4
    np.testing.assert_allclose(sim["mean_of_mean"], 1.5, atol=5 * np.sqrt(sigma2 / 20_000))


def test_sufficient_statistics_handle_large_n_and_odd_mixes():
    # n = 1000 with 10k chains would need 1e7 samples per fit; the statistics route is O(runs).
    for mix in (0.1, 0.25, 0.999):
        closed = mle_bootstrap_closed_form(20, 1000, mix_real=mix)
        sim = simulate_mle_bootstrap(20, 1000, mix_real=mix, n_runs=10_000, seed=1, method="auto")
        assert np.abs(_z_scores(sim, closed, "expected_var")).max() < 4
        assert np.abs(_z_scores(sim, closed, "var_of_mean")).max() < 4


def test_no_real_data_is_the_classical_collapse():
    n, s2 = 20, 3.0
    c = mle_bootstrap_closed_form(30, n, sigma2=s2)
    q = (n - 1) / n
    t = np.arange(31)
    np.testing.assert_allclose(c["expected_var"], s2 * q ** t)
    np.testing.assert_allclose(c["var_of_mean"], s2 / n * np.cumsum(np.r_[0.0, q ** t[:-1]]))
    np.testing.assert_allclose(c["expected_var"] + c["var_of_mean"], s2)  # the conservation law
    assert float(c["stationary_expected_var"]) == 0.0
    sim = simulate_mle_bootstrap(5, n, sigma2=s2, n_runs=40_000, seed=0)
    # Var of the fitted variance: sample variance vs closed form, a loose (10%) check at small t.
    np.testing.assert_allclose(sim["var_of_var"][1:], c["var_of_var"][1:6], rtol=0.1)


def test_all_real_data_gives_no_drift():
    n = 10
    c = mle_bootstrap_closed_form(15, n, sigma2=1.0, mix_real=1.0)
    np.testing.assert_allclose(c["expected_var"][1:], (n - 1) / n)  # only the one-fit ML bias
    np.testing.assert_allclose(c["var_of_mean"][1:], 1.0 / n)
    sim = simulate_mle_bootstrap(15, n, mix_real=1.0, n_runs=20_000, seed=2)
    closed_t = (sim["expected_var"][1:] - c["expected_var"][1:]) / sim["expected_var_se"][1:]
    assert np.abs(closed_t).max() < 4.5


def test_real_data_slows_drift_monotonically():
    finals = [float(mle_bootstrap_closed_form(50, 100, mix_real=lam)["expected_var"][-1])
              for lam in (0.0, 0.1, 0.25, 0.5, 1.0)]
    assert all(a < b for a, b in zip(finals, finals[1:]))
    c = mle_bootstrap_closed_form(2000, 100, mix_real=0.1)
    np.testing.assert_allclose(c["expected_var"][-1], c["stationary_expected_var"], rtol=1e-9)


def test_rounding_and_errors():
    assert n_real_samples(10, 0.25) == 3  # 2.5 rounds half up
    assert n_real_samples(10, 0.0) == 0 and n_real_samples(10, 1.0) == 10
    assert float(mle_bootstrap_closed_form(3, 10, mix_real=0.25)["mix_real_effective"]) == 0.3
    with pytest.raises(ValueError, match="mix_real"):
        mle_bootstrap_closed_form(3, 10, mix_real=1.5)
    with pytest.raises(ValueError, match="n must be"):
        mle_bootstrap_closed_form(3, 1)
    with pytest.raises(ValueError, match="sigma2"):
        simulate_mle_bootstrap(3, 10, sigma2=-1.0)
    with pytest.raises(ValueError, match="method"):
        simulate_mle_bootstrap(3, 10, method="exact")


# ---- every regime of the loop (bootstrap.regimes) and the categorical case -----------------------


@pytest.mark.parametrize("regime,mix_real", [("replace", 0.0), ("augment", 0.3), ("augment", 0.7),
                                             ("fresh", 0.3), ("accumulate", 0.0)])
def test_every_regime_closed_form_matches_simulation(regime, mix_real):
    t_max, n, sigma2 = 10, 10, 2.0
    closed = gaussian_closed_form(regime, t_max, n, sigma2=sigma2, mix_real=mix_real)
    sim = simulate_gaussian(regime, t_max, n, sigma2=sigma2, mu=-0.5, mix_real=mix_real, n_runs=20_000, seed=7)
    t = np.arange(1, t_max + 1)
    for key in ("expected_var", "var_of_mean"):
        z = (sim[key][t] - closed[key][t]) / sim[key + "_se"][t]
        assert np.abs(z).max() < 4, (regime, key, z)


def test_augment_limits_and_the_fixed_set_penalty():
    n = 10
    np.testing.assert_allclose(gaussian_closed_form("augment", 12, n)["expected_var"],
                               gaussian_closed_form("replace", 12, n)["expected_var"])  # lambda = 0 is replace
    all_real = gaussian_closed_form("augment", 12, n, mix_real=1.0)
    np.testing.assert_allclose(all_real["var_of_mean"][1:], 1.0 / n)  # every fit is the fit to D
    # Re-using D never beats fresh data: its error sigma2/n is never averaged away.
    for lam in (0.2, 0.5, 0.8):
        aug = gaussian_closed_form("augment", 30, 100, mix_real=lam)["var_of_mean"]
        fresh = gaussian_closed_form("fresh", 30, 100, mix_real=lam)["var_of_mean"]
        assert (aug[2:] > fresh[2:]).all()


def test_accumulate_stays_bounded_where_replace_collapses():
    n = 10
    acc = gaussian_closed_form("accumulate", 5000, n)
    x = np.pi / np.sqrt(n)
    np.testing.assert_allclose(acc["expected_var"][-1], np.sin(x) / x, rtol=1e-3)  # Euler's product
    assert acc["expected_var"][-1] > 0.7 and gaussian_closed_form("replace", 5000, n)["expected_var"][-1] < 1e-200
    np.testing.assert_allclose(acc["expected_var"] + acc["var_of_mean"], 1.0)  # conservation law
    assert set(GAUSSIAN_REGIMES) == {"replace", "augment", "fresh", "accumulate"}
    with pytest.raises(ValueError, match="takes no real fraction"):
        gaussian_closed_form("accumulate", 3, 10, mix_real=0.5)
    with pytest.raises(ValueError, match="unknown regime 'mad'"):
        simulate_gaussian("mad", 3, 10)


def test_categorical_loss_and_categories_left_match_simulation():
    p = np.array([0.5, 0.2, 0.1, 0.1, 0.05, 0.03, 0.01, 0.01])
    n, t_max = 20, 12
    closed = categorical_closed_form(p, n, t_max)
    sim = simulate_categorical(p, n, t_max, n_runs=20_000, seed=5)
    se = np.sqrt(closed["p_lost"] * (1 - closed["p_lost"]) / 20_000)  # binomial SE at the exact value
    assert (np.abs(sim["p_lost"] - closed["p_lost"])[:, 1:] < 4 * se[:, 1:] + 1e-12).all()
    for key in ("expected_left", "expected_gini"):
        z = (sim[key][1:] - closed[key][1:]) / sim[key + "_se"][1:]
        assert np.abs(z).max() < 4, key
    np.testing.assert_allclose(closed["p_lost"][:, 1], (1 - p) ** n)  # first fit: (1 - p)^n
    assert closed["expected_left"][0] == len(p) and (np.diff(closed["expected_left"]) < 0).all()
    far = categorical_closed_form([0.7, 0.3], 10, 400)["p_lost"][:, -1]
    np.testing.assert_allclose(far, [0.3, 0.7], atol=1e-6)  # eventually lost with probability 1 - p
    with pytest.raises(ValueError, match="probability vector"):
        categorical_closed_form([0.5, 0.6], 10, 3)

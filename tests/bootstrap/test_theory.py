"""The Gaussian ML bootstrapping closed forms against Monte-Carlo simulation (seeded)."""
import numpy as np
import pytest

from bootdrift_avalanche.bootstrap.theory import mle_bootstrap_closed_form, n_real_samples, simulate_mle_bootstrap

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

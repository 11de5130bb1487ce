"""Toy mode metrics on hand-computed cases."""
import math

import pytest
import torch

from bootdrift_avalanche.benchmarks.gmm import GMMSpec, gmm_samples
from bootdrift_avalanche.metrics.modes import mode_metrics, nearest_mode

CENTERS = torch.tensor([[0.0, 0.0], [10.0, 0.0]])


def test_exact_small_case():
    # std 1 -> high quality within distance 3. Ten samples, K = 2: threshold 0.2 * 10 / 2 = 1 sample.
    samples = torch.tensor(
        [[0.0, 0.0], [1.0, 1.0], [2.9, 0.0], [3.1, 0.0],  # mode 0: three good, one too far
         [10.0, 0.0], [10.0, -2.0],  # mode 1: two good
         [5.1, 0.0], [6.0, 0.0], [-4.0, 0.0], [0.0, 3.5]],  # nearest 1, 1, 0, 0; all too far
    )
    labels = torch.tensor([0, 0, 0, 0, 1, 1, 0, 1, 0, 0])
    out = mode_metrics(samples, CENTERS, 1.0, labels)
    assert out["mode_counts"] == [3, 2]
    assert out["high_quality_fraction"] == pytest.approx(0.5)
    assert out["modes_covered"] == 2
    # nearest modes: 0 0 0 0 1 1 1 1 0 0 -> agreement with the labels at 9 of 10 positions.
    assert out["label_agreement"] == pytest.approx(0.9)
    assert out["n_modes"] == 2
    idx, dist = nearest_mode(samples, CENTERS)
    assert idx.tolist() == [0, 0, 0, 0, 1, 1, 1, 1, 0, 0]
    assert dist[3].item() == pytest.approx(3.1)


def test_coverage_threshold_rule():
    # 100 samples, K = 2: default rule needs 0.2 * 50 = 10 good samples in a mode.
    samples = torch.cat([torch.zeros(91, 2), torch.tensor([[10.0, 0.0]]).repeat(9, 1)])
    assert mode_metrics(samples, CENTERS, 1.0)["modes_covered"] == 1
    samples[81:91] = torch.tensor([10.0, 0.0])  # now 81 and 19
    assert mode_metrics(samples, CENTERS, 1.0)["modes_covered"] == 2
    # A mode nobody visits is not covered, whatever the rule (min_share = 0 means "any sample").
    assert mode_metrics(torch.zeros(5, 2), CENTERS, 1.0, min_share=0.0)["modes_covered"] == 1
    assert mode_metrics(torch.zeros(5, 2), CENTERS, 1.0, min_share=0.0)["mode_counts"] == [5, 0]


def test_mode_std_ratio_exact():
    # Mode 0 samples at (+-1, +-1): per-axis RMS deviation 1 -> ratio 1 / std = 2 with std 0.5.
    samples = torch.tensor([[1.0, 1.0], [-1.0, -1.0], [1.0, -1.0], [-1.0, 1.0]])
    out = mode_metrics(samples, CENTERS, 0.5)
    assert out["mode_std_ratio"] == pytest.approx(2.0)
    assert math.isnan(mode_metrics(torch.zeros(1, 2), CENTERS, 0.5)["mode_std_ratio"])


def test_real_gmm_data_scores_as_expected():
    spec = GMMSpec()
    x, y = gmm_samples(5000, spec=spec, seed=0)
    out = mode_metrics(x, spec.centers(), spec.std, y)
    assert out["modes_covered"] == 5
    # Within 3 std of a 2-D isotropic Gaussian: P(chi2_2 <= 9) = 1 - exp(-4.5) = 0.9889.
    assert out["high_quality_fraction"] == pytest.approx(1 - math.exp(-4.5), abs=0.005)
    assert out["label_agreement"] == 1.0
    assert out["mode_std_ratio"] == pytest.approx(1.0, abs=0.03)


def test_clear_errors():
    with pytest.raises(ValueError, match="dimension"):
        mode_metrics(torch.zeros(3, 3), CENTERS, 1.0)
    with pytest.raises(ValueError, match="shape"):
        mode_metrics(torch.zeros(3), CENTERS, 1.0)
    with pytest.raises(ValueError, match="std"):
        mode_metrics(torch.zeros(3, 2), CENTERS, 0.0)
    with pytest.raises(ValueError, match="NaN"):
        mode_metrics(torch.full((3, 2), float("nan")), CENTERS, 1.0)
    with pytest.raises(ValueError, match="labels must have shape"):
        mode_metrics(torch.zeros(3, 2), CENTERS, 1.0, torch.zeros(4, dtype=torch.long))
    with pytest.raises(ValueError, match="mode indices"):
        mode_metrics(torch.zeros(3, 2), CENTERS, 1.0, torch.tensor([0, 1, 2]))
    with pytest.raises(TypeError, match="integer"):
        mode_metrics(torch.zeros(3, 2), CENTERS, 1.0, torch.zeros(3))
    with pytest.raises(ValueError, match="empty"):
        mode_metrics(torch.zeros(0, 2), CENTERS, 1.0)

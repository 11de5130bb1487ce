"""Real-data accuracy (train on synthetic, test on real) and the shared small networks."""
import pytest
import torch

from bootdrift_avalanche.benchmarks.digits import load_digits_tensors
from bootdrift_avalanche.metrics import real_data_accuracy
from bootdrift_avalanche.nets import MLPClassifier, SmallCNN, make_classifier


@pytest.fixture(scope="module")
def digits():
    return load_digits_tensors()


def _subset(x, y, classes):
    keep = torch.isin(y, torch.tensor(classes))
    return x[keep], y[keep]


def test_real_digits_as_synthetic_score_far_above_chance(digits):
    x_tr, y_tr, x_te, y_te = digits
    x_syn, y_syn = _subset(x_tr, y_tr, [0, 1, 2, 3])
    r = real_data_accuracy(x_syn, y_syn, x_te, y_te, epochs=5, batch_size=32, lr=3e-3, seed=0)
    assert r.classes == (0, 1, 2, 3) and r.chance == 0.25
    assert r.n_train == len(y_syn) and r.n_test == int(torch.isin(y_te, torch.tensor([0, 1, 2, 3])).sum())
    assert r.accuracy > 0.8
    assert real_data_accuracy(x_syn, y_syn, x_te, y_te, epochs=5, batch_size=32, lr=3e-3, seed=0) == r  # reproducible


def test_noise_as_synthetic_scores_near_chance(digits):
    x_tr, y_tr, x_te, y_te = digits
    x_syn, y_syn = _subset(x_tr, y_tr, [4, 7])
    noise = torch.rand(x_syn.shape, generator=torch.Generator().manual_seed(0))
    r = real_data_accuracy(noise, y_syn, x_te, y_te, epochs=3)
    assert r.chance == 0.5 and r.classes == (4, 7)
    assert abs(r.accuracy - 0.5) < 0.25


def test_points_use_the_mlp():
    g = torch.Generator().manual_seed(0)
    centres = torch.tensor([[0.0, 0.0], [4.0, 0.0], [0.0, 4.0]])
    y = torch.arange(300) % 3
    x = centres[y] + 0.5 * torch.randn(300, 2, generator=g)
    r = real_data_accuracy(x[:150], y[:150], x[150:], y[150:], epochs=20, batch_size=32, lr=1e-2)
    assert r.accuracy > 0.95


def test_accuracy_errors(digits):
    x_tr, y_tr, x_te, y_te = digits
    with pytest.raises(ValueError, match="differ in shape"):
        real_data_accuracy(x_tr[:10], y_tr[:10], x_te[:, :, :4], y_te)
    with pytest.raises(ValueError, match="no real test sample"):
        real_data_accuracy(x_tr[:10], torch.full((10,), 3), x_te[:5], torch.zeros(5, dtype=torch.long))
    with pytest.raises(ValueError, match="do not match"):
        real_data_accuracy(x_tr[:10], y_tr[:9], x_te, y_te)
    bad = x_tr[:10].clone()
    bad[0, 0, 0, 0] = float("nan")
    with pytest.raises(ValueError, match="NaN"):
        real_data_accuracy(bad, y_tr[:10], x_te, y_te)
    with pytest.raises(ValueError, match="outside"):
        real_data_accuracy(x_tr[:10], y_tr[:10] + 10, x_te, y_te + 10, num_classes=5)


def test_make_classifier_and_features():
    cnn = make_classifier((3, 16, 16), 5, width=4)
    assert isinstance(cnn, SmallCNN)
    x = torch.rand(2, 3, 16, 16)
    assert cnn(x).shape == (2, 5) and cnn.features(x).shape == (2, cnn.feature_dim)
    mlp = make_classifier((2,), 3)
    assert isinstance(mlp, MLPClassifier) and mlp(torch.rand(4, 2)).shape == (4, 3)
    assert mlp.features(torch.rand(4, 2)).shape == (4, 64)
    with pytest.raises(ValueError, match="square"):
        make_classifier((1, 8, 6), 2)
    with pytest.raises(ValueError, match="input_shape"):
        make_classifier((8, 8), 2)
    with pytest.raises(ValueError, match="expected images"):
        SmallCNN(in_channels=1, num_classes=2, image_size=8).features(torch.rand(1, 3, 8, 8))

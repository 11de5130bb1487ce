"""bfloat16 feature extraction: float32 features close to the exact ones; a bad name fails at
configuration with one clear error."""
import pytest
import torch

from bootdrift_avalanche.metrics.features import extract_features, make_extractor
from bootdrift_avalanche.metrics.suite import DriftSuite, SuiteConfig


def test_bfloat16_features_are_float32_and_close():
    x = torch.rand(12, 3, 8, 8, generator=torch.Generator().manual_seed(0))
    ext = make_extractor("random", x, torch.arange(12) % 2)
    exact = extract_features(ext, x)
    fast = extract_features(ext, x, batch_size=5, precision="bfloat16")
    assert fast.dtype == torch.float32 and fast.shape == exact.shape
    assert float((fast - exact).norm() / exact.norm()) < 0.02


def test_suite_uses_its_precision():
    x, y = torch.rand(20, 3, 8, 8, generator=torch.Generator().manual_seed(1)), torch.arange(20) % 2
    ext = make_extractor("random", x, y)
    cfg = dict(real_accuracy=False, samples=False, otdd=False, kid=False, cfid=False)
    exact = DriftSuite(ext, SuiteConfig(**cfg)).evaluate(x, y, x.flip(0), y).scalars["FID_random"]
    fast = DriftSuite(ext, SuiteConfig(**cfg, feature_precision="bfloat16")).evaluate(x, y, x.flip(0), y)
    assert fast.scalars["FID_random"] == pytest.approx(exact, rel=0.05)


def test_unknown_precision_is_refused():
    with pytest.raises(ValueError, match="feature_precision must be one of float32, bfloat16, got 'float16'"):
        SuiteConfig(feature_precision="float16")

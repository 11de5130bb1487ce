"""Feature extractors: make_extractor, identity, the cached classifier features, Inception's
offline error path."""
import sys

import pytest
import torch

import bootdrift_avalanche.metrics.classifier_features as classifier_features_mod
import bootdrift_avalanche.metrics.features as features_mod
from bootdrift_avalanche.metrics import (
    ClassifierFeatures,
    IdentityFeatures,
    InceptionFeatures,
    extract_features,
    make_extractor,
)
from bootdrift_avalanche.metrics.features import INCEPTION_ENV, INCEPTION_FILE, INCEPTION_URL


def _images(n=48, seed=0):
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % 3
    x = 0.2 * torch.rand(n, 1, 8, 8, generator=g)
    for c in range(3):  # a bright bar per class, so a couple of epochs separate them
        x[y == c, :, 2 * c + 1, :] += 0.8
    return x, y


def test_identity_features():
    f = IdentityFeatures()
    x = torch.rand(5, 2, 3, 3)
    out = f(x)
    assert out.shape == (5, 18) and f.name == "identity" and f.num_features == 18
    assert torch.equal(out, x.reshape(5, -1))
    with pytest.raises(ValueError, match="expects 18 values"):
        f(torch.rand(2, 4))


def test_extract_features_batches_like_one_shot():
    x = torch.rand(70, 1, 4, 4)
    f = IdentityFeatures()
    assert torch.equal(extract_features(f, x, batch_size=16), x.reshape(70, -1))
    with pytest.raises(ValueError, match="batch_size"):
        extract_features(f, x, batch_size=0)
    with pytest.raises(ValueError, match="returned shape"):
        extract_features(lambda t: t.sum(), x)


def test_classifier_features_train_once_and_cache(tmp_path, monkeypatch):
    x, y = _images()
    f = ClassifierFeatures.fit(x, y, cache_dir=tmp_path, epochs=3, batch_size=16, width=8, feature_dim=16)
    assert f.name == "clf" and f.num_features == 16
    files = list(tmp_path.iterdir())
    assert len(files) == 1 and files[0].suffix == ".pt"  # atomic write: no temporary left behind
    feats = f(x)
    assert feats.shape == (48, 16) and not feats.requires_grad

    def no_training(*args, **kwargs):
        raise AssertionError("the cached classifier should have been loaded")

    monkeypatch.setattr(classifier_features_mod, "train_classifier", no_training)
    again = ClassifierFeatures.fit(x, y, cache_dir=tmp_path, epochs=3, batch_size=16, width=8, feature_dim=16)
    assert torch.equal(again(x), feats)
    assert again.train_accuracy == f.train_accuracy
    with pytest.raises(AssertionError, match="cached"):  # another seed (or data) is another key
        ClassifierFeatures.fit(x, y, cache_dir=tmp_path, seed=1, epochs=3, batch_size=16, width=8, feature_dim=16)
    with pytest.raises(AssertionError, match="cached"):
        ClassifierFeatures.fit(x[:-1], y[:-1], cache_dir=tmp_path, epochs=3, batch_size=16, width=8, feature_dim=16)


def test_classifier_features_default_cache_dir_from_env(tmp_path, monkeypatch):
    monkeypatch.setenv("BOOTDRIFT_CACHE", str(tmp_path / "cache"))
    x, y = _images(24)
    f = ClassifierFeatures.fit(x, y, epochs=1, width=4, feature_dim=8, name="clf-test")
    assert [p.name.startswith("clf-test-") for p in (tmp_path / "cache").iterdir()] == [True]
    assert extract_features(f, x, batch_size=5).shape == (24, 8)
    with pytest.raises(TypeError, match="features"):
        ClassifierFeatures(torch.nn.Linear(3, 3))


@pytest.mark.skipif(sys.platform != "linux", reason="XDG_CACHE_HOME is the Linux convention (platformdirs)")
def test_default_cache_dir_is_the_user_cache_unless_overridden(tmp_path, monkeypatch):
    monkeypatch.delenv("BOOTDRIFT_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert features_mod.default_cache_dir() == tmp_path / "xdg" / "bootdrift"
    monkeypatch.setenv("BOOTDRIFT_CACHE", str(tmp_path / "mine"))
    assert features_mod.default_cache_dir() == tmp_path / "mine"


def test_inception_offline_error_says_what_is_missing(tmp_path, monkeypatch):
    monkeypatch.delenv(INCEPTION_ENV, raising=False)
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))
    with pytest.raises(FileNotFoundError) as err:
        InceptionFeatures()
    msg = str(err.value)
    assert INCEPTION_FILE in msg and str(tmp_path / "hub" / "checkpoints") in msg
    assert INCEPTION_ENV in msg and INCEPTION_URL in msg and "weights_path" in msg
    missing = tmp_path / "nope.pth"
    with pytest.raises(FileNotFoundError, match="nope.pth"):
        InceptionFeatures(weights_path=missing)
    monkeypatch.setenv(INCEPTION_ENV, str(missing))
    with pytest.raises(FileNotFoundError, match=f"\\${INCEPTION_ENV}"):
        InceptionFeatures()
    with pytest.raises(ValueError, match="feature"):
        InceptionFeatures(feature="1000")


def test_inception_corrupt_weights_file_is_one_clear_error(tmp_path):
    bad = tmp_path / "weights.pth"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(RuntimeError, match="could not load InceptionV3 weights.*weights.pth"):
        InceptionFeatures(weights_path=bad)


def test_inception_wrapper_runs_torch_fidelity_network(tmp_path, monkeypatch):
    """The happy path without the real weights: random weights (loading patched out), the cheap
    64-d block; checks the [0, 1] -> uint8 conversion, grey -> RGB and the output shape."""
    from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3

    fake = tmp_path / INCEPTION_FILE
    fake.write_bytes(b"placeholder")
    monkeypatch.setattr(torch, "load", lambda *args, **kwargs: {})
    monkeypatch.setattr(FeatureExtractorInceptionV3, "load_state_dict", lambda self, state, *a, **k: None)
    monkeypatch.setenv(INCEPTION_ENV, str(fake))
    f = InceptionFeatures(feature="64")
    assert f.name == "inception64" and f.num_features == 64
    out = extract_features(f, torch.rand(3, 1, 8, 8), batch_size=2)
    assert out.shape == (3, 64) and torch.isfinite(out).all()
    with pytest.raises(ValueError, match="expects images"):
        f(torch.rand(2, 2, 8, 8))


def test_make_extractor_kinds_defaults_and_passthrough(tmp_path):
    x, y = _images(24)
    assert make_extractor("identity").name == "identity"
    assert isinstance(make_extractor(None, torch.rand(10, 2), torch.zeros(10, dtype=torch.long)), IdentityFeatures)
    clf = make_extractor(None, x, y, cache_dir=tmp_path)  # images -> the classifier, trained on (x, y)
    assert isinstance(clf, ClassifierFeatures) and clf.name == "clf"
    assert make_extractor("clf", x, y, cache_dir=tmp_path)(x).shape == clf(x).shape
    assert make_extractor(clf) is clf


def test_make_extractor_errors():
    known = r"\['clf', 'identity', 'inception', 'random', 'resnet50'\]"
    with pytest.raises(ValueError, match=r"unknown features 'inceptoin'.*" + known):
        make_extractor("inceptoin")
    with pytest.raises(ValueError, match="needs the data to train it on"):
        make_extractor("clf")
    with pytest.raises(ValueError, match="pass x_fit"):
        make_extractor(None)
    with pytest.raises(TypeError, match="non-empty string `name`"):
        make_extractor(lambda t: t)
    with pytest.raises(TypeError, match="must be callable"):
        make_extractor(3)

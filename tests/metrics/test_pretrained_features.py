"""The pretrained extractors load real weights files offline, from the exact file names and folders
torchvision and torch-fidelity use (written here from randomly initialised networks under a
temporary TORCH_HOME); without a file there is one clear error. The random extractor needs no file.
Each forward pass is on two tiny images (ResNet-50 upsamples them to 224, InceptionV3 to 299)."""
from pathlib import Path
from urllib.parse import urlparse

import pytest
import torch

from bootdrift_avalanche.metrics import extract_features, make_extractor
from bootdrift_avalanche.metrics.features import (
    INCEPTION_WEIGHTS,
    RESNET50_WEIGHTS,
    InceptionFeatures,
    RandomFeatures,
    ResNet50Features,
)


@pytest.fixture
def checkpoints(tmp_path, monkeypatch):
    """torch hub's checkpoint folder under a temporary TORCH_HOME; no download can happen."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    for w in (INCEPTION_WEIGHTS, RESNET50_WEIGHTS):
        monkeypatch.delenv(w.env, raising=False)

    def no_network(url, *args, **kwargs):
        raise AssertionError(f"tried to download {url}")

    monkeypatch.setattr(torch.hub, "download_url_to_file", no_network)
    folder = tmp_path / "torch" / "hub" / "checkpoints"
    assert Path(torch.hub.get_dir()) / "checkpoints" == folder
    return folder


def _images(n=2, channels=3, side=16, seed=0):
    return torch.rand(n, channels, side, side, generator=torch.Generator().manual_seed(seed))


def test_resnet50_loads_torchvisions_cached_checkpoint(checkpoints):
    from torchvision.models import ResNet50_Weights, resnet50

    url = ResNet50_Weights.IMAGENET1K_V2.url  # torchvision's default ResNet-50 weights
    assert (RESNET50_WEIGHTS.url, RESNET50_WEIGHTS.file) == (url, Path(urlparse(url).path).name)
    torch.manual_seed(1)
    net = resnet50()
    checkpoints.mkdir(parents=True)
    torch.save(net.state_dict(), checkpoints / RESNET50_WEIGHTS.file)
    # the place is torchvision's own cache: its loader finds the file without downloading
    cached = ResNet50_Weights.IMAGENET1K_V2.get_state_dict(progress=False)
    assert torch.equal(cached["conv1.weight"], net.conv1.weight)

    state = torch.random.get_rng_state()
    f = make_extractor("resnet50")
    assert torch.equal(torch.random.get_rng_state(), state)
    assert isinstance(f, ResNet50Features) and f.name == "resnet50" and f.num_features == 2048
    x = _images()
    out = extract_features(f, x)
    assert out.shape == (2, 2048) and out.dtype == torch.float32
    assert torch.equal(out, ResNet50Features()(x))  # deterministic, also across instances
    net.fc = torch.nn.Identity()  # the loaded weights are the file's: the pooled features of `net`
    mean, std = torch.tensor(f.MEAN).view(1, 3, 1, 1), torch.tensor(f.STD).view(1, 3, 1, 1)
    big = torch.nn.functional.interpolate(x, size=(224, 224), mode="bilinear", align_corners=False, antialias=True)
    assert torch.allclose(out, net.eval()((big - mean) / std), atol=1e-5)
    assert extract_features(f, x[:, :1]).shape == (2, 2048)  # grey images are repeated to RGB


def test_inception_loads_torch_fidelitys_cached_checkpoint(checkpoints, monkeypatch):
    import torch_fidelity.feature_extractor_inceptionv3 as tfi

    assert (INCEPTION_WEIGHTS.url, INCEPTION_WEIGHTS.file) == (
        tfi.URL_INCEPTION_V3, Path(urlparse(tfi.URL_INCEPTION_V3).path).name)
    with monkeypatch.context() as m:  # a randomly initialised InceptionV3: skip its weight loading once
        m.setattr(tfi.FeatureExtractorInceptionV3, "load_state_dict", lambda self, state, *a, **k: None)
        m.setattr(tfi, "load_state_dict_from_url", lambda *a, **k: {})
        torch.manual_seed(2)
        random_net = tfi.FeatureExtractorInceptionV3("inception-v3-compat", ["2048"])
    checkpoints.mkdir(parents=True)
    torch.save(random_net.state_dict(), checkpoints / INCEPTION_WEIGHTS.file)

    state = torch.random.get_rng_state()
    f = make_extractor("inception")
    assert torch.equal(torch.random.get_rng_state(), state)  # built without drawing from the caller's RNG
    assert isinstance(f, InceptionFeatures) and f.name == "inception" and f.num_features == 2048
    x = _images(side=8)
    out = extract_features(f, x)
    assert out.shape == (2, 2048) and out.dtype == torch.float32 and torch.isfinite(out).all()
    assert torch.equal(out, f(x))
    # torch-fidelity's own default (no path: its download URL) resolves to the same cached file
    theirs = tfi.FeatureExtractorInceptionV3("inception-v3-compat", ["2048"])
    assert torch.equal(out, theirs((x * 255).round().to(torch.uint8))[0])


@pytest.mark.parametrize("kind,weights,extractor", [("resnet50", RESNET50_WEIGHTS, ResNet50Features),
                                                    ("inception", INCEPTION_WEIGHTS, InceptionFeatures)])
def test_no_weights_file_is_one_clear_error(checkpoints, tmp_path, monkeypatch, kind, weights, extractor):
    with pytest.raises(FileNotFoundError) as err:
        extractor()
    msg = str(err.value)
    for part in (weights.file, str(checkpoints), weights.env, weights.url, "weights_path", "TORCH_HOME"):
        assert part in msg
    with pytest.raises(FileNotFoundError, match=f"looked in .*{weights.file}"):
        make_extractor(kind)
    bad = tmp_path / "bad.pth"
    bad.write_bytes(b"not a checkpoint")
    monkeypatch.setenv(weights.env, str(bad))  # the environment variable is looked at before the cache
    with pytest.raises(RuntimeError, match=f"(?s)could not load .*bad.pth.*{weights.file}"):
        extractor()


def test_random_features_are_seeded_frozen_and_offline():
    x = _images(n=5, channels=1, side=8)
    state = torch.random.get_rng_state()
    f = make_extractor("random", seed=3)
    assert torch.equal(torch.random.get_rng_state(), state)  # the caller's RNG is untouched
    assert isinstance(f, RandomFeatures) and f.name == "random" and f.num_features == 512
    out = extract_features(f, x, batch_size=2)
    assert out.shape == (5, 512) and out.std() > 0
    assert torch.equal(f(x), RandomFeatures(seed=3)(x))  # the same network for the same seed
    assert torch.allclose(out, f(x), atol=1e-6)  # batched like one shot
    assert not torch.allclose(out, RandomFeatures(seed=4)(x))
    assert not any(p.requires_grad for p in f.model.parameters())
    assert RandomFeatures(seed=0, num_features=16)(_images(side=32)).shape == (2, 16)
    with pytest.raises(ValueError, match="expects images"):
        f(torch.rand(2, 2, 8, 8))


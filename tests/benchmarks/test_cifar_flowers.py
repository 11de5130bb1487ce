import pytest

from bootdrift_avalanche.benchmarks import MissingDataError, split_cifar100, split_flowers102

from .fake_data import write_fake_cifar100, write_fake_flowers102


def test_cifar100_from_fake_files(tmp_path):
    write_fake_cifar100(tmp_path)
    bm = split_cifar100(n_experiences=5, dataset_root=tmp_path, download=False)
    assert len(bm.train_stream) == 5
    exp = bm.train_stream[0]
    assert len(exp.dataset) == 20 * 2
    item = exp.dataset[0]
    assert len(item) == 3  # [x, y, t]
    assert item[0].shape == (3, 32, 32) and 0 <= float(item[0].min()) and float(item[0].max()) <= 1
    seen = sorted(c for g in bm.classes_per_experience for c in g)
    assert seen == list(range(100))
    assert len(bm.test_stream[4].dataset) == 20


def test_cifar100_resize(tmp_path):
    write_fake_cifar100(tmp_path, n_per_class_train=1)
    bm = split_cifar100(n_experiences=5, dataset_root=tmp_path, download=False, image_size=16)
    assert bm.train_stream[0].dataset[0][0].shape == (3, 16, 16)


def test_cifar100_offline_error(tmp_path):
    with pytest.raises(MissingDataError) as info:
        split_cifar100(dataset_root=tmp_path / "nothing", download=False)
    msg = str(info.value)
    assert "CIFAR-100" in msg and str(tmp_path / "nothing") in msg
    assert "cifar-100-python/train" in msg and "How to supply" in msg


def test_cifar100_truncated_file(tmp_path):
    write_fake_cifar100(tmp_path)
    p = tmp_path / "cifar-100-python" / "train"
    p.write_bytes(p.read_bytes()[:100])
    with pytest.raises(MissingDataError, match="could not be read"):
        split_cifar100(dataset_root=tmp_path, download=False)


def test_flowers102_from_fake_files(tmp_path):
    write_fake_flowers102(tmp_path)
    bm = split_flowers102(n_experiences=10, dataset_root=tmp_path, download=False, image_size=8)
    sizes = [len(g) for g in bm.classes_per_experience]
    assert sizes == [11, 11] + [10] * 8  # the 2 extra classes go to the first experiences
    assert sorted(c for g in bm.classes_per_experience for c in g) == list(range(102))
    exp = bm.train_stream[0]
    assert len(exp.dataset) == 11 * 2  # train + val split, one image each per class
    x, y = exp.dataset[0][:2]
    assert x.shape == (3, 8, 8) and int(y) in bm.classes_per_experience[0]
    assert len(bm.test_stream[9].dataset) == 10
    assert sum(len(e.dataset) for e in bm.test_stream) == 102


def test_flowers102_offline_error(tmp_path):
    with pytest.raises(MissingDataError) as info:
        split_flowers102(dataset_root=tmp_path, download=False)
    msg = str(info.value)
    assert "Flowers102" in msg and "flowers-102/jpg" in msg and str(tmp_path) in msg


def test_flowers102_download_offline_is_clear(tmp_path, monkeypatch):
    import torchvision.datasets.utils as U

    def no_network(*a, **k):
        raise OSError("network unreachable")

    monkeypatch.setattr(U, "urlopen", no_network, raising=False)
    import torchvision.datasets.flowers102 as F

    monkeypatch.setattr(F, "download_and_extract_archive", no_network)
    with pytest.raises(MissingDataError, match="Download attempt failed"):
        split_flowers102(dataset_root=tmp_path, download=True)


def _no_network(monkeypatch, module):
    def fail(*a, **k):
        raise OSError("network unreachable")

    monkeypatch.setattr(module, "download_and_extract_archive", fail)


def test_cifar100_download_on_files_that_fail_the_md5_check_says_so(tmp_path, monkeypatch):
    import torchvision.datasets.cifar as C

    write_fake_cifar100(tmp_path)  # present, but not the official archive's bytes
    _no_network(monkeypatch, C)
    with pytest.raises(MissingDataError) as info:
        split_cifar100(dataset_root=tmp_path, download=True)
    msg = str(info.value)
    assert "failed torchvision's MD5 check" in msg and "download=False" in msg and "Missing:" not in msg
    # ...and the advice works: the same files load without download.
    assert len(split_cifar100(dataset_root=tmp_path, download=False).train_stream) == 5


def test_flowers102_download_on_files_that_fail_the_md5_check_says_so(tmp_path, monkeypatch):
    import torchvision.datasets.flowers102 as F

    write_fake_flowers102(tmp_path)
    _no_network(monkeypatch, F)
    with pytest.raises(MissingDataError, match="MD5 check(.|\n)*download=False"):
        split_flowers102(dataset_root=tmp_path, download=True)

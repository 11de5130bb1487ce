"""Writers of tiny datasets in the exact on-disk formats torchvision reads (used by tests)."""
import pickle
from pathlib import Path

import numpy as np


def write_fake_cifar100(root: Path, n_per_class_train: int = 2, n_per_class_test: int = 1, seed: int = 0) -> Path:
    """``<root>/cifar-100-python/{train,test,meta}`` pickles, as in the official tarball."""
    rng = np.random.default_rng(seed)
    base = Path(root) / "cifar-100-python"
    base.mkdir(parents=True, exist_ok=True)
    for name, k in (("train", n_per_class_train), ("test", n_per_class_test)):
        labels = np.repeat(np.arange(100), k)
        data = rng.integers(0, 256, size=(len(labels), 3072), dtype=np.uint8)
        entry = {"filenames": [f"img{i}.png" for i in range(len(labels))], "batch_label": name,
                 "fine_labels": labels.tolist(), "coarse_labels": (labels // 5).tolist(), "data": data}
        with open(base / name, "wb") as f:
            pickle.dump(entry, f)
    with open(base / "meta", "wb") as f:
        pickle.dump({"fine_label_names": [f"class{i}" for i in range(100)],
                     "coarse_label_names": [f"super{i}" for i in range(20)]}, f)
    return Path(root)


def write_fake_flowers102(root: Path, size: int = 12, seed: int = 0, n_test: int = 1) -> Path:
    """``<root>/flowers-102/{jpg/, imagelabels.mat, setid.mat}``: one train, one val and ``n_test``
    test JPEGs per class, labels 1..102 as in the official files."""
    from PIL import Image
    from scipy.io import savemat

    rng = np.random.default_rng(seed)
    base = Path(root) / "flowers-102"
    (base / "jpg").mkdir(parents=True, exist_ok=True)
    labels = np.tile(np.arange(1, 103), 2 + n_test)
    for i, lab in enumerate(labels, start=1):
        arr = rng.integers(0, 256, size=(size, size + 3, 3), dtype=np.uint8)
        Image.fromarray(arr).save(base / "jpg" / f"image_{i:05d}.jpg")
    ids = np.arange(1, len(labels) + 1)
    savemat(base / "imagelabels.mat", {"labels": labels[None, :]})
    savemat(base / "setid.mat",
            {"trnid": ids[:102][None, :], "valid": ids[102:204][None, :], "tstid": ids[204:][None, :]})
    return Path(root)

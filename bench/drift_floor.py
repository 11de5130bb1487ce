"""The real-vs-real floor against n per class and feature dimension: what a perfect generator
scores (FID, CFID, OTDD, KID over 10 classes between two disjoint sets of real images), so that
``n_per_class`` can be chosen to keep the floor small against the drift to be measured.

* Split Digits (8x8, 10 classes), the ``clf`` extractor (d = 128) trained on the first 30 train
  images per class; the two sets are further train images of each class (never seen by it).
* CIFAR-100-sized fake data (3x32x32 uniform noise images, as ``tests/benchmarks/fake_data.py``
  writes them), the ``random`` extractor at d = 512 (its default) and d = 64.

Each cell is the mean ± standard deviation over ``--draws`` pairs of sets.

    python bench/drift_floor.py               # n = 5, 10, 20, 30, 50 per class where the data allow
"""
import argparse
import statistics
import subprocess
from dataclasses import replace

import torch

from bootdrift_avalanche.metrics.feature_values import feature_values
from bootdrift_avalanche.metrics.features import RandomFeatures, extract_features, make_extractor
from bootdrift_avalanche.metrics.suite import SuiteConfig

METRICS = ("FID", "CFID", "OTDD", "KID")


def _digits():
    from bootdrift_avalanche.benchmarks import split_digits

    bm = split_digits(5, seed=0)
    xs, ys = [], []
    for exp in bm.train_stream:
        for item in exp.dataset:
            xs.append(item[0])
            ys.append(int(item[1]))
    return torch.stack(xs).float(), torch.tensor(ys)


def _fake_cifar(per_class: int, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(10).repeat_interleave(per_class)
    return torch.randint(0, 256, (len(y), 3, 32, 32), generator=g).float() / 255.0, y


def _split(y, n, draw, skip):
    """Two disjoint index sets of n per class, after the first ``skip`` of each class's seeded order."""
    g = torch.Generator().manual_seed(1000 + draw)
    a, b = [], []
    for c in torch.unique(y).tolist():
        rows = torch.nonzero(y == c).flatten()
        rows = rows[skip:][torch.randperm(len(rows) - skip, generator=g)]
        a.append(rows[:n])
        b.append(rows[n: 2 * n])
    return torch.cat(a), torch.cat(b)


def floors(x, y, extractor, ns, draws, skip):
    cfg = replace(SuiteConfig(real_accuracy=False, samples=False, intervals=0), kid_subset_size=10**9)
    f = extract_features(extractor, x).double()
    out = {}
    for n in ns:
        if (y == 0).sum() - skip < 2 * n:
            continue
        vals = {m: [] for m in METRICS}
        for d in range(draws):
            ia, ib = _split(y, n, d, skip)
            v = feature_values(cfg, "x", f[ia], y[ia], f[ib], y[ib])
            for m in METRICS:
                vals[m].append(v[f"{m}_x"])
        out[n] = {m: (statistics.mean(v), statistics.stdev(v)) for m, v in vals.items()}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--draws", type=int, default=3)
    ap.add_argument("--ns", default="5,10,20,30,50")
    args = ap.parse_args()
    torch.set_num_threads(1)
    ns = [int(v) for v in args.ns.split(",")]
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    print(f"commit {commit}; real-vs-real floor over 10 classes, mean ± sd over {args.draws} draws")
    x, y = _digits()
    skip = 30  # the extractor's training images of each class
    first = torch.cat([torch.nonzero(y == c).flatten()[:skip] for c in range(10)])
    clf = make_extractor("clf", x[first], y[first], seed=0, cache_dir=False)
    cx, cy = _fake_cifar(120)
    setups = [("Split Digits 8x8", "clf", 128, floors(x, y, clf, ns, args.draws, skip)),
              ("fake CIFAR-100 3x32x32", "random", 512, floors(cx, cy, make_extractor("random", seed=0), ns,
                                                                args.draws, 0)),
              ("fake CIFAR-100 3x32x32", "random", 64,
               floors(cx, cy, RandomFeatures(seed=0, num_features=64), ns, args.draws, 0))]
    print("| data | extractor | d | n per class | " + " | ".join(f"{m} floor" for m in METRICS) + " |")
    print("|---|---|---|---|" + "---|" * len(METRICS))
    for data, ext, d, table in setups:
        for n, cells in table.items():
            print(f"| {data} | {ext} | {d} | {n} | "
                  + " | ".join(f"{mu:.3g} ± {sd:.2g}" for mu, sd in (cells[m] for m in METRICS)) + " |")


if __name__ == "__main__":
    main()

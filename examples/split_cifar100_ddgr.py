"""DDGR on the real Split CIFAR-100 (5 experiences of 20 classes, 32x32) with the drift metrics to
TensorBoard.

Presets: `paper` (default; GPU-sized UNet and training, use --device cuda), `cpu-small` (a small
UNet and short training that runs on a laptop CPU in tens of minutes; drift numbers are then about a
weak generator), `tiny` (smoke test).

Data: torchvision's CIFAR-100 files under --data-root (default ~/.avalanche/data/cifar100);
--download fetches them where there is internet. Offline without the files: one clear error.

    python examples/split_cifar100_ddgr.py --data-root ~/data --device cuda
    python examples/split_cifar100_ddgr.py --data-root ~/data --preset cpu-small
"""
from _replay_example import main

if __name__ == "__main__":
    main(strategy="ddgr", benchmark="cifar100", default_preset="paper", experiences=5, description=__doc__)

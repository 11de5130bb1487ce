"""GAN Memory on Split Flowers102 at 64x64 (10 experiences; the 2 extra classes of 102 go to the
first two experiences) with the drift metrics to TensorBoard.

Presets: `paper` (default; GPU: 64x64 ResNet GAN, long training, --device cuda), `cpu-small`
(small networks, runs on a CPU), `tiny` (smoke test). The base GAN is trained on the first
experience (source = first experience; with a separate 64x64 source dataset, use
`GANMemoryConfig(source="separate")` and `fit_base`).

Data: torchvision's Flowers102 files under --data-root (default ~/.avalanche/data/flowers102);
--download fetches them where there is internet. Offline without the files: one clear error.

    python examples/split_flowers102_gan_memory.py --data-root ~/data --device cuda
"""
from _replay_example import main

if __name__ == "__main__":
    main(strategy="gan-memory", benchmark="flowers102", default_preset="paper", experiences=10, description=__doc__)

"""GAN Memory on the embedded Split Digits stream: the base GAN is trained on the first experience
and frozen; every experience then learns only a style modulation of it (no forgetting of the
generator memory). Drift metrics to TensorBoard after every experience.

    python examples/split_digits_gan_memory.py
"""
from _replay_example import main

if __name__ == "__main__":
    main(strategy="gan-memory", benchmark="digits", default_preset="cpu-small", experiences=5, description=__doc__)

"""DDGR (diffusion-based generative replay) on the embedded Split Digits stream (5 experiences of
2 classes, 8x8), with the drift metrics (FID, CFID, OTDD, real-data accuracy, sample grids, UMAP)
logged to TensorBoard after every experience. This is what `make demo` runs.

    python examples/split_digits_ddgr.py                 # cpu-small preset, a few minutes on 2 cores
    python examples/split_digits_ddgr.py --preset tiny   # seconds, for a smoke test
"""
from _replay_example import main

if __name__ == "__main__":
    main(strategy="ddgr", benchmark="digits", default_preset="cpu-small", experiences=5, description=__doc__)

"""bootdrift-avalanche: generative experience replay and drift metrics for Avalanche.

Subpackages: ``benchmarks`` (Split Digits, Split CIFAR-100, Split Flowers102, GMM toy),
``generators`` (DDPM, GAN Memory, WGAN), ``metrics`` (FID, CFID, OTDD, real-data accuracy),
``plugins`` (replay plugins and drift metrics), ``strategies`` (Avalanche templates).
Heavy dependencies (Avalanche, diffusers, POT, umap) are imported by the submodules that need them,
so ``import bootdrift_avalanche`` stays cheap.
"""

__version__ = "0.1.0"

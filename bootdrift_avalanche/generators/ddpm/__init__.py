"""Class-conditional DDPM generator (Ho et al. 2020) on ``diffusers``, with classifier guidance.

This is the generator of DDGR (Gao & Liu, ICML 2023) and of the bootstrapping loop. One concern per
module:

- ``config``: ``DDPMConfig`` (every size and hyperparameter) and ``num_levels`` (UNet depth for an
  image shape, used by the presets in ``experiments.config``);
- ``model``: the diffusers objects, a ``UNet2DModel`` with a class-embedding table that predicts
  the noise ε, and a ``DDPMScheduler`` (training noise via ``add_noise``; ancestral sampling; a
  ``DDIMScheduler`` from the same config serves deterministic few-step sampling);
- ``training``: the fit loop (ε-MSE, AdamW, EMA, DDP under ``torchrun``);
- ``sampling``: the sampling loop and classifier guidance (Dhariwal & Nichol 2021);
- ``generator``: ``DDPMGenerator``, the Generator-protocol object that ties them together.

``fit(x, y)`` continues training from the current weights (DDGR trains D(t) starting from D(t-1)).
``generate(labels, seed=..., guidance=classifier)`` returns one image per label in the benchmark's
value range and shape, on the CPU.

Deviations from the DDGR reference (guided-diffusion): fixed variance instead of learned Σ (diffusers
has no hybrid VLB loss), and T=1000 training steps instead of T=4000 respaced to 250.
"""
from .config import SAMPLERS, DDPMConfig, num_levels
from .generator import DDPMGenerator
from .sampling import classifier_log_prob_grad

__all__ = ["DDPMConfig", "DDPMGenerator", "SAMPLERS", "classifier_log_prob_grad", "num_levels"]

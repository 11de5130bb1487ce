"""Class-conditional DDPM generator (Ho et al. 2020) on ``diffusers``, with classifier guidance:
the generator of DDGR (Gao & Liu, ICML 2023) and of the bootstrapping loop.

Modules: ``config`` (``DDPMConfig``, ``num_levels``), ``model`` (the diffusers UNet and
schedulers), ``training`` (the fit loop), ``sampling`` (the sampling loop and classifier guidance),
``generator`` (``DDPMGenerator``, the Generator-protocol object). ``fit(x, y)`` continues from the
current weights (DDGR trains D(t) from D(t-1)); ``generate(labels, seed=, guidance=)`` returns one
image per label in the benchmark's value range, on the CPU.

The guidance algorithms, the deviations from the DDGR reference and why the defaults
(``sample_with_ema``, ``lr_schedule``) are what they are, with the measurements:
docs/ddpm_guidance_and_training.md.
"""
from .config import LR_SCHEDULES, SAMPLERS, DDPMConfig, num_levels
from .generator import DDPMGenerator
from .sampling import classifier_log_prob_grad

__all__ = ["DDPMConfig", "DDPMGenerator", "LR_SCHEDULES", "SAMPLERS", "classifier_log_prob_grad", "num_levels"]

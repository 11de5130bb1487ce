"""Class-conditional StyleGAN2 (Karras et al., "Analyzing and Improving the Image Quality of
StyleGAN", CVPR 2020), the seed paper's second image generator, written from the paper and from
reading NVlabs/stylegan2-ada-pytorch (no code copied). One concern per module:

- ``config``: ``StyleGAN2Config`` (sizes, hyperparameters; widths by image size);
- ``layers``: equalised-LR linear/conv, modulated + demodulated convolution, FIR resampling, the
  synthesis layer with noise input, ToRGB;
- ``mapping``: z and the class embedding, concatenated, to w;
- ``synthesis``: the skip-architecture synthesis network;
- ``generator_network``: G = mapping + synthesis, per-class mean latents and truncation psi;
- ``discriminator``: the residual discriminator with minibatch std and projection conditioning;
- ``loss``: non-saturating loss, R1, path-length penalty;
- ``training``: the loop (lazy regularisation, G EMA, data parallel over torchrun ranks);
- ``generator``: ``StyleGAN2Generator``, the Generator-protocol object.

Why hand-written: no maintained pip package fits. ``stylegan2-pytorch`` (lucidrains) is
unconditional (class conditioning is an open request in its tracker), built around its own CLI
trainer and pulls in several extra packages; ``stylegan2-torch`` is unconditional and unmaintained
since 2022; NVlabs' code is not a package and needs its custom CUDA ops (with slow fallbacks).
"""
from .config import NOISE_MODES, StyleGAN2Config
from .generator import StyleGAN2Generator

__all__ = ["NOISE_MODES", "StyleGAN2Config", "StyleGAN2Generator"]

"""Generative models behind replay and bootstrapping, all following the one protocol of ``base``
(``generate(labels, *, seed=None) -> CPU float32 tensor``, ``fit(x, y, *, steps=None, progress=False)``):

- ``ddpm``: ``DDPMGenerator``, a class-conditional diffusers DDPM with classifier guidance (DDGR);
- ``gan_memory``: ``GANMemoryGenerator``, a frozen base GAN plus one style modulation per task;
- ``wgan``: ``WGANGenerator``, a conditional WGAN-GP on low-dimensional points (the GMM toy);
- ``stylegan2``: ``StyleGAN2Generator``, a class-conditional StyleGAN2 (the seed paper's second image
  generator), truncation psi towards each class's mean latent as its sampling-bias knob.

Their sizes per scale live in ``experiments.config.PRESETS``; nothing here imports the experiment
layer. Submodules are imported on demand (diffusers is heavy).
"""

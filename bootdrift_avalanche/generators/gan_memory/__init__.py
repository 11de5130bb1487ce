"""GAN Memory (Cong, Zhao, Li, Wang, Carin, "GAN Memory with No Forgetting", NeurIPS 2020) as a
class-conditional generator that follows the ``Generator`` protocol of ``generators/base.py``.

Modules: ``config`` (``GANMemoryConfig``), ``layers`` (style-modulated layers, the GP-GAN ResNets
and the modulation bank), ``training`` (the GAN loop of both phases), ``memory``
(``GANMemoryGenerator``, the Generator-protocol object).

The method: a base GAN (GP-GAN ResNet generator and discriminator, Mescheder et al. 2018) is
trained once on a *source* dataset and frozen. Every later task learns only style-modulation
parameters of the frozen generator (Ŵ = γ ⊙ (W − μ)/σ + β per 3x3 kernel and for the first linear
layer, plus a per-task bias and a per-task class bias; see ``layers.py``), starting
exactly at the source generator (γ = σ, β = μ). A trained task's parameters are frozen, so the
generator memory of old tasks never changes: ``generate(labels, seed=)`` routes each label to the task
that learned it and uses that task's modulation.

Where the base comes from (``GANMemoryConfig.source``):

* ``"first_experience"`` (default): the first call of ``fit(x, y)`` trains the base fully on that
  experience's data, freezes it, then adds task 0 for those classes and trains its modulation
  (starting from the base, whose class rows it copies). This is the only choice on an offline
  machine with Split Digits (no pretrained GAN exists for 8x8 digits), and the one used by the
  Split Digits example.
* ``"separate"``: call ``fit_base(x_src, y_src)`` with a separate source dataset (or
  ``load_base_state_dict`` with a saved base) before the first task: the paper's setting, a GP-GAN
  pretrained on CelebA, then Flowers, Cathedrals, Cats, ... ``fit`` then refuses to start without
  a base rather than silently falling back to the first experience.

Per benchmark: Split Digits uses the first experience (no pretrained 8x8 GAN exists, and the
machine may be offline). Split CIFAR-100 in the DDGR protocol starts with a 50-class task, a broad
source, so the first experience is a sound default there too. Split Flowers102 is where a separate
source matters most (the first experience has only a few flower classes): pass a base trained on
another 64x64 dataset when one is available; offline, the first experience is the fallback. The
reference's CelebA checkpoint cannot be loaded here (256 px, 1024-channel GP-GAN, another layout).

Training (both phases): non-saturating GAN loss, R1 penalty on real data with weight
``r1_weight`` (γ/2 · E‖∇ₓD(x)‖², Mescheder et al. 2018), Adam(lr 1e-4, betas (0, 0.99)) as in the
reference, and an exponential moving average of the generator's trainable parameters (the
reference's generator EMA 0.999; diffusers' ``EMAModel``), copied into the model at the end of each
phase.

The discriminator during a task: a fresh modulation of the frozen base discriminator (same γ/β
scheme on its 3x3 convs) plus a per-task head with one logit per task class, initialised from the
base head (copied rows for classes the base learned, their mean for new ones). Only these are
trained, as in the reference (D's AdaFM + fc). They are discarded after the task: generation needs
the generator alone, and each task starts its discriminator from the frozen base again.

Deviations from the reference, each for a reason:

* the class bias of a new task starts at the base's class bias (a copied row for a class the base
  learned, the mean of the learned rows otherwise) instead of a random linear layer, so a new
  task starts *exactly* at the source generator (for a new class: the base evaluated at its mean
  class bias);
* the base generator is class-conditional through the same additive class bias at the first
  layer (the reference base had a single CelebA class);
* the output conv is 3x3 (the reference's 7x7 suits 256 px, not 8x8 digits).
"""
from .config import SOURCES, GANMemoryConfig
from .layers import GeneratorModulation, ModulatedConv2d, ModulatedLinear, ModulationBank, StyleParams
from .memory import GANMemoryGenerator
from .training import FitStats

__all__ = [
    "GANMemoryConfig",
    "GANMemoryGenerator",
    "FitStats",
    "SOURCES",
    "ModulatedConv2d",
    "ModulatedLinear",
    "ModulationBank",
    "GeneratorModulation",
    "StyleParams",
]

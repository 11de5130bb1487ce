"""``StyleGAN2Config``: every size and hyperparameter of the class-conditional StyleGAN2, and the
sizing rule that turns an image side into the resolutions of the generator's and the
discriminator's blocks. The presets (``experiments.config.PRESETS``) fill it per scale.

Defaults follow NVlabs/stylegan2-ada-pytorch's ``auto`` configuration where it applies to a small
image (Adam lr 0.0025, betas (0, 0.99); R1 gamma 0.0002·res²/batch; lazy R1 every 16 D steps;
path-length regularisation every 4 G steps, weight 2 when on; EMA half-life of batch·10/32 kimg with
a 5 % ramp-up); the network widths are small, for a CPU.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Optional, Tuple, get_args

from ...runtime.threads import DEFAULT_THREADS, check_threads

#: Noise inputs of the synthesis layers at sampling: fresh per image, the fixed per-layer buffer, or off.
NoiseMode = Literal["random", "const", "none"]
NOISE_MODES = get_args(NoiseMode)


@dataclass(frozen=True)
class StyleGAN2Config:
    """Sizes and hyperparameters of ``StyleGAN2Generator`` (presets: ``experiments.config.PRESETS``)."""

    # -- data ------------------------------------------------------------------------------------
    image_shape: Tuple[int, int, int] = (1, 8, 8)  # (C, H, W): square, side a power of two >= 4
    num_classes: int = 10  # labels must lie in [0, num_classes)
    value_range: Tuple[float, float] = (0.0, 1.0)  # the benchmark's pixel range; the networks work in [-1, 1]

    # -- mapping network -------------------------------------------------------------------------
    z_dim: int = 32  # Gaussian latent z
    w_dim: int = 64  # intermediate latent w (and the class embedding's size, as in the reference)
    mapping_layers: int = 2  # fully-connected layers after [z, embed(c)] (reference: 8 at FFHQ, 2 at CIFAR)
    mapping_lr_mult: float = 0.01  # the mapping network learns 100x slower (equalised-LR multiplier)

    # -- widths: channels at resolution r = min(channel_base // r, channel_max) ------------------
    channel_base: int = 512  # reference: 16384 (32768 at >= 512 px)
    channel_max: int = 64  # reference: 512
    d_mapping_layers: int = 1  # layers of the discriminator's class-embedding network (its projection vector)
    mbstd_group: int = 4  # minibatch-std group size (1: a constant channel, i.e. off)

    # -- training --------------------------------------------------------------------------------
    lr: float = 0.0025  # Adam learning rate of G and D
    betas: Tuple[float, float] = (0.0, 0.99)
    batch_size: int = 32  # global mini-batch (split over torchrun ranks)
    train_steps: int = 1000  # G (and D) updates of one fit() call when steps= is not given
    r1_gamma: Optional[float] = None  # R1 weight; None: 0.0002·res²/batch (stylegan2-ada's "auto")
    r1_every: int = 16  # lazy R1: every k-th D step, weighted by k
    pl_weight: float = 0.0  # path-length regularisation weight (0: off; the paper's configs: 2)
    pl_every: int = 4  # lazy path-length regularisation: every k-th G step, weighted by k
    pl_decay: float = 0.01  # EMA decay of the path-length target a
    pl_batch_shrink: int = 2  # the path-length pass runs on batch // shrink images
    ema_halflife_images: float = 10_000.0  # G_ema half-life in training images (reference: batch·10/32 kimg)
    ema_rampup: Optional[float] = 0.05  # half-life at most this fraction of the images seen so far (None: off)

    # -- sampling --------------------------------------------------------------------------------
    truncation: float = 1.0  # default psi of generate(): w -> w_avg[c] + psi (w - w_avg[c])
    mean_latent_samples: int = 1000  # z drawn per class to estimate each class's mean latent after a fit
    sample_batch_size: int = 256  # images synthesised at once by generate()

    # -- runtime ---------------------------------------------------------------------------------
    seed: int = 0  # seeds the weights, the training stream and the mean latents (runtime.seeds streams)
    device: str = "cpu"
    threads: Optional[int] = DEFAULT_THREADS  # torch threads inside fit/generate on CPU; None keeps torch's setting

    def __post_init__(self) -> None:
        set_ = object.__setattr__  # frozen: the normalised tuples are set once, here
        set_(self, "image_shape", tuple(int(s) for s in self.image_shape))
        set_(self, "value_range", (float(self.value_range[0]), float(self.value_range[1])))
        set_(self, "betas", tuple(float(b) for b in self.betas))
        self.validate()

    def validate(self) -> None:
        """Raise ``ValueError`` naming the offending field of an inconsistent configuration."""
        if len(self.image_shape) != 3 or min(self.image_shape) < 1:
            raise ValueError(f"image_shape must be (C, H, W) with positive sizes, got {self.image_shape}")
        _, h, w = self.image_shape
        if h != w or h < 4 or h & (h - 1):
            raise ValueError(f"StyleGAN2 needs square images whose side is a power of two >= 4 "
                             f"(it grows them from 4x4 by doubling); got image_shape {self.image_shape}")
        lo, hi = self.value_range
        if not lo < hi:
            raise ValueError(f"value_range must be (low, high) with low < high, got {self.value_range}")
        for name in ("num_classes", "z_dim", "w_dim", "mapping_layers", "channel_base", "channel_max",
                     "d_mapping_layers", "mbstd_group", "batch_size", "r1_every", "pl_every", "pl_batch_shrink",
                     "mean_latent_samples", "sample_batch_size"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"StyleGAN2Config.{name} must be >= 1, got {getattr(self, name)}")
        if self.train_steps < 0:
            raise ValueError(f"StyleGAN2Config.train_steps must be >= 0, got {self.train_steps}")
        if not self.lr > 0 or not self.mapping_lr_mult > 0:
            raise ValueError(f"lr and mapping_lr_mult must be positive, got {self.lr}, {self.mapping_lr_mult}")
        if self.r1_gamma is not None and self.r1_gamma < 0:
            raise ValueError(f"r1_gamma must be >= 0 or None (auto), got {self.r1_gamma}")
        if self.pl_weight < 0 or not 0 < self.pl_decay <= 1:
            raise ValueError(f"pl_weight must be >= 0 and pl_decay in (0, 1], got {self.pl_weight}, {self.pl_decay}")
        if not self.ema_halflife_images >= 0 or (self.ema_rampup is not None and not self.ema_rampup > 0):
            raise ValueError(f"ema_halflife_images must be >= 0 and ema_rampup > 0 or None, got "
                             f"{self.ema_halflife_images}, {self.ema_rampup}")
        if not 0.0 <= self.truncation <= 1.0:
            raise ValueError(f"truncation (psi) must lie in [0, 1], got {self.truncation}")
        check_threads(self.threads)

    @property
    def resolution(self) -> int:
        return self.image_shape[1]

    def resolutions(self) -> Tuple[int, ...]:
        """The block resolutions 4, 8, ..., image side."""
        return tuple(4 * 2 ** i for i in range(self.resolution.bit_length() - 3 + 1))

    def channels(self, res: int) -> int:
        """Feature maps at resolution ``res`` (generator and discriminator alike)."""
        return max(1, min(self.channel_base // res, self.channel_max))

    @property
    def r1_weight(self) -> float:
        """The R1 gamma in use (``r1_gamma``, or stylegan2-ada's auto rule 0.0002·res²/batch)."""
        if self.r1_gamma is not None:
            return float(self.r1_gamma)
        return 0.0002 * self.resolution ** 2 / self.batch_size

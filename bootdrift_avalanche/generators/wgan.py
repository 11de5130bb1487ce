"""A (class-conditional) WGAN-GP on low-dimensional points: the generator of the 2-D GMM toy.

Wasserstein GAN with gradient penalty (Gulrajani et al. 2017), two MLPs and a learned label
embedding, on data standardised per coordinate (``normalize="global"``) or per class
(``normalize="class"``). ``fit`` continues from the current weights; weights and training position
are in ``state_dict``, so a reloaded model continues exactly like the original. It runs on
``config.threads`` torch threads (default 1: these MLPs gain nothing from a second thread). Sizes
per scale: ``experiments.config.PRESETS``; what it was measured to do: docs/WGAN_TOY.md.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal, Optional, Tuple

import torch
from torch import Tensor, nn

from ..runtime.seeds import seed_for
from ..runtime.threads import DEFAULT_THREADS, check_threads, thread_settings
from .base import check_finite_samples, validate_images, validate_labels

__all__ = ["WGANConfig", "WGANGenerator"]


@dataclass(frozen=True)
class WGANConfig:
    """Hyperparameters of :class:`WGANGenerator`; the defaults fit the 5-mode 2-D GMM toy."""

    dim: int = 2  # dimension of the data points
    num_classes: int = 5  # number of class labels (the GMM toy: one per mode)
    noise_dim: int = 8  # dimension of the generator's Gaussian noise input
    embed_dim: int = 8  # size of the learned label embedding (conditional models only)
    hidden: int = 64  # width of every hidden layer (128x3 was slower and no better on the toy)
    depth: int = 2  # number of hidden layers, generator and critic
    lr: float = 1e-3  # Adam learning rate, generator and critic (1e-4 needs ~5x the steps)
    betas: Tuple[float, float] = (0.0, 0.9)  # Adam betas, as in the WGAN-GP paper
    n_critic: int = 5  # critic updates per generator update (WGAN-GP paper: 5)
    gp_weight: float = 0.1  # gradient-penalty weight; 0.1 as in WGAN-GP's own toy script (10 for images)
    batch_size: int = 256  # points per critic / generator mini-batch (WGAN-GP's toy script: 256)
    train_steps: int = 500  # generator updates per fit (each after n_critic critic updates)
    # standardise by one mean/std ("global") or by each class's ("class")
    normalize: Literal["global", "class"] = "global"
    conditional: bool = True  # condition on labels (False: one unconditional model of all the data)
    seed: int = 0  # seeds the initial weights and the training random stream (runtime.seeds streams)
    device: str = "cpu"  # where the networks live and train
    # torch threads inside fit/generate on CPU (restored after); None keeps torch's setting
    threads: Optional[int] = DEFAULT_THREADS

    def __post_init__(self) -> None:
        for name in ("dim", "num_classes", "noise_dim", "embed_dim", "hidden", "depth", "n_critic",
                     "batch_size"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"WGANConfig.{name} must be >= 1, got {getattr(self, name)}")
        if self.train_steps < 0:
            raise ValueError(f"WGANConfig.train_steps must be >= 0, got {self.train_steps}")
        if not self.lr > 0:
            raise ValueError(f"WGANConfig.lr must be positive, got {self.lr}")
        if self.gp_weight < 0:
            raise ValueError(f"WGANConfig.gp_weight must be >= 0, got {self.gp_weight}")
        check_threads(self.threads)
        if self.normalize not in ("global", "class"):
            raise ValueError(f"WGANConfig.normalize must be 'global' or 'class', got {self.normalize!r}")
        if self.normalize == "class" and not self.conditional:
            raise ValueError("WGANConfig.normalize='class' needs conditional=True (an unconditional "
                             "generator does not know which class's scale to sample at)")
        object.__setattr__(self, "betas", tuple(self.betas))  # frozen: set once, here


def _mlp(n_in: int, hidden: int, depth: int, n_out: int) -> nn.Sequential:
    layers = []
    for i in range(depth):
        layers += [nn.Linear(n_in if i == 0 else hidden, hidden), nn.LeakyReLU(0.2)]
    layers.append(nn.Linear(hidden if depth else n_in, n_out))
    return nn.Sequential(*layers)


class WGANGenerator(nn.Module):
    """Class-conditional WGAN-GP on points of shape ``(dim,)``.

    ``fit(x, y)`` trains (continuing from the current weights); ``generate(labels)`` returns one
    point per label. With ``conditional=False`` the labels only set how many points are drawn (they
    are still validated), and ``fit`` ignores ``y``'s values.
    """

    def __init__(self, config: Optional[WGANConfig] = None, **overrides) -> None:
        super().__init__()
        if config is None:
            config = WGANConfig(**overrides)
        elif overrides:
            config = WGANConfig(**{**asdict(config), **overrides})
        self.config = config
        c = config
        emb = c.embed_dim if c.conditional else 0
        self.net_g = _mlp(c.noise_dim + emb, c.hidden, c.depth, c.dim)
        self.net_d = _mlp(c.dim + emb, c.hidden, c.depth, 1)
        self.embed_g = nn.Embedding(c.num_classes, c.embed_dim) if c.conditional else None
        self.embed_d = nn.Embedding(c.num_classes, c.embed_dim) if c.conditional else None
        # Standardisation of the data (set by the first fit), one row per class (all rows equal for
        # normalize="global"), and the training position.
        self.register_buffer("data_mean", torch.zeros(c.num_classes, c.dim))
        self.register_buffer("data_std", torch.ones(c.num_classes, c.dim))
        self.register_buffer("steps_done", torch.zeros((), dtype=torch.long))
        self.reset_parameters()

    # ------------------------------------------------------------------ set-up
    def reset_parameters(self) -> "WGANGenerator":
        """Re-draw the initial weights from ``config.seed`` and forget the data scaling and the
        training position: the model is then identical to a freshly constructed one."""
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed_for("wgan.init", seed=self.config.seed))
            for module in self.modules():
                if isinstance(module, (nn.Linear, nn.Embedding)):
                    module.reset_parameters()
        self.data_mean.zero_()
        self.data_std.fill_(1.0)
        self.steps_done.zero_()
        return self.to(self.config.device)

    @property
    def device(self) -> torch.device:
        return self.data_mean.device

    def _threads(self):
        return thread_settings(self.device, threads=self.config.threads)

    def _cond(self, embed: Optional[nn.Embedding], h: Tensor, labels: Tensor) -> Tensor:
        return torch.cat([h, embed(labels)], dim=1) if embed is not None else h

    def _generate_std(self, noise: Tensor, labels: Tensor) -> Tensor:
        """Generator output in standardised coordinates."""
        return self.net_g(self._cond(self.embed_g, noise, labels))

    def _critic(self, x_std: Tensor, labels: Tensor) -> Tensor:
        return self.net_d(self._cond(self.embed_d, x_std, labels)).squeeze(1)

    def forward(self, noise: Tensor, labels: Tensor) -> Tensor:
        """Map ``noise`` (n, noise_dim) and ``labels`` (n,) to points in data coordinates."""
        return self._generate_std(noise, labels) * self.data_std[labels] + self.data_mean[labels]

    # ------------------------------------------------------------------ training
    def _check_data(self, x: Tensor, y: Tensor) -> Tuple[Tensor, Tensor]:
        validate_images(x, (self.config.dim,), what="training points")
        if not isinstance(y, Tensor):
            raise TypeError(f"training labels must be a torch.Tensor, got {type(y).__name__}")
        y = validate_labels(y, self.config.num_classes, what="training labels")
        if y.shape[0] != x.shape[0]:
            raise ValueError(f"got {x.shape[0]} training points but {y.shape[0]} labels")
        if x.shape[0] < 2:
            raise ValueError(f"need at least 2 training points, got {x.shape[0]}")
        return x, y

    @torch.no_grad()
    def _set_standardisation(self, x: Tensor, y: Tensor) -> None:
        """Set ``data_mean``/``data_std`` from the training set (std clamped away from 0)."""
        self.data_mean.copy_(x.mean(0).expand_as(self.data_mean))
        self.data_std.copy_(x.std(0).clamp_min(1e-6).expand_as(self.data_std))
        if self.config.normalize == "class":
            # Classes absent from x, or with a single point, keep the global statistics.
            for k in torch.unique(y).tolist():
                xk = x[y == k]
                if xk.shape[0] >= 2:
                    self.data_mean[k] = xk.mean(0)
                    self.data_std[k] = xk.std(0).clamp_min(1e-6)

    def _gradient_penalty(self, real: Tensor, fake: Tensor, labels: Tensor, g: torch.Generator) -> Tensor:
        eps = torch.rand(real.shape[0], 1, generator=g, device=real.device)
        mix = (eps * real + (1.0 - eps) * fake).requires_grad_(True)
        out = self._critic(mix, labels)
        (grad,) = torch.autograd.grad(out.sum(), mix, create_graph=True)
        return ((grad.norm(2, dim=1) - 1.0) ** 2).mean()

    def fit(self, x: Tensor, y: Tensor, *, steps: Optional[int] = None, progress: bool = False) -> "WGANGenerator":
        """Train on points ``x`` (N, dim) with labels ``y`` (N,) for ``steps`` generator updates
        (default ``config.train_steps``), each after ``config.n_critic`` critic updates.

        Training continues from the current weights. On a model that has not been trained yet
        (``steps_done == 0``) the data standardisation is taken from ``x``; afterwards it is kept,
        since the weights depend on it. Mini-batches are drawn with replacement. The random stream
        is seeded by ``(config.seed, steps_done)``, so a fit is reproducible and a second fit does
        not replay the first one's batches. Returns ``self``.
        """
        c = self.config
        steps = c.train_steps if steps is None else int(steps)
        if steps < 0:
            raise ValueError(f"steps must be >= 0, got {steps}")
        x, y = self._check_data(x, y)
        dev = self.device
        x = x.detach().to(dev, torch.float32)
        y = y.to(dev)
        if int(self.steps_done) == 0:
            self._set_standardisation(x, y)
        x_std = (x - self.data_mean[y]) / self.data_std[y]
        if not c.conditional:
            y = torch.zeros_like(y)  # unused by the networks; keeps one code path
        g = torch.Generator(device=dev).manual_seed(seed_for("wgan.fit", seed=c.seed, step=int(self.steps_done)))
        opt_g = torch.optim.Adam(
            [p for n, p in self.named_parameters() if n.startswith(("net_g", "embed_g"))],
            lr=c.lr, betas=c.betas, foreach=True
        )
        opt_d = torch.optim.Adam(
            [p for n, p in self.named_parameters() if n.startswith(("net_d", "embed_d"))],
            lr=c.lr, betas=c.betas, foreach=True
        )
        n, bs = x_std.shape[0], c.batch_size
        self.train()
        from tqdm.auto import tqdm

        bar = tqdm(range(steps), desc="WGAN-GP fit", disable=not progress, leave=False)
        with self._threads():
            for _ in bar:
                for _ in range(c.n_critic):
                    idx = torch.randint(n, (bs,), generator=g, device=dev)
                    real, lab = x_std[idx], y[idx]
                    noise = torch.randn(bs, c.noise_dim, generator=g, device=dev)
                    with torch.no_grad():
                        fake = self._generate_std(noise, lab)
                    loss_d = self._critic(fake, lab).mean() - self._critic(real, lab).mean()
                    if c.gp_weight:
                        loss_d = loss_d + c.gp_weight * self._gradient_penalty(real, fake, lab, g)
                    opt_d.zero_grad(set_to_none=True)
                    loss_d.backward()
                    opt_d.step()
                lab = y[torch.randint(n, (bs,), generator=g, device=dev)]
                noise = torch.randn(bs, c.noise_dim, generator=g, device=dev)
                loss_g = -self._critic(self._generate_std(noise, lab), lab).mean()
                opt_g.zero_grad(set_to_none=True)
                loss_g.backward()
                opt_g.step()
                self.steps_done += 1
                if not torch.isfinite(loss_d) or not torch.isfinite(loss_g):
                    raise FloatingPointError(
                        f"WGAN-GP training diverged at step {int(self.steps_done)} "
                        f"(critic loss {float(loss_d)}, generator loss {float(loss_g)}); lower lr"
                    )
                if progress:
                    bar.set_postfix(critic=f"{float(loss_d):.3f}", gen=f"{float(loss_g):.3f}", refresh=False)
        self.eval()
        return self

    # ------------------------------------------------------------------ sampling
    @torch.no_grad()
    def generate(self, labels: Tensor, *, seed: Optional[int] = None, truncation: float = 1.0) -> Tensor:
        """One point per label: a float32 tensor (len(labels), dim), on the CPU.

        ``seed`` makes the draw reproducible (independent of the global RNG; the noise is drawn on
        the CPU, so on any device); without it the noise comes from torch's global generator.
        ``truncation`` (psi in [0, 1]) is the sampling-bias knob: the noise is pulled towards its
        mean, z -> psi z (StyleGAN's truncation of the latent towards its average, which for a
        centred Gaussian input is 0); 1 samples the model as trained, smaller values trade
        diversity for typicality, 0 gives one point per class.
        """
        if not 0.0 <= float(truncation) <= 1.0:
            raise ValueError(f"truncation (psi) must lie in [0, 1], got {truncation!r}")
        if not isinstance(labels, Tensor):
            raise TypeError(f"labels must be a torch.Tensor of class ids, got {type(labels).__name__}")
        labels = validate_labels(labels, self.config.num_classes).to(self.device)
        if not self.config.conditional:
            labels = torch.zeros_like(labels)
        g = torch.Generator().manual_seed(int(seed)) if seed is not None else None
        noise = float(truncation) * torch.randn(labels.shape[0], self.config.noise_dim, generator=g).to(self.device)
        was_training = self.training
        self.eval()
        try:
            with self._threads():
                x = self(noise, labels)
        finally:
            self.train(was_training)
        return check_finite_samples(x, where="WGANGenerator.generate").cpu()

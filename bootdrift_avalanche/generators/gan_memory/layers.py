"""Networks and style-modulated layers of GAN Memory (Cong et al., "GAN Memory with No Forgetting",
NeurIPS 2020), rebuilt from the paper's description and the structure of the reference code
(github MiaoyunZhao/GANmemory_LifelongLearning, ``resnet4_AdaFM_bias*.py``).

What lives here (the training loop is ``training.py``, the Generator-protocol object ``memory.py``):

* ``ModulatedConv2d`` / ``ModulatedLinear``: an ordinary conv / linear layer while the base GAN
  trains; once frozen, the kernel W is stored normalised per (out, in) pair,
  W̄ = (W − μ) / σ (μ, σ over the kh×kw entries; for the linear layer over the inputs of each
  output unit), and each task uses Ŵ = γ ⊙ W̄ + β with its own γ, β (one value per (out, in)
  pair, or per output unit) plus a per-task bias added to the frozen bias.
* ``StyleParams``: one layer's (γ, β, bias) for one task, initialised to (σ, μ, 0) so that a new
  task starts *exactly* at the frozen source generator (see ``ModulatedConv2d.freeze``).
* ``ResNetGenerator`` / ``ResNetDiscriminator``: the GP-GAN ResNet of Mescheder et al. 2018 that
  GAN Memory uses as its base, sized by image size: a 4x4 start, nearest-neighbour x2 upsampling
  between residual blocks up to the image size (the discriminator mirrors it with average
  pooling), leaky ReLU 0.2, residual branch scaled by 0.1, tanh output.
* ``GeneratorModulation`` / ``DiscriminatorModulation``: all style parameters of one task, plus
  the generator's class bias (class-conditional GAN Memory) or the discriminator's per-class head.
* ``ModulationBank``: the per-task generator modulations, i.e. the whole "memory". Its
  ``state_dict`` holds only modulation parameters and can be loaded into a fresh bank (tasks are
  re-created from the keys).
"""
from __future__ import annotations

import math
import re
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

# Residual branches are scaled by 0.1, as in GP-GAN's ResNet (Mescheder et al. 2018): it keeps a
# deep generator close to the identity at initialisation, so training starts stable without
# normalisation layers.
RESIDUAL_SCALE = 0.1
# Leaky ReLU slope used throughout GP-GAN's ResNet.
LEAKY_SLOPE = 0.2
# Lower bound on σ when normalising a kernel: a constant (out, in) slice has σ = 0; clamping (instead
# of adding an eps everywhere) leaves every ordinary σ untouched, and for a constant slice
# W̄ = 0, so σ·W̄ + μ = μ = W still reconstructs it exactly.
SIGMA_FLOOR = 1e-8


def actvn(x: Tensor) -> Tensor:
    """GP-GAN's activation: leaky ReLU with slope 0.2."""
    return F.leaky_relu(x, LEAKY_SLOPE)


def modulate(w_norm: Tensor, gamma: Tensor, beta: Tensor) -> Tensor:
    """Ŵ = γ ⊙ W̄ + β. One function for both the freeze-time reconstruction and every task's
    forward pass, so that γ = σ, β = μ reproduces the frozen kernel bit for bit (same operations,
    same operands, same result)."""
    return w_norm * gamma + beta


class StyleParams(nn.Module):
    """One task's modulation of one layer: γ and β (broadcast over the kernel) and an additive bias."""

    def __init__(self, gamma: Tensor, beta: Tensor, bias: Tensor):
        super().__init__()
        self.gamma = nn.Parameter(gamma)
        self.beta = nn.Parameter(beta)
        self.bias = nn.Parameter(bias)


class _ModulatedMixin:
    """Shared freeze/new-style logic of ``ModulatedConv2d`` and ``ModulatedLinear``.

    Subclasses define ``weight``/``bias`` parameters, the buffers ``w_norm``, ``w_mu``, ``w_sigma``,
    ``frozen``, and ``_stat_dims`` (the kernel dimensions μ and σ are taken over).
    """

    style_key: str = ""  # set by the owning network: the key of this layer in a task's modulation

    @property
    def is_frozen(self) -> bool:
        return bool(self.frozen)

    @torch.no_grad()
    def freeze(self) -> None:
        """Normalise the trained kernel once and freeze the layer.

        The stored kernel is replaced by its reconstruction σ·W̄ + μ (at most an ulp away from the
        trained one), so that the frozen base and a fresh task with γ = σ, β = μ compute with
        bit-identical weights: "a new task starts exactly as the source generator" then holds
        exactly, not only to float tolerance.
        """
        if self.is_frozen:
            raise RuntimeError(f"layer {self.style_key or type(self).__name__} is already frozen")
        w = self.weight.detach()
        mu = w.mean(dim=self._stat_dims, keepdim=True)
        sigma = w.std(dim=self._stat_dims, keepdim=True, unbiased=False).clamp_min(SIGMA_FLOOR)
        w_norm = (w - mu) / sigma
        self.w_mu.copy_(mu)
        self.w_sigma.copy_(sigma)
        self.w_norm.copy_(w_norm)
        self.weight.copy_(modulate(w_norm, sigma, mu))
        self.weight.requires_grad_(False)
        if self.bias is not None:
            self.bias.requires_grad_(False)
        self.frozen.fill_(True)

    def new_style(self) -> StyleParams:
        """A fresh task's (γ, β, bias) = (σ, μ, 0): the task starts exactly at the frozen base."""
        if not self.is_frozen:
            raise RuntimeError(
                f"layer {self.style_key or type(self).__name__} is not frozen yet: "
                "train and freeze the base GAN before adding task modulations"
            )
        return StyleParams(
            self.w_sigma.detach().clone(),
            self.w_mu.detach().clone(),
            torch.zeros(self.out_features_, dtype=self.weight.dtype, device=self.weight.device),
        )

    def _effective(self, style: Optional[StyleParams]) -> Tuple[Tensor, Optional[Tensor]]:
        """The kernel and bias to compute with: the base ones, or a task's modulated ones."""
        if style is None:
            return self.weight, self.bias
        if not self.is_frozen:
            raise RuntimeError("a task modulation was given to a layer whose base is not frozen")
        w = modulate(self.w_norm, style.gamma, style.beta)
        b = style.bias if self.bias is None else self.bias + style.bias
        return w, b


class ModulatedConv2d(_ModulatedMixin, nn.Module):
    """A conv layer (stride 1, 'same' padding) whose frozen kernel each task re-styles.

    Before ``freeze()`` it is a plain trainable ``Conv2d`` (base training). After, ``forward(x,
    style)`` uses Ŵ = γ ⊙ W̄ + β with γ, β of shape (C_out, C_in, 1, 1) and bias b + b_task.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 3, bias: bool = True):
        super().__init__()
        if kernel_size % 2 != 1:
            raise ValueError(f"kernel_size must be odd (same padding), got {kernel_size}")
        self.in_channels, self.out_channels, self.kernel_size = in_channels, out_channels, kernel_size
        self.out_features_ = out_channels
        conv = nn.Conv2d(in_channels, out_channels, kernel_size, padding=kernel_size // 2, bias=bias)
        self.weight = conv.weight
        self.bias = conv.bias
        self._stat_dims = (2, 3)
        stat_shape = (out_channels, in_channels, 1, 1)
        self.register_buffer("w_norm", torch.zeros_like(conv.weight.detach()))
        self.register_buffer("w_mu", torch.zeros(stat_shape))
        self.register_buffer("w_sigma", torch.ones(stat_shape))
        self.register_buffer("frozen", torch.zeros((), dtype=torch.bool))

    def forward(self, x: Tensor, style: Optional[StyleParams] = None) -> Tensor:
        w, b = self._effective(style)
        return F.conv2d(x, w, b, padding=self.kernel_size // 2)

    def extra_repr(self) -> str:
        return f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, frozen={self.is_frozen}"


class ModulatedLinear(_ModulatedMixin, nn.Module):
    """A linear layer whose frozen weight rows each task re-styles.

    As in the reference's ``AdaFM_fc``, each output unit's row of W (its weights over the inputs)
    is normalised, and a task learns γ, β of shape (out_features, 1) plus a bias.
    """

    def __init__(self, in_features: int, out_features: int):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.out_features_ = out_features
        lin = nn.Linear(in_features, out_features)
        self.weight = lin.weight
        self.bias = lin.bias
        self._stat_dims = (1,)
        self.register_buffer("w_norm", torch.zeros_like(lin.weight.detach()))
        self.register_buffer("w_mu", torch.zeros(out_features, 1))
        self.register_buffer("w_sigma", torch.ones(out_features, 1))
        self.register_buffer("frozen", torch.zeros((), dtype=torch.bool))

    def forward(self, x: Tensor, style: Optional[StyleParams] = None) -> Tensor:
        w, b = self._effective(style)
        return F.linear(x, w, b)

    def extra_repr(self) -> str:
        return f"{self.in_features}, {self.out_features}, frozen={self.is_frozen}"


class _Modulation(nn.Module):
    """Base of a task's modulation set: one ``StyleParams`` per modulated layer, by layer key."""

    def __init__(self, styles: Dict[str, StyleParams]):
        super().__init__()
        self.styles = nn.ModuleDict(styles)

    def style(self, key: str) -> StyleParams:
        try:
            return self.styles[key]
        except KeyError:
            raise KeyError(
                f"task modulation has no style for layer {key!r}: it was built for a different network"
            ) from None

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())


class GeneratorModulation(_Modulation):
    """All of one task's generator parameters: layer styles, class bias, and the task's classes.

    ``class_bias`` (n_task_classes, fc_out) is the class-conditional part of GAN Memory: the
    reference's ``AdaFM_class_bias``, a linear map from the one-hot within-task class to the first
    layer's output. Indexing a row is that linear map without its bias, which would duplicate the
    first layer's per-task bias.
    """

    def __init__(self, styles: Dict[str, StyleParams], class_bias: Tensor, classes: Tensor):
        super().__init__(styles)
        if class_bias.shape[0] != classes.numel():
            raise ValueError(f"class_bias has {class_bias.shape[0]} rows for {classes.numel()} classes")
        self.class_bias = nn.Parameter(class_bias)
        # Global class ids of this task, in within-task order; a buffer so it travels with the bank.
        self.register_buffer("classes", classes.long().clone())
        # Whether the task has been trained (then frozen for good); saved so a loaded bank re-freezes.
        self.register_buffer("trained", torch.zeros((), dtype=torch.bool))

    def local_labels(self, labels: Tensor) -> Tensor:
        """Map global class ids to within-task indices (0..n_task_classes-1); errors on strangers."""
        match = labels.unsqueeze(1) == self.classes.to(labels.device).unsqueeze(0)
        if not bool(match.any(1).all()):
            strangers = sorted(set(labels[~match.any(1)].tolist()))
            raise ValueError(f"classes {strangers} do not belong to this task (its classes: {self.classes.tolist()})")
        return match.float().argmax(1)


class DiscriminatorModulation(_Modulation):
    """One task's discriminator parameters: layer styles and a per-class output head.

    Only used while the task trains (generation needs the generator alone), so it is not stored in
    the bank.
    """

    def __init__(self, styles: Dict[str, StyleParams], head_weight: Tensor, head_bias: Tensor):
        super().__init__(styles)
        self.head_weight = nn.Parameter(head_weight)
        self.head_bias = nn.Parameter(head_bias)


def _channels_per_level(image_size: int, base_channels: int, max_channels: int) -> List[int]:
    """Channels at resolutions 4, 8, ..., image_size: doubling towards low resolution, capped
    (the reference: 16·nf at 4x4 halving to nf at the top, for 256 px)."""
    levels = int(round(math.log2(image_size // 4))) + 1
    return [min(max_channels, base_channels * 2 ** (levels - 1 - i)) for i in range(levels)]


def check_image_size(image_size: int) -> None:
    """GP-GAN's ResNet starts at 4x4 and doubles: the image side must be 4·2^k with k ≥ 1."""
    if image_size < 8 or image_size & (image_size - 1):
        raise ValueError(
            f"GAN Memory's ResNet needs a square image whose side is a power of two >= 8 "
            f"(4x4 start, x2 per block), got {image_size}; resize the data (e.g. 28 -> 32)"
        )


class ResBlock(nn.Module):
    """GP-GAN residual block: x_s + 0.1 · conv_1(actvn(conv_0(actvn(x)))).

    The two 3x3 convs are modulated per task; the 1x1 shortcut (when channels change) stays frozen,
    as in the reference.
    """

    def __init__(self, fin: int, fout: int):
        super().__init__()
        fhidden = min(fin, fout)
        self.conv_0 = ModulatedConv2d(fin, fhidden, 3)
        self.conv_1 = ModulatedConv2d(fhidden, fout, 3)
        self.conv_s = nn.Conv2d(fin, fout, 1, bias=False) if fin != fout else None

    def forward(self, x: Tensor, mod: Optional[_Modulation] = None) -> Tensor:
        x_s = x if self.conv_s is None else self.conv_s(x)
        s0 = None if mod is None else mod.style(self.conv_0.style_key)
        s1 = None if mod is None else mod.style(self.conv_1.style_key)
        dx = self.conv_0(actvn(x), s0)
        dx = self.conv_1(actvn(dx), s1)
        return x_s + RESIDUAL_SCALE * dx


class _ModulatedNet(nn.Module):
    """Shared bookkeeping: naming the modulated layers, freezing, and building fresh styles."""

    def _name_modulated_layers(self) -> None:
        for name, m in self.named_modules():
            if isinstance(m, (ModulatedConv2d, ModulatedLinear)):
                m.style_key = name.replace(".", "_")

    def modulated_layers(self) -> List[nn.Module]:
        return [m for m in self.modules() if isinstance(m, (ModulatedConv2d, ModulatedLinear))]

    @property
    def is_frozen(self) -> bool:
        return all(m.is_frozen for m in self.modulated_layers())

    @torch.no_grad()
    def freeze(self) -> None:
        """Freeze every base weight for good (normalising the modulated kernels)."""
        for m in self.modulated_layers():
            m.freeze()
        for p in self.parameters():
            p.requires_grad_(False)

    def new_styles(self) -> Dict[str, StyleParams]:
        return {m.style_key: m.new_style() for m in self.modulated_layers()}


class ResNetGenerator(_ModulatedNet):
    """GP-GAN ResNet generator: z → FC → (C0, 4, 4) → blocks with x2 nearest upsampling → tanh image.

    ``forward(z, class_bias, mod)`` adds ``class_bias`` (B, fc_out) to the FC output: the base uses
    rows of its own ``class_embed`` table (one per source class), a task uses rows of its
    ``GeneratorModulation.class_bias``. ``mod=None`` runs the base weights.
    """

    def __init__(
        self, *, z_dim: int, image_shape: Sequence[int], base_channels: int, max_channels: int,
        num_source_classes: int,
    ):
        super().__init__()
        c, h, w = image_shape
        if h != w:
            raise ValueError(f"GAN Memory's ResNet needs square images, got {h}x{w}")
        check_image_size(h)
        self.z_dim, self.image_shape = z_dim, (c, h, w)
        self.channels = _channels_per_level(h, base_channels, max_channels)
        self.fc_out = self.channels[0] * 16
        self.fc = ModulatedLinear(z_dim, self.fc_out)
        # Base class bias, one row per source class; zero at init so the base starts unconditional.
        self.class_embed = nn.Parameter(torch.zeros(num_source_classes, self.fc_out))
        ch = self.channels
        self.blocks = nn.ModuleList(ResBlock(ch[max(i - 1, 0)], ch[i]) for i in range(len(ch)))
        # Output conv: frozen with the base and not modulated, as the reference's conv_img.
        self.conv_img = nn.Conv2d(ch[-1], c, 3, padding=1)
        self._name_modulated_layers()

    def forward(self, z: Tensor, class_bias: Tensor, mod: Optional[GeneratorModulation] = None) -> Tensor:
        style = None if mod is None else mod.style(self.fc.style_key)
        h = self.fc(z, style) + class_bias
        h = h.view(z.shape[0], self.channels[0], 4, 4)
        for i, block in enumerate(self.blocks):
            if i > 0:
                h = F.interpolate(h, scale_factor=2, mode="nearest")
            h = block(h, mod)
        return torch.tanh(self.conv_img(actvn(h)))

    def new_modulation(self, class_bias: Tensor, classes: Tensor) -> GeneratorModulation:
        return GeneratorModulation(self.new_styles(), class_bias, classes)


class ResNetDiscriminator(_ModulatedNet):
    """GP-GAN ResNet discriminator, the generator's mirror: image → conv → blocks with 3x3/2 average
    pooling down to 4x4 → FC head with one logit per class; ``forward`` returns the logit of each
    sample's own class (the reference's multi-head conditioning)."""

    def __init__(self, *, image_shape: Sequence[int], base_channels: int, max_channels: int, num_source_classes: int):
        super().__init__()
        c, h, _ = image_shape
        check_image_size(h)
        ch = list(reversed(_channels_per_level(h, base_channels, max_channels)))
        self.channels = ch
        # Input conv: frozen with the base and not modulated (the reference trains only D's AdaFM + fc).
        self.conv_img = nn.Conv2d(c, ch[0], 3, padding=1)
        # The generator's blocks in reverse: block i maps ch[i] -> ch[i+1], the last one keeps the
        # 4x4 width (the generator's first block, like the reference's 16nf -> 16nf).
        last = len(ch) - 1
        self.blocks = nn.ModuleList(ResBlock(ch[i], ch[min(i + 1, last)]) for i in range(len(ch)))
        self.feat_dim = ch[-1] * 16
        self.head = nn.Linear(self.feat_dim, num_source_classes)
        self._name_modulated_layers()

    def features(self, x: Tensor, mod: Optional[DiscriminatorModulation] = None) -> Tensor:
        h = self.conv_img(x)
        for i, block in enumerate(self.blocks):
            if i > 0:
                h = F.avg_pool2d(h, 3, stride=2, padding=1)
            h = block(h, mod)
        return actvn(h.flatten(1))

    def forward(self, x: Tensor, y: Tensor, mod: Optional[DiscriminatorModulation] = None) -> Tensor:
        f = self.features(x, mod)
        w, b = (self.head.weight, self.head.bias) if mod is None else (mod.head_weight, mod.head_bias)
        # Only each sample's own class logit is needed: a row-wise dot product instead of the full
        # matmul, which also keeps a task head with copied rows bit-identical to the base head
        # (a GEMM of a different width may sum in a different order).
        return (f * w[y]).sum(1) + b[y]

    def new_modulation(self, head_weight: Tensor, head_bias: Tensor) -> DiscriminatorModulation:
        return DiscriminatorModulation(self.new_styles(), head_weight, head_bias)


_TASK_KEY = re.compile(r"^tasks\.([^.]+)\.(.+)$")


class ModulationBank(nn.Module):
    """The generator memory: one ``GeneratorModulation`` per task, keyed by task id.

    ``state_dict()`` holds only modulation parameters (plus each task's classes and trained flag,
    and a signature of the base it was trained on). ``load_state_dict`` into an empty or partial
    bank re-creates the missing tasks from the keys, then re-freezes the trained ones.
    """

    def __init__(self):
        super().__init__()
        self.tasks = nn.ModuleDict()
        # [Σ W, Σ W²] in float64 over the frozen base generator: a loaded bank checks it was trained
        # on the same base (modulations of a different base would produce garbage silently).
        self.register_buffer("base_signature", torch.zeros(2, dtype=torch.float64))
        self.register_load_state_dict_post_hook(ModulationBank._after_load)

    # -- tasks ---------------------------------------------------------------------------------
    @staticmethod
    def key(task_id: int) -> str:
        return str(int(task_id))

    def task_ids(self) -> List[int]:
        return [int(k) for k in self.tasks.keys()]

    def __contains__(self, task_id: int) -> bool:
        return self.key(task_id) in self.tasks

    def get(self, task_id: int) -> GeneratorModulation:
        k = self.key(task_id)
        if k not in self.tasks:
            raise KeyError(f"no task {task_id} in the GAN memory (tasks: {self.task_ids()})")
        return self.tasks[k]

    def add(self, task_id: int, mod: GeneratorModulation) -> None:
        if task_id in self:
            raise ValueError(f"task {task_id} already exists in the GAN memory")
        owners = self.class_owners()
        taken = sorted(c for c in mod.classes.tolist() if c in owners)
        if taken:
            raise ValueError(
                f"classes {taken} already belong to task(s) {sorted({owners[c] for c in taken})}: GAN "
                "Memory learns each class in one task (class-incremental); use new class ids"
            )
        self.tasks[self.key(task_id)] = mod

    def class_owners(self) -> Dict[int, int]:
        """Global class id → task id, for every class in the memory."""
        return {c: int(k) for k, m in self.tasks.items() for c in m.classes.tolist()}

    def freeze(self, task_id: int) -> None:
        """Mark a task trained and stop its gradients for good: old tasks never change."""
        mod = self.get(task_id)
        mod.trained.fill_(True)
        for p in mod.parameters():
            p.requires_grad_(False)

    # -- loading into a fresh bank ---------------------------------------------------------------
    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys,
                              unexpected_keys, error_msgs):
        # Re-create the tasks named in the state dict before the children load into them (the
        # recursive loader visits ``self.tasks`` after this call), so a bank round-trips through
        # a fresh object.
        found: Dict[str, Dict[str, Tensor]] = {}
        for full_key, value in state_dict.items():
            if not full_key.startswith(prefix):
                continue
            m = _TASK_KEY.match(full_key[len(prefix):])
            if m:
                found.setdefault(m.group(1), {})[m.group(2)] = value
        for tkey, entries in found.items():
            if tkey in self.tasks:
                continue
            try:
                styles: Dict[str, StyleParams] = {}
                for sub, value in entries.items():
                    parts = sub.split(".")
                    if parts[0] == "styles" and len(parts) == 3:
                        styles.setdefault(parts[1], {})[parts[2]] = value
                built = {
                    name: StyleParams(torch.empty_like(d["gamma"]), torch.empty_like(d["beta"]),
                                      torch.empty_like(d["bias"]))
                    for name, d in styles.items()
                }
                mod = GeneratorModulation(built, torch.empty_like(entries["class_bias"]), entries["classes"])
            except KeyError as e:
                error_msgs.append(f"bank task {tkey!r} is incomplete in the state dict (missing {e})")
                continue
            self.tasks[tkey] = mod.to(self.base_signature.device)
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys,
                                      unexpected_keys, error_msgs)

    @staticmethod
    def _after_load(module: "ModulationBank", incompatible) -> None:
        owners: Dict[int, int] = {}
        for k, mod in module.tasks.items():
            for c in mod.classes.tolist():
                if c in owners:
                    raise ValueError(f"loaded bank assigns class {c} to tasks {owners[c]} and {k}")
                owners[c] = int(k)
            if bool(mod.trained):
                for p in mod.parameters():
                    p.requires_grad_(False)


def base_signature(params: Iterable[Tensor]) -> Tensor:
    """[Σ W, Σ W²] in float64 over ``params``: a cheap fingerprint of a frozen base."""
    s = torch.zeros(2, dtype=torch.float64)
    for p in params:
        p64 = p.detach().double().cpu()
        s[0] += p64.sum()
        s[1] += (p64 * p64).sum()
    return s

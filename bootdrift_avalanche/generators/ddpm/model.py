"""The two diffusers objects a ``DDPMConfig`` describes: the class-conditional denoiser
(``UNet2DModel``) and the noise schedule (``DDPMScheduler``). Built here, used by training and
sampling; diffusers is imported only when a model is built."""
from __future__ import annotations

import torch.nn as nn

from .config import DDPMConfig


def build_unet(cfg: DDPMConfig) -> nn.Module:
    """The class-conditional ``UNet2DModel`` described by ``cfg``: it predicts the noise ε of
    ``x_t`` given the timestep and a class id (``num_class_embeds`` rows)."""
    from diffusers import UNet2DModel

    res = cfg.level_resolutions()
    down = tuple("AttnDownBlock2D" if r in cfg.attention_resolutions else "DownBlock2D" for r in res)
    up = tuple("AttnUpBlock2D" if r in cfg.attention_resolutions else "UpBlock2D" for r in reversed(res))
    c, h, w = cfg.image_shape
    return UNet2DModel(
        sample_size=(h, w), in_channels=c, out_channels=c,
        down_block_types=down, up_block_types=up,
        block_out_channels=cfg.block_out_channels, layers_per_block=cfg.layers_per_block,
        attention_head_dim=cfg.attention_head_dim, norm_num_groups=cfg.norm_num_groups,
        add_attention=cfg.mid_attention, dropout=cfg.dropout,
        resnet_time_scale_shift="scale_shift" if cfg.scale_shift_norm else "default",
        num_class_embeds=cfg.num_classes,
    )


def build_scheduler(cfg: DDPMConfig):
    """The training/ancestral-sampling ``DDPMScheduler`` described by ``cfg``.

    ``clip_sample`` keeps the predicted x0 in [-1, 1] at every step (guided-diffusion's
    ``clip_denoised``); ``trailing`` spacing makes few-step sampling start from t = T-1, pure noise.
    """
    from diffusers import DDPMScheduler

    return DDPMScheduler(
        num_train_timesteps=cfg.num_train_timesteps, beta_schedule=cfg.beta_schedule,
        prediction_type=cfg.prediction_type, variance_type="fixed_small", clip_sample=True,
        timestep_spacing="trailing",
    )

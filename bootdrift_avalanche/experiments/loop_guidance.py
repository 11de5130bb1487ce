"""Classifier guidance for the bootstrapping loop's DDPM (``--guidance-scale``): the guidance
classifier, trained once on D. ``experiments.registry.GUIDANCE`` maps generator names to it.
"""
from __future__ import annotations

import torch

from .config import BootstrapConfig, Preset


def ddpm_guidance(cfg: BootstrapConfig, preset: Preset, train, n_classes: int) -> dict:
    """Classifier guidance for the loop's DDPM: a classifier of the preset's architecture for the
    image size (SmallCNN on digits), trained once, on D (the stage-0 real training set; never on the
    held-out data the drift is scored on) for the preset's RealAcc epochs from its own seed stream,
    so it is not the drift's feature extractor. Rebuilt identically on resume."""
    from ..nets import build_classifier, train_classifier
    from ..runtime.seeds import seed_for

    x, y = train
    with torch.random.fork_rng(devices=[]):  # built without moving the run's RNG (training redraws the weights)
        clf = build_classifier(preset.classifier_name(x.shape[1:]), x.shape[1:], n_classes).to(cfg.device)
    train_classifier(clf, x, y, epochs=cfg.real_acc_epochs, seed=seed_for("bootstrap.guidance", seed=cfg.seed))
    return {"guidance": clf.requires_grad_(False), "guidance_scale": float(cfg.guidance_scale)}

"""Avalanche's own ``GenerativeReplay`` (an unconditional MLP VAE, labels from the solver) set up
for any image shape: the baseline our replay methods and drift metrics are compared with.

Avalanche's default VAE is built for 1x28x28 MNIST; here it is sized from ``image_shape``. Known
limits of the built-in method (read in Avalanche 0.6's source): unconditional generator with hard pseudo-labels,
replay regenerated every iteration, and it fails on ``[x, y]`` mini-batches (it extends
``mbatch[-1]``, which is then ``y``, twice), so use it with ``[x, y, t]`` streams
(``split_digits(task_labels=True)``, ``split_cifar100``).
"""
from __future__ import annotations

import warnings
from typing import List, Optional, Sequence

import torch


def avalanche_generative_replay(*, model, optimizer, criterion, image_shape: Sequence[int], nhid: int = 16,
                                generator_lr: float = 1e-3, generator_epochs: Optional[int] = None,
                                train_mb_size: int = 32, train_epochs: int = 1, eval_mb_size: Optional[int] = None,
                                device="cpu", plugins: Optional[List] = None, evaluator=None,
                                replay_size: Optional[int] = None, increasing_replay_size: bool = False,
                                **kwargs):
    """Avalanche's ``GenerativeReplay`` with an ``MlpVAE(image_shape, nhid)`` trained by
    ``VAETraining`` (Adam, ``generator_lr``, weight decay 1e-4 as Avalanche's built-in generator) for
    ``generator_epochs`` (default: ``train_epochs``). ``replay_size`` (replayed images appended to
    every mini-batch; ``None``: as many as the mini-batch holds) and ``increasing_replay_size``
    reach both the solver's and the VAE's ``GenerativeReplayPlugin``, as in Avalanche's own
    default set-up."""
    from avalanche.models import MlpVAE
    from avalanche.training import GenerativeReplay
    from avalanche.training.plugins import EvaluationPlugin, GenerativeReplayPlugin
    from avalanche.training.supervised.strategy_wrappers import VAETraining

    vae = MlpVAE(tuple(image_shape), nhid=nhid, device=device)
    with warnings.catch_warnings():  # silent on purpose: Avalanche's "No loggers specified" would mislead
        warnings.filterwarnings("ignore", message="No loggers specified")
        silent = EvaluationPlugin(loggers=[])
    gen_strategy = VAETraining(
        model=vae, optimizer=torch.optim.Adam(vae.parameters(), lr=generator_lr, weight_decay=1e-4),
        train_mb_size=train_mb_size, train_epochs=generator_epochs or train_epochs, device=device,
        evaluator=silent,  # the VAE's own training logs nothing
        plugins=[GenerativeReplayPlugin(replay_size=replay_size, increasing_replay_size=increasing_replay_size)],
    )
    extra = {} if evaluator is None else {"evaluator": evaluator}
    return GenerativeReplay(model=model, optimizer=optimizer, criterion=criterion, train_mb_size=train_mb_size,
                            train_epochs=train_epochs, eval_mb_size=eval_mb_size, device=device,
                            plugins=plugins, generator_strategy=gen_strategy, replay_size=replay_size,
                            increasing_replay_size=increasing_replay_size,
                            **extra, **kwargs)

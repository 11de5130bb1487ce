"""Data-parallel training of an Avalanche strategy's classifier across ``torchrun`` ranks.

Every rank runs the same strategy on the same data (same seeds, so the same mini-batches and the
same replay samples). :class:`DataParallelPlugin` makes each rank forward and backward only its rows
``mbatch[rank::world]`` of each mini-batch (after the replay plugins have extended it), then sums
the ranks' gradients weighted by their share of the batch (n_rank / n) before the optimizer step.
For a loss that is a mean over the mini-batch (cross-entropy) that is exactly the gradient of the
whole batch, so the ranks stay identical and equal the one-process model up to float rounding; a
loss term computed identically on every rank (e.g. a replay loss of its own) keeps its weight,
since the shares add up to 1. A plugin that reads the mini-batch after ``before_forward`` sees this
rank's rows only (Avalanche's weighted-loss ``GenerativeReplayPlugin`` would size its replay by them;
the recipes use its default, unweighted mode, which extends the batch before the split).

This is DistributedDataParallel's gradient averaging done in a plugin rather than by wrapping the
model: the strategy's ``model`` is used unwrapped by Avalanche's evaluation, by the replay plugins
(DDGR labels its replay with it), by model adaptation and by the checkpoints (whose keys a
``module.`` prefix would change), so it stays the plain module. One all-reduce of the flattened
gradients per step (the classifiers are small: bucketing and overlap would gain nothing).

A classifier with batch normalisation is not split (its batch statistics would be per shard, another
model): the plugin then leaves every rank training the whole batch, replicated, as without it.
Outside a run with several ranks it does nothing.
"""
from __future__ import annotations

import torch
from avalanche.core import SupervisedPlugin

from ..nets import has_batch_norm
from ..runtime import distributed as D


class DataParallelPlugin(SupervisedPlugin, supports_distributed=True):
    """Split each training mini-batch across the ranks and average the gradients (see the module
    docstring). Add it after the plugins that change the mini-batch."""

    def __init__(self) -> None:
        super().__init__()
        self._share = 1.0

    def _active(self, strategy) -> bool:
        return D.sharded() and not has_batch_norm(strategy.model)

    def before_forward(self, strategy, **kwargs):
        if not self._active(strategy):
            return
        n = len(strategy.mbatch[0])
        r, w = D.rank(), D.world_size()
        self._share = len(range(r, n, w)) / n
        strategy.mbatch = [t[r::w] for t in strategy.mbatch]

    def after_backward(self, strategy, **kwargs):
        if not self._active(strategy):
            return
        # The same parameters have gradients on every rank: the graph is that of the same model on
        # rows of the same batch (an empty share, from a last mini-batch smaller than the world, still
        # runs the forward: its mean loss is NaN but its gradients are zeros, and its weight is 0).
        params = [p for p in strategy.model.parameters() if p.grad is not None]
        flat = D.all_reduce(torch.cat([p.grad.flatten() for p in params]) * self._share)
        for p, g in zip(params, flat.split([p.numel() for p in params])):
            p.grad.copy_(g.view_as(p.grad))

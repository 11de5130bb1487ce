"""The recipe of a strategy: how one registered strategy (``experiments.registry``) builds its
generator and Avalanche strategy, whether it needs ``[x, y, t]`` mini-batches, whether there is a
generator for the drift metrics to score, what classifier-guidance scale it takes, and how it saves
and restores its state for resume. The default state covers what every Avalanche template has
(model, optimizer, clock) plus every plugin with ``state_dict`` (our replay plugins); recipes add
what is theirs.
"""
from __future__ import annotations

import abc
from dataclasses import dataclass
from typing import Any, Dict, Mapping, Optional

import torch

from .config import Preset, ReplayConfig


@dataclass
class BuildContext:
    """What a recipe gets to build its strategy from."""

    cfg: ReplayConfig  # resolved (no None sizes)
    preset: Preset
    benchmark: Any  # the Avalanche benchmark (train_stream, test_stream, image_shape, n_classes)
    model: torch.nn.Module  # the solver
    evaluator: Any  # Avalanche EvaluationPlugin with the loggers and drift metrics

    def template_kwargs(self) -> Dict[str, Any]:
        """Optimizer, criterion and the keyword arguments every Avalanche template takes."""
        cfg = self.cfg
        return dict(model=self.model, optimizer=torch.optim.Adam(self.model.parameters(), lr=cfg.lr),
                    criterion=torch.nn.CrossEntropyLoss(), train_mb_size=cfg.batch_size,
                    train_epochs=cfg.epochs, eval_mb_size=256, device=cfg.device, evaluator=self.evaluator)


class Recipe(abc.ABC):
    """How to run one strategy (see the module docstring). Subclasses implement ``build``; the
    strategy's name is its key in ``experiments.registry``'s table."""

    task_labels: bool = False  # needs [x, y, t] mini-batches
    has_generator: bool = False  # there is a generator for the drift metrics to score
    #: The recipe's own settings and their chosen values (``bench/replay_tuning.py``); an instance
    #: built with keyword arguments overrides some (how the tuning bench builds its trials).
    SETTINGS: Mapping[str, Any] = {}

    def __init__(self, **settings):
        unknown = sorted(set(settings) - set(self.SETTINGS))
        if unknown:
            raise ValueError(f"unknown {type(self).__name__} setting(s) {unknown}; known: {sorted(self.SETTINGS)}")
        self.settings = {**self.SETTINGS, **settings}

    def describe(self, cfg: ReplayConfig, preset: Preset) -> Dict[str, Any]:
        """What this recipe adds to ``cfg``, as built: its settings (bench tables print it)."""
        return dict(self.settings)

    def guidance_scale(self, given: Optional[float]) -> Optional[float]:
        """The classifier-guidance scale of a run given ``given`` (``ReplayConfig.guidance_scale``;
        ``None``: not set). A strategy without guidance takes none and refuses a value."""
        if given is not None:
            from .registry import guided_strategy_names

            raise ValueError(f"--guidance-scale is a setting of the strategies with classifier guidance "
                             f"({', '.join(guided_strategy_names())}), not of this one")
        return None

    @abc.abstractmethod
    def build(self, ctx: BuildContext):
        """The Avalanche strategy, ready to ``train`` experience by experience."""

    def generator(self, strategy) -> Optional[torch.nn.Module]:
        """The strategy's generator (ranks must agree on it under torchrun), ``None`` without one."""
        return getattr(strategy, "generator", None) if self.has_generator else None

    def state_dict(self, strategy) -> Dict[str, Any]:
        """Everything needed to continue after the current experience."""
        return {"model": strategy.model.state_dict(), "optimizer": strategy.optimizer.state_dict(),
                "clock": dict(vars(strategy.clock)),
                "plugins": [p.state_dict() if callable(getattr(p, "state_dict", None)) else None
                            for p in strategy.plugins]}

    def load_state_dict(self, strategy, state: Dict[str, Any], ctx: BuildContext, done: int) -> None:
        """Restore :meth:`state_dict` into a freshly built strategy; ``done`` experiences are trained."""
        strategy.model.load_state_dict(state["model"])
        # Avalanche resets the optimizer state on a strategy's first training experience (when it has
        # no `optimized_param_id` yet); mark the parameters as known so the restored Adam moments stay.
        strategy.optimized_param_id = dict(strategy.model.named_parameters())
        strategy.optimizer.load_state_dict(state["optimizer"])
        for k, v in state["clock"].items():
            setattr(strategy.clock, k, v)
        for plugin, s in zip(strategy.plugins, state["plugins"]):
            if s is not None:
                plugin.load_state_dict(s)


class PluginRecipe(Recipe):
    """A recipe whose strategy is Avalanche's ``SupervisedTemplate`` with one replay plugin (built
    by :meth:`plugin`), whose generator is the one the drift metrics score."""

    has_generator = True

    @abc.abstractmethod
    def plugin(self, ctx: BuildContext):
        """The replay plugin, its generator sized for ``ctx``."""

    def build(self, ctx: BuildContext):
        from avalanche.training.templates import SupervisedTemplate

        return SupervisedTemplate(plugins=[self.plugin(ctx)], **ctx.template_kwargs())

    def generator(self, strategy):
        return strategy.plugins[0].generator

"""The ``GUIDE`` strategy: Avalanche's ``SupervisedTemplate`` plus ``GUIDEPlugin`` (a strategy is a
template plus plugins). ``strategy.generator`` (a ``DDPMGenerator``) is the diffusion model whose
guided replays the drift metrics score."""
from __future__ import annotations

from typing import Optional

from ..plugins.guide import GUIDEPlugin
from .plugin_strategy import PluginStrategy


class GUIDE(PluginStrategy):
    """GUIDE (Cywiński et al. 2024) as an Avalanche strategy.

    Keyword-only arguments, like Avalanche's own strategies; ``generator`` and ``guide`` (keyword
    arguments of :class:`~bootdrift_avalanche.plugins.guide.GUIDEPlugin`) build the plugin, the rest
    go to the template.
    """

    def __init__(self, *, model, optimizer, criterion, generator, guide: Optional[dict] = None, **strategy_kwargs):
        self.guide_plugin = GUIDEPlugin(generator, **(guide or {}))
        super().__init__(self.guide_plugin, model=model, optimizer=optimizer, criterion=criterion, **strategy_kwargs)

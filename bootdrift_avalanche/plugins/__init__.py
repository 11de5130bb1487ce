"""Avalanche plugins: generative replay (``DDGRPlugin``, ``GANMemoryPlugin``, both
``ReplaySetPlugin`` s) and the drift metrics (``drift_metrics``, a factory of ``PluginMetric`` s for
``EvaluationPlugin``)."""
from .ddgr import DDGRPlugin
from .drift import DriftComputation, drift_metrics
from .gan_memory import GANMemoryPlugin
from .replay import ReplaySetPlugin

__all__ = ["DDGRPlugin", "GANMemoryPlugin", "ReplaySetPlugin", "drift_metrics", "DriftComputation"]

"""Avalanche plugins: generative replay (``DDGRPlugin``, ``GANMemoryPlugin``) and the drift metrics
(``drift_metrics``, a factory of ``PluginMetric`` s for ``EvaluationPlugin``)."""
from .ddgr import DDGRPlugin
from .drift import DriftComputation, drift_metrics
from .gan_memory import GANMemoryPlugin

__all__ = ["DDGRPlugin", "GANMemoryPlugin", "drift_metrics", "DriftComputation"]

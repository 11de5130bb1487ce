"""Avalanche plugins: generative replay (``DGRPlugin``, ``DDGRPlugin``, ``GANMemoryPlugin``, all
``ReplaySetPlugin`` s; anchored variants in ``plugins.anchored_replay``) and the drift metrics
(``drift_metrics``, a factory of ``PluginMetric`` s for ``EvaluationPlugin``), and data-parallel
training of a strategy's classifier under ``torchrun`` (``DataParallelPlugin``)."""
from ..runtime.checkpoint import pickle_optimizers_by_reference
from .data_parallel import DataParallelPlugin
from .ddgr import DDGRPlugin
from .dgr import DGRPlugin
from .drift import DriftComputation, drift_metrics
from .gan_memory import GANMemoryPlugin
from .replay import ReplaySetPlugin

pickle_optimizers_by_reference()  # Avalanche's save_checkpoint with our plugins: see runtime/checkpoint.py

__all__ = ["DataParallelPlugin", "DDGRPlugin", "DGRPlugin", "GANMemoryPlugin", "ReplaySetPlugin", "drift_metrics",
           "DriftComputation"]

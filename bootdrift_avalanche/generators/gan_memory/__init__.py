"""GAN Memory (Cong et al., "GAN Memory with No Forgetting", NeurIPS 2020): a frozen base GAN plus
one style modulation per task, as a class-conditional generator that follows the ``Generator``
protocol of ``generators/base.py``. Old tasks never change, so the memory does not forget.

The method, the choice of base (``GANMemoryConfig.source``), training and the deviations from the
reference are described in docs/GAN_MEMORY.md.
"""
from .bank import ModulationBank
from .config import SOURCES, GANMemoryConfig
from .memory import GANMemoryGenerator
from .modulated_layers import ModulatedConv2d, ModulatedLinear, StyleParams
from .task_modulation import GeneratorModulation
from .training import FitStats

__all__ = [
    "GANMemoryConfig",
    "GANMemoryGenerator",
    "FitStats",
    "SOURCES",
    "ModulatedConv2d",
    "ModulatedLinear",
    "ModulationBank",
    "GeneratorModulation",
    "StyleParams",
]

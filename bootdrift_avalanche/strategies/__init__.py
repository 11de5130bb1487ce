"""Avalanche strategies = template + our replay plugin, and Avalanche's GenerativeReplay sized for
any image shape (the baseline)."""
from .avalanche_gr import avalanche_generative_replay
from .ddgr import DDGR
from .gan_memory import GANMemory

__all__ = ["DDGR", "GANMemory", "avalanche_generative_replay"]

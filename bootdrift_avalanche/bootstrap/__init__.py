"""The bootstrapping loop (``loop``: train a generator, sample, retrain on the samples, measure drift
per stage) and its maximum-likelihood theory (``theory``: closed forms and a Monte-Carlo check)."""
from .loop import BootstrapResult, mix_with_real, run_bootstrap

__all__ = ["BootstrapResult", "mix_with_real", "run_bootstrap"]

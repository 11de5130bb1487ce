"""The bootstrapping loop (``loop``: train a generator, sample, retrain on the samples, measure drift
per stage; ``regimes``: what each stage trains on) and its maximum-likelihood theory (``theory``:
closed forms and a Monte-Carlo check)."""
from .loop import BootstrapResult, run_bootstrap
from .regimes import REGIMES, mix_with_real

__all__ = ["BootstrapResult", "REGIMES", "mix_with_real", "run_bootstrap"]

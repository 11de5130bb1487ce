"""Maximum-likelihood theory of the self-consuming loop: closed forms, and Monte-Carlo simulators
that check them.

- ``gaussian``: a 1-D Gaussian refitted on its samples in each regime of ``bootstrap.regimes``
  (replace, augment, fresh, accumulate): E[fitted variance] and Var[fitted mean] after t fits;
- ``categorical``: a categorical distribution (a multinomial fit: the exact model of an n-gram
  language model) refitted on its own samples: the probability that a category of probability p is
  lost by fit t and the expected number of categories left (Shumailov et al.'s disappearing tails).
"""
from .categorical import categorical_closed_form, simulate_categorical
from .gaussian import (
    GAUSSIAN_REGIMES,
    gaussian_closed_form,
    mle_bootstrap_closed_form,
    n_real_samples,
    simulate_gaussian,
    simulate_mle_bootstrap,
)

__all__ = ["GAUSSIAN_REGIMES", "categorical_closed_form", "simulate_categorical", "gaussian_closed_form",
           "mle_bootstrap_closed_form", "n_real_samples", "simulate_gaussian", "simulate_mle_bootstrap"]

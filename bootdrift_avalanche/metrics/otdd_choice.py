"""Which OTDD a drift evaluation computes: exact OTDD while both sets are small enough, a scalable
variant above that, each logged under its own name so that an approximation is never plotted as
exact OTDD.

:data:`LARGE_OTDD` is the registry of the variants for large sets (name -> metric name prefix and
function); :func:`choose_otdd` applies the size rule. Why this default variant and threshold
(``bench/metrics_scale.py``): ``docs/DRIFT_METRICS.md`` (implementation notes).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Dict, Optional

from .otdd import otdd
from .otdd_entropic import otdd_entropic
from .otdd_hierarchical import otdd_hierarchical
from .otdd_sliced import otdd_sliced


@dataclass(frozen=True)
class OTDDVariant:
    """A dataset distance and the head of its metric name (``<prefix>_<extractor>``)."""

    prefix: str
    fn: Callable[..., float]


EXACT = OTDDVariant("OTDD", otdd)

LARGE_OTDD: Dict[str, OTDDVariant] = {
    "hierarchical": OTDDVariant("OTDDhier", otdd_hierarchical),
    "entropic": OTDDVariant("OTDDent", otdd_entropic),
    "sliced": OTDDVariant("sOTDD", otdd_sliced),
}

PREFIXES = (EXACT.prefix,) + tuple(v.prefix for v in LARGE_OTDD.values())  # every OTDD name head

DEFAULT_EXACT_MAX = 2000
DEFAULT_LARGE = "hierarchical"


def check_large(name: str) -> None:
    if name not in LARGE_OTDD:
        raise ValueError(f"unknown large-set OTDD variant {name!r}; choose one of {sorted(LARGE_OTDD)}")


def choose_otdd(n_a: int, n_b: int, *, exact_max: Optional[int], large: str) -> OTDDVariant:
    """Exact OTDD when both sets have at most ``exact_max`` points (``None``: always exact), else
    the variant ``large`` of :data:`LARGE_OTDD`."""
    check_large(large)
    if exact_max is None or max(n_a, n_b) <= exact_max:
        return EXACT
    return LARGE_OTDD[large]

"""Pictures of sample sets (image grids, scatters): what the drift suite shows beside its numbers.
Kept apart from :mod:`bootdrift_avalanche.metrics`, which is tensors in, numbers out."""
from .sample_grid import labelled_grid
from .sample_picture import sample_picture

__all__ = ["labelled_grid", "sample_picture"]

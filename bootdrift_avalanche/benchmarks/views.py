"""Reading benchmark data the way metrics and generators must see it.

Avalanche datasets carry train and eval transform groups; anything that *measures* or *learns a
generator from* an experience must use the eval group (no random augmentation), or the same image
would differ from one read to the next. Plain torch datasets have no groups and are used as they are.
"""
from __future__ import annotations


def eval_view(dataset):
    """``dataset.eval()`` for an Avalanche dataset (eval transforms), the dataset itself otherwise."""
    view = getattr(dataset, "eval", None)
    return view() if callable(view) else dataset

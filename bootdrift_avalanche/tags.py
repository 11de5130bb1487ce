"""The tag a drift value is logged under: its name with Avalanche's ``/train_phase/train_stream``
after the first path component, so each value is one curve over the run (not Avalanche's
per-experience ``.../Exp003`` tags, which give one-point curves)."""
from __future__ import annotations

TAG_SUFFIX = "/train_phase/train_stream"


def tag_for(name: str) -> str:
    """The logged tag of a value: :data:`TAG_SUFFIX` after the first path component of ``name``
    (``"FID_clf"`` -> ``"FID_clf/train_phase/train_stream"``, ``"CFID_clf/Class003"`` ->
    ``"CFID_clf/train_phase/train_stream/Class003"``)."""
    head, sep, rest = name.partition("/")
    return f"{head}{TAG_SUFFIX}{sep}{rest}"

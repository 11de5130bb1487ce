"""Names of the values logged beside a drift value: its floor, its excess over the floor, its
interval bounds, and the generator-without-guidance variant of all of them.

A qualifier is a suffix of a name's first path component, in a fixed order:
``<METRIC>_<ext>[_unguided][_floor|_excess|_ceiling|_std][_lo|_hi]``, e.g. ``FID_clf_floor``,
``CFID_clf_excess_lo/Class003``, ``FID_clf_unguided_hi``, ``RealAcc_ceiling``. One parser for
every reader (the drift plugin, the report, the tables), so the order is written once.
"""
from __future__ import annotations

from typing import Tuple

UNGUIDED, FLOOR, EXCESS, CEILING, STD, LO, HI = "_unguided", "_floor", "_excess", "_ceiling", "_std", "_lo", "_hi"
#: qualifier -> its rank in a name (lower first)
_RANK = {UNGUIDED: 0, FLOOR: 1, EXCESS: 1, CEILING: 1, STD: 1, LO: 2, HI: 2}


def split_head(head: str) -> Tuple[str, Tuple[str, ...]]:
    """``"FID_clf_unguided_lo"`` -> ``("FID_clf", ("_unguided", "_lo"))`` (qualifiers in name order)."""
    quals = []
    stripped = True
    while stripped:
        stripped = False
        for q in _RANK:
            if head.endswith(q) and len(head) > len(q):
                head, stripped = head[: -len(q)], True
                quals.insert(0, q)
                break
    return head, tuple(quals)


def qualified(name: str, qualifier: str) -> str:
    """``name`` with ``qualifier`` added to its first path component in its place
    (``("CFID_clf_lo/Class003", "_unguided")`` -> ``"CFID_clf_unguided_lo/Class003"``)."""
    head, sep, rest = name.partition("/")
    base, quals = split_head(head)
    quals = sorted(set(quals) | {qualifier}, key=lambda q: _RANK[q])
    return base + "".join(quals) + sep + rest


def base_name(name: str) -> str:
    """``name`` without any qualifier (``"CFID_clf_floor/Class003"`` -> ``"CFID_clf/Class003"``)."""
    head, sep, rest = name.partition("/")
    return split_head(head)[0] + sep + rest


def qualifiers_of(name: str) -> Tuple[str, ...]:
    """The qualifiers of ``name``'s first path component."""
    return split_head(name.partition("/")[0])[1]

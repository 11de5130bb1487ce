"""Named seed streams: every random draw of a run gets its seed from ``seed_for(stream, ...)``.

Instead of ad-hoc arithmetic (``seed * 1_000_003 + step + 7_919 * rank``), which can make two
streams collide (seed 1, step 0 vs seed 0, step 1_000_003), each stream is named and its integer
keys are named too; the seed is a hash of (stream, run seed, sorted keys). Two different streams,
or the same stream with different keys, get unrelated seeds; the same call always gets the same
seed, on any machine and Python version (BLAKE2b, not ``hash()``, which is salted per process).

    seed_for("replay", seed=cfg.seed, experience=k)          # DDGR's replay set of experience k
    seed_for("drift", seed=cfg.seed, cls=3)                  # drift samples of class 3
    seed_for("ddpm.fit", seed=cfg.seed, call=n)              # the n-th fit() of a DDPM
"""
from __future__ import annotations

import hashlib

_MASK = (1 << 63) - 1  # torch.Generator.manual_seed takes any int64; keep it non-negative


def seed_for(stream: str, *, seed: int = 0, **keys: int) -> int:
    """The seed of ``stream`` for the run seed ``seed`` and the integer ``keys`` (order-free)."""
    if not stream or not isinstance(stream, str):
        raise ValueError(f"seed stream needs a non-empty name, got {stream!r}")
    parts = [stream, f"seed={int(seed)}"] + [f"{k}={int(v)}" for k, v in sorted(keys.items())]
    digest = hashlib.blake2b("|".join(parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") & _MASK

"""The only entry points for randomness: every model and simulation goes through these."""

from __future__ import annotations

import numpy as np

__all__ = ["as_generator", "spawn", "seed_of"]

SeedLike = int | np.random.Generator | np.random.SeedSequence | None


def as_generator(rng: SeedLike = None) -> np.random.Generator:
    """Normalise an int, SeedSequence, Generator or None into a ``numpy.random.Generator``."""
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, np.random.SeedSequence):
        return np.random.default_rng(rng)
    if rng is None:
        return np.random.default_rng()
    if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool):
        if rng < 0:
            raise ValueError(f"seed must be a non-negative integer, got {rng}")
        return np.random.default_rng(int(rng))
    raise TypeError(f"rng must be an int seed, a numpy Generator or None, not {type(rng).__name__}")


def spawn(seed: int | np.random.SeedSequence, n: int) -> list[np.random.SeedSequence]:
    """Independent child streams (``SeedSequence.spawn``): draw ``i`` gets the same stream
    whatever the executor or the number of workers."""
    ss = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(int(seed))
    return ss.spawn(n)


def seed_of(rng: SeedLike) -> int | None:
    """The integer seed recorded in provenance, when there is one."""
    if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool):
        return int(rng)
    return None

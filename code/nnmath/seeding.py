"""One door for randomness: every seeded draw of the package and the book goes through it.

:func:`rng` is ``np.random.default_rng(seed)``, with the seed shifted by a whole number
read from the environment variable ``NNMATH_SEED_OFFSET`` (0 when unset). A reader never
sets it. ``make check-claims`` builds the book a second time with it set, so that every
training, split, batch order, dropout mask and augmentation draws different numbers: a
sentence or an ``assert`` that survives that run states a property, not one run's luck.
"""

from __future__ import annotations

import os

import numpy as np

__all__ = ["OFFSET_VAR", "rng", "seed_offset"]

#: Environment variable holding the seed offset (an integer >= 0; unset means 0).
OFFSET_VAR = "NNMATH_SEED_OFFSET"


def seed_offset() -> int:
    """The offset in ``$NNMATH_SEED_OFFSET``, 0 when unset; a clear error when malformed."""
    text = os.environ.get(OFFSET_VAR, "").strip()
    if not text:
        return 0
    try:
        offset = int(text)
    except ValueError:
        offset = -1
    if offset < 0:
        raise ValueError(f"{OFFSET_VAR}: expected a whole number >= 0, got {text!r}")
    return offset


def rng(seed: int) -> np.random.Generator:
    """A generator seeded with ``seed + seed_offset()``: the same seed, the same numbers."""
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"seed: expected a whole number >= 0, got {seed!r}")
    return np.random.default_rng(int(seed) + seed_offset())

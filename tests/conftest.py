"""Shared fixtures: the real MNIST, loaded once per test session."""

from __future__ import annotations

import os

import pytest
from nnmath.data import MNIST, DataError, load_mnist


@pytest.fixture(scope="session")
def mnist() -> MNIST:
    """The real MNIST from NNMATH_DATA or the cache; skipped (never in CI) when absent."""
    try:
        return load_mnist(download=False)
    except DataError as err:
        if os.environ.get("CI"):
            raise
        pytest.skip(
            f"MNIST is not available here ({err}); run `make data` or set NNMATH_DATA"
        )

"""nnmath.seeding: one door for every seeded draw, shifted by NNMATH_SEED_OFFSET."""

from __future__ import annotations

import numpy as np
import pytest
from nnmath import runs, seeding
from nnmath.data import train_dev_split
from nnmath.mlp import MLP


def test_no_offset_is_numpys_own_generator(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(seeding.OFFSET_VAR, raising=False)
    assert seeding.seed_offset() == 0
    np.testing.assert_array_equal(
        seeding.rng(7).random(5), np.random.default_rng(7).random(5)
    )


def test_offset_shifts_every_seed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(seeding.OFFSET_VAR, "3")
    np.testing.assert_array_equal(
        seeding.rng(7).random(5), np.random.default_rng(10).random(5)
    )


def test_offset_reaches_weights_and_splits(monkeypatch: pytest.MonkeyPatch) -> None:
    images, labels = np.arange(40).reshape(20, 2), np.arange(20) % 10
    monkeypatch.delenv(seeding.OFFSET_VAR, raising=False)
    W_plain, dev_plain = MLP([4, 3], seed=0).W[0].copy(), train_dev_split(
        images, labels, dev_size=5
    )[3]
    monkeypatch.setenv(seeding.OFFSET_VAR, "1")
    W_shifted, dev_shifted = MLP([4, 3], seed=0).W[0], train_dev_split(
        images, labels, dev_size=5
    )[3]
    assert not np.array_equal(W_plain, W_shifted)
    assert not np.array_equal(dev_plain, dev_shifted)
    np.testing.assert_array_equal(W_shifted, MLP([4, 3], seed=0).W[0])


def test_offset_is_part_of_the_run_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(seeding.OFFSET_VAR, raising=False)
    plain = runs.run_key({"seed": 0}, source="s")
    monkeypatch.setenv(seeding.OFFSET_VAR, "1")
    assert runs.run_key({"seed": 0}, source="s") != plain


@pytest.mark.parametrize("text", ["-1", "one", "1.5"])
def test_malformed_offset_is_refused(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    monkeypatch.setenv(seeding.OFFSET_VAR, text)
    with pytest.raises(ValueError, match="NNMATH_SEED_OFFSET: expected a whole number"):
        seeding.rng(0)


@pytest.mark.parametrize("seed", [-1, 1.0, True, "0"])
def test_bad_seed_is_refused(seed: object) -> None:
    with pytest.raises(ValueError, match="seed: expected a whole number >= 0"):
        seeding.rng(seed)  # type: ignore[arg-type]

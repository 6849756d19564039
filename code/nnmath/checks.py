"""The checks made once at the package's public entry points: shapes, labels, pixels, counts.

Each raises ``ValueError`` (``TypeError`` for a wrong kind of number) with one message that
names the argument, what was expected and what was received, so that a wrong input fails
where it enters rather than deep inside a matrix product. The functions that the book
shows call one of these in a single line, or none at all.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import DTypeLike

__all__ = [
    "both_or_neither",
    "columns",
    "expect_shape",
    "integer",
    "label_pair",
    "labels",
    "positive",
    "probabilities_and_labels",
    "training_set",
]


def expect_shape(name: str, array: np.ndarray, shape: tuple[int | str, ...], context: str) -> None:
    """Raise unless ``array`` has ``shape``; a str entry (like ``"m"``) matches any length."""
    ok = array.ndim == len(shape) and all(
        isinstance(want, str) or want == got for want, got in zip(shape, array.shape, strict=True)
    )
    if not ok:
        shown = ", ".join(map(str, shape)) + ("," if len(shape) == 1 else "")
        raise ValueError(f"{name}: expected ({shown}) {context}, got {array.shape}")


def columns(
    name: str, X: np.ndarray, n_rows: int, context: str, dtype: DTypeLike | None = None
) -> np.ndarray:
    """``X`` as a float matrix ``(n_rows, m)``, one column per example, in ``dtype`` if given.

    A matrix with the examples as rows gets a hint to transpose it; integer pixels get a
    hint to scale them.
    """
    X = np.asarray(X)
    if X.ndim != 2 or X.shape[0] != n_rows:
        transposed = X.ndim == 2 and X.shape[1] == n_rows
        hint = " (one COLUMN per example: transpose it)" if transposed else ""
        raise ValueError(f"{name}: expected ({n_rows}, m) {context}, got {X.shape}{hint}")
    if X.dtype.kind != "f":
        raise TypeError(
            f"{name}: expected floating-point pixels scaled to [0, 1] (see "
            f"nnmath.data.scale_pixels), got dtype {X.dtype}"
        )
    return X if dtype is None else X.astype(dtype, copy=False)


def labels(
    y: np.ndarray, m: int, n_classes: int, *, name: str = "y", context: str = ""
) -> np.ndarray:
    """``y`` as ``m`` integer labels in 0..n_classes-1, shape ``(m,)`` (no copy).

    ``context`` (for example "to match A (10, 5)") is added to the message.
    """
    y = np.asarray(y)
    because = f" {context}" if context else ""
    if y.shape != (m,):
        hint = " (pass integer labels, not a one-hot matrix)" if y.ndim == 2 else ""
        raise ValueError(f"{name}: expected ({m},){because}, got {y.shape}{hint}")
    if y.dtype.kind not in "iu":
        raise TypeError(f"{name}: expected integer labels, got dtype {y.dtype}")
    # One pass for both bounds: seen as unsigned, a negative label is larger than any class.
    if m and y.view(f"u{y.dtype.itemsize}").max() >= n_classes:
        raise ValueError(
            f"{name}: expected labels in 0..{n_classes - 1}, got values in {y.min()}..{y.max()}"
        )
    return y


def probabilities_and_labels(A: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Check that ``A`` is ``(n, m)`` and ``y`` its ``(m,)`` labels; return ``y`` as an array."""
    if A.ndim != 2:
        raise ValueError(f"A: expected (n, m), one column per example, got {A.shape}")
    return labels(y, A.shape[1], A.shape[0], context=f"to match A {A.shape}")


def label_pair(y_true: np.ndarray, y_pred: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Two integer label arrays of the same shape ``(m,)``, as arrays."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_true.ndim != 1 or y_true.shape != y_pred.shape:
        raise ValueError(
            f"y_true and y_pred: expected two arrays of shape (m,), got {y_true.shape} "
            f"and {y_pred.shape}"
        )
    for name, y in (("y_true", y_true), ("y_pred", y_pred)):
        if y.dtype.kind not in "iu":
            raise TypeError(f"{name}: expected integer class labels, got dtype {y.dtype}")
    return y_true, y_pred


def integer(name: str, value: int, minimum: int) -> int:
    """``value`` if it is a whole number (not a bool) >= ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise ValueError(f"{name}: expected an integer >= {minimum}, got {value!r}")
    return int(value)


def positive(name: str, value: float, what: str) -> float:
    """``value`` if it is a finite number > 0; ``what`` names it in the message."""
    if not (np.isfinite(value) and value > 0):
        raise ValueError(f"{name}: expected a positive {what}, got {value}")
    return float(value)


def both_or_neither(X_dev: np.ndarray | None, y_dev: np.ndarray | None) -> None:
    """A dev set is given whole (images and labels) or not at all."""
    if (X_dev is None) != (y_dev is None):
        raise ValueError("X_dev and y_dev: give both or neither")


def training_set(
    X: np.ndarray,
    y: np.ndarray,
    X_dev: np.ndarray | None,
    y_dev: np.ndarray | None,
    *,
    sizes: tuple[int, ...],
    dtype: DTypeLike,
    context: str,
    label: str = "y",
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None]:
    """``X, y, X_dev, y_dev`` checked for a network of widths ``sizes`` and cast to ``dtype``.

    ``X`` is ``(sizes[0], m)`` with m >= 1, ``y`` its ``m`` labels in 0..sizes[-1]-1 (named
    ``label`` in messages); the dev set is optional but whole. ``context`` follows the
    expected shape of ``X`` in its message.
    """
    X = columns("X", X, sizes[0], context, dtype)
    if X.shape[1] == 0:
        raise ValueError("X: expected at least one example, got 0 columns")
    y = labels(y, X.shape[1], sizes[-1], name=label, context=f"to match X {X.shape}")
    both_or_neither(X_dev, y_dev)
    if X_dev is not None:
        X_dev = columns("X_dev", X_dev, sizes[0], context, dtype)
        y_dev = labels(
            y_dev, X_dev.shape[1], sizes[-1], name="y_dev", context=f"to match X_dev {X_dev.shape}"
        )
    return X, y, X_dev, y_dev

"""How good are the predictions: accuracy, the confusion matrix and what it shows.

Labels and predictions are integer class indices, shape ``(m,)``. The confusion matrix
``C`` is ``(n, n)``: row k is the true class, column k' the predicted one.
"""

from __future__ import annotations

import numpy as np

from nnmath.checks import label_pair

__all__ = ["accuracy", "confusion_matrix", "most_confused_pairs", "per_class_accuracy"]


def accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """The fraction of predictions equal to the labels; both ``(m,)``. NaN when m = 0.

    Implements: eq-accuracy
    """
    y_true, y_pred = label_pair(y_true, y_pred)
    if y_true.size == 0:
        return float("nan")
    return float(np.count_nonzero(y_true == y_pred) / y_true.size)


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, n: int = 10) -> np.ndarray:
    """C[k, k'] = the number of examples of true class k predicted as k', ``(n, n)``.

    Counted in one pass: each pair (k, k') is the single index n k + k', and
    ``np.bincount`` counts the indices. Rows sum to the class counts, the diagonal holds
    the correct predictions, and the total is m. Returns ``int64``.

    Implements: eq-confusion
    """
    y_true, y_pred = label_pair(y_true, y_pred)
    for name, y in (("y_true", y_true), ("y_pred", y_pred)):
        if y.size and (y.min() < 0 or y.max() >= n):
            raise ValueError(
                f"{name}: expected classes in 0..{n - 1}, got values in {y.min()}..{y.max()}"
            )
    flat = y_true.astype(np.int64) * n + y_pred
    return np.bincount(flat, minlength=n * n).reshape(n, n)


def per_class_accuracy(cm: np.ndarray) -> np.ndarray:
    """The accuracy on each true class: C[k, k] / sum_k' C[k, k'], shape ``(n,)``.

    Also called the recall of class k. A class with no examples gets NaN.
    """
    cm = _check_square(cm)
    totals = cm.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.diagonal(cm) / totals


def most_confused_pairs(cm: np.ndarray, k: int = 5) -> list[tuple[int, int, int]]:
    """The ``k`` largest off-diagonal entries: ``(true, predicted, count)``, largest first.

    Ties are broken by (true, predicted) in increasing order; pairs with a count of 0 are
    left out, so fewer than ``k`` may be returned.
    """
    cm = _check_square(cm)
    if k < 0:
        raise ValueError(f"k: expected a number of pairs >= 0, got {k}")
    off = cm.copy()
    np.fill_diagonal(off, 0)
    flat = off.reshape(-1)
    order = np.argsort(-flat, kind="stable")[:k]
    n = cm.shape[0]
    return [(int(i // n), int(i % n), int(flat[i])) for i in order if flat[i] > 0]


def _check_square(cm: np.ndarray) -> np.ndarray:
    cm = np.asarray(cm)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1]:
        raise ValueError(
            f"cm: expected a square confusion matrix (n, n), got {cm.shape}"
        )
    return cm

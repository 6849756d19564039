"""Loss functions of the output probabilities, and their gradients with respect to the logits.

``A`` is ``(n, m)``: one column of ``n`` class probabilities per example (the softmax output).
``y`` holds the ``m`` integer labels, shape ``(m,)``. The one-hot matrix Y of the equations is
never built: Y has a single 1 per column, at row ``y[i]``, so every term involving Y reduces
to picking ``A[y[i], i]`` out of each column.
"""

from __future__ import annotations

import numpy as np

from nnmath.checks import probabilities_and_labels

__all__ = [
    "cross_entropy",
    "softmax_cross_entropy_grad",
    "squared_error",
    "squared_error_grad_logits",
]


def _minus_one_hot(A: np.ndarray, y: np.ndarray) -> np.ndarray:
    """A - Y for one-hot Y, without building Y: a copy of A with 1 subtracted at the labels."""
    D = A.copy()
    D[y, np.arange(y.size)] -= 1
    return D


def cross_entropy(A: np.ndarray, y: np.ndarray) -> float:
    """Mean cross-entropy L = -(1/m) sum_i log A[y_i, i] of probabilities ``A`` ``(n, m)``.

    Equal to -(1/m) sum_i sum_k Y[k, i] log A[k, i], since only the label's row of the
    one-hot column is 1. A probability that underflowed to exactly 0 would give log 0 =
    -inf; it is raised to the smallest positive normal number of A's dtype first, so one
    hopeless example costs at most -log(tiny), about 87.3 in float32 (708.4 in float64),
    and the loss stays finite. No representable normal probability is changed.

    Implements: eq-cross-entropy
    """
    y = probabilities_and_labels(A, y)
    p = A[y, np.arange(y.size)]
    p = np.maximum(p, np.finfo(A.dtype).tiny)
    return float(-np.log(p).sum() / y.size)


def softmax_cross_entropy_grad(A: np.ndarray, y: np.ndarray) -> np.ndarray:
    """dZ2 = A - Y: the gradient of the softmax followed by cross-entropy, one column each.

    ``A = softmax(Z)`` is ``(n, m)``; returns ``(n, m)``. The softmax Jacobian and the
    derivative of -log collapse into this difference. It is the gradient of the *summed*
    loss m L with respect to Z, one column per example, NOT divided by m: the 1/m is
    applied once, in the weight and bias gradients. Y is never built: 1 is subtracted at
    the label's row of each column.

    Implements: eq-dz2
    """
    y = probabilities_and_labels(A, y)
    dZ = A.copy()
    dZ[y, np.arange(y.size)] -= 1
    return dZ


def squared_error(A: np.ndarray, y: np.ndarray) -> float:
    """Mean squared error L = (1/2m) sum_i ||a_i - y_i||^2 against one-hot targets.

    ``A`` is ``(n, m)``; ``y`` the integer labels ``(m,)``.

    Implements: eq-squared-error
    """
    y = probabilities_and_labels(A, y)
    D = _minus_one_hot(A, y)
    return float(0.5 * np.sum(D * D) / y.size)


def squared_error_grad_logits(A: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Gradient of the squared error with respect to the logits Z, through the softmax.

    With A = softmax(Z), each column is J^T (a - y) = a * (a - y) - a (a . (a - y)), where
    J = diag(a) - a a^T is the softmax Jacobian. ``A`` is ``(n, m)``; returns ``(n, m)``.
    Like :func:`softmax_cross_entropy_grad` it is per example, NOT divided by m (the
    gradient of m L), so the two can be compared column by column. Every term carries a
    factor a_k, so when the network is confidently wrong (the label's probability near 0)
    this gradient nearly vanishes while A - Y stays large.

    Implements: eq-squared-error-grad
    """
    y = probabilities_and_labels(A, y)
    D = _minus_one_hot(A, y)
    return A * (D - np.sum(A * D, axis=0, keepdims=True))

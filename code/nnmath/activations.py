"""Activation functions and their derivatives.

Every function works elementwise on an array of any shape, except the softmax family, which
works on columns: ``Z`` has shape ``(n, m)``, one column of ``n`` logits per example (a 1-D
``(n,)`` array is a single column). The result has the dtype of the input, so float32 stays
float32 and a gradient check in float64 stays float64.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "relu",
    "relu_deriv",
    "sigmoid",
    "sigmoid_deriv",
    "softmax",
    "softmax_jacobian",
    "softmax_naive",
    "tanh",
    "tanh_deriv",
]


def relu(Z: np.ndarray) -> np.ndarray:
    """ReLU(z) = max(z, 0), elementwise; same shape and dtype as ``Z``.

    Implements: eq-relu
    """
    return np.maximum(Z, 0)


def relu_deriv(Z: np.ndarray) -> np.ndarray:
    """ReLU'(z) = 1 where z > 0, else 0 (the value 0 is chosen at the kink z = 0).

    Same shape and dtype as ``Z``.

    Implements: eq-relu-deriv
    """
    return (Z > 0).astype(Z.dtype)


def sigmoid(Z: np.ndarray) -> np.ndarray:
    """sigma(z) = 1 / (1 + e^(-z)), elementwise; same shape and dtype as ``Z``.

    Written so that ``exp`` only ever sees -|z| <= 0: for z < 0 the equal form
    e^z / (1 + e^z) is used. Neither overflows, even for z = -1000.

    Implements: eq-sigmoid
    """
    e = np.exp(-np.abs(Z))  # in (0, 1]
    return np.where(Z >= 0, 1 / (1 + e), e / (1 + e))


def sigmoid_deriv(Z: np.ndarray) -> np.ndarray:
    """sigma'(z) = sigma(z) (1 - sigma(z)), elementwise; same shape and dtype as ``Z``.

    Implements: eq-sigmoid-deriv
    """
    s = sigmoid(Z)
    return s * (1 - s)


def tanh(Z: np.ndarray) -> np.ndarray:
    """tanh(z) = (e^z - e^(-z)) / (e^z + e^(-z)), elementwise; same shape and dtype as ``Z``.

    Implements: eq-tanh
    """
    return np.tanh(Z)


def tanh_deriv(Z: np.ndarray) -> np.ndarray:
    """tanh'(z) = 1 - tanh(z)^2, elementwise; same shape and dtype as ``Z``.

    Implements: eq-tanh-deriv
    """
    t = np.tanh(Z)
    return 1 - t * t


def softmax_naive(Z: np.ndarray) -> np.ndarray:
    """The softmax exactly as the formula reads: e^z / sum(e^z) down each column.

    Kept to show why :func:`softmax` exists: ``exp`` overflows to ``inf`` for logits above
    about 88.7 (float32) or 709.8 (float64), and ``inf / inf`` is ``nan``.
    """
    E = np.exp(Z)
    return E / E.sum(axis=0, keepdims=True)


def softmax(Z: np.ndarray) -> np.ndarray:
    """Softmax of each column: a_k = e^(z_k - c) / sum_k' e^(z_k' - c), c = max_k' z_k'.

    ``Z`` is ``(n, m)`` (or one column ``(n,)``); the result has the same shape and dtype,
    and each column is a probability vector summing to 1. Subtracting the column's largest
    logit changes nothing mathematically (the factor e^(-c) cancels) but keeps every
    exponent <= 0, so nothing overflows: logits of +-1000 are fine.

    Implements: eq-softmax
    """
    E = Z - Z.max(axis=0, keepdims=True)
    np.exp(E, out=E)
    E /= E.sum(axis=0, keepdims=True)
    return E


def softmax_jacobian(z: np.ndarray) -> np.ndarray:
    """Jacobian of the softmax of ONE column: J[k, k'] = da_k/dz_k' = a_k (delta_kk' - a_k').

    ``z`` is ``(n,)``; returns ``(n, n)``, i.e. diag(a) - a a^T with a = softmax(z).
    It is symmetric.

    Implements: eq-softmax-jacobian
    """
    z = np.asarray(z)
    if z.ndim != 1:
        raise ValueError(f"z: expected one column of logits, shape (n,), got {z.shape}")
    a = softmax(z)
    return np.diag(a) - np.outer(a, a)

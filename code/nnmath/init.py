"""Starting parameters of a layer: the schemes of Part I and Part II, in one place.

Each initialiser maps ``(n_out, n_in, rng, dtype)`` to the weights ``W`` ``(n_out, n_in)``
and biases ``b`` ``(n_out, 1)`` of one layer. The numbers are drawn in float64 from
``rng`` and then rounded to ``dtype``, so a float32 and a float64 network made from the
same generator start from the same values.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import DTypeLike

__all__ = ["INITS", "he_init", "scaled_init", "uniform_init", "xavier_init"]

Initialiser = Callable[..., tuple[np.ndarray, np.ndarray]]


def uniform_init(
    n_out: int, n_in: int, rng: np.random.Generator, dtype: DTypeLike = np.float32
) -> tuple[np.ndarray, np.ndarray]:
    """The tutorials' start: weights ``(n_out, n_in)`` and biases ``(n_out, 1)``, all U[-0.5, 0.5).

    The numbers are drawn in float64 and then rounded to ``dtype``, so a float32 and a float64
    run from the same generator start from the same values.
    """
    W = (rng.random((n_out, n_in)) - 0.5).astype(dtype)
    b = (rng.random((n_out, 1)) - 0.5).astype(dtype)
    return W, b


def he_init(
    n_out: int, n_in: int, rng: np.random.Generator, dtype: DTypeLike = np.float32
) -> tuple[np.ndarray, np.ndarray]:
    """He initialisation: weights ``(n_out, n_in)`` from N(0, 2/n_in), biases ``(n_out, 1)`` zero.

    The variance 2/n_in keeps the size of the signal roughly constant through a ReLU layer
    (a ReLU passes on about half of its input's second moment).

    Implements: eq-init-he
    """
    W = (rng.standard_normal((n_out, n_in)) * np.sqrt(2.0 / n_in)).astype(dtype)
    b = np.zeros((n_out, 1), dtype=dtype)
    return W, b


def xavier_init(
    n_out: int, n_in: int, rng: np.random.Generator, dtype: DTypeLike = np.float32
) -> tuple[np.ndarray, np.ndarray]:
    """Glorot (Xavier) initialisation: weights ``(n_out, n_in)`` from N(0, 2/(n_in + n_out)).

    Biases ``(n_out, 1)`` are zero. The variance 2/(n_in + n_out) is the compromise Glorot
    and Bengio (2010) chose between keeping the forward signal's variance (1/n_in) and the
    backward gradient's (1/n_out) for a linear or tanh unit; a ReLU halves the signal, which
    is why :func:`he_init` uses 2/n_in instead.

    Implements: eq-init-xavier
    """
    std = np.sqrt(2.0 / (n_in + n_out))
    W = (rng.standard_normal((n_out, n_in)) * std).astype(dtype)
    b = np.zeros((n_out, 1), dtype=dtype)
    return W, b


def scaled_init(
    n_out: int,
    n_in: int,
    rng: np.random.Generator,
    dtype: DTypeLike = np.float32,
    scale: float = 0.01,
) -> tuple[np.ndarray, np.ndarray]:
    """The slides' start: weights ``(n_out, n_in)`` = ``scale`` x N(0, 1), biases zero.

    With ``scale = 0.01`` a ReLU layer multiplies the root-mean-square size of its input
    by about 0.01 sqrt(n_in / 2): 0.2 for 784 inputs, 0.08 for 128. Through 784-128-64-10
    the logits start about 1000 times smaller than the pixels, the softmax is nearly
    uniform, and the weight gradients are hundreds of times smaller than from He's start,
    so plain SGD at a small learning rate barely moves: the loss stays near
    log 10 = 2.30.
    """
    W = (rng.standard_normal((n_out, n_in)) * scale).astype(dtype)
    b = np.zeros((n_out, 1), dtype=dtype)
    return W, b


#: The starting schemes by name. "uniform" is Part I's U[-0.5, 0.5) for weights and biases.
INITS: dict[str, Initialiser] = {
    "he": he_init,
    "xavier": xavier_init,
    "uniform": uniform_init,
    "scaled": scaled_init,
}

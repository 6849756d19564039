"""Finite-difference gradient checks: is an analytic gradient right?

Compare a gradient computed by a formula with one measured by nudging each input in turn.
Run them in float64: with float32's 7 significant digits a nudge of 1e-6 is lost in rounding.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

__all__ = ["check_gradient", "numerical_gradient", "relative_error"]


def numerical_gradient(
    f: Callable[[np.ndarray], float], x: np.ndarray, eps: float = 1e-6
) -> np.ndarray:
    """Central differences: g_i = (f(x + eps e_i) - f(x - eps e_i)) / (2 eps) for every entry.

    ``f`` maps the array ``x`` (any shape, float64) to a scalar; returns an array shaped like
    ``x``. The error is O(eps^2) plus rounding of order (machine epsilon |f|) / eps. Each entry
    of ``x`` is nudged in place and restored, so ``f`` must read ``x`` afresh at each call
    (a closure over the same array does); ``x`` is unchanged afterwards.

    Implements: eq-central-diff
    """
    if not np.issubdtype(x.dtype, np.floating):
        raise TypeError(f"x: expected a floating-point array, got dtype {x.dtype}")
    grad = np.empty(x.shape, dtype=np.float64)
    flat_x, flat_grad = x.reshape(-1), grad.reshape(-1)
    if not np.shares_memory(flat_x, x):
        raise ValueError("x: expected an array whose entries can be nudged in place (contiguous)")
    for i in range(flat_x.size):
        saved = flat_x[i]
        flat_x[i] = saved + eps
        f_plus = f(x)
        flat_x[i] = saved - eps
        f_minus = f(x)
        flat_x[i] = saved
        flat_grad[i] = (f_plus - f_minus) / (2 * eps)
    return grad


def relative_error(a: np.ndarray, b: np.ndarray) -> float:
    """||a - b|| / max(||a|| + ||b||, tiny): 0 when equal, about 1 when unrelated.

    Norms are Euclidean over all entries; ``tiny`` (the smallest positive float64) only
    avoids 0/0 when both are zero.

    Implements: eq-relative-error
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"a and b: expected the same shape, got {a.shape} and {b.shape}")
    scale = max(float(np.linalg.norm(a) + np.linalg.norm(b)), np.finfo(np.float64).tiny)
    return float(np.linalg.norm(a - b)) / scale


def check_gradient(
    f: Callable[[np.ndarray], float], x: np.ndarray, analytic: np.ndarray, eps: float = 1e-6
) -> float:
    """Relative error between ``analytic`` and the central-difference gradient of ``f`` at ``x``.

    Below about 1e-7 in float64 the analytic gradient is right; above 1e-3 it is wrong.
    """
    analytic = np.asarray(analytic)
    if analytic.shape != x.shape:
        raise ValueError(f"analytic: expected the shape of x {x.shape}, got {analytic.shape}")
    return relative_error(analytic, numerical_gradient(f, x, eps))

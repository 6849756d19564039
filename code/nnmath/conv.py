"""Convolution and max pooling, forward and backward, in NumPy: the layers of Part V.

Images are ``(m, c, h, w)``: m examples, c channels (feature maps), h rows, w columns.
A convolution's weights W are ``(c_out, c_in, k_h, k_w)``, its biases b ``(c_out,)``.
As in every framework, the "convolution" is a cross-correlation (the kernel is not
flipped):

    Z[i, o, r, s] = b[o] + sum_{c, u, v} W[o, c, u, v] X_pad[i, c, r S + u, s S + v]

with stride S and X_pad the input with P rows and columns of zeros around it, so that
h_out = (h + 2P - k_h) // S + 1 (eq-conv). :func:`conv2d_loops` is that sum, written out;
:func:`conv2d` computes the same as one matrix product over unfolded patches
(:func:`im2col`, eq-conv-matrix). The backward pass is three products: dW
(:func:`conv2d_dw`, itself a correlation of the input with dZ), db (:func:`conv2d_db`)
and dX (:func:`conv2d_dx`: the transposed product folded back by :func:`col2im`).

Max pooling takes the largest value of each ``size x size`` window (windows do not
overlap); its backward pass sends each window's gradient to the position that won. When
a window holds two equal largest values, the first in row-major order (left to right,
then top to bottom) wins and gets all of it: the gradient of one of the choices that
the forward pass could have made.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

__all__ = [
    "col2im",
    "conv2d",
    "conv2d_backward",
    "conv2d_cols",
    "conv2d_db",
    "conv2d_dw",
    "conv2d_dx",
    "conv2d_loops",
    "im2col",
    "max_pool2d",
    "max_pool2d_backward",
    "output_size",
    "pool_winners",
]


# --------------------------------------------------------------------------- checks


def _images(name: str, X: np.ndarray) -> np.ndarray:
    """``X`` as a floating-point array ``(m, c, h, w)``, or a clear error."""
    X = np.asarray(X)
    if X.ndim != 4:
        raise ValueError(f"{name}: expected images (m, c, h, w), got shape {X.shape}")
    if not np.issubdtype(X.dtype, np.floating):
        raise TypeError(f"{name}: expected floating-point values, got dtype {X.dtype}")
    return X


def _geometry(stride: int, padding: int) -> None:
    if not (isinstance(stride, int | np.integer) and stride >= 1):
        raise ValueError(f"stride: expected a whole number >= 1, got {stride!r}")
    if not (isinstance(padding, int | np.integer) and padding >= 0):
        raise ValueError(f"padding: expected a whole number >= 0, got {padding!r}")


def output_size(n: int, k: int, stride: int = 1, padding: int = 0) -> int:
    """The output length (n + 2P - k) // S + 1 of a window k sliding over length n.

    Raises ValueError when the window is larger than the padded input.
    """
    _geometry(stride, padding)
    if k < 1 or k > n + 2 * padding:
        raise ValueError(
            f"kernel: expected a size from 1 to {n + 2 * padding} (input {n} with padding "
            f"{padding}), got {k}"
        )
    return (n + 2 * padding - k) // stride + 1


def _weights(W: np.ndarray, X: np.ndarray) -> np.ndarray:
    W = np.asarray(W)
    if W.ndim != 4 or W.shape[1] != X.shape[1]:
        raise ValueError(
            f"W: expected (c_out, {X.shape[1]}, k_h, k_w) for X with {X.shape[1]} channels, "
            f"got shape {W.shape}"
        )
    return W


def _pad(X: np.ndarray, padding: int) -> np.ndarray:
    """``X`` with ``padding`` rows and columns of zeros on every side (no copy for 0)."""
    if padding == 0:
        return X
    p = padding
    return np.pad(X, ((0, 0), (0, 0), (p, p), (p, p)))


# --------------------------------------------------------------------------- forward


def conv2d_loops(
    X: np.ndarray, W: np.ndarray, b: np.ndarray, stride: int = 1, padding: int = 0
) -> np.ndarray:
    """eq-conv as the sum it is: a loop over every output position (tiny inputs only).

    ``X`` ``(m, c_in, h, w)``, ``W`` ``(c_out, c_in, k_h, k_w)``, ``b`` ``(c_out,)``;
    returns ``Z`` ``(m, c_out, h_out, w_out)``. Each Z[:, :, r, s] is the window of the
    padded input at (r S, s S) multiplied by the weights and summed over c, u and v.

    Implements: eq-conv
    """
    X = _images("X", X)
    W = _weights(W, X)
    _, _, k_h, k_w = W.shape
    h_out = output_size(X.shape[2], k_h, stride, padding)
    w_out = output_size(X.shape[3], k_w, stride, padding)
    X_pad = _pad(X, padding)
    Z = np.empty((X.shape[0], W.shape[0], h_out, w_out), np.result_type(X, W))
    for r in range(h_out):
        for s in range(w_out):
            window = X_pad[:, :, r * stride : r * stride + k_h, s * stride : s * stride + k_w]
            Z[:, :, r, s] = np.einsum("icuv,ocuv->io", window, W) + b
    return Z


def im2col(X: np.ndarray, k_h: int, k_w: int, stride: int = 1, padding: int = 0) -> np.ndarray:
    """The patches of ``X`` as rows: ``(m h_out w_out, c k_h k_w)``.

    Row (i, r, s) holds the window of the padded input that output position (r, s) of
    example i reads, channel by channel, each channel's window row by row: the order of
    ``W.reshape(c_out, -1)``'s columns. The windows are a strided view of the input
    (``sliding_window_view``, no copy); the final reshape makes the one copy.
    """
    X = _images("X", X)
    m, c = X.shape[:2]
    h_out = output_size(X.shape[2], k_h, stride, padding)
    w_out = output_size(X.shape[3], k_w, stride, padding)
    windows = sliding_window_view(_pad(X, padding), (k_h, k_w), axis=(2, 3))
    windows = windows[:, :, ::stride, ::stride][:, :, :h_out, :w_out]  # (m, c, ho, wo, kh, kw)
    return windows.transpose(0, 2, 3, 1, 4, 5).reshape(m * h_out * w_out, c * k_h * k_w)


def conv2d(
    X: np.ndarray, W: np.ndarray, b: np.ndarray, stride: int = 1, padding: int = 0
) -> np.ndarray:
    """The convolution layer's pre-activation Z = im2col(X) W^T + b, as images.

    ``X`` ``(m, c_in, h, w)``, ``W`` ``(c_out, c_in, k_h, k_w)``, ``b`` ``(c_out,)``;
    returns ``Z`` ``(m, c_out, h_out, w_out)``, equal to :func:`conv2d_loops`.

    Implements: eq-conv-matrix
    """
    X = _images("X", X)
    W = _weights(W, X)
    c_out, _, k_h, k_w = W.shape
    b = np.asarray(b)
    if b.shape != (c_out,):
        raise ValueError(f"b: expected shape ({c_out},) for W {W.shape}, got {b.shape}")
    h_out = output_size(X.shape[2], k_h, stride, padding)
    w_out = output_size(X.shape[3], k_w, stride, padding)
    cols = im2col(X, k_h, k_w, stride, padding)
    return conv2d_cols(cols, W, b, (X.shape[0], h_out, w_out))


def conv2d_cols(
    cols: np.ndarray, W: np.ndarray, b: np.ndarray, out: tuple[int, int, int]
) -> np.ndarray:
    """eq-conv-matrix from patches already unfolded: ``cols`` = :func:`im2col` of X.

    ``out`` is ``(m, h_out, w_out)``; returns ``Z`` ``(m, c_out, h_out, w_out)``, a view
    of the product stored position by position (channels last in memory).
    """
    c_out = W.shape[0]
    Z = cols @ W.reshape(c_out, -1).T
    Z += b
    return Z.reshape(*out, c_out).transpose(0, 3, 1, 2)


# --------------------------------------------------------------------------- backward


def _rows(dZ: np.ndarray) -> np.ndarray:
    """dZ ``(m, c_out, h_out, w_out)`` as rows ``(m h_out w_out, c_out)``, like im2col's."""
    return dZ.transpose(0, 2, 3, 1).reshape(-1, dZ.shape[1])


def conv2d_dw(dZ: np.ndarray, cols: np.ndarray, w_shape: tuple[int, ...]) -> np.ndarray:
    """dW = dZ_rows^T im2col(X), reshaped to ``w_shape`` ``(c_out, c_in, k_h, k_w)``.

    ``dZ`` ``(m, c_out, h_out, w_out)``, ``cols`` = :func:`im2col` of the layer's input.
    Entry (o, c, u, v) sums dZ[i, o, r, s] X_pad[i, c, rS + u, sS + v] over i, r, s:
    a correlation of the input with dZ.

    Implements: eq-conv-dw
    """
    return (_rows(dZ).T @ cols).reshape(w_shape)


def conv2d_db(dZ: np.ndarray) -> np.ndarray:
    """db[o] = sum of dZ[i, o, r, s] over examples and positions: ``(c_out,)``.

    Implements: eq-conv-db
    """
    return dZ.sum(axis=(0, 2, 3))


def col2im(
    cols: np.ndarray, x_shape: tuple[int, ...], k_h: int, k_w: int, stride: int = 1,
    padding: int = 0,
) -> np.ndarray:
    """The adjoint of :func:`im2col`: add each patch row back where it was read.

    ``cols`` ``(m h_out w_out, c k_h k_w)``; returns ``(m, c, h, w)`` = ``x_shape``.
    Input pixels that several windows read collect the sum of their entries; the
    padding's entries are dropped. One pass per kernel offset (u, v): k_h k_w vectorised
    additions, no loop over examples or positions.
    """
    m, c, h, w = x_shape
    h_out = output_size(h, k_h, stride, padding)
    w_out = output_size(w, k_w, stride, padding)
    patches = cols.reshape(m, h_out, w_out, c, k_h, k_w).transpose(0, 3, 4, 5, 1, 2)
    out = np.zeros((m, c, h + 2 * padding, w + 2 * padding), cols.dtype)
    for u in range(k_h):
        for v in range(k_w):
            rows = slice(u, u + stride * h_out, stride)
            columns = slice(v, v + stride * w_out, stride)
            out[:, :, rows, columns] += patches[:, :, u, v]
    return out[:, :, padding : padding + h, padding : padding + w]


def conv2d_dx(
    dZ: np.ndarray, W: np.ndarray, x_shape: tuple[int, ...], stride: int = 1, padding: int = 0
) -> np.ndarray:
    """dX = col2im(dZ_rows W): the transposed product, folded back to ``x_shape``.

    ``dZ`` ``(m, c_out, h_out, w_out)``, ``W`` ``(c_out, c_in, k_h, k_w)``; returns
    ``(m, c_in, h, w)``.

    Implements: eq-conv-dx
    """
    c_out, _, k_h, k_w = W.shape
    return col2im(_rows(dZ) @ W.reshape(c_out, -1), x_shape, k_h, k_w, stride, padding)


def conv2d_backward(
    dZ: np.ndarray, X: np.ndarray, W: np.ndarray, stride: int = 1, padding: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(dX, dW, db)`` of a loss whose gradient with respect to ``conv2d(X, W, b)`` is dZ.

    ``dZ`` ``(m, c_out, h_out, w_out)``, ``X`` ``(m, c_in, h, w)``, ``W``
    ``(c_out, c_in, k_h, k_w)``; the gradients have the shapes of X, W and b.
    """
    X = _images("X", X)
    W = _weights(W, X)
    c_out, _, k_h, k_w = W.shape
    expected = (X.shape[0], c_out, output_size(X.shape[2], k_h, stride, padding),
                output_size(X.shape[3], k_w, stride, padding))
    dZ = np.asarray(dZ)
    if dZ.shape != expected:
        raise ValueError(f"dZ: expected shape {expected} (the output's), got {dZ.shape}")
    cols = im2col(X, k_h, k_w, stride, padding)
    return (conv2d_dx(dZ, W, X.shape, stride, padding), conv2d_dw(dZ, cols, W.shape),
            conv2d_db(dZ))


# --------------------------------------------------------------------------- pooling


def _windows(X: np.ndarray, size: int) -> np.ndarray:
    """``X`` ``(m, c, h, w)`` as its pooling windows ``(m, c, h/size, w/size, size^2)``."""
    X = _images("X", X)
    m, c, h, w = X.shape
    if not (isinstance(size, int | np.integer) and size >= 1) or h % size or w % size:
        raise ValueError(
            f"size: expected a whole number >= 1 that divides the image's {h} x {w}, "
            f"got {size!r}"
        )
    windows = X.reshape(m, c, h // size, size, w // size, size).transpose(0, 1, 2, 4, 3, 5)
    return windows.reshape(m, c, h // size, w // size, size * size)


def max_pool2d(X: np.ndarray, size: int = 2) -> np.ndarray:
    """The largest value of each ``size x size`` window: ``(m, c, h/size, w/size)``.

    Implements: eq-max-pool
    """
    return _windows(X, size).max(axis=-1)


def pool_winners(X: np.ndarray, size: int = 2) -> np.ndarray:
    """Which position of each window holds its largest value (0 .. size^2 - 1, row-major;
    the first of equal values): ``(m, c, h/size, w/size)`` integers."""
    return _windows(X, size).argmax(axis=-1)


def max_pool2d_backward(dA: np.ndarray, X: np.ndarray, size: int = 2) -> np.ndarray:
    """dX: each window's gradient dA at the position that won it, zero elsewhere.

    ``dA`` ``(m, c, h/size, w/size)``, ``X`` the pooled input ``(m, c, h, w)``; returns
    dX shaped like X. Ties: the first position in row-major order gets it all.

    Implements: eq-max-pool-backward
    """
    winners = pool_winners(X, size)
    dA = np.asarray(dA)
    if dA.shape != winners.shape:
        raise ValueError(f"dA: expected shape {winners.shape} (the output's), got {dA.shape}")
    m, c, h, w = X.shape
    grads = np.zeros((*winners.shape, size * size), np.result_type(dA, X))
    np.put_along_axis(grads, winners[..., None], dA[..., None], axis=-1)
    grads = grads.reshape(m, c, h // size, w // size, size, size).transpose(0, 1, 2, 4, 3, 5)
    return grads.reshape(m, c, h, w)

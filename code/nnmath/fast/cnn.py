"""The convolutional network's epoch, fast: maps stored channels last, 2 x 2 pooling by slices.

:func:`train_epoch` takes the arguments of :func:`nnmath.train.train_epoch` for a
:class:`~nnmath.cnn.CNN` and takes the same steps (the same batches, forward and backward
passes and optimiser updates) as the taught network, with the same parameters, arranged
for speed. Most of a taught step is spent moving memory, not multiplying: transposing
each product ``(m h w, c)`` into ``(m, c, h, w)`` and back, reducing tiny pooling windows,
gathering patches whose entries lie far apart. Here:

- maps are stored ``(m, h, w, c)``: a convolution's product ``(m h_out w_out, c_out)`` *is*
  its output, and dZ is already in the rows that dW and db need (no transpose);
- each patch row is ordered (u, v, c), so that col2im adds contiguous runs of channels,
  and the weights are reordered to match (a copy of a few thousand numbers);
- 2 x 2 max pooling is the largest of four strided slices, and its backward pass sends
  the gradient through four masks (the first of equal values wins, as in
  :func:`nnmath.conv.max_pool2d_backward`), elementwise, without index arrays;
- the fully connected layers compute in rows, ``A W^T`` (the book's W A, transposed).

``tests/test_cnn.py`` checks that the fast and the taught epochs give the same parameters
up to float32 rounding.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from nnmath.cnn import CNN, POOL
from nnmath.data import SIDE
from nnmath.optim import Optimizer

__all__ = ["backward", "forward", "train_epoch"]

Cache = dict[str, list[np.ndarray]]


def _patches(A: np.ndarray, k: int) -> np.ndarray:
    """im2col of maps ``(m, h, w, c)``: rows ``(m h_out w_out, k k c)``, ordered (u, v, c)."""
    windows = sliding_window_view(A, (k, k), axis=(1, 2))  # (m, ho, wo, c, u, v)
    m, h_out, w_out, c = windows.shape[:4]
    return windows.transpose(0, 1, 2, 4, 5, 3).reshape(m * h_out * w_out, k * k * c)


def _kernel_rows(W: np.ndarray) -> np.ndarray:
    """W ``(c_out, c_in, k, k)`` as ``(c_out, k k c_in)``, columns ordered (u, v, c)."""
    return W.transpose(0, 2, 3, 1).reshape(W.shape[0], -1)


def _pool(R: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    """2 x 2 max pooling of ``R`` ``(m, h, w, c)`` and the four winner masks."""
    corners = [R[:, u::POOL, v::POOL] for u in range(POOL) for v in range(POOL)]
    P = np.maximum(np.maximum(corners[0], corners[1]), np.maximum(corners[2], corners[3]))
    masks, taken = [], np.zeros(P.shape, bool)
    for corner in corners:  # row-major: the first position holding the maximum wins
        won = corner == P
        won &= ~taken
        taken |= won
        masks.append(won)
    return P, masks


def forward(model: CNN, X: np.ndarray) -> tuple[np.ndarray, Cache]:
    """Class probabilities ``(B, 10)`` of the batch ``X`` ``(B, 784)`` (rows), and the cache.

    The same arithmetic as :meth:`nnmath.cnn.CNN.forward`, stored channels last.
    """
    m, k = X.shape[0], model.kernel
    A = X.reshape(m, SIDE, SIDE, 1)
    cache: Cache = {"shape": [], "cols": [], "R": [], "masks": [], "F": []}
    for l in range(model.n_conv):
        h_out = A.shape[1] - k + 1
        cols = _patches(A, k)
        # Z = im2col(A) W^T + b (eq-conv-matrix), rows in (i, r, c) order = (m, h, w, c)
        Z = cols @ _kernel_rows(model.W[l]).T
        Z += model.b[l]
        R = np.maximum(Z, 0, out=Z).reshape(m, h_out, h_out, -1)  # ReLU, in place
        A, masks = _pool(R)  # eq-max-pool
        for key, value in (("shape", A.shape), ("cols", cols), ("R", R), ("masks", masks)):
            cache[key].append(value)
    cache["shape"][-1] = A.shape
    # flatten in the taught order (c, h, w), so that W[n_conv] is the same matrix
    F = A.transpose(0, 3, 1, 2).reshape(m, -1)
    for l in range(model.n_conv, model.L):
        cache["F"].append(F)
        # Z^T = F W^T + b^T (eq-layer-forward in rows), ReLU below the top
        Z = F @ model.W[l].T
        Z += model.b[l].T
        F = np.maximum(Z, 0, out=Z) if l < model.L - 1 else Z
    # the softmax of each row (eq-softmax), shifted by its largest logit
    F -= F.max(axis=1, keepdims=True)
    np.exp(F, out=F)
    F /= F.sum(axis=1, keepdims=True)
    return F, cache


def backward(model: CNN, probabilities: np.ndarray, y: np.ndarray, cache: Cache) -> None:
    """Write the gradients of the batch's mean loss into ``model.dW`` and ``model.db``.

    ``probabilities`` ``(B, 10)`` from :func:`forward` (overwritten), ``y`` ``(B,)``.
    """
    m = y.shape[0]
    # dZ[L]^T = A[L]^T - Y^T (eq-softmax-ce-grad), rows
    dZ = probabilities
    dZ[np.arange(m), y] -= 1
    for l in reversed(range(model.n_conv, model.L)):
        F = cache["F"][l - model.n_conv]
        # dW[l] = (1/m) dZ[l] A[l-1]^T, db[l] = (1/m) dZ[l] 1 (eq-layer-dw, eq-layer-db)
        np.matmul(dZ.T, F, out=model.dW[l])
        model.dW[l] /= m
        model.db[l][:, 0] = dZ.sum(axis=0) / m
        dF = dZ @ model.W[l]  # W[l]^T dZ[l], in rows
        if l > model.n_conv:
            dF *= F > 0  # ReLU'(Z[l-1]) (eq-layer-dz)
        dZ = dF
    dA = dZ.reshape(m, model.channels[-1], *cache["shape"][-1][1:3]).transpose(0, 2, 3, 1)
    k = model.kernel
    for l in reversed(range(model.n_conv)):
        R, cols = cache["R"][l], cache["cols"][l]
        # pooling backward: each window's gradient at its winner (eq-max-pool-backward)
        dR = np.zeros_like(R)
        corners = [(u, v) for u in range(POOL) for v in range(POOL)]
        for (u, v), mask in zip(corners, cache["masks"][l], strict=True):
            np.multiply(dA, mask, out=dR[:, u::POOL, v::POOL])
        dR *= R > 0  # ReLU'(Z)
        rows = dR.reshape(-1, dR.shape[3])  # dZ as (m h w, c_out): no copy
        c_out, c_in = model.W[l].shape[:2]
        # dW = dZ_rows^T im2col(A) (eq-conv-dw), back from (u, v, c) order; db (eq-conv-db)
        dW = (rows.T @ cols).reshape(c_out, k, k, c_in)
        model.dW[l][...] = dW.transpose(0, 3, 1, 2) / m
        model.db[l][...] = rows.sum(axis=0) / m
        if l > 0:
            # dX = col2im(dZ_rows W) (eq-conv-dx): add each patch back where it was read
            h, w = R.shape[1:3]
            patches = (rows @ _kernel_rows(model.W[l])).reshape(m, h, w, k, k, c_in)
            dA = np.zeros((m, h + k - 1, w + k - 1, c_in), R.dtype)
            for u in range(k):
                for v in range(k):
                    dA[:, u : u + h, v : v + w] += patches[:, :, :, u, v]


def train_epoch(
    model: CNN,
    optimizer: Optimizer,
    X: np.ndarray,
    y: np.ndarray,
    batch_size: int,
    rng: np.random.Generator,
) -> tuple[float, float]:
    """:func:`nnmath.train.train_epoch` for a CNN, faster; returns the (loss, accuracy).

    ``X`` is ``(784, m)`` in the model's dtype (fastest when ``X.T`` is C-contiguous),
    ``y`` ``(m,)``; no checks here (``fit`` checks once).
    """
    m = X.shape[1]
    rows = np.ascontiguousarray(X.T)  # example i is row i
    order = rng.permutation(m)  # the order of this epoch
    loss_sum = correct = 0.0
    for start in range(0, m, batch_size):
        batch = order[start : start + batch_size]
        y_batch = y[batch]
        P, cache = forward(model, rows[batch])
        picked = P[np.arange(batch.size), y_batch]
        # B L and the hits (eq-cross-entropy, eq-accuracy), as the taught epoch counts them
        loss_sum -= float(np.log(np.maximum(picked, np.finfo(P.dtype).tiny)).sum())
        correct += int(np.count_nonzero(P.argmax(axis=1) == y_batch))
        backward(model, P, y_batch, cache)
        optimizer.step(model.params, model.gradients)
    return loss_sum / m, correct / m

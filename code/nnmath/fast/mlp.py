"""One epoch of mini-batch training, fast: a flat parameter vector and a reused batch buffer.

:func:`train_epoch` takes the arguments of :func:`nnmath.train.train_epoch` and takes the
same steps (the same order, the same forward and backward passes, the same optimiser
update), arranged for speed:

- the examples are read as rows of ``X.T`` (C-contiguous), so a mini-batch's columns are
  whole rows, gathered by one ``np.take`` into a buffer reused batch after batch;
  :func:`nnmath.train.fit` stores ``X`` so that ``X.T`` is already C-contiguous;
- during the epoch the parameters and the gradients live in two flat vectors
  (:func:`flattened`, an explicit opt-in for the length of the epoch), so the optimiser
  updates all of them in a handful of array operations instead of a handful per array.
  Every update rule of :mod:`nnmath.optim` is elementwise: the same arithmetic;
- for a plain :class:`~nnmath.mlp.MLP` (no dropout, no L2), :class:`Workspace` holds every
  array a batch needs, allocated once an epoch, and :func:`train_step` writes each
  product, activation and gradient into it (``out=``), with none of the taught methods'
  checks: the same operations in the same order, so the same numbers.

``tests/test_train.py`` checks that the two epochs give the same parameters.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np

from nnmath.losses import cross_entropy
from nnmath.metrics import accuracy
from nnmath.mlp import MLP
from nnmath.optim import Adam, Optimizer

__all__ = ["Workspace", "adam_step", "flattened", "train_epoch", "train_step"]


@contextmanager
def flattened(model: MLP) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Inside: ``model``'s parameters and gradients live in two flat vectors, yielded.

    The vectors are ordered W1, b1, W2, b2, ... (raveled). Inside the ``with`` block
    ``model.W[l]``, ``model.b[l]``, ``model.dW[l]`` and ``model.db[l]`` are views into
    them, so :meth:`~nnmath.mlp.MLP.backward` writes into the gradient vector and an
    optimiser step on the parameter vector updates the network. On leaving, the values
    are copied back into the model's own arrays, which are bound again: outside the block
    the network is exactly as before, arrays and all, with the new values.
    """
    lists = (model.W, model.b, model.dW, model.db)
    own = [list(arrays) for arrays in lists]
    params = model.flat_params()
    grads = np.zeros_like(params)
    start = 0
    for l in range(model.L):
        for arrays, gradients in ((model.W, model.dW), (model.b, model.db)):
            shape, stop = arrays[l].shape, start + arrays[l].size
            arrays[l] = params[start:stop].reshape(shape)
            gradients[l] = grads[start:stop].reshape(shape)
            start = stop
    try:
        yield params, grads
    finally:
        for arrays, originals in zip(lists, own, strict=True):
            for l, original in enumerate(originals):
                original[...] = arrays[l]
                arrays[l] = original


def _optimiser_arrays(
    model: MLP, optimizer: Optimizer, params: np.ndarray, grads: np.ndarray
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """What ``optimizer`` steps: the flat vectors, unless its state was already made for
    the separate arrays (then those arrays, inside :func:`flattened` views of the vectors)."""
    state = optimizer.state
    if state is None or len(state) == 1:
        return [params], [grads]
    return model.params, model.gradients


class Workspace:
    """Every array one batch of ``B`` columns needs, for a network of ``sizes``.

    ``Z[l]`` ``(n_{l+1}, B)`` holds layer l + 1's Z (the top layer's becomes its softmax,
    then dZ[L]); ``A[l]``, ``dA[l]`` ``(n_{l+1}, B)`` and ``mask[l]`` (bool) serve hidden
    layer l + 1.
    """

    def __init__(self, sizes: tuple[int, ...], B: int, dtype: np.dtype) -> None:
        self.B = B
        self.Z = [np.empty((n, B), dtype) for n in sizes[1:]]
        self.A = [np.empty((n, B), dtype) for n in sizes[1:-1]]
        self.dA = [np.empty((n, B), dtype) for n in sizes[1:-1]]
        self.mask = [np.empty((n, B), bool) for n in sizes[1:-1]]
        self.columns = np.arange(B)
        self.tiny = np.finfo(dtype).tiny


def train_step(
    model: MLP, work: Workspace, X_batch: np.ndarray, y_batch: np.ndarray
) -> tuple[float, int]:
    """Forward and backward for one batch, into ``work`` and ``model.dW``, ``model.db``.

    ``X_batch`` is ``(n_0, B)``, ``y_batch`` ``(B,)``, with B = ``work.B``. The steps and
    their order are :meth:`nnmath.mlp.MLP.forward` then :meth:`~nnmath.mlp.MLP.backward`
    (eq-layer-forward, eq-softmax, eq-layer-dw, eq-layer-db, eq-layer-dz). Returns the
    batch's summed loss and its number of hits.
    """
    L, B = model.L, work.B
    A_prev = X_batch
    for l in range(L):
        Z = np.matmul(model.W[l], A_prev, out=work.Z[l])
        Z += model.b[l]
        if l < L - 1:
            A_prev = np.maximum(Z, 0, out=work.A[l])
    P = work.Z[L - 1]  # the softmax, in place
    P -= P.max(axis=0, keepdims=True)
    np.exp(P, out=P)
    P /= P.sum(axis=0, keepdims=True)
    hits = int(np.count_nonzero(P.argmax(axis=0) == y_batch))
    p = np.maximum(P[y_batch, work.columns], work.tiny)
    loss = float(-np.log(p).sum() / B) * B
    P[y_batch, work.columns] -= 1  # dZ[L] = A[L] - Y
    dZ = P
    for l in reversed(range(L)):
        A_prev = work.A[l - 1] if l > 0 else X_batch
        np.matmul(dZ, A_prev.T, out=model.dW[l])
        model.dW[l] /= B
        np.sum(dZ, axis=1, keepdims=True, out=model.db[l])
        model.db[l] /= B
        if l > 0:
            dA = np.matmul(model.W[l].T, dZ, out=work.dA[l - 1])
            np.greater(work.Z[l - 1], 0, out=work.mask[l - 1])
            dA *= work.mask[l - 1]
            dZ = dA
    return loss, hits


def adam_step(
    optimizer: Adam, params: np.ndarray, grads: np.ndarray, scratch: np.ndarray
) -> None:
    """:meth:`Adam.step <nnmath.optim.Optimizer.step>` on one flat vector, into ``scratch``.

    ``scratch`` is ``(2, n)`` for ``params`` and ``grads`` ``(n,)``. The arithmetic of
    eq-adam-moments, eq-adam-bias-correction and eq-adam-update, in their order, with
    every intermediate written into the scratch rows instead of new arrays.
    """
    if optimizer.state is None:
        optimizer.state = [{name: np.zeros_like(params) for name in optimizer.slots}]
    optimizer.t += 1
    m, v = optimizer.state[0]["m"], optimizer.state[0]["v"]
    b1, b2, t = optimizer.beta1, optimizer.beta2, optimizer.t
    s1, s2 = scratch
    m *= b1
    m += np.multiply(grads, 1 - b1, out=s1)
    v *= b2
    np.square(grads, out=s1)
    v += np.multiply(s1, 1 - b2, out=s1)
    np.divide(m, 1 - b1**t, out=s1)  # m_hat
    np.divide(v, 1 - b2**t, out=s2)  # v_hat
    np.sqrt(s2, out=s2)
    s2 += optimizer.eps
    np.divide(s1, s2, out=s2)
    s2 *= optimizer.lr
    params -= s2


def train_epoch(
    model: MLP,
    optimizer: Optimizer,
    X: np.ndarray,
    y: np.ndarray,
    batch_size: int,
    rng: np.random.Generator,
) -> tuple[float, float]:
    """:func:`nnmath.train.train_epoch`, faster; returns the epoch's (loss, accuracy).

    ``X`` is ``(n_0, m)`` in the model's dtype (fastest when ``X.T`` is C-contiguous, as
    :func:`nnmath.train.fit` makes it), ``y`` ``(m,)``; no checks here (``fit`` checks once).
    """
    m = X.shape[1]
    # X^T: example i is row i, so the columns of a batch are whole rows
    rows = np.ascontiguousarray(X.T)
    buffer = np.empty((min(batch_size, m), rows.shape[1]), dtype=model.dtype)
    # the order of this epoch: a random permutation of the m examples
    order = rng.permutation(m)
    loss_sum = correct = 0.0
    plain = type(model) is MLP  # dropout and L2 take the taught methods
    workspaces: dict[int, Workspace] = {}
    with flattened(model) as (params, grads):
        steps = _optimiser_arrays(model, optimizer, params, grads)
        fused_adam = type(optimizer) is Adam and steps[0][0] is params
        scratch = np.empty((2, params.size), params.dtype) if fused_adam else None
        for start in range(0, m, batch_size):
            batch = order[start : start + batch_size]
            # X_B, the batch's columns (n_0, B): rows gathered into the buffer, seen transposed
            X_batch = np.take(rows, batch, axis=0, out=buffer[: batch.size], mode="clip").T
            y_batch = y[batch]
            if plain:
                if batch.size not in workspaces:
                    workspaces[batch.size] = Workspace(model.sizes, batch.size, model.dtype)
                # forward (eq-layer-forward) and backward, into the workspace and dW, db
                loss, hits = train_step(model, workspaces[batch.size], X_batch, y_batch)
                loss_sum += loss
                correct += hits
            else:
                # A[L] of the batch (eq-layer-forward), dropout on while training
                A = model.forward(X_batch, train=True)
                # B L and the number of hits on the batch (eq-cross-entropy, eq-accuracy)
                loss_sum += cross_entropy(A, y_batch) * batch.size
                correct += accuracy(y_batch, A.argmax(axis=0)) * batch.size
                # dW[l], db[l] of the batch's mean loss, written into the flat gradients
                model.backward(y_batch)
            # theta := update(theta, d theta) for every parameter at once (eq-sgd, ...)
            if scratch is not None:
                adam_step(optimizer, params, grads, scratch)
            else:
                optimizer.step(*steps)
    return loss_sum / m, correct / m

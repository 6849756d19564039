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
  Every update rule of :mod:`nnmath.optim` is elementwise: the same arithmetic.

``tests/test_train.py`` checks that the two epochs give the same parameters.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np

from nnmath.losses import cross_entropy
from nnmath.metrics import accuracy
from nnmath.mlp import MLP
from nnmath.optim import Optimizer

__all__ = ["flattened", "train_epoch"]


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
    with flattened(model) as (params, grads):
        steps = _optimiser_arrays(model, optimizer, params, grads)
        for start in range(0, m, batch_size):
            batch = order[start : start + batch_size]
            # X_B, the batch's columns (n_0, B): rows gathered into the buffer, seen transposed
            X_batch = np.take(rows, batch, axis=0, out=buffer[: batch.size], mode="clip").T
            y_batch = y[batch]
            # A[L] of the batch (eq-layer-forward), dropout on while training
            A = model.forward(X_batch, train=True)
            # B L and the number of hits on the batch (eq-cross-entropy, eq-accuracy)
            loss_sum += cross_entropy(A, y_batch) * batch.size
            correct += accuracy(y_batch, A.argmax(axis=0)) * batch.size
            # dW[l], db[l] of the batch's mean loss, written into the flat gradient vector
            model.backward(y_batch)
            # theta := update(theta, d theta) for every parameter at once (eq-sgd, ...)
            optimizer.step(*steps)
    return loss_sum / m, correct / m

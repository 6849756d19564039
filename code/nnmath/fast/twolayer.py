"""Part I's full-batch gradient, fast: blocks of examples, summed in threads.

The mathematics is :func:`nnmath.twolayer.backward_prop` on the whole training set; only
the arrangement differs. The gradient is a sum over examples, so it can be summed block by
block in any order, and a pixel equal to 0 adds nothing to W1 x nor to dW1 = dZ1 X^T:

1. :func:`split_blocks` cuts ``X`` once into blocks of about a thousand images, grouped by
   label and keeping only the pixels that are not blank in all of a block's images;
2. :func:`block_sums` runs the forward and backward passes over blocks, one at a time,
   each block small enough to stay in the processor's cache between W1 X and dZ1 X^T;
3. :func:`gradient_pass` sums the blocks in several threads, each on one BLAS thread (with
   ten rows the products are too small to share well between cores).

:func:`gradient_descent` takes the arguments of :func:`nnmath.twolayer.gradient_descent`
(plus ``block_size`` and ``workers``) and gives the same parameters up to the rounding of
the order of a sum; ``tests/test_twolayer.py`` checks that the two agree.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import Executor, ThreadPoolExecutor
from contextlib import contextmanager
from typing import NamedTuple

import numpy as np
from numpy.typing import DTypeLike

from nnmath import checks
from nnmath.activations import relu, softmax
from nnmath.fast import blas_threads
from nnmath.losses import cross_entropy
from nnmath.metrics import accuracy
from nnmath.twolayer import (
    SIZES,
    Params,
    Record,
    Scheme,
    check_layers,
    check_training,
    get_predictions,
    hidden_delta,
    init_params,
    linear,
    recorder,
    update_params,
)

__all__ = [
    "Block",
    "Sums",
    "block_sums",
    "full_batch_gradient",
    "gradient_descent",
    "gradient_pass",
    "split_blocks",
    "thread_shares",
]


class Block(NamedTuple):
    """A block of training examples, prepared by :func:`split_blocks`."""

    pixels: np.ndarray  # (P_kept,) indices of the rows of X (pixels) that the block keeps
    X: np.ndarray  # (P_kept, B) those pixels of the block's B images, column by column
    Y: np.ndarray  # (B,) the block's labels
    Y_onehot: np.ndarray  # (n_y, B) the same labels one-hot, made once for every iteration


def split_blocks(
    X: np.ndarray,
    Y: np.ndarray,
    block_size: int = 1024,
    dtype: DTypeLike = np.float32,
    n_classes: int = SIZES[2],
) -> list[Block]:
    """Cut ``X`` ``(n_x, m)`` and ``Y`` ``(m,)`` into blocks of columns for fast gradients.

    Three choices make :func:`block_sums` faster without changing its mathematics:

    1. the examples are grouped by label, so a block holds similar images with many blank
       pixels in common (the order of the terms of a sum does not matter);
    2. a block keeps only the pixels that are nonzero in at least one of its images (about
       70% of them on MNIST), padded with blank ones to a multiple of 16 rows (64-byte
       aligned columns, which BLAS was measured to handle faster);
    3. a block is stored column by column, in ``dtype``: one piece of memory, small enough
       (about 2 MB for 1,024 MNIST images in float32) to stay in the cache between the
       forward product and the backward one.

    Returns the list of :class:`Block`; every example is in exactly one block.
    """
    order = np.argsort(Y, kind="stable")
    eye = np.eye(n_classes, dtype=dtype)
    blocks = []
    for start in range(0, len(order), block_size):
        columns = order[start : start + block_size]
        X_block = X[:, columns]
        kept = X_block.any(axis=1)
        missing = -np.count_nonzero(kept) % 16
        kept[np.flatnonzero(~kept)[:missing]] = True
        pixels = np.flatnonzero(kept)
        Y_block = Y[columns]
        blocks.append(Block(pixels, np.asfortranarray(X_block[pixels], dtype=dtype), Y_block,
                            np.ascontiguousarray(eye[:, Y_block])))
    return blocks


class Sums(NamedTuple):
    """Sums over the examples of some blocks: the gradients times m, the loss, the hits."""

    dW1_T: np.ndarray  # (n_x, n_h), m dW1 transposed
    db1: np.ndarray  # m db1
    dW2: np.ndarray  # m dW2
    db2: np.ndarray  # m db2
    loss: float  # m L, the summed cross-entropy (only with_stats)
    correct: float  # the number of correct predictions (only with_stats)


def block_sums(params: Params, blocks: list[Block], with_stats: bool = False) -> Sums:
    """Forward and backward passes over ``blocks``, one at a time, their gradients summed.

    The equations of :func:`~nnmath.twolayer.forward_prop` and
    :func:`~nnmath.twolayer.backward_prop`, each summed over the examples instead of
    averaged (:func:`gradient_pass` divides by m once). No shape checks: callers check once.
    """
    W1, b1, W2, b2 = params
    dW1_T = np.zeros((W1.shape[1], W1.shape[0]), dtype=W1.dtype)
    db1, dW2, db2 = np.zeros_like(b1), np.zeros_like(W2), np.zeros_like(b2)
    loss, correct = 0.0, 0.0
    for pixels, Xb, Yb, Yb_onehot in blocks:
        # Z1 = W1 X + b1 (eq-z1) over the block's pixels only (the others multiply 0),
        # computed as (X^T W1^T)^T: the orientation BLAS runs fastest here.
        Z1 = (Xb.T @ W1[:, pixels].T).T + b1
        # A1 = ReLU(Z1) (eq-relu)
        A1 = relu(Z1)
        # A2 = softmax(W2 A1 + b2) (eq-z2, eq-softmax)
        A2 = softmax(linear(W2, A1, b2))
        if with_stats:
            # m L = sum_i -log A2[y_i, i] (eq-cross-entropy); the number of hits (eq-accuracy)
            loss += cross_entropy(A2, Yb) * Yb.size
            correct += accuracy(Yb, get_predictions(A2)) * Yb.size
        # dZ2 = A2 - Y (eq-dz2), in place of A2
        dZ2 = np.subtract(A2, Yb_onehot, out=A2)
        # m dW2 += dZ2 A1^T, m db2 += the row sums of dZ2 (eq-dw2, eq-db2)
        dW2 += dZ2 @ A1.T
        db2 += dZ2.sum(axis=1, keepdims=True)
        # dZ1 = (W2^T dZ2) * ReLU'(Z1) (eq-dz1)
        dZ1 = hidden_delta(W2, dZ2, Z1)
        # m dW1^T += X dZ1^T over the block's pixels, m db1 += the row sums of dZ1
        # (eq-dw1, eq-db1)
        dW1_T[pixels] += Xb @ dZ1.T
        db1 += dZ1.sum(axis=1, keepdims=True)
    return Sums(dW1_T, db1, dW2, db2, loss, correct)


def gradient_pass(
    params: Params, shares: list[list[Block]], pool: Executor, with_stats: bool = False
) -> tuple[Params, tuple[float, float] | None]:
    """Full-batch gradients ``dW1, db1, dW2, db2``; optionally also the loss and accuracy.

    Each of the ``pool``'s threads sums one share of the blocks (:func:`block_sums`); the
    shares are added in a fixed order and divided by m. Same mathematics as
    :func:`~nnmath.twolayer.backward_prop` on the whole batch.
    """
    parts = list(pool.map(lambda share: block_sums(params, share, with_stats), shares))
    total = parts[0]
    for part in parts[1:]:
        # the sums of the shares add up to the sums over all the blocks
        total = Sums(*(a + b for a, b in zip(total, part, strict=True)))
    m = sum(block.Y.size for share in shares for block in share)
    # dW = (1/m) sum_i dW_i (eq-dw1, eq-db1, eq-dw2, eq-db2); dW1 back from dW1^T
    grads = (total.dW1_T.T / m, total.db1 / m, total.dW2 / m, total.db2 / m)
    return grads, ((total.loss / m, total.correct / m) if with_stats else None)


@contextmanager
def thread_shares(blocks: list[Block], count: int) -> Iterator[tuple[list[list[Block]], Executor]]:
    """``count`` threads, each with its share of ``blocks`` (every ``count``-th one).

    Inside, matrix products run on one BLAS thread each: with ten rows they are too small
    to share well between cores, so the threads work on different blocks instead.
    """
    shares = [blocks[i::count] for i in range(count)]
    with blas_threads(1), ThreadPoolExecutor(count) as pool:
        yield shares, pool


def full_batch_gradient(
    W1: np.ndarray,
    b1: np.ndarray,
    W2: np.ndarray,
    b2: np.ndarray,
    X: np.ndarray,
    Y: np.ndarray,
    *,
    block_size: int = 1024,
    workers: int = 2,
) -> Params:
    """``dW1, db1, dW2, db2`` for the whole of ``X`` ``(n_x, m)``, ``Y`` ``(m,)``, in blocks.

    Equal, up to rounding, to ``backward_prop(*forward_prop(W1, b1, W2, b2, X), W1, W2, X,
    Y)``, without ever holding the ``(n_h, m)`` intermediates of the whole batch; see
    :func:`split_blocks` for how the blocks are made. :func:`gradient_descent` splits once
    and reuses the blocks at every iteration.
    """
    W1, b1, W2, b2, X = map(np.asarray, (W1, b1, W2, b2, X))
    check_layers(W1, b1, W2, b2, X)
    Y = checks.labels(Y, X.shape[1], W2.shape[0], name="Y", context=f"to match X {X.shape}")
    checks.integer("block_size", block_size, 1)
    checks.integer("workers", workers, 1)
    blocks = split_blocks(X, Y, block_size, W1.dtype, W2.shape[0])
    with thread_shares(blocks, workers) as (shares, pool):
        grads, _ = gradient_pass((W1, b1, W2, b2), shares, pool)
    return grads


def gradient_descent(
    X: np.ndarray,
    Y: np.ndarray,
    alpha: float,
    iterations: int,
    *,
    seed: int = 0,
    scheme: Scheme = "uniform",
    dtype: DTypeLike = np.float32,
    sizes: tuple[int, int, int] = SIZES,
    X_dev: np.ndarray | None = None,
    y_dev: np.ndarray | None = None,
    history: list[Record] | None = None,
    callback: Callable[[Record], None] | None = None,
    record_every: int = 10,
    progress: bool = False,
    block_size: int = 1024,
    workers: int = 2,
) -> Params:
    """:func:`nnmath.twolayer.gradient_descent`, with the gradient summed in blocks and threads.

    Same arguments and records; ``X`` is cut once into blocks of ``block_size`` columns in
    ``dtype`` (:func:`split_blocks`) and each iteration sums the gradient block by block in
    ``workers`` threads (:func:`gradient_pass`). The training loss and accuracy of a record
    come from the blocks' forward passes. Deterministic; ``workers`` changes the result only
    by the rounding of the order of a sum.
    """
    X, Y, X_dev, y_dev = check_training(X, Y, alpha, iterations, record_every, X_dev, y_dev,
                                        sizes, dtype)
    checks.integer("block_size", block_size, 1)
    checks.integer("workers", workers, 1)
    log = recorder(X_dev, y_dev, history, callback, progress)
    blocks = split_blocks(X, Y, block_size, dtype, sizes[2])
    W1, b1, W2, b2 = init_params(seed=seed, scheme=scheme, dtype=dtype, sizes=sizes)
    with thread_shares(blocks, workers) as (shares, pool):
        for i in range(iterations):
            with_stats = log is not None and i % record_every == 0
            # the gradient of the mean loss over all the examples (eq-dw1 ... eq-db2)
            grads, stats = gradient_pass((W1, b1, W2, b2), shares, pool, with_stats)
            if stats is not None:
                log(i, stats, (W1, b1, W2, b2))
            # theta := theta - alpha d(theta) (eq-update)
            W1, b1, W2, b2 = update_params(W1, b1, W2, b2, *grads, alpha)
        if log is not None:  # the state after the last update
            _, stats = gradient_pass((W1, b1, W2, b2), shares, pool, with_stats=True)
            log(iterations, stats, (W1, b1, W2, b2))
    return W1, b1, W2, b2

"""Part I's two-layer network, 784-10-10, one function per equation.

Column convention: an example is a column. ``X`` is ``(784, m)``; ``W1`` ``(10, 784)``,
``b1`` ``(10, 1)``, ``Z1`` and ``A1`` ``(10, m)``; ``W2`` ``(10, 10)``, ``b2`` ``(10, 1)``,
``Z2`` and ``A2`` ``(10, m)``. Labels ``Y`` are integers, shape ``(m,)``; the one-hot matrix of
the equations is never built. The names and argument order are the tutorials' ones.

Everything follows the dtype of its inputs: float32 for training (the default of
:func:`init_params` and :func:`gradient_descent`), float64 for gradient checks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import Executor, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Literal, NamedTuple

import numpy as np
from numpy.typing import DTypeLike
from threadpoolctl import threadpool_limits

from nnmath import seeding
from nnmath.activations import relu, relu_deriv, softmax
from nnmath.losses import check_labels, cross_entropy, softmax_cross_entropy_grad

__all__ = [
    "Block",
    "Record",
    "backward_prop",
    "bias_gradient",
    "forward_prop",
    "full_batch_gradient",
    "get_accuracy",
    "get_predictions",
    "gradient_descent",
    "he_init",
    "hidden_delta",
    "init_params",
    "linear",
    "make_predictions",
    "split_blocks",
    "uniform_init",
    "update_params",
    "weight_gradient",
]

Params = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]
Scheme = Literal["uniform", "he"]

#: Layer widths of Part I's network: 784 pixels, 10 hidden units, 10 classes.
SIZES = (784, 10, 10)


# --------------------------------------------------------------------------- shape checks


def _expect(name: str, array: np.ndarray, shape: tuple[int | str, ...], context: str) -> None:
    """Raise ``ValueError`` unless ``array`` has ``shape`` (a str entry matches any length)."""
    ok = array.ndim == len(shape) and all(
        isinstance(want, str) or want == got
        for want, got in zip(shape, array.shape, strict=True)
    )
    if not ok:
        shown = ", ".join(map(str, shape)) + ("," if len(shape) == 1 else "")
        raise ValueError(f"{name}: expected ({shown}) {context}, got {array.shape}")


def _check_params(W1: np.ndarray, b1: np.ndarray, W2: np.ndarray, b2: np.ndarray) -> None:
    """Check that the four parameters fit together; the shapes are read off ``W1``."""
    if W1.ndim != 2:
        raise ValueError(f"W1: expected (n_hidden, n_inputs), got {W1.shape}")
    h = W1.shape[0]
    _expect("b1", b1, (h, 1), f"to match W1 {W1.shape}")
    _expect("W2", W2, ("n_out", h), f"to match W1 {W1.shape}")
    _expect("b2", b2, (W2.shape[0], 1), f"to match W2 {W2.shape}")


def _check_pixels(name: str, X: np.ndarray) -> np.ndarray:
    """Check that ``X`` holds images as columns of scaled pixels, ``(784, m)`` floats."""
    X = np.asarray(X)
    _expect(name, X, (SIZES[0], "m"), "with one column per image (see nnmath.data.to_columns)")
    if not np.issubdtype(X.dtype, np.floating):
        raise TypeError(
            f"{name}: expected floating-point pixels scaled to [0, 1] (see "
            f"nnmath.data.scale_pixels), got dtype {X.dtype}"
        )
    return X


def _check_positive(**values: int) -> None:
    """Raise ``ValueError`` naming the first of ``values`` that is not an integer >= 1."""
    for name, value in values.items():
        if int(value) != value or value < 1:
            raise ValueError(f"{name}: expected an integer >= 1, got {value!r}")


def _check_input(X: np.ndarray, W1: np.ndarray) -> None:
    """Check that ``X`` has one column per example, with as many rows as ``W1`` has columns."""
    _expect("X", X, (W1.shape[1], "m"), f"to match W1 {W1.shape}")


# --------------------------------------------------------------------------- forward


def linear(W: np.ndarray, A_prev: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pre-activation of a layer: Z = W A_prev + b, the bias broadcast over the columns.

    ``W`` is ``(n, n_prev)``, ``A_prev`` ``(n_prev, m)``, ``b`` ``(n, 1)``; returns ``(n, m)``.

    Implements: eq-z1, eq-z2
    """
    return W @ A_prev + b


def forward_prop(
    W1: np.ndarray, b1: np.ndarray, W2: np.ndarray, b2: np.ndarray, X: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The forward pass: Z1 = W1 X + b1, A1 = ReLU(Z1), Z2 = W2 A1 + b2, A2 = softmax(Z2).

    ``X`` is ``(784, m)``; returns ``Z1, A1, Z2, A2``, each ``(10, m)``. Raises
    ``ValueError`` naming the expected and received shapes when they do not fit.
    """
    W1, b1, W2, b2, X = map(np.asarray, (W1, b1, W2, b2, X))
    _check_params(W1, b1, W2, b2)
    _check_input(X, W1)
    Z1 = linear(W1, X, b1)
    A1 = relu(Z1)
    Z2 = linear(W2, A1, b2)
    A2 = softmax(Z2)
    return Z1, A1, Z2, A2


# --------------------------------------------------------------------------- backward


def weight_gradient(dZ: np.ndarray, A_prev: np.ndarray) -> np.ndarray:
    """Gradient of the mean loss with respect to a weight matrix: dW = (1/m) dZ A_prev^T.

    ``dZ`` is ``(n, m)`` (per-example gradients w.r.t. the layer's Z), ``A_prev``
    ``(n_prev, m)``; returns ``(n, n_prev)``, the shape of W. The product sums the m
    per-example outer products dz_i a_i^T; dividing by m averages them.

    Implements: eq-dw2, eq-dw1
    """
    return dZ @ A_prev.T / dZ.shape[1]


def bias_gradient(dZ: np.ndarray) -> np.ndarray:
    """Gradient of the mean loss with respect to a bias: db = (1/m) sum over the columns of dZ.

    ``dZ`` is ``(n, m)``; returns ``(n, 1)``, the shape of b.

    Implements: eq-db2, eq-db1
    """
    return dZ.sum(axis=1, keepdims=True) / dZ.shape[1]


def hidden_delta(W2: np.ndarray, dZ2: np.ndarray, Z1: np.ndarray) -> np.ndarray:
    """The error sent back to the hidden layer: dZ1 = (W2^T dZ2) * ReLU'(Z1), elementwise.

    ``W2`` is ``(10, 10)``, ``dZ2`` and ``Z1`` ``(10, m)``; returns ``(10, m)``.

    Implements: eq-dz1
    """
    return (W2.T @ dZ2) * relu_deriv(Z1)


def backward_prop(
    Z1: np.ndarray,
    A1: np.ndarray,
    Z2: np.ndarray,
    A2: np.ndarray,
    W1: np.ndarray,
    W2: np.ndarray,
    X: np.ndarray,
    Y: np.ndarray,
) -> Params:
    """The backward pass: gradients of the mean cross-entropy for the batch ``X``, ``Y``.

    ``X`` is ``(784, m)``, ``Y`` the ``m`` integer labels ``(m,)``; returns
    ``dW1, db1, dW2, db2``, shaped like ``W1, b1, W2, b2``. The 1/m averages over THIS
    batch's m = ``X.shape[1]`` columns; the tutorials' code divides by a global ``m``, the size
    of the whole data set, which is only right when the batch is the whole data set. ``Z2``
    is not needed (softmax and cross-entropy fuse into A2 - Y) but is kept in the tutorials'
    signature.
    """
    Z1, A1, Z2, A2, W1, W2, X = map(np.asarray, (Z1, A1, Z2, A2, W1, W2, X))
    if W1.ndim != 2 or W2.ndim != 2:
        raise ValueError(f"W1, W2: expected matrices, got shapes {W1.shape} and {W2.shape}")
    _check_input(X, W1)
    m = X.shape[1]
    for name, Z in (("Z1", Z1), ("A1", A1)):
        _expect(name, Z, (W1.shape[0], m), f"to match W1 {W1.shape} and X {X.shape}")
    _expect("W2", W2, ("n_out", W1.shape[0]), f"to match W1 {W1.shape}")
    for name, Z in (("Z2", Z2), ("A2", A2)):
        _expect(name, Z, (W2.shape[0], m), f"to match W2 {W2.shape} and X {X.shape}")
    Y = check_labels(Y, m, W2.shape[0], name="Y", context=f"to match X {X.shape}")

    dZ2 = softmax_cross_entropy_grad(A2, Y)
    dW2 = weight_gradient(dZ2, A1)
    db2 = bias_gradient(dZ2)
    dZ1 = hidden_delta(W2, dZ2, Z1)
    dW1 = weight_gradient(dZ1, X)
    db1 = bias_gradient(dZ1)
    return dW1, db1, dW2, db2


def update_params(
    W1: np.ndarray,
    b1: np.ndarray,
    W2: np.ndarray,
    b2: np.ndarray,
    dW1: np.ndarray,
    db1: np.ndarray,
    dW2: np.ndarray,
    db2: np.ndarray,
    alpha: float,
) -> Params:
    """One step of gradient descent on every parameter: theta := theta - alpha d(theta).

    Returns new arrays ``W1, b1, W2, b2``; the arguments are not modified.

    Implements: eq-update
    """
    W1 = W1 - alpha * dW1
    b1 = b1 - alpha * db1
    W2 = W2 - alpha * dW2
    b2 = b2 - alpha * db2
    return W1, b1, W2, b2


# --------------------------------------------------------------------------- initialisation


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


def init_params(
    *,
    rng: np.random.Generator | None = None,
    seed: int = 0,
    scheme: Scheme = "uniform",
    dtype: DTypeLike = np.float32,
    sizes: tuple[int, int, int] = SIZES,
) -> Params:
    """Starting parameters ``W1 (10, 784), b1 (10, 1), W2 (10, 10), b2 (10, 1)``.

    ``scheme="uniform"`` is the tutorials' U[-0.5, 0.5) for all four arrays (see
    :func:`uniform_init`); ``"he"`` is :func:`he_init` for both layers. The numbers come from
    ``rng`` when given, else from ``nnmath.seeding.rng(seed)``: the same seed gives the same
    parameters. ``sizes`` is ``(n_inputs, n_hidden, n_classes)``.
    """
    inits = {"uniform": uniform_init, "he": he_init}
    if scheme not in inits:
        raise ValueError(f"scheme: expected one of {sorted(inits)}, got {scheme!r}")
    if rng is None:
        rng = seeding.rng(seed)
    n_x, n_h, n_y = sizes
    W1, b1 = inits[scheme](n_h, n_x, rng, dtype)
    W2, b2 = inits[scheme](n_y, n_h, rng, dtype)
    return W1, b1, W2, b2


# --------------------------------------------------------------------------- predictions


def get_predictions(A2: np.ndarray) -> np.ndarray:
    """The predicted class of each column: the row of its largest probability, shape ``(m,)``.

    Implements: eq-predict
    """
    return np.argmax(A2, axis=0)


def get_accuracy(predictions: np.ndarray, Y: np.ndarray) -> float:
    """The fraction of predictions equal to the labels; both ``(m,)``.

    Implements: eq-accuracy
    """
    predictions, Y = np.asarray(predictions), np.asarray(Y)
    if predictions.shape != Y.shape or predictions.ndim != 1:
        raise ValueError(
            f"predictions and Y: expected two arrays of shape (m,), got {predictions.shape} "
            f"and {Y.shape}"
        )
    return float(np.mean(predictions == Y))


def make_predictions(
    X: np.ndarray, W1: np.ndarray, b1: np.ndarray, W2: np.ndarray, b2: np.ndarray
) -> np.ndarray:
    """The predicted digit of each column of ``X`` ``(784, m)``, shape ``(m,)``."""
    _, _, _, A2 = forward_prop(W1, b1, W2, b2, X)
    return get_predictions(A2)


# --------------------------------------------------------------------------- training


class Record(NamedTuple):
    """What :func:`gradient_descent` records: the state after ``iteration`` updates."""

    iteration: int
    loss: float  # mean cross-entropy on the training set
    train_accuracy: float
    dev_accuracy: float | None = None
    dev_loss: float | None = None


class Block(NamedTuple):
    """A block of training examples, prepared by :func:`split_blocks`."""

    pixels: np.ndarray  # (k,) indices of the rows of X (pixels) that the block keeps
    X: np.ndarray  # (k, B) those pixels of the block's B images, stored column by column
    Y: np.ndarray  # (B,) the block's labels
    Y_onehot: np.ndarray  # (10, B) the same labels one-hot, made once for every iteration


def split_blocks(
    X: np.ndarray, Y: np.ndarray, block_size: int = 1024, dtype: DTypeLike = np.float32
) -> list[Block]:
    """Cut ``X`` ``(784, m)`` and ``Y`` ``(m,)`` into blocks of columns for fast gradients.

    Three choices make :func:`full_batch_gradient` faster without changing its mathematics
    (the gradient is a sum over examples, and a pixel equal to 0 adds nothing to W1 x, nor to
    dW1 = dZ1 X^T):

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
    eye = np.eye(SIZES[2], dtype=dtype)
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


class _Sums(NamedTuple):
    """Sums over the examples of some blocks: the gradients times m, the loss, the hits."""

    dW1_T: np.ndarray  # (784, 10), dW1 transposed
    db1: np.ndarray
    dW2: np.ndarray
    db2: np.ndarray
    loss: float
    correct: int


def _block_sums(params: Params, blocks: list[Block], with_stats: bool) -> _Sums:
    """Forward and backward passes over ``blocks``, one at a time, their gradients summed.

    The equations of :func:`forward_prop` and :func:`backward_prop`, written out with fewer
    temporary arrays: each block of X is read from memory once and reused from the cache for
    W1 X and for dZ1 X^T. No shape checks: callers check once.
    """
    W1, b1, W2, b2 = params
    dW1_T = np.zeros((W1.shape[1], W1.shape[0]), dtype=W1.dtype)
    db1, dW2, db2 = np.zeros_like(b1), np.zeros_like(W2), np.zeros_like(b2)
    loss, correct = 0.0, 0
    for pixels, Xb, Yb, Yb_onehot in blocks:
        # Z1 = W1 X + b1 (eq-z1) over the block's pixels only (the others multiply 0),
        # computed as (X^T W1^T)^T: the orientation BLAS runs fastest here.
        Z1 = (Xb.T @ W1[:, pixels].T).T + b1
        A1 = relu(Z1)
        A2 = softmax(linear(W2, A1, b2))
        if with_stats:
            loss += cross_entropy(A2, Yb) * Yb.size
            correct += int(np.count_nonzero(get_predictions(A2) == Yb))
        dZ2 = np.subtract(A2, Yb_onehot, out=A2)  # eq-dz2, in place of A2
        dW2 += dZ2 @ A1.T
        db2 += dZ2.sum(axis=1, keepdims=True)
        dZ1 = hidden_delta(W2, dZ2, Z1)
        dW1_T[pixels] += Xb @ dZ1.T
        db1 += dZ1.sum(axis=1, keepdims=True)
    return _Sums(dW1_T, db1, dW2, db2, loss, correct)


def _gradient_pass(
    params: Params, shares: list[list[Block]], pool: Executor, with_stats: bool = False
) -> tuple[Params, tuple[float, float] | None]:
    """Full-batch gradients ``dW1, db1, dW2, db2``; optionally also the loss and accuracy.

    Each of the ``pool``'s threads sums one share of the blocks (:func:`_block_sums`); the
    shares are added in a fixed order and divided by m. Same mathematics as
    :func:`backward_prop` on the whole batch.
    """
    parts = list(pool.map(lambda share: _block_sums(params, share, with_stats), shares))
    total = parts[0]
    for part in parts[1:]:
        total = _Sums(*(a + b for a, b in zip(total, part, strict=True)))
    m = sum(block.Y.size for share in shares for block in share)
    grads = (total.dW1_T.T / m, total.db1 / m, total.dW2 / m, total.db2 / m)
    return grads, ((total.loss / m, total.correct / m) if with_stats else None)


@contextmanager
def _workers(blocks: list[Block], workers: int) -> Iterator[tuple[list[list[Block]], Executor]]:
    """``workers`` threads, each with its share of ``blocks`` (every ``workers``-th one).

    Inside, matrix products run on one BLAS thread each: with ten rows they are too small
    to share well between cores, so the threads work on different blocks instead.
    """
    shares = [blocks[i::workers] for i in range(workers)]
    with threadpool_limits(limits=1, user_api="blas"), ThreadPoolExecutor(workers) as pool:
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
    """``dW1, db1, dW2, db2`` for the whole of ``X`` ``(784, m)``, ``Y`` ``(m,)``, in blocks.

    Equal, up to rounding, to ``backward_prop(*forward_prop(W1, b1, W2, b2, X), W1, W2, X,
    Y)``, without ever holding the ``(10, m)`` intermediates of the whole batch; see
    :func:`split_blocks` for how the blocks are made. :func:`gradient_descent` splits once
    and reuses the blocks at every iteration.
    """
    W1, b1, W2, b2, X = map(np.asarray, (W1, b1, W2, b2, X))
    _check_params(W1, b1, W2, b2)
    _check_input(X, W1)
    Y = check_labels(Y, X.shape[1], W2.shape[0], name="Y", context=f"to match X {X.shape}")
    _check_positive(block_size=block_size, workers=workers)
    blocks = split_blocks(X, Y, block_size, W1.dtype)
    with _workers(blocks, workers) as (shares, pool):
        grads, _ = _gradient_pass((W1, b1, W2, b2), shares, pool)
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
    X_dev: np.ndarray | None = None,
    y_dev: np.ndarray | None = None,
    history: list[Record] | None = None,
    callback: Callable[[Record], None] | None = None,
    record_every: int = 10,
    progress: bool = False,
    block_size: int = 1024,
    workers: int = 2,
) -> Params:
    """Train the network by full-batch gradient descent; return ``W1, b1, W2, b2``.

    ``X`` is ``(784, m)``, pixels scaled to [0, 1]; ``Y`` the ``m`` integer labels. Starts
    from ``init_params(seed=seed, scheme=scheme, dtype=dtype)`` and makes ``iterations``
    updates with learning rate ``alpha``. Deterministic: the same arguments give bitwise
    identical parameters.

    Recording (only when ``history``, ``callback`` or ``progress`` is given): every
    ``record_every`` iterations, and once after the last update, a :class:`Record` of the
    training loss and accuracy (taken from that iteration's forward pass, which then also
    computes the loss) and, when ``X_dev``, ``y_dev`` are given, the dev accuracy and loss.
    Each record is appended to ``history``, passed to ``callback`` and, with ``progress``, printed.

    Speed: ``X`` is cut once into blocks of ``block_size`` columns in ``dtype`` (see
    :func:`split_blocks`) and each iteration sums the gradient block by block, in ``workers``
    threads (see :func:`full_batch_gradient`). ``workers`` changes the result only by the
    rounding of the order of a sum.
    """
    X = _check_pixels("X", X)
    m = X.shape[1]
    Y = check_labels(Y, m, SIZES[2], name="Y", context=f"to match X {X.shape}")
    if not (np.isfinite(alpha) and alpha > 0):
        raise ValueError(f"alpha: expected a positive learning rate, got {alpha}")
    if iterations < 0:
        raise ValueError(f"iterations: expected an integer >= 0, got {iterations}")
    _check_positive(block_size=block_size, record_every=record_every, workers=workers)
    if (X_dev is None) != (y_dev is None):
        raise ValueError("X_dev and y_dev: give both or neither")
    if X_dev is not None:
        X_dev = _check_pixels("X_dev", X_dev).astype(dtype, copy=False)
        y_dev = check_labels(y_dev, X_dev.shape[1], SIZES[2], name="y_dev",
                             context=f"to match X_dev {X_dev.shape}")
    recording = history is not None or callback is not None or progress

    def log(iteration: int, stats: tuple[float, float], params: Params) -> None:
        dev_accuracy = dev_loss = None
        if X_dev is not None:
            *_, A2_dev = forward_prop(*params, X_dev)
            dev_accuracy = get_accuracy(get_predictions(A2_dev), y_dev)
            dev_loss = cross_entropy(A2_dev, y_dev)
        entry = Record(iteration, *stats, dev_accuracy, dev_loss)
        if history is not None:
            history.append(entry)
        if callback is not None:
            callback(entry)
        if progress:
            dev = "" if dev_accuracy is None else f"  dev accuracy {dev_accuracy:.4f}"
            print(f"iteration {iteration:5d}  loss {entry.loss:.4f}  "
                  f"train accuracy {entry.train_accuracy:.4f}{dev}", flush=True)

    blocks = split_blocks(X, Y, block_size, dtype)
    W1, b1, W2, b2 = init_params(seed=seed, scheme=scheme, dtype=dtype)
    with _workers(blocks, workers) as (shares, pool):
        for i in range(iterations):
            with_stats = recording and i % record_every == 0
            grads, stats = _gradient_pass((W1, b1, W2, b2), shares, pool, with_stats)
            if stats is not None:
                log(i, stats, (W1, b1, W2, b2))
            W1, b1, W2, b2 = update_params(W1, b1, W2, b2, *grads, alpha)
        if recording:
            _, stats = _gradient_pass((W1, b1, W2, b2), shares, pool, with_stats=True)
            log(iterations, stats, (W1, b1, W2, b2))
    return W1, b1, W2, b2

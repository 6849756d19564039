"""Part I's two-layer network, 784-10-10 by default, one function per equation.

Column convention: an example is a column. ``X`` is ``(n_x, m)`` (784 pixels for MNIST);
``W1`` ``(n_h, n_x)``, ``b1`` ``(n_h, 1)``, ``Z1`` and ``A1`` ``(n_h, m)``; ``W2`` ``(n_y, n_h)``,
``b2`` ``(n_y, 1)``, ``Z2`` and ``A2`` ``(n_y, m)``. Every function takes any sizes (a 2-2-2
network too); MNIST's 784-10-10 is only the default of :func:`init_params` and
:func:`gradient_descent`. Labels ``Y`` are integers, shape ``(m,)``; the one-hot matrix of
the equations is never built. The names and argument order are the tutorials' ones.

Everything follows the dtype of its inputs: float32 for training (the default of
:func:`init_params` and :func:`gradient_descent`), float64 for gradient checks. The fast
version of :func:`gradient_descent` (blocks, threads) is :mod:`nnmath.fast.twolayer`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal, NamedTuple

import numpy as np
from numpy.typing import DTypeLike

from nnmath import checks, seeding
from nnmath.activations import relu, relu_deriv, softmax
from nnmath.init import he_init, uniform_init
from nnmath.losses import cross_entropy, softmax_cross_entropy_grad
from nnmath.metrics import accuracy

__all__ = [
    "SIZES",
    "Record",
    "backward_prop",
    "bias_gradient",
    "check_layers",
    "check_training",
    "forward_prop",
    "get_accuracy",
    "get_predictions",
    "gradient_descent",
    "hidden_delta",
    "init_params",
    "linear",
    "make_predictions",
    "measure",
    "recorder",
    "update_params",
    "weight_gradient",
]

Params = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]
Scheme = Literal["uniform", "he"]

#: Layer widths of Part I's network: 784 pixels, 10 hidden units, 10 classes.
SIZES = (784, 10, 10)


def check_layers(W1: np.ndarray, b1: np.ndarray, W2: np.ndarray, b2: np.ndarray,
                  X: np.ndarray) -> None:
    """Check that the parameters fit together and ``X``; the shapes are read off ``W1``.

    Raises ``ValueError`` naming the expected and received shapes (the check of
    :func:`forward_prop`).
    """
    if W1.ndim != 2:
        raise ValueError(f"W1: expected (n_hidden, n_inputs), got {W1.shape}")
    checks.expect_shape("b1", b1, (W1.shape[0], 1), f"to match W1 {W1.shape}")
    checks.expect_shape("W2", W2, ("n_out", W1.shape[0]), f"to match W1 {W1.shape}")
    checks.expect_shape("b2", b2, (W2.shape[0], 1), f"to match W2 {W2.shape}")
    checks.expect_shape("X", X, (W1.shape[1], "m"), f"to match W1 {W1.shape}")


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

    ``X`` is ``(n_x, m)``; returns ``Z1, A1`` ``(n_h, m)`` and ``Z2, A2`` ``(n_y, m)``.
    Raises ``ValueError`` naming the expected and received shapes when they do not fit.
    """
    check_layers(*map(np.asarray, (W1, b1, W2, b2, X)))
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

    ``W2`` is ``(n_y, n_h)``, ``dZ2`` ``(n_y, m)``, ``Z1`` ``(n_h, m)``; returns ``(n_h, m)``.

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

    ``X`` is ``(n_x, m)``, ``Y`` the ``m`` integer labels ``(m,)``; returns
    ``dW1, db1, dW2, db2``, shaped like ``W1, b1, W2, b2``. The 1/m averages over THIS
    batch's m = ``X.shape[1]`` columns; the tutorials' code divides by a global ``m``, the size
    of the whole data set, which is only right when the batch is the whole data set. ``Z2``
    is not needed (softmax and cross-entropy fuse into A2 - Y) but is kept in the tutorials'
    signature.
    """
    Y = _check_backward(*map(np.asarray, (Z1, A1, Z2, A2, W1, W2, X)), Y)
    dZ2 = softmax_cross_entropy_grad(A2, Y)
    dW2 = weight_gradient(dZ2, A1)
    db2 = bias_gradient(dZ2)
    dZ1 = hidden_delta(W2, dZ2, Z1)
    dW1 = weight_gradient(dZ1, X)
    db1 = bias_gradient(dZ1)
    return dW1, db1, dW2, db2


def _check_backward(Z1: np.ndarray, A1: np.ndarray, Z2: np.ndarray, A2: np.ndarray,
                    W1: np.ndarray, W2: np.ndarray, X: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """Check the arguments of :func:`backward_prop` against each other; return ``Y``."""
    if W1.ndim != 2 or W2.ndim != 2:
        raise ValueError(f"W1, W2: expected matrices, got shapes {W1.shape} and {W2.shape}")
    checks.expect_shape("X", X, (W1.shape[1], "m"), f"to match W1 {W1.shape}")
    m = X.shape[1]
    for name, Z in (("Z1", Z1), ("A1", A1)):
        checks.expect_shape(name, Z, (W1.shape[0], m), f"to match W1 {W1.shape} and X {X.shape}")
    checks.expect_shape("W2", W2, ("n_out", W1.shape[0]), f"to match W1 {W1.shape}")
    for name, Z in (("Z2", Z2), ("A2", A2)):
        checks.expect_shape(name, Z, (W2.shape[0], m), f"to match W2 {W2.shape} and X {X.shape}")
    return checks.labels(Y, m, W2.shape[0], name="Y", context=f"to match X {X.shape}")


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


def init_params(
    *,
    rng: np.random.Generator | None = None,
    seed: int = 0,
    scheme: Scheme = "uniform",
    dtype: DTypeLike = np.float32,
    sizes: tuple[int, int, int] = SIZES,
) -> Params:
    """Starting parameters ``W1 (n_h, n_x), b1 (n_h, 1), W2 (n_y, n_h), b2 (n_y, 1)``.

    ``sizes`` is ``(n_x, n_h, n_y)``, by default 784-10-10. ``scheme="uniform"`` is the
    tutorials' U[-0.5, 0.5) for all four arrays (:func:`~nnmath.init.uniform_init`);
    ``"he"`` is :func:`~nnmath.init.he_init` for both layers. The numbers come from ``rng``
    when given, else from ``nnmath.seeding.rng(seed)``: the same seed gives the same
    parameters.
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
    """The fraction of predictions equal to the labels, both ``(m,)``.

    The tutorials' name for :func:`nnmath.metrics.accuracy`.
    """
    return accuracy(Y, predictions)


def make_predictions(
    X: np.ndarray, W1: np.ndarray, b1: np.ndarray, W2: np.ndarray, b2: np.ndarray
) -> np.ndarray:
    """The predicted class of each column of ``X`` ``(n_x, m)``, shape ``(m,)``."""
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


def measure(A2: np.ndarray, Y: np.ndarray) -> tuple[float, float]:
    """``(mean cross-entropy, accuracy)`` of the probabilities ``A2`` ``(n_y, m)`` for ``Y``."""
    return cross_entropy(A2, Y), get_accuracy(get_predictions(A2), Y)


Log = Callable[[int, tuple[float, float], Params], None]


def recorder(
    X_dev: np.ndarray | None = None,
    y_dev: np.ndarray | None = None,
    history: list[Record] | None = None,
    callback: Callable[[Record], None] | None = None,
    progress: bool = False,
) -> Log | None:
    """``log(iteration, (loss, accuracy), params)``, which makes a :class:`Record` and reports it.

    The record holds the training loss and accuracy it is given and, when ``X_dev`` and
    ``y_dev`` are given, the dev accuracy and loss of ``params``. It is appended to
    ``history``, passed to ``callback`` and, with ``progress``, printed. None when there
    is nothing to report to.
    """
    if history is None and callback is None and not progress:
        return None

    def log(iteration: int, stats: tuple[float, float], params: Params) -> None:
        dev_loss = dev_accuracy = None
        if X_dev is not None:
            dev_loss, dev_accuracy = measure(forward_prop(*params, X_dev)[3], y_dev)
        record = Record(iteration, *stats, dev_accuracy, dev_loss)
        if history is not None:
            history.append(record)
        if callback is not None:
            callback(record)
        if progress:
            dev = "" if dev_accuracy is None else f"  dev accuracy {dev_accuracy:.4f}"
            print(f"iteration {iteration:5d}  loss {record.loss:.4f}  "
                  f"train accuracy {record.train_accuracy:.4f}{dev}", flush=True)

    return log


def check_training(
    X: np.ndarray, Y: np.ndarray, alpha: float, iterations: int, record_every: int,
    X_dev: np.ndarray | None, y_dev: np.ndarray | None, sizes: tuple[int, int, int],
    dtype: DTypeLike,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None]:
    """The checks of :func:`gradient_descent`'s arguments; returns ``X, Y, X_dev, y_dev``.

    ``X`` and ``X_dev`` come back in ``dtype``.
    """
    checks.positive("alpha", alpha, "learning rate")
    checks.integer("iterations", iterations, 0)
    checks.integer("record_every", record_every, 1)
    context = "with one column per image (see nnmath.data.to_columns)"
    return checks.training_set(X, Y, X_dev, y_dev, sizes=sizes, dtype=dtype,
                               context=context, label="Y")


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
) -> Params:
    """Train the network by full-batch gradient descent; return ``W1, b1, W2, b2``.

    ``X`` is ``(n_x, m)``, pixels scaled to [0, 1]; ``Y`` the ``m`` integer labels. Starts
    from ``init_params(seed=seed, scheme=scheme, dtype=dtype, sizes=sizes)`` and makes
    ``iterations`` updates with learning rate ``alpha``: forward pass, backward pass,
    update. Deterministic: the same arguments give bitwise identical parameters.

    Recording (only when ``history``, ``callback`` or ``progress`` is given, see
    :func:`recorder`): every ``record_every`` iterations, and once after the last update,
    a :class:`Record` of the training loss and accuracy (read off that iteration's forward
    pass) and, with ``X_dev``, ``y_dev``, the dev accuracy and loss.
    :func:`nnmath.fast.twolayer.gradient_descent` takes the same arguments and is faster.
    """
    X, Y, X_dev, y_dev = check_training(X, Y, alpha, iterations, record_every, X_dev, y_dev,
                                        sizes, dtype)
    log = recorder(X_dev, y_dev, history, callback, progress)
    W1, b1, W2, b2 = init_params(seed=seed, scheme=scheme, dtype=dtype, sizes=sizes)
    for i in range(iterations):
        Z1, A1, Z2, A2 = forward_prop(W1, b1, W2, b2, X)
        if log is not None and i % record_every == 0:
            log(i, measure(A2, Y), (W1, b1, W2, b2))
        dW1, db1, dW2, db2 = backward_prop(Z1, A1, Z2, A2, W1, W2, X, Y)
        W1, b1, W2, b2 = update_params(W1, b1, W2, b2, dW1, db1, dW2, db2, alpha)
    if log is not None:  # the state after the last update
        A2 = forward_prop(W1, b1, W2, b2, X)[3]
        log(iterations, measure(A2, Y), (W1, b1, W2, b2))
    return W1, b1, W2, b2

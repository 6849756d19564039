"""Part II's L-layer network: any number of ReLU layers and a softmax output.

Column convention, as in Part I: an example is a column. ``X = A[0]`` is ``(n_0, m)``;
layer ``l = 1..L`` has ``W[l]`` ``(n_l, n_(l-1))``, ``b[l]`` ``(n_l, 1)``, and ``Z[l]``,
``A[l]`` ``(n_l, m)``. Hidden layers use ReLU, the output layer the softmax, and the loss
is the mean cross-entropy against integer labels ``y`` ``(m,)`` (no one-hot matrix is
built). Python lists count from 0, so ``model.W[l - 1]`` holds the book's ``W[l]``, while
``model.A[l]`` is the book's ``A[l]`` (``model.A[0]`` is X).

Regularisation (L2, dropout) is a step of its own: :class:`nnmath.regularise.RegularisedMLP`.
Training with a flat parameter vector, for speed, is :mod:`nnmath.fast.mlp`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import pairwise
from typing import Literal

import numpy as np
from numpy.typing import DTypeLike

from nnmath import checks, seeding
from nnmath.activations import relu, relu_deriv, softmax
from nnmath.init import INITS
from nnmath.losses import cross_entropy, softmax_cross_entropy_grad

__all__ = ["MLP", "ZA", "layer_db", "layer_dw", "layer_dz", "layer_forward"]

Init = Literal["he", "xavier", "uniform", "scaled"]
ZA = tuple[np.ndarray, np.ndarray]  # a layer's Z and A


# --------------------------------------------------------------------------- one layer


def layer_forward(
    W: np.ndarray,
    A_prev: np.ndarray,
    b: np.ndarray,
    g: Callable[[np.ndarray], np.ndarray] = relu,
) -> tuple[np.ndarray, np.ndarray]:
    """One layer forward: Z = W A_prev + b, then A = g(Z).

    ``W`` is ``(n, n_prev)``, ``A_prev`` ``(n_prev, m)``, ``b`` ``(n, 1)`` (broadcast over
    the columns); returns ``Z, A``, both ``(n, m)``. ``g`` is ReLU for a hidden layer and
    the softmax for the output layer.

    Implements: eq-layer-forward
    """
    Z = W @ A_prev
    Z += b
    return Z, g(Z)


def layer_dz(
    W_next: np.ndarray,
    dZ_next: np.ndarray,
    Z: np.ndarray,
    mask: np.ndarray | None = None,
) -> np.ndarray:
    """The error of hidden layer l: dZ[l] = (W[l+1]^T dZ[l+1]) * ReLU'(Z[l]), elementwise.

    ``W_next`` is ``(n_next, n)``, ``dZ_next`` ``(n_next, m)``, ``Z`` ``(n, m)``; returns
    ``(n, m)``, the gradient of the summed loss m L with respect to ``Z`` (like
    ``A - Y`` at the output). With dropout (:mod:`nnmath.regularise`), ``mask`` is the
    factor D/keep_prob that multiplied A[l]; the same factor multiplies the gradient on
    the way back, since A[l] enters the next layer only through it.

    Implements: eq-layer-dz
    """
    dA = W_next.T @ dZ_next
    if mask is not None:
        dA *= mask
    dA *= relu_deriv(Z)
    return dA


def layer_dw(
    dZ: np.ndarray, A_prev: np.ndarray, out: np.ndarray | None = None
) -> np.ndarray:
    """Weight gradient of layer l: dW[l] = (1/m) dZ[l] A[l-1]^T.

    ``dZ`` is ``(n, m)``, ``A_prev`` ``(n_prev, m)``; returns ``(n, n_prev)``, the shape of
    ``W[l]``, written into ``out`` when given. Part I's
    :func:`~nnmath.twolayer.weight_gradient` is the case L = 2.

    Implements: eq-layer-dw
    """
    dW = np.matmul(dZ, A_prev.T, out=out)
    dW /= dZ.shape[1]
    return dW


def layer_db(dZ: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Bias gradient of layer l: db[l] = (1/m) sum of the columns of dZ[l].

    ``dZ`` is ``(n, m)``; returns ``(n, 1)``, the shape of ``b[l]``, written into ``out``
    when given.

    Implements: eq-layer-db
    """
    db = np.sum(dZ, axis=1, keepdims=True, out=out)
    db /= dZ.shape[1]
    return db


# --------------------------------------------------------------------------- the network


class MLP:
    """A fully connected network: ReLU hidden layers, a softmax output, cross-entropy loss.

    ``sizes`` lists the widths n_0 (inputs), n_1, ..., n_L (classes); the default is the
    slides' 784-128-64-10. ``init`` names a scheme of :data:`nnmath.init.INITS`, drawn from
    ``nnmath.seeding.rng(seed)``. Everything is computed in ``dtype`` (float32 to train,
    float64 to check gradients); inputs of another float dtype are converted.

    :meth:`forward` keeps every Z[l] and A[l] (in :attr:`Z` and :attr:`A`) for
    :meth:`backward`, which writes the gradients into :attr:`dW` and :attr:`db` and
    returns :attr:`gradients`, parallel to :attr:`params` = ``[W1, b1, W2, b2, ...]``.
    """

    def __init__(
        self,
        sizes: Sequence[int] = (784, 128, 64, 10),
        *,
        seed: int = 0,
        init: Init = "he",
        dtype: DTypeLike = np.float32,
    ) -> None:
        sizes = tuple(int(n) for n in sizes)
        if len(sizes) < 2 or min(sizes) < 1:
            raise ValueError(
                f"sizes: expected at least two positive widths (inputs, ..., classes), "
                f"got {sizes}"
            )
        if init not in INITS:
            raise ValueError(f"init: expected one of {sorted(INITS)}, got {init!r}")
        if not np.issubdtype(dtype, np.floating):
            raise TypeError(f"dtype: expected a floating-point type, got {dtype}")
        self.sizes, self.init, self.seed = sizes, init, seed
        self.dtype = np.dtype(dtype)
        self.rng = seeding.rng(seed)
        self.W: list[np.ndarray] = []
        self.b: list[np.ndarray] = []
        for n_prev, n in pairwise(sizes):
            W, b = INITS[init](n, n_prev, self.rng, self.dtype)
            self.W.append(W)
            self.b.append(b)
        self.dW = [np.zeros_like(W) for W in self.W]
        self.db = [np.zeros_like(b) for b in self.b]
        self.Z: list[np.ndarray] = []
        self.A: list[np.ndarray] = []

    # ----------------------------------------------------------------- parameters

    @property
    def L(self) -> int:
        """The number of layers with parameters."""
        return len(self.W)

    @property
    def params(self) -> list[np.ndarray]:
        """``[W1, b1, W2, b2, ..., WL, bL]``: the network's own arrays (update them in place)."""
        return [p for pair in zip(self.W, self.b, strict=True) for p in pair]

    @property
    def gradients(self) -> list[np.ndarray]:
        """``[dW1, db1, ..., dWL, dbL]`` from the last :meth:`backward`, parallel to params.

        The next backward pass overwrites them; copy what you want to keep.
        """
        return [g for pair in zip(self.dW, self.db, strict=True) for g in pair]

    @property
    def n_params(self) -> int:
        """The number of weights and biases."""
        return sum(p.size for p in self.params)

    def set_params(self, params: Sequence[np.ndarray]) -> None:
        """Copy ``[W1, b1, ..., WL, bL]`` into the network (converted to its dtype)."""
        if len(params) != 2 * self.L:
            raise ValueError(
                f"params: expected {2 * self.L} arrays [W1, b1, ..., W{self.L}, b{self.L}], "
                f"got {len(params)}"
            )
        for i, (mine, new) in enumerate(zip(self.params, params, strict=True)):
            new = np.asarray(new)
            if new.shape != mine.shape:
                name = f"{'Wb'[i % 2]}{i // 2 + 1}"
                raise ValueError(f"{name}: expected {mine.shape}, got {new.shape}")
            mine[...] = new

    def flat_params(self) -> np.ndarray:
        """A copy of all the parameters as one vector ``(n_params,)``: W1, b1, W2, ... raveled."""
        return np.concatenate([p.ravel() for p in self.params])

    def flat_gradients(self) -> np.ndarray:
        """A copy of the last :meth:`backward`'s gradients as one vector, ordered like params."""
        return np.concatenate([g.ravel() for g in self.gradients])

    def set_flat_params(self, vector: np.ndarray) -> None:
        """Copy a vector of :meth:`flat_params`'s layout into the network's arrays."""
        vector = np.asarray(vector)
        checks.expect_shape("vector", vector, (self.n_params,), f"for sizes {self.sizes}")
        ends = np.cumsum([p.size for p in self.params])
        for p, part in zip(self.params, np.split(vector, ends[:-1]), strict=True):
            p[...] = part.reshape(p.shape)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(sizes={self.sizes}, init={self.init!r}{self._options()}, "
            f"dtype={self.dtype.name}, seed={self.seed})"
        )

    def _options(self) -> str:
        """The constructor's extra options, for :meth:`__repr__` (none here)."""
        return ""

    # ----------------------------------------------------------------- forward, backward

    def inputs(self, X: np.ndarray, name: str = "X") -> np.ndarray:
        """``X`` checked as ``(n_0, m)`` floats and converted to the network's dtype."""
        return checks.columns(name, X, self.sizes[0], f"to match sizes {self.sizes}", self.dtype)

    def layer(self, l: int, A_prev: np.ndarray, train: bool = False) -> ZA:
        """Layer l + 1 (the book's numbering) forward: ``Z, A`` from ``A_prev`` = A[l].

        ReLU below the top layer, the softmax at the top (eq-layer-forward). ``train``
        makes no difference here; :class:`~nnmath.regularise.RegularisedMLP` drops units.
        """
        g = relu if l < self.L - 1 else softmax
        return layer_forward(self.W[l], A_prev, self.b[l], g)

    def forward(self, X: np.ndarray, *, train: bool = False) -> np.ndarray:
        """The forward pass: A[L] ``(n_L, m)``, the class probabilities of each column of X.

        ``X`` is ``(n_0, m)``. Keeps Z[1..L] in :attr:`Z` and A[0..L] in :attr:`A` for
        :meth:`backward`. ``train=True`` marks a training pass (for subclasses that
        behave differently while training; this network does not).
        """
        A = self.inputs(X)
        self.Z, self.A = [], [A]
        for l in range(self.L):
            Z, A = self.layer(l, A, train)
            self.Z.append(Z)
            self.A.append(A)
        return A

    def delta(self, l: int, dZ: np.ndarray) -> np.ndarray:
        """The error of the layer below: dZ[l] from dZ[l+1] (eq-layer-dz), book numbering."""
        return layer_dz(self.W[l], dZ, self.Z[l - 1])

    def backward(self, y: np.ndarray) -> list[np.ndarray]:
        """Gradients of the mean loss of the last forward batch, whose labels are ``y``.

        ``y`` holds the ``m`` integer labels of the columns passed to :meth:`forward`.
        dZ[L] = A[L] - Y, then for l = L..1: dW[l], db[l] and, below the top, dZ[l-1].
        Returns :attr:`gradients` ``[dW1, db1, ..., dWL, dbL]``, shaped like :attr:`params`.
        """
        if not self.A:
            raise RuntimeError("backward: call forward(X) first")
        m = self.A[0].shape[1]
        y = checks.labels(y, m, self.sizes[-1], context=f"for {m} examples")
        dZ = softmax_cross_entropy_grad(self.A[-1], y)
        for l in reversed(range(self.L)):
            layer_dw(dZ, self.A[l], out=self.dW[l])
            layer_db(dZ, out=self.db[l])
            if l > 0:
                dZ = self.delta(l, dZ)
        return self.gradients

    # ----------------------------------------------------------------- evaluation

    def predict_proba(self, X: np.ndarray, *, batch_size: int = 10_000) -> np.ndarray:
        """Class probabilities A[L] ``(n_L, m)`` of the columns of X, as at test time.

        Computed ``batch_size`` columns at a time, so a large X needs little memory; what
        :meth:`forward` kept for :meth:`backward` is left untouched.
        """
        X = self.inputs(X)
        parts = []
        for i in range(0, max(X.shape[1], 1), batch_size):
            A = X[:, i : i + batch_size]
            for l in range(self.L):
                _, A = self.layer(l, A)
            parts.append(A)
        return parts[0] if len(parts) == 1 else np.concatenate(parts, axis=1)

    def predict(self, X: np.ndarray) -> np.ndarray:
        """The predicted class of each column of X: the row of its largest probability."""
        return np.argmax(self.predict_proba(X), axis=0)

    def loss(self, X: np.ndarray, y: np.ndarray) -> float:
        """The mean cross-entropy of (X, y), as at test time.

        This is the function whose gradient :meth:`backward` returns (after a forward pass
        with ``train=False``).
        """
        A = self.predict_proba(X)
        return cross_entropy(A, checks.labels(y, A.shape[1], self.sizes[-1],
                                               context=f"for {A.shape[1]} examples"))

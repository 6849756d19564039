"""A LeNet-style convolutional network: convolutions and pooling, then Part II's layers.

Each convolution block is conv2d (k x k, stride 1, no padding) -> ReLU -> 2 x 2 max
pooling; after the blocks the feature maps are flattened into one column per example
and pass through fully connected ReLU layers and a softmax, with the cross-entropy loss.
With the default ``channels=(16, 32)``, ``kernel=5``, ``hidden=(128,)``:

    1 x 28 x 28 -> conv 16 x 24 x 24 -> pool 16 x 12 x 12
                -> conv 32 x 8 x 8  -> pool 32 x 4 x 4 -> 512 -> 128 -> 10.

:class:`CNN` reads and returns what an :class:`~nnmath.mlp.MLP` does, ``X`` ``(784, m)``
columns in and probabilities ``(10, m)`` out, with the same :attr:`params`,
:meth:`forward`, :meth:`backward` and :meth:`predict_proba`, so
:func:`nnmath.train.fit`, the optimisers, :func:`nnmath.train.evaluate`, the model files
and the command line take either network. Its layers are :mod:`nnmath.conv`'s functions
and :mod:`nnmath.mlp`'s, nothing else. As there, each dZ is the gradient of the summed
loss m L, and each parameter's gradient is divided by the batch size m.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise

import numpy as np
from numpy.typing import DTypeLike

from nnmath import checks, seeding
from nnmath.activations import relu, relu_deriv, softmax
from nnmath.conv import (
    conv2d_cols,
    conv2d_db,
    conv2d_dw,
    conv2d_dx,
    im2col,
    max_pool2d,
    max_pool2d_backward,
)
from nnmath.data import PIXELS, SIDE
from nnmath.init import he_init
from nnmath.losses import cross_entropy, softmax_cross_entropy_grad
from nnmath.mlp import MLP, layer_db, layer_dw, layer_dz, layer_forward

__all__ = ["CNN"]

POOL = 2  # the side of each pooling window
CLASSES = 10


class CNN:
    """Convolution blocks ``channels`` (k = ``kernel``), then fully connected ``hidden``.

    Parameters :attr:`params` = ``[W1, b1, ..., WL, bL]``: the convolutions' W ``(c_out,
    c_in, k, k)`` and b ``(c_out,)`` first, then the fully connected layers' W ``(n,
    n_prev)`` and b ``(n, 1)``. Weights start from He's scheme (fan-in c_in k^2 for a
    convolution), drawn from ``nnmath.seeding.rng(seed)``; biases start at zero.
    :attr:`sizes` are the widths a column passes through: 784 pixels, the flattened
    maps, ``hidden``, 10 classes.
    """

    def __init__(
        self,
        channels: Sequence[int] = (16, 32),
        kernel: int = 5,
        hidden: Sequence[int] = (128,),
        *,
        seed: int = 0,
        dtype: DTypeLike = np.float32,
    ) -> None:
        self.channels = tuple(int(c) for c in channels)
        self.hidden = tuple(int(n) for n in hidden)
        self.kernel = int(kernel)
        if not self.channels or min(self.channels + self.hidden, default=1) < 1:
            raise ValueError(
                f"channels, hidden: expected positive widths and at least one convolution, "
                f"got {channels} and {hidden}"
            )
        side = SIDE
        for _ in self.channels:  # each block: a valid k x k convolution, then pooling
            if side - self.kernel + 1 < POOL or (side - self.kernel + 1) % POOL:
                raise ValueError(
                    f"kernel: a {self.kernel} x {self.kernel} convolution of {side} x {side} "
                    f"maps does not leave a side divisible by {POOL}; use fewer blocks or "
                    "another kernel"
                )
            side = (side - self.kernel + 1) // POOL
        if not np.issubdtype(dtype, np.floating):
            raise TypeError(f"dtype: expected a floating-point type, got {dtype}")
        self.seed, self.dtype = seed, np.dtype(dtype)
        self.side = side  # the side of the last block's maps
        self.sizes = (PIXELS, self.channels[-1] * side * side, *self.hidden, CLASSES)
        self.rng = seeding.rng(seed)
        self.W: list[np.ndarray] = []
        self.b: list[np.ndarray] = []
        k = self.kernel
        for c_in, c_out in pairwise((1, *self.channels)):
            W, b = he_init(c_out, c_in * k * k, self.rng, self.dtype)
            self.W.append(W.reshape(c_out, c_in, k, k))
            self.b.append(b.reshape(c_out))
        for n_prev, n in pairwise(self.sizes[1:]):
            W, b = he_init(n, n_prev, self.rng, self.dtype)
            self.W.append(W)
            self.b.append(b)
        self.dW = [np.zeros_like(W) for W in self.W]
        self.db = [np.zeros_like(b) for b in self.b]
        self._cache: list[tuple[np.ndarray, ...]] = []

    # ----------------------------------------------------------------- parameters

    @property
    def n_conv(self) -> int:
        """The number of convolution blocks."""
        return len(self.channels)

    @property
    def L(self) -> int:
        """The number of layers with parameters (convolutions and fully connected)."""
        return len(self.W)

    # The parameter lists, exactly as the MLP keeps them (W, b, dW, db and L are the same).
    params = MLP.params
    gradients = MLP.gradients
    n_params = MLP.n_params
    set_params = MLP.set_params

    def __repr__(self) -> str:
        return (f"CNN(channels={self.channels}, kernel={self.kernel}, hidden={self.hidden}, "
                f"dtype={self.dtype.name}, seed={self.seed})")

    # ----------------------------------------------------------------- forward, backward

    def inputs(self, X: np.ndarray, name: str = "X") -> np.ndarray:
        """``X`` checked as ``(784, m)`` floats and converted to the network's dtype."""
        return checks.columns(name, X, PIXELS, "(28 x 28 images as columns)", self.dtype)

    def _forward(self, X: np.ndarray, keep: bool) -> np.ndarray:
        """A[L] ``(10, m)``; with ``keep``, what :meth:`backward` needs in ``_cache``."""
        m = X.shape[1]
        k = self.kernel
        A = np.ascontiguousarray(X.T).reshape(m, 1, SIDE, SIDE)
        cache: list[tuple[np.ndarray, ...]] = []
        for l in range(self.n_conv):
            h_out = A.shape[2] - k + 1
            cols = im2col(A, k, k)  # (m h_out h_out, c_in k k)
            Z = conv2d_cols(cols, self.W[l], self.b[l], (m, h_out, h_out))
            R = relu(Z)
            cache.append((A.shape, cols, Z, R))
            A = max_pool2d(R, POOL)
        pooled_shape = A.shape
        A = A.reshape(m, -1).T  # the maps flattened, one column per example
        columns = [A]
        for l in range(self.n_conv, self.L):
            Z, A = layer_forward(self.W[l], A, self.b[l],
                                 relu if l < self.L - 1 else softmax)
            cache.append((Z,))
            columns.append(A)
        if keep:
            self._cache = [*cache, (pooled_shape,), tuple(columns)]
        return A

    def forward(self, X: np.ndarray, *, train: bool = False) -> np.ndarray:
        """The forward pass: A[L] ``(10, m)``, the class probabilities of each column of X.

        ``X`` is ``(784, m)``; what :meth:`backward` needs is kept. ``train`` changes
        nothing here (it is there for :func:`nnmath.train.fit`).
        """
        return self._forward(self.inputs(X), keep=True)

    def backward(self, y: np.ndarray) -> list[np.ndarray]:
        """Gradients of the mean loss of the last forward batch, whose labels are ``y``.

        Fully connected layers as in :meth:`nnmath.mlp.MLP.backward`; the flattened
        gradient is reshaped into maps, then for each block from
        the top: pooling backward (eq-max-pool-backward), ReLU', dW and db of the
        convolution (eq-conv-dw, eq-conv-db) and, below the first block, dX
        (eq-conv-dx). Returns :attr:`gradients`.
        """
        if not self._cache:
            raise RuntimeError("backward: call forward(X) first")
        *layers, (pooled_shape,), columns = self._cache
        m = columns[0].shape[1]
        y = checks.labels(y, m, CLASSES, context=f"for {m} examples")
        dZ = softmax_cross_entropy_grad(columns[-1], y)
        for l in reversed(range(self.n_conv, self.L)):
            i = l - self.n_conv
            self.dW[l][...] = layer_dw(dZ, columns[i])
            self.db[l][...] = layer_db(dZ)
            if l > self.n_conv:
                dZ = layer_dz(self.W[l], dZ, layers[l - 1][0])
        dA = (self.W[self.n_conv].T @ dZ).T.reshape(pooled_shape)  # into maps again
        for l in reversed(range(self.n_conv)):
            x_shape, cols, Z, R = layers[l]
            dZ = max_pool2d_backward(dA, R, POOL) * relu_deriv(Z)
            self.dW[l][...] = conv2d_dw(dZ, cols, self.W[l].shape) / m
            self.db[l][...] = conv2d_db(dZ) / m
            if l > 0:
                dA = conv2d_dx(dZ, self.W[l], x_shape)
        return self.gradients

    # ----------------------------------------------------------------- evaluation

    def predict_proba(self, X: np.ndarray, *, batch_size: int = 1000) -> np.ndarray:
        """Class probabilities ``(10, m)`` of the columns of X, ``batch_size`` at a time
        (the unfolded patches of a batch take memory in proportion to it)."""
        X = self.inputs(X)
        parts = [self._forward(X[:, i : i + batch_size], keep=False)
                 for i in range(0, max(X.shape[1], 1), batch_size)]
        return parts[0] if len(parts) == 1 else np.concatenate(parts, axis=1)

    def predict(self, X: np.ndarray) -> np.ndarray:
        """The predicted class of each column of X."""
        return np.argmax(self.predict_proba(X), axis=0)

    def loss(self, X: np.ndarray, y: np.ndarray) -> float:
        """The mean cross-entropy of (X, y), the function :meth:`backward` differentiates."""
        A = self.predict_proba(X)
        return cross_entropy(A, checks.labels(y, A.shape[1], CLASSES,
                                               context=f"for {A.shape[1]} examples"))

    def feature_maps(self, X: np.ndarray) -> list[np.ndarray]:
        """The output of each block's ReLU, ``(m, c_l, side, side)``, for the columns of X."""
        X = self.inputs(X)
        self._forward(X, keep=True)
        maps = [layer[3] for layer in self._cache[: self.n_conv]]
        self._cache = []
        return maps

"""Part II's L-layer network: any number of ReLU layers, a softmax output, regularisation.

Column convention, as in Part I: an example is a column. ``X = A[0]`` is ``(n_0, m)``;
layer ``l = 1..L`` has ``W[l]`` ``(n_l, n_(l-1))``, ``b[l]`` ``(n_l, 1)``, and ``Z[l]``,
``A[l]`` ``(n_l, m)``. Hidden layers use ReLU, the output layer the softmax, and the loss
is the mean cross-entropy against integer labels ``y`` ``(m,)`` (no one-hot matrix is
built). Python lists count from 0, so ``model.W[l - 1]`` holds the book's ``W[l]``.

Storage, for speed only: every weight and bias is a view into one contiguous vector
(:attr:`MLP.param_vector`), and every gradient a view into a second one
(:attr:`MLP.grad_vector`), so an optimiser can update all parameters in a handful of
array operations. The shapes seen through ``W``, ``b`` and ``gradients`` are the book's.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import pairwise
from typing import Literal

import numpy as np

from nnmath import seeding
from nnmath.activations import relu, relu_deriv, softmax
from nnmath.losses import check_labels, cross_entropy, softmax_cross_entropy_grad
from nnmath.twolayer import he_init, uniform_init

__all__ = [
    "INITS",
    "MLP",
    "dropout",
    "l2_grad",
    "l2_loss",
    "layer_db",
    "layer_dw",
    "layer_dz",
    "layer_forward",
    "scaled_init",
    "xavier_init",
]

Init = Literal["he", "xavier", "uniform", "scaled"]
Initialiser = Callable[..., tuple[np.ndarray, np.ndarray]]


# --------------------------------------------------------------------------- initialisation


def xavier_init(
    n_out: int, n_in: int, rng: np.random.Generator, dtype: type = np.float32
) -> tuple[np.ndarray, np.ndarray]:
    """Glorot (Xavier) initialisation: weights ``(n_out, n_in)`` from N(0, 2/(n_in + n_out)).

    Biases ``(n_out, 1)`` are zero. The variance 2/(n_in + n_out) is the compromise Glorot
    and Bengio (2010) chose between keeping the forward signal's variance (1/n_in) and the
    backward gradient's (1/n_out) for a linear or tanh unit; a ReLU halves the signal, which
    is why :func:`~nnmath.twolayer.he_init` uses 2/n_in instead.

    Implements: eq-init-xavier
    """
    std = np.sqrt(2.0 / (n_in + n_out))
    W = (rng.standard_normal((n_out, n_in)) * std).astype(dtype)
    b = np.zeros((n_out, 1), dtype=dtype)
    return W, b


def scaled_init(
    n_out: int,
    n_in: int,
    rng: np.random.Generator,
    dtype: type = np.float32,
    scale: float = 0.01,
) -> tuple[np.ndarray, np.ndarray]:
    """The slides' start: weights ``(n_out, n_in)`` = ``scale`` x N(0, 1), biases zero.

    With ``scale = 0.01`` a ReLU layer multiplies the root-mean-square size of its input
    by about 0.01 sqrt(n_in / 2): 0.2 for 784 inputs, 0.08 for 128. Through 784-128-64-10
    the logits start about 1000 times smaller than the pixels, the softmax is nearly
    uniform, and the weight gradients are hundreds of times smaller than from He's start,
    so plain SGD at a small learning rate barely moves: the loss stays near
    log 10 = 2.30.
    """
    W = (rng.standard_normal((n_out, n_in)) * scale).astype(dtype)
    b = np.zeros((n_out, 1), dtype=dtype)
    return W, b


#: The starting schemes of :class:`MLP`, by name: each maps ``(n_out, n_in, rng, dtype)``
#: to ``(W, b)``. "uniform" is Part I's U[-0.5, 0.5) for weights and biases.
INITS: dict[str, Initialiser] = {
    "he": he_init,
    "xavier": xavier_init,
    "uniform": uniform_init,
    "scaled": scaled_init,
}


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
    ``A - Y`` at the output). With dropout, ``mask`` is the factor D/keep_prob that
    :func:`dropout` applied to A[l]; the same factor multiplies the gradient on the way
    back, since A[l] enters the next layer only through it.

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


# --------------------------------------------------------------------------- regularisation


def l2_loss(loss: float, weights: Sequence[np.ndarray], lam: float, m: int) -> float:
    """The L2-regularised loss: L + (lam / 2m) sum_l ||W[l]||_F^2.

    ``loss`` is the mean cross-entropy of a batch of ``m`` examples, ``weights`` the
    matrices W[1..L] (the biases are not penalised). The squared Frobenius norm is the
    sum of the squares of all entries.

    Implements: eq-l2-loss
    """
    penalty = sum(float(np.vdot(W, W)) for W in weights)
    return loss + lam / (2 * m) * penalty


def l2_grad(
    dW: np.ndarray, W: np.ndarray, lam: float, m: int, out: np.ndarray | None = None
) -> np.ndarray:
    """The weight gradient of the L2-regularised loss: dW + (lam / m) W.

    ``dW`` and ``W`` have the same shape; returns that shape, written into ``out`` when
    given (``out=dW`` updates the gradient in place).

    Implements: eq-l2-grad
    """
    return np.add(dW, (lam / m) * W, out=out)


def dropout(
    A: np.ndarray, keep_prob: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Inverted dropout at training time: A * D / keep_prob, with D ~ Bernoulli(keep_prob).

    Each unit of ``A`` ``(n, m)`` is kept with probability ``keep_prob`` and scaled by
    1/keep_prob, so its expected value is unchanged and the network needs no rescaling at
    test time, where dropout is the identity (this function is not called). Returns the
    dropped activations and the factor D/keep_prob (0 or 1/keep_prob, ``A``'s dtype),
    which :func:`layer_dz` needs on the way back.

    Implements: eq-dropout
    """
    if not 0 < keep_prob <= 1:
        raise ValueError(
            f"keep_prob: expected a probability in (0, 1], got {keep_prob}"
        )
    draws = rng.random(A.shape, dtype=np.float32)
    mask = (draws < keep_prob).astype(A.dtype)
    mask *= 1 / keep_prob
    return A * mask, mask


# --------------------------------------------------------------------------- the network


class MLP:
    """A fully connected network: ReLU hidden layers, a softmax output, cross-entropy loss.

    ``sizes`` lists the widths n_0 (inputs), n_1, ..., n_L (classes); the default is the
    slides' 784-128-64-10. ``init`` names a scheme of :data:`INITS`; ``l2`` is lambda of
    :func:`l2_loss`; ``dropout`` the probability of DROPPING a hidden unit during training
    (keep_prob = 1 - dropout); ``seed`` fixes both the starting parameters and the dropout
    masks. Everything is computed in ``dtype`` (float32 to train, float64 to check
    gradients); inputs of another float dtype are converted.

    After :meth:`forward` (which caches what the backward pass needs), :meth:`backward`
    fills :attr:`gradients`, parallel to :attr:`params` = ``[W1, b1, W2, b2, ...]``.
    The arrays in ``W`` and ``b`` are views into :attr:`param_vector`: change them in
    place (``model.W[0][...] = W1``, or :meth:`set_params`), never by rebinding
    ``model.W[0] = W1``, which would cut the link that :func:`nnmath.train.fit` uses.
    """

    def __init__(
        self,
        sizes: Sequence[int] = (784, 128, 64, 10),
        *,
        seed: int = 0,
        init: Init = "he",
        l2: float = 0.0,
        dropout: float = 0.0,
        dtype: type = np.float32,
    ) -> None:
        sizes = tuple(int(n) for n in sizes)
        if len(sizes) < 2 or min(sizes) < 1:
            raise ValueError(
                f"sizes: expected at least two positive widths (inputs, ..., classes), "
                f"got {sizes}"
            )
        if init not in INITS:
            raise ValueError(f"init: expected one of {sorted(INITS)}, got {init!r}")
        if not (np.isfinite(l2) and l2 >= 0):
            raise ValueError(f"l2: expected lambda >= 0, got {l2}")
        if not 0 <= dropout < 1:
            raise ValueError(
                f"dropout: expected a drop probability in [0, 1), got {dropout}"
            )
        if not np.issubdtype(dtype, np.floating):
            raise TypeError(f"dtype: expected a floating-point type, got {dtype}")
        self.sizes = sizes
        self.init = init
        self.l2 = float(l2)
        self.dropout = float(dropout)
        self.dtype = np.dtype(dtype)
        self.seed = seed
        self.rng = seeding.rng(seed)
        self.W: list[np.ndarray] = []
        self.b: list[np.ndarray] = []
        self.dW: list[np.ndarray] = []
        self.db: list[np.ndarray] = []
        shapes = [((n, n_prev), (n, 1)) for n_prev, n in pairwise(sizes)]
        total = sum(n * (k + 1) for (n, k), _ in shapes)
        self.param_vector = np.zeros(total, dtype=self.dtype)
        self.grad_vector = np.zeros(total, dtype=self.dtype)
        start = 0
        for w_shape, b_shape in shapes:
            for params, grads, shape in (
                (self.W, self.dW, w_shape),
                (self.b, self.db, b_shape),
            ):
                size = shape[0] * shape[1]
                params.append(self.param_vector[start : start + size].reshape(shape))
                grads.append(self.grad_vector[start : start + size].reshape(shape))
                start += size
        for W, b in zip(self.W, self.b, strict=True):
            W[...], b[...] = INITS[init](W.shape[0], W.shape[1], self.rng, self.dtype)
        self._Z: list[np.ndarray] = []
        self._A: list[np.ndarray] = []
        self._masks: list[np.ndarray | None] = []

    # ----------------------------------------------------------------- parameters

    @property
    def L(self) -> int:
        """The number of layers with parameters."""
        return len(self.W)

    @property
    def params(self) -> list[np.ndarray]:
        """``[W1, b1, W2, b2, ..., WL, bL]``: views, so updating them in place trains."""
        return [p for pair in zip(self.W, self.b, strict=True) for p in pair]

    @property
    def gradients(self) -> list[np.ndarray]:
        """``[dW1, db1, ..., dWL, dbL]`` from the last :meth:`backward`, parallel to params.

        Views into :attr:`grad_vector`: the next backward pass overwrites them; copy what
        you want to keep.
        """
        return [g for pair in zip(self.dW, self.db, strict=True) for g in pair]

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

    def __repr__(self) -> str:
        return (
            f"MLP(sizes={self.sizes}, init={self.init!r}, l2={self.l2}, "
            f"dropout={self.dropout}, dtype={self.dtype.name}, seed={self.seed})"
        )

    # ----------------------------------------------------------------- checks

    def _check_X(self, X: np.ndarray, name: str = "X") -> np.ndarray:
        """``X`` as ``(n_0, m)`` in the network's dtype; a clear error otherwise."""
        X = np.asarray(X)
        if X.ndim != 2 or X.shape[0] != self.sizes[0]:
            hint = (
                " (one COLUMN per example: transpose it)"
                if X.ndim == 2 and X.shape[1] == self.sizes[0]
                else ""
            )
            raise ValueError(
                f"{name}: expected ({self.sizes[0]}, m) to match sizes {self.sizes}, "
                f"got {X.shape}{hint}"
            )
        if not np.issubdtype(X.dtype, np.floating):
            raise TypeError(
                f"{name}: expected floating-point inputs scaled to [0, 1] (see "
                f"nnmath.data.scale_pixels), got dtype {X.dtype}"
            )
        return X.astype(self.dtype, copy=False)

    def _check_y(self, y: np.ndarray, m: int, name: str = "y") -> np.ndarray:
        return check_labels(
            y, m, self.sizes[-1], name=name, context=f"for {m} examples"
        )

    # ----------------------------------------------------------------- forward, backward

    def forward(
        self,
        X: np.ndarray,
        *,
        train: bool = False,
        rng: np.random.Generator | None = None,
    ) -> np.ndarray:
        """The forward pass: A[L] ``(n_L, m)``, the class probabilities of each column of X.

        ``X`` is ``(n_0, m)``. Caches every Z[l] and A[l] for :meth:`backward`. With
        ``train=True`` and ``dropout > 0`` the hidden activations are dropped (inverted
        dropout, masks drawn from ``rng``, by default the network's own generator); with
        ``train=False`` dropout is the identity.
        """
        return self._forward(self._check_X(X), train=train, rng=rng)

    def _forward(
        self,
        X: np.ndarray,
        *,
        train: bool = False,
        rng: np.random.Generator | None = None,
    ) -> np.ndarray:
        """:meth:`forward` without input checks (``X`` already ``(n_0, m)``, right dtype)."""
        drop = train and self.dropout > 0
        rng = self.rng if rng is None else rng
        Zs, As, masks = [], [X], []
        A = X
        for l in range(self.L):
            hidden = l < self.L - 1
            Z, A = layer_forward(self.W[l], A, self.b[l], relu if hidden else softmax)
            mask = None
            if drop and hidden:
                A, mask = dropout(A, 1 - self.dropout, rng)
            Zs.append(Z)
            As.append(A)
            masks.append(mask)
        self._Z, self._A, self._masks = Zs, As, masks
        return A

    def backward(self, y: np.ndarray) -> list[np.ndarray]:
        """Gradients of the (regularised) mean loss of the last forward batch, labels ``y``.

        ``y`` holds the ``m`` integer labels of the columns passed to :meth:`forward`.
        Returns :attr:`gradients` ``[dW1, db1, ..., dWL, dbL]``, shaped like
        :attr:`params`: dZ[L] = A[L] - Y, then for l = L..1 dW[l], db[l] and, below the
        top, dZ[l-1]; with ``l2 > 0`` each dW[l] gets + (lambda/m) W[l].
        """
        if not self._A:
            raise RuntimeError("backward: call forward(X) first")
        m = self._A[0].shape[1]
        return self._backward(self._check_y(y, m))

    def _backward(self, y: np.ndarray) -> list[np.ndarray]:
        """:meth:`backward` without label checks."""
        As, Zs, masks = self._A, self._Z, self._masks
        m = As[0].shape[1]
        dZ = softmax_cross_entropy_grad(As[-1], y)
        for l in range(self.L - 1, -1, -1):
            layer_dw(dZ, As[l], out=self.dW[l])
            if self.l2:
                l2_grad(self.dW[l], self.W[l], self.l2, m, out=self.dW[l])
            layer_db(dZ, out=self.db[l])
            if l > 0:
                dZ = layer_dz(self.W[l], dZ, Zs[l - 1], masks[l - 1])
        return self.gradients

    # ----------------------------------------------------------------- evaluation

    def predict_proba(self, X: np.ndarray, *, batch_size: int = 10_000) -> np.ndarray:
        """Class probabilities A[L] ``(n_L, m)`` of the columns of X, dropout off.

        Computed ``batch_size`` columns at a time, so a large X needs little memory; the
        cache of :meth:`forward` is left untouched.
        """
        X = self._check_X(X)
        cache = self._Z, self._A, self._masks
        try:
            parts = [
                self._forward(X[:, i : i + batch_size])
                for i in range(0, max(X.shape[1], 1), batch_size)
            ]
        finally:
            self._Z, self._A, self._masks = cache
        return parts[0] if len(parts) == 1 else np.concatenate(parts, axis=1)

    def predict(self, X: np.ndarray) -> np.ndarray:
        """The predicted class of each column of X: the row of its largest probability."""
        return np.argmax(self.predict_proba(X), axis=0)

    def loss(self, X: np.ndarray, y: np.ndarray) -> float:
        """The mean cross-entropy of (X, y), plus the L2 penalty when ``l2 > 0``; no dropout.

        This is the function whose gradient :meth:`backward` returns (after a forward pass
        with ``train=False``).
        """
        X = self._check_X(X)
        y = self._check_y(y, X.shape[1])
        value = cross_entropy(self.predict_proba(X), y)
        if self.l2:
            value = l2_loss(value, self.W, self.l2, X.shape[1])
        return value

"""Regularisation, a step added to the network of :mod:`nnmath.mlp`: L2 and inverted dropout.

Each technique is a function of its equation (:func:`l2_loss`, :func:`l2_grad`,
:func:`dropout`), and :class:`RegularisedMLP` composes them into the network: it is
:class:`~nnmath.mlp.MLP` with three of its steps changed. A hidden layer's activations
are dropped on the way forward (while training), the same units pass no gradient on the
way back, and every weight gradient gets the L2 term.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from nnmath.mlp import MLP, ZA, layer_dz

__all__ = ["RegularisedMLP", "dropout", "l2_grad", "l2_loss"]


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
    which :func:`~nnmath.mlp.layer_dz` needs on the way back.

    Implements: eq-dropout
    """
    if not 0 < keep_prob <= 1:
        raise ValueError(f"keep_prob: expected a probability in (0, 1], got {keep_prob}")
    draws = rng.random(A.shape, dtype=np.float32)
    mask = (draws < keep_prob).astype(A.dtype)
    mask *= 1 / keep_prob
    return A * mask, mask


class RegularisedMLP(MLP):
    """:class:`~nnmath.mlp.MLP` with L2 regularisation and inverted dropout.

    ``l2`` is lambda of :func:`l2_loss`; ``dropout`` the probability of DROPPING a hidden
    unit during training (keep_prob = 1 - dropout), with masks drawn from the network's
    generator :attr:`rng` (so ``seed`` fixes them too). The other arguments are MLP's.
    With ``l2=0`` and ``dropout=0`` it computes exactly what MLP computes.
    """

    def __init__(
        self,
        sizes: Sequence[int] = (784, 128, 64, 10),
        *,
        l2: float = 0.0,
        dropout: float = 0.0,
        **options: object,
    ) -> None:
        if not (np.isfinite(l2) and l2 >= 0):
            raise ValueError(f"l2: expected lambda >= 0, got {l2}")
        if not 0 <= dropout < 1:
            raise ValueError(f"dropout: expected a drop probability in [0, 1), got {dropout}")
        super().__init__(sizes, **options)  # type: ignore[arg-type]
        self.l2, self.dropout = float(l2), float(dropout)
        self.masks: list[np.ndarray | None] = []

    def _options(self) -> str:
        return f", l2={self.l2}, dropout={self.dropout}"

    def forward(self, X: np.ndarray, *, train: bool = False) -> np.ndarray:
        """:meth:`MLP.forward`; with ``train=True`` each hidden layer's A[l] is dropped."""
        self.masks = [None] * self.L
        return super().forward(X, train=train)

    def layer(self, l: int, A_prev: np.ndarray, train: bool = False) -> ZA:
        """:meth:`MLP.layer`, then, while training a hidden layer, dropout (eq-dropout)."""
        Z, A = super().layer(l, A_prev)
        if train and self.dropout and l < self.L - 1:
            A, self.masks[l] = dropout(A, 1 - self.dropout, self.rng)
        return Z, A

    def delta(self, l: int, dZ: np.ndarray) -> np.ndarray:
        """:meth:`MLP.delta` through the mask of the layer below (eq-layer-dz with D)."""
        return layer_dz(self.W[l], dZ, self.Z[l - 1], self.masks[l - 1])

    def backward(self, y: np.ndarray) -> list[np.ndarray]:
        """:meth:`MLP.backward`, then dW[l] += (lambda / m) W[l] for every layer (eq-l2-grad)."""
        gradients = super().backward(y)
        if self.l2:
            m = self.A[0].shape[1]
            for dW, W in zip(self.dW, self.W, strict=True):
                l2_grad(dW, W, self.l2, m, out=dW)
        return gradients

    def loss(self, X: np.ndarray, y: np.ndarray) -> float:
        """The mean cross-entropy of (X, y) plus the L2 penalty (eq-l2-loss); no dropout."""
        value = super().loss(X, y)
        return l2_loss(value, self.W, self.l2, np.shape(X)[1]) if self.l2 else value

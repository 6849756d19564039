"""Optimisers and learning-rate schedules.

An optimiser holds a learning rate ``lr`` (a schedule may change it between epochs) and,
for the adaptive ones, a state per parameter array. ``step(params, grads)`` updates the
arrays of ``params`` IN PLACE from the parallel list ``grads``; the state is created at the
first step, shaped like the parameters. Each update rule is also a function of its own,
named for its equation, so the book can show it and the tests can check it by hand.

Any list of arrays works: ``model.params`` with ``model.gradients``, or, faster, the two
flat vectors of :func:`nnmath.fast.mlp.flattened`, ``[params]`` with ``[grads]`` (every rule
here is elementwise, so updating the one vector is the same arithmetic as updating each
array).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

__all__ = [
    "OPTIMIZERS",
    "SGD",
    "Adam",
    "Momentum",
    "Optimizer",
    "RMSProp",
    "adam_bias_correction",
    "adam_moments",
    "adam_update",
    "cosine_schedule",
    "momentum_update",
    "rmsprop_update",
    "sgd_update",
    "step_schedule",
]


# --------------------------------------------------------------------------- update rules


def sgd_update(theta: np.ndarray, grad: np.ndarray, lr: float) -> None:
    """Plain (stochastic) gradient descent, in place: theta := theta - lr * grad.

    The rule of Part I's :func:`~nnmath.twolayer.update_params` (eq-update), for one array
    of any shape, updated in place; "stochastic" because ``grad`` is a mini-batch's.

    Implements: eq-sgd
    """
    theta -= lr * grad


def momentum_update(
    theta: np.ndarray, velocity: np.ndarray, grad: np.ndarray, lr: float, beta: float
) -> None:
    """Gradient descent with momentum, in place: v := beta v + (1 - beta) grad; theta -= lr v.

    ``velocity`` is an exponentially weighted average of past gradients (about the last
    1/(1 - beta) of them), so steps along a consistent direction keep their size and
    steps that flip sign average out. Written with the (1 - beta) factor, one step on a
    constant gradient has the size of plain SGD's at the same ``lr``.

    Implements: eq-momentum
    """
    velocity *= beta
    velocity += (1 - beta) * grad
    theta -= lr * velocity


def rmsprop_update(
    theta: np.ndarray,
    square_avg: np.ndarray,
    grad: np.ndarray,
    lr: float,
    beta: float,
    eps: float,
) -> None:
    """RMSProp, in place: s := beta s + (1 - beta) grad^2; theta -= lr grad / (sqrt(s) + eps).

    Each parameter's step is divided by the root mean square of its recent gradients, so
    parameters with large gradients take smaller steps and vice versa.

    Implements: eq-rmsprop
    """
    square_avg *= beta
    square_avg += (1 - beta) * np.square(grad)
    theta -= lr * grad / (np.sqrt(square_avg) + eps)


def adam_moments(
    m: np.ndarray, v: np.ndarray, grad: np.ndarray, beta1: float, beta2: float
) -> None:
    """Adam's moment estimates, in place: m := b1 m + (1 - b1) g; v := b2 v + (1 - b2) g^2.

    ``m`` averages the gradients (as momentum does), ``v`` their squares (as RMSProp
    does). Both start at 0.

    Implements: eq-adam-moments
    """
    m *= beta1
    m += (1 - beta1) * grad
    v *= beta2
    v += (1 - beta2) * np.square(grad)


def adam_bias_correction(
    m: np.ndarray, v: np.ndarray, t: int, beta1: float, beta2: float
) -> tuple[np.ndarray, np.ndarray]:
    """Unbiased estimates after ``t`` steps: m_hat = m / (1 - b1^t), v_hat = v / (1 - b2^t).

    Started at 0, ``m`` and ``v`` are weighted sums whose weights add up to only
    1 - b^t; dividing by it makes them averages. At t = 1, m_hat = g and v_hat = g^2
    exactly. Returns new arrays.

    Implements: eq-adam-bias-correction
    """
    if t < 1:
        raise ValueError(f"t: expected the number of steps taken, >= 1, got {t}")
    return m / (1 - beta1**t), v / (1 - beta2**t)


def adam_update(
    theta: np.ndarray, m_hat: np.ndarray, v_hat: np.ndarray, lr: float, eps: float
) -> None:
    """Adam's step, in place: theta := theta - lr m_hat / (sqrt(v_hat) + eps).

    Implements: eq-adam-update
    """
    step = np.sqrt(v_hat)
    step += eps
    np.divide(m_hat, step, out=step)
    step *= lr
    theta -= step


# --------------------------------------------------------------------------- optimisers


class Optimizer:
    """Base class: checks ``params`` and ``grads`` and keeps per-array state.

    Subclasses define :meth:`_update` for one array. ``t`` counts the steps taken.
    """

    #: names of the state arrays each parameter array gets (all start at zero)
    slots: tuple[str, ...] = ()

    def __init__(self, lr: float) -> None:
        self.lr = lr
        self.t = 0
        self.state: list[dict[str, np.ndarray]] | None = None

    @property
    def lr(self) -> float:
        """The learning rate alpha (a schedule may change it between steps)."""
        return self._lr

    @lr.setter
    def lr(self, value: float) -> None:
        value = float(value)
        if not (math.isfinite(value) and value >= 0):
            raise ValueError(f"lr: expected a learning rate >= 0, got {value}")
        self._lr = value

    def reset(self) -> None:
        """Forget the state and the step count (for a new training run)."""
        self.t = 0
        self.state = None

    def _check(self, params: Sequence[np.ndarray], grads: Sequence[np.ndarray]) -> None:
        if len(params) != len(grads):
            raise ValueError(
                f"params and grads: expected parallel lists, got {len(params)} and "
                f"{len(grads)} arrays"
            )
        for i, (p, g) in enumerate(zip(params, grads, strict=True)):
            if p.shape != g.shape:
                raise ValueError(
                    f"grads[{i}]: expected the shape of params[{i}] {p.shape}, got {g.shape}"
                )
        if self.state is not None:
            shapes = [s[self.slots[0]].shape for s in self.state] if self.slots else []
            if self.slots and shapes != [p.shape for p in params]:
                raise ValueError(
                    f"params: this optimiser's state was made for arrays of shapes "
                    f"{shapes}, got {[p.shape for p in params]}; call reset() first"
                )

    def step(self, params: Sequence[np.ndarray], grads: Sequence[np.ndarray]) -> None:
        """Update every array of ``params`` in place from the parallel ``grads``."""
        self._check(params, grads)
        if self.state is None:
            self.state = [
                {name: np.zeros_like(p) for name in self.slots} for p in params
            ]
        self.t += 1
        for p, g, s in zip(params, grads, self.state, strict=True):
            self._update(p, g, s)

    def _update(self, p: np.ndarray, g: np.ndarray, s: dict[str, np.ndarray]) -> None:
        raise NotImplementedError

    def __repr__(self) -> str:
        extra = "".join(
            f", {k}={v}"
            for k, v in vars(self).items()
            if k not in ("_lr", "t", "state")
        )
        return f"{type(self).__name__}(lr={self.lr}{extra})"


class SGD(Optimizer):
    """Plain mini-batch gradient descent: :func:`sgd_update` on every array."""

    def __init__(self, lr: float = 0.01) -> None:
        super().__init__(lr)

    def _update(self, p: np.ndarray, g: np.ndarray, s: dict[str, np.ndarray]) -> None:
        sgd_update(p, g, self.lr)


class Momentum(Optimizer):
    """Gradient descent with momentum: :func:`momentum_update`, one velocity per array."""

    slots = ("velocity",)

    def __init__(self, lr: float = 0.01, beta: float = 0.9) -> None:
        super().__init__(lr)
        self.beta = _check_beta("beta", beta)

    def _update(self, p: np.ndarray, g: np.ndarray, s: dict[str, np.ndarray]) -> None:
        momentum_update(p, s["velocity"], g, self.lr, self.beta)


class RMSProp(Optimizer):
    """RMSProp: :func:`rmsprop_update`, one running mean of squared gradients per array."""

    slots = ("square_avg",)

    def __init__(self, lr: float = 0.001, beta: float = 0.9, eps: float = 1e-8) -> None:
        super().__init__(lr)
        self.beta = _check_beta("beta", beta)
        self.eps = eps

    def _update(self, p: np.ndarray, g: np.ndarray, s: dict[str, np.ndarray]) -> None:
        rmsprop_update(p, s["square_avg"], g, self.lr, self.beta, self.eps)


class Adam(Optimizer):
    """Adam (Kingma and Ba, 2015): moments, bias correction, update; defaults of the paper."""

    slots = ("m", "v")

    def __init__(
        self,
        lr: float = 0.001,
        beta1: float = 0.9,
        beta2: float = 0.999,
        eps: float = 1e-8,
    ) -> None:
        super().__init__(lr)
        self.beta1 = _check_beta("beta1", beta1)
        self.beta2 = _check_beta("beta2", beta2)
        self.eps = eps

    def _update(self, p: np.ndarray, g: np.ndarray, s: dict[str, np.ndarray]) -> None:
        adam_moments(s["m"], s["v"], g, self.beta1, self.beta2)
        m_hat, v_hat = adam_bias_correction(
            s["m"], s["v"], self.t, self.beta1, self.beta2
        )
        adam_update(p, m_hat, v_hat, self.lr, self.eps)


def _check_beta(name: str, beta: float) -> float:
    if not 0 <= beta < 1:
        raise ValueError(f"{name}: expected a decay rate in [0, 1), got {beta}")
    return float(beta)


# --------------------------------------------------------------------------- schedules


def step_schedule(
    epoch: int, *, lr0: float, drop: float = 0.5, every: int = 5
) -> float:
    """Step decay: lr = lr0 * drop^floor(epoch / every), for epochs counted from 0.

    Use with :func:`functools.partial` to get the ``schedule(epoch)`` that
    :func:`nnmath.train.fit` expects, e.g. ``partial(step_schedule, lr0=1e-3)``.

    Implements: eq-step-schedule
    """
    if epoch < 0 or every < 1:
        raise ValueError(
            f"epoch, every: expected >= 0 and >= 1, got {epoch} and {every}"
        )
    return lr0 * drop ** (epoch // every)


def cosine_schedule(
    epoch: int, *, lr0: float, total: int, lr_min: float = 0.0
) -> float:
    """Cosine decay from lr0 to lr_min over ``total`` epochs (counted from 0).

    lr = lr_min + (lr0 - lr_min) (1 + cos(pi epoch / total)) / 2; it stays at lr_min
    after ``total``.

    Implements: eq-cosine-schedule
    """
    if epoch < 0 or total < 1:
        raise ValueError(
            f"epoch, total: expected >= 0 and >= 1, got {epoch} and {total}"
        )
    t = min(epoch, total) / total
    return lr_min + (lr0 - lr_min) * (1 + math.cos(math.pi * t)) / 2


#: The optimisers by the name ``nnmath train --optimizer`` (and a search trial) takes.
OPTIMIZERS: dict[str, type[Optimizer]] = {
    "adam": Adam,
    "sgd": SGD,
    "momentum": Momentum,
    "rmsprop": RMSProp,
}

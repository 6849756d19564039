"""Mini-batch training: shuffle, forward, backward, step; record what happened each epoch.

``X`` is ``(n_0, m)``, one column per example, and ``y`` the ``m`` integer labels, as
everywhere in the book. For speed :func:`fit` keeps a row-major copy of the training
set (``X.T``, C-contiguous): the columns of a mini-batch are then whole rows, gathered by
one ``np.take`` into a buffer that is reused batch after batch, and ``buffer.T`` is the
book's ``(n_0, batch)`` matrix with no further copy.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import asdict, dataclass, field

import numpy as np
from threadpoolctl import threadpool_limits
from tqdm import tqdm  # plain bars: no widget warning inside a notebook

from nnmath import seeding
from nnmath.losses import check_labels, cross_entropy
from nnmath.mlp import MLP
from nnmath.optim import Optimizer

__all__ = ["History", "evaluate", "fit"]


@dataclass
class History:
    """What :func:`fit` measured, one entry per epoch (epochs counted from 1).

    ``train_loss`` and ``train_accuracy`` are running means over the epoch's mini-batches,
    each measured in the forward pass that preceded its update (free, but taken while the
    weights change and, with dropout, on the dropped network). ``dev_loss`` and
    ``dev_accuracy`` are measured after the epoch on the whole dev set, without dropout
    (NaN without a dev set). Losses are the mean cross-entropy, without the L2 penalty.
    ``seconds`` is each epoch's wall time, ``lr`` its learning rate. ``best_epoch`` is the
    epoch of the lowest dev loss (None without a dev set); with early stopping the
    network ends with that epoch's weights and ``stopped_early`` says whether the
    patience ran out.
    """

    epoch: list[int] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    train_accuracy: list[float] = field(default_factory=list)
    dev_loss: list[float] = field(default_factory=list)
    dev_accuracy: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    best_epoch: int | None = None
    stopped_early: bool = False

    def __len__(self) -> int:
        return len(self.epoch)

    def to_dict(self) -> dict[str, object]:
        """The history as plain lists and numbers (for JSON, pandas or a plot)."""
        return asdict(self)


def evaluate(model: MLP, X: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """``(mean cross-entropy, accuracy)`` of ``model`` on ``X`` ``(n_0, m)``, ``y`` ``(m,)``.

    No dropout, no L2 penalty.
    """
    A = model.predict_proba(X)
    y = check_labels(
        y, A.shape[1], A.shape[0], context=f"for X with {A.shape[1]} columns"
    )
    return cross_entropy(A, y), float(np.mean(np.argmax(A, axis=0) == y))


def _training_arrays(
    model: MLP, optimizer: Optimizer
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """The arrays the optimiser updates: the model's one flat vector, unless the optimiser
    already holds state made for its separate arrays."""
    flat = [model.param_vector], [model.grad_vector]
    state = optimizer.state
    if state is None or len(state) == 1:
        return flat
    return model.params, model.gradients


def fit(
    model: MLP,
    optimizer: Optimizer,
    X: np.ndarray,
    y: np.ndarray,
    *,
    epochs: int,
    batch_size: int,
    seed: int,
    X_dev: np.ndarray | None = None,
    y_dev: np.ndarray | None = None,
    schedule: Callable[[int], float] | None = None,
    early_stopping: int | None = None,
    progress: bool = False,
    callback: Callable[[MLP, History], bool | None] | None = None,
    blas_threads: int | None = 1,
) -> History:
    """Train ``model`` with ``optimizer`` on mini-batches of (X, y); return the History.

    ``X`` is ``(n_0, m)``, ``y`` ``(m,)``. Each epoch visits every example once, in an
    order drawn from ``nnmath.seeding.rng(seed)``; the last batch of an epoch may be
    smaller. Per batch: a forward pass with dropout on, the backward pass, one optimiser
    step. The same model seed and ``seed`` give bitwise-identical weights.

    - ``schedule(epoch)``, epochs counted from 0, sets ``optimizer.lr`` before each epoch
      (see :func:`~nnmath.optim.step_schedule`, :func:`~nnmath.optim.cosine_schedule`).
    - ``early_stopping=patience`` (needs a dev set) stops after ``patience`` epochs without
      a new lowest dev loss, and in any case ends with the weights of the best epoch.
    - ``callback(model, history)`` runs after each epoch; returning True stops training.
    - ``progress=True`` shows a tqdm bar over the epochs; ``False`` prints nothing.
    - ``blas_threads`` limits the BLAS threads during training (None: leave as is). One
      is the default: on the book's 2-core machine two threads were about 20% faster
      while the machine was otherwise idle, but several times slower as soon as another
      process used the second core (and parallel searches want one thread per process).
    """
    X = model._check_X(X)
    m = X.shape[1]
    y = check_labels(y, m, model.sizes[-1], context=f"to match X {X.shape}")
    if m == 0:
        raise ValueError("X: expected at least one example, got 0 columns")
    if not (isinstance(epochs, int | np.integer) and epochs >= 0):
        raise ValueError(f"epochs: expected an integer >= 0, got {epochs!r}")
    if not (isinstance(batch_size, int | np.integer) and batch_size >= 1):
        raise ValueError(f"batch_size: expected an integer >= 1, got {batch_size!r}")
    if (X_dev is None) != (y_dev is None):
        raise ValueError("X_dev and y_dev: give both or neither")
    if X_dev is not None:
        X_dev = model._check_X(X_dev, "X_dev")
        y_dev = check_labels(
            y_dev,
            X_dev.shape[1],
            model.sizes[-1],
            name="y_dev",
            context=f"to match X_dev {X_dev.shape}",
        )
    if early_stopping is not None:
        if X_dev is None:
            raise ValueError("early_stopping: needs a dev set (X_dev, y_dev)")
        if early_stopping < 1:
            raise ValueError(
                f"early_stopping: expected a patience >= 1, got {early_stopping}"
            )

    rng = seeding.rng(seed)
    rows = np.ascontiguousarray(X.T)  # (m, n_0): example i is row i
    y = y.astype(np.intp, copy=False)
    batch = min(batch_size, m)
    buffer = np.empty((batch, rows.shape[1]), dtype=model.dtype)
    columns = np.arange(batch)
    tiny = np.finfo(model.dtype).tiny
    params, grads = _training_arrays(model, optimizer)

    history = History()
    best_loss, best_params, waited = np.inf, None, 0
    bar = tqdm(total=epochs, unit="epoch", disable=not progress, leave=True)
    limits = (
        threadpool_limits(limits=blas_threads, user_api="blas")
        if blas_threads is not None
        else nullcontext()
    )
    with bar, limits:
        for epoch in range(epochs):
            start_time = time.perf_counter()
            if schedule is not None:
                optimizer.lr = schedule(epoch)
            order = rng.permutation(m)
            loss_sum, correct = 0.0, 0
            for start in range(0, m, batch):
                idx = order[start : start + batch]
                k = idx.size
                Xb = np.take(rows, idx, axis=0, out=buffer[:k], mode="clip").T
                yb = y[idx]
                A = model._forward(Xb, train=True)
                p = A[yb, columns[:k]]
                loss_sum -= float(np.log(np.maximum(p, tiny)).sum())
                correct += int(np.count_nonzero(A.argmax(axis=0) == yb))
                model._backward(yb)
                optimizer.step(params, grads)

            history.epoch.append(epoch + 1)
            history.lr.append(optimizer.lr)
            history.train_loss.append(loss_sum / m)
            history.train_accuracy.append(correct / m)
            dev_loss, dev_accuracy = np.nan, np.nan
            if X_dev is not None:
                dev_loss, dev_accuracy = evaluate(model, X_dev, y_dev)
                if dev_loss < best_loss:
                    best_loss, history.best_epoch, waited = dev_loss, epoch + 1, 0
                    if early_stopping is not None:
                        best_params = model.param_vector.copy()
                else:
                    waited += 1
            history.dev_loss.append(dev_loss)
            history.dev_accuracy.append(dev_accuracy)
            history.seconds.append(time.perf_counter() - start_time)

            bar.set_postfix(
                loss=f"{history.train_loss[-1]:.4f}",
                acc=f"{history.train_accuracy[-1]:.4f}",
                dev_acc=f"{dev_accuracy:.4f}",
                refresh=False,
            )
            bar.update()
            stop = callback is not None and callback(model, history) is True
            if early_stopping is not None and waited >= early_stopping:
                history.stopped_early = True
                stop = True
            if stop:
                break

    if best_params is not None:
        model.param_vector[...] = best_params
    return history

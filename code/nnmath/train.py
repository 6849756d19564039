"""Mini-batch training: shuffle, forward, backward, step; record what happened each epoch.

``X`` is ``(n_0, m)``, one column per example, and ``y`` the ``m`` integer labels, as
everywhere in the book. :func:`train_epoch` is one epoch, the loop of the chapter on
mini-batches; :func:`fit` runs epochs and keeps the :class:`History`. By default ``fit``
runs :func:`nnmath.fast.mlp.train_epoch`, which takes the same steps faster.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import numpy as np
from tqdm import tqdm  # plain bars: no widget warning inside a notebook

from nnmath import checks, seeding
from nnmath.cnn import CNN
from nnmath.fast import blas_threads as blas_limit
from nnmath.fast import cnn as fast_cnn
from nnmath.fast import mlp as fast_mlp
from nnmath.losses import cross_entropy
from nnmath.metrics import accuracy
from nnmath.mlp import MLP
from nnmath.optim import Optimizer

__all__ = ["History", "Network", "evaluate", "fit", "train_epoch"]

#: The networks that :func:`fit` trains: the same params, forward, backward, predict_proba.
Network = MLP | CNN

#: ``transform(X, rng) -> X``: a new version of the training images for each epoch.
Transform = Callable[[np.ndarray, np.random.Generator], np.ndarray]


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

    def append(self, train_loss: float, train_accuracy: float, dev_loss: float,
               dev_accuracy: float, seconds: float, lr: float) -> None:
        """Add the next epoch's numbers; it becomes the best epoch if its dev loss is lowest."""
        best = np.inf if self.best_epoch is None else self.dev_loss[self.best_epoch - 1]
        self.epoch.append(len(self) + 1)
        for name, value in (("train_loss", train_loss), ("train_accuracy", train_accuracy),
                            ("dev_loss", dev_loss), ("dev_accuracy", dev_accuracy),
                            ("seconds", seconds), ("lr", lr)):
            getattr(self, name).append(value)
        if dev_loss < best:
            self.best_epoch = len(self)

    def out_of_patience(self, patience: int | None) -> bool:
        """Whether ``patience`` epochs have passed without a new lowest dev loss (None: no)."""
        return patience is not None and len(self) - (self.best_epoch or 0) >= patience

    def to_dict(self) -> dict[str, object]:
        """The history as plain lists and numbers (for JSON, pandas or a plot)."""
        return asdict(self)


def evaluate(model: Network, X: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """``(mean cross-entropy, accuracy)`` of ``model`` on ``X`` ``(n_0, m)``, ``y`` ``(m,)``.

    As at test time: no dropout, no L2 penalty.
    """
    A = model.predict_proba(X)
    y = checks.labels(y, A.shape[1], A.shape[0], context=f"for X with {A.shape[1]} columns")
    return cross_entropy(A, y), accuracy(y, A.argmax(axis=0))


def train_epoch(
    model: Network,
    optimizer: Optimizer,
    X: np.ndarray,
    y: np.ndarray,
    batch_size: int,
    rng: np.random.Generator,
) -> tuple[float, float]:
    """One epoch of mini-batch gradient descent; returns its running (loss, accuracy).

    ``X`` is ``(n_0, m)``, ``y`` ``(m,)``. The examples are put in the order
    ``rng.permutation(m)``, and consecutive slices of ``batch_size`` of them are the
    batches (the last one smaller when ``batch_size`` does not divide m). For each batch:
    the forward pass (dropout on), the backward pass, one optimiser step. The loss and
    accuracy are means over the epoch's batches, read off each batch's forward pass.
    """
    m = X.shape[1]
    order = rng.permutation(m)
    loss_sum = correct = 0.0
    for start in range(0, m, batch_size):
        batch = order[start : start + batch_size]
        A = model.forward(X[:, batch], train=True)
        loss_sum += cross_entropy(A, y[batch]) * batch.size
        correct += accuracy(y[batch], A.argmax(axis=0)) * batch.size
        optimizer.step(model.params, model.backward(y[batch]))
    return loss_sum / m, correct / m


def _check_fit(
    model: Network, X: np.ndarray, y: np.ndarray, X_dev: np.ndarray | None,
    y_dev: np.ndarray | None, epochs: int, batch_size: int, early_stopping: int | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None]:
    """:func:`fit`'s checks, once; ``X`` comes back stored example by example (``X.T``
    C-contiguous), which the fast epoch reads without a copy."""
    X, y, X_dev, y_dev = checks.training_set(
        X, y, X_dev, y_dev, sizes=model.sizes, dtype=model.dtype,
        context=f"to match sizes {model.sizes}",
    )
    checks.integer("epochs", epochs, 0)
    checks.integer("batch_size", batch_size, 1)
    if early_stopping is not None:
        if X_dev is None:
            raise ValueError("early_stopping: needs a dev set (X_dev, y_dev)")
        checks.integer("early_stopping", early_stopping, 1)
    return np.asfortranarray(X), y.astype(np.intp, copy=False), X_dev, y_dev


def fit(
    model: Network, optimizer: Optimizer, X: np.ndarray, y: np.ndarray, *,
    epochs: int, batch_size: int, seed: int,
    X_dev: np.ndarray | None = None, y_dev: np.ndarray | None = None,
    schedule: Callable[[int], float] | None = None, transform: Transform | None = None,
    early_stopping: int | None = None, progress: bool = False,
    callback: Callable[[Network, History], bool | None] | None = None,
    fast: bool = True, blas_threads: int | None = 1,
) -> History:
    """Train ``model`` with ``optimizer`` on mini-batches of (X, y); return the History.

    ``X`` is ``(n_0, m)``, ``y`` ``(m,)``. Each epoch is :func:`train_epoch`, its order
    drawn from ``nnmath.seeding.rng(seed)``, then the dev set's loss and accuracy. The same
    model seed and ``seed`` give bitwise-identical weights.

    - ``schedule(epoch)``, epochs counted from 0, sets ``optimizer.lr`` before each epoch
      (see :func:`~nnmath.optim.step_schedule`, :func:`~nnmath.optim.cosine_schedule`).
    - ``transform(X, rng)`` makes the epoch's training images (augmentation, e.g.
      :func:`nnmath.augment.augment_batch`), drawing from the same generator.
    - ``early_stopping=patience`` (needs a dev set) stops after ``patience`` epochs without
      a new lowest dev loss, and in any case ends with the weights of the best epoch.
    - ``callback(model, history)`` runs after each epoch; returning True stops training.
    - ``progress=True`` shows a tqdm bar over the epochs; ``False`` prints nothing.
    - ``fast=True`` runs :func:`nnmath.fast.mlp.train_epoch` for an MLP and
      :func:`nnmath.fast.cnn.train_epoch` for a :class:`~nnmath.cnn.CNN` (the same steps,
      faster); ``fast=False`` runs :func:`train_epoch` itself.
    - ``blas_threads`` limits the BLAS threads during training (None: leave as is). One
      is the default, so that parallel searches can run one process per core; the chapter
      on speed measures one thread against two on the machine that builds the book.
    """
    X, y, X_dev, y_dev = _check_fit(model, X, y, X_dev, y_dev, epochs, batch_size,
                                    early_stopping)
    one_epoch = train_epoch
    if fast:
        one_epoch = fast_cnn.train_epoch if isinstance(model, CNN) else fast_mlp.train_epoch
    rng = seeding.rng(seed)
    history, best = History(), None
    bar = tqdm(total=epochs, unit="epoch", disable=not progress, leave=True)
    with bar, blas_limit(blas_threads):
        for epoch in range(epochs):
            start = time.perf_counter()
            if schedule is not None:
                optimizer.lr = schedule(epoch)
            X_epoch = X if transform is None else model.inputs(transform(X, rng))
            loss, acc = one_epoch(model, optimizer, X_epoch, y, batch_size, rng)
            dev = (np.nan, np.nan) if X_dev is None else evaluate(model, X_dev, y_dev)
            history.append(loss, acc, *dev, time.perf_counter() - start, optimizer.lr)
            if early_stopping is not None and history.best_epoch == len(history):
                best = [p.copy() for p in model.params]
            bar.set_postfix(loss=f"{loss:.4f}", acc=f"{acc:.4f}", dev_acc=f"{dev[1]:.4f}",
                            refresh=False)
            bar.update()
            stop = callback is not None and callback(model, history) is True
            history.stopped_early = history.out_of_patience(early_stopping)
            if stop or history.stopped_early:
                break
    if best is not None:
        model.set_params(best)
    return history

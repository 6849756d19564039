"""Chapter 11's figures: overfitting, L2, dropout and the remedies side by side.

The training figures take :class:`nnmath.train.History` objects (one entry per epoch,
epochs counted from 1) and, where a weight norm is drawn, one number per epoch: the
Euclidean length of all the weights, sqrt(sum_l ||W[l]||_F^2).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

if TYPE_CHECKING:
    from nnmath.train import History

__all__ = [
    "dropout_averages",
    "l2_sweep",
    "overfitting_curves",
    "remedy_curves",
]

_TRAIN, _DEV, _NORM = "#1f77b4", "#d62728", "#4d4d4d"
_SWEEP = ("#4d4d4d", "#9ecae1", "#4292c6", "#08519c", "#08306b", "#000000")
_REMEDY = ("#4d4d4d", "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b")


def _epochs(history: History) -> np.ndarray:
    return np.asarray(history.epoch)


def overfitting_curves(
    history: History,
    weight_norms: Sequence[float] | None = None,
    mark_epoch: int | None = None,
) -> Figure:
    """Training against dev curves of one run, epoch by epoch.

    Left: the mean cross-entropy on the training set (solid) and the dev set (dashed);
    middle: the two accuracies in percent; right (when ``weight_norms``, one value per
    epoch, is given): the length of all the weights. ``mark_epoch`` draws a dotted
    vertical line at that epoch in every panel (the epoch of the lowest dev loss).
    """
    panels = 3 if weight_norms is not None else 2
    fig, axes = plt.subplots(1, panels, figsize=(3.2 * panels, 3.1))
    ax_loss, ax_acc = axes[0], axes[1]
    epochs = _epochs(history)
    ax_loss.plot(epochs, history.train_loss, color=_TRAIN, lw=1.6, label="training")
    ax_loss.plot(epochs, history.dev_loss, color=_DEV, lw=1.6, ls="--", label="dev")
    ax_loss.set_yscale("log")
    ax_loss.set_ylabel("mean cross-entropy (log scale)")
    ax_loss.set_title("loss", fontsize=10)
    train_acc = 100 * np.asarray(history.train_accuracy)
    dev_acc = 100 * np.asarray(history.dev_accuracy)
    ax_acc.plot(epochs, train_acc, color=_TRAIN, lw=1.6, label="training")
    ax_acc.plot(epochs, dev_acc, color=_DEV, lw=1.6, ls="--", label="dev")
    low = float(np.floor(min(train_acc.min(), dev_acc.min()) / 5) * 5)
    ax_acc.set_ylim(max(low, 0), 100.5)
    ax_acc.set_ylabel("accuracy (%)")
    ax_acc.set_title("accuracy", fontsize=10)
    ax_acc.legend(frameon=False, loc="lower right", fontsize=9)
    if weight_norms is not None:
        ax_norm = axes[2]
        ax_norm.plot(epochs, weight_norms, color=_NORM, lw=1.6)
        ax_norm.set_ylabel(r"$\Vert \mathbf{W} \Vert$")
        ax_norm.set_title("length of the weights", fontsize=10)
    for ax in axes:
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.25)
        if mark_epoch is not None:
            ax.axvline(mark_epoch, color="#777777", ls=":", lw=1.2)
    if mark_epoch is not None:
        ax_loss.annotate(
            "lowest dev loss",
            xy=(mark_epoch, 1),
            xycoords=("data", "axes fraction"),
            xytext=(4, -4),
            textcoords="offset points",
            ha="left",
            va="top",
            fontsize=8.5,
            color="#555555",
        )
    ax_loss.legend(frameon=False, loc="lower left", fontsize=9)
    fig.tight_layout(w_pad=1.5)
    return fig


def l2_sweep(
    lams: Sequence[float],
    histories: Sequence[History],
    weight_norms: Sequence[Sequence[float]],
    train_accuracy: Sequence[float],
) -> Figure:
    """What the L2 strength lambda does, one run per value of ``lams``.

    ``histories[i]`` and ``weight_norms[i]`` (one value per epoch) belong to ``lams[i]``;
    ``train_accuracy[i]`` is that run's final accuracy on the whole training set, in
    [0, 1]. Left: the length of the weights, epoch by epoch; middle: the dev loss, epoch
    by epoch; right: final training and dev accuracy against lambda (the values of
    ``lams`` are evenly spaced on the axis, labelled by value).
    """
    fig, (ax_norm, ax_loss, ax_acc) = plt.subplots(1, 3, figsize=(10.0, 3.3))
    colours = _SWEEP[: len(lams)]
    for lam, history, norms, colour in zip(
        lams, histories, weight_norms, colours, strict=True
    ):
        label = f"λ = {lam:g}"
        ax_norm.plot(_epochs(history), norms, color=colour, lw=1.6, label=label)
        ax_loss.plot(_epochs(history), history.dev_loss, color=colour, lw=1.6)
    ax_norm.set_ylim(bottom=0)
    ax_norm.set_ylabel(r"length of the weights $\Vert \mathbf{W} \Vert$")
    ax_norm.set_title("weights", fontsize=10)
    ax_norm.legend(frameon=False, fontsize=8.5, loc="best")
    ax_loss.set_ylabel("dev cross-entropy")
    ax_loss.set_title("dev loss", fontsize=10)
    positions = np.arange(len(lams))
    dev_final = [100 * h.dev_accuracy[-1] for h in histories]
    ax_acc.plot(
        positions,
        100 * np.asarray(train_accuracy),
        "o-",
        color=_TRAIN,
        label="training",
    )
    ax_acc.plot(positions, dev_final, "s--", color=_DEV, label="dev")
    ax_acc.set_xticks(positions, [f"{lam:g}" for lam in lams])
    ax_acc.set_xlabel("λ")
    ax_acc.set_ylabel("accuracy after training (%)")
    ax_acc.set_title("accuracy", fontsize=10)
    ax_acc.legend(frameon=False, fontsize=9, loc="center left")
    for ax in (ax_norm, ax_loss):
        ax.set_xlabel("epoch")
    for ax in (ax_norm, ax_loss, ax_acc):
        ax.grid(alpha=0.25)
    fig.tight_layout(w_pad=1.5)
    return fig


def dropout_averages(A: np.ndarray, averages: Mapping[str, np.ndarray]) -> Figure:
    """Averages of dropped activations against the activations themselves.

    ``A`` is ``(n, m)``, hidden activations without dropout; each value of ``averages``
    (same shape) is the mean of several independently dropped copies D ⊙ A / p, and its
    key titles the panel. One scatter panel per average, every entry a dot, with the
    diagonal y = x where the average would land if it equalled A exactly.
    """
    n = len(averages)
    fig, axes = plt.subplots(1, n, figsize=(2.9 * n, 3.0), sharex=True, sharey=True)
    axes = np.atleast_1d(axes)
    a = np.asarray(A, dtype=np.float64).ravel()
    top = float(a.max()) * 1.05
    for ax, (title, mean) in zip(axes, averages.items(), strict=True):
        mean = np.asarray(mean, dtype=np.float64).ravel()
        ax.plot([0, top], [0, top], color="#999999", lw=1.0, zorder=1)
        ax.scatter(a, mean, s=4, alpha=0.35, color=_TRAIN, lw=0, zorder=2)
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("activation $a$")
        ax.set_xlim(0, top)
        ax.grid(alpha=0.25)
    axes[0].set_ylabel("average of $d\\,a/q$")
    fig.tight_layout(w_pad=1.0)
    return fig


def remedy_curves(
    histories: Mapping[str, History],
    mark: tuple[str, int] | None = None,
) -> Figure:
    """Dev loss and dev accuracy, epoch by epoch, for several ways of training.

    ``histories`` maps a name to its run's history, one colour each. ``mark`` =
    ``(name, epoch)`` draws a star on that run's curves at that epoch, labelled "early
    stopping": the epoch whose weights early stopping restores. Both axes are zoomed on
    the epochs from the third on, so the first two may fall outside them.
    """
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(9.0, 3.7))
    for (name, history), colour in zip(histories.items(), _REMEDY, strict=False):
        epochs = _epochs(history)
        ax_loss.plot(epochs, history.dev_loss, color=colour, lw=1.6, label=name)
        ax_acc.plot(
            epochs, 100 * np.asarray(history.dev_accuracy), color=colour, lw=1.6
        )
        if mark is not None and mark[0] == name:
            i = list(history.epoch).index(mark[1])
            for ax, value in (
                (ax_loss, history.dev_loss[i]),
                (ax_acc, 100 * history.dev_accuracy[i]),
            ):
                ax.plot(
                    mark[1],
                    value,
                    "*",
                    ms=13,
                    color=_REMEDY[4],
                    mec="black",
                    mew=0.6,
                    zorder=4,
                    label="early stopping" if ax is ax_loss else None,
                )
    ax_loss.set_ylabel("dev cross-entropy")
    ax_loss.set_title("dev loss", fontsize=10)
    # Zoom both panels on the epochs from the third on; the first two may leave them.
    for ax, field, scale in (
        (ax_loss, "dev_loss", 1.0),
        (ax_acc, "dev_accuracy", 100.0),
    ):
        late = [scale * np.asarray(getattr(h, field)[2:]) for h in histories.values()]
        late = [values for values in late if values.size]
        if late:
            low = min(float(values.min()) for values in late)
            high = max(float(values.max()) for values in late)
            ax.set_ylim(low - 0.15 * (high - low), high + 0.1 * (high - low))
    ax_acc.set_ylabel("dev accuracy (%)")
    ax_acc.set_title("dev accuracy", fontsize=10)
    for ax in (ax_loss, ax_acc):
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.25)
    handles, labels = ax_loss.get_legend_handles_labels()
    fig.legend(
        handles, labels, loc="lower center", ncol=len(labels), frameon=False, fontsize=9
    )
    fig.tight_layout(w_pad=2.0, rect=(0, 0.08, 1, 1))
    return fig

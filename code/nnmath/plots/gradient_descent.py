"""Chapter 6's figures: gradient descent and what the trained two-layer network does.

Gradient descent on a parabola, training curves, learning-rate sweeps, predictions,
mistakes, confidence and the first layer's weights.

The training figures take histories: sequences of records with the fields of
:class:`nnmath.twolayer.Record` (``iteration``, ``loss``, ``train_accuracy``,
``dev_accuracy``, ``dev_loss``), as :func:`nnmath.twolayer.gradient_descent` appends them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from nnmath.data import SIDE
from nnmath.plots.common import RIGHT, RUNS, WRONG, as_images, label_bars, panel_grid

__all__ = [
    "confidence_histogram",
    "learning_curves",
    "lr_sweep",
    "mistakes_gallery",
    "prediction_bars",
    "quadratic_steps",
    "weight_templates",
]

_OTHER = "#c7c7c7"
_SWEEP_COLOURS = ("#7b4fa0", "#1f77b4", "#2ca02c", "#ff7f0e", "#d62728", "#4d4d4d")


def _series(history: Sequence[Any], field: str) -> tuple[np.ndarray, np.ndarray]:
    """The iterations and the values of one field of a history, skipping missing values."""
    pairs = [(r.iteration, getattr(r, field)) for r in history]
    pairs = [(i, v) for i, v in pairs if v is not None]
    iterations, values = zip(*pairs, strict=True) if pairs else ((), ())
    return np.asarray(iterations), np.asarray(values, dtype=np.float64)


def quadratic_steps(curvature: float, trajectories: Mapping[str, np.ndarray]) -> Figure:
    """Gradient descent on the parabola L(θ) = (c/2) θ², one panel per learning rate.

    ``curvature`` is c > 0; ``trajectories`` maps a panel title to the iterates
    θ_0, θ_1, ... ``(k,)`` of one run. Each panel draws the parabola, the iterates as dots
    on it, numbered, and an arrow for each step. Iterates that leave the panel (a diverging
    run) are clipped to its edge and drawn open.
    """
    n = len(trajectories)
    fig, axes = plt.subplots(1, n, figsize=(1.95 * n, 2.6), sharey=True)
    axes = np.atleast_1d(axes)
    first = next(iter(trajectories.values()))
    reach = 1.35 * float(np.abs(first[0]))
    theta = np.linspace(-reach, reach, 200)
    top = 0.5 * curvature * reach**2
    for ax, (title, path) in zip(axes, trajectories.items(), strict=True):
        path = np.asarray(path, dtype=np.float64)
        ax.plot(theta, 0.5 * curvature * theta**2, color="#999999", lw=1.2)
        inside = np.abs(path) <= reach
        shown = np.clip(path, -reach, reach)
        loss = 0.5 * curvature * shown**2
        for t in range(len(path) - 1):
            if not inside[t]:
                break
            ax.annotate(
                "",
                xy=(shown[t + 1], loss[t + 1]),
                xytext=(shown[t], loss[t]),
                arrowprops={
                    "arrowstyle": "->",
                    "color": RIGHT,
                    "lw": 1.0,
                    "shrinkA": 3,
                    "shrinkB": 3,
                },
            )
        ax.plot(shown[inside], loss[inside], "o", color=RIGHT, ms=4.5, zorder=3)
        ax.plot(
            shown[~inside], loss[~inside], "o", mfc="white", mec=WRONG, ms=5, zorder=3
        )
        ax.annotate(
            "start",
            (shown[0], loss[0]),
            xytext=(0, 6),
            textcoords="offset points",
            ha="center",
            fontsize=9.5,
        )
        ax.set_title(title, fontsize=11)
        ax.set_xlabel(r"$\theta$")
        ax.set_xlim(-reach * 1.05, reach * 1.05)
        ax.set_ylim(-0.04 * top, top * 1.12)
        ax.set_xticks([])
        ax.set_yticks([])
    axes[0].set_ylabel(r"$L(\theta)$")
    fig.tight_layout(w_pad=0.8)
    return fig


def learning_curves(
    histories: Mapping[str, Sequence[Any]], *, log_loss: bool = False
) -> Figure:
    """Loss and accuracy against the iteration, for one run or several.

    ``histories`` maps a run's name to its records. Left panel: the mean cross-entropy on
    the training set (solid) and the dev set (dashed); right panel: the accuracies in
    percent, same line styles. One colour per run; with a single run, the legend names
    the two sets only.
    """
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(7.6, 3.2))
    several = len(histories) > 1
    for (name, history), colour in zip(histories.items(), RUNS, strict=False):
        for field, style, which in (
            ("loss", "-", "training"),
            ("dev_loss", "--", "dev"),
        ):
            it, values = _series(history, field)
            label = f"{name}, {which}" if several else which
            ax_loss.plot(it, values, ls=style, color=colour, lw=1.6, label=label)
        for field, style, which in (
            ("train_accuracy", "-", "training"),
            ("dev_accuracy", "--", "dev"),
        ):
            it, values = _series(history, field)
            label = f"{name}, {which}" if several else which
            ax_acc.plot(it, 100 * values, ls=style, color=colour, lw=1.6, label=label)
    if log_loss:
        ax_loss.set_yscale("log")
    ax_loss.set_xlabel("iteration")
    ax_loss.set_ylabel("mean cross-entropy")
    ax_loss.set_title("loss", fontsize=10)
    ax_acc.set_xlabel("iteration")
    ax_acc.set_ylabel("accuracy (%)")
    ax_acc.set_title("accuracy", fontsize=10)
    ax_acc.set_ylim(0, 100)
    for ax in (ax_loss, ax_acc):
        ax.grid(alpha=0.25)
    ax_acc.legend(frameon=False, loc="lower right", fontsize=9.5)
    fig.tight_layout(w_pad=2.0)
    return fig


def lr_sweep(histories: Mapping[float, Sequence[Any]]) -> Figure:
    """Training loss per learning rate (left) and the final dev accuracy of each (right).

    ``histories`` maps a learning rate alpha to the records of one run (all from the same
    start, for the same number of iterations). Left: the training loss against the
    iteration on a logarithmic scale, one colour per alpha. Right: one bar per alpha, the dev
    accuracy after the last iteration, in percent, with the value written on the bar.
    """
    fig, (ax_loss, ax_acc) = plt.subplots(
        1, 2, figsize=(7.8, 3.6), gridspec_kw={"width_ratios": [1.45, 1]}
    )
    colours = [_SWEEP_COLOURS[i % len(_SWEEP_COLOURS)] for i in range(len(histories))]
    finals = []
    for (alpha, history), colour in zip(histories.items(), colours, strict=True):
        it, loss = _series(history, "loss")
        ax_loss.plot(it, loss, color=colour, lw=1.6, label=rf"$\alpha$ = {alpha:g}")
        finals.append(100 * history[-1].dev_accuracy)
    ax_loss.set_yscale("log")
    ax_loss.set_xlabel("iteration")
    ax_loss.set_ylabel("training loss (log scale)")
    ax_loss.axhline(np.log(10), color="#777777", lw=0.9, ls=":", label="ln 10")
    ax_loss.grid(alpha=0.25, which="both")
    ax_loss.legend(
        frameon=False,
        fontsize=9.5,
        ncols=4,
        loc="lower center",
        bbox_to_anchor=(0.5, 1.0),
    )

    positions = np.arange(len(histories))
    bars = ax_acc.bar(positions, finals, color=colours, width=0.65)
    label_bars(ax_acc, bars, finals, fontsize=9.5)
    ax_acc.set_xticks(positions, [f"{alpha:g}" for alpha in histories])
    ax_acc.set_xlabel(r"learning rate $\alpha$")
    ax_acc.set_ylabel("final dev accuracy (%)")
    ax_acc.set_ylim(0, 100)
    fig.tight_layout(w_pad=2.0)
    return fig


def prediction_bars(
    images: np.ndarray,
    probabilities: np.ndarray,
    labels: Sequence[int],
    *,
    columns: int = 3,
) -> Figure:
    """Each image beside the network's ten probabilities for it, as horizontal bars.

    ``images`` is ``(k, 28, 28)`` (or columns ``(784, k)``), ``probabilities`` ``(10, k)``,
    one softmax column per image, ``labels`` the ``k`` true digits. The bar of the true
    label is blue; when the prediction (the longest bar) is wrong, its bar is red. The
    panel title gives the label, the prediction and its probability.
    """
    images = as_images(images)
    probabilities = np.asarray(probabilities, dtype=np.float64)
    n_classes, k = probabilities.shape
    rows = -(-k // columns)
    fig, axes = plt.subplots(
        rows,
        2 * columns,
        figsize=(2.55 * columns, 1.95 * rows),
        gridspec_kw={"width_ratios": [1, 1.25] * columns},
        squeeze=False,
    )
    digits = np.arange(n_classes)
    for i in range(rows * columns):
        img_ax, bar_ax = (
            axes[i // columns, 2 * (i % columns)],
            axes[i // columns, 2 * (i % columns) + 1],
        )
        img_ax.axis("off")
        if i >= k:
            bar_ax.axis("off")
            continue
        p, label = probabilities[:, i], int(labels[i])
        predicted = int(np.argmax(p))
        colours = [_OTHER] * n_classes
        colours[label] = RIGHT
        if predicted != label:
            colours[predicted] = WRONG
        img_ax.imshow(images[i], cmap="gray_r")
        verdict = "right" if predicted == label else "wrong"
        img_ax.set_title(f"label {label}: {verdict}", fontsize=10, pad=3)
        bar_ax.barh(digits, p, color=colours, height=0.75)
        bar_ax.set_xlim(0, 1)
        bar_ax.set_ylim(n_classes - 0.5, -0.5)
        bar_ax.set_yticks(digits)
        bar_ax.tick_params(axis="y", labelsize=8.5, length=0, pad=1)
        bar_ax.tick_params(axis="x", labelsize=8.5)
        bar_ax.set_xticks([0, 0.5, 1])
        bar_ax.set_title(
            f"predicted {predicted} ({p[predicted]:.0%})", fontsize=10, pad=3
        )
    fig.tight_layout(pad=0.4, w_pad=0.6, h_pad=0.8)
    return fig


def mistakes_gallery(
    images: np.ndarray,
    labels: Sequence[int],
    predictions: Sequence[int],
    confidences: Sequence[float],
    *,
    columns: int = 8,
) -> Figure:
    """A grid of misclassified digits, each titled ``label→prediction`` and the confidence.

    ``images`` is ``(k, 28, 28)`` (or columns ``(784, k)``); ``labels``, ``predictions``
    and ``confidences`` (the probability of the predicted class, in [0, 1]) have ``k``
    entries each. The title's first line is the label and the prediction, the second the
    probability the network gave its prediction.
    """
    images = as_images(images)
    fig, axes = panel_grid(len(images), columns, 0.92, 1.3)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i >= len(images):
            continue
        ax.imshow(images[i], cmap="gray_r", vmin=0, vmax=float(images.max()) or 1.0)
        ax.set_title(
            f"{int(labels[i])}→{int(predictions[i])}\n{confidences[i]:.0%}",
            fontsize=10,
            pad=2,
            linespacing=1.1,
        )
    fig.tight_layout(pad=0.3, h_pad=0.5, w_pad=0.3)
    return fig


def confidence_histogram(
    right: np.ndarray, wrong: np.ndarray, *, bins: int = 20
) -> Figure:
    """Histograms of the network's top probability on its right and on its wrong answers.

    ``right`` and ``wrong`` are 1-D arrays of top probabilities in [0, 1]. Each histogram is
    normalised to show the share of its own answers (in percent) in each bin, so the two
    can be compared although there are far fewer mistakes.
    """
    edges = np.linspace(0.1, 1.0, bins + 1)
    fig, ax = plt.subplots(figsize=(6.8, 3.2))
    for values, colour, name in (
        (right, RIGHT, "right answers"),
        (wrong, WRONG, "mistakes"),
    ):
        values = np.asarray(values)
        weights = np.full(values.shape, 100 / max(values.size, 1))
        ax.hist(
            values,
            bins=edges,
            weights=weights,
            color=colour,
            alpha=0.55,
            label=f"{name} ({values.size:,})",
            edgecolor="white",
            linewidth=0.5,
        )
    ax.set_xlabel("probability of the predicted digit")
    ax.set_ylabel("share of those answers (%)")
    ax.set_xlim(0.1, 1.0)
    ax.legend(frameon=False, loc="upper left")
    ax.grid(alpha=0.25, axis="y")
    fig.tight_layout()
    return fig


def weight_templates(weights: Mapping[str, np.ndarray]) -> Figure:
    """The rows of first-layer weight matrices as 28 x 28 images, one row of panels per run.

    ``weights`` maps a run's name to its ``W1`` ``(n_hidden, 784)``. Positive weights are
    red, negative blue, on a symmetric colour scale set by each run's largest weight in
    absolute value, so the two runs are each shown at full contrast.
    """
    n_runs = len(weights)
    n_hidden = max(np.asarray(W).shape[0] for W in weights.values())
    fig, axes = plt.subplots(
        n_runs, n_hidden, figsize=(0.8 * n_hidden + 0.6, 0.95 * n_runs), squeeze=False
    )
    for row, (name, W) in zip(axes, weights.items(), strict=True):
        W = np.asarray(W, dtype=np.float64)
        limit = float(np.abs(W).max()) or 1.0
        for j, ax in enumerate(row):
            ax.set_xticks([])
            ax.set_yticks([])
            if j < W.shape[0]:
                ax.imshow(
                    W[j].reshape(SIDE, SIDE), cmap="RdBu_r", vmin=-limit, vmax=limit
                )
            else:
                ax.axis("off")
        row[0].set_ylabel(name, fontsize=9.5, rotation=0, ha="right", va="center")
    fig.tight_layout(pad=0.3, w_pad=0.2, h_pad=0.4)
    return fig

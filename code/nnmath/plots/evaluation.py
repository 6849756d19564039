"""Chapter 10's figures: evaluating a trained network on the test set.

Its test predictions, its confusion matrix, per-class accuracy, its most frequent
confusions, how confident it is when right and when wrong, and a reliability diagram.
Every function returns its ``Figure``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import LinearSegmentedColormap, ListedColormap
from matplotlib.figure import Figure

from nnmath.plots.common import RIGHT, WRONG, as_images, label_bars, panel_grid

__all__ = [
    "confidence_by_outcome",
    "confused_pair_examples",
    "confusion_heatmap",
    "draw_confusion",
    "largest_mistake",
    "per_class_bars",
    "prediction_grid",
    "reliability_diagram",
]


def prediction_grid(
    images: np.ndarray,
    labels: Sequence[int],
    predictions: Sequence[int],
    *,
    columns: int = 12,
) -> Figure:
    """Test images with the network's answer; wrong answers in red, framed.

    ``images`` is ``(k, 28, 28)`` (or columns ``(784, k)``), ``labels`` and
    ``predictions`` have ``k`` entries. A right answer is titled with the predicted digit;
    a wrong one with "predicted (true label)" in red, and its image gets a red frame.
    """
    images = as_images(images)
    k = len(images)
    fig, axes = panel_grid(k, columns, 0.78, 0.98)
    for i, ax in enumerate(axes.flat):
        ax.set_xticks([])
        ax.set_yticks([])
        if i >= k:
            ax.axis("off")
            continue
        ax.imshow(images[i], cmap="gray_r", vmin=0, vmax=images[i].max() or 1)
        right = int(labels[i]) == int(predictions[i])
        if right:
            ax.set_title(f"{int(predictions[i])}", fontsize=9, pad=2, color=RIGHT)
            for spine in ax.spines.values():
                spine.set_visible(False)
        else:
            ax.set_title(
                f"{int(predictions[i])} ({int(labels[i])})",
                fontsize=9,
                pad=2,
                color=WRONG,
                fontweight="bold",
            )
            for spine in ax.spines.values():
                spine.set_visible(True)
                spine.set_color(WRONG)
                spine.set_linewidth(2.0)
    fig.tight_layout(pad=0.3, h_pad=0.5, w_pad=0.2)
    return fig


def confusion_heatmap(cm: np.ndarray) -> Figure:
    """A confusion matrix ``(n, n)`` (rows: true class, columns: predicted), every count written.

    The diagonal (right answers) is plain blue; the off-diagonal cells (mistakes) are red
    on their own scale, set by the largest mistake count, so that the mistakes stay
    visible beside diagonals a hundred times larger. Zeros are left blank.
    """
    cm = np.asarray(cm)
    fig, ax = plt.subplots(figsize=(6.2, 5.4))
    draw_confusion(ax, cm, largest_mistake(cm))
    fig.tight_layout()
    return fig


def largest_mistake(cm: np.ndarray) -> float:
    """The largest off-diagonal count of ``cm`` (at least 1): the top of the red scale."""
    off = np.asarray(cm).astype(np.float64)
    np.fill_diagonal(off, np.nan)
    return max(float(np.nanmax(off)), 1.0)


def draw_confusion(ax: Any, cm: np.ndarray, largest_off: float, fontsize: float = 8.5) -> None:
    """Draw ``cm`` on ``ax`` as :func:`confusion_heatmap` does, mistakes red up to
    ``largest_off`` (give several panels one scale by passing the same number)."""
    n = cm.shape[0]
    off = cm.astype(np.float64)
    np.fill_diagonal(off, np.nan)
    reds = LinearSegmentedColormap.from_list("mistakes", ["#ffffff", WRONG])
    blue = ListedColormap(["#3a78b5"])
    diag = np.full(cm.shape, np.nan)
    np.fill_diagonal(diag, 1.0)
    ax.imshow(np.where(off > 0, off, np.nan), cmap=reds, vmin=0, vmax=largest_off)
    ax.imshow(diag, cmap=blue, vmin=0, vmax=1)
    for j in range(n):
        for k in range(n):
            count = int(cm[j, k])
            if count == 0:
                continue
            if j == k:
                colour, weight = "white", "bold"
            else:
                colour = "white" if count > 0.6 * largest_off else "black"
                weight = "normal"
            ax.text(k, j, str(count), ha="center", va="center", fontsize=fontsize,
                    color=colour, fontweight=weight)
    ax.set_xticks(range(n))
    ax.set_yticks(range(n))
    ax.set_xlabel("predicted digit $k'$")
    ax.set_ylabel("true digit $k$")
    ax.xaxis.set_label_position("top")
    ax.xaxis.tick_top()
    ax.set_xticks(np.arange(-0.5, n), minor=True)
    ax.set_yticks(np.arange(-0.5, n), minor=True)
    ax.grid(which="minor", color="#e5e5e5", lw=0.6)
    ax.tick_params(which="minor", length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)


def per_class_bars(accuracy: np.ndarray, overall: float) -> Figure:
    """Accuracy on each true class in percent, ``(n,)`` values in [0, 1], one bar each.

    The worst class is red, the best blue, the others grey; ``overall`` (in [0, 1]) is a
    dashed line. Each bar carries its value; the axis starts near the worst value so that
    differences of a fraction of a percent are visible.
    """
    accuracy = 100 * np.asarray(accuracy, dtype=np.float64)
    n = accuracy.size
    colours = ["#9e9e9e"] * n
    colours[int(np.argmin(accuracy))] = WRONG
    colours[int(np.argmax(accuracy))] = RIGHT
    fig, ax = plt.subplots(figsize=(7.2, 3.2))
    bars = ax.bar(np.arange(n), accuracy, color=colours, width=0.7)
    label_bars(
        ax,
        bars,
        accuracy,
        fontsize=8.5,
        bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.8, "pad": 0.5},
        zorder=4,
    )
    ax.axhline(
        100 * overall,
        color="black",
        ls="--",
        lw=1.0,
        zorder=3,
        label=f"overall accuracy {100 * overall:.1f}%",
    )
    ax.legend(frameon=False, loc="upper right", fontsize=8.5)
    low = np.floor(accuracy.min() - 1.0)
    ax.set_ylim(low, 100.4)
    ax.set_xticks(np.arange(n))
    ax.set_xlabel("true digit")
    ax.set_ylabel("accuracy on that digit (%)")
    ax.grid(alpha=0.25, axis="y")
    fig.tight_layout()
    return fig


def confused_pair_examples(
    rows: Sequence[tuple[str, np.ndarray, Sequence[float]]], *, per_row: int = 8
) -> Figure:
    """Examples of the most frequent confusions, one row of images per confused pair.

    ``rows`` holds, per pair, a row label (e.g. ``"4 → 9 (17 times)"``), the images
    ``(k, 28, 28)`` (or columns ``(784, k)``) and the ``k`` probabilities the network gave
    its (wrong) answer; up to ``per_row`` images are shown, each titled with that
    probability. The labels sit in a column of their own, left of the images.
    """
    n_rows = len(rows)
    fig, axes = plt.subplots(
        n_rows,
        per_row + 1,
        figsize=(0.85 * per_row + 1.2, 1.05 * n_rows),
        gridspec_kw={"width_ratios": [1.45] + [1] * per_row},
        squeeze=False,
    )
    for row_axes, (label, images, confidences) in zip(axes, rows, strict=True):
        images = as_images(images)
        row_axes[0].axis("off")
        row_axes[0].text(
            0.5,
            0.5,
            label,
            ha="center",
            va="center",
            fontsize=11,
            transform=row_axes[0].transAxes,
        )
        for i, ax in enumerate(row_axes[1:]):
            ax.set_xticks([])
            ax.set_yticks([])
            for spine in ax.spines.values():
                spine.set_visible(False)
            if i < len(images):
                ax.imshow(images[i], cmap="gray_r", vmin=0, vmax=images[i].max() or 1)
                ax.set_title(f"{confidences[i]:.0%}", fontsize=9.5, pad=1.5)
    fig.tight_layout(pad=0.3, h_pad=0.4, w_pad=0.2)
    return fig


def confidence_by_outcome(right: np.ndarray, wrong: np.ndarray) -> Figure:
    """How confident the network is on its right and its wrong answers.

    ``right`` and ``wrong`` are 1-D arrays of the probability given to the predicted
    class, in [0, 1]. Left: the share of each group in bins of that probability (0.1
    wide), on a logarithmic axis. Right: the share of each group whose distance from
    certainty, 1 - p, is at most x, against x on a logarithmic axis; the medians are
    marked, and distances below 1e-7 (probabilities that round to 1) are drawn at 1e-7.
    """
    right = np.asarray(right, dtype=np.float64)
    wrong = np.asarray(wrong, dtype=np.float64)
    fig, (ax_hist, ax_cdf) = plt.subplots(1, 2, figsize=(9.0, 3.3))
    edges = np.linspace(0.1, 1.0, 10)
    centres = (edges[:-1] + edges[1:]) / 2
    width = 0.038
    for offset, values, colour, name in (
        (-width / 2, right, RIGHT, f"right ({right.size:,})"),
        (width / 2, wrong, WRONG, f"wrong ({wrong.size:,})"),
    ):
        counts, _ = np.histogram(values, bins=edges)
        share = 100 * counts / max(values.size, 1)
        ax_hist.bar(centres + offset, share, width=width, color=colour, label=name)
    ax_hist.set_xticks(edges)
    ax_hist.set_xticklabels([f"{e:.1f}" for e in edges], fontsize=8.5)
    ax_hist.set_xlabel("probability of the predicted digit")
    ax_hist.set_ylabel("share of the group (%)")
    ax_hist.set_yscale("log")
    ax_hist.grid(alpha=0.25, axis="y", which="both")
    ax_hist.legend(frameon=False, loc="upper left")

    floor = 1e-7
    for values, colour, name in ((right, RIGHT, "right"), (wrong, WRONG, "wrong")):
        gap = np.sort(np.maximum(1 - values, floor))
        share = 100 * np.arange(1, gap.size + 1) / gap.size
        ax_cdf.step(gap, share, where="post", color=colour, lw=1.6, label=name)
        median = float(np.median(gap))
        ax_cdf.plot(median, 50, "o", color=colour, ms=5)
        ax_cdf.annotate(
            f"median 1-p = {median:.1e}",
            (median, 50),
            xytext=(6, -12 if name == "right" else 6),
            textcoords="offset points",
            fontsize=8.5,
            color=colour,
        )
    ax_cdf.set_xscale("log")
    ax_cdf.set_xlim(floor, 1)
    ax_cdf.set_ylim(0, 101)
    ax_cdf.set_xlabel("distance from certainty, 1 - confidence (log)")
    ax_cdf.set_ylabel("share with 1 - confidence ≤ x (%)")
    ax_cdf.grid(alpha=0.25, which="major")
    ax_cdf.legend(frameon=False, loc="upper left")
    fig.tight_layout(w_pad=2.0)
    return fig


def reliability_diagram(
    edges: np.ndarray,
    confidence: np.ndarray,
    accuracy: np.ndarray,
    counts: np.ndarray,
) -> Figure:
    """Accuracy against confidence in bins of the predicted class's probability.

    ``edges`` are the ``k + 1`` bin edges; ``confidence``, ``accuracy`` and ``counts`` are
    ``(k,)``: the mean confidence, the accuracy (both in [0, 1], NaN for an empty bin) and
    the number of predictions in each bin. Left: one bar per bin at its accuracy, a dot at
    its mean confidence, and the diagonal of a perfectly calibrated network. Right: the
    number of predictions per bin, on a logarithmic axis.
    """
    edges = np.asarray(edges, dtype=np.float64)
    confidence = np.asarray(confidence, dtype=np.float64)
    accuracy = np.asarray(accuracy, dtype=np.float64)
    counts = np.asarray(counts)
    lefts, widths = edges[:-1], np.diff(edges)
    fig, (ax, ax_n) = plt.subplots(
        1, 2, figsize=(8.6, 3.5), gridspec_kw={"width_ratios": [1.25, 1]}
    )
    filled = counts > 0
    ax.bar(
        lefts[filled],
        accuracy[filled],
        width=widths[filled],
        align="edge",
        color=RIGHT,
        alpha=0.55,
        edgecolor="white",
        label="accuracy in the bin",
    )
    centres = lefts + widths / 2
    ax.plot(
        centres[filled],
        confidence[filled],
        "o",
        color="black",
        ms=4,
        label="mean confidence in the bin",
    )
    ax.plot([0, 1], [0, 1], ls="--", color="#777777", lw=1.0, label="calibrated")
    ax.set_xlim(edges[0], 1)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("probability of the predicted digit")
    ax.set_ylabel("accuracy")
    ax.legend(frameon=False, loc="upper left", fontsize=8.5)
    ax.grid(alpha=0.25)

    ax_n.bar(
        lefts,
        np.maximum(counts, 0),
        width=widths,
        align="edge",
        color="#9e9e9e",
        edgecolor="white",
    )
    for left, width, count in zip(lefts, widths, counts, strict=True):
        if count > 0:
            ax_n.annotate(
                f"{int(count):,}",
                (left + width / 2, count),
                xytext=(0, 2),
                textcoords="offset points",
                ha="center",
                fontsize=7.5,
            )
    ax_n.set_yscale("log")
    ax_n.set_xlim(edges[0], 1)
    ax_n.set_ylim(0.8, 4 * max(int(counts.max()), 1))
    ax_n.set_xlabel("probability of the predicted digit")
    ax_n.set_ylabel("predictions in the bin (log)")
    ax_n.grid(alpha=0.25, axis="y")
    fig.tight_layout(w_pad=2.0)
    return fig

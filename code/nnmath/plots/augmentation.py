"""Chapter 12's figures: augmentation, learning-rate schedules and the best run.

Augmented digits, bilinear interpolation, learning-rate schedules, robustness to shifts
and rotations, and the curves of the best run.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from nnmath.plots.common import as_images

__all__ = [
    "augmentation_grid",
    "bilinear_diagram",
    "lr_schedules",
    "robustness_curves",
    "run_curves",
]


def augmentation_grid(
    rows: Sequence[np.ndarray],
    row_titles: Sequence[str],
    *,
    size: float = 0.85,
) -> Figure:
    """A grid of digits: row i shows ``rows[i]``, ``(k, 28, 28)`` or ``(784, k)``.

    Every row has the same ``k`` images (e.g. the originals, then transformed copies), so
    each column follows one digit; ``row_titles`` label the rows on the left.
    """
    rows = [as_images(r) for r in rows]
    k = len(rows[0])
    fig, axes = plt.subplots(
        len(rows),
        k,
        figsize=(1.6 + k * size, len(rows) * size),
        squeeze=False,
    )
    for i, (row, title) in enumerate(zip(rows, row_titles, strict=True)):
        for j in range(k):
            ax = axes[i, j]
            ax.imshow(row[j], cmap="gray_r", vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
            for spine in ax.spines.values():
                spine.set_visible(True)
                spine.set_color("0.8")
        axes[i, 0].set_ylabel(
            title, rotation=0, ha="right", va="center", fontsize=9, labelpad=6
        )
    fig.subplots_adjust(left=1.5 / (1.6 + k * size), right=0.99, top=0.98, bottom=0.02)
    fig.subplots_adjust(wspace=0.06, hspace=0.06)
    return fig


def bilinear_diagram(a: float = 0.35, b: float = 0.6) -> Figure:
    """Bilinear interpolation at a source point between four pixel centres.

    The point lies ``a`` of a pixel below and ``b`` right of the top-left neighbour
    (r0, c0). Each neighbour's weight is the area of the rectangle opposite to it, and
    the four areas tile the unit square.
    """
    fig, ax = plt.subplots(figsize=(5.2, 3.6))
    px, py = b, -a  # x to the right, y up: row r is drawn at y = -r
    weights = {
        (0, 0): (1 - a) * (1 - b),
        (0, 1): (1 - a) * b,
        (1, 0): a * (1 - b),
        (1, 1): a * b,
    }
    colours = {(0, 0): "C0", (0, 1): "C1", (1, 0): "C2", (1, 1): "C3"}
    for (i, j), w in weights.items():
        # the rectangle opposite to neighbour (i, j): between the point and the far corner
        x0, x1 = sorted((px, 1 - j))
        y0, y1 = sorted((py, -(1 - i)))
        ax.add_patch(
            Rectangle((x0, y0), x1 - x0, y1 - y0, color=colours[i, j], alpha=0.25, lw=0)
        )
        ax.plot(j, -i, "o", color=colours[i, j], ms=11, zorder=3)
        name = f"$I[r_0{'+1' if i else ''},\\, c_0{'+1' if j else ''}]$"
        ax.annotate(
            f"{name}\nweight {w:.3f}",
            (j, -i),
            xytext=(-14 if j == 0 else 14, 16 if i == 0 else -26),
            textcoords="offset points",
            ha="right" if j == 0 else "left",
            fontsize=9,
            color=colours[i, j],
        )
    ax.plot(px, py, "k*", ms=14, zorder=4)
    ax.annotate(
        "source point\n$(r_s, c_s)$",
        (px, py),
        xytext=(8, 6),
        textcoords="offset points",
        fontsize=9,
    )
    ax.annotate(
        "",
        xy=(px, 0),
        xytext=(0, 0),
        arrowprops={"arrowstyle": "<->", "color": "0.3"},
    )
    ax.text(px / 2, 0.03, f"$b = {b:g}$", ha="center", va="bottom", fontsize=9)
    ax.annotate(
        "",
        xy=(0, py),
        xytext=(0, 0),
        arrowprops={"arrowstyle": "<->", "color": "0.3"},
    )
    ax.text(-0.03, py / 2, f"$a = {a:g}$", ha="right", va="center", fontsize=9)
    ax.plot([0, 1, 1, 0, 0], [0, 0, -1, -1, 0], color="0.5", lw=0.8)
    ax.set_xlim(-0.7, 1.7)
    ax.set_ylim(-1.32, 0.3)
    ax.set_aspect("equal")
    ax.axis("off")
    fig.tight_layout()
    return fig


def lr_schedules(curves: Mapping[str, Sequence[float]]) -> Figure:
    """Learning rate against epoch (counted from 0), one line per schedule in ``curves``.

    Each epoch's rate is drawn as a flat step from the epoch's start to the next one's.
    """
    fig, ax = plt.subplots(figsize=(7, 3))
    for (name, lrs), style in zip(
        curves.items(), ["-", "--", "-.", ":"] * 3, strict=False
    ):
        ax.plot(
            np.arange(len(lrs) + 1),
            [*lrs, lrs[-1]],  # each epoch's rate holds until the next epoch begins
            drawstyle="steps-post",
            ls=style,
            lw=1.6,
            label=name,
        )
    ax.set_xlabel("epoch")
    ax.set_ylabel("learning rate")
    ax.set_ylim(bottom=0)
    ax.legend(frameon=False)
    fig.tight_layout()
    return fig


def robustness_curves(
    shifts: Sequence[int],
    shift_accuracy: Mapping[str, Sequence[float]],
    angles: Sequence[float],
    angle_accuracy: Mapping[str, Sequence[float]],
) -> Figure:
    """Test accuracy (in %) of several models on shifted and on rotated test images.

    Left: against the shift in pixels (``shifts``); right: against the angle in degrees
    (``angles``). The two mappings have one sequence of accuracies per model, in the same
    order as ``shifts`` and ``angles``.
    """
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.3), sharey=True)
    for ax, xs, curves, label in (
        (left, shifts, shift_accuracy, "horizontal shift (pixels)"),
        (right, angles, angle_accuracy, "rotation (degrees)"),
    ):
        for (name, accs), marker in zip(curves.items(), "os^D", strict=False):
            ax.plot(xs, 100 * np.asarray(accs), marker=marker, ms=4, label=name)
        ax.set_xlabel(label)
        ax.grid(alpha=0.3)
    left.set_ylabel("test accuracy (%)")
    left.legend(frameon=False, loc="lower center")
    fig.tight_layout()
    return fig


def run_curves(
    history: Mapping[str, Any], test_accuracy: float | None = None
) -> Figure:
    """Loss and error rate per epoch of a :class:`~nnmath.train.History` (as a dict).

    Left: training and dev loss; right: training and dev error in percent (log scale),
    with the final test error as a dashed line when ``test_accuracy`` is given; the
    learning rate is drawn in grey on the right panel's second axis.
    """
    epochs = np.asarray(history["epoch"])
    fig, (left, right) = plt.subplots(1, 2, figsize=(8, 4.2))
    left.plot(epochs, history["train_loss"], label="training (augmented, dropout)")
    left.plot(epochs, history["dev_loss"], label="dev")
    left.set_xlabel("epoch")
    left.set_ylabel("mean cross-entropy")
    left.set_yscale("log")
    # legends below the panels, where no curve runs
    left.legend(frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2)
    train_err = 100 * (1 - np.asarray(history["train_accuracy"]))
    dev_err = 100 * (1 - np.asarray(history["dev_accuracy"], dtype=float))
    right.plot(epochs, train_err, label="training")
    right.plot(epochs, dev_err, label="dev")
    if test_accuracy is not None:
        right.axhline(
            100 * (1 - test_accuracy), color="k", ls="--", lw=1, label="test (final)"
        )
    right.set_yscale("log")
    right.set_xlabel("epoch")
    right.set_ylabel("error (%)")
    lr_ax = right.twinx()
    lr_ax.plot(epochs, history["lr"], color="0.6", lw=1, ls=":", label="learning rate")
    lr_ax.set_ylabel("learning rate", color="0.4")
    lr_ax.tick_params(axis="y", colors="0.4")
    lr_ax.set_ylim(bottom=0)
    lr_ax.spines["right"].set_visible(True)
    handles = (
        right.get_legend_handles_labels()[0] + lr_ax.get_legend_handles_labels()[0]
    )
    right.legend(handles=handles, frameon=False, loc="upper center",
                 bbox_to_anchor=(0.5, -0.2), ncol=2)
    fig.tight_layout()
    return fig

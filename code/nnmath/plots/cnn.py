"""Chapter 17's figures: convolution, and the convolutional network trained with it.

A window of a tiny convolution with its numbers, the learned first-layer kernels, the
feature maps of one digit, the training curves, two confusion matrices side by side and
the test digits that two networks both get wrong. Every function returns its ``Figure``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from nnmath.data import SIDE
from nnmath.plots.common import RUNS, WRONG, as_images, panel_grid
from nnmath.plots.evaluation import draw_confusion, largest_mistake

__all__ = [
    "cnn_curves",
    "confusion_pair",
    "conv_window",
    "feature_map_grid",
    "kernel_grid",
    "shared_mistakes",
]

# Where a kernel or a feature map is shown with its sign: negative blue, positive red.
SIGNED = "RdBu_r"


def _numbers(ax: plt.Axes, values: np.ndarray, title: str) -> None:
    """A small matrix as a grid of cells, each with its value written in it."""
    values = np.asarray(values, dtype=float)
    h, w = values.shape
    ax.imshow(np.zeros_like(values), cmap="Greys", vmin=0, vmax=1)
    for r in range(h):
        for c in range(w):
            ax.text(c, r, f"{values[r, c]:g}", ha="center", va="center", fontsize=11)
    ax.set_xticks(range(w))  # major ticks at the centres, so that the minor ones, on the
    ax.set_yticks(range(h))  # cells' edges, are never dropped as overlapping them
    ax.set_xticks(np.arange(-0.5, w), minor=True)
    ax.set_yticks(np.arange(-0.5, h), minor=True)
    ax.grid(which="minor", color="#999999", lw=0.8)
    ax.tick_params(which="both", length=0, labelbottom=False, labelleft=False)
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.set_title(title, fontsize=11)


def _frame(ax: plt.Axes, r: float, c: float, h: float, w: float, colour: str) -> None:
    ax.add_patch(Rectangle((c - 0.5, r - 0.5), w, h, fill=False, ec=colour, lw=2.5))


def conv_window(
    X: np.ndarray, W: np.ndarray, Z: np.ndarray, positions: Sequence[tuple[int, int]],
    stride: int = 1,
) -> Figure:
    """One-channel input ``X`` ``(n_h, n_w)``, kernel ``W`` ``(K_h, K_w)`` and output ``Z``
    with their numbers; each output position (r, c) of ``positions`` and the window it
    reads, rows rS .. rS + K_h - 1, columns cS .. cS + K_w - 1, framed in one colour."""
    X, W, Z = (np.asarray(a) for a in (X, W, Z))
    k_h, k_w = W.shape
    fig, axes = plt.subplots(
        1, 3, figsize=(7.6, 2.7), gridspec_kw={"width_ratios": [X.shape[1], k_w, Z.shape[1]]}
    )
    _numbers(axes[0], X, "input $X$")
    _numbers(axes[1], W, "kernel $W$")
    _numbers(axes[2], Z, "output $Z$")
    for i, (r, c) in enumerate(positions):
        colour = RUNS[i % len(RUNS)]
        _frame(axes[0], r * stride, c * stride, k_h, k_w, colour)
        _frame(axes[2], r, c, 1, 1, colour)
    fig.tight_layout(w_pad=2.5)
    return fig


def kernel_grid(W: np.ndarray, *, columns: int = 8) -> Figure:
    """The kernels of a convolution with one input channel, ``(c_out, 1, K_h, K_w)``.

    One panel per output channel f, on one colour scale symmetric about zero (positive
    weights red, negative blue), so that the kernels can be compared with each other.
    """
    W = np.asarray(W)
    kernels = W[:, 0] if W.ndim == 4 else W
    n = len(kernels)
    scale = float(np.abs(kernels).max()) or 1.0
    fig, axes = panel_grid(n, columns, 0.85, 0.95)
    image = None
    for f, ax in enumerate(axes.flat):
        ax.set_xticks([])
        ax.set_yticks([])
        if f >= n:
            ax.axis("off")
            continue
        image = ax.imshow(kernels[f], cmap=SIGNED, vmin=-scale, vmax=scale,
                          interpolation="nearest")
        for spine in ax.spines.values():
            spine.set_visible(False)
        ax.set_title(f"f = {f}", fontsize=8, pad=2)
    fig.tight_layout(pad=0.3, rect=(0, 0, 0.88, 1))
    if image is not None:
        bar = fig.colorbar(image, cax=fig.add_axes((0.9, 0.15, 0.015, 0.7)))
        bar.ax.tick_params(labelsize=8)
        bar.set_label("weight", fontsize=8)
    return fig


def feature_map_grid(
    image: np.ndarray, maps: Sequence[np.ndarray], *, columns: Sequence[int] = (4, 8)
) -> Figure:
    """A digit (``(28, 28)`` or a column of 784) and the feature maps of each block,
    ``maps[l]`` ``(c_l, h, w)``.

    Block l's maps are laid out ``columns[l]`` to a row, all on one grey scale from 0 to
    the block's largest value (ReLU outputs are never negative), so that a map that stays
    blank is one that did not respond to this digit.
    """
    image = np.asarray(image).reshape(SIDE, SIDE)
    widths = [1.3] + [0.55 * n for n in columns[: len(maps)]]
    fig = plt.figure(figsize=(sum(widths) + 0.3 * len(maps), 3.0))
    subfigs = fig.subfigures(1, 1 + len(maps), width_ratios=widths, wspace=0.04)
    ax = subfigs[0].subplots()
    ax.imshow(image, cmap="gray_r", vmin=0, vmax=image.max() or 1)
    ax.set_axis_off()
    ax.set_title("input", fontsize=10)
    for l, (block, sub) in enumerate(zip(maps, subfigs[1:], strict=True)):
        block = np.asarray(block)
        n, per_row = len(block), columns[l]
        rows = -(-n // per_row)
        axes = sub.subplots(rows, per_row, squeeze=False)
        top = float(block.max()) or 1.0
        for f, a in enumerate(axes.flat):
            if f >= n:
                a.set_axis_off()
                continue
            a.imshow(block[f], cmap="gray_r", vmin=0, vmax=top, interpolation="nearest")
            a.set_xticks([])
            a.set_yticks([])
            for spine in a.spines.values():  # a thin frame: a blank map stays visible
                spine.set_visible(True)
                spine.set_color("#bbbbbb")
                spine.set_linewidth(0.6)
        side = block.shape[-1]
        sub.suptitle(f"block {l + 1}: {n} maps of {side} \u00d7 {side}", fontsize=10)
        sub.subplots_adjust(wspace=0.12, hspace=0.12, left=0.02, right=0.98, bottom=0.03,
                            top=0.86)
    return fig


def cnn_curves(history: Mapping[str, Any], test_accuracy: float | None = None) -> Figure:
    """Loss and error per epoch of a :class:`~nnmath.train.History` (as a dict).

    Left: the mean cross-entropy on the (distorted) training images and on the dev set;
    right: the error in percent on both (log scale), the final test error as a dashed
    line when ``test_accuracy`` is given, and the learning rate (dotted, right axis).
    """
    epochs = np.asarray(history["epoch"])
    fig, (left, right) = plt.subplots(1, 2, figsize=(8, 4.2))
    left.plot(epochs, history["train_loss"], label="training (distorted)")
    left.plot(epochs, history["dev_loss"], label="dev")
    left.set_xlabel("epoch")
    left.set_ylabel("mean cross-entropy")
    left.set_yscale("log")
    left.legend(frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2)
    right.plot(epochs, 100 * (1 - np.asarray(history["train_accuracy"])), label="training")
    right.plot(epochs, 100 * (1 - np.asarray(history["dev_accuracy"], dtype=float)),
               label="dev")
    if test_accuracy is not None:
        right.axhline(100 * (1 - test_accuracy), color="k", ls="--", lw=1,
                      label="test (final)")
    right.set_yscale("log")
    right.set_xlabel("epoch")
    right.set_ylabel("error (%)")
    lr_ax = right.twinx()
    lr_ax.plot(epochs, history["lr"], color="0.6", lw=1, ls=":", label="learning rate")
    lr_ax.set_ylabel("learning rate", color="0.4")
    lr_ax.tick_params(axis="y", colors="0.4")
    lr_ax.set_ylim(bottom=0)
    lr_ax.spines["right"].set_visible(True)
    handles = right.get_legend_handles_labels()[0] + lr_ax.get_legend_handles_labels()[0]
    right.legend(handles=handles, frameon=False, loc="upper center",
                 bbox_to_anchor=(0.5, -0.2), ncol=2)
    fig.tight_layout()
    return fig


def confusion_pair(matrices: Mapping[str, np.ndarray]) -> Figure:
    """Confusion matrices ``(n, n)`` side by side (rows: true class, columns: predicted).

    Drawn as :func:`~nnmath.plots.evaluation.confusion_heatmap` draws one: the diagonal
    plain blue, the mistakes red; here on one red scale for all the matrices (set by the
    largest mistake count of any), so that equal colours are equal counts. Each panel is
    titled with its name and its number of mistakes.
    """
    cms = {name: np.asarray(cm) for name, cm in matrices.items()}
    largest = max(largest_mistake(cm) for cm in cms.values())
    fig, axes = plt.subplots(1, len(cms), figsize=(5.2 * len(cms), 5.0), squeeze=False)
    for ax, (name, cm) in zip(axes[0], cms.items(), strict=True):
        draw_confusion(ax, cm, largest, fontsize=8)
        mistakes = int(cm.sum() - np.trace(cm))
        ax.set_title(f"{name}: {mistakes} mistakes", fontsize=11, pad=28)
    fig.tight_layout()
    return fig


def shared_mistakes(
    images: np.ndarray, labels: Sequence[int], predictions: Mapping[str, Sequence[int]],
    *, columns: int = 10,
) -> Figure:
    """Images ``(k, 28, 28)`` (or columns ``(784, k)``) that every model of ``predictions``
    gets wrong, each titled with its true label and, in red, each model's answer."""
    images = as_images(images)
    k = len(images)
    fig, axes = panel_grid(max(k, 1), columns, 0.95, 1.2 + 0.2 * len(predictions))
    for i, ax in enumerate(axes.flat):
        ax.set_xticks([])
        ax.set_yticks([])
        for spine in ax.spines.values():
            spine.set_visible(False)
        if i >= k:
            ax.axis("off")
            continue
        ax.imshow(images[i], cmap="gray_r", vmin=0, vmax=images[i].max() or 1)
        answers = "\n".join(f"{name} {int(p[i])}" for name, p in predictions.items())
        ax.set_title(f"true {int(labels[i])}", fontsize=8.5, pad=2)
        ax.set_xlabel(answers, fontsize=8, color=WRONG, labelpad=2)
    fig.tight_layout(pad=0.3, h_pad=0.4, w_pad=0.3)
    return fig

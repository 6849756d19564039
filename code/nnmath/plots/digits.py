"""Chapter 1's figures: the data itself (digit grids, label counts, mean images, pixel values)."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from nnmath.plots.common import as_images, panel_grid

__all__ = [
    "digit_grid",
    "label_counts",
    "mean_digits",
    "pixel_histogram",
]


def digit_grid(
    images: np.ndarray,
    titles: Sequence[str] | None = None,
    *,
    columns: int = 10,
    size: float = 0.9,
) -> Figure:
    """Show images ``(k, 28, 28)`` (or columns ``(784, k)``) in a grid, each with a title."""
    images = as_images(images)
    fig, axes = panel_grid(len(images), columns, size, size + 0.25)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < len(images):
            ax.imshow(images[i], cmap="gray_r", vmin=0, vmax=images.max() or 1)
            if titles is not None:
                ax.set_title(titles[i], fontsize=9, pad=2)
    fig.tight_layout(pad=0.3)
    return fig


def label_counts(train_labels: np.ndarray, test_labels: np.ndarray) -> Figure:
    """Bar chart: how many training and test images each digit has."""
    digits = np.arange(10)
    fig, ax = plt.subplots(figsize=(7, 3))
    width = 0.4
    ax.bar(
        digits - width / 2,
        np.bincount(train_labels, minlength=10),
        width,
        label="training",
    )
    ax.bar(
        digits + width / 2, np.bincount(test_labels, minlength=10), width, label="test"
    )
    ax.set_xticks(digits)
    ax.set_xlabel("digit")
    ax.set_ylabel("number of images")
    ax.legend(frameon=False, ncols=2, loc="lower center", bbox_to_anchor=(0.5, 1.0))
    fig.tight_layout()
    return fig


def mean_digits(images: np.ndarray, labels: np.ndarray) -> Figure:
    """The average image of each digit, one panel per class."""
    means = np.stack([images[labels == d].mean(axis=0) for d in range(10)])
    return digit_grid(means, [str(d) for d in range(10)])


def pixel_histogram(images: np.ndarray) -> Figure:
    """Histogram of all pixel values 0..255, on a log scale (most pixels are 0)."""
    counts = np.bincount(np.asarray(images).ravel(), minlength=256)
    fig, ax = plt.subplots(figsize=(7, 3))
    ax.bar(np.arange(256), counts, width=1.0)
    ax.set_yscale("log")
    ax.set_xlim(-1, 256)
    ax.set_xlabel("pixel value p")
    ax.set_ylabel("number of pixels (log scale)")
    fig.tight_layout()
    return fig

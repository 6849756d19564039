"""What the figures of several chapters share: the book's style, its colours, three steps.

Every chapter calls :func:`use_book_style` first. A colour keeps its meaning from chapter
to chapter: the parts of the network (chapters 2 and 7), right and wrong answers
(chapters 6 and 10), one colour per run (chapters 6, 7, 8 and 11). The three steps are
drawn the same way wherever they occur: digits given as columns become images
(:func:`as_images`), panels are laid out in a grid (:func:`panel_grid`), and bars carry
their values (:func:`label_bars`).
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.container import BarContainer
from matplotlib.figure import Figure

from nnmath.data import SIDE

__all__ = [
    "BOOK_STYLE",
    "EDGE",
    "HIDDEN",
    "INPUT",
    "LOSS",
    "OUTPUT",
    "RIGHT",
    "RUNS",
    "WRONG",
    "as_images",
    "label_bars",
    "panel_grid",
    "run_colour",
    "use_book_style",
]

BOOK_STYLE = {
    "figure.facecolor": "white",
    "savefig.facecolor": "white",
    "axes.facecolor": "white",
    "figure.dpi": 100,
    "savefig.dpi": 110,
    "font.size": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "image.cmap": "gray_r",
}

# The parts of the network, in the diagrams of chapters 2 and 7.
EDGE = "#444444"  # outlines and forward arrows
INPUT, HIDDEN, OUTPUT = "#9ecae1", "#fdae6b", "#a1d99b"
LOSS = "#fcbba1"
# Right and wrong answers (chapters 6 and 10); one colour per run (chapters 6, 7, 8, 11).
RIGHT, WRONG = "#2b8cbe", "#d62728"
RUNS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b")


def use_book_style() -> None:
    """Apply the book's matplotlib settings (white background, ink-on-paper digits)."""
    mpl.rcParams.update(BOOK_STYLE)


def run_colour(i: int) -> str:
    """The colour of the ``i``-th run, the six of ``RUNS`` in turn."""
    return RUNS[i % len(RUNS)]


def as_images(images: np.ndarray) -> np.ndarray:
    """``(k, 28, 28)`` images from either that shape or columns ``(784, k)``."""
    images = np.asarray(images)
    if images.ndim == 2:
        images = images.T.reshape(-1, SIDE, SIDE)
    return images


def panel_grid(
    k: int, columns: int, width: float, height: float
) -> tuple[Figure, np.ndarray]:
    """A figure of ``k`` panels, ``columns`` to a row, each ``width`` x ``height`` inches.

    Returns the figure and its axes, always 2-D ``(rows, columns)``; the last row may have
    panels to spare, which the caller switches off.
    """
    rows = -(-k // columns)
    return plt.subplots(
        rows, columns, figsize=(width * columns, height * rows), squeeze=False
    )


def label_bars(
    ax: plt.Axes, bars: BarContainer, values: Sequence[float], **text: object
) -> None:
    """Write each bar's value, to one decimal, just above the bar; ``text`` styles it."""
    for bar, value in zip(bars, values, strict=True):
        ax.annotate(
            f"{value:.1f}",
            (bar.get_x() + bar.get_width() / 2, value),
            xytext=(0, 2),
            textcoords="offset points",
            ha="center",
            **text,
        )

"""Chapter 8's figures: mini-batch gradient noise, the order of the examples, batch sizes.

Each function takes plain dictionaries of numbers computed by the chapter, draws one
figure and returns it; nothing is computed here that the chapter does not show.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from nnmath.plots.common import run_colour

__all__ = [
    "batch_size_curves",
    "epoch_order_accuracy",
    "gradient_noise",
]


def gradient_noise(
    batch_sizes: Sequence[int],
    measured: Mapping[str, Sequence[float]],
    predicted: Mapping[str, Sequence[float]],
) -> Figure:
    """The noise of a mini-batch gradient against the batch size, measured and predicted.

    ``batch_sizes`` is ``(k,)``; ``measured`` maps the name of a network state to the
    mean squared distance between batch gradients and the full gradient, divided by the
    squared norm of the full gradient, one value per batch size ``(k,)``; ``predicted``
    maps the same names to the formula's values ``(k,)``. Log-log axes; measurements as
    dots, predictions as lines; a dotted line marks noise equal to signal (1).
    """
    fig, ax = plt.subplots(figsize=(6.6, 3.6))
    B = np.asarray(batch_sizes, dtype=np.float64)
    for i, name in enumerate(measured):
        ax.plot(
            B, predicted[name], color=run_colour(i), lw=1.4, label=f"{name}: predicted"
        )
        ax.plot(
            B,
            measured[name],
            "o",
            color=run_colour(i),
            ms=5,
            label=f"{name}: measured",
        )
    ax.axhline(1.0, color="#777777", ls=":", lw=1.0)
    ax.text(B[0], 1.08, "noise = signal", ha="left", va="bottom", fontsize=8.5)
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xticks(B, [str(int(b)) for b in B])
    ax.set_xlabel("batch size $B$")
    ax.set_ylabel(
        r"$\mathbb{E}\,\|\hat g_B - \nabla\mathcal{L}\|^2 \,/\, \|\nabla\mathcal{L}\|^2$"
    )
    ax.grid(alpha=0.25, which="major")
    ax.legend(frameon=False, fontsize=8.5, loc="lower left")
    fig.tight_layout()
    return fig


def epoch_order_accuracy(
    curves: Mapping[str, tuple[Sequence[float], Sequence[float]]],
    class_starts: Sequence[float] | None = None,
) -> Figure:
    """Dev accuracy during one epoch, for several orders of the training examples.

    ``curves`` maps an order's name to ``(fraction_of_epoch, accuracy)``, two ``(k,)``
    sequences (accuracy as a fraction). ``class_starts``, optional ``(10,)``: the fraction
    of the epoch at which each digit's examples begin in the sorted order; the digits are
    written along the top, between light vertical lines.
    """
    fig, ax = plt.subplots(figsize=(7.6, 3.5))
    for i, (name, (x, acc)) in enumerate(curves.items()):
        ax.plot(
            np.asarray(x),
            100 * np.asarray(acc, dtype=np.float64),
            color=run_colour(i),
            lw=1.6,
            marker="o",
            ms=2.5,
            label=name,
        )
    if class_starts is not None:
        starts = [*class_starts, 1.0]
        for k in range(len(starts) - 1):
            ax.axvline(starts[k], color="#bbbbbb", lw=0.7, zorder=0)
            ax.text(
                (starts[k] + starts[k + 1]) / 2,
                103,
                str(k),
                ha="center",
                va="bottom",
                fontsize=8.5,
                color="#555555",
            )
        ax.text(
            1.0,
            111,
            "digit in the sorted batches",
            ha="right",
            va="bottom",
            fontsize=8.5,
            color="#555555",
        )
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 100)
    ax.set_xlabel("fraction of the epoch")
    ax.set_ylabel("dev accuracy (%)")
    ax.grid(alpha=0.25, axis="y")
    ax.legend(frameon=False, fontsize=9, loc="center right")
    fig.tight_layout()
    return fig


def batch_size_curves(
    runs: Mapping[str, Mapping[str, Sequence[float]]], *, lowest: float | None = None
) -> Figure:
    """Loss against epochs (left) and against wall time (right), one line per run.

    ``runs`` maps a run's name (e.g. "B = 64") to a mapping with three parallel ``(k,)``
    sequences: ``"epoch"`` (fractional epochs), ``"seconds"`` (training time so far) and
    ``"loss"`` (the loss measured at that point). Logarithmic loss axis. ``lowest``, if
    given, draws a dotted reference line at that loss.
    """
    fig, (ax_e, ax_t) = plt.subplots(1, 2, figsize=(8.6, 3.5), sharey=True)
    for i, (name, run) in enumerate(runs.items()):
        style = {"color": run_colour(i), "lw": 1.6, "label": name}
        ax_e.plot(run["epoch"], run["loss"], **style)
        ax_t.plot(run["seconds"], run["loss"], **style)
    for ax in (ax_e, ax_t):
        ax.set_yscale("log")
        ax.grid(alpha=0.25, which="both")
        if lowest is not None:
            ax.axhline(lowest, color="#777777", ls=":", lw=0.9)
    ax_e.set_xlabel("epochs")
    ax_t.set_xlabel("training time (s)")
    ax_e.set_ylabel("training loss (log scale)")
    ax_e.set_title("per pass over the data", fontsize=10)
    ax_t.set_title("per second", fontsize=10)
    ax_t.legend(frameon=False, fontsize=9, loc="upper right")
    fig.tight_layout(w_pad=1.5)
    return fig

"""Chapter 7's figures: the deep network's layers, and its signal and gradients at the start.

Each function takes arrays or plain dictionaries of numbers computed by the chapter, draws
one figure and returns it; nothing is computed here that the chapter does not show.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

from nnmath.plots.common import EDGE, HIDDEN, INPUT, LOSS, run_colour

__all__ = [
    "init_depth_stats",
    "layer_chain",
    "layer_gradient_bars",
]

_BACK = "#d62728"  # the backward pass


def layer_chain() -> Figure:
    """The L-layer network as a column of identical layer boxes, forward and backward.

    From the input X = A[0] at the top to the loss at the bottom: black arrows (left)
    carry the activations A[l-1] -> A[l] forward, red dashed arrows (right) carry the
    errors dZ[l] back up. Each box shows the two forward equations of its layer and, in
    red, what the backward pass computes there.
    """
    fig, ax = plt.subplots(figsize=(5.9, 6.4))
    ax.set_xlim(0.9, 9.8)
    ax.set_ylim(1.0, 13.9)
    ax.axis("off")
    left, w, h = 2.4, 5.2, 2.0
    fwd_x, back_x = 3.0, 7.0  # where the arrows run, inside the boxes' span

    def box(x: float, y: float, bw: float, bh: float, colour: str) -> None:
        ax.add_patch(
            FancyBboxPatch(
                (x, y),
                bw,
                bh,
                boxstyle="round,pad=0.05,rounding_size=0.15",
                fc=colour,
                ec=EDGE,
                lw=0.9,
            )
        )

    def arrow(x: float, y0: float, y1: float, back: bool = False) -> None:
        ax.add_patch(
            FancyArrowPatch(
                (x, y0),
                (x, y1),
                arrowstyle="-|>",
                mutation_scale=14,
                lw=1.3 if back else 1.5,
                ls="--" if back else "-",
                color=_BACK if back else EDGE,
            )
        )

    def label(x: float, y: float, text: str, back: bool = False) -> None:
        ax.text(
            x,
            y,
            text,
            ha="left" if back else "right",
            va="center",
            fontsize=10.5,
            color=_BACK if back else EDGE,
        )

    # the input and the loss
    box(left + 1.1, 12.9, w - 2.2, 0.8, INPUT)
    ax.text(5.0, 13.3, "$X = A^{[0]}$", ha="center", va="center", fontsize=11.5)
    box(left + 1.1, 1.3, w - 2.2, 0.8, LOSS)
    ax.text(5.0, 1.7, r"loss $\mathcal{L}$", ha="center", va="center", fontsize=11.5)

    bottoms = (10.2, 6.7, 3.2)  # layers 1, l and L
    layers = zip(
        bottoms,
        "1lL",
        ("0", "l-1", "L-1"),
        ("ReLU", "ReLU", "softmax"),
        strict=True,
    )
    for y, l, prev, g in layers:
        box(left, y, w, h, HIDDEN)
        ax.text(
            5.0, y + h - 0.38, f"layer {l}", ha="center", fontsize=11, weight="bold"
        )
        ax.text(
            5.0,
            y + h - 0.85,
            f"$Z^{{[{l}]}} = W^{{[{l}]}} A^{{[{prev}]}} + b^{{[{l}]}}$",
            ha="center",
            fontsize=11,
        )
        ax.text(
            5.0,
            y + h - 1.3,
            f"$A^{{[{l}]}} = $ {g}$(Z^{{[{l}]}})$",
            ha="center",
            fontsize=11,
        )
        ax.text(
            5.0,
            y + 0.22,
            f"$dW^{{[{l}]}}, db^{{[{l}]}}$"
            + ("" if l == "1" else f", $dZ^{{[{prev}]}}$"),
            ha="center",
            fontsize=11,
            color=_BACK,
        )

    pad = 0.06
    # X -> layer 1 and layer L -> loss: one arrow each way (none back into X)
    arrow(fwd_x, 12.9 - pad, 12.2 + pad)
    arrow(fwd_x, 3.2 - pad, 2.1 + pad)
    label(fwd_x - 0.15, 2.65, "$A^{[L]}$")
    arrow(back_x, 2.1 + pad, 3.2 - pad, back=True)
    label(back_x + 0.15, 2.65, "$dZ^{[L]} = A^{[L]} - Y$", back=True)
    # the two gaps, each with an ellipsis
    gaps = ((10.2, 8.7, "1", "l-1"), (6.7, 5.2, "l", "L-1"))
    for top, bottom, upper, lower in gaps:
        middle = (top + bottom) / 2
        ax.text(5.0, middle, r"$\vdots$", ha="center", va="center", fontsize=15)
        arrow(fwd_x, top - pad, middle + 0.12)
        arrow(fwd_x, middle - 0.12, bottom + pad)
        label(fwd_x - 0.15, top - 0.32, f"$A^{{[{upper}]}}$")
        label(fwd_x - 0.15, bottom + 0.32, f"$A^{{[{lower}]}}$")
        arrow(back_x, bottom + pad, middle - 0.12, back=True)
        arrow(back_x, middle + 0.12, top - pad, back=True)
        label(back_x + 0.15, top - 0.32, f"$dZ^{{[{upper}]}}$", back=True)
        label(back_x + 0.15, bottom + 0.32, f"$dZ^{{[{lower}]}}$", back=True)
    ax.text(1.3, 7.7, "forward", rotation=90, ha="center", va="center", fontsize=11)
    ax.text(
        9.55,
        7.7,
        "backward",
        rotation=90,
        ha="center",
        va="center",
        fontsize=11,
        color=_BACK,
    )
    fig.tight_layout(pad=0.2)
    return fig


def init_depth_stats(
    forward: Mapping[str, Sequence[float]], backward: Mapping[str, Sequence[float]]
) -> Figure:
    """The size of the signal layer by layer in a deep ReLU network, one line per start.

    ``forward`` maps an initialisation's name to the standard deviations of A[0], A[1],
    ..., A[L-1] (input and hidden layers, ``(L,)``); ``backward`` maps the same names to
    the root-mean-square of dZ[1], ..., dZ[L] (``(L,)``). Left panel, the forward signal
    against l; right panel, the backward one. Both axes logarithmic in the vertical.
    """
    fig, (ax_f, ax_b) = plt.subplots(1, 2, figsize=(8.6, 3.5))
    markers = ("o", "s", "^", "D", "v")
    for i, name in enumerate(forward):
        fwd = np.asarray(forward[name], dtype=np.float64)
        bwd = np.asarray(backward[name], dtype=np.float64)
        style = {"color": run_colour(i), "marker": markers[i % 5], "ms": 4, "lw": 1.6}
        ax_f.plot(np.arange(fwd.size), fwd, label=name, **style)
        ax_b.plot(np.arange(1, bwd.size + 1), bwd, label=name, **style)
        depth = bwd.size
    ax_f.set_xticks(np.arange(depth))
    ax_b.set_xticks(np.arange(1, depth + 1))
    ax_f.set_xlabel("layer $l$ (0 is the input)")
    ax_f.set_ylabel("std of $A^{[l]}$ (log scale)")
    ax_f.set_title("forward: activations", fontsize=10)
    ax_b.set_xlabel(f"layer $l$ ({depth} is the output)")
    ax_b.set_ylabel("rms of $dZ^{[l]}$ (log scale)")
    ax_b.set_title("backward: errors", fontsize=10)
    for ax in (ax_f, ax_b):
        ax.set_yscale("log")
        ax.grid(alpha=0.25, which="major")
    ax_f.legend(frameon=False, fontsize=8.5, loc="best")
    fig.tight_layout(w_pad=2.0)
    return fig


def layer_gradient_bars(
    norms: Mapping[str, Sequence[float]], names: Sequence[str]
) -> Figure:
    """Grouped bars of gradient sizes, one group per parameter array, one bar per start.

    ``norms`` maps a start's name to the Euclidean norms of its gradients, parallel to
    ``names`` (e.g. ``["W[1]", "b[1]", ...]``). Logarithmic vertical axis; when there are
    exactly two starts, the ratio first/second is written above each group.
    """
    labels = list(norms)
    values = np.array([np.asarray(norms[k], dtype=np.float64) for k in labels])
    n_groups = values.shape[1]
    width = 0.8 / len(labels)
    positions = np.arange(n_groups)
    fig, ax = plt.subplots(figsize=(7.6, 3.5))
    for i, label in enumerate(labels):
        ax.bar(
            positions + (i - (len(labels) - 1) / 2) * width,
            values[i],
            width=width * 0.95,
            color=run_colour(i),
            label=label,
        )
    ax.set_yscale("log")
    top = values.max()
    bottom = values[values > 0].min()
    ax.set_ylim(bottom / 4, top * 12)
    if len(labels) == 2:
        for j in range(n_groups):
            ratio = values[0, j] / values[1, j]
            ax.text(
                positions[j],
                values[:, j].max() * 1.6,
                f"\u00d7 {ratio:.2g}",
                ha="center",
                fontsize=8.5,
                color="#333333",
            )
    ax.set_xticks(positions, [f"$d{n}$" for n in names])
    ax.set_ylabel("norm of the gradient (log scale)")
    ax.grid(alpha=0.25, axis="y", which="major")
    ax.legend(frameon=False, fontsize=9, loc="upper left", ncols=len(labels))
    fig.tight_layout()
    return fig

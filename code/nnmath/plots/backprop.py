"""Chapter 5's figures: the computational graph and the errors of finite differences."""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch

__all__ = [
    "computational_graph",
    "finite_difference_errors",
]

_CENTRAL_COLOUR = "#1f77b4"
_BACKWARD_COLOUR = "#c0392b"
_RADIUS = 0.36  # radius of a node, in data units
_PT_PER_UNIT = 8.0 * 72 / 9.7  # figure width in points over the x-range, in data units


def computational_graph() -> Figure:
    """The computational graph of Part I's two-layer network and its backward pass.

    Variables are circles (grey: data X and Y; blue: parameters; white: computed values),
    the loss L a box. Black arrows run forward, from inputs to the loss, the activations
    and the loss named on them; red dashed arrows run backward, from the loss to every parameter,
    and are labelled with the gradient they carry. Takes no data.
    """
    pos = {
        "X": (0.0, 0.0),
        "W1": (0.45, 1.65),
        "b1": (2.3, 1.65),
        "Z1": (1.6, 0.0),
        "A1": (3.3, 0.0),
        "W2": (4.25, 1.65),
        "b2": (6.1, 1.65),
        "Z2": (5.4, 0.0),
        "A2": (7.1, 0.0),
        "Y": (7.9, 1.65),
        "L": (8.8, 0.0),
    }
    names = {
        "X": ("$X$", "data"),
        "W1": ("$W^{[1]}$", "param"),
        "b1": ("$b^{[1]}$", "param"),
        "Z1": ("$Z^{[1]}$", "value"),
        "A1": ("$A^{[1]}$", "value"),
        "W2": ("$W^{[2]}$", "param"),
        "b2": ("$b^{[2]}$", "param"),
        "Z2": ("$Z^{[2]}$", "value"),
        "A2": ("$A^{[2]}$", "value"),
        "Y": ("$Y$", "data"),
    }
    fig, ax = plt.subplots(figsize=(8.0, 3.6))
    fig.subplots_adjust(left=0, right=1, bottom=0, top=1)
    ax.set_xlim(-0.45, 9.25)
    ax.set_ylim(-1.3, 2.08)
    ax.set_aspect("equal")
    ax.axis("off")

    for key, (text, kind) in names.items():
        _node(ax, pos[key], text, kind)
    lx, ly = pos["L"]
    ax.add_patch(
        FancyBboxPatch(
            (lx - 0.32, ly - 0.3),
            0.64,
            0.6,
            boxstyle="round,pad=0.04",
            facecolor="#fdebd0",
            edgecolor="black",
            lw=1.2,
            zorder=3,
        )
    )
    ax.text(lx, ly, r"$\mathcal{L}$", ha="center", va="center", fontsize=15, zorder=4)

    # Forward pass: black arrows; the nonlinear operations are named on them.
    for a, b in [
        ("X", "Z1"),
        ("W1", "Z1"),
        ("b1", "Z1"),
        ("Z1", "A1"),
        ("A1", "Z2"),
        ("W2", "Z2"),
        ("b2", "Z2"),
        ("Z2", "A2"),
        ("A2", "L"),
        ("Y", "L"),
    ]:
        _arrow(ax, pos[a], pos[b], rad=0.2 if a in ("W1", "b1", "W2", "b2") else 0.0)
    forward_labels = [
        ((2.45, 0.1), "ReLU"),
        ((6.25, 0.1), "softmax"),
        ((7.92, 0.1), "cross-\nentropy"),
    ]
    for (x, y), text in forward_labels:
        ax.text(x, y, text, ha="center", va="bottom", fontsize=10.5)

    # Backward pass: red dashed arrows below the chain, then up to the parameters.
    red = {"colour": _BACKWARD_COLOUR, "dashed": True}
    _arrow(ax, pos["L"], pos["Z2"], rad=-0.45, **red)
    _arrow(ax, pos["Z2"], pos["A1"], rad=-0.45, **red)
    _arrow(ax, pos["A1"], pos["Z1"], rad=-0.55, **red)
    for param, node in [("W1", "Z1"), ("b1", "Z1"), ("W2", "Z2"), ("b2", "Z2")]:
        _arrow(ax, pos[node], pos[param], rad=0.2, **red)

    backward_labels = [
        ((7.1, -0.95), r"$dZ^{[2]} = A^{[2]} - Y$"),
        ((4.5, -0.75), r"$dA^{[1]} = W^{[2]\top} dZ^{[2]}$"),
        ((1.95, -0.75), r"$dZ^{[1]} = dA^{[1]} \odot g^{[1]\prime}(Z^{[1]})$"),
    ]
    for (x, y), text in backward_labels:
        ax.text(x, y, text, ha="center", va="top", color=_BACKWARD_COLOUR, fontsize=12)
    param_labels = [
        ((1.3, 1.0), r"$dW^{[1]}$"),
        ((2.25, 0.72), r"$db^{[1]}$"),
        ((5.1, 1.0), r"$dW^{[2]}$"),
        ((6.05, 0.72), r"$db^{[2]}$"),
    ]
    for (x, y), text in param_labels:
        ax.text(x, y, text, ha="left", va="center", color=_BACKWARD_COLOUR, fontsize=12)
    return fig


def _node(ax: plt.Axes, xy: tuple[float, float], text: str, kind: str) -> None:
    """Draw one variable of the graph: a circle, filled according to ``kind``."""
    fill = {"data": "#e8e8e8", "param": "#d6e6f5", "value": "white"}[kind]
    ax.add_patch(
        Circle(xy, _RADIUS, facecolor=fill, edgecolor="black", lw=1.2, zorder=3)
    )
    ax.text(*xy, text, ha="center", va="center", fontsize=14, zorder=4)


def _arrow(
    ax: plt.Axes,
    start: tuple[float, float],
    end: tuple[float, float],
    *,
    colour: str = "black",
    rad: float = 0.0,
    dashed: bool = False,
) -> None:
    """Draw an arrow from ``start`` to ``end`` between two nodes, bent by ``rad``."""
    shrink = _RADIUS * _PT_PER_UNIT + 1  # stop at the circle's edge (points)
    ax.add_patch(
        FancyArrowPatch(
            start,
            end,
            arrowstyle="-|>",
            mutation_scale=14,
            color=colour,
            lw=1.4,
            ls="--" if dashed else "-",
            connectionstyle=f"arc3,rad={rad}",
            shrinkA=shrink,
            shrinkB=shrink,
            zorder=2,
        )
    )


def finite_difference_errors(
    eps: np.ndarray, errors: Mapping[str, np.ndarray], *, floor: float = 1e-13
) -> Figure:
    """Relative error of finite-difference derivatives against the step ``eps``, log-log.

    ``eps`` has shape ``(k,)``; ``errors`` maps a curve's label (for example
    ``"central, float64"``) to its ``(k,)`` relative errors. Labels containing "float32"
    are drawn dashed, labels starting with "central" in blue, the others in orange. Errors
    below ``floor`` (an exact hit) are drawn at ``floor``.
    """
    fig, ax = plt.subplots(figsize=(7, 3.8))
    for label, err in errors.items():
        colour = _CENTRAL_COLOUR if label.startswith("central") else "#ff7f0e"
        ls = "--" if "float32" in label else "-"
        ax.loglog(
            eps,
            np.maximum(err, floor),
            color=colour,
            ls=ls,
            marker="o",
            ms=3,
            label=label,
        )
    ax.set_xlabel(r"step $\varepsilon$")
    ax.set_ylabel("relative error of the derivative")
    lowest = min(float(np.min(np.maximum(err, floor))) for err in errors.values())
    ax.set_ylim(lowest / 4, 3)
    ax.legend(frameon=False, loc="lower left", fontsize=9)
    fig.tight_layout()
    return fig

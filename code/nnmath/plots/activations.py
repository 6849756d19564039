"""Chapter 3's figures: activation functions, a hidden layer's activations, gradient sizes."""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

__all__ = [
    "activation_curves",
    "activation_map",
    "gradient_norms",
]


def activation_curves(
    z: np.ndarray, curves: Mapping[str, tuple[np.ndarray, np.ndarray]]
) -> Figure:
    """One panel per activation: the function (solid) and its derivative (dashed) against z.

    ``z`` is ``(n,)``, increasing; ``curves`` maps a name to ``(g(z), g'(z))``, two ``(n,)``
    arrays. Where the derivative jumps between neighbouring grid points (ReLU's kink) its line
    is broken, and the left point of the jump gets a filled dot (the value the code returns
    there; pass a grid that contains the kink) and an open dot at the limit from the right.
    """
    z = np.asarray(z)
    fig, axes = plt.subplots(
        1, len(curves), figsize=(2.6 * len(curves), 3.0), sharey=True
    )
    axes = np.atleast_1d(axes)
    for ax, (name, (g, dg)) in zip(axes, curves.items(), strict=True):
        ax.axhline(0, color="#999999", lw=0.6)
        ax.axvline(0, color="#999999", lw=0.6)
        ax.plot(z, g, color="#3182bd", lw=2, label=f"{name}$(z)$")
        dg = np.asarray(dg, dtype=np.float64)
        jumps = np.flatnonzero(np.abs(np.diff(dg)) > 0.5)
        if jumps.size:  # a kink: break the derivative's line instead of drawing a riser
            z_kink, value, limit = z[jumps], dg[jumps], dg[jumps + 1]
            dg = np.insert(dg, jumps + 1, np.nan)
            z_line = np.insert(z.astype(np.float64), jumps + 1, np.nan)
        else:
            z_line = z
        ax.plot(z_line, dg, color="#e6550d", lw=1.8, ls="--", label=f"{name}$'(z)$")
        if jumps.size:
            ax.plot(z_kink, limit, "o", mfc="white", mec="#e6550d", ms=5, zorder=4)
            ax.plot(z_kink, value, "o", color="#e6550d", ms=5, zorder=4)
        ax.set_title(name, fontsize=10)
        ax.set_xlabel("$z$")
        ax.set_xlim(z.min(), z.max())
        ax.set_ylim(-1.15, 2.15)
        ax.legend(frameon=False, loc="upper left", fontsize=9)
        ax.grid(alpha=0.25)
    fig.tight_layout(w_pad=1.2)
    return fig


def activation_map(A: np.ndarray, *, title: str = "") -> Figure:
    """Hidden activations ``A`` ``(n_units, k)`` as an image: one column per example.

    Exact zeros are drawn white, so the sparsity of a ReLU layer is visible at a glance.
    """
    A = np.asarray(A, dtype=np.float64)
    n, k = A.shape
    fig, ax = plt.subplots(figsize=(min(7.6, 1.6 + 0.15 * k), 2.0 + 0.13 * n))
    shown = np.ma.masked_where(A == 0, A)
    cmap = plt.get_cmap("viridis").copy()
    cmap.set_bad("white")
    im = ax.imshow(shown, aspect="auto", cmap=cmap, interpolation="nearest")
    ax.set_yticks(np.arange(n), [str(j) for j in range(1, n + 1)])
    ax.set_xlabel("example (column of $A^{[1]}$)")
    ax.set_ylabel("hidden unit")
    for spine in ax.spines.values():
        spine.set_visible(True)
        spine.set_color("#999999")
    if title:
        ax.set_title(title, fontsize=10)
    fig.colorbar(im, ax=ax, label="activation (white: exactly 0)", pad=0.015)
    fig.tight_layout()
    return fig


def gradient_norms(norms: Mapping[str, np.ndarray]) -> Figure:
    """Size of the backward signal at each layer of a deep stack, one curve per activation.

    ``norms`` maps a name to a ``(depth,)`` array: the root-mean-square gradient with
    respect to each layer's pre-activation, layer 1 first. Logarithmic vertical axis.
    """
    fig, ax = plt.subplots(figsize=(6.8, 3.4))
    markers = ("o", "s", "^", "D")
    for (name, values), marker in zip(norms.items(), markers, strict=False):
        values = np.asarray(values)
        ax.plot(
            np.arange(1, values.size + 1),
            values,
            marker=marker,
            ms=4,
            lw=1.6,
            label=name,
        )
        depth = values.size
    ax.set_yscale("log")
    ax.set_xticks(np.arange(1, depth + 1))
    ax.set_xlabel("layer $l$ (the loss is after the last layer)")
    ax.set_ylabel("size of the gradient $dZ^{[l]}$")
    ax.grid(alpha=0.25, which="major")
    ax.legend(frameon=False)
    fig.tight_layout()
    return fig

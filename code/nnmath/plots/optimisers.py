"""Chapter 9's figures: the optimisers.

The weights of an exponentially weighted average, optimiser trajectories on a
two-dimensional quadratic, Adam's moment estimates with and without bias correction, and
the learning curves of several optimisers. Every function returns its ``Figure``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from nnmath.plots.common import panel_grid

__all__ = [
    "bias_correction_curves",
    "ewa_weights",
    "optimiser_curves",
    "optimiser_paths",
]

_COLOURS = ("#4d4d4d", "#1f77b4", "#2ca02c", "#d62728", "#9467bd", "#ff7f0e")


def ewa_weights(betas: Sequence[float], ages: int = 40) -> Figure:
    """The weight (1 - β) β^k that an exponentially weighted average gives a value k steps old.

    One line of markers per decay rate in ``betas``, for ages k = 0 .. ``ages`` - 1, and
    a dotted vertical line at each effective window 1/(1 - β).
    """
    k = np.arange(ages)
    fig, ax = plt.subplots(figsize=(7.2, 3.1))
    for beta, colour in zip(betas, _COLOURS[1:], strict=False):
        weights = (1 - beta) * beta**k
        ax.plot(k, weights, "o-", ms=3.2, lw=1.1, color=colour, label=f"β = {beta:g}")
        window = 1 / (1 - beta)
        ax.axvline(window, color=colour, ls=":", lw=1.3)
        ax.annotate(
            f"1/(1-β) = {window:g}",
            (window, (1 - beta) * beta**window),
            xytext=(5, 8),
            textcoords="offset points",
            fontsize=8.5,
            color=colour,
        )
    ax.set_xlabel("age of the gradient τ (steps ago)")
    ax.set_ylabel("weight (1 - β) β$^τ$")
    ax.set_xlim(-0.5, ages - 0.5)
    ax.set_ylim(0, None)
    ax.grid(alpha=0.25)
    ax.legend(frameon=False)
    fig.tight_layout()
    return fig


def optimiser_paths(
    curvatures: Sequence[float],
    paths: Mapping[str, np.ndarray],
    *,
    columns: int = 2,
) -> Figure:
    """Optimiser trajectories on L(θ) = (c_1 θ_1² + c_2 θ_2²) / 2, one panel per optimiser.

    ``curvatures`` is (c_1, c_2); ``paths`` maps a panel title to the iterates
    ``(k, 2)`` of one run, θ_0 first. Each panel shows the same contour lines of L, the
    iterates joined by lines, the start (open circle) and the minimum (a cross), and the
    loss after the last step in its corner.
    """
    c = np.asarray(curvatures, dtype=np.float64)
    all_points = np.concatenate(
        [np.asarray(p, dtype=np.float64) for p in paths.values()]
    )
    start = np.asarray(next(iter(paths.values())), dtype=np.float64)[0]
    x_reach = 1.15 * max(abs(start[0]), 1e-9)
    y_reach = 1.25 * max(np.abs(all_points[:, 1]).max(), abs(start[1]), 1e-9)
    y_reach = min(y_reach, 2.5 * abs(start[1]) + 1e-9)
    x = np.linspace(-x_reach, x_reach, 300)
    y = np.linspace(-y_reach, y_reach, 300)
    grid_x, grid_y = np.meshgrid(x, y)
    loss = 0.5 * (c[0] * grid_x**2 + c[1] * grid_y**2)
    start_loss = 0.5 * float(c @ start**2)
    levels = start_loss * np.geomspace(1e-3, 1.0, 8)

    n = len(paths)
    fig, axes = panel_grid(n, columns, 4.3, 2.35)
    for i, ax in enumerate(axes.flat):
        if i >= n:
            ax.axis("off")
            continue
        title, path = list(paths.items())[i]
        path = np.asarray(path, dtype=np.float64)
        colour = _COLOURS[i % len(_COLOURS)]
        ax.contour(
            grid_x, grid_y, loss, levels=levels, colors="#bbbbbb", linewidths=0.8
        )
        ax.plot(path[:, 0], path[:, 1], "-", color=colour, lw=1.0, alpha=0.8)
        ax.plot(path[:, 0], path[:, 1], "o", color=colour, ms=2.6)
        ax.plot(*path[0], "o", mfc="white", mec="black", ms=6, zorder=4)
        ax.plot(0, 0, "x", color="black", ms=7, mew=1.6, zorder=4)
        final = 0.5 * float(c @ path[-1] ** 2)
        ax.text(
            0.98,
            0.04,
            f"L after {len(path) - 1} steps: {final:.2g}",
            transform=ax.transAxes,
            ha="right",
            va="bottom",
            fontsize=8.5,
            bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.85, "pad": 1.5},
        )
        ax.set_title(title, fontsize=10)
        ax.set_xlim(-x_reach, x_reach)
        ax.set_ylim(-y_reach, y_reach)
        ax.set_xlabel(r"$\theta_1$", labelpad=1)
        ax.set_ylabel(r"$\theta_2$", labelpad=1)
        ax.tick_params(labelsize=8)
    fig.tight_layout(h_pad=0.8, w_pad=1.2)
    return fig


def bias_correction_curves(
    t: np.ndarray,
    estimates: Mapping[str, np.ndarray],
    targets: Mapping[str, float],
) -> Figure:
    """Adam's moment estimates averaged over many runs, raw and bias-corrected, against t.

    ``t`` is ``(k,)``, the step numbers (a logarithmic axis is used). ``estimates`` maps
    a name ``"m"``, ``"m_hat"``, ``"v"``, ``"v_hat"`` to a ``(k,)`` array; ``targets``
    maps ``"m"`` and ``"v"`` to the values E[g] and E[g²] the estimates should match.
    Left panel: the first moment, right panel: the second moment, each with its target
    as a dashed line.
    """
    fig, axes = plt.subplots(1, 2, figsize=(8.2, 3.4))
    for ax, key, name, beta_name, where in (
        (axes[0], "m", "first moment (mean of g)", r"\beta_1", "lower right"),
        (axes[1], "v", "second moment (mean of g²)", r"\beta_2", "center left"),
    ):
        ax.plot(t, estimates[key], color=_COLOURS[3], lw=1.6, label=f"${key}_t$ (raw)")
        ax.plot(
            t,
            estimates[key + "_hat"],
            color=_COLOURS[1],
            lw=1.6,
            label=rf"$\hat{{{key}}}_t = {key}_t / (1 - {beta_name}^t)$",
        )
        ax.axhline(targets[key], color="black", ls="--", lw=1.0, label="true value")
        ax.set_xscale("log")
        ax.set_xlabel("step t")
        ax.set_title(name, fontsize=10)
        ax.set_ylim(0, 1.3 * targets[key])
        ax.grid(alpha=0.25, which="both")
        ax.legend(frameon=False, fontsize=9.5, loc=where)
    axes[0].set_ylabel("average over runs")
    fig.tight_layout(w_pad=2.0)
    return fig


def optimiser_curves(histories: Mapping[str, Any]) -> Figure:
    """Training loss, dev loss and dev accuracy per epoch, one line per optimiser.

    ``histories`` maps a name to a :class:`nnmath.train.History` (or anything with the
    lists ``epoch``, ``train_loss``, ``dev_loss`` and ``dev_accuracy``). Losses are the
    mean cross-entropy, accuracies are in percent.
    """
    # 8 inches for three panels: the page shows the figure near its own size, so the
    # text stays as large as the book's other figures
    fig, axes = plt.subplots(1, 3, figsize=(8, 3.6))
    panels = (
        ("train_loss", "training loss", 1.0),
        ("dev_loss", "dev loss", 1.0),
        ("dev_accuracy", "dev accuracy (%)", 100.0),
    )
    for (name, history), colour in zip(histories.items(), _COLOURS, strict=False):
        for ax, (field, _, scale) in zip(axes, panels, strict=True):
            values = scale * np.asarray(getattr(history, field), dtype=np.float64)
            ax.plot(
                history.epoch, values, "o-", ms=3.5, lw=1.5, color=colour, label=name
            )
    for ax, (_, label, _) in zip(axes, panels, strict=True):
        ax.set_xlabel("epoch")
        ax.set_title(label, fontsize=11)
        ax.grid(alpha=0.25, which="both")
        epochs = next(iter(histories.values())).epoch
        ax.set_xticks(list(epochs))
    # one legend below the panels, where no curve runs
    fig.legend(*axes[0].get_legend_handles_labels(), frameon=False, fontsize=9.5,
               loc="lower center", ncol=len(histories))
    fig.tight_layout(w_pad=1.0, rect=(0, 0.09, 1, 1))
    return fig

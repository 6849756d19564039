"""Chapter 13's figures: the results of a hyper-parameter search, as a heat map and a scatter."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

__all__ = [
    "search_heatmap",
    "search_scatter",
]


def search_heatmap(
    results: Sequence[Mapping[str, Any]],
    row: str,
    column: str,
    *,
    value: str = "dev_accuracy",
    row_label: str | None = None,
    column_label: str | None = None,
) -> Figure:
    """A heat map of ``value`` (in %) over a grid search's two hyper-parameters.

    ``results`` are the dicts of :func:`nnmath.search.grid_search`; ``row`` and ``column``
    name the two hyper-parameters. Their values are sorted (numbers, tuples of numbers)
    when they can be, and shown as text.
    """
    rows = _ordered([r[row] for r in results])
    cols = _ordered([r[column] for r in results])
    grid = np.full((len(rows), len(cols)), np.nan)
    for r in results:
        grid[rows.index(r[row]), cols.index(r[column])] = 100 * r[value]
    fig, ax = plt.subplots(figsize=(1.6 + 1.5 * len(cols), 0.9 + 0.75 * len(rows)))
    shown = np.nan_to_num(grid, nan=np.nanmin(grid))
    image = ax.imshow(shown, cmap="viridis", aspect="auto")
    best = np.unravel_index(np.nanargmax(grid), grid.shape)
    middle = (np.nanmax(grid) + np.nanmin(grid)) / 2
    for (i, j), v in np.ndenumerate(grid):
        text = f"{v:.1f}" + (" (best)" if (i, j) == best else "")
        ax.text(
            j,
            i,
            text,
            ha="center",
            va="center",
            fontsize=9.5,
            color="black" if v > middle else "white",
            fontweight="bold" if (i, j) == best else "normal",
        )
    ax.set_xticks(range(len(cols)), [_label(c) for c in cols])
    ax.set_yticks(range(len(rows)), [_label(r) for r in rows])
    ax.set_xlabel(column_label or column)
    ax.set_ylabel(row_label or row)
    for spine in ax.spines.values():
        spine.set_visible(False)
    fig.colorbar(image, ax=ax, label=f"{value.replace('_', ' ')} (%)", shrink=0.9)
    fig.tight_layout()
    return fig


def _ordered(values: Sequence[Any]) -> list[Any]:
    """The distinct ``values``, sorted when they can be compared, else as first met."""
    distinct: list[Any] = []
    for v in values:
        if v not in distinct:
            distinct.append(v)
    try:
        return sorted(distinct)
    except TypeError:
        return distinct


def _label(value: Any) -> str:
    if isinstance(value, tuple | list):
        return "-".join(str(v) for v in value)
    return f"{value:g}" if isinstance(value, float) else str(value)


def search_scatter(
    runs: Mapping[str, Sequence[Mapping[str, Any]]],
    x: str = "lr",
    *,
    value: str = "dev_accuracy",
    floor: float | None = None,
    x_label: str | None = None,
) -> Figure:
    """``value`` (in %) against hyper-parameter ``x`` (log scale) for several searches.

    ``runs`` maps a search's name to its result dicts. Values below ``floor`` (in %) are
    drawn at the floor, as downward triangles, so a diverged run does not squash the
    scale.
    """
    fig, ax = plt.subplots(figsize=(7, 3.4))
    for (name, results), marker in zip(runs.items(), "os^D", strict=False):
        xs = np.array([r[x] for r in results], dtype=float)
        ys = 100 * np.array([r[value] for r in results], dtype=float)
        ys = np.nan_to_num(ys, nan=-np.inf)
        low = np.zeros_like(ys, dtype=bool) if floor is None else ys < floor
        (line,) = ax.plot(
            xs[~low], ys[~low], marker, ms=7, alpha=0.8, label=name, ls="none"
        )
        if low.any():
            ax.plot(
                xs[low],
                np.full(low.sum(), floor),
                "v",
                ms=7,
                alpha=0.8,
                color=line.get_color(),
                ls="none",
            )
    ax.set_xscale("log")
    ax.set_xlabel(x_label or f"{x} (log scale)")
    ax.set_ylabel(f"{value.replace('_', ' ')} (%)")
    ax.legend(frameon=False)
    fig.tight_layout()
    return fig

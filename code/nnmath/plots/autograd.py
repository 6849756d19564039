"""Figures and tables of the worked example by hand and of the autograd engine.

:func:`tiny_network` draws a network with two inputs, two hidden units and two outputs with
the numbers of one example on its nodes and edges; :func:`expression_graph` draws the graph
that :mod:`nnmath.autograd` built for an expression, read from the Values themselves;
:func:`arithmetic_table` writes a step of hand arithmetic as a numbered table. All take
numbers computed by the chapter and compute nothing of their own.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from itertools import pairwise

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch
from matplotlib.path import Path

from nnmath.autograd import Value, topological_order

__all__ = ["arithmetic_table", "expression_graph", "tex_number", "tex_operand", "tiny_network"]

_INPUT, _HIDDEN, _OUTPUT = "#9ecae1", "#fdae6b", "#a1d99b"
_EDGE = "#444444"
_GRAD = "#c0392b"
_LOCAL = "#1f4e9c"
_LEAF, _RESULT = "#d6e6f5", "#ffffff"


def _fmt(x: float) -> str:
    """A number as the chapter's tables print it: four significant digits, a true minus."""
    text = f"{float(x):.4g}"
    return "0" if text == "-0" else text.replace("-", "\u2212")


def _arrow(ax: plt.Axes, start: tuple[float, float], end: tuple[float, float],
           shrink: float, colour: str = _EDGE) -> None:
    """An arrow from ``start`` to ``end``, stopping ``shrink`` points short of both."""
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=12,
                                 color=colour, lw=1.1, shrinkA=shrink, shrinkB=shrink,
                                 zorder=1))


def tiny_network(numbers: Mapping[str, np.ndarray], *, backward: bool = False) -> Figure:
    """The 2-2-2 network of the worked example with one example's numbers written on it.

    ``numbers`` maps names to arrays of one column (m = 1): ``X`` (2, 1), ``W1`` (2, 2),
    ``b1`` (2, 1), ``Z1`` and ``A1`` (2, 1), ``W2`` (2, 2), ``b2`` (2, 1), ``Z2`` and ``A2``
    (2, 1), and optionally ``y`` (the label) and ``loss``. Forward (the default): each edge
    carries its weight, each node its z and a, each unit its bias. With ``backward=True``
    the same network carries the gradients instead, in red: ``dW1``, ``dW2`` on the edges,
    ``dZ1``, ``dZ2`` (and optionally ``dA1``) in the nodes, ``db1``, ``db2`` beside them;
    then only ``X`` and these gradients are needed (and optionally ``y`` and ``loss``).
    """
    n = {key: np.asarray(value, dtype=np.float64) for key, value in numbers.items()}
    if n["X"].shape != (2, 1):
        raise ValueError(f"X: expected one example of two inputs, (2, 1), got {n['X'].shape}")
    fig, ax = plt.subplots(figsize=(8.4, 4.2))
    ax.set_xlim(-1.0, 12.4)
    ax.set_ylim(-1.25, 4.15)
    ax.set_aspect("equal")
    ax.axis("off")
    xs, ys, r = (0.0, 4.6, 9.2), (2.4, 0.0), 0.72
    pt_per_unit = 8.4 * 72 / 13.4
    ink = _GRAD if backward else "black"

    # Edges, labelled 30% of the way along, where the four labels of a layer are apart.
    for layer, (x0, x1) in enumerate(pairwise(xs), start=1):
        W = n[f"dW{layer}" if backward else f"W{layer}"]
        for j, y1 in enumerate(ys):
            for p, y0 in enumerate(ys):
                _arrow(ax, (x0, y0), (x1, y1), r * pt_per_unit + 1)
                t = 0.3
                ax.text(x0 + t * (x1 - x0), y0 + t * (y1 - y0), _fmt(W[j, p]), ha="center",
                        va="center", fontsize=9, color=ink, zorder=3,
                        bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none"})

    def node(x: float, y: float, colour: str, lines: list[str], text: str) -> None:
        ax.add_patch(Circle((x, y), r, fc=colour, ec=_EDGE, lw=1.0, zorder=2))
        ax.text(x, y, "\n".join(lines), ha="center", va="center", fontsize=8.5, zorder=4,
                color=text, linespacing=1.3)

    for p, y in enumerate(ys):
        node(xs[0], y, _INPUT, [f"$x_{p + 1}$ = {_fmt(n['X'][p, 0])}"], "black")
    for layer, colour, x in ((1, _HIDDEN, xs[1]), (2, _OUTPUT, xs[2])):
        for unit, y in enumerate(ys):
            name = f"unit {unit + 1}" if layer == 1 else f"class {unit}"
            if backward:
                lines = [f"dz = {_fmt(n[f'dZ{layer}'][unit, 0])}"]
                if layer == 1 and "dA1" in n:
                    lines.insert(0, f"da = {_fmt(n['dA1'][unit, 0])}")
                bias = f"db = {_fmt(n[f'db{layer}'][unit, 0])}"
            else:
                lines = [f"z = {_fmt(n[f'Z{layer}'][unit, 0])}",
                         f"a = {_fmt(n[f'A{layer}'][unit, 0])}"]
                bias = f"b = {_fmt(n[f'b{layer}'][unit, 0])}"
            node(x, y, colour, lines, ink)
            above = unit == 0
            ax.text(x, y + (r + 0.18) * (1 if above else -1), f"{name}, {bias}",
                    ha="center", va="bottom" if above else "top", fontsize=9, color=ink)
    heads = ("input", "hidden (ReLU)", "output (softmax)")
    for x, head in zip(xs, heads, strict=True):
        ax.text(x, 3.95, head, ha="center", va="center", fontsize=10, fontweight="bold")
    if "loss" in n:
        label = int(n["y"].ravel()[0]) if "y" in n else None
        text = f"loss $\\ell$ = {_fmt(n['loss'])}"
        if label is not None:
            text += f"\nlabel {label}"
        ax.text(xs[2] + 1.25, 1.2, text, ha="left", va="center", fontsize=9.5,
                bbox={"boxstyle": "round,pad=0.3", "fc": "#fdebd0", "ec": _EDGE})
    fig.subplots_adjust(left=0, right=1, bottom=0, top=1)
    return fig


def _layout(order: list[Value]) -> dict[int, tuple[int, float]]:
    """Column and row of each Value: columns by depth, rows ordered to reduce crossings.

    A Value's column is one more than its parents' largest; a leaf sits just left of its
    leftmost user. Rows are sorted by the mean row of the neighbours, sweeping right to left
    and back a few times (the barycentre heuristic of layered graph drawing).
    """
    depth: dict[int, int] = {}
    users: dict[int, list[Value]] = {id(v): [] for v in order}
    for v in order:
        depth[id(v)] = 1 + max((depth[id(p)] for p in v.parents), default=-1)
        for p in v.parents:
            users[id(p)].append(v)
    for v in order:
        if not v.parents and users[id(v)]:
            depth[id(v)] = min(depth[id(u)] for u in users[id(v)]) - 1
    columns: dict[int, list[Value]] = {}
    for v in order:
        columns.setdefault(depth[id(v)], []).append(v)
    row = {id(v): -float(i) for nodes in columns.values() for i, v in enumerate(nodes)}

    def sweep(cols: list[int], neighbours: Callable[[Value], list[Value]]) -> None:
        for col in cols:
            nodes = columns[col]
            targets = [float(np.mean([row[id(u)] for u in neighbours(v)]))
                       if neighbours(v) else row[id(v)] for v in nodes]
            ranked = sorted(range(len(nodes)), key=lambda i: (-targets[i], -row[id(nodes[i])]))
            centre = float(np.mean(targets))
            for rank, i in enumerate(ranked):
                row[id(nodes[i])] = centre - (rank - (len(nodes) - 1) / 2)

    for _ in range(3):
        sweep(sorted(columns, reverse=True), lambda v: users[id(v)])
        sweep(sorted(columns), lambda v: list(v.parents))
    sweep(sorted(columns, reverse=True), lambda v: users[id(v)])
    low = min(depth.values())
    return {id(v): (depth[id(v)] - low, row[id(v)]) for v in order}


_OPS = {"*": "\u00d7", "+": "+", "**-1": "x\u207b\u00b9", "**2": "x\u00b2"}


def _lane(y0: float, y1: float, boxes: list[tuple[float, float]], gap: float) -> float:
    """A height near (y0 + y1) / 2 that is clear of every interval in ``boxes``."""
    want = (y0 + y1) / 2
    blocked = sorted((lo - gap, hi + gap) for lo, hi in boxes)
    candidates = [want] + [edge for lo, hi in blocked for edge in (lo, hi)]
    free = [c for c in candidates if not any(lo < c < hi for lo, hi in blocked)]
    return min(free, key=lambda c: abs(c - want))


def expression_graph(root: Value, *, title: str = "") -> Figure:
    """The graph of ``root`` as :mod:`nnmath.autograd` stored it, after ``root.backward()``.

    One box per Value, from the leaves (blue) on the left to ``root`` on the right: its name
    or the operation that made it, its ``data``, and its ``grad`` in red. Each arrow runs from
    an operand to the result and is labelled, in blue, with the local derivative the result
    stored for that operand; an arrow that skips columns runs around the boxes between. A
    leaf that is a plain number (a constant) is named by its value.
    """
    order = topological_order(root)
    pos = _layout(order)
    dx, dy, w, h = 2.6, 1.35, 1.55, 1.0

    def centre(v: Value) -> tuple[float, float]:
        col, row = pos[id(v)]
        return col * dx, row * dy

    fig, ax = plt.subplots()
    ax.axis("off")
    heights = [centre(v)[1] for v in order]
    low, high = min(heights) - h / 2, max(heights) + h / 2
    for v in order:
        for parent, local in zip(v.parents, v.local, strict=True):
            (x0, y0), (x1, y1) = centre(parent), centre(v)
            c0, c1 = pos[id(parent)][0], pos[id(v)][0]
            start, end = (x0 + w / 2, y0), (x1 - w / 2, y1)
            if c1 - c0 == 1:
                path = Path([start, end], [Path.MOVETO, Path.LINETO])
                label = ((start[0] + end[0]) / 2, (start[1] + end[1]) / 2)
            else:  # around the boxes of the columns in between
                between = [centre(u)[1] for u in order if c0 < pos[id(u)][0] < c1]
                y = _lane(y0, y1, [(b - h / 2, b + h / 2) for b in between], 0.22)
                a, b = x0 + dx - w / 2 - 0.25, x1 - dx + w / 2 + 0.25
                path = Path([start, (a - 0.3, start[1]), (a - 0.3, y), (a, y), (b, y),
                             (b + 0.3, y), (b + 0.3, end[1]), end],
                            [Path.MOVETO, Path.CURVE4, Path.CURVE4, Path.CURVE4,
                             Path.LINETO, Path.CURVE4, Path.CURVE4, Path.CURVE4])
                label = ((a + b) / 2, y)
                low, high = min(low, y - 0.2), max(high, y + 0.2)
            ax.add_patch(FancyArrowPatch(path=path, arrowstyle="-|>", mutation_scale=12,
                                         color=_EDGE, lw=1.1, zorder=1))
            ax.text(*label, _fmt(local), ha="center", va="center", fontsize=8.5,
                    color=_LOCAL, zorder=3,
                    bbox={"boxstyle": "round,pad=0.12", "fc": "white", "ec": "none"})
    for v in order:
        x, y = centre(v)
        leaf = not v.parents
        if leaf:
            head = v.name or f"constant {_fmt(v.data)}"
        else:
            op = _OPS.get(v.op, v.op)
            head = f"{v.name} = {op}" if v.name else op
        ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h,
                                    boxstyle="round,pad=0.02,rounding_size=0.12",
                                    fc=_LEAF if leaf else _RESULT, ec=_EDGE, lw=1.0, zorder=2))
        ax.text(x, y + 0.24, head, ha="center", va="center", fontsize=9.5,
                fontweight="bold", zorder=4)
        ax.text(x, y - 0.03, f"data {_fmt(v.data)}", ha="center", va="center",
                fontsize=8.5, zorder=4)
        ax.text(x, y - 0.28, f"grad {_fmt(v.grad)}", ha="center", va="center",
                fontsize=8.5, color=_GRAD, zorder=4)
    right = max(centre(v)[0] for v in order) + w / 2 + 0.1
    ax.set_xlim(-w / 2 - 0.1, right)
    ax.set_ylim(low - 0.1, high + 0.1)
    ax.set_aspect("equal")
    scale = 0.62  # inches per data unit
    fig.set_size_inches(scale * (right + w / 2 + 0.1), scale * (high - low + 0.2)
                        + (0.3 if title else 0))
    if title:
        ax.set_title(title, fontsize=10)
    fig.subplots_adjust(left=0, right=1, bottom=0, top=1 if not title else 0.9)
    return fig


def tex_number(x: float, *, parens: bool = False) -> str:
    """``x`` for a LaTeX formula, to four significant digits, as the tables print it.

    With ``parens``, a negative number is put in parentheses, as in ``0.5 \\cdot (-0.25)``.
    """
    text = f"{float(x):.4g}"
    if text == "-0":
        text = "0"
    if "e" in text:
        mantissa, exponent = text.split("e")
        text = rf"{mantissa} \times 10^{{{int(exponent)}}}"
    return f"({text})" if parens and text.startswith("-") else text


def tex_operand(x: float) -> str:
    """``x`` as an operand inside a formula: like :func:`tex_number`, negatives in parentheses."""
    return tex_number(x, parens=True)


def arithmetic_table(
    rows: Sequence[tuple[str, str, str, float]],
    *,
    caption: str,
    name: str,
    header: tuple[str, str, str, str] = ("quantity", "rule", "with the numbers", "value"),
) -> str:
    """A numbered MyST table of hand arithmetic, one row per quantity, as Markdown text.

    Each row is ``(symbol, rule, rule with the numbers put in, value)``: the first three
    LaTeX (without dollars), the value a number (printed by :func:`tex_number`). The
    chapter displays the text with ``IPython.display.Markdown``; ``name`` is the label that
    ``{numref}`` refers to.
    """
    lines = [f":::{{table}} {caption}", f":name: {name}", "",
             "| " + " | ".join(header) + " |", "| --- | --- | --- | ---: |"]
    for symbol, rule, numbers, value in rows:
        lines.append(f"| ${symbol}$ | ${rule}$ | ${numbers}$ | ${tex_number(value)}$ |")
    lines.append(":::")
    return "\n".join(lines)

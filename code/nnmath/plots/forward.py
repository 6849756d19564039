"""Chapter 2's figures: the network as a diagram, the cycle of training, softmax, outputs.

The diagrams are drawn with matplotlib patches and annotations at build time, so they can
never disagree with the sizes the code uses. Every function returns its ``Figure``.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

from nnmath.data import SIDE
from nnmath.plots.common import EDGE, HIDDEN, INPUT, LOSS, OUTPUT, as_images

__all__ = [
    "network_diagram",
    "output_probabilities",
    "softmax_steps",
    "training_cycle",
]


def _nodes(
    ax: plt.Axes, x: float, ys: np.ndarray, color: str, names: Sequence[str]
) -> None:
    """Draw a column of neurons at ``x``: round markers (whatever the axes' aspect), labelled."""
    ax.scatter(
        np.full(len(ys), x),
        ys,
        s=440,
        c=color,
        edgecolors=EDGE,
        linewidths=0.8,
        zorder=3,
    )
    for y, name in zip(ys, names, strict=True):
        ax.text(x, y, name, ha="center", va="center", fontsize=8.5, zorder=4)


def network_diagram(
    sizes: tuple[int, int, int] = (784, 10, 10),
    *,
    image: np.ndarray | None = None,
    shown_inputs: int = 6,
) -> Figure:
    """The two-layer network ``sizes = (n_inputs, n_hidden, n_classes)`` as nodes and edges.

    Only ``shown_inputs`` of the input nodes are drawn (the first and the last few, with a
    vertical ellipsis between them); every hidden and output node is drawn. ``image``, an
    optional ``(28, 28)`` digit, is shown at the left as the picture that is flattened into
    the input column.
    """
    n_x, n_h, n_y = sizes
    fig, ax = plt.subplots(figsize=(7.6, 5.0))
    left = -2.3 if image is not None else -0.8
    ax.set_xlim(left, 8.3)
    ax.set_ylim(-1.3, 10.9)
    ax.axis("off")

    def column(n: int) -> np.ndarray:
        return np.linspace(9.0, 0.6, n) if n > 1 else np.array([4.8])

    xs = (0.0, 3.0, 6.0)
    # Input column: the first and last few pixels, with an ellipsis in the middle.
    first = shown_inputs - shown_inputs // 2
    last = shown_inputs // 2
    slots = column(shown_inputs + 1)
    input_y = np.concatenate([slots[:first], slots[first + 1 :]])
    input_names = [f"$x_{{{k}}}$" for k in range(1, first + 1)] + [
        f"$x_{{{k}}}$" for k in range(n_x - last + 1, n_x + 1)
    ]
    hidden_y, output_y = column(n_h), column(n_y)

    for y0 in input_y:
        for y1 in hidden_y:
            ax.plot([xs[0], xs[1]], [y0, y1], color="#a8a8a8", lw=0.4, zorder=1)
    for y1 in hidden_y:
        for y2 in output_y:
            ax.plot([xs[1], xs[2]], [y1, y2], color="#a8a8a8", lw=0.4, zorder=1)

    _nodes(ax, xs[0], input_y, INPUT, input_names)
    ax.text(xs[0], slots[first], "$\\vdots$", ha="center", va="center", fontsize=16)
    _nodes(ax, xs[1], hidden_y, HIDDEN, [str(j) for j in range(1, n_h + 1)])
    _nodes(ax, xs[2], output_y, OUTPUT, [str(k) for k in range(n_y)])
    for k, y in enumerate(output_y):
        ax.text(xs[2] + 0.4, y, f"P(digit {k})", ha="left", va="center", fontsize=9.5)

    heads = (
        f"input layer\n$A^{{[0]}} = X$: {n_x} pixels",
        f"hidden layer (ReLU)\n$A^{{[1]}}$: {n_h} units",
        f"output layer (softmax)\n$A^{{[2]}}$: {n_y} units",
    )
    for x, head in zip(xs, heads, strict=True):
        ax.text(x, 10.25, head, ha="center", va="center", fontsize=10)
    weights = (
        f"$W^{{[1]}}: {n_h} \\times {n_x}$,  $b^{{[1]}}: {n_h} \\times 1$",
        f"$W^{{[2]}}: {n_y} \\times {n_h}$,  $b^{{[2]}}: {n_y} \\times 1$",
    )
    for x0, x1, text in zip(xs[:-1], xs[1:], weights, strict=True):
        ax.text(
            (x0 + x1) / 2,
            -0.6,
            text,
            ha="center",
            va="center",
            fontsize=9.5,
            bbox={"boxstyle": "round,pad=0.3", "fc": "white", "ec": "#bbbbbb"},
        )

    if image is not None:
        img_ax = ax.inset_axes((-2.3, 3.6, 1.35, 2.4), transform=ax.transData)
        img_ax.imshow(np.asarray(image).reshape(SIDE, SIDE), cmap="gray_r")
        img_ax.set_xticks([])
        img_ax.set_yticks([])
        for spine in img_ax.spines.values():
            spine.set_visible(True)
            spine.set_color("#999999")
        ax.text(-1.625, 3.3, "$28 \\times 28$ image", ha="center", va="top", fontsize=9)
        ax.add_patch(
            FancyArrowPatch(
                (-0.7, 4.8),
                (-0.3, 4.8),
                arrowstyle="-|>",
                mutation_scale=11,
                color=EDGE,
            )
        )
        ax.text(-0.5, 5.15, "flatten", ha="center", va="bottom", fontsize=9)
    fig.tight_layout(pad=0.2)
    return fig


def training_cycle() -> Figure:
    """The cycle of Part I as four boxes joined by arrows, one box per step.

    Forward propagation, loss, backward propagation and parameter update, each with what it
    computes and the chapter that derives it; the last arrow leads back to the first box.
    """
    fig, ax = plt.subplots(figsize=(7.6, 4.0))
    ax.set_xlim(0, 10)
    ax.set_ylim(0, 4.8)
    ax.axis("off")
    w, h = 3.9, 1.45
    boxes = [
        (
            (0.3, 3.05),
            "1. Forward propagation",
            "$X \\to Z^{[1]}, A^{[1]}, Z^{[2]}, A^{[2]}$",
            "Chapters 2 and 3",
            INPUT,
        ),
        (
            (5.8, 3.05),
            "2. Loss",
            "$\\mathcal{L}(A^{[2]}, Y)$: how wrong, one number",
            "Chapter 4",
            LOSS,
        ),
        (
            (5.8, 0.3),
            "3. Backward propagation",
            "$dZ^{[2]}, dW^{[2]}, db^{[2]}, dZ^{[1]}, dW^{[1]}, db^{[1]}$",
            "Chapter 5",
            HIDDEN,
        ),
        (
            (0.3, 0.3),
            "4. Parameter update",
            "$W \\leftarrow W - \\alpha\\, dW$,  $b \\leftarrow b - \\alpha\\, db$",
            "Chapter 6",
            OUTPUT,
        ),
    ]
    centres = []
    for (x, y), title, formula, chapter, color in boxes:
        ax.add_patch(
            FancyBboxPatch(
                (x, y),
                w,
                h,
                boxstyle="round,pad=0.08,rounding_size=0.2",
                fc=color,
                ec=EDGE,
                lw=0.9,
            )
        )
        cx = x + w / 2
        ax.text(
            cx,
            y + h - 0.3,
            title,
            ha="center",
            va="center",
            fontsize=11,
            fontweight="bold",
        )
        ax.text(cx, y + h / 2 - 0.05, formula, ha="center", va="center", fontsize=10)
        ax.text(
            cx,
            y + 0.27,
            chapter,
            ha="center",
            va="center",
            fontsize=9.5,
            style="italic",
            color="#333333",
        )
        centres.append((x, y))

    def arrow(start: tuple[float, float], end: tuple[float, float]) -> None:
        ax.add_patch(
            FancyArrowPatch(
                start, end, arrowstyle="-|>", mutation_scale=16, lw=1.6, color=EDGE
            )
        )

    arrow((0.3 + w + 0.12, 3.05 + h / 2), (5.8 - 0.12, 3.05 + h / 2))  # forward -> loss
    arrow((5.8 + w / 2, 3.05 - 0.12), (5.8 + w / 2, 0.3 + h + 0.12))  # loss -> backward
    arrow(
        (5.8 - 0.12, 0.3 + h / 2), (0.3 + w + 0.12, 0.3 + h / 2)
    )  # backward -> update
    arrow(
        (0.3 + w / 2, 0.3 + h + 0.12), (0.3 + w / 2, 3.05 - 0.12)
    )  # update -> forward
    ax.text(
        5.0,
        2.4,
        "repeat",
        ha="center",
        va="center",
        fontsize=10,
        style="italic",
        color="#333333",
    )
    fig.tight_layout(pad=0.2)
    return fig


def softmax_steps(z: np.ndarray) -> Figure:
    """One column of logits ``z`` ``(n,)`` in three bar charts: z, e^z and e^z / sum(e^z)."""
    z = np.asarray(z, dtype=np.float64).ravel()
    e = np.exp(z - z.max()) * np.exp(z.max())
    a = e / e.sum()
    k = np.arange(z.size)
    fig, axes = plt.subplots(1, 3, figsize=(7.6, 2.9))
    panels = (
        (z, "logits $z_k$", "#6baed6"),
        (e, "exponentials $e^{z_k}$", "#fd8d3c"),
        (a, "probabilities $a_k$ (sum 1)", "#74c476"),
    )
    for ax, (values, title, color) in zip(axes, panels, strict=True):
        ax.bar(k, values, color=color, edgecolor=EDGE, lw=0.5)
        ax.axhline(0, color=EDGE, lw=0.6)
        ax.set_xticks(k)
        ax.set_xlabel("class $k$")
        ax.set_title(title, fontsize=10)
    fig.tight_layout(w_pad=1.5)
    return fig


def output_probabilities(
    images: np.ndarray, probabilities: np.ndarray, labels: Sequence[int]
) -> Figure:
    """A few digits above the network's output probabilities for each of them.

    ``images`` is ``(k, 28, 28)`` (or columns ``(784, k)``), ``probabilities`` ``(10, k)``,
    one softmax column per image, ``labels`` the ``k`` true digits. The predicted class
    (the largest bar) is dark; the true label is marked on the axis.
    """
    images = as_images(images)
    probabilities = np.asarray(probabilities)
    n_classes, k = probabilities.shape
    fig, axes = plt.subplots(
        2, k, figsize=(1.9 * k, 3.7), gridspec_kw={"height_ratios": [1, 1.25]}
    )
    top = float(probabilities.max()) * 1.1
    for i in range(k):
        img_ax, bar_ax = axes[0, i], axes[1, i]
        img_ax.imshow(images[i], cmap="gray_r")
        img_ax.axis("off")
        img_ax.set_title(f"label {labels[i]}", fontsize=10, pad=2)
        colors = ["#bdbdbd"] * n_classes
        colors[int(np.argmax(probabilities[:, i]))] = "#3182bd"
        bar_ax.bar(np.arange(n_classes), probabilities[:, i], color=colors)
        bar_ax.set_ylim(0, top)
        bar_ax.set_xticks(np.arange(n_classes))
        bar_ax.tick_params(axis="x", labelsize=8, length=2)
        bar_ax.tick_params(axis="y", labelsize=8)
        bar_ax.get_xticklabels()[int(labels[i])].set_fontweight("bold")
        bar_ax.set_xlabel(
            f"predicted {int(np.argmax(probabilities[:, i]))}", fontsize=9.5
        )
        if i == 0:
            bar_ax.set_ylabel("probability", fontsize=9.5)
    fig.tight_layout(pad=0.4, w_pad=0.8)
    return fig

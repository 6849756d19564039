"""Connected components: the 8-connected pieces of ink of an image, found run by run.

Chapter 15 derives the algorithm; :mod:`nnmath.preprocess` keeps a digit's own pieces
with it and :mod:`nnmath.segment` splits a row of digits with it.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "COMPONENT_INK",
    "bounding_boxes",
    "connected_components",
    "ink_runs",
    "merge_labels",
    "touching_runs",
]

#: The faintest ink (in [0, 1]) that counts when a row is split into connected pieces.
#: Higher than :data:`nnmath.preprocess.CROP_INK` (which decides what stays inside one
#: digit's crop), so that faint pixels between neighbouring digits, and a photo's noise,
#: join them less often. Chosen on dev strips (chapter 15): of 0.2, 0.3, ..., 0.6, the
#: one whose worst accuracy over composed rows, scans and photos of rows was highest.
COMPONENT_INK = 0.5


def ink_runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The horizontal runs of True in ``mask`` ``(h, w)``: rows, starts, ends (exclusive).

    Runs come in raster order (row by row, left to right), each ``(n_runs,)``.
    """
    padded = np.zeros((mask.shape[0], mask.shape[1] + 2), dtype=np.int8)
    padded[:, 1:-1] = mask
    step = np.diff(padded, axis=1)
    rows, starts = np.nonzero(step == 1)
    _, ends = np.nonzero(step == -1)
    return rows, starts, ends


def touching_runs(
    rows: np.ndarray, starts: np.ndarray, ends: np.ndarray, width: int
) -> tuple[np.ndarray, np.ndarray]:
    """Pairs ``(a, b)`` of runs in consecutive rows that touch, diagonals included.

    Run a (row r, columns [s_a, e_a)) touches run b (row r + 1) when s_b <= e_a and
    s_a <= e_b: their columns overlap once each is widened by one pixel. Keys
    ``row * (width + 2) + column`` sort all runs in one array, so one ``searchsorted``
    finds, for every run a, the contiguous block of runs of the next row it touches.
    """
    stride = width + 2
    key_start, key_end = rows * stride + starts, rows * stride + ends
    below = (rows + 1) * stride
    first = np.searchsorted(key_end, below + starts, side="left")
    stop = np.searchsorted(key_start, below + ends, side="right")
    counts = np.maximum(stop - first, 0)
    a = np.repeat(np.arange(rows.size), counts)
    offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    b = np.repeat(first, counts) + offsets
    return a, b


def merge_labels(n: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Label ``(n,)`` for n nodes joined by edges (a, b): the smallest node of each group.

    A vectorised union-find: each round hooks, for every edge whose ends have different
    roots, the larger root under the smaller one, then points every node straight at its
    root (pointer jumping); edges whose ends share a root are done.
    """
    parent = np.arange(n)
    while a.size:
        root_a, root_b = parent[a], parent[b]
        open_ = root_a != root_b
        a, b, root_a, root_b = a[open_], b[open_], root_a[open_], root_b[open_]
        np.minimum.at(parent, np.maximum(root_a, root_b), np.minimum(root_a, root_b))
        while not np.array_equal(jumped := parent[parent], parent):
            parent = jumped
    return parent


def connected_components(
    ink: np.ndarray, threshold: float = COMPONENT_INK
) -> tuple[np.ndarray, int]:
    """Label the 8-connected pieces of the pixels of ``ink`` ``(h, w)`` above ``threshold``.

    Returns ``(labels, n)``: ``labels`` ``(h, w)`` int32 is 0 on background and 1..n on
    the pieces, numbered in raster order of their first pixel. Works on runs of ink along
    the rows: runs in consecutive rows that touch (diagonals included) belong together.
    """
    mask = np.asarray(ink) > threshold
    if mask.ndim != 2:
        raise ValueError(f"ink: expected a 2-D array (h, w), found shape {mask.shape}")
    rows, starts, ends = ink_runs(mask)
    a, b = touching_runs(rows, starts, ends, mask.shape[1])
    roots = merge_labels(rows.size, a, b)
    _, first, run_label = np.unique(roots, return_index=True, return_inverse=True)
    order = np.argsort(np.argsort(first))  # number the pieces by their first run
    labels = np.zeros(mask.shape, dtype=np.int32)
    labels[mask] = np.repeat(order[run_label] + 1, ends - starts)
    return labels, len(first)


def bounding_boxes(labels: np.ndarray, n: int) -> tuple[np.ndarray, ...]:
    """Each component's box and size: ``(top, bottom, left, right, area)``, each ``(n,)``.

    ``labels`` ``(h, w)`` numbers components 1..n (0 is background), as
    :func:`connected_components` returns them; bottom and right are exclusive.
    """
    rows, cols = np.nonzero(labels)
    which = labels[rows, cols] - 1
    area = np.bincount(which, minlength=n)
    top, left = np.full(n, labels.shape[0]), np.full(n, labels.shape[1])
    bottom, right = np.zeros(n, dtype=int), np.zeros(n, dtype=int)
    np.minimum.at(top, which, rows)
    np.minimum.at(left, which, cols)
    np.maximum.at(bottom, which, rows + 1)
    np.maximum.at(right, which, cols + 1)
    return top, bottom, left, right, area

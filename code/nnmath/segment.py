"""Read a row of digits (a ZIP code): find the digits, cut them out, classify each.

The ink of the row (bright on black, as :mod:`nnmath.preprocess` makes it) is split into
its connected pieces of ink, :func:`connected_components`. :func:`segment_row` then
drops specks, merges pieces lying in the same columns (a digit drawn in two strokes, or
broken by a scan), splits a piece too wide for one digit (touching digits) at the
columns of least ink, and returns the digits left to right. :func:`read_row` classifies
them with a trained network, which also decides whether a piece of doubtful width is
one digit or two.

:func:`compose_strip` builds test rows from MNIST digits, so that whole-string accuracy
can be measured.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

import numpy as np
from PIL import Image

from nnmath.data import scale_pixels
from nnmath.mlp import MLP
from nnmath.preprocess import (
    ImageError,
    crop_to_ink,
    ink_to_digit,
    remove_background,
    to_grey,
    to_ink,
)

__all__ = [
    "COMPONENT_INK",
    "Piece",
    "compose_strip",
    "connected_components",
    "cut_piece",
    "drop_specks",
    "find_pieces",
    "ink_runs",
    "merge_labels",
    "one_digit",
    "read_piece",
    "read_row",
    "segment_row",
    "touching_runs",
]

#: The faintest ink (in [0, 1]) that counts when a row is split into connected pieces.
#: Higher than :data:`nnmath.preprocess.CROP_INK` (which decides what stays inside one
#: digit's crop), so that faint pixels between neighbouring digits join them less often.
COMPONENT_INK = 0.2


# --------------------------------------------------------------------------- components


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
        raise ImageError(f"ink: expected a 2-D array (h, w), found shape {mask.shape}")
    rows, starts, ends = ink_runs(mask)
    a, b = touching_runs(rows, starts, ends, mask.shape[1])
    roots = merge_labels(rows.size, a, b)
    _, first, run_label = np.unique(roots, return_index=True, return_inverse=True)
    order = np.argsort(np.argsort(first))  # number the pieces by their first run
    labels = np.zeros(mask.shape, dtype=np.int32)
    labels[mask] = np.repeat(order[run_label] + 1, ends - starts)
    return labels, len(first)


# --------------------------------------------------------------------------- segmentation


@dataclass(frozen=True)
class Piece:
    """Part of a row thought to be one digit: some components, within columns [left, right).

    ``labels`` are the numbers of the components of :func:`connected_components` it
    holds; rows [top, bottom) bound their ink; ``area`` counts their pixels.
    """

    labels: frozenset[int]
    left: int
    right: int
    top: int
    bottom: int
    area: int

    @property
    def width(self) -> int:
        return self.right - self.left

    @property
    def height(self) -> int:
        return self.bottom - self.top

    def __or__(self, other: Piece) -> Piece:
        """The union of two pieces (their components and bounding boxes)."""
        return Piece(
            self.labels | other.labels,
            min(self.left, other.left),
            max(self.right, other.right),
            min(self.top, other.top),
            max(self.bottom, other.bottom),
            self.area + other.area,
        )

    def columns(self, left: int, right: int) -> Piece:
        """The same components, restricted to columns [left, right) (area: the whole's)."""
        return Piece(self.labels, left, right, self.top, self.bottom, self.area)


def _pieces(labels: np.ndarray, n: int) -> list[Piece]:
    """One :class:`Piece` per component: bounding box (exclusive ends) and pixel count."""
    rows, cols = np.nonzero(labels)
    which = labels[rows, cols] - 1
    area = np.bincount(which, minlength=n)
    top, left = np.full(n, labels.shape[0]), np.full(n, labels.shape[1])
    bottom, right = np.zeros(n, dtype=int), np.zeros(n, dtype=int)
    np.minimum.at(top, which, rows)
    np.minimum.at(left, which, cols)
    np.maximum.at(bottom, which, rows + 1)
    np.maximum.at(right, which, cols + 1)
    return [
        Piece(
            frozenset({k + 1}),
            int(left[k]),
            int(right[k]),
            int(top[k]),
            int(bottom[k]),
            int(area[k]),
        )
        for k in range(n)
    ]


def drop_specks(pieces: list[Piece], min_area: float) -> list[Piece]:
    """The pieces with at least ``min_area`` times the largest piece's pixel count."""
    if not pieces:
        return pieces
    largest = max(p.area for p in pieces)
    return [p for p in pieces if p.area >= min_area * largest]


def one_digit(p: Piece, q: Piece, overlap: float) -> bool:
    """Whether pieces p and q look like parts of one digit.

    Yes when their columns overlap by at least ``overlap`` of the narrower one's width,
    or when they overlap at all and lie one above the other (rows overlapping by less
    than half the shorter one's height): the bar and the body of a broken 5.
    """
    shared_cols = min(p.right, q.right) - max(p.left, q.left)
    shared_rows = min(p.bottom, q.bottom) - max(p.top, q.top)
    if shared_cols >= overlap * min(p.width, q.width):
        return True
    return shared_cols > 0 and shared_rows < 0.5 * min(p.height, q.height)


def _merge_parts(pieces: list[Piece], overlap: float) -> list[Piece]:
    """Merge the pieces that :func:`one_digit` pairs up; the result sorted left to right."""
    merged: list[Piece] = []
    for p in sorted(pieces, key=lambda p: p.left):
        if merged and one_digit(merged[-1], p, overlap):
            merged[-1] = merged[-1] | p
        else:
            merged.append(p)
    return merged


def _piece_ink(ink: np.ndarray, labels: np.ndarray, piece: Piece) -> np.ndarray:
    """``ink`` inside the piece's columns ``(h, width)``, other components' ink removed."""
    cols = slice(piece.left, piece.right)
    window = labels[:, cols]
    others = (window > 0) & ~np.isin(window, list(piece.labels))
    return np.where(others, 0, ink[:, cols]).astype(np.float32)


def cut_piece(ink: np.ndarray, labels: np.ndarray, piece: Piece, n: int) -> list[Piece]:
    """Cut ``piece`` into ``n`` side-by-side pieces at the columns of least ink.

    Cut t (of n - 1) is the column of least ink within width/(2n) of t/n of the way
    across (ties: the nearest to that point); for n = 2, the middle half.
    """
    column_ink = _piece_ink(ink, labels, piece).sum(axis=0)
    w = piece.width
    edges = [0]
    for t in range(1, n):
        aim = t * w / n
        lo = max(edges[-1] + round(w / (2 * n)), round(aim - w / (2 * n)))
        hi = round(aim + w / (2 * n))
        candidates = np.arange(lo, max(hi, lo + 1))
        candidates = candidates[candidates < w]
        if candidates.size == 0:
            break
        best = np.lexsort((np.abs(candidates - aim), column_ink[candidates]))[0]
        edges.append(int(candidates[best]))
    edges.append(w)
    return [piece.columns(piece.left + a, piece.left + b) for a, b in pairwise(edges)]


def _fit_count(
    ink: np.ndarray, labels: np.ndarray, pieces: list[Piece], digits: int
) -> list[Piece]:
    """Make exactly ``digits`` pieces: cut the widest in two, or merge the narrowest pair."""
    pieces = list(pieces)
    while 0 < len(pieces) < digits:
        i = max(range(len(pieces)), key=lambda i: pieces[i].width)
        if pieces[i].width < 2:
            break
        pieces[i : i + 1] = cut_piece(ink, labels, pieces[i], 2)
    while len(pieces) > digits:
        i = min(
            range(len(pieces) - 1),
            key=lambda i: max(pieces[i + 1].right, pieces[i].right) - pieces[i].left,
        )
        pieces[i : i + 2] = [pieces[i] | pieces[i + 1]]
    return pieces


def find_pieces(
    ink: np.ndarray,
    *,
    threshold: float = COMPONENT_INK,
    min_area: float = 0.08,
    overlap: float = 0.6,
    max_aspect: float = 1.25,
    digit_aspect: float = 0.8,
    digits: int | None = None,
) -> tuple[np.ndarray, list[Piece]]:
    """The digits of a row of ``ink`` ``(h, w)`` as :class:`Piece` objects, left to right.

    Returns ``(labels, pieces)`` with the component labels ``(h, w)`` of
    :func:`connected_components`. See :func:`segment_row` for the parameters.
    """
    labels, count = connected_components(ink, threshold)
    pieces = _merge_parts(drop_specks(_pieces(labels, count), min_area), overlap)
    if not pieces:
        return labels, []
    height = float(np.median([p.height for p in pieces]))
    found = []
    for piece in pieces:
        if piece.width > max_aspect * height:
            n = max(2, round(piece.width / (digit_aspect * height)))
            found += cut_piece(ink, labels, piece, n)
        else:
            found.append(piece)
    if digits is not None:
        found = _fit_count(ink, labels, found, digits)
    return labels, found


def segment_row(
    ink: np.ndarray,
    *,
    threshold: float = COMPONENT_INK,
    min_area: float = 0.08,
    overlap: float = 0.6,
    max_aspect: float = 1.25,
    digit_aspect: float = 0.8,
    digits: int | None = None,
) -> list[np.ndarray]:
    """Cut a row of digits, ``ink`` ``(h, w)`` bright on black, into one crop per digit.

    - components: 8-connected pixels above ``threshold``;
    - specks: components with fewer than ``min_area`` times the pixels of the largest
      component are dropped;
    - a digit in pieces: components whose columns overlap by at least ``overlap`` of the
      narrower one's width, or that overlap at all with one above the other, are merged;
    - touching digits: a piece wider than ``max_aspect`` times the median piece height h
      is cut into round(width / (``digit_aspect`` h)) digits (at least 2), each cut at
      the column of least ink near where it is expected (for two: the middle half);
    - ``digits``: when the number of digits is known (5 for a ZIP code), the widest
      piece is cut in two, or the narrowest neighbouring pair merged, until it matches.

    Returns the crops ``(h_i, w_i)`` float32, left to right, each holding only its own
    ink (other components are blanked), trimmed to its rows of ink.
    """
    ink = np.asarray(ink, dtype=np.float32)
    labels, pieces = find_pieces(
        ink,
        threshold=threshold,
        min_area=min_area,
        overlap=overlap,
        max_aspect=max_aspect,
        digit_aspect=digit_aspect,
        digits=digits,
    )
    crops = [_crop(ink, labels, piece, threshold) for piece in pieces]
    return [crop for crop in crops if crop is not None]


def _crop(
    ink: np.ndarray, labels: np.ndarray, piece: Piece, threshold: float
) -> np.ndarray | None:
    """The piece's own ink ``(h_i, w_i)``, trimmed to its rows of ink; None if it has none."""
    crop = _piece_ink(ink, labels, piece)
    rows = np.flatnonzero((crop > threshold).any(axis=1))
    return crop[rows[0] : rows[-1] + 1] if rows.size else None


def _columns(
    ink: np.ndarray, labels: np.ndarray, pieces: list[Piece], threshold: float
) -> list[np.ndarray]:
    """The MNIST columns ``(784,)`` of the pieces that hold ink."""
    crops = [_crop(ink, labels, piece, threshold) for piece in pieces]
    return [ink_to_digit(crop) for crop in crops if crop is not None]


def read_piece(
    ink: np.ndarray,
    labels: np.ndarray,
    piece: Piece,
    model: MLP,
    threshold: float,
    try_split: bool,
) -> list[np.ndarray]:
    """The columns of one piece: as one digit, or (``try_split``) as two if that reads better.

    Two digits win when the geometric mean of their top probabilities beats the top
    probability of the piece read as one digit.
    """
    whole = _columns(ink, labels, [piece], threshold)
    if not (try_split and whole):
        return whole
    halves = _columns(ink, labels, cut_piece(ink, labels, piece, 2), threshold)
    if len(halves) != 2:
        return whole
    top = model.predict_proba(np.stack(whole + halves, axis=1)).max(axis=0)
    return halves if np.sqrt(top[1] * top[2]) > top[0] else whole


def read_row(
    image: np.ndarray,
    model: MLP,
    *,
    digits: int | None = None,
    ambiguous: float | None = 1.05,
    threshold: float = COMPONENT_INK,
    **options: float,
) -> tuple[str, np.ndarray]:
    """Read the digits of a row: ``(string, probabilities)``.

    ``image`` is any image of a row of digits (grey/RGB/RGBA, either polarity). Its
    digits are found as in :func:`segment_row` (``digits``, ``threshold`` and
    ``options`` are its keyword arguments);
    a piece wider than ``ambiguous`` times the median piece height (too narrow to be cut
    by shape alone, but maybe two touching digits) is also read as two halves, and kept
    as two when the network is surer of them (not with ``digits=``, nor with
    ``ambiguous=None``). Each digit is prepared as an MNIST column and classified by
    ``model``. ``probabilities`` is ``(10, k)``, one column per digit read. Raises
    :class:`ImageError` when no digit is found.
    """
    ink = remove_background(to_ink(to_grey(image)))
    labels, pieces = find_pieces(ink, threshold=threshold, digits=digits, **options)
    if not pieces:
        raise ImageError(
            f"image: expected a row of digits, found no ink in a {ink.shape[1]} x "
            f"{ink.shape[0]} image"
        )
    height = float(np.median([p.height for p in pieces]))
    columns = []
    for piece in pieces:
        try_split = (
            digits is None
            and ambiguous is not None
            and piece.width > ambiguous * height
        )
        columns += read_piece(ink, labels, piece, model, threshold, try_split)
    P = model.predict_proba(np.stack(columns, axis=1))
    return "".join(str(d) for d in np.argmax(P, axis=0)), P


# --------------------------------------------------------------------------- test strips


def _scaled_digit(image: np.ndarray, scale: float) -> np.ndarray:
    """An MNIST image ``(28, 28)`` uint8 cropped to its ink and scaled, float32 in [0, 1]."""
    crop = crop_to_ink(scale_pixels(image), threshold=0)
    h, w = crop.shape
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    resized = Image.fromarray(crop).resize(size, Image.Resampling.LANCZOS)
    return np.clip(np.asarray(resized, dtype=np.float32), 0, 1)


def compose_strip(
    images: np.ndarray,
    labels: np.ndarray,
    rng: np.random.Generator,
    *,
    n: int = 5,
    height: int = 36,
    gap: tuple[int, int] = (-2, 8),
    scale: tuple[float, float] = (0.85, 1.15),
    jitter: int = 3,
) -> tuple[np.ndarray, str]:
    """A row of ``n`` random MNIST digits and its label string, e.g. ``(strip, "90210")``.

    ``images`` ``(m, 28, 28)`` uint8 and ``labels`` ``(m,)`` are MNIST's (use the test
    set). Each digit is cropped to its ink, scaled by a factor drawn from ``scale``,
    shifted up or down by up to ``jitter`` pixels, and placed after the previous one with
    a gap drawn from ``gap`` (integers, end excluded; negative: the boxes overlap and the
    digits may touch; overlapping ink adds up to at most 1). Returns the strip
    ``(height, W)`` float32, ink bright on black like MNIST, with a margin of 4 pixels.
    """
    images, labels = np.asarray(images), np.asarray(labels)
    if images.ndim != 3 or len(images) != len(labels) or len(images) == 0:
        raise ValueError(
            f"images and labels: expected (m, 28, 28) and (m,) with m >= 1, found "
            f"{images.shape} and {labels.shape}"
        )
    picks = rng.integers(0, len(images), n)
    digits = [_scaled_digit(images[i], rng.uniform(*scale)) for i in picks]
    gaps = rng.integers(gap[0], gap[1], n - 1) if n > 1 else np.zeros(0, dtype=int)
    if max(d.shape[0] for d in digits) > height:
        raise ValueError(
            f"height: expected room for digits up to {max(d.shape[0] for d in digits)} "
            f"pixels tall, got {height}"
        )
    margin = 4
    lefts = margin + np.concatenate(
        [[0], np.cumsum([d.shape[1] for d in digits[:-1]]) + np.cumsum(gaps)]
    )
    width = (
        int(max(left + d.shape[1] for left, d in zip(lefts, digits, strict=True)))
        + margin
    )
    strip = np.zeros((height, width), dtype=np.float32)
    for left, digit in zip(lefts, digits, strict=True):
        h, w = digit.shape
        top = int(
            np.clip(
                (height - h) // 2 + rng.integers(-jitter, jitter + 1), 0, height - h
            )
        )
        region = strip[top : top + h, left : left + w]
        np.minimum(region + digit, 1, out=region)
    return strip, "".join(str(int(labels[i])) for i in picks)

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
from functools import cache
from itertools import pairwise
from typing import Any

import numpy as np
from PIL import Image

from nnmath.components import (
    COMPONENT_INK,
    bounding_boxes,
    connected_components,
    ink_runs,
    merge_labels,
    touching_runs,
)
from nnmath.data import scale_pixels
from nnmath.mlp import MLP
from nnmath.preprocess import (
    ImageError,
    crop_to_ink,
    ink_to_digit,
    otsu_threshold,
    remove_background,
    stretch_ink,
    to_grey,
    to_ink,
)

__all__ = [
    "COMPONENT_INK",
    "MOST_DIGITS",
    "Piece",
    "best_cuts",
    "compose_row",
    "compose_strip",
    "connected_components",
    "cut_candidates",
    "cut_piece",
    "drop_specks",
    "find_pieces",
    "ink_runs",
    "judge_columns",
    "load_judge",
    "merge_labels",
    "one_digit",
    "read_piece",
    "read_row",
    "row_ink",
    "segment_row",
    "stretch_scores",
    "stretches",
    "touching_runs",
]

#: The most digits :func:`read_row` reads in one piece of ink.
MOST_DIGITS = 6


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
    top, bottom, left, right, area = bounding_boxes(labels, n)
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
    max_aspect: float | None = 1.25,
    digit_aspect: float = 0.8,
    digits: int | None = None,
) -> tuple[np.ndarray, list[Piece]]:
    """The digits of a row of ``ink`` ``(h, w)`` as :class:`Piece` objects, left to right.

    Returns ``(labels, pieces)`` with the component labels ``(h, w)`` of
    :func:`connected_components`. See :func:`segment_row` for the parameters;
    ``max_aspect=None`` cuts no piece by its shape (:func:`read_row` lets the network
    choose the cuts).
    """
    labels, count = connected_components(ink, threshold)
    pieces = _merge_parts(drop_specks(_pieces(labels, count), min_area), overlap)
    if not pieces:
        return labels, []
    height = float(np.median([p.height for p in pieces]))
    found = []
    for piece in pieces:
        if max_aspect is not None and piece.width > max_aspect * height:
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


def cut_candidates(ink: np.ndarray, labels: np.ndarray, piece: Piece) -> np.ndarray:
    """Where ``piece`` may be cut: its ends and its columns of locally least ink.

    Returns columns counted from the piece's left edge, ``(c,)`` increasing: 0, every
    column whose ink is at most that of both neighbours and less than one of them (a
    valley, or either end of a flat one), and the width.
    """
    column_ink = _piece_ink(ink, labels, piece).sum(axis=0)
    left, middle, right = column_ink[:-2], column_ink[1:-1], column_ink[2:]
    low = (middle <= left) & (middle <= right) & ((middle < left) | (middle < right))
    minima = 1 + np.flatnonzero(low)
    return np.concatenate([[0], minima, [piece.width]])


def best_cuts(scores: np.ndarray, most: int) -> list[tuple[float, list[int]]]:
    """The best way to cut a piece into j = 1 .. ``most`` digits, for each j.

    ``scores`` ``(c, c)``: scores[a, b] is the log-probability of the network's answer
    for the digit between candidate cuts a < b (-inf where no digit may lie). With
    f_j(b) the best total for the columns up to cut b in j digits,

        f_1(b) = scores[0, b],   f_j(b) = max over a < b of f_{j-1}(a) + scores[a, b],

    and the best cut into j digits ends at the last cut, f_j(c - 1). Returns, for
    j = 1 .. most, ``(f_j(c - 1), cuts)``, the cuts ``[0, ..., c - 1]`` of the best
    path (``(-inf, [])`` where none exists).

    Implements: eq-best-cuts
    """
    c = scores.shape[0]
    f = np.full((most + 1, c), -np.inf)
    f[0, 0] = 0.0
    came_from = np.zeros((most + 1, c), dtype=int)
    for j in range(1, most + 1):
        totals = f[j - 1][:, None] + scores  # (a, b): through cut a, then a..b
        came_from[j] = np.argmax(totals, axis=0)
        f[j] = totals[came_from[j], np.arange(c)]
    found = []
    for j in range(1, most + 1):
        if not np.isfinite(f[j, -1]):
            found.append((-np.inf, []))
            continue
        cuts, b = [c - 1], c - 1
        for step in range(j, 0, -1):
            b = int(came_from[step, b])
            cuts.append(b)
        found.append((float(f[j, -1]), cuts[::-1]))
    return found


def stretches(
    ink: np.ndarray, labels: np.ndarray, piece: Piece, threshold: float, widest: float
) -> tuple[np.ndarray, list[tuple[int, int]], list[np.ndarray]]:
    """The stretches of ``piece`` that may hold one digit: ``(cuts, pairs, crops)``.

    ``cuts`` ``(c,)`` are its :func:`cut_candidates`; a stretch runs from cut a to cut b,
    a < b, no wider than ``widest`` pixels (or is the whole piece) and holds ink; ``pairs``
    lists each stretch's (a, b) and ``crops`` its own ink, trimmed to its rows.
    """
    cuts = cut_candidates(ink, labels, piece)
    c = cuts.size
    pairs, crops = [], []
    for a in range(c - 1):
        for b in range(a + 1, c):
            if cuts[b] - cuts[a] > widest and (a, b) != (0, c - 1):
                continue
            part = piece.columns(piece.left + int(cuts[a]), piece.left + int(cuts[b]))
            crop = _crop(ink, labels, part, threshold)
            if crop is not None:
                pairs.append((a, b))
                crops.append(crop)
    return cuts, pairs, crops


def read_piece(
    ink: np.ndarray,
    labels: np.ndarray,
    piece: Piece,
    model: MLP,
    judge: MLP | None,
    threshold: float,
    most: int,
    widest: float,
    height: float,
) -> list[tuple[float, np.ndarray]]:
    """Read one piece as 1 .. ``most`` digits: ``(score, probabilities (10, j))`` for each j.

    Every stretch of :func:`stretches` no wider than ``widest`` times the row's
    ``height`` is prepared as a digit; ``model`` (and ``judge``, on :func:`judge_columns`)
    read them all in one product each, :func:`stretch_scores` scores them, and
    :func:`best_cuts` picks, for each count j, the cuts with the best total score.
    """
    cuts, kept, crops = stretches(ink, labels, piece, threshold, widest * height)
    c = cuts.size
    if not kept:
        return [(-np.inf, np.zeros((10, 0)))] * most
    X = np.stack([ink_to_digit(crop) for crop in crops], axis=1)
    P = model.predict_proba(X)
    one = None if judge is None else judge.predict_proba(judge_columns(X, crops, height))[1]
    scores = np.full((c, c), -np.inf)
    scores[tuple(np.array(kept).T)] = stretch_scores(P, one)
    column_of = {ab: k for k, ab in enumerate(kept)}
    results = []
    for total, path in best_cuts(scores, most):
        chosen = [column_of[ab] for ab in pairwise(path)]
        results.append((total, P[:, chosen]))
    return results


#: The judge's inputs: the prepared digit (784 values), then the stretch's ink width and
#: height as fractions of the row's median piece height.
JUDGE_INPUTS = 786


def judge_columns(X: np.ndarray, crops: list[np.ndarray], height: float) -> np.ndarray:
    """The judge's input for each stretch, ``(786, s)``: ``X`` ``(784, s)`` and its size.

    ``X`` is the stretches prepared as digits, ``crops`` their ink (``(h_i, w_i)`` each),
    ``height`` the row's median piece height. The size is what preparing a digit throws
    away (every crop is scaled into the same box), and what tells a narrow digit from a
    sliver of a wide one.
    """
    size = np.array([[crop.shape[1], crop.shape[0]] for crop in crops], np.float32).T
    return np.concatenate([X, size / np.float32(height)]).astype(np.float32)


@cache
def load_judge() -> MLP:
    """The shipped judge, ``nnmath/models/judge.npz`` (trained by :mod:`nnmath.judge`)."""
    from nnmath import model_io  # model_io -> cnn -> ... never imports segment

    model, _ = model_io.load_model(model_io.shipped_model_path("judge"), "mlp")
    if model.sizes[0] != JUDGE_INPUTS or model.sizes[-1] != 2:
        raise ValueError(
            f"judge: expected {JUDGE_INPUTS} inputs and 2 classes, found sizes {model.sizes}"
        )
    return model


def stretch_scores(P: np.ndarray, one: np.ndarray | None) -> np.ndarray:
    """The score of each stretch read as one digit: ``(s,)`` from ``P`` ``(10, s)``.

    s = log P(one digit) + log max_k P(k | one digit): the log-probability that the
    stretch holds exactly one digit and that it is the digit read. ``one`` ``(s,)`` is
    the judge's P(one digit); None leaves the network's term alone.

    Implements: eq-stretch-score
    """
    score = np.log(np.maximum(P.max(axis=0), 1e-300))
    if one is not None:
        score += np.log(np.maximum(one, 1e-300))
    return score


def row_ink(image: np.ndarray) -> np.ndarray:
    """The ink of an image of a row ``(h, w)`` float32: light removed, strokes evened.

    :func:`~nnmath.preprocess.remove_background`, then the paper's median made 0 and the
    strokes' 90th percentile 1 (:func:`~nnmath.preprocess.stretch_ink`, the strokes found
    by Otsu's threshold), so that a photographed row and a scanned one give the same ink.
    """
    ink = remove_background(to_ink(to_grey(image)))
    strong = ink > otsu_threshold(ink)
    return stretch_ink(ink, ~strong, strong)


#: Readings of part of a row: for each number of digits j, the best total score and the
#: probabilities ``(10, j_i)`` of its pieces.
Readings = dict[int, tuple[float, list[np.ndarray]]]


def _extend(readings: Readings, ways: Readings) -> Readings:
    """The readings of the row so far followed by one more piece read in one of its ways.

    A piece with no way to read it (no ink) leaves the readings as they were.
    """
    longer: Readings = {}
    for n, (total, parts) in readings.items():
        for j, (score, P) in ways.items():
            if n + j not in longer or total + score > longer[n + j][0]:
                longer[n + j] = (total + score, parts + P)
    return longer or readings


def read_row(
    image: np.ndarray,
    model: MLP,
    *,
    digits: int | None = None,
    judge: MLP | str | None = "shipped",
    widest: float = 1.3,
    threshold: float = COMPONENT_INK,
    **options: float,
) -> tuple[str, np.ndarray]:
    """Read the digits of a row: ``(string, probabilities)``.

    ``image`` is any image of a row of digits (grey/RGB/RGBA, either polarity). Its
    pieces are found as in :func:`find_pieces` (``threshold`` and ``options`` are its
    keyword arguments), but not cut by shape: :func:`read_piece` reads each piece as
    1, 2, ... digits no wider than ``widest`` times the median piece height each, scored
    by ``model`` and by ``judge``, the network of :func:`judge_columns` that tells one
    digit from anything else (``"shipped"``: the package's, :func:`load_judge`; None:
    the score is ``model``'s alone). The row's reading is the one with the largest
    total score over all pieces together; with ``digits`` given (5 for a ZIP code), the
    best reading with exactly that many (when the pieces cannot give that many, they are
    merged or cut by shape, as in :func:`find_pieces`). ``probabilities`` is ``(10, k)``,
    one column per digit read. Raises :class:`ImageError` when no digit is found.
    """
    if isinstance(judge, str):
        if judge != "shipped":
            raise ValueError(f"judge: expected a network, None or 'shipped', got {judge!r}")
        judge = load_judge()
    ink = row_ink(image)
    labels, pieces = find_pieces(ink, threshold=threshold, max_aspect=None, **options)
    if not pieces:
        raise ImageError(
            f"image: expected a row of digits, found no ink in a {ink.shape[1]} x "
            f"{ink.shape[0]} image"
        )
    height = float(np.median([p.height for p in pieces]))
    readings: Readings = {0: (0.0, [])}
    for piece in pieces:
        most = min(MOST_DIGITS, max(2, int(np.ceil(piece.width / (0.35 * height)))))
        ways = read_piece(ink, labels, piece, model, judge, threshold, most, widest, height)
        readings = _extend(readings, {
            j: (score, [P]) for j, (score, P) in enumerate(ways, 1) if np.isfinite(score)
        })
    if digits is None:
        P = np.concatenate(readings[max(readings, key=lambda n: readings[n][0])][1], 1)
    elif digits in readings:
        P = np.concatenate(readings[digits][1], axis=1)
    else:  # too many pieces (or too few that may be cut): fit the count by shape
        _, pieces = find_pieces(ink, threshold=threshold, digits=digits, **options)
        P = model.predict_proba(
            np.stack(_columns(ink, labels, pieces, threshold), axis=1)
        )
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
    **options: Any,
) -> tuple[np.ndarray, str]:
    """A row of random MNIST digits and its label string: :func:`compose_row` less the spans."""
    strip, label, _ = compose_row(images, labels, rng, **options)
    return strip, label


def compose_row(
    images: np.ndarray,
    labels: np.ndarray,
    rng: np.random.Generator,
    *,
    n: int = 5,
    height: int = 36,
    gap: tuple[int, int] = (-2, 8),
    scale: tuple[float, float] = (0.85, 1.15),
    jitter: int = 3,
) -> tuple[np.ndarray, str, np.ndarray]:
    """A row of ``n`` random MNIST digits and its label string, e.g. ``(strip, "90210")``.

    ``images`` ``(m, 28, 28)`` uint8 and ``labels`` ``(m,)`` are MNIST's (use the test
    set). Each digit is cropped to its ink, scaled by a factor drawn from ``scale``,
    shifted up or down by up to ``jitter`` pixels, and placed after the previous one with
    a gap drawn from ``gap`` (integers, end excluded; negative: the boxes overlap and the
    digits may touch; overlapping ink adds up to at most 1). Returns the strip
    ``(height, W)`` float32, ink bright on black like MNIST, with a margin of 4 pixels,
    the label string, and which digit each pixel's ink comes from, ``(height, W)`` int:
    i for digit i (the one with the most ink there), -1 where there is none.
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
    owner = np.full((height, width), -1)
    strongest = np.zeros((height, width), dtype=np.float32)
    for i, (left, digit) in enumerate(zip(lefts, digits, strict=True)):
        h, w = digit.shape
        top = int(
            np.clip(
                (height - h) // 2 + rng.integers(-jitter, jitter + 1), 0, height - h
            )
        )
        where = np.s_[top : top + h, left : left + w]
        np.minimum(strip[where] + digit, 1, out=strip[where])
        mine = digit > strongest[where]
        owner[where][mine] = i
        np.maximum(strongest[where], digit, out=strongest[where])
    return strip, "".join(str(int(labels[i])) for i in picks), owner

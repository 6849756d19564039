"""Handwritten digits by writers outside MNIST: a pen model, its scans and its photos.

MNIST's test digits come from other writers than its training digits, but from the same
two groups of people (US Census Bureau staff and high-school students), on the same forms,
scanned the same way. To see how a network reads *other* people's handwriting, scanned or
photographed, we write digits ourselves with a model of a pen held by a hand:

1. :data:`SKELETONS`: the ways people write each digit (allographs: a 1 with or without a
   flag, a 7 with or without a crossbar, ...), each a list of strokes, each stroke a few
   control points ``(x, y)`` in a unit box (x to the right, y downward);
2. a :class:`Writer`: the style a person keeps across their digits (slant, width, pen,
   how loose the hand is, proportions, which allograph of each digit) and how neat they
   are: a hurried hand (low ``neatness``) varies more and slips (overshoots, loops left
   open, ticks, misplaced joins, pen skips), drawn by :func:`random_writer`;
3. :func:`trace` turns a stroke's control points into a smooth curve (Catmull-Rom) and
   :func:`render` draws curves with a round pen, anti-aliased, into an ink image;
4. :func:`write_digit` is one digit by one writer; :func:`scan` puts it on a flat-bed
   scan (grey, clean) and :func:`photograph` on a phone photo (warm paper, uneven light,
   noise, blur, JPEG); :func:`writer_set` makes a whole evaluation set.

Ink images are ``(h, w)`` float32 in [0, 1], bright ink on black (MNIST's polarity);
scans are ``(H, W)`` ``uint8`` grey and photos ``(H, W, 3)`` ``uint8`` RGB, dark ink on
light paper, as they would come from a scanner or a camera. Points are ``(x, y)`` with x
the column and y the row, the centre of pixel (r, c) at ``(c, r)``. NumPy and Pillow only.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
from PIL import Image

__all__ = [
    "PENS",
    "PHOTO_SCALE",
    "SCAN_FILL",
    "SCAN_HEIGHT",
    "SKELETONS",
    "WRITE_HEIGHT",
    "Writer",
    "WriterSet",
    "drawn_digits",
    "photograph",
    "random_writer",
    "render",
    "scan",
    "trace",
    "write_digit",
    "writer_set",
]

Point = tuple[float, float]
Stroke = tuple[Point, ...]
Allograph = tuple[Stroke, ...]

# --------------------------------------------------------------------------- skeletons

# Control points (x, y) in a unit box: x = 0 left, 1 right; y = 0 top, 1 bottom. The
# curve passes through every point; a point written twice in a row is a corner (the pen
# stops and changes direction). A writer's aspect ratio later scales x.
SKELETONS: tuple[tuple[Allograph, ...], ...] = (
    (  # 0
        (  # an oval, anticlockwise from the top, closing with a small overlap
            ((0.6, 0.02), (0.25, 0.1), (0.05, 0.45), (0.15, 0.85), (0.5, 1.0),
             (0.85, 0.86), (0.96, 0.5), (0.8, 0.12), (0.5, 0.0), (0.35, 0.07)),
        ),
        (  # an oval, clockwise from the top, closing where it began
            ((0.45, 0.02), (0.8, 0.1), (0.96, 0.45), (0.88, 0.85), (0.5, 1.0),
             (0.13, 0.86), (0.04, 0.5), (0.18, 0.12), (0.47, 0.0)),
        ),
        (  # an egg leaning right, begun at the top right, left a little open
            ((0.78, 0.12), (0.5, 0.0), (0.18, 0.18), (0.05, 0.6), (0.25, 0.97),
             (0.62, 0.97), (0.92, 0.65), (0.93, 0.25), (0.72, 0.05)),
        ),
    ),
    (  # 1
        (  # a bare stroke
            ((0.52, 0.0), (0.5, 0.5), (0.48, 1.0)),
        ),
        (  # with a flag
            ((0.3, 0.26), (0.55, 0.0), (0.55, 0.0), (0.52, 1.0)),
        ),
        (  # with a flag and a base
            ((0.3, 0.26), (0.55, 0.0), (0.55, 0.0), (0.52, 1.0)),
            ((0.22, 1.0), (0.82, 1.0)),
        ),
    ),
    (  # 2
        (  # a round neck and a sharp corner at the base
            ((0.1, 0.25), (0.32, 0.03), (0.62, 0.0), (0.86, 0.2), (0.8, 0.45),
             (0.45, 0.74), (0.05, 1.0), (0.05, 1.0), (0.5, 0.97), (0.95, 1.0)),
        ),
        (  # with a loop at the bottom
            ((0.1, 0.22), (0.35, 0.02), (0.7, 0.03), (0.85, 0.25), (0.72, 0.5),
             (0.4, 0.72), (0.1, 0.9), (0.2, 1.0), (0.4, 0.92), (0.36, 0.76),
             (0.22, 0.8), (0.24, 0.94), (0.55, 1.0), (0.95, 0.96)),
        ),
        (  # angular: a short hook and a straight diagonal
            ((0.08, 0.18), (0.4, 0.0), (0.78, 0.06), (0.82, 0.3), (0.1, 0.98),
             (0.1, 0.98), (0.92, 0.96)),
        ),
    ),
    (  # 3
        (  # round, with a cusp in the middle
            ((0.12, 0.15), (0.45, 0.0), (0.8, 0.12), (0.78, 0.34), (0.42, 0.48),
             (0.42, 0.48), (0.82, 0.62), (0.88, 0.86), (0.55, 1.0), (0.1, 0.88)),
        ),
        (  # flat-topped
            ((0.1, 0.02), (0.85, 0.02), (0.85, 0.02), (0.4, 0.42), (0.4, 0.42),
             (0.75, 0.52), (0.9, 0.75), (0.65, 0.97), (0.3, 1.0), (0.08, 0.88)),
        ),
    ),
    (  # 4
        (  # closed: a diagonal down to the bar, the stem from the top
            ((0.68, 0.0), (0.05, 0.68), (0.05, 0.68), (0.95, 0.68)),
            ((0.68, 0.0), (0.68, 1.0)),
        ),
        (  # open top: down, across, and a separate stem
            ((0.2, 0.0), (0.12, 0.62), (0.12, 0.62), (0.95, 0.6)),
            ((0.72, 0.08), (0.74, 1.0)),
        ),
    ),
    (  # 5
        (  # down and round the belly, then the flag as a second stroke
            ((0.25, 0.02), (0.2, 0.45), (0.2, 0.45), (0.5, 0.38), (0.82, 0.52),
             (0.85, 0.8), (0.55, 1.0), (0.12, 0.9)),
            ((0.25, 0.02), (0.85, 0.0)),
        ),
        (  # in one stroke, the flag first, right to left
            ((0.85, 0.02), (0.25, 0.02), (0.25, 0.02), (0.2, 0.45), (0.2, 0.45),
             (0.5, 0.38), (0.82, 0.52), (0.85, 0.8), (0.55, 1.0), (0.12, 0.9)),
        ),
        (  # a round belly that grows out of the down stroke, flag last
            ((0.28, 0.02), (0.22, 0.42), (0.55, 0.35), (0.88, 0.58), (0.78, 0.9),
             (0.42, 1.0), (0.1, 0.86)),
            ((0.28, 0.02), (0.88, 0.03)),
        ),
    ),
    (  # 6
        (  # a large loop
            ((0.78, 0.05), (0.45, 0.02), (0.18, 0.3), (0.1, 0.65), (0.3, 0.97),
             (0.65, 0.97), (0.88, 0.75), (0.7, 0.5), (0.35, 0.5), (0.15, 0.65)),
        ),
        (  # a small loop under a long stem
            ((0.72, 0.0), (0.4, 0.25), (0.2, 0.6), (0.25, 0.92), (0.5, 1.0),
             (0.72, 0.88), (0.68, 0.68), (0.45, 0.65), (0.25, 0.8)),
        ),
    ),
    (  # 7
        (  # a straight stem
            ((0.05, 0.03), (0.95, 0.03), (0.95, 0.03), (0.4, 1.0)),
        ),
        (  # a curved stem
            ((0.05, 0.05), (0.5, 0.0), (0.92, 0.02), (0.92, 0.02), (0.65, 0.4),
             (0.48, 0.75), (0.42, 1.0)),
        ),
        (  # with a crossbar
            ((0.05, 0.03), (0.95, 0.03), (0.95, 0.03), (0.4, 1.0)),
            ((0.4, 0.53), (0.9, 0.5)),
        ),
        (  # with a tick at the start and a crossbar
            ((0.08, 0.28), (0.05, 0.02), (0.05, 0.02), (0.95, 0.03), (0.95, 0.03),
             (0.45, 1.0)),
            ((0.42, 0.53), (0.9, 0.5)),
        ),
    ),
    (  # 8
        (  # one stroke, crossing itself in the middle
            ((0.78, 0.12), (0.5, 0.0), (0.2, 0.12), (0.25, 0.35), (0.5, 0.5),
             (0.8, 0.68), (0.8, 0.92), (0.5, 1.0), (0.2, 0.92), (0.2, 0.68),
             (0.5, 0.5), (0.75, 0.32), (0.78, 0.12)),
        ),
        (  # two loops, the upper one smaller
            ((0.5, 0.47), (0.2, 0.3), (0.25, 0.05), (0.5, 0.0), (0.75, 0.08),
             (0.78, 0.3), (0.5, 0.47)),
            ((0.5, 0.47), (0.15, 0.7), (0.25, 0.95), (0.55, 1.0), (0.85, 0.85),
             (0.82, 0.6), (0.5, 0.47)),
        ),
    ),
    (  # 9
        (  # a loop and a straight tail
            ((0.85, 0.12), (0.55, 0.0), (0.2, 0.1), (0.15, 0.35), (0.45, 0.52),
             (0.8, 0.4), (0.86, 0.12), (0.86, 0.12), (0.82, 1.0)),
        ),
        (  # a loop and a curved tail
            ((0.85, 0.12), (0.55, 0.0), (0.2, 0.1), (0.15, 0.35), (0.45, 0.52),
             (0.8, 0.4), (0.86, 0.12), (0.86, 0.12), (0.85, 0.55), (0.7, 0.88),
             (0.35, 1.0)),
        ),
        (  # a small loop on a long straight tail
            ((0.8, 0.1), (0.5, 0.0), (0.25, 0.12), (0.3, 0.32), (0.6, 0.36),
             (0.82, 0.08), (0.82, 0.08), (0.75, 1.0)),
        ),
    ),
)  # fmt: skip

# --------------------------------------------------------------------------- writers

#: Scans are this many pixels tall (low, high) when the digit allows it ...
SCAN_HEIGHT = (40, 200)
#: ... and the digit fills this fraction of the image height (low, high).
SCAN_FILL = (0.35, 0.85)
#: A photo has this many times the pixels of a scan along each side (low, high).
PHOTO_SCALE = (1.5, 2.5)
#: :func:`writer_set` writes each digit this many pixels tall (log-uniform, low, high).
WRITE_HEIGHT = (16, 128)


@dataclass(frozen=True)
class Writer:
    """The style a person keeps across all their digits.

    ``slant``: shear, x += slant * (height above the middle), so > 0 leans right;
    ``aspect``: width / height of the unit box; ``pen``: pen width / digit height;
    ``jitter``: how loose the hand is, the standard deviation of each control point (in
    digit heights); ``rotation``: radians, > 0 anticlockwise; ``waist``: how far down the
    middle of a digit lies (0.5 for the skeletons; less makes the top loops and bumps
    smaller); ``allographs``: for digit d, the index into ``SKELETONS[d]`` of the form
    this person writes; ``seed`` fixes the person's own deformation of each form (the
    same in every instance); ``neatness`` in [0, 1]: 1 a careful hand, 0 a hurried one,
    whose digits vary more from one to the next and often have stroke-level slips
    (:func:`write_digit`).
    """

    slant: float
    aspect: float
    pen: float
    jitter: float
    rotation: float
    allographs: tuple[int, ...]
    waist: float = 0.5
    seed: int = 0
    neatness: float = 1.0

    def __post_init__(self) -> None:
        if len(self.allographs) != 10:
            raise ValueError(
                "allographs: expected one index per digit (10), "
                f"got {len(self.allographs)}"
            )
        for d, (k, forms) in enumerate(zip(self.allographs, SKELETONS, strict=True)):
            if not 0 <= k < len(forms):
                raise ValueError(
                    f"allographs[{d}]: expected an index in 0..{len(forms) - 1}, got {k}"
                )
        for name in ("aspect", "pen"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name}: expected > 0, got {getattr(self, name)}")
        if not self.jitter >= 0:
            raise ValueError(f"jitter: expected >= 0, got {self.jitter}")
        if not 0.3 <= self.waist <= 0.7:
            raise ValueError(f"waist: expected a value in 0.3..0.7, got {self.waist}")
        if not 0 <= self.neatness <= 1:
            raise ValueError(f"neatness: expected a value in 0..1, got {self.neatness}")


def random_writer(rng: np.random.Generator) -> Writer:
    """A person drawn at random, first their ``neatness`` (uniform in 0..1), then a style
    whose spread grows with the hurry u = 1 - neatness:

    slant triangular in -0.25 - 0.15 u .. 0.35 + 0.35 u (mode 0.1: a careful writer
    -0.25..0.35, the most hurried -0.4..0.7), aspect triangular in
    0.55 - 0.15 u .. 1.05 + 0.2 u (mode 0.75; at most 0.4..1.25), rotation uniform within
    +-(0.08 + 0.12 u) rad (up to +-11 degrees), jitter uniform in
    0.015..0.035 + 0.045 u (up to 0.08 of the height); whatever the hurry, waist
    0.4..0.6, pen 4%..14% of the height (log-uniform: ballpoint to marker) and one
    allograph of each digit (uniform).
    """
    neatness = float(rng.uniform(0, 1))
    u = 1 - neatness
    turn = 0.08 + 0.12 * u
    return Writer(
        slant=float(rng.triangular(-0.25 - 0.15 * u, 0.1, 0.35 + 0.35 * u)),
        aspect=float(rng.triangular(0.55 - 0.15 * u, 0.75, 1.05 + 0.2 * u)),
        pen=float(np.exp(rng.uniform(np.log(0.04), np.log(0.14)))),
        jitter=float(rng.uniform(0.015, 0.035 + 0.045 * u)),
        rotation=float(rng.uniform(-turn, turn)),
        allographs=tuple(int(rng.integers(len(forms))) for forms in SKELETONS),
        waist=float(rng.uniform(0.4, 0.6)),
        seed=int(rng.integers(2**31)),
        neatness=neatness,
    )


# --------------------------------------------------------------------------- the pen


def trace(points: np.ndarray | Sequence[Point], n: int) -> np.ndarray:
    """``n`` points ``(n, 2)`` float64 along the Catmull-Rom curve through ``points``.

    ``points`` ``(m, 2)``, m >= 1. Between P[i] and P[i+1] the curve is the cubic with
    C(0) = P[i], C(1) = P[i+1] and tangents (P[i+1] - P[i-1]) / 2, (P[i+2] - P[i]) / 2;
    the missing neighbours at the two ends are reflections, 2 P[0] - P[1] and
    2 P[m-1] - P[m-2]. A point repeated makes a corner. The samples are spread over the
    pieces in proportion to their chord lengths, so they lie about evenly along the curve;
    the first and last samples are P[0] and P[m-1].
    """
    P = np.asarray(points, dtype=np.float64)
    if P.ndim != 2 or P.shape[1] != 2 or len(P) < 1:
        raise ValueError(f"points: expected (m, 2) with m >= 1, got shape {P.shape}")
    if not np.all(np.isfinite(P)):
        raise ValueError("points: expected finite coordinates, found NaN or infinity")
    if n < 2:
        raise ValueError(f"n: expected at least 2 samples, got {n}")
    if len(P) == 1:
        return np.repeat(P, n, axis=0)
    padded = np.concatenate([2 * P[:1] - P[1:2], P, 2 * P[-1:] - P[-2:-1]])
    chord = np.linalg.norm(np.diff(P, axis=0), axis=1)
    if chord.sum() == 0:
        return np.repeat(P[:1], n, axis=0)
    # each sample's piece i and parameter t in [0, 1] along it
    ends = np.concatenate([[0.0], np.cumsum(chord)])
    s = np.linspace(0.0, ends[-1], n)
    i = np.clip(np.searchsorted(ends, s, side="right") - 1, 0, len(chord) - 1)
    t = ((s - ends[i]) / np.where(chord[i] > 0, chord[i], 1.0))[:, None]
    p0, p1, p2, p3 = padded[i], padded[i + 1], padded[i + 2], padded[i + 3]
    return 0.5 * (
        2 * p1
        + (p2 - p0) * t
        + (2 * p0 - 5 * p1 + 4 * p2 - p3) * t**2
        + (3 * p1 - p0 - 3 * p2 + p3) * t**3
    )


#: :func:`render` draws each segment over its own square window of pixels, in batches
#: of at most this many window pixels (a bound on its memory).
WINDOW_PIXELS = 1 << 20


def render(
    strokes: Sequence[np.ndarray],
    pen: float,
    size: tuple[int, int],
    pressure: Sequence[np.ndarray] | None = None,
) -> np.ndarray:
    """Draw polylines with a round pen ``pen`` pixels wide: ink ``(h, w)`` float32 in [0, 1].

    ``strokes`` are ``(n_i, 2)`` arrays of points ``(x, y)`` in pixels (x the column, y
    the row); ``size`` is ``(h, w)``. A pixel at distance d from the nearest segment gets
    ink = clip(r + 1/2 - d, 0, 1) with r = pen / 2: 1 within r - 1/2 of the line, 0
    beyond r + 1/2 and a linear ramp between (anti-aliasing; a line's ink per unit length
    is its width). ``pressure``, one ``(n_i,)`` array per stroke, scales the pen width at
    each point (each segment takes the mean of its two ends). Every segment (cut into
    pieces at most 2 r long) is drawn at once over a square window of pixels around it,
    the windows merged by their maximum (``np.maximum.at``).
    """
    h, w = size
    if h < 1 or w < 1:
        raise ValueError(f"size: expected (h, w) with h, w >= 1, got {size}")
    if not 0 < pen < np.inf:
        raise ValueError(f"pen: expected a finite width > 0 pixels, got {pen}")
    image = np.zeros((h, w), dtype=np.float32)
    starts, ends, radii = [], [], []
    for k, stroke in enumerate(strokes):
        points = np.asarray(stroke, dtype=np.float32).reshape(-1, 2)
        factor = np.ones(len(points), np.float32)
        if pressure is not None:
            factor = np.asarray(pressure[k], dtype=np.float32)
        if factor.shape != (len(points),):
            raise ValueError(
                f"pressure[{k}]: expected one factor per point, shape ({len(points)},), "
                f"got {factor.shape}"
            )
        if len(points) == 1:  # a dot
            points, factor = np.repeat(points, 2, axis=0), np.repeat(factor, 2)
        starts.append(points[:-1])
        ends.append(points[1:])
        radii.append(np.float32(pen / 4) * (factor[:-1] + factor[1:]))
    if not starts or sum(len(s) for s in starts) == 0:
        return image
    a, b, r = np.concatenate(starts), np.concatenate(ends), np.concatenate(radii)
    longest = max(2.0, 2 * float(r.max()))  # cut longer segments into pieces
    pieces = np.ceil(np.hypot(*(b - a).T) / longest).astype(np.int64)
    pieces = np.maximum(pieces, 1)
    if pieces.max() > 1:
        which = np.repeat(np.arange(len(a)), pieces)
        j = np.arange(len(which)) - (np.cumsum(pieces) - pieces)[which]
        step = (b - a)[which] / pieces[which, None].astype(np.float32)
        a = a[which] + j[:, None].astype(np.float32) * step
        b, r = a + step, r[which]
    reach = float(r.max()) + 1
    side = int(np.ceil(longest + 2 * reach)) + 2
    offset = np.arange(side, dtype=np.float32)
    corner = np.floor(np.minimum(a, b) - reach)  # each window's top-left pixel (x, y)
    flat = image.reshape(-1)
    batch = max(1, WINDOW_PIXELS // side**2)
    for s in range(0, len(a), batch):
        a0, ab, r0 = a[s : s + batch], (b - a)[s : s + batch], r[s : s + batch]
        x = corner[s : s + batch, 0, None, None] + offset[None, None, :]  # (S, 1, K)
        y = corner[s : s + batch, 1, None, None] + offset[None, :, None]  # (S, K, 1)
        dx, dy = x - a0[:, 0, None, None], y - a0[:, 1, None, None]  # p - a
        ax, ay = ab[:, 0, None, None], ab[:, 1, None, None]
        t = (dx * ax + dy * ay) / np.maximum(ax * ax + ay * ay, np.float32(1e-12))
        np.clip(t, 0, 1, out=t)
        d = np.hypot(dx - t * ax, dy - t * ay)  # distance to the segment, (S, K, K)
        ink = np.clip(r0[:, None, None] + np.float32(0.5) - d, 0, 1)
        keep = (ink > 0) & (x >= 0) & (x < w) & (y >= 0) & (y < h)
        index = (y * w + x).astype(np.int64)
        np.maximum.at(flat, np.broadcast_to(index, keep.shape)[keep], ink[keep])
    return image


# --------------------------------------------------------------------------- a digit

MIN_HEIGHT, MAX_HEIGHT = 8, 1024  # pixels: write_digit's smallest and largest digit

#: Where a loop closes, for (digit, allograph): the stroke ends (stroke, 0 its start or
#: 1 its end) that come back to the loop's start (0, 8) or onto its stem (6, 9).
CLOSINGS: dict[tuple[int, int], tuple[tuple[int, int], ...]] = {
    (0, 0): ((0, 1),),
    (0, 1): ((0, 1),),
    (0, 2): ((0, 1),),
    (6, 0): ((0, 1),),
    (6, 1): ((0, 1),),
    (8, 0): ((0, 1),),
    (8, 1): ((0, 1), (1, 1)),
    (9, 0): ((0, 0),),
    (9, 1): ((0, 0),),
    (9, 2): ((0, 0),),
}
#: (digit, allograph) whose second stroke joins the first (the stem of a 4, the flag of
#: a 5, the crossbar of a 7): how far a hurried writer may put it off its place, the
#: range of x and of y in the unit box (the stem of an open 4 stays right of the end
#: of its bar, or the bar would not cross it).
JOINED: dict[tuple[int, int], tuple[tuple[float, float], tuple[float, float]]] = {
    (4, 0): ((-0.08, 0.12), (-0.08, 0.08)),
    (4, 1): ((-0.12, 0.06), (-0.08, 0.08)),
    (5, 0): ((-0.12, 0.12), (-0.08, 0.08)),
    (5, 2): ((-0.12, 0.12), (-0.08, 0.08)),
    (7, 2): ((-0.08, 0.08), (-0.08, 0.08)),
    (7, 3): ((-0.08, 0.08), (-0.08, 0.08)),
}
#: The lean of a whole digit, as a shear (> 0 to the right): the writer's slant, this
#: instance's, the lean its wandering control points add to its first stroke (the
#: least-squares slope of x on y) and its rotation together stay within -0.55..0.9
#: (about 29 degrees to the left, 42 to the right).
LEAN = (-0.55, 0.9)
#: How far a writer's waist may move the middle of these digits down (k > 0) or up
#: (k < 0), y -> y + k y (1 - y): a 6 whose loop grows up to its top reads as a 0, a 9
#: whose loop grows down as an a, a 4 whose bar sinks as a U.
WAIST_LIMITS = {4: (-1.0, 0.15), 6: (-0.15, 1.0), 9: (-1.0, 0.15)}
#: The chance of each slip of the pen, (careful, hurried): it grows linearly with the
#: hurry u = 1 - neatness from the first to the second; a pen skip only for u > 1/2.
SLIPS = {
    "end": (0.05, 0.3),  # per free stroke end: it overshoots or stops short
    "loop": (0.05, 0.55),  # per digit with a loop: left open or crossed over
    "hook": (0.03, 0.25),  # per free stroke start: a small tick
    "join": (0.05, 0.5),  # per two-stroke 4, 5 or 7: the second stroke misplaced
    "skip": (0.0, 0.2),  # per digit: a short gap in its longest stroke
}


#: The loops of (digit, allograph), each as the indices of its control points among
#: all the allograph's points (its strokes one after another).
LOOPS: dict[tuple[int, int], tuple[tuple[int, ...], ...]] = {
    (0, 0): (tuple(range(9)),),
    (0, 1): (tuple(range(9)),),
    (0, 2): (tuple(range(9)),),
    (6, 0): (tuple(range(3, 10)),),
    (6, 1): (tuple(range(3, 9)),),
    (8, 0): ((0, 1, 2, 3, 4, 10, 11), tuple(range(4, 11))),
    (8, 1): (tuple(range(7)), tuple(range(7, 14))),
    (9, 0): (tuple(range(7)),),
    (9, 1): (tuple(range(7)),),
    (9, 2): (tuple(range(6)),),
}
#: Open bumps that a hurried hand squashes but never flattens: the neck of a 2, the
#: bumps of a 3, the belly of a 5 (indices as in :data:`LOOPS`).
BUMPS: dict[tuple[int, int], tuple[tuple[int, ...], ...]] = {
    (2, 0): (tuple(range(6)),),
    (2, 1): (tuple(range(6)),),
    (2, 2): (tuple(range(5)),),
    (3, 0): (tuple(range(5)), tuple(range(5, 10))),
    (3, 1): (tuple(range(4, 10)),),
    (5, 0): (tuple(range(2, 8)),),
    (5, 1): (tuple(range(4, 10)),),
    (5, 2): (tuple(range(1, 7)),),
}
#: (digit, allograph) of the 1s with a flag, from their first point to their second.
FLAGGED = ((1, 1), (1, 2))


def _flag(points: np.ndarray, height: float) -> np.ndarray:
    """The control points ``(m, 2)`` (pixels) of a 1 with a flag (the flag's start, the
    top, twice, the foot, ...), the flag kept a flag:
    at most 0.25 of the height long, at most 45 degrees off the stem and at least 30
    degrees below the horizontal, else it reads as the bar of a 7 (which is longer,
    flatter and nearer a right angle to the stem)."""
    start, top, bottom = points[0], points[1], points[3]
    flag, stem = start - top, bottom - top

    def turned(v: np.ndarray, angle: float) -> np.ndarray:
        cos, sin = np.cos(angle), np.sin(angle)
        return np.array([[cos, -sin], [sin, cos]]) @ v

    turn = np.arctan2(stem[0] * flag[1] - stem[1] * flag[0], stem @ flag)
    if abs(turn) > np.radians(45):
        flag = turned(flag, np.sign(turn) * np.radians(45) - turn)
    below = np.arctan2(flag[1], abs(flag[0]))  # y points down the page
    if below < np.radians(30):
        flag = turned(flag, np.sign(flag[0]) * (np.radians(30) - below))
    flag = flag * min(1.0, 0.25 * height / max(np.linalg.norm(flag), 1e-9))
    out = points.copy()
    out[0] = top + flag
    return out


def _is_integer(value: object) -> bool:
    """Whether ``value`` is an integer (Python's or NumPy's), not a bool."""
    return isinstance(value, int | np.integer) and not isinstance(value, bool)


def _chance(slip: str, hurry: float) -> float:
    """The probability of a ``slip`` of :data:`SLIPS` for a writer of hurry 1 - neatness."""
    careful, hurried = SLIPS[slip]
    if slip == "skip":
        return hurried * max(0.0, 2 * hurry - 1)
    return careful + (hurried - careful) * hurry


def _field(
    points: np.ndarray, sigma: float, rng: np.random.Generator, scale: float = 0.5
) -> np.ndarray:
    """A smooth random displacement of ``points`` ``(m, 2)``: ``(m, 2)``.

    A sum of 12 random waves (random Fourier features of a Gaussian process of length
    ``scale`` in the unit box), each coordinate of standard deviation about ``sigma``:
    points close together move together, so a stroke bends and a loop swells or leans
    rather than going lumpy; points written twice (joins, corners) move alike.
    """
    waves = 12
    omega = rng.normal(0, 1 / scale, (2, waves))
    phase = rng.uniform(0, 2 * np.pi, waves)
    amplitude = rng.normal(0, sigma, (waves, 2))
    return np.sqrt(2 / waves) * np.cos(points @ omega + phase) @ amplitude


def _offsets(
    points: np.ndarray, writer: Writer, digit: int, rng: np.random.Generator
) -> np.ndarray:
    """How far each control point of a digit moves: ``(m, 2)`` for ``points`` ``(m, 2)``.

    The writer's own deformation of the digit (drawn from ``writer.seed`` and the digit:
    the same in every instance) plus a fresh one per instance, each a smooth field
    (:func:`_field`) with a little independent noise per point on top (0.3 of the
    field's spread; the same wherever a point recurs for the writer's own, shared by a
    point written twice in a row in the fresh one, so that joins stay joined and a
    corner stays a corner). The writer's own has spread ``writer.jitter``, the fresh one
    ``jitter * (0.75 + 0.5 u)`` with u = 1 - neatness: a hurried hand wanders more from
    one instance to the next.
    """
    mine = np.random.default_rng([writer.seed, digit])
    index: dict[tuple[float, float], int] = {}
    where = [index.setdefault((x, y), len(index)) for x, y in points.tolist()]
    own = _field(points, writer.jitter, mine)
    own += mine.normal(0, 0.3 * writer.jitter, (len(index), 2))[where]
    corner = np.concatenate([[False], np.all(points[1:] == points[:-1], axis=1)])
    first = np.cumsum(~corner) - 1  # each point's index among the points not repeated
    spread = writer.jitter * (0.75 + 0.5 * (1 - writer.neatness))
    fresh = _field(points, spread, rng)
    fresh += rng.normal(0, 0.3 * spread, (int((~corner).sum()), 2))[first]
    return own + fresh


def _area(points: np.ndarray) -> float:
    """The area of the polygon ``points`` ``(m, 2)`` (shoelace formula), >= 0."""
    x, y = points[:, 0], points[:, 1]
    twice = x[:-1] @ y[1:] - y[:-1] @ x[1:] + x[-1] * y[0] - y[-1] * x[0]
    return abs(float(twice)) / 2


def _keep_loops(
    points: np.ndarray, offsets: np.ndarray, key: tuple[int, int], waist: float
) -> np.ndarray:
    """``offsets`` ``(m, 2)`` of the control points ``points`` of the allograph ``key``,
    shrunk (by 0.8 at a time) until each of its :data:`LOOPS` and :data:`BUMPS`, moved
    and its middle moved down (y -> y + ``waist`` y (1 - y)), keeps at least 0.6 of the
    area, the width and the height it has in the skeleton: a hurried hand squashes a
    loop, never flat."""

    def size(p: np.ndarray) -> np.ndarray:
        return np.array([_area(p), *np.ptp(p, axis=0)])

    loops = [list(loop) for loop in LOOPS.get(key, ()) + BUMPS.get(key, ())]
    if not loops:
        return offsets
    low = [0.6 * size(points[loop]) for loop in loops]
    for _ in range(10):
        moved = points + offsets
        moved[:, 1] += waist * moved[:, 1] * (1 - moved[:, 1])
        if all(np.all(size(moved[lp]) >= m) for lp, m in zip(loops, low, strict=True)):
            break
        offsets = 0.8 * offsets
    return offsets


def _arc(curve: np.ndarray) -> np.ndarray:
    """The arc length ``(n,)`` from the first point of ``curve`` ``(n, 2)`` to each one."""
    steps = np.linalg.norm(np.diff(curve, axis=0), axis=1)
    return np.concatenate([[0.0], np.cumsum(steps)])


def _cut(curve: np.ndarray, start: float, stop: float) -> np.ndarray:
    """The part of ``curve`` between arc lengths ``start`` < ``stop``, its two new ends
    interpolated on the segments they fall on."""
    s = _arc(curve)
    inside = curve[(s > start) & (s < stop)]
    ends = [
        np.array([np.interp(v, s, curve[:, 0]), np.interp(v, s, curve[:, 1])])
        for v in (start, stop)
    ]
    return np.concatenate([ends[0][None], inside, ends[1][None]])


def _lengthen(curve: np.ndarray, amount: float, step: float) -> np.ndarray:
    """``curve`` with its end carried on along its last direction (``amount`` > 0
    pixels) or pulled back along it (``amount`` < 0, keeping at least half the curve)."""
    s = _arc(curve)
    if amount < 0:
        return _cut(curve, 0.0, max(s[-1] + amount, s[-1] / 2))
    back = np.searchsorted(s, s[-1] - min(step, s[-1] / 3), side="right") - 1
    direction = curve[-1] - curve[max(back, 0)]
    norm = np.linalg.norm(direction)
    if amount == 0 or norm == 0:
        return curve
    t = np.linspace(0, amount, max(2, int(np.ceil(amount / step)) + 1))[1:]
    return np.concatenate([curve, curve[-1] + t[:, None] * direction / norm])


def _close(curve: np.ndarray, amount: float, step: float) -> np.ndarray:
    """A loop that ends ``curve`` closed sloppily: it stops ``-amount`` pixels short of
    its closing point or runs ``amount`` past it. The closing point is where the last
    40% of the curve passes nearest its start, if the two ends are near each other (an
    O), otherwise the end itself (a loop closing onto a stem)."""
    s = _arc(curve)
    tail = np.flatnonzero(s >= 0.6 * s[-1])
    gap = np.linalg.norm(curve[tail] - curve[0], axis=1)
    closing = s[-1]
    if np.linalg.norm(curve[-1] - curve[0]) < 0.3 * s[-1] / np.pi:
        closing = s[tail[np.argmin(gap)]]
    return _lengthen(curve, closing + amount - s[-1], step)


def _hook(curve: np.ndarray, length: float, rng: np.random.Generator) -> np.ndarray:
    """``curve`` begun with a tick ``length`` pixels long: the pen lands off the line and
    comes to its start at 40..110 degrees to the direction the stroke sets off in."""
    s = _arc(curve)
    ahead = curve[min(np.searchsorted(s, length), len(curve) - 1)] - curve[0]
    norm = np.linalg.norm(ahead)
    if norm == 0:
        return curve
    angle = rng.uniform(0.7, 1.9) * rng.choice([-1.0, 1.0])
    cos, sin = np.cos(angle), np.sin(angle)
    land = curve[0] + length * np.array([[cos, -sin], [sin, cos]]) @ ahead / norm
    t = np.linspace(0, 1, 4)[:-1, None]
    return np.concatenate([land + t * (curve[0] - land), curve])


def _wobble(
    curve: np.ndarray, amplitude: float, height: float, rng: np.random.Generator
) -> np.ndarray:
    """``curve`` moved across itself by ``amplitude * sin(2 pi f s / height + phase)``
    pixels at arc length s, f 1..3 waves per digit height: an unsteady hand."""
    if len(curve) < 3 or amplitude < 0.05:  # under a twentieth of a pixel: none
        return curve
    tangent = np.empty_like(curve)  # central differences, one-sided at the ends
    tangent[1:-1] = curve[2:] - curve[:-2]
    tangent[0], tangent[-1] = curve[1] - curve[0], curve[-1] - curve[-2]
    norm = np.maximum(np.hypot(tangent[:, 0], tangent[:, 1]), 1e-9)[:, None]
    normal = tangent[:, ::-1] * (-1.0, 1.0) / norm
    f, phase = rng.uniform(1, 3), rng.uniform(0, 2 * np.pi)
    wave = amplitude * np.sin(2 * np.pi * f * _arc(curve) / height + phase)
    return curve + wave[:, None] * normal


def _slips(
    curves: list[np.ndarray],
    key: tuple[int, int],
    height: float,
    pen: float,
    hurry: float,
    rng: np.random.Generator,
) -> list[np.ndarray]:
    """The slips of a pen in a hurry ``hurry`` = 1 - neatness, on the traced ``curves``
    (pixels) of the allograph ``key`` = (digit, allograph), each with the chance
    :func:`_chance` gives: an unsteady line (:func:`_wobble`, up to 1.2% of the height
    times the hurry); a loop of :data:`CLOSINGS` left open or crossed over by 3..6% (+8%
    times the hurry) of the height; each free stroke end (not a closing, not where two
    strokes of the skeleton meet) carried on by 2..8% or stopped 2..6% short; each free
    stroke start begun with a tick 2.5..6% long (:func:`_hook`); a pen skip, a gap of
    2..4.5% of the height (beyond the pen's round ends) in the longest stroke.
    """
    step = max(1.5, height / 20)
    amplitude = height * 0.012 * hurry * rng.uniform(0.3, 1.0)
    curves = [_wobble(c, amplitude, height, rng) for c in curves]
    closings = CLOSINGS.get(key, ())
    if closings and rng.random() < _chance("loop", hurry):
        s, end = closings[int(rng.integers(len(closings)))]
        amount = height * rng.uniform(0.03, 0.06 + 0.08 * hurry) * rng.choice([-1, 1])
        if end == 0:
            curves[s] = _close(curves[s][::-1], amount, step)[::-1]
        else:
            curves[s] = _close(curves[s], amount, step)
    form = SKELETONS[key[0]][key[1]]
    for s, stroke in enumerate(form):
        for end in (0, 1):
            point = stroke[-end]
            elsewhere = [p for t, other in enumerate(form) if t != s for p in other]
            if (s, end) in closings or point in elsewhere:
                continue
            if key in FLAGGED and (s, end) == (0, 0):
                continue  # a longer flag reads as a 7
            if rng.random() < _chance("end", hurry):
                if rng.random() < 0.5:
                    amount = height * rng.uniform(0.02, 0.08)
                else:
                    amount = -height * rng.uniform(0.02, 0.06)
                if end == 0:
                    curves[s] = _lengthen(curves[s][::-1], amount, step)[::-1]
                else:
                    curves[s] = _lengthen(curves[s], amount, step)
            if end == 0 and key[0] != 1 and rng.random() < _chance("hook", hurry):
                curves[s] = _hook(curves[s], height * rng.uniform(0.025, 0.06), rng)
    if rng.random() < _chance("skip", hurry):
        lengths = [_arc(c)[-1] for c in curves]
        s = int(np.argmax(lengths))
        if lengths[s] > 0.4 * height:
            middle = lengths[s] * rng.uniform(0.25, 0.75)
            half = (1.15 * pen + height * rng.uniform(0.02, 0.045)) / 2
            whole = curves.pop(s)
            curves[s:s] = [
                _cut(whole, 0.0, middle - half),
                _cut(whole, middle + half, lengths[s]),
            ]
    return curves


def _page(aspect: float, slant: float, angle: float, height: float) -> np.ndarray:
    """The map ``(2, 2)`` from the unit box (centred) to pixels on the page: ``aspect``
    wide, sheared by ``slant`` (y up the page is -y), rotated by ``angle`` (anticlockwise
    on the page, whose y points down), ``height`` pixels tall."""
    cos, sin = np.cos(angle), np.sin(angle)
    A = np.array([[aspect, -slant], [0.0, 1.0]])
    R = np.array([[cos, sin], [-sin, cos]])
    return height * (R @ A)


def _four(points: np.ndarray, height: float) -> np.ndarray:
    """The control points ``(6, 2)`` (pixels) of a 4, its bar kept across its stem: the
    bar's right end at least 12% of the height right of the stem, its left end (the
    corner) at least 20% left of it (moved along the bar if need be), and the stem at
    least 30% of the height below the bar (made longer if need be); else a narrow 4
    reads as a 1 or an A."""
    out = points.copy()
    top, bottom = out[4], out[5]  # the stem
    corner = out[1]  # (1 and 2 are the same point, the corner)
    end = out[3]

    def across(p: np.ndarray) -> float:  # how far right of the stem's line p lies
        t = (p[1] - top[1]) / (bottom[1] - top[1])
        return float(p[0] - (top[0] + t * (bottom[0] - top[0])))

    bar = (end - corner) / max(np.linalg.norm(end - corner), 1e-9)
    out[3] = end + bar * max(0.0, 0.12 * height - across(end)) / max(bar[0], 0.3)
    corner = corner - bar * max(0.0, 0.2 * height + across(corner)) / max(bar[0], 0.3)
    out[1] = out[2] = corner
    below = bottom[1] - max(out[1, 1], out[3, 1])  # the stem under the bar
    if below < 0.3 * height:
        stem = (bottom - top) / max(np.linalg.norm(bottom - top), 1e-9)
        out[5] = bottom + stem * (0.3 * height - below) / max(stem[1], 0.5)
    return out


def _turn(points: np.ndarray, pivot: np.ndarray, angle: float) -> np.ndarray:
    """``points`` ``(m, 2)`` turned by ``angle`` radians about ``pivot`` ``(2,)``."""
    cos, sin = np.cos(angle), np.sin(angle)
    return pivot + (points - pivot) @ np.array([[cos, sin], [-sin, cos]])


#: The 7s: (corner, the far end of the top bar, the bar's points, the stem's points and
#: its crossbar's), as indices of their control points.
SEVENS = {
    0: (1, 0, [0], [3]),
    1: (2, 0, [0, 1], [4, 5, 6]),
    2: (1, 0, [0], [3, 4, 5]),
    3: (3, 1, [0, 1, 2], [5, 6, 7]),
}
#: The 5s: (the flag's end at the stem, its free end).
FIVES = {0: (8, 9), 1: (1, 0), 2: (7, 8)}


def _seven(points: np.ndarray, allograph: int, height: float) -> np.ndarray:
    """The control points (pixels) of a 7, kept a 7: its top bar at least 0.45 of the
    height long and within 20 degrees of the horizontal (a curved bar's middle point
    within 6% of the height of its chord, and over its middle 40%), its stem within 45
    degrees of the vertical (leaning left) to 5 (leaning right), each turned about the
    corner if need be (a curved stem setting off within 40 degrees of it), and its foot
    at least 0.7 of the height below the corner (the stem stretched if need be); else
    it reads as a 1, a 2, a T or a Z."""
    out = points.copy()
    corner, end, bar, stem = SEVENS[allograph]
    c = out[corner].copy()
    v = out[end] - c  # the bar, from the corner leftwards
    tilt = float(np.arctan2(v[1], -v[0]))  # > 0: its left end lower
    out[bar] = _turn(out[bar], c, np.sign(tilt) * max(0.0, abs(tilt) - np.radians(20)))
    length = np.linalg.norm(out[end] - c)
    out[bar] = c + (out[bar] - c) * max(1.0, 0.45 * height / max(length, 1e-9))
    if allograph == 1:  # the curved bar's middle: near its chord, between its ends
        chord = out[end] - c
        t = float(np.clip((out[1] - c) @ chord / (chord @ chord), 0.3, 0.7))
        across = np.array([-chord[1], chord[0]]) / np.linalg.norm(chord)
        off = float(np.clip((out[1] - c) @ across, -0.06 * height, 0.06 * height))
        out[1] = c + t * chord + off * across
    foot = stem[0] if allograph != 1 else stem[-1]
    w = out[foot] - c  # the stem, downwards
    lean = float(np.arctan2(w[0], w[1]))  # > 0: its foot to the right
    fix = float(np.clip(lean, -np.pi / 4, np.radians(5))) - lean
    out[stem] = _turn(out[stem], c, -fix)
    if allograph == 1:  # the curved stem sets off within 40 degrees of the vertical
        w = out[4] - c
        lean = float(np.arctan2(w[0], w[1]))
        fix = float(np.clip(lean, -np.radians(40), np.radians(40))) - lean
        out[4] = _turn(out[4:5], c, -fix)[0]
    drop = out[foot, 1] - c[1]
    out[stem] = c + (out[stem] - c) * max(1.0, 0.7 * height / max(drop, 1e-9))
    return out


def _five(points: np.ndarray, allograph: int, height: float) -> np.ndarray:
    """The control points (pixels) of a 5, its flag kept within 15 degrees of the
    horizontal and at least 0.3 of the height long (its free end moved); else a 5 whose
    flag rises reads as a 6 or a b."""
    out = points.copy()
    root, end = FIVES[allograph]
    v = out[end] - out[root]
    angle = float(np.clip(np.arctan2(v[1], v[0]), -np.radians(15), np.radians(15)))
    length = max(float(np.linalg.norm(v)), 0.3 * height)
    out[end] = out[root] + length * np.array([np.cos(angle), np.sin(angle)])
    return out


#: The stems of 6s and the tails of 9s, by (digit, allograph): the control point they
#: grow from, the points that make them, the one whose chord from there they lean by.
STEMS = {
    (6, 0): (3, [0, 1, 2], 0),
    (6, 1): (2, [0, 1], 0),
    (9, 0): (7, [8], 8),
    (9, 1): (7, [8, 9, 10], 10),
    (9, 2): (6, [7], 7),
}


def _stem(points: np.ndarray, key: tuple[int, int]) -> np.ndarray:
    """The control points (pixels) of a 6 or a 9 of :data:`STEMS`, its stem or tail
    turned about the point it grows from to within 45 degrees of the vertical, else a 6
    lies down (a sigma) and a 9 reads as an a."""
    out = points.copy()
    pivot, stem, far = STEMS[key]
    v = out[far] - out[pivot]
    v = v if v[1] >= 0 else -v  # pointing down the page
    lean = float(np.arctan2(v[0], v[1]))
    fix = float(np.clip(lean, -np.pi / 4, np.pi / 4)) - lean
    out[stem] = _turn(out[stem], out[pivot].copy(), -fix)
    return out


def _legible(points: np.ndarray, key: tuple[int, int], height: float) -> np.ndarray:
    """The control points ``(m, 2)`` (pixels) of the allograph ``key``, the parts that
    tell some digits apart kept within bounds: the flag of a 1 (:func:`_flag`), the bar
    and stem of a 4 (:func:`_four`), the flag of a 5 (:func:`_five`), the stem of a 6
    and the tail of a 9 (:func:`_stem`), the bar and stem of a 7 (:func:`_seven`). Any
    other digit is returned as it is."""
    digit, allograph = key
    if key in FLAGGED:
        return _flag(points, height)
    if digit == 4:
        return _four(points, height)
    if digit == 5:
        return _five(points, allograph, height)
    if digit == 7:
        return _seven(points, allograph, height)
    if key in STEMS:
        return _stem(points, key)
    return points


def _thin_loop(points: np.ndarray, key: tuple[int, int]) -> np.ndarray | None:
    """The long axis ``(2,)`` of the first loop of :data:`LOOPS` of the allograph ``key``,
    its control points ``points`` ``(m, 2)`` on the page, that is less than 0.45 as wide
    across as it is long (the spread of its points along their principal axes); None
    if every loop is open enough."""
    for loop in LOOPS.get(key, ()):
        spread, axes = np.linalg.eigh(np.cov(points[list(loop)].T))
        if spread[0] < 0.45**2 * spread[1]:
            return axes[:, 1]
    return None


def write_digit(
    digit: int, writer: Writer, rng: np.random.Generator, height: int = 64
) -> np.ndarray:
    """One ``digit`` written by ``writer``: ink ``(h, w)`` float32 in [0, 1], bright on black.

    The writer's allograph of the digit, its control points moved (:func:`_offsets`,
    never so far that a loop goes flat, :func:`_keep_loops`); the second stroke of a 4,
    5 or 7 of :data:`JOINED`, by chance, moved off its join; the middle moved down to
    ``waist`` (y -> y + k y (1 - y), k = 4 (waist - 1/2), within :data:`WAIST_LIMITS`);
    then scaled to ``aspect`` wide, sheared by ``slant``, rotated by ``rotation`` and
    scaled to ``height`` pixels, each varied per instance, by more for a hurried writer
    (standard deviations 5%..10% of the aspect, 0.04..0.09 of slant, 0.03..0.07 rad from
    neatness 1 to 0), the whole digit's lean kept within :data:`LEAN` and its loops
    open (:func:`_thin_loop`). The parts that tell digits apart are kept in bounds
    (:func:`_legible`): every digit stays readable by a person. The curves take the
    writer's slips (:func:`_slips`) and are drawn with the writer's pen (width +-5% per
    instance, pressure varying smoothly by up to +-15% along each stroke) in a frame with
    a margin of pen / 2 + 2 pixels.
    """
    if not (_is_integer(digit) and 0 <= digit <= 9):
        raise ValueError(f"digit: expected an integer in 0..9, got {digit!r}")
    if not MIN_HEIGHT <= height <= MAX_HEIGHT:
        raise ValueError(
            f"height: expected {MIN_HEIGHT}..{MAX_HEIGHT} pixels, got {height}"
        )
    hurry = 1 - writer.neatness
    key = (int(digit), writer.allographs[digit])
    form = SKELETONS[digit][key[1]]
    flat = np.concatenate([np.array(stroke, dtype=np.float64) for stroke in form])
    k = 4 * (writer.waist - 0.5) + rng.normal(0, 0.08)
    k = float(np.clip(k, *WAIST_LIMITS.get(int(digit), (-1.0, 1.0))))
    offsets = _keep_loops(flat, _offsets(flat, writer, int(digit), rng), key, k)
    # the lean the offsets add to the first stroke (x moving with y: > 0 leans left)
    y = flat[: len(form[0]), 1] - flat[: len(form[0]), 1].mean()
    dx = offsets[: len(form[0]), 0] - offsets[: len(form[0]), 0].mean()
    drift = float(y @ dx) / float(y @ y)
    flat = flat + offsets
    sizes = [len(stroke) for stroke in form]
    if key in JOINED and rng.random() < _chance("join", hurry):
        (x0, x1), (y0, y1) = JOINED[key]
        flat[sizes[0] :] += (rng.uniform(x0, x1), rng.uniform(y0, y1))
    flat[:, 1] += k * flat[:, 1] * (1 - flat[:, 1])
    aspect = writer.aspect * np.exp(rng.normal(0, 0.05 + 0.05 * hurry))
    slant = writer.slant + rng.normal(0, 0.04 + 0.05 * hurry)
    angle = writer.rotation + rng.normal(0, 0.03 + 0.04 * hurry)
    lean = aspect * drift + angle  # what the offsets and the rotation add to the left
    slant = float(np.clip(slant, LEAN[0] + lean, LEAN[1] + lean))
    for _ in range(12):  # a loop too thin to see through is opened up
        M = _page(aspect, slant, angle, height)
        axis = _thin_loop((flat - 0.5) @ M.T, key)
        if axis is None:
            break
        if abs(axis[0]) > abs(axis[1]):  # lying: narrower
            aspect *= 0.95
        else:  # standing or leaning: wider and straighter
            aspect, slant = 1.05 * aspect, 0.85 * slant
    page = _legible((flat - 0.5) @ M.T, key, height)
    step = max(1.5, height / 20)  # pixels between samples along a curve
    curves = []
    for q in np.split(page, np.cumsum(sizes)[:-1]):
        length = np.linalg.norm(np.diff(q, axis=0), axis=1).sum()
        curves.append(trace(q, max(2, int(np.ceil(length / step)) + 1)))
    pen = writer.pen * height * np.exp(rng.normal(0, 0.05))
    curves = _slips(curves, key, height, pen, hurry, rng)
    margin = pen / 2 + 2
    everything = np.concatenate(curves)
    low, high = everything.min(axis=0), everything.max(axis=0)
    curves = [c - low + margin for c in curves]
    w, h = np.ceil(high - low + 2 * margin).astype(int) + 1
    pressure = [_pressure(len(c), rng) for c in curves]
    return render(curves, pen, (int(h), int(w)), pressure)


def _pressure(n: int, rng: np.random.Generator) -> np.ndarray:
    """Pen-width factors ``(n,)`` along a stroke: 1 + a sin(2 pi f u + phase), a <= 0.15."""
    u = np.linspace(0, 1, n)
    a, f, phase = rng.uniform(0, 0.15), rng.uniform(0.5, 1.5), rng.uniform(0, 2 * np.pi)
    return 1 + a * np.sin(2 * np.pi * f * u + phase)


# --------------------------------------------------------------------------- paper


def _as_ink(ink: np.ndarray) -> np.ndarray:
    """``ink`` cropped to its pixels above 0: float32 ``(h, w)``; ValueError otherwise."""
    ink = np.asarray(ink)
    if ink.ndim != 2 or not np.issubdtype(ink.dtype, np.floating):
        raise ValueError(
            f"ink: expected a 2-D float array (h, w) in [0, 1], got shape {ink.shape} "
            f"dtype {ink.dtype}"
        )
    if not (np.all(np.isfinite(ink)) and ink.min() >= 0 and ink.max() <= 1):
        raise ValueError("ink: expected values in [0, 1], found values outside")
    if not ink.max() > 0.1:
        raise ValueError(
            f"ink: expected a digit (some pixel above 0.1), found max {ink.max()}"
        )
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    return ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1].astype(np.float32)


def _place(ink: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """``ink`` (cropped) on a larger black canvas ``(H, W)`` float32, at a random place.

    The digit fills a fraction of the height drawn from :data:`SCAN_FILL`, narrowed so
    that the height H lies in :data:`SCAN_HEIGHT` when the digit allows it; the width is
    0.7..1.3 times the height, and at least the digit's width plus a margin. The digit
    keeps at least 4% of the height (2 pixels) from every edge.
    """
    dh, dw = ink.shape
    low = max(SCAN_FILL[0], dh / SCAN_HEIGHT[1])
    high = min(SCAN_FILL[1], dh / SCAN_HEIGHT[0])
    fill = rng.uniform(low, high) if low < high else float(np.clip(low, *SCAN_FILL))
    H = int(np.ceil(dh / fill))
    W = max(int(np.ceil(H * rng.uniform(0.7, 1.3))), dw + max(4, H - dh))
    m = min(max(2, int(0.04 * H)), (H - dh) // 2, (W - dw) // 2)  # smallest margin
    top = int(rng.integers(m, H - dh - m + 1))
    left = int(rng.integers(m, W - dw - m + 1))
    canvas = np.zeros((H, W), dtype=np.float32)
    canvas[top : top + dh, left : left + dw] = ink
    return canvas


def _blur(image: np.ndarray, sigma: float) -> np.ndarray:
    """A Gaussian blur of standard deviation ``sigma`` pixels along rows and columns.

    ``image`` ``(h, w, ...)``; the kernel exp(-x^2 / 2 sigma^2), normalised, reaches 3
    sigma; the edges are mirrored. Returns float32 of the same shape.
    """
    if sigma <= 0:
        return image.astype(np.float32)
    radius = max(1, int(np.ceil(3 * sigma)))
    x = np.arange(-radius, radius + 1)
    kernel = np.exp(-0.5 * (x / sigma) ** 2)
    kernel = (kernel / kernel.sum()).astype(np.float32)
    out = image.astype(np.float32)
    for axis in (0, 1):
        rows = np.moveaxis(out, axis, 0)  # blur along the first axis of `rows`
        n = len(rows)
        if radius < n:  # mirrored edges (as np.pad's "symmetric"), without its cost
            padded = np.concatenate(
                [rows[radius - 1 :: -1], rows, rows[: n - radius - 1 : -1]]
            )
        else:
            pad = [(radius, radius)] + [(0, 0)] * (rows.ndim - 1)
            padded = np.pad(rows, pad, mode="symmetric")
        total = kernel[0] * padded[:n]
        scratch = np.empty_like(total)
        for k in range(1, len(kernel)):
            np.multiply(padded[k : k + n], kernel[k], out=scratch)
            total += scratch
        out = np.moveaxis(total, 0, axis)
    return np.ascontiguousarray(out)


def _to_uint8(image: np.ndarray) -> np.ndarray:
    """Values in [0, 1] (clipped) as ``uint8`` 0..255."""
    return (np.clip(image, 0, 1, out=image) * 255 + 0.5).astype(np.uint8)


def scan(ink: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A flat-bed scan of ``ink`` ``(h, w)``: ``(H, W)`` ``uint8``, dark ink on white paper.

    The digit is placed at a random place (it fills 35..85% of the height, the image is
    40..200 pixels tall when the digit's size allows, :data:`SCAN_FILL`,
    :data:`SCAN_HEIGHT`) and lightly blurred (sigma 0.2..0.6 px, the scanner's optics);
    paper of brightness 0.88..0.98 with a faint grain (sigma 0.003..0.012), ink of
    brightness 0.04..0.3 (black to grey pens).
    """
    cover = _blur(_place(_as_ink(ink), rng), rng.uniform(0.2, 0.6))
    paper, tone = rng.uniform(0.88, 0.98), rng.uniform(0.04, 0.3)
    spread = np.float32(rng.uniform(0.003, 0.012))
    grain = _blur(spread * rng.standard_normal(cover.shape, dtype=np.float32), 0.6)
    return _to_uint8(np.float32(paper) + np.float32(tone - paper) * cover + grain)


#: Pen colours of a photo, RGB in [0, 1] before the light falls on them.
PENS = (
    (0.07, 0.07, 0.08),  # black
    (0.12, 0.12, 0.16),  # black ballpoint
    (0.08, 0.12, 0.32),  # dark blue
    (0.13, 0.2, 0.5),  # blue ballpoint
)


def _illumination(shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """A smooth light field ``(H, W)`` float32: 1 where brightest, 1 - s where darkest.

    Its shape: a linear gradient across the page in a random direction, times a radial
    fall-off around a random centre, and with probability 0.3 a soft shadow (a blurred
    edge across the page). Its strength s, drawn from 0.05..0.45, is set afterwards: the
    light spans +-2.5% to +-30% about its middle.
    """
    H, W = shape
    y = np.linspace(-1, 1, H, dtype=np.float32)[:, None]
    x = np.linspace(-1, 1, W, dtype=np.float32)[None, :]
    theta = rng.uniform(0, 2 * np.pi)
    gradient = np.float32(rng.uniform(0, 0.5))
    field = np.float32(np.cos(theta)) * gradient * x + (
        np.float32(1) + np.float32(np.sin(theta)) * gradient * y
    )
    cx, cy = rng.uniform(-0.7, 0.7, 2)
    fall = np.float32(rng.uniform(0, 1))
    field *= np.exp(-fall * (x - np.float32(cx)) ** 2)  # the fall-off is separable
    field *= np.exp(-fall * (y - np.float32(cy)) ** 2)
    if rng.random() < 0.3:
        phi, offset = rng.uniform(0, 2 * np.pi), rng.uniform(-0.8, 0.8)
        side = np.float32(np.cos(phi) / 0.15) * x + np.float32(
            (np.sin(phi) * y - offset) / 0.15
        )
        field *= 1 - np.float32(rng.uniform(0.3, 0.7)) / (1 + np.exp(-side))
    low, high = field.min(), field.max()
    strength = np.float32(rng.uniform(0.05, 0.45))
    if not high > low:
        return np.ones(shape, dtype=np.float32)
    # 1 - s (1 - (field - low) / (high - low)) = a field + b
    scale = strength / (high - low)
    return (field * scale + (1 - strength - low * scale)).astype(np.float32)


def photograph(ink: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A phone photo of ``ink`` ``(h, w)``: ``(H, W, 3)`` ``uint8`` RGB.

    The digit is framed as by :func:`scan`, on warm paper (brightness 0.72..0.95,
    R > G > B) in a pen of :data:`PENS` (opacity 0.85..1), under uneven light
    (:func:`_illumination`), with lens blur (sigma 0.5..1.5 px of the photo) and camera
    noise (sigma 0.01..0.04, in brightness: the same in the three channels, as phones
    suppress colour noise); the picture is then enlarged 1.5..2.5 times
    (:data:`PHOTO_SCALE`, bilinear) and JPEG-compressed (quality 50..90), encoded and
    decoded in memory by Pillow. Enlarged with the picture, the noise has a grain of
    1.5..2.5 pixels, as a phone's demosaicing and noise reduction leave it; and every
    step but the last two costs what it costs for a scan.
    """
    scale, sigma = rng.uniform(*PHOTO_SCALE), rng.uniform(0.5, 1.5)
    cover = _blur(_place(_as_ink(ink), rng), sigma / scale)
    red = rng.uniform(0.72, 0.95)
    green = red * rng.uniform(0.92, 0.985)
    paper = (red, green, green * rng.uniform(0.82, 0.95))
    pen = PENS[rng.integers(len(PENS))]
    opacity = rng.uniform(0.85, 1.0)
    light = _illumination(cover.shape, rng)
    noise = rng.standard_normal(cover.shape, dtype=np.float32)
    noise *= np.float32(255 * rng.uniform(0.01, 0.04))
    noise += np.float32(0.5)  # then truncating rounds to the nearest level
    shade = light * cover  # the light on the ink
    colour = np.empty((*cover.shape, 3), dtype=np.uint8)
    channel, scratch = np.empty_like(light), np.empty_like(light)
    for c, (p, q) in enumerate(zip(paper, pen, strict=True)):
        # 255 (light (paper + (pen - paper) opacity cover) + noise): the paper where
        # there is no ink, the pen where there is, in the light
        np.multiply(light, np.float32(255 * p), out=channel)
        np.multiply(shade, np.float32(255 * (q - p) * opacity), out=scratch)
        channel += scratch
        channel += noise
        np.clip(channel, 0, 255, out=colour[..., c], casting="unsafe")
    H, W = cover.shape
    size = (max(1, round(W * scale)), max(1, round(H * scale)))
    picture = Image.fromarray(colour).resize(size, Image.Resampling.BILINEAR)
    buffer = io.BytesIO()
    picture.save(buffer, format="JPEG", quality=int(rng.integers(50, 91)))
    buffer.seek(0)
    with Image.open(buffer) as decoded:
        if decoded.mode != "RGB":
            decoded = decoded.convert("RGB")
        return np.array(decoded)


# --------------------------------------------------------------------------- a set


@dataclass(frozen=True)
class WriterSet:
    """An evaluation set: image i is ``scans[i]`` and ``photos[i]`` of the same digit.

    ``scans`` ``(H_i, W_i)`` ``uint8``, ``photos`` ``(H_i', W_i', 3)`` ``uint8``,
    ``labels`` ``(n,)`` int64 the digits, ``writers`` ``(n,)`` int64 who wrote each one,
    ``neatness`` ``(n,)`` float64 that writer's :attr:`Writer.neatness` (report neat
    writers, >= 0.5, and hurried ones, < 0.5, apart).
    """

    scans: list[np.ndarray]
    photos: list[np.ndarray]
    labels: np.ndarray
    writers: np.ndarray
    neatness: np.ndarray


def writer_set(n_writers: int, seed: int, per_digit: int = 2) -> WriterSet:
    """``n_writers`` people, each writing every digit ``per_digit`` times, scanned and
    photographed: ``10 * per_digit * n_writers`` images, writer by writer, digit by digit.

    Writer i draws everything from its own generator, child i of
    ``np.random.SeedSequence(seed)``, so writer i (the person and, for a given
    ``per_digit``, every image) is the same whatever ``n_writers``. Each instance is
    written 16..128 pixels tall (log-uniform, :data:`WRITE_HEIGHT`); the scan frames it
    as it is, the photo enlarges it. The writers' neatness is uniform in 0..1, so about
    half of them are hurried (``neatness`` < 0.5). Use disjoint seeds for a dev set and
    a test set.
    """
    if not (_is_integer(n_writers) and n_writers >= 1):
        raise ValueError(f"n_writers: expected an integer >= 1, got {n_writers!r}")
    if not (_is_integer(per_digit) and per_digit >= 1):
        raise ValueError(f"per_digit: expected an integer >= 1, got {per_digit!r}")
    if not (_is_integer(seed) and seed >= 0):
        raise ValueError(f"seed: expected an integer >= 0, got {seed!r}")
    scans, photos, labels, writers, neatness = [], [], [], [], []
    for i, child in enumerate(np.random.SeedSequence(seed).spawn(n_writers)):
        rng = np.random.default_rng(child)
        writer = random_writer(rng)
        for digit in range(10):
            for _ in range(per_digit):
                height = round(float(np.exp(rng.uniform(*np.log(WRITE_HEIGHT)))))
                ink = write_digit(digit, writer, rng, height)
                scans.append(scan(ink, rng))
                photos.append(photograph(ink, rng))
                labels.append(digit)
                writers.append(i)
                neatness.append(writer.neatness)
    return WriterSet(
        scans,
        photos,
        np.array(labels, dtype=np.int64),
        np.array(writers, dtype=np.int64),
        np.array(neatness, dtype=np.float64),
    )


def drawn_digits() -> list[Path]:
    """The ten digits drawn on the book's canvas, ``digit-0.png`` ... ``digit-9.png``.

    Shipped with the package (``nnmath/drawn/``, see its README): 280 x 280 RGBA, white
    ink on black; file d shows the digit d.
    """
    folder = Path(str(resources.files("nnmath").joinpath("drawn")))
    return [folder / f"digit-{d}.png" for d in range(10)]

"""Prepare any image of a digit the way MNIST's digits were prepared.

MNIST's digits are white ink on black, their grey levels the result of anti-aliasing,
each scaled to fit a 20 x 20 box with its aspect ratio kept, then placed in a 28 x 28
frame so that its centre of mass lies at the centre of the frame (row 14, column 14,
counted from 0). A photo or a drawing is brought to the same form in small steps, each a
function of its own returning ``float32`` arrays:

``to_grey`` -> ``shrink`` -> ``to_ink`` -> ``remove_background`` (the paper's uneven
light, estimated locally) -> ``otsu_threshold`` (the ink threshold, chosen from the image)
-> ``keep_digit`` (the digit's connected pieces, without specks) -> ``crop_to_ink`` ->
``fit_box`` -> ``centre_in_frame``; :func:`prepare_digit` chains them into one column of
784 pixels and :func:`prepare_steps` returns every intermediate array by name (for a
figure).

Arrays are images ``(h, w)`` (rows down, columns right), with colour images
``(h, w, channels)``. Pillow decodes files and resizes.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PIL import Image

from nnmath.components import bounding_boxes, connected_components
from nnmath.data import SIDE

__all__ = [
    "BOX",
    "CROP_INK",
    "MAX_PIXELS",
    "ImageError",
    "centre_in_frame",
    "centre_of_mass",
    "crop_to_ink",
    "fit_box",
    "frame_steps",
    "ink_is_dark",
    "ink_to_digit",
    "keep_digit",
    "otsu_threshold",
    "prepare_digit",
    "prepare_steps",
    "read_image",
    "remove_background",
    "shrink",
    "stretch_ink",
    "to_grey",
    "to_ink",
    "window_max",
    "window_min",
]

BOX = 20  # MNIST: the digit fits a 20 x 20 box, placed in a SIDE x SIDE = 28 x 28 frame
#: The faintest ink (in [0, 1]) kept inside a digit's crop: low, so that the faint,
#: anti-aliased edges of the strokes stay in the box.
CROP_INK = 0.1
#: The largest image read, in pixels (a 50-megapixel photograph); larger files are refused
#: before they are decoded.
MAX_PIXELS = 50_000_000
#: Images are first shrunk so that their longer side is at most this many pixels: the
#: digit ends up 20 pixels tall, and the filters below then cost the same for any photo.
WORK_SIDE = 1000
#: The window of :func:`remove_background`, as a fraction of the image's shorter side:
#: wider than any pen stroke, so the strokes vanish from the estimate of the paper.
#: Chosen on the dev writers' photos (chapter 14's exercise): of 0.02, 0.05, 0.1, 0.25
#: and 0.5, the widest of the best.
BACKGROUND_WINDOW = 0.25
#: :func:`keep_digit` keeps the pieces of ink at least this fraction of the largest one...
PIECE_FRACTION = 0.05
#: ... and refuses a largest piece whose longer side is under this fraction of the image's
#: shorter side (no digit-sized piece), or ink over more than MAX_INK of the image.
DIGIT_FRACTION = 0.1
MAX_INK = 0.5
LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)  # ITU-R 601, as Pillow's "L"


class ImageError(ValueError):
    """An image cannot be read or holds no digit; the message says what was found."""


# --------------------------------------------------------------------------- reading


def read_image(path: str | os.PathLike[str]) -> np.ndarray:
    """Decode the image file at ``path`` into an array: ``(h, w)`` or ``(h, w, channels)``.

    Grey (``L``), grey with alpha (``LA``), ``RGB`` and ``RGBA`` are kept as stored
    (``uint8``); a palette becomes ``RGBA``, 16-bit grey stays ``uint16``, anything else
    becomes ``RGB``. Raises :class:`ImageError` for a missing file, a file that is not an
    image (or is truncated), an image of more than :data:`MAX_PIXELS` pixels and an image
    that is all one colour.
    """
    path = Path(path)
    if not path.is_file():
        found = "a folder" if path.is_dir() else "no such file"
        raise ImageError(f"{path}: expected an image file, found {found}")
    try:
        with Image.open(path) as image:
            if image.width * image.height > MAX_PIXELS:
                raise ImageError(
                    f"{path}: expected an image of at most {MAX_PIXELS / 1e6:g} "
                    f"megapixels, found {image.width} x {image.height} "
                    f"({image.width * image.height / 1e6:.1f} megapixels)"
                )
            image.load()
            array = np.asarray(_standard_mode(image))
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as err:
        if isinstance(err, ImageError):
            raise
        raise ImageError(
            f"{path}: expected an image (PNG, JPEG, ...), found a file Pillow cannot "
            f"decode ({err})"
        ) from err
    if array.size == 0 or np.all(array == array.flat[0]):
        raise ImageError(
            f"{path}: expected a digit, found an empty image (all one colour, "
            f"{array.shape[1] if array.ndim > 1 else 0} x {array.shape[0]} pixels)"
        )
    return array


def _standard_mode(image: Image.Image) -> Image.Image:
    """``image`` in a mode :func:`to_grey` reads: L, LA, RGB, RGBA or 16-bit grey."""
    if image.mode in ("L", "LA", "RGB", "RGBA", "I;16"):
        return image
    if image.mode in ("1", "I", "F"):
        return image.convert("L")
    if image.mode in ("P", "PA"):
        return image.convert("RGBA")
    return image.convert("RGB")


# --------------------------------------------------------------------------- grey, ink


def _unit_range(image: np.ndarray) -> np.ndarray:
    """Pixel values as float32 in [0, 1]: integers divided by their type's maximum."""
    if image.dtype == bool:
        return image.astype(np.float32)
    if np.issubdtype(image.dtype, np.integer):
        return image.astype(np.float32) / np.float32(np.iinfo(image.dtype).max)
    if np.issubdtype(image.dtype, np.floating):
        values = image.astype(np.float32)
        if not np.all(np.isfinite(values)):
            raise ImageError(
                "image: expected float pixel values in [0, 1], found NaN/inf"
            )
        if values.min() < 0 or values.max() > 1:
            raise ImageError(
                "image: expected float pixel values in [0, 1], found values in "
                f"{values.min()}..{values.max()}"
            )
        return values
    raise ImageError(f"image: expected numeric pixel values, found dtype {image.dtype}")


def to_grey(image: np.ndarray) -> np.ndarray:
    """A 2-D grey image ``(h, w)`` float32 in [0, 1] (0 black, 1 white).

    ``image`` is ``(h, w)`` (grey) or ``(h, w, c)`` with c = 1 (grey), 2 (grey, alpha),
    3 (RGB) or 4 (RGBA); integers are divided by their type's maximum (255 for ``uint8``),
    floats must already lie in [0, 1]. Colour becomes grey as 0.299 R + 0.587 G + 0.114 B;
    transparency is composited on white paper: grey a + 1 (1 - a).
    """
    image = np.asarray(image)
    channels = image.shape[2] if image.ndim == 3 else 0
    if image.ndim not in (2, 3) or channels > 4 or min(image.shape[:2], default=0) < 1:
        raise ImageError(
            "image: expected (h, w) or (h, w, c) with c in 1..4 and h, w >= 1, "
            f"found shape {image.shape}"
        )
    values = _unit_range(image)
    if image.ndim == 2:
        return values
    colour = values[..., : 3 if channels >= 3 else 1]
    grey = colour @ LUMA if channels >= 3 else colour[..., 0]
    if channels in (2, 4):
        alpha = values[..., -1]
        grey = grey * alpha + (1 - alpha)
    return np.ascontiguousarray(grey, dtype=np.float32)


def _border(image: np.ndarray) -> np.ndarray:
    """The pixels on the four edges of a 2-D ``image``, as a vector."""
    return np.concatenate([image[0], image[-1], image[:, 0], image[:, -1]])


def ink_is_dark(grey: np.ndarray) -> bool:
    """Whether the digit is dark on light paper, judged from a 2-D grey image ``(h, w)``.

    The background is the median of the border pixels; the ink is what lies farthest
    from it. The ink is dark when the darkest pixel is farther below the background than
    the brightest is above it (on a tie: when the background is light, median > 0.5).
    """
    grey = _as_2d(grey, "grey")
    background = float(np.median(_border(grey)))
    below, above = background - float(grey.min()), float(grey.max()) - background
    if below == above:
        return background > 0.5
    return below > above


def to_ink(grey: np.ndarray) -> np.ndarray:
    """Ink as MNIST has it, bright on black: ``1 - grey`` if :func:`ink_is_dark`, else grey.

    ``grey`` is ``(h, w)`` in [0, 1]; returns a float32 array of the same shape.
    """
    grey = _as_2d(grey, "grey")
    return (1 - grey) if ink_is_dark(grey) else grey.copy()


def shrink(grey: np.ndarray, side: int = WORK_SIDE) -> np.ndarray:
    """``grey`` ``(h, w)`` scaled down (Lanczos) so its longer side is at most ``side``.

    An image already small enough is returned as it is (float32).
    """
    grey = _as_2d(grey, "grey")
    h, w = grey.shape
    if max(h, w) <= side:
        return grey
    scale = side / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    resized = Image.fromarray(grey).resize(size, Image.Resampling.LANCZOS)
    return np.clip(np.asarray(resized, dtype=np.float32), 0, 1)


def window_max(a: np.ndarray, k: int, axis: int, edge: str = "nearest") -> np.ndarray:
    """The largest value of ``a`` within k positions centred on each one, along ``axis``.

    ``k`` is odd; beyond the ends, ``a`` continues with its end values (``edge=
    "nearest"``) or with zeros (``"zeros"``). Blocks of k (van Herk, 1992; Gil and
    Werman, 1993): within each block, the running maximum from its left, g, and from
    its right, h; a window starting at i ends at i + k - 1 and spans at most two blocks,
    so its maximum is max(h[i], g[i + k - 1]): three comparisons per value, whatever k.
    Returns an array of ``a``'s shape and dtype.
    """
    if k % 2 != 1 or k < 1:
        raise ValueError(f"k: expected an odd window of at least 1, got {k}")
    a = np.moveaxis(np.asarray(a), axis, -1)
    n, r = a.shape[-1], k // 2
    blocks = -(-(n + 2 * r) // k)  # ceil((n + 2r) / k)
    extra = blocks * k - (n + 2 * r)
    widths = [(0, 0)] * (a.ndim - 1) + [(r, r + extra)]
    padded = np.pad(a, widths, mode="edge" if edge == "nearest" else "constant")
    x = padded.reshape(*a.shape[:-1], blocks, k)
    g = np.maximum.accumulate(x, axis=-1).reshape(padded.shape)
    h = np.maximum.accumulate(x[..., ::-1], axis=-1)[..., ::-1].reshape(padded.shape)
    out = np.maximum(h[..., :n], g[..., k - 1 : k - 1 + n])
    return np.moveaxis(out, -1, axis)


def window_min(a: np.ndarray, k: int, axis: int) -> np.ndarray:
    """The smallest value within k positions centred on each, ends continued: -max(-a)."""
    return -window_max(-np.asarray(a), k, axis)


def remove_background(ink: np.ndarray, window: float = BACKGROUND_WINDOW) -> np.ndarray:
    """The ink on even paper: (ink - B) / (1 - B), then the strongest ink made 1.

    ``ink`` ``(h, w)`` is bright ink on dark paper (:func:`to_ink`). The paper's level B
    is the grey *opening* of ``ink``: the minimum over a k x k window, then the maximum
    of that over the same window, k = ``window`` times the shorter side, rounded to an
    odd number of pixels (at least 3) so that the window is centred. A stroke narrower
    than k vanishes from B while light that changes slowly across the page stays in it.
    Where the light is dimmer, the paper is darker and the
    ink's contrast smaller, both by the light's factor 1 - B: dividing by it evens both.
    The result is clipped at 0 and divided by its maximum (float32 ``(h, w)``); an image
    with no ink above its paper becomes all zeros.

    Implements: eq-background
    """
    ink = _as_2d(ink, "ink")
    k = 2 * max(1, round(window * min(ink.shape) / 2)) + 1  # odd: centred on the pixel
    darkest = window_min(window_min(ink, k, axis=0), k, axis=1)
    paper = window_max(window_max(darkest, k, axis=0), k, axis=1)
    lifted = np.clip((ink - paper) / np.maximum(1 - paper, 1e-3), 0, None)
    peak = lifted.max()
    return lifted / peak if peak > 0 else lifted


def otsu_threshold(ink: np.ndarray, bins: int = 256) -> float:
    """Otsu's threshold of ``ink`` ``(h, w)`` in [0, 1]: the t that best splits paper from ink.

    The values are counted in ``bins`` equal bins of [0, 1]; for a threshold after bin
    j, omega_0 and omega_1 are the fractions of pixels at or below and above it and mu_0,
    mu_1 their means. The threshold maximises the between-class variance
    omega_0 omega_1 (mu_0 - mu_1)^2; returned as the upper edge of the best bin j.

    Implements: eq-otsu
    """
    ink = _as_2d(ink, "ink")
    counts, _ = np.histogram(ink, bins=bins, range=(0.0, 1.0))
    p = counts / counts.sum()
    centres = (np.arange(bins) + 0.5) / bins
    omega0 = np.cumsum(p)[:-1]  # threshold after bin j = 0 .. bins - 2
    omega1 = 1 - omega0
    mass = np.cumsum(p * centres)  # running sums, in order: the last is the mean
    mass0, mu_all = mass[:-1], mass[-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        mu0 = mass0 / omega0
        mu1 = (mu_all - mass0) / omega1
        between = omega0 * omega1 * (mu0 - mu1) ** 2
    between = np.where((omega0 > 0) & (omega1 > 0), between, -1.0)
    return float((np.argmax(between) + 1) / bins)


def keep_digit(ink: np.ndarray, threshold: float | None = None) -> np.ndarray:
    """``ink`` ``(h, w)`` with everything but the digit's own pieces set to 0 (float32).

    The pixels above ``threshold`` (default: :func:`otsu_threshold`) are split into
    8-connected pieces (:func:`nnmath.components.connected_components`, which chapter
    15 derives). The
    largest piece is the digit; other pieces are kept when they have at least
    :data:`PIECE_FRACTION` of its pixels and lie within half its size of its box (a
    digit drawn in two strokes), so specks of noise or dirt go. Kept: the pixels within
    1 + (shorter side) / 56 pixels of a kept piece (the digit's soft edges), their ink
    rescaled so that the paper's median (below the threshold) becomes 0 and the 90th
    percentile of the kept pieces 1, clipped to [0, 1]: a stroke's core is full ink, as
    in MNIST, however faint the pen or the light. Raises :class:`ImageError` for an
    image with ink over more than :data:`MAX_INK` of its area, or with no piece whose
    longer side reaches :data:`DIGIT_FRACTION` of the image's shorter side.
    """
    ink = _as_2d(ink, "ink")
    t = otsu_threshold(ink) if threshold is None else threshold
    strong = ink > t
    fraction = float(strong.mean())
    if fraction > MAX_INK:
        raise ImageError(
            f"ink: expected a digit on paper, found ink over {100 * fraction:.0f}% of "
            f"the image (at most {100 * MAX_INK:.0f}%)"
        )
    labels, n = connected_components(ink, t)
    if n == 0:
        raise ImageError(
            f"ink: expected a digit, found no pixel above {t:.2f} in a "
            f"{ink.shape[1]} x {ink.shape[0]} image (empty)"
        )
    tops, bottoms, lefts, rights, areas = bounding_boxes(labels, n)
    main = int(np.argmax(areas))
    height, width = bottoms[main] - tops[main], rights[main] - lefts[main]
    least = max(4.0, DIGIT_FRACTION * min(ink.shape))
    if max(height, width) < least:
        raise ImageError(
            f"ink: expected a digit at least {least:.0f} pixels tall or wide, found "
            f"pieces of ink up to {width} x {height} pixels in a {ink.shape[1]} x "
            f"{ink.shape[0]} image (no digit-sized piece)"
        )
    near = (
        (bottoms > tops[main] - height / 2)
        & (tops < bottoms[main] + height / 2)
        & (rights > lefts[main] - width / 2)
        & (lefts < rights[main] + width / 2)
    )
    keep = np.concatenate([[False], near & (areas >= PIECE_FRACTION * areas[main])])
    kept = keep[labels]
    k = 2 * (1 + min(ink.shape) // 56) + 1
    region = window_max(window_max(kept, k, axis=0, edge="zeros"), k, 1, "zeros")
    return np.where(region, stretch_ink(ink, ~strong, kept), 0).astype(np.float32)


def stretch_ink(ink: np.ndarray, paper: np.ndarray, strokes: np.ndarray) -> np.ndarray:
    """``ink`` ``(h, w)`` rescaled: the paper's median 0, the strokes' 90th percentile 1.

    ``paper`` and ``strokes`` are masks ``(h, w)`` of the pixels of each; the result is
    clipped to [0, 1] (float32), so that a stroke's core is full ink as in MNIST,
    however faint the pen or the light, and the paper's noise mostly 0.
    """
    low = np.median(ink[paper]) if paper.any() else np.float32(0)
    level = np.percentile(ink[strokes], 90) if strokes.any() else np.float32(1)
    return np.clip((ink - low) / max(level - low, 1e-3), 0, 1)


def _as_2d(image: np.ndarray, name: str) -> np.ndarray:
    """``image`` as a non-empty 2-D float32 array; :class:`ImageError` otherwise."""
    image = np.asarray(image)
    if image.ndim != 2 or image.size == 0:
        raise ImageError(
            f"{name}: expected a 2-D array (h, w), found shape {image.shape}"
        )
    return image.astype(np.float32, copy=False)


# --------------------------------------------------------------------------- geometry


def crop_to_ink(ink: np.ndarray, threshold: float = CROP_INK) -> np.ndarray:
    """The smallest rectangle of ``ink`` ``(h, w)`` holding every pixel above ``threshold``.

    Returns a float32 copy ``(h', w')``; raises :class:`ImageError` when no pixel is
    above the threshold (an empty image).
    """
    ink = _as_2d(ink, "ink")
    mask = ink > threshold
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if rows.size == 0:
        raise ImageError(
            f"ink: expected a digit, found no pixel above {threshold} in a "
            f"{ink.shape[1]} x {ink.shape[0]} image (empty)"
        )
    return ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1].copy()


def fit_box(ink: np.ndarray, size: int = BOX) -> np.ndarray:
    """Scale ``ink`` ``(h, w)`` so its longer side is ``size`` pixels, keeping the aspect.

    The shorter side becomes ``round(size * short / long)`` (at least 1). Resampled with
    Pillow's Lanczos filter, which averages over the source area when shrinking (anti-
    aliasing, as MNIST's grey levels came from) and interpolates smoothly when growing;
    the result is clipped to [0, 1], float32 ``(size, w')`` or ``(h', size)``.
    """
    ink = _as_2d(ink, "ink")
    h, w = ink.shape
    scale = size / max(h, w)
    new_h, new_w = max(1, round(h * scale)), max(1, round(w * scale))
    resized = Image.fromarray(ink).resize((new_w, new_h), Image.Resampling.LANCZOS)
    return np.clip(np.asarray(resized, dtype=np.float32), 0, 1)


def centre_of_mass(ink: np.ndarray) -> tuple[float, float]:
    """``(row, col)`` of the centre of mass of ``ink`` ``(h, w)``, weights = ink values.

    Rows and columns are counted from 0 at the top-left pixel's centre. Raises
    :class:`ImageError` when the ink has no mass.
    """
    ink = _as_2d(ink, "ink").astype(np.float64)
    mass = ink.sum()
    if not mass > 0:
        raise ImageError(
            "ink: expected some ink to take the centre of mass of, found none"
        )
    row = float(ink.sum(axis=1) @ np.arange(ink.shape[0]) / mass)
    col = float(ink.sum(axis=0) @ np.arange(ink.shape[1]) / mass)
    return row, col


def centre_in_frame(ink: np.ndarray, frame: int = SIDE) -> np.ndarray:
    """Place ``ink`` ``(h, w)`` in a ``(frame, frame)`` float32 frame, centre of mass at the centre.

    The centre of mass goes to (frame/2, frame/2), i.e. (14, 14) for MNIST, as nearly as
    a shift by whole pixels allows. Ink that would fall outside the frame is cut off.
    """
    ink = _as_2d(ink, "ink")
    row, col = centre_of_mass(ink)
    dy, dx = (int(np.floor(frame / 2 - c + 0.5)) for c in (row, col))
    out = np.zeros((frame, frame), dtype=np.float32)
    h, w = ink.shape
    top, left = max(dy, 0), max(dx, 0)
    bottom, right = min(dy + h, frame), min(dx + w, frame)
    if bottom > top and right > left:
        out[top:bottom, left:right] = ink[
            top - dy : bottom - dy, left - dx : right - dx
        ]
    return out


# --------------------------------------------------------------------------- the chain


def frame_steps(ink: np.ndarray, threshold: float = CROP_INK) -> dict[str, np.ndarray]:
    """From ink ``(h, w)`` (bright on black, background 0) to a 28 x 28 MNIST frame.

    Returns ``{"crop": crop_to_ink, "box": fit_box, "frame": centre_in_frame}``.
    """
    crop = crop_to_ink(ink, threshold)
    box = fit_box(crop)
    return {"crop": crop, "box": box, "frame": centre_in_frame(box)}


def ink_to_digit(ink: np.ndarray, threshold: float = CROP_INK) -> np.ndarray:
    """Ink ``(h, w)``, bright on black, as one MNIST column ``(784,)`` float32."""
    return frame_steps(ink, threshold)["frame"].reshape(-1)


def prepare_steps(image: np.ndarray) -> dict[str, np.ndarray]:
    """Every step from an image to an MNIST digit, by name, each a float32 array.

    ``grey`` ``(h, w)`` (:func:`to_grey` then :func:`shrink`), ``ink`` (:func:`to_ink`
    then :func:`remove_background`), ``digit_ink`` (:func:`keep_digit`), ``crop``,
    ``box`` and ``frame`` ``(28, 28)`` (:func:`frame_steps`) and ``digit`` ``(784,)``,
    the frame as one column.
    """
    grey = shrink(to_grey(image))
    ink = remove_background(to_ink(grey))
    digit_ink = keep_digit(ink)
    steps = {"grey": grey, "ink": ink, "digit_ink": digit_ink, **frame_steps(digit_ink)}
    steps["digit"] = steps["frame"].reshape(-1)
    return steps


def prepare_digit(image: np.ndarray) -> np.ndarray:
    """An image of one digit (any size, grey/RGB/RGBA, either polarity) as ``(784,)``.

    The column is what the network reads: stack k of them as ``(784, k)``.
    """
    return prepare_steps(image)["digit"]

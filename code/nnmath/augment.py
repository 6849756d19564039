"""Data augmentation: random shifts and small rotations of digit images, a batch at once.

Images come either as the book's columns, ``X`` ``(784, m)``, or as ``(m, 28, 28)``; every
function returns the layout it was given. Pixel (r, c) is row r (downwards) and column c
(rightwards), both counted from 0, so the centre of the 28 x 28 grid is o = 13.5.

Both transformations are written as *inverse maps*: for every pixel of the output image we
compute where it comes from in the input and read the input there (zero outside the
frame). Computing the output pixel by pixel from its source, rather than pushing input
pixels forward, leaves no holes and no pixel written twice.

:func:`augment_batch` is also a training transform: ``nnmath.train.fit(...,
transform=augment_batch)`` trains on a fresh random version of every image in every epoch
(``functools.partial(augment_batch, max_shift=1)`` for other limits).
"""

from __future__ import annotations

import numpy as np

from nnmath.data import PIXELS, SIDE

__all__ = ["augment_batch", "bilinear", "rotate", "rotate_block", "shift"]

CENTRE = (SIDE - 1) / 2  # 13.5: the centre of the grid, between pixels 13 and 14
PAD = 6  # zeros around each image while rotating: room for any source point
CHUNK = 256  # images transformed at once by augment_batch (small enough for the cache)


def _as_images(X: np.ndarray) -> tuple[np.ndarray, bool]:
    """``X`` as images ``(m, 28, 28)`` (a view when possible) and whether it was columns."""
    X = np.asarray(X)
    if X.ndim == 2 and X.shape[0] == PIXELS:
        return X.T.reshape(-1, SIDE, SIDE), True
    if X.ndim == 3 and X.shape[1:] == (SIDE, SIDE):
        return X, False
    if X.ndim == 2 and X.shape[1] == PIXELS:
        hint = " (one COLUMN per image: transpose it)"
    elif X.shape == (SIDE, SIDE):
        hint = " (a single image: pass image[None] or image.reshape(784, 1))"
    else:
        hint = ""
    raise ValueError(
        f"X: expected columns (784, m) or images (m, 28, 28), got {X.shape}{hint}"
    )


def _restore(images: np.ndarray, columns: bool) -> np.ndarray:
    """Images ``(m, 28, 28)`` back in the caller's layout."""
    return images.reshape(-1, PIXELS).T if columns else images


def _per_image(value: float | np.ndarray, m: int, name: str) -> np.ndarray:
    """A scalar or an ``(m,)`` array of per-image parameters, as an ``(m,)`` array."""
    value = np.asarray(value)
    if value.ndim == 0:
        value = np.full(m, value)
    if value.shape != (m,):
        raise ValueError(
            f"{name}: expected one number or one per image, shape ({m},), "
            f"got {value.shape}"
        )
    if not np.all(np.isfinite(value)):
        raise ValueError(f"{name}: expected finite values")
    return value


def shift(X: np.ndarray, dy: int | np.ndarray, dx: int | np.ndarray) -> np.ndarray:
    """Shift each image by whole pixels: S[r, c] = I[r - dy, c - dx], zero outside.

    ``X`` is ``(784, m)`` or ``(m, 28, 28)``; ``dy`` (down) and ``dx`` (right) are
    integers, one for all images or one per image ``(m,)``. Returns a new array in
    ``X``'s layout and dtype: the ink moves ``dy`` rows down and ``dx`` columns
    right, and what moves past the frame is lost.

    Implements: eq-shift
    """
    images, columns = _as_images(X)
    m = images.shape[0]
    dy, dx = _per_image(dy, m, "dy"), _per_image(dx, m, "dx")
    for name, d in (("dy", dy), ("dx", dx)):
        if not np.array_equal(d, np.round(d)):
            raise ValueError(f"{name}: expected whole-pixel shifts, got {d}")
    # A shift of 28 or more empties the frame; clipping keeps the padding small.
    dy = np.clip(dy, -SIDE, SIDE).astype(np.intp)
    dx = np.clip(dx, -SIDE, SIDE).astype(np.intp)
    # Surround each image with k rows and columns of zeros: I[r - dy, c - dx] is
    # then padded[r - dy + k, c - dx + k], inside the padded image for all r, c.
    k = int(max(np.abs(dy).max(initial=0), np.abs(dx).max(initial=0)))
    width = SIDE + 2 * k
    padded = np.zeros((m, width, width), images.dtype)
    padded[:, k : k + SIDE, k : k + SIDE] = images
    # Flat index of padded[n, r - dy + k, c - dx + k] for all n, r, c: (m, 28, 28).
    grid = np.arange(SIDE)
    corner = (np.arange(m) * width + k - dy) * width + k - dx  # (m,): S[n, 0, 0]
    idx = corner[:, None, None] + grid[:, None] * width + grid[None, :]
    return _restore(padded.reshape(-1).take(idx), columns)


def rotate(X: np.ndarray, angles: float | np.ndarray) -> np.ndarray:
    """Rotate each image about its centre by ``angles`` degrees (counter-clockwise).

    Output pixel (r, c) reads the input at the source point
    r_s = o + (r - o) cos t + (c - o) sin t,
    c_s = o - (r - o) sin t + (c - o) cos t    (o = 13.5),
    by bilinear interpolation between the four pixels around it, with zeros outside
    the frame. ``X`` is ``(784, m)`` or ``(m, 28, 28)`` of floats; ``angles`` is one
    number or one per image ``(m,)``. Returns a new array in ``X``'s layout and
    dtype.

    Implements: eq-rotation
    """
    images, columns = _as_images(X)
    if not np.issubdtype(images.dtype, np.floating):
        raise TypeError(
            f"X: expected floating-point pixels (see nnmath.data.scale_pixels), "
            f"got dtype {images.dtype}"
        )
    m = images.shape[0]
    theta = np.deg2rad(_per_image(angles, m, "angles")).astype(images.dtype)
    out = np.empty_like(images)
    for i in range(0, m, CHUNK):  # blocks small enough for the processor's cache
        block = slice(i, i + CHUNK)
        out[block] = rotate_block(images[block], theta[block])
    return _restore(out, columns)


def rotate_block(images: np.ndarray, theta: np.ndarray) -> np.ndarray:
    """The arithmetic of :func:`rotate`, for one block of images.

    ``images`` is ``(n, 28, 28)`` and ``theta`` the ``(n,)`` angles in radians.
    """
    n, dtype = images.shape[0], images.dtype
    cos, sin = np.cos(theta)[:, None, None], np.sin(theta)[:, None, None]
    offset = np.arange(SIDE, dtype=dtype) - dtype.type(CENTRE)
    dr, dc = offset[:, None], offset[None, :]  # r - o down the rows, c - o across
    # The corners are 13.5 sqrt(2) < 19.1 pixels from the centre, so every source
    # point lies within 6 pixels of the frame: surround each image with PAD = 6
    # rows and columns of zeros and work in the padded image's coordinates (>= 0).
    width = SIDE + 2 * PAD
    padded = np.zeros((n, width, width), dtype)
    padded[:, PAD : PAD + SIDE, PAD : PAD + SIDE] = images
    r_src = dtype.type(CENTRE + PAD) + dr * cos + dc * sin  # (n, 28, 28)
    c_src = dtype.type(CENTRE + PAD) - dr * sin + dc * cos
    return bilinear(padded, r_src, c_src)


def bilinear(padded: np.ndarray, r_src: np.ndarray, c_src: np.ndarray) -> np.ndarray:
    """Read each image of ``padded`` ``(n, W, W)`` at its own source points, bilinearly.

    ``r_src`` and ``c_src`` ``(n, h, w)`` are rows and columns in ``padded``'s
    coordinates, each at least 0 and below W - 1, so that all four neighbours exist.
    Returns ``(n, h, w)``: the last two lines of eq-rotation.
    """
    n, width = padded.shape[0], padded.shape[-1]
    r0, c0 = np.floor(r_src), np.floor(c_src)  # the top-left neighbour
    a, b = r_src - r0, c_src - c0  # how far below and right of it, in [0, 1)
    idx = (np.arange(n)[:, None, None] * width + r0.astype(np.intp)) * width
    idx += c0.astype(np.intp)  # flat index of padded[i, r0, c0], image i
    flat = padded.reshape(-1)
    top_left, top_right = flat.take(idx), flat.take(idx + 1)
    bottom_left, bottom_right = flat.take(idx + width), flat.take(idx + width + 1)
    top = top_left + b * (top_right - top_left)  # interpolate along the rows...
    bottom = bottom_left + b * (bottom_right - bottom_left)
    return top + a * (bottom - top)  # ...then between them


def augment_batch(
    X: np.ndarray,
    rng: np.random.Generator,
    max_shift: int = 2,
    max_angle: float = 10.0,
) -> np.ndarray:
    """A random rotation then a random shift of every image, drawn independently.

    Each image gets an angle uniform in [-max_angle, max_angle] degrees and shifts
    dy, dx uniform on the integers -max_shift..max_shift, all from ``rng``, so the
    same seed gives the same batch. ``X`` is ``(784, m)`` or ``(m, 28, 28)`` of
    floats; returns a new array in ``X``'s layout and dtype. Large batches are
    transformed :data:`CHUNK` images at a time.
    """
    images, columns = _as_images(X)
    if not (isinstance(max_shift, int | np.integer) and 0 <= max_shift < SIDE):
        raise ValueError(
            f"max_shift: expected whole pixels in 0..27, got {max_shift!r}"
        )
    if not (np.isfinite(max_angle) and 0 <= max_angle <= 180):
        raise ValueError(f"max_angle: expected degrees in [0, 180], got {max_angle!r}")
    m = images.shape[0]
    angles = rng.uniform(-max_angle, max_angle, m)
    dy, dx = rng.integers(-max_shift, max_shift, size=(2, m), endpoint=True)
    out = np.empty_like(images)
    for i in range(0, m, CHUNK):
        part = slice(i, i + CHUNK)
        out[part] = shift(rotate(images[part], angles[part]), dy[part], dx[part])
    return _restore(out, columns)

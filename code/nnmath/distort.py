"""Distortions that make MNIST's writers look like other people: a batch at once.

Other people's digits differ from MNIST's in slant, width and size, in the wobble of the
hand and in the pen. Training on MNIST digits changed in those ways, a fresh random change
for every image in every epoch, teaches a network to read them. Three changes, composed
into one inverse map (as in :mod:`nnmath.augment`, every output pixel reads the input at
its source point, bilinearly):

- an affine map about the centre o = 13.5: output pixel p reads the input at
  o + A (p - o), with A the inverse of rotation x slant x scale (:func:`affine_matrices`);
- an elastic field (Simard et al., 2003): each source point moves further by a random
  displacement, smooth over the image (:func:`elastic_field`);
- a thicker or thinner pen: the largest or smallest value over 2 x 2 neighbours
  (``scipy.ndimage`` grey dilation or erosion, :func:`pen`);

then a shift by whole pixels. :func:`distort_batch` is a training transform, like
:func:`nnmath.augment.augment_batch`. Images are ``(784, m)`` columns or ``(m, 28, 28)``,
and each function returns the layout it was given.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from nnmath.augment import CENTRE, CHUNK, PAD, _as_images, _restore, bilinear, shift
from nnmath.data import SIDE

__all__ = ["GENTLE", "affine_matrices", "distort_batch", "elastic_field", "pen", "warp"]

#: Smaller distortions than :func:`distort_batch`'s defaults, which Part V's convolutional
#: network trains with (chosen on the dev set): ``distort_batch(X, rng, **GENTLE)``.
GENTLE = {
    "max_angle": 10.0, "max_slant": 0.2, "scale": (0.9, 1.1), "aspect": (0.85, 1.15),
    "alpha": 4.0, "sigma": 3.0, "pens": (0.15, 0.7, 0.15), "max_shift": 2,
}


def affine_matrices(
    angle: np.ndarray, slant: np.ndarray, scale: np.ndarray, aspect: np.ndarray
) -> np.ndarray:
    """The inverse maps A ``(m, 2, 2)`` of rotation x slant x scale, one per image.

    The forward map of image i (acting on (row, column) offsets from the centre) is
    R(angle) H(slant) D(scale / sqrt(aspect), scale sqrt(aspect)): a horizontal shear
    that moves row r (down) by -slant r columns (a slant to the right for slant > 0),
    then a rotation counter-clockwise by ``angle`` degrees; ``aspect`` > 1 makes the
    digit wider. All arguments are ``(m,)``; A = forward^-1.

    Implements: eq-affine
    """
    t = np.deg2rad(angle)
    cos, sin = np.cos(t), np.sin(t)
    one, zero = np.ones_like(t), np.zeros_like(t)
    rotation = np.stack([np.stack([cos, -sin], -1), np.stack([sin, cos], -1)], -2)
    shear = np.stack([np.stack([one, zero], -1), np.stack([-slant, one], -1)], -2)
    root = np.sqrt(aspect)
    size = np.stack(
        [np.stack([scale / root, zero], -1), np.stack([zero, scale * root], -1)], -2
    )
    return np.linalg.inv(rotation @ shear @ size)


def elastic_field(
    m: int, rng: np.random.Generator, alpha: float, sigma: float
) -> np.ndarray:
    """Smooth random displacements ``(2, m, 28, 28)``: rows, then columns, in pixels.

    Each component is alpha G_sigma * U, with U uniform on [-1, 1] independently at
    every pixel and G_sigma a Gaussian filter of width ``sigma`` pixels over each image
    (``scipy.ndimage.gaussian_filter``; zero beyond the frame): neighbouring pixels
    move together, as a hand's wobble moves a stroke.

    Implements: eq-elastic
    """
    noise = rng.uniform(-1, 1, size=(2, m, SIDE, SIDE)).astype(np.float32)
    smooth = ndimage.gaussian_filter(noise, sigma=(0, 0, sigma, sigma), mode="constant")
    return np.float32(alpha) * smooth


def warp(images: np.ndarray, A: np.ndarray, field: np.ndarray) -> np.ndarray:
    """Images ``(n, 28, 28)`` read at o + A (p - o) + d(p): affine, then elastic.

    ``A`` is ``(n, 2, 2)`` and ``field`` ``(2, n, 28, 28)`` the displacements d.
    Source points are clipped to the zero border around each image, so points far
    outside the frame read 0.
    """
    n, dtype = images.shape[0], images.dtype
    offset = np.arange(SIDE, dtype=dtype) - dtype.type(CENTRE)
    dr, dc = offset[None, :, None], offset[None, None, :]
    A = A.astype(dtype)
    centre = dtype.type(CENTRE + PAD)
    r_src = centre + A[:, 0, 0, None, None] * dr + A[:, 0, 1, None, None] * dc
    c_src = centre + A[:, 1, 0, None, None] * dr + A[:, 1, 1, None, None] * dc
    width = SIDE + 2 * PAD
    limit = dtype.type(width - 1.001)
    r_src = np.clip(r_src + field[0], 0, limit)
    c_src = np.clip(c_src + field[1], 0, limit)
    padded = np.zeros((n, width, width), dtype)
    padded[:, PAD : PAD + SIDE, PAD : PAD + SIDE] = images
    return bilinear(padded, r_src, c_src)


def pen(images: np.ndarray, change: np.ndarray) -> np.ndarray:
    """A thicker (``change`` +1), thinner (-1) or the same (0) pen, per image ``(n,)``.

    Thicker: each pixel takes the largest value of its 2 x 2 neighbourhood (grey
    dilation); thinner: the smallest (grey erosion). ``images`` ``(n, 28, 28)``.
    """
    out = images.copy()
    for sign, operation in ((1, ndimage.grey_dilation), (-1, ndimage.grey_erosion)):
        chosen = change == sign
        if chosen.any():
            out[chosen] = operation(images[chosen], size=(1, 2, 2), mode="constant")
    return out


def distort_batch(
    X: np.ndarray,
    rng: np.random.Generator,
    *,
    max_angle: float = 12.0,
    max_slant: float = 0.3,
    scale: tuple[float, float] = (0.85, 1.1),
    aspect: tuple[float, float] = (0.75, 1.25),
    alpha: float = 8.0,
    sigma: float = 3.0,
    pens: tuple[float, float, float] = (0.25, 0.5, 0.25),
    max_shift: int = 2,
) -> np.ndarray:
    """A random distortion of every image: affine, elastic, pen, shift.

    Per image, from ``rng``: an angle uniform in +-``max_angle`` degrees, a slant in
    +-``max_slant``, a scale uniform in ``scale`` and an aspect log-uniform in
    ``aspect`` (:func:`affine_matrices`), an elastic field of strength ``alpha`` pixels
    and smoothness ``sigma`` (:func:`elastic_field`), a thinner, same or thicker pen with
    probabilities ``pens`` (:func:`pen`), and shifts of -max_shift..max_shift pixels.
    ``X`` is ``(784, m)`` or ``(m, 28, 28)`` of floats; returns a new array in ``X``'s
    layout and dtype, with pixels in [0, 1].
    """
    images, columns = _as_images(X)
    if not np.issubdtype(images.dtype, np.floating):
        raise TypeError(f"X: expected floating-point pixels, got dtype {images.dtype}")
    if not (0 <= max_angle <= 45 and 0 <= max_slant <= 1 and alpha >= 0 and sigma > 0):
        raise ValueError(
            "expected max_angle in [0, 45], max_slant in [0, 1], alpha >= 0 and "
            f"sigma > 0, got {max_angle}, {max_slant}, {alpha}, {sigma}"
        )
    if not (0 < scale[0] <= scale[1] and 0 < aspect[0] <= aspect[1]):
        raise ValueError(
            f"scale, aspect: expected ranges (low, high) of positive numbers, got "
            f"{scale} and {aspect}"
        )
    if len(pens) != 3 or min(pens) < 0 or not np.isclose(sum(pens), 1):
        raise ValueError(f"pens: expected 3 probabilities adding up to 1, got {pens}")
    m = images.shape[0]
    A = affine_matrices(
        rng.uniform(-max_angle, max_angle, m),
        rng.uniform(-max_slant, max_slant, m),
        rng.uniform(*scale, m),
        np.exp(rng.uniform(*np.log(aspect), m)),
    )
    change = rng.choice([-1, 0, 1], size=m, p=pens)
    dy, dx = rng.integers(-max_shift, max_shift, size=(2, m), endpoint=True)
    out = np.empty_like(images)
    for i in range(0, m, CHUNK):
        part = slice(i, i + CHUNK)
        field = elastic_field(len(images[part]), rng, alpha, sigma)
        warped = warp(images[part], A[part], field.astype(images.dtype))
        out[part] = shift(pen(warped, change[part]), dy[part], dx[part])
    np.clip(out, 0, 1, out=out)
    return _restore(out, columns)

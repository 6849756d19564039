"""Augmentation: exact shifts, rotations against np.rot90, layouts, seeds, errors.

Training with augmentation (fit(transform=augment_batch)) is tested in test_train.py.
"""

from __future__ import annotations

import numpy as np
import pytest
from nnmath.augment import augment_batch, rotate, shift


def _lit(r: int, c: int, m: int = 1) -> np.ndarray:
    """``m`` images ``(m, 28, 28)`` with the single pixel (r, c) lit."""
    images = np.zeros((m, 28, 28), np.float32)
    images[:, r, c] = 1
    return images


def _blob(m: int = 3, seed: int = 0) -> np.ndarray:
    """Smooth random blobs well inside the frame, like digits: ``(m, 28, 28)`` float64."""
    rng = np.random.default_rng(seed)
    r, c = np.mgrid[0:28, 0:28]
    centres = rng.uniform(11, 16, (m, 2, 3))
    images = sum(
        np.exp(
            -(
                (r - centres[:, 0, k, None, None]) ** 2
                + (c - centres[:, 1, k, None, None]) ** 2
            )
            / 8
        )
        for k in range(3)
    )
    return images / images.max()


# --------------------------------------------------------------------------- shift


@pytest.mark.equation("eq-shift")
def test_shift_moves_a_single_pixel_exactly():
    out = shift(_lit(5, 7), 2, -3)
    np.testing.assert_array_equal(np.argwhere(out[0]), [[7, 4]])
    assert out.sum() == 1


@pytest.mark.equation("eq-shift")
def test_shift_per_image_and_both_layouts():
    images = _lit(10, 10, m=3)
    dy, dx = np.array([0, 1, -2]), np.array([3, 0, -1])
    out = shift(images, dy, dx)
    for n in range(3):
        np.testing.assert_array_equal(np.argwhere(out[n]), [[10 + dy[n], 10 + dx[n]]])
    columns = images.reshape(3, 784).T
    out_columns = shift(columns, dy, dx)
    assert out_columns.shape == (784, 3)
    np.testing.assert_array_equal(out_columns, out.reshape(3, 784).T)


@pytest.mark.equation("eq-shift")
def test_shift_fills_with_zero_and_loses_what_leaves():
    images = np.random.default_rng(0).random((2, 28, 28))
    out = shift(images, 1, -2)
    np.testing.assert_array_equal(out[:, 1:, :-2], images[:, :-1, 2:])
    assert np.all(out[:, 0, :] == 0) and np.all(out[:, :, -2:] == 0)
    assert np.all(shift(images, 28, 0) == 0) and np.all(shift(images, 0, -40) == 0)
    np.testing.assert_array_equal(shift(images, 0, 0), images)


def test_shift_keeps_the_dtype():
    images = np.arange(2 * 784, dtype=np.uint8).reshape(2, 28, 28)
    assert shift(images, 1, 1).dtype == np.uint8
    assert shift(images.astype(np.float32), 1, 1).dtype == np.float32


# --------------------------------------------------------------------------- rotate


@pytest.mark.equation("eq-rotation")
def test_rotation_by_zero_is_the_identity():
    images = np.random.default_rng(1).random((4, 28, 28)).astype(np.float32)
    np.testing.assert_array_equal(rotate(images, 0.0), images)


@pytest.mark.equation("eq-rotation")
@pytest.mark.parametrize(("angle", "k"), [(90, 1), (180, 2), (-90, -1), (270, 3)])
def test_rotation_by_right_angles_matches_rot90(angle, k):
    # The grid is symmetric about its centre 13.5, so a quarter turn maps pixel centres
    # onto pixel centres and the interpolation reads single pixels.
    images = np.random.default_rng(2).random((3, 28, 28))
    expected = np.rot90(images, k, axes=(1, 2))
    np.testing.assert_allclose(rotate(images, angle), expected, atol=1e-12)
    out32 = rotate(images.astype(np.float32), angle)
    assert out32.dtype == np.float32
    np.testing.assert_allclose(out32, expected, atol=1e-5)


@pytest.mark.equation("eq-rotation")
def test_rotation_is_counter_clockwise_about_the_centre():
    # A pixel right of the centre goes to above it under a quarter turn to the left.
    out = rotate(_lit(13, 20), 90.0)
    np.testing.assert_array_equal(np.argwhere(np.abs(out[0]) > 1e-9), [[7, 13]])


@pytest.mark.equation("eq-rotation")
def test_rotation_preserves_ink_and_inverts():
    images = _blob()
    angles = np.array([-10.0, 7.5, 30.0])
    out = rotate(images, angles)
    np.testing.assert_allclose(out.sum(axis=(1, 2)), images.sum(axis=(1, 2)), rtol=0.01)
    back = rotate(out, -angles)  # bilinear smoothing (twice) is the only loss
    assert np.abs(back - images).max() < 0.1
    assert np.abs(back - images).mean() < 0.005


@pytest.mark.equation("eq-rotation")
def test_rotation_interpolates_bilinearly_by_hand():
    # 45 degrees: output pixel (13, 13) reads the source point
    # (13.5 - 0.5 cos 45 - 0.5 sin 45, 13.5 + 0.5 sin 45 - 0.5 cos 45) = (12.793, 13.5),
    # between rows 12 and 13 (a = 0.793) and halfway between columns 13 and 14 (b = 0.5).
    image = np.zeros((1, 28, 28))
    image[0, 12:14, 13:15] = [[1.0, 2.0], [3.0, 4.0]]
    a = 13.5 - np.sqrt(0.5) - 12
    top, bottom = 1.5, 3.5
    out = rotate(image, 45.0)
    np.testing.assert_allclose(out[0, 13, 13], top + a * (bottom - top), rtol=1e-12)


def test_rotation_per_image_matches_one_at_a_time_and_layouts():
    images = _blob(m=4)
    angles = np.array([3.0, -8.0, 0.0, 10.0])
    out = rotate(images, angles)
    for n in range(4):
        np.testing.assert_allclose(out[n], rotate(images[n : n + 1], angles[n])[0])
    columns = images.reshape(4, 784).T
    np.testing.assert_allclose(rotate(columns, angles), out.reshape(4, 784).T)


# --------------------------------------------------------------------------- augment_batch


def test_augment_batch_is_determined_by_the_seed():
    X = _blob(m=5).reshape(5, 784).T.astype(np.float32)
    first = augment_batch(X, np.random.default_rng(7))
    again = augment_batch(X, np.random.default_rng(7))
    other = augment_batch(X, np.random.default_rng(8))
    assert first.shape == X.shape and first.dtype == np.float32
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)


def test_augment_batch_without_rotation_is_one_of_the_allowed_shifts():
    images = np.random.default_rng(3).random((6, 28, 28))
    out = augment_batch(images, np.random.default_rng(0), max_shift=1, max_angle=0.0)
    for n in range(6):
        candidates = [
            shift(images[n : n + 1], dy, dx)[0]
            for dy in (-1, 0, 1)
            for dx in (-1, 0, 1)
        ]
        assert any(np.array_equal(out[n], c) for c in candidates)
    np.testing.assert_array_equal(
        augment_batch(images, np.random.default_rng(0), max_shift=0, max_angle=0.0),
        images,
    )


def test_augment_batch_handles_more_images_than_a_chunk():
    images = np.random.default_rng(4).random((600, 28, 28)).astype(np.float32)
    out = augment_batch(images, np.random.default_rng(5))
    rng = np.random.default_rng(5)
    angles = rng.uniform(-10, 10, 600)
    dy, dx = rng.integers(-2, 2, size=(2, 600), endpoint=True)
    np.testing.assert_array_equal(out, shift(rotate(images, angles), dy, dx))


# --------------------------------------------------------------------------- errors


def test_clear_errors():
    X = np.zeros((784, 3), np.float32)
    with pytest.raises(ValueError, match="transpose"):
        shift(X.T, 1, 1)
    with pytest.raises(ValueError, match="single image"):
        rotate(np.zeros((28, 28)), 5.0)
    with pytest.raises(ValueError, match=r"\(784, m\) or images"):
        rotate(np.zeros((3, 27, 27)), 5.0)
    with pytest.raises(TypeError, match="scale_pixels"):
        rotate(np.zeros((784, 3), np.uint8), 5.0)
    with pytest.raises(ValueError, match="whole-pixel"):
        shift(X, 0.5, 0)
    with pytest.raises(ValueError, match=r"shape \(3,\)"):
        rotate(X, np.zeros(2))
    with pytest.raises(ValueError, match="finite"):
        rotate(X, np.nan)
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="max_shift"):
        augment_batch(X, rng, max_shift=-1)
    with pytest.raises(ValueError, match="max_shift"):
        augment_batch(X, rng, max_shift=1.5)
    with pytest.raises(ValueError, match="max_angle"):
        augment_batch(X, rng, max_angle=float("nan"))

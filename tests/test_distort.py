"""Distortions for other writers: affine maps, elastic fields, pens, a batch at once."""

from __future__ import annotations

import numpy as np
import pytest
from nnmath import augment
from nnmath.distort import affine_matrices, distort_batch, elastic_field, pen, warp


def _digits(m: int = 6, seed: int = 0) -> np.ndarray:
    """``m`` blurry random blobs standing in for digits, ``(m, 28, 28)`` float32."""
    rng = np.random.default_rng(seed)
    images = np.zeros((m, 28, 28), np.float32)
    images[:, 8:20, 10:18] = rng.random((m, 12, 8))
    return images


def _still(m: int) -> np.ndarray:
    return np.zeros((2, m, 28, 28), np.float32)


@pytest.mark.equation("eq-affine")
def test_affine_matrices_compose_rotation_slant_and_scale() -> None:
    angle, slant = np.array([30.0]), np.array([0.2])
    scale, aspect = np.array([1.2]), np.array([1.5])
    t = np.deg2rad(30)
    rotation = np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]])
    shear = np.array([[1, 0], [-0.2, 1]])
    size = np.diag([1.2 / np.sqrt(1.5), 1.2 * np.sqrt(1.5)])
    A = affine_matrices(angle, slant, scale, aspect)
    assert A.shape == (1, 2, 2)
    assert np.allclose(A[0] @ rotation @ shear @ size, np.eye(2))


@pytest.mark.equation("eq-affine")
def test_a_pure_rotation_is_augment_rotate() -> None:
    images = _digits()
    angles = np.linspace(-20, 20, 6)
    one = np.ones(6)
    A = affine_matrices(angles, 0 * one, one, one)
    assert (
        np.abs(warp(images, A, _still(6)) - augment.rotate(images, angles)).max() < 1e-5
    )


@pytest.mark.equation("eq-affine")
def test_the_identity_changes_nothing_and_a_scale_grows_the_ink() -> None:
    images = _digits()
    one = np.ones(6)
    same = warp(images, affine_matrices(0 * one, 0 * one, one, one), _still(6))
    assert np.allclose(same, images, atol=1e-6)
    bigger = warp(images, affine_matrices(0 * one, 0 * one, 1.2 * one, one), _still(6))
    ratio = bigger.sum(axis=(1, 2)) / images.sum(axis=(1, 2))
    assert np.allclose(ratio, 1.2**2, rtol=0.05)  # areas grow by the determinant


def test_a_slant_moves_the_top_right_and_the_bottom_left() -> None:
    image = np.zeros((1, 28, 28), np.float32)
    image[0, 4:24, 13:15] = 1  # an upright bar
    one = np.ones(1)
    slanted = warp(image, affine_matrices(0 * one, 0.3 * one, one, one), _still(1))[0]
    cols = np.arange(28)

    def column(rows: np.ndarray) -> float:  # the mean column of the ink in these rows
        return float(rows.sum(0) @ cols / rows.sum())

    # rows 5..8 lie 6.5 rows above the centre on average: moved 0.3 x 6.5 ~ 2 right
    assert column(slanted[5:9]) > 15 and column(slanted[19:23]) < 12.5


@pytest.mark.equation("eq-elastic")
def test_elastic_field_is_smooth_random_and_scaled_by_alpha() -> None:
    field = elastic_field(50, np.random.default_rng(1), alpha=8.0, sigma=3.0)
    assert field.shape == (2, 50, 28, 28) and field.dtype == np.float32
    again = elastic_field(50, np.random.default_rng(1), alpha=16.0, sigma=3.0)
    assert np.allclose(again, 2 * field)
    # neighbours move together: the correlation of neighbouring displacements is high
    a, b = field[..., :, :-1].ravel(), field[..., :, 1:].ravel()
    assert np.corrcoef(a, b)[0, 1] > 0.9
    assert abs(field.mean()) < 0.05 and field.std() > 0.1


@pytest.mark.equation("eq-elastic")
def test_a_constant_field_is_a_shift() -> None:
    images = _digits()
    one = np.ones(6)
    A = affine_matrices(0 * one, 0 * one, one, one)
    field = np.zeros((2, 6, 28, 28), np.float32)
    field[0], field[1] = -2, 3  # read 2 rows up and 3 columns right: move down-left
    moved = warp(images, A, field)
    assert np.allclose(moved, augment.shift(images, 2, -3), atol=1e-6)


def test_pen_thickens_thins_or_keeps() -> None:
    image = np.zeros((3, 28, 28), np.float32)
    image[:, 10:18, 12:15] = 1
    out = pen(image, np.array([1, 0, -1]))
    assert out[0].sum() > image[0].sum() > out[2].sum() > 0
    assert np.array_equal(out[1], image[1])


def test_distort_batch_is_seeded_keeps_layout_and_range() -> None:
    images = _digits(10)
    a = distort_batch(images, np.random.default_rng(5))
    b = distort_batch(images, np.random.default_rng(5))
    assert np.array_equal(a, b) and a.shape == images.shape and a.dtype == np.float32
    assert a.min() >= 0 and a.max() <= 1 and not np.allclose(a, images)
    columns = images.reshape(10, -1).T
    c = distort_batch(columns, np.random.default_rng(5))
    assert c.shape == (784, 10) and np.array_equal(c.T.reshape(10, 28, 28), a)


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"max_angle": 90}, "max_angle in"),
        ({"sigma": 0}, "sigma > 0"),
        ({"scale": (1.2, 0.8)}, "scale, aspect"),
        ({"pens": (0.5, 0.5, 0.5)}, "pens: expected 3 probabilities"),
    ],
)
def test_distort_batch_refuses_bad_options(options: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        distort_batch(_digits(2), np.random.default_rng(0), **options)


def test_distort_batch_refuses_integer_pixels() -> None:
    with pytest.raises(TypeError, match="floating-point"):
        distort_batch(np.zeros((2, 28, 28), np.uint8), np.random.default_rng(0))

"""Convolution and pooling: the sum by hand, the loop equals the matrix product, every
backward pass against central differences in float64, and clear errors."""

from __future__ import annotations

import numpy as np
import pytest
from nnmath.conv import (
    col2im,
    conv2d,
    conv2d_backward,
    conv2d_db,
    conv2d_dw,
    conv2d_dx,
    conv2d_loops,
    im2col,
    max_pool2d,
    max_pool2d_backward,
    output_size,
    pool_winners,
)
from nnmath.gradcheck import check_gradient

# (stride, padding, input (m, c_in, h, w), weights (c_out, c_in, k_h, k_w)): strides 1 and
# 2, padding 0 and 1, square and non-square kernels and images, several channels.
GEOMETRIES = [
    (1, 0, (2, 1, 5, 5), (3, 1, 3, 3)),
    (1, 1, (2, 3, 6, 5), (4, 3, 3, 2)),
    (2, 0, (3, 2, 7, 6), (2, 2, 3, 2)),
    (2, 1, (2, 3, 6, 7), (3, 3, 2, 3)),
    (1, 0, (1, 2, 4, 6), (2, 2, 1, 4)),
]


def _random(geometry, seed=0):
    stride, padding, x_shape, w_shape = geometry
    rng = np.random.default_rng(seed)
    X = rng.standard_normal(x_shape)
    W = rng.standard_normal(w_shape)
    b = rng.standard_normal(w_shape[0])
    return stride, padding, X, W, b, rng


@pytest.mark.equation("eq-conv")
def test_conv_sum_by_hand():
    # One 3 x 3 image, one 2 x 2 kernel: each output is the window times the kernel, summed.
    X = np.arange(9.0).reshape(1, 1, 3, 3)  # rows (0 1 2), (3 4 5), (6 7 8)
    W = np.array([[[[1.0, 0.0], [0.0, -1.0]]]])  # top-left minus bottom-right
    Z = conv2d_loops(X, W, np.array([0.5]))
    np.testing.assert_array_equal(Z, [[[[0 - 4 + 0.5, 1 - 5 + 0.5], [3 - 7 + 0.5, 4 - 8 + 0.5]]]])
    # Stride 2 with padding 1: a 4 x 4 padded frame, windows at (0, 0), (0, 2), (2, 0), (2, 2).
    Z = conv2d_loops(X, W, np.zeros(1), stride=2, padding=1)
    np.testing.assert_array_equal(Z, [[[[0 - 0, 0 - 2], [0 - 6, 4 - 8]]]])


@pytest.mark.equation("eq-conv", "eq-conv-matrix")
@pytest.mark.parametrize("geometry", GEOMETRIES)
def test_matrix_product_equals_the_loops(geometry):
    stride, padding, X, W, b, _ = _random(geometry)
    Z = conv2d(X, W, b, stride, padding)
    m, c_out = X.shape[0], W.shape[0]
    h_out = output_size(X.shape[2], W.shape[2], stride, padding)
    w_out = output_size(X.shape[3], W.shape[3], stride, padding)
    assert Z.shape == (m, c_out, h_out, w_out)
    np.testing.assert_allclose(Z, conv2d_loops(X, W, b, stride, padding), rtol=1e-12,
                               atol=1e-12)


def test_im2col_rows_are_the_windows():
    X = np.arange(2 * 2 * 4 * 4, dtype=float).reshape(2, 2, 4, 4)
    cols = im2col(X, 3, 2, stride=1, padding=0)
    assert cols.shape == (2 * 2 * 3, 2 * 3 * 2)
    # Row (i=1, r=1, s=2): example 1, window at rows 1..3, columns 2..3, channel by channel.
    row = cols[(1 * 2 + 1) * 3 + 2]
    np.testing.assert_array_equal(row, X[1, :, 1:4, 2:4].ravel())


@pytest.mark.parametrize("geometry", GEOMETRIES)
def test_col2im_is_the_adjoint_of_im2col(geometry):
    # <im2col(X), C> = <X, col2im(C)> for all X and C: the defining property of the adjoint.
    stride, padding, X, W, _, rng = _random(geometry)
    k_h, k_w = W.shape[2:]
    cols = im2col(X, k_h, k_w, stride, padding)
    C = rng.standard_normal(cols.shape)
    left = float((cols * C).sum())
    right = float((X * col2im(C, X.shape, k_h, k_w, stride, padding)).sum())
    assert left == pytest.approx(right, rel=1e-12)


@pytest.mark.equation("eq-conv-dx", "eq-conv-dw", "eq-conv-db")
@pytest.mark.parametrize("geometry", GEOMETRIES)
def test_conv_backward_matches_central_differences(geometry):
    stride, padding, X, W, b, rng = _random(geometry)
    G = rng.standard_normal(conv2d(X, W, b, stride, padding).shape)  # loss = <Z, G>

    def loss(_):
        return float((conv2d(X, W, b, stride, padding) * G).sum())

    dX, dW, db = conv2d_backward(G, X, W, stride, padding)
    assert (dX.shape, dW.shape, db.shape) == (X.shape, W.shape, b.shape)
    assert check_gradient(loss, X, dX) < 1e-7
    assert check_gradient(loss, W, dW) < 1e-7
    assert check_gradient(loss, b, db) < 1e-7


@pytest.mark.equation("eq-conv-dw")
def test_weight_gradient_is_a_correlation_of_the_input_with_dz():
    # Stride 1, no padding: dW[o, c] is the input channel c correlated with dZ[:, o] as kernel.
    rng = np.random.default_rng(1)
    X, dZ = rng.standard_normal((3, 2, 6, 5)), rng.standard_normal((3, 4, 4, 3))
    dW = conv2d_dw(dZ, im2col(X, 3, 3), (4, 2, 3, 3))
    # conv2d_loops with the examples as channels: input (c, i, h, w), kernels (o, i, ...).
    as_conv = conv2d_loops(X.transpose(1, 0, 2, 3), dZ.transpose(1, 0, 2, 3), np.zeros(4))
    np.testing.assert_allclose(dW, as_conv.transpose(1, 0, 2, 3), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(conv2d_db(dZ), dZ.sum(axis=(0, 2, 3)))


def test_input_gradient_alone_matches_backward():
    stride, padding, X, W, b, rng = _random(GEOMETRIES[3])
    dZ = rng.standard_normal(conv2d(X, W, b, stride, padding).shape)
    np.testing.assert_array_equal(conv2d_dx(dZ, W, X.shape, stride, padding),
                                  conv2d_backward(dZ, X, W, stride, padding)[0])


def test_float32_stays_float32():
    X = np.ones((1, 1, 5, 5), np.float32)
    W, b = np.ones((2, 1, 3, 3), np.float32), np.zeros(2, np.float32)
    Z = conv2d(X, W, b)
    assert Z.dtype == np.float32
    assert all(g.dtype == np.float32 for g in conv2d_backward(np.ones_like(Z), X, W))


# --------------------------------------------------------------------------- pooling


@pytest.mark.equation("eq-max-pool")
def test_max_pool_by_hand():
    X = np.array([[1.0, 5.0, 2.0, 0.0],
                  [3.0, 4.0, 8.0, 1.0],
                  [0.0, 0.0, -1.0, -2.0],
                  [7.0, 0.0, -3.0, -4.0]]).reshape(1, 1, 4, 4)
    np.testing.assert_array_equal(max_pool2d(X), [[[[5.0, 8.0], [7.0, -1.0]]]])
    np.testing.assert_array_equal(pool_winners(X), [[[[1, 2], [2, 0]]]])


@pytest.mark.equation("eq-max-pool-backward")
@pytest.mark.parametrize("size", [2, 3])
def test_max_pool_backward_matches_central_differences(size):
    rng = np.random.default_rng(size)
    X = rng.standard_normal((2, 3, 2 * size, 3 * size))  # no ties: the max is differentiable
    G = rng.standard_normal((2, 3, 2, 3))

    def loss(_):
        return float((max_pool2d(X, size) * G).sum())

    dX = max_pool2d_backward(G, X, size)
    assert dX.shape == X.shape
    assert check_gradient(loss, X, dX) < 1e-7


@pytest.mark.equation("eq-max-pool-backward")
def test_max_pool_ties_send_the_gradient_to_the_first_position():
    X = np.array([[2.0, 2.0], [2.0, 1.0]]).reshape(1, 1, 2, 2)
    dX = max_pool2d_backward(np.array([[[[3.0]]]]), X)
    np.testing.assert_array_equal(dX, [[[[3.0, 0.0], [0.0, 0.0]]]])  # all of it, once


# --------------------------------------------------------------------------- errors


def test_shape_errors_name_expected_and_received():
    X, W, b = np.zeros((2, 3, 6, 6)), np.zeros((4, 3, 3, 3)), np.zeros(4)
    with pytest.raises(ValueError, match=r"X: expected images \(m, c, h, w\), got shape \(6, 6\)"):
        conv2d(X[0, 0], W, b)
    with pytest.raises(ValueError, match=r"W: expected \(c_out, 3, k_h, k_w\).*\(4, 2, 3, 3\)"):
        conv2d(X, np.zeros((4, 2, 3, 3)), b)
    with pytest.raises(ValueError, match=r"b: expected shape \(4,\).*got \(4, 1\)"):
        conv2d(X, W, np.zeros((4, 1)))
    with pytest.raises(ValueError, match=r"dZ: expected shape \(2, 4, 4, 4\).*got \(2, 4, 3, 3\)"):
        conv2d_backward(np.zeros((2, 4, 3, 3)), X, W)
    with pytest.raises(ValueError, match=r"kernel: expected a size from 1 to 6.*got 7"):
        conv2d(X, np.zeros((4, 3, 7, 7)), b)
    with pytest.raises(ValueError, match="stride: expected a whole number >= 1, got 0"):
        conv2d(X, W, b, stride=0)
    with pytest.raises(ValueError, match="padding: expected a whole number >= 0, got -1"):
        conv2d(X, W, b, padding=-1)
    with pytest.raises(TypeError, match="expected floating-point values, got dtype uint8"):
        conv2d(X.astype(np.uint8), W, b)
    with pytest.raises(ValueError, match=r"size: expected .* divides the image's 6 x 6, got 4"):
        max_pool2d(X, 4)
    with pytest.raises(ValueError, match=r"dA: expected shape \(2, 3, 3, 3\).*got \(2, 3, 2, 2\)"):
        max_pool2d_backward(np.zeros((2, 3, 2, 2)), X)

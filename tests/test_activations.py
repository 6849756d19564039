"""Activations and their derivatives: hand-computed cases, properties, gradient checks."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from nnmath.activations import (
    relu,
    relu_deriv,
    sigmoid,
    sigmoid_deriv,
    softmax,
    softmax_jacobian,
    softmax_naive,
    tanh,
    tanh_deriv,
)
from nnmath.gradcheck import check_gradient

# Logit matrices (n, m): 1..12 classes, 1..8 columns, values anywhere in [-1000, 1000].
logits = arrays(
    np.float64,
    st.tuples(st.integers(1, 12), st.integers(1, 8)),
    elements=st.floats(-1000, 1000, allow_nan=False, allow_infinity=False),
)


def _away_from_zero(shape: tuple[int, ...], seed: int = 0) -> np.ndarray:
    """Random float64 values with |z| in [0.1, 3]: no ReLU kink within a nudge of 1e-6."""
    rng = np.random.default_rng(seed)
    return rng.uniform(0.1, 3, shape) * rng.choice([-1.0, 1.0], shape)


def _elementwise_check(g, g_deriv, z: np.ndarray) -> float:
    """Relative error between g'(z) and the numerical gradient of sum(v * g(z))."""
    v = np.random.default_rng(1).standard_normal(z.shape)
    return check_gradient(lambda x: float(np.sum(v * g(x))), z, v * g_deriv(z))


# --------------------------------------------------------------------------- ReLU


@pytest.mark.equation("eq-relu")
def test_relu_by_hand():
    z = np.array([-2.0, -0.0, 0.0, 0.5, 3.0], dtype=np.float32)
    out = relu(z)
    np.testing.assert_array_equal(out, [0, 0, 0, 0.5, 3])
    assert out.dtype == np.float32


@pytest.mark.equation("eq-relu-deriv")
def test_relu_deriv_by_hand():
    z = np.array([[-1.0, 0.0], [2.0, 1e-30]])
    np.testing.assert_array_equal(relu_deriv(z), [[0, 0], [1, 1]])
    assert relu_deriv(z.astype(np.float32)).dtype == np.float32


@pytest.mark.equation("eq-relu-deriv")
def test_relu_deriv_gradient_check():
    assert _elementwise_check(relu, relu_deriv, _away_from_zero((4, 6))) < 1e-6


# --------------------------------------------------------------------------- sigmoid, tanh


@pytest.mark.equation("eq-sigmoid")
def test_sigmoid_by_hand_and_symmetry():
    assert sigmoid(np.array(0.0)) == 0.5
    np.testing.assert_allclose(sigmoid(np.array([np.log(3.0)])), [0.75])
    z = np.linspace(-30, 30, 61)
    np.testing.assert_allclose(sigmoid(-z), 1 - sigmoid(z), atol=1e-15)
    np.testing.assert_allclose(sigmoid(z), 1 / (1 + np.exp(-z)), rtol=1e-14)


@pytest.mark.equation("eq-sigmoid")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_no_overflow(dtype):
    z = np.array([-1000, -100, 0, 100, 1000], dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an overflow warning would fail the test
        s = sigmoid(z)
    assert s.dtype == dtype
    np.testing.assert_allclose(s, [0, 0, 0.5, 1, 1], atol=1e-30)


@pytest.mark.equation("eq-sigmoid-deriv")
def test_sigmoid_deriv_by_hand_and_gradient_check():
    assert sigmoid_deriv(np.array(0.0)) == 0.25
    assert _elementwise_check(sigmoid, sigmoid_deriv, _away_from_zero((3, 5))) < 1e-6


@pytest.mark.equation("eq-tanh")
def test_tanh_matches_its_definition():
    z = np.linspace(-5, 5, 21)
    definition = (np.exp(z) - np.exp(-z)) / (np.exp(z) + np.exp(-z))
    np.testing.assert_allclose(tanh(z), definition, atol=1e-15)
    np.testing.assert_allclose(tanh(z), 2 * sigmoid(2 * z) - 1, atol=1e-15)


@pytest.mark.equation("eq-tanh-deriv")
def test_tanh_deriv_by_hand_and_gradient_check():
    assert tanh_deriv(np.array(0.0)) == 1.0
    assert _elementwise_check(tanh, tanh_deriv, _away_from_zero((3, 5))) < 1e-6


# --------------------------------------------------------------------------- softmax


@pytest.mark.equation("eq-softmax")
def test_softmax_by_hand():
    np.testing.assert_array_equal(softmax(np.array([0.0, 0.0])), [0.5, 0.5])
    z = np.array([[1.0, 0.0], [2.0, 0.0], [3.0, np.log(2.0)]])
    e = np.exp([1.0, 2.0, 3.0])
    expected = np.column_stack([e / e.sum(), [0.25, 0.25, 0.5]])
    np.testing.assert_allclose(softmax(z), expected, rtol=1e-15)


@pytest.mark.equation("eq-softmax")
@given(logits)
def test_softmax_columns_sum_to_one(Z):
    A = softmax(Z)
    assert A.shape == Z.shape
    assert np.all(np.isfinite(A)) and np.all(A >= 0) and np.all(A <= 1)
    np.testing.assert_allclose(A.sum(axis=0), 1, rtol=1e-12)


@pytest.mark.equation("eq-softmax")
@given(logits, st.data())
def test_softmax_invariant_to_a_constant_per_column(Z, data):
    c = data.draw(arrays(np.float64, (1, Z.shape[1]), elements=st.floats(-1000, 1000)))
    np.testing.assert_allclose(softmax(Z + c), softmax(Z), atol=1e-9)


@pytest.mark.equation("eq-softmax")
@given(st.lists(st.sampled_from([-1000.0, 1000.0, 0.0]), min_size=1, max_size=10))
def test_softmax_finite_for_huge_logits(values):
    for dtype in (np.float32, np.float64):
        z = np.array(values, dtype=dtype)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            a = softmax(z)
        assert a.dtype == dtype
        assert np.all(np.isfinite(a))
        np.testing.assert_allclose(a.sum(), 1, rtol=1e-6)
        top = z == z.max()
        np.testing.assert_allclose(a[top], 1 / top.sum(), rtol=1e-6)


def test_softmax_naive_agrees_on_small_logits_and_overflows_on_large():
    z = np.array([[1.0, -2.0], [0.5, 3.0]])
    np.testing.assert_allclose(softmax_naive(z), softmax(z), rtol=1e-15)
    with np.errstate(over="ignore", invalid="ignore"):
        assert np.isnan(softmax_naive(np.array([1000.0, 0.0]))).any()


def test_softmax_keeps_float32():
    Z = np.random.default_rng(0).standard_normal((10, 7)).astype(np.float32)
    A = softmax(Z)
    assert A.dtype == np.float32
    np.testing.assert_allclose(A.sum(axis=0), 1, rtol=1e-6)


# --------------------------------------------------------------------------- Jacobian


@pytest.mark.equation("eq-softmax-jacobian")
def test_softmax_jacobian_by_hand():
    J = softmax_jacobian(np.array([0.0, 0.0]))
    np.testing.assert_allclose(J, [[0.25, -0.25], [-0.25, 0.25]])


@pytest.mark.equation("eq-softmax-jacobian")
def test_softmax_jacobian_gradient_check():
    z = np.random.default_rng(2).standard_normal(6)
    J = softmax_jacobian(z)
    np.testing.assert_allclose(J, J.T)  # symmetric
    np.testing.assert_allclose(J.sum(axis=0), 0, atol=1e-15)  # the outputs always sum to 1
    for i in range(z.size):  # row i is the gradient of the i-th output a_i(z)
        assert check_gradient(lambda x, i=i: float(softmax(x)[i]), z, J[i]) < 1e-6


def test_softmax_jacobian_wants_one_column():
    with pytest.raises(ValueError, match=r"z: expected one column of logits, shape \(n,\), got"):
        softmax_jacobian(np.zeros((3, 2)))

"""Losses and their gradients with respect to the logits."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from nnmath.activations import softmax
from nnmath.data import one_hot
from nnmath.gradcheck import check_gradient
from nnmath.losses import (
    cross_entropy,
    softmax_cross_entropy_grad,
    squared_error,
    squared_error_grad_logits,
)


@st.composite
def logits_and_labels(draw):
    """Logits (n, m) in [-1000, 1000] and m integer labels in 0..n-1."""
    n, m = draw(st.integers(2, 12)), draw(st.integers(1, 8))
    Z = draw(arrays(np.float64, (n, m), elements=st.floats(-1000, 1000)))
    y = np.array(draw(st.lists(st.integers(0, n - 1), min_size=m, max_size=m)))
    return Z, y


def _small_batch(seed: int = 0, n: int = 10, m: int = 7) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, m)) * 2, rng.integers(0, n, m)


# --------------------------------------------------------------------------- cross-entropy


@pytest.mark.equation("eq-cross-entropy")
def test_cross_entropy_of_a_uniform_guess_is_ln_10():
    A = np.full((10, 4), 0.1)
    assert cross_entropy(A, np.array([0, 3, 9, 3])) == pytest.approx(math.log(10))
    assert cross_entropy(A.astype(np.float32), np.array([1, 2, 3, 4])) == pytest.approx(
        math.log(10), rel=1e-6
    )


@pytest.mark.equation("eq-cross-entropy")
def test_cross_entropy_by_hand_and_against_the_one_hot_formula():
    A = np.array([[0.5, 0.1], [0.25, 0.9], [0.25, 0.0]])
    y = np.array([0, 1])
    assert cross_entropy(A, y) == pytest.approx(-(math.log(0.5) + math.log(0.9)) / 2)
    Z, y = _small_batch()
    A = softmax(Z)
    Y = one_hot(y, 10, dtype=np.float64)
    assert cross_entropy(A, y) == pytest.approx(-np.sum(Y * np.log(A)) / y.size, rel=1e-14)


@pytest.mark.equation("eq-cross-entropy")
def test_cross_entropy_stays_finite_when_the_label_has_probability_zero():
    A = np.array([[1.0], [0.0]])
    for dtype in (np.float32, np.float64):
        loss = cross_entropy(A.astype(dtype), np.array([1]))
        assert loss == pytest.approx(-math.log(np.finfo(dtype).tiny))
    assert cross_entropy(A, np.array([0])) == 0.0


@pytest.mark.equation("eq-cross-entropy")
@given(logits_and_labels())
def test_cross_entropy_is_finite_and_never_negative(Zy):
    Z, y = Zy
    loss = cross_entropy(softmax(Z), y)
    assert math.isfinite(loss) and loss >= 0


# --------------------------------------------------------------------------- dZ2 = A - Y


@pytest.mark.equation("eq-dz2")
def test_softmax_cross_entropy_grad_by_hand(monkeypatch):
    def no_eye(*args, **kwargs):
        raise AssertionError("the fused gradient must not build a one-hot matrix")

    monkeypatch.setattr(np, "eye", no_eye)
    A = np.array([[0.7, 0.2], [0.2, 0.5], [0.1, 0.3]])
    dZ = softmax_cross_entropy_grad(A, np.array([0, 2]))
    np.testing.assert_allclose(dZ, [[-0.3, 0.2], [0.2, 0.5], [0.1, -0.7]])
    np.testing.assert_array_equal(A[:, 0], [0.7, 0.2, 0.1])  # the input is not modified
    np.testing.assert_allclose(dZ.sum(axis=0), 0, atol=1e-15)


@pytest.mark.equation("eq-dz2", "eq-cross-entropy")
def test_softmax_cross_entropy_grad_gradient_check():
    # dZ2 is per example, not divided by m: the gradient of m * L with respect to Z.
    Z, y = _small_batch()
    dZ = softmax_cross_entropy_grad(softmax(Z), y)
    assert check_gradient(lambda z: y.size * cross_entropy(softmax(z), y), Z, dZ) < 1e-6


# --------------------------------------------------------------------------- squared error


@pytest.mark.equation("eq-squared-error")
def test_squared_error_by_hand():
    A = np.full((10, 2), 0.1)
    # per column: (0.1 - 1)^2 + 9 * 0.1^2 = 0.9; mean over 2 columns, halved
    assert squared_error(A, np.array([3, 7])) == pytest.approx(0.45)
    assert squared_error(one_hot(np.array([1, 0]), 10, np.float64), np.array([1, 0])) == 0
    Z, y = _small_batch()
    A = softmax(Z)
    Y = one_hot(y, 10, dtype=np.float64)
    assert squared_error(A, y) == pytest.approx(np.sum((A - Y) ** 2) / (2 * y.size))


@pytest.mark.equation("eq-squared-error-grad", "eq-squared-error")
def test_squared_error_grad_logits_gradient_check():
    Z, y = _small_batch(seed=3)
    grad = squared_error_grad_logits(softmax(Z), y)
    assert check_gradient(lambda z: y.size * squared_error(softmax(z), y), Z, grad) < 1e-6


@pytest.mark.equation("eq-squared-error-grad", "eq-dz2")
def test_confidently_wrong_squared_error_gradient_vanishes():
    # The network puts almost all its probability on class 0; the label is 1.
    z = np.array([[12.0], [-6.0], [0.0]])
    A, y = softmax(z), np.array([1])
    ce = np.linalg.norm(softmax_cross_entropy_grad(A, y))
    se = np.linalg.norm(squared_error_grad_logits(A, y))
    assert ce > 1.0
    assert se < 1e-4 * ce


# --------------------------------------------------------------------------- bad labels


def test_labels_must_be_integers_matching_the_columns():
    A = np.full((10, 5), 0.1)
    with pytest.raises(ValueError, match=r"y: expected \(5,\) to match A \(10, 5\), got \(3,\)"):
        cross_entropy(A, np.array([1, 2, 3]))
    with pytest.raises(ValueError, match="not a one-hot matrix"):
        softmax_cross_entropy_grad(A, one_hot(np.arange(5)))
    with pytest.raises(TypeError, match="integer labels"):
        squared_error(A, np.zeros(5))
    with pytest.raises(ValueError, match=r"labels in 0\.\.9, got values in -1\.\.3"):
        cross_entropy(A, np.array([0, 1, 2, 3, -1]))
    with pytest.raises(ValueError, match=r"A: expected \(n, m\)"):
        cross_entropy(np.full(10, 0.1), np.array([1]))

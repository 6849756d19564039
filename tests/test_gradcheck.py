"""The finite-difference tools themselves."""

from __future__ import annotations

import numpy as np
import pytest
from nnmath.gradcheck import check_gradient, numerical_gradient, relative_error


@pytest.mark.equation("eq-central-diff")
def test_numerical_gradient_of_known_functions():
    x = np.array([[1.0, -2.0, 0.5], [3.0, 0.0, -1.5]])
    before = x.copy()
    np.testing.assert_allclose(numerical_gradient(lambda v: float(np.sum(v**2)), x), 2 * x,
                               atol=1e-8)
    np.testing.assert_array_equal(x, before)  # every nudge was undone
    g = numerical_gradient(lambda v: float(np.sum(np.sin(v))), x)
    np.testing.assert_allclose(g, np.cos(x), atol=1e-9)


@pytest.mark.equation("eq-central-diff")
def test_central_differences_are_second_order():
    # For f = x^3 the central difference is exactly 3x^2 + eps^2: the error shrinks as eps^2.
    x = np.array([0.7])
    for eps in (1e-2, 1e-3):
        g = numerical_gradient(lambda v: float(v[0] ** 3), x, eps=eps)
        assert g[0] - 3 * x[0] ** 2 == pytest.approx(eps**2, rel=1e-3)


def test_numerical_gradient_rejects_integers():
    with pytest.raises(TypeError, match="floating-point"):
        numerical_gradient(lambda v: float(v.sum()), np.arange(3))


@pytest.mark.equation("eq-relative-error")
def test_relative_error_by_hand():
    a = np.array([3.0, 4.0])
    assert relative_error(a, a) == 0.0
    assert relative_error(a, -a) == pytest.approx(1.0)
    assert relative_error(np.zeros(3), np.zeros(3)) == 0.0  # no 0/0
    # ||a - b|| = 3, ||a|| + ||b|| = 5 + 4
    assert relative_error(a, np.array([0.0, 4.0])) == pytest.approx(1 / 3)
    with pytest.raises(ValueError, match="same shape"):
        relative_error(np.zeros(2), np.zeros(3))


@pytest.mark.equation("eq-relative-error", "eq-central-diff")
def test_check_gradient_tells_right_from_wrong():
    x = np.random.default_rng(0).standard_normal((3, 4))

    def f(v: np.ndarray) -> float:
        return float(np.sum(v**2))

    assert check_gradient(f, x, 2 * x) < 1e-9
    assert check_gradient(f, x, 2.01 * x) > 1e-3
    with pytest.raises(ValueError, match=r"expected the shape of x \(3, 4\), got \(4, 3\)"):
        check_gradient(f, x, (2 * x).T)

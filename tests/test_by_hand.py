"""The worked example by hand: nnmath.twolayer on a 2-2-2 network, against closed forms.

Every number of the example follows from q = e^0.75 / (1 + e^0.75), the probability the
network gives the wrong class; the expected arrays below are written in terms of q, as
they come out of the chapter's pencil-and-paper derivation.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from nnmath import losses, twolayer

X = np.array([[1.0], [2.0]])
y = np.array([0])
W1 = np.array([[0.5, -0.25], [0.25, 0.5]])
b1 = np.array([[0.5], [-0.25]])
W2 = np.array([[1.0, -0.5], [-0.5, 1.0]])
b2 = np.array([[0.0], [0.0]])
ALPHA = 0.1
q = math.exp(0.75) / (1 + math.exp(0.75))


@pytest.mark.equation("eq-z1", "eq-relu", "eq-z2", "eq-softmax", "eq-cross-entropy")
def test_forward_pass_by_hand():
    Z1, A1, Z2, A2 = twolayer.forward_prop(W1, b1, W2, b2, X)
    np.testing.assert_array_equal(Z1, [[0.5], [1.0]])  # exact in binary
    np.testing.assert_array_equal(A1, Z1)  # both units active
    np.testing.assert_array_equal(Z2, [[0.0], [0.75]])
    np.testing.assert_allclose(A2, [[1 - q], [q]], rtol=1e-15)
    assert losses.cross_entropy(A2, y) == pytest.approx(math.log(1 + math.exp(0.75)),
                                                        rel=1e-15)


@pytest.mark.equation("eq-dz2", "eq-dw2", "eq-db2", "eq-dz1", "eq-dw1", "eq-db1")
def test_backward_pass_by_hand():
    Z1, A1, Z2, A2 = twolayer.forward_prop(W1, b1, W2, b2, X)
    dW1, db1, dW2, db2 = twolayer.backward_prop(Z1, A1, Z2, A2, W1, W2, X, y)
    # dz2 = (a0 - 1, a1) = (-q, q); da1_j = q (W2[1, j] - W2[0, j]) = (-1.5 q, 1.5 q)
    np.testing.assert_allclose(db2, [[-q], [q]], rtol=1e-14)
    np.testing.assert_allclose(dW2, [[-0.5 * q, -q], [0.5 * q, q]], rtol=1e-14)
    np.testing.assert_allclose(db1, [[-1.5 * q], [1.5 * q]], rtol=1e-14)
    np.testing.assert_allclose(dW1, [[-1.5 * q, -3 * q], [1.5 * q, 3 * q]], rtol=1e-14)


@pytest.mark.equation("eq-update")
def test_two_steps_lower_the_loss():
    params = (W1, b1, W2, b2)
    history = []
    for _ in range(3):
        Z1, A1, Z2, A2 = twolayer.forward_prop(*params, X)
        history.append(losses.cross_entropy(A2, y))
        grads = twolayer.backward_prop(Z1, A1, Z2, A2, params[0], params[2], X, y)
        new = twolayer.update_params(*params, *grads, ALPHA)
        for p, g, n in zip(params, grads, new, strict=True):
            np.testing.assert_array_equal(n, p - ALPHA * g)
        params = new
    assert history[2] < history[1] < history[0]
    # the first update by hand: W1[0, 0] = 0.5 - 0.1 (-1.5 q)
    Z1, A1, Z2, A2 = twolayer.forward_prop(W1, b1, W2, b2, X)
    grads = twolayer.backward_prop(Z1, A1, Z2, A2, W1, W2, X, y)
    W1_new = twolayer.update_params(W1, b1, W2, b2, *grads, ALPHA)[0]
    assert W1_new[0, 0] == pytest.approx(0.5 + ALPHA * 1.5 * q, rel=1e-15)


def test_twolayer_accepts_any_layer_sizes():
    W1, b1, W2, b2 = twolayer.init_params(sizes=(2, 2, 2), dtype=np.float64)
    assert (W1.shape, b1.shape, W2.shape, b2.shape) == ((2, 2), (2, 1), (2, 2), (2, 1))
    X3 = np.array([[1.0, 0.0, -1.0], [0.5, 2.0, 1.0]])
    Z1, A1, Z2, A2 = twolayer.forward_prop(W1, b1, W2, b2, X3)
    assert A2.shape == (2, 3)
    grads = twolayer.backward_prop(Z1, A1, Z2, A2, W1, W2, X3, np.array([0, 1, 1]))
    assert [g.shape for g in grads] == [(2, 2), (2, 1), (2, 2), (2, 1)]

"""Optimisers and schedules: every update rule by hand on tiny arrays."""

from __future__ import annotations

import math

import numpy as np
import pytest
from nnmath.fast.mlp import flattened
from nnmath.mlp import MLP
from nnmath.optim import (
    SGD,
    Adam,
    Momentum,
    RMSProp,
    adam_bias_correction,
    adam_moments,
    adam_update,
    cosine_schedule,
    momentum_update,
    rmsprop_update,
    sgd_update,
    step_schedule,
)
from nnmath.twolayer import update_params

# --------------------------------------------------------------------------- update rules


@pytest.mark.equation("eq-sgd")
def test_sgd_by_hand():
    theta = np.array([1.0, 2.0])
    sgd_update(theta, np.array([0.5, -1.0]), lr=0.1)
    np.testing.assert_allclose(theta, [0.95, 2.1], rtol=1e-15)
    W, b = np.ones((2, 3)), np.zeros((2, 1))
    SGD(0.5).step([W, b], [np.full((2, 3), 2.0), np.ones((2, 1))])
    np.testing.assert_array_equal(W, 0.0)
    np.testing.assert_array_equal(b, -0.5)


@pytest.mark.equation("eq-sgd", "eq-update")
def test_sgd_is_part_ones_update():
    rng = np.random.default_rng(0)
    params = [rng.standard_normal(s) for s in ((10, 784), (10, 1), (10, 10), (10, 1))]
    grads = [rng.standard_normal(p.shape) for p in params]
    expected = update_params(*params, *grads, 0.12)
    SGD(0.12).step(params, grads)
    for got, want in zip(params, expected, strict=True):
        np.testing.assert_array_equal(got, want)


@pytest.mark.equation("eq-momentum")
def test_momentum_by_hand():
    theta, velocity = np.array([1.0, 2.0]), np.zeros(2)
    momentum_update(theta, velocity, np.array([1.0, -2.0]), lr=0.1, beta=0.9)
    # v = 0.1 g = (0.1, -0.2); theta = (1 - 0.01, 2 + 0.02)
    np.testing.assert_allclose(velocity, [0.1, -0.2], rtol=1e-15)
    np.testing.assert_allclose(theta, [0.99, 2.02], rtol=1e-15)
    momentum_update(theta, velocity, np.array([1.0, 0.0]), lr=0.1, beta=0.9)
    # v = 0.9 (0.1, -0.2) + 0.1 (1, 0) = (0.19, -0.18)
    np.testing.assert_allclose(velocity, [0.19, -0.18], rtol=1e-14)
    np.testing.assert_allclose(theta, [0.971, 2.038], rtol=1e-14)
    p = np.array([1.0, 2.0])
    opt = Momentum(0.1, beta=0.9)
    opt.step([p], [np.array([1.0, -2.0])])
    opt.step([p], [np.array([1.0, 0.0])])
    np.testing.assert_array_equal(p, theta)


@pytest.mark.equation("eq-rmsprop")
def test_rmsprop_by_hand():
    theta, s = np.array([1.0, 2.0]), np.zeros(2)
    rmsprop_update(theta, s, np.array([2.0, -0.5]), lr=0.01, beta=0.9, eps=0.0)
    # s = 0.1 g^2 = (0.4, 0.025); the step is lr g / sqrt(s) = lr sign(g) / sqrt(0.1)
    np.testing.assert_allclose(s, [0.4, 0.025], rtol=1e-15)
    np.testing.assert_allclose(
        theta, [1 - 0.01 / math.sqrt(0.1), 2 + 0.01 / math.sqrt(0.1)]
    )
    p = np.array([1.0, 2.0])
    RMSProp(0.01, beta=0.9, eps=0.0).step([p], [np.array([2.0, -0.5])])
    np.testing.assert_array_equal(p, theta)


@pytest.mark.equation("eq-adam-moments")
def test_adam_moments_by_hand():
    m, v = np.zeros(2), np.zeros(2)
    adam_moments(m, v, np.array([0.5, -0.25]), beta1=0.9, beta2=0.999)
    np.testing.assert_allclose(m, [0.05, -0.025], rtol=1e-14)
    np.testing.assert_allclose(v, [0.00025, 0.0000625], rtol=1e-12)
    adam_moments(m, v, np.array([0.1, 0.3]), beta1=0.9, beta2=0.999)
    # m = 0.9 m + 0.1 g; v = 0.999 v + 0.001 g^2
    np.testing.assert_allclose(m, [0.055, 0.0075], rtol=1e-14)
    np.testing.assert_allclose(v, [0.00025975, 0.0001524375], rtol=1e-12)


@pytest.mark.equation("eq-adam-bias-correction")
def test_adam_bias_correction_by_hand():
    # after one step m = 0.1 g and v = 0.001 g^2: the correction gives back g and g^2
    m_hat, v_hat = adam_bias_correction(
        np.array([0.05, -0.025]), np.array([0.00025, 0.0000625]), 1, 0.9, 0.999
    )
    np.testing.assert_allclose(m_hat, [0.5, -0.25], rtol=1e-14)
    np.testing.assert_allclose(v_hat, [0.25, 0.0625], rtol=1e-12)
    # after two steps the weights sum to 1 - 0.9^2 = 0.19 and 1 - 0.999^2 = 0.001999
    m_hat, v_hat = adam_bias_correction(
        np.array([0.19]), np.array([0.001999]), 2, 0.9, 0.999
    )
    np.testing.assert_allclose([m_hat[0], v_hat[0]], [1.0, 1.0], rtol=1e-12)
    # late in training the correction fades
    m_hat, _ = adam_bias_correction(
        np.array([1.0]), np.array([1.0]), 10_000, 0.9, 0.999
    )
    assert m_hat[0] == 1.0
    with pytest.raises(
        ValueError, match="t: expected the number of steps taken, >= 1, got 0"
    ):
        adam_bias_correction(np.zeros(1), np.zeros(1), 0, 0.9, 0.999)


@pytest.mark.equation("eq-adam-update")
def test_adam_update_by_hand():
    theta = np.array([1.0, -2.0])
    adam_update(
        theta, np.array([0.5, -0.25]), np.array([0.25, 0.0625]), lr=0.01, eps=0.0
    )
    # m_hat / sqrt(v_hat) = (1, -1): the first step has size lr whatever the gradient's scale
    np.testing.assert_allclose(theta, [0.99, -1.99], rtol=1e-15)


@pytest.mark.equation("eq-adam-moments", "eq-adam-bias-correction", "eq-adam-update")
def test_adam_first_two_steps_by_hand():
    theta = np.array([1.0, -2.0])
    opt = Adam(lr=0.01)
    opt.step([theta], [np.array([0.5, -0.25])])
    # step 1: m_hat = g, v_hat = g^2, so theta moves by lr g / (|g| + eps)
    np.testing.assert_allclose(
        theta,
        [1 - 0.01 * 0.5 / (0.5 + 1e-8), -2 + 0.01 * 0.25 / (0.25 + 1e-8)],
        rtol=1e-15,
    )
    before = theta.copy()
    opt.step([theta], [np.array([0.1, 0.3])])
    # step 2: m_hat = (0.055, 0.0075) / 0.19 = (0.28947368, 0.03947368),
    # v_hat = (0.00025975, 0.0001524375) / 0.001999 = (0.12993997, 0.07625688),
    # lr m_hat / (sqrt(v_hat) + eps) = (0.0080304095615, 0.0014294472548)
    np.testing.assert_allclose(
        before - theta, [0.0080304095615, 0.0014294472548], rtol=1e-10
    )
    assert opt.t == 2


# --------------------------------------------------------------------------- the classes


@pytest.mark.parametrize(
    "make",
    [
        lambda: SGD(0.1),
        lambda: Momentum(0.1),
        lambda: RMSProp(0.01),
        lambda: Adam(0.01),
    ],
)
def test_one_flat_vector_is_the_same_arithmetic_as_separate_arrays(make):
    model_a, model_b = MLP((6, 5, 4, 3), seed=0), MLP((6, 5, 4, 3), seed=0)
    rng = np.random.default_rng(1)
    opt_a, opt_b = make(), make()
    with flattened(model_b) as (params_b, grads_b):  # the fast path's opt-in
        for _ in range(3):
            grads_b[:] = rng.standard_normal(grads_b.size)
            grads_a = [g.copy() for g in model_b.gradients]  # the same numbers, apart
            opt_a.step(model_a.params, grads_a)
            opt_b.step([params_b], [grads_b])
    assert model_a.flat_params().tobytes() == model_b.flat_params().tobytes()


@pytest.mark.parametrize(
    "opt",
    [SGD(0.1), Momentum(0.1), RMSProp(0.01), Adam(0.05)],
    ids=["sgd", "momentum", "rmsprop", "adam"],
)
def test_every_optimiser_descends_a_quadratic(opt):
    # f(theta) = 0.5 ||theta - c||^2, gradient theta - c, minimum 0 at c
    c = np.array([3.0, -1.0, 0.5])
    theta = np.zeros(3)
    for _ in range(300):
        opt.step([theta], [theta - c])
    assert 0.5 * np.sum((theta - c) ** 2) < 1e-2 * 0.5 * np.sum(c**2)


def test_optimisers_keep_the_dtype():
    p = np.ones(4, dtype=np.float32)
    for opt in (SGD(0.1), Momentum(0.1), RMSProp(0.1), Adam(0.1)):
        opt.step([p], [np.full(4, 0.5, dtype=np.float32)])
        assert p.dtype == np.float32
        assert all(a.dtype == np.float32 for s in opt.state for a in s.values())


def test_optimisers_reject_bad_input():
    with pytest.raises(
        ValueError, match=r"lr: expected a learning rate >= 0, got -0\.1"
    ):
        SGD(-0.1)
    with pytest.raises(
        ValueError, match=r"beta1: expected a decay rate in \[0, 1\), got 1"
    ):
        Adam(beta1=1)
    opt = Adam()
    with pytest.raises(ValueError, match="expected parallel lists, got 2 and 1 arrays"):
        opt.step([np.ones(2), np.ones(3)], [np.ones(2)])
    with pytest.raises(
        ValueError,
        match=r"grads\[0\]: expected the shape of params\[0\] "
        r"\(2,\), got \(3,\)",
    ):
        opt.step([np.ones(2)], [np.ones(3)])
    opt.step([np.ones(2)], [np.ones(2)])
    with pytest.raises(
        ValueError, match=r"made for arrays of shapes \[\(2,\)\].*reset"
    ):
        opt.step([np.ones(2), np.ones(1)], [np.ones(2), np.ones(1)])
    opt.reset()
    opt.step([np.ones(2), np.ones(1)], [np.ones(2), np.ones(1)])
    assert opt.t == 1
    assert repr(Momentum(0.1, beta=0.8)) == "Momentum(lr=0.1, beta=0.8)"


# --------------------------------------------------------------------------- schedules


@pytest.mark.equation("eq-step-schedule")
def test_step_schedule_values():
    rates = [step_schedule(e, lr0=1.0, drop=0.5, every=2) for e in range(6)]
    assert rates == [1.0, 1.0, 0.5, 0.5, 0.25, 0.25]
    assert step_schedule(12, lr0=1e-3, drop=0.1, every=5) == pytest.approx(1e-5)
    with pytest.raises(ValueError, match="every"):
        step_schedule(1, lr0=1.0, every=0)


@pytest.mark.equation("eq-cosine-schedule")
def test_cosine_schedule_values():
    rates = [cosine_schedule(e, lr0=1.0, total=4) for e in range(7)]
    half = math.sqrt(2) / 4  # (1 +- cos(pi / 4)) / 2 = 0.5 +- sqrt(2) / 4
    np.testing.assert_allclose(
        rates, [1.0, 0.5 + half, 0.5, 0.5 - half, 0.0, 0.0, 0.0], atol=1e-15
    )
    assert cosine_schedule(2, lr0=1.0, total=4, lr_min=0.2) == pytest.approx(0.6)
    assert cosine_schedule(9, lr0=1.0, total=4, lr_min=0.2) == pytest.approx(0.2)
    with pytest.raises(ValueError, match="total"):
        cosine_schedule(0, lr0=1.0, total=0)

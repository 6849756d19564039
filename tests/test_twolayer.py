"""The 784-10-10 network: hand-computed cases, gradient checks on real images, training."""

from __future__ import annotations

import os

import numpy as np
import pytest
from nnmath import twolayer
from nnmath.activations import relu, softmax
from nnmath.data import DataError, load_mnist, scale_pixels, to_columns, train_dev_split
from nnmath.fast import twolayer as fast_twolayer
from nnmath.fast.twolayer import full_batch_gradient, split_blocks
from nnmath.gradcheck import check_gradient
from nnmath.losses import cross_entropy, softmax_cross_entropy_grad
from nnmath.twolayer import (
    Record,
    backward_prop,
    bias_gradient,
    forward_prop,
    get_accuracy,
    get_predictions,
    gradient_descent,
    hidden_delta,
    init_params,
    linear,
    make_predictions,
    update_params,
    weight_gradient,
)


@pytest.fixture(scope="session")
def mnist():
    """The recipe's split, scaled: X (784, 59000) float32, y (59000,), X_dev, y_dev (1,000)."""
    folder = os.environ.get("NNMATH_DATA")
    if not folder:
        pytest.skip("MNIST not configured: set NNMATH_DATA to a folder with the four IDX files")
    try:
        data = load_mnist(folder, download=False)
    except DataError as err:
        pytest.skip(f"MNIST not usable in NNMATH_DATA={folder}: {err}")
    images, labels, dev_images, dev_labels = train_dev_split(
        data.train_images, data.train_labels, dev_size=1000, seed=0
    )
    return (
        scale_pixels(to_columns(images)),
        labels.astype(np.intp),
        scale_pixels(to_columns(dev_images)),
        dev_labels.astype(np.intp),
    )


def _as64(*arrays: np.ndarray) -> list[np.ndarray]:
    return [np.asarray(a, dtype=np.float64) for a in arrays]


def _plain_training(X, Y, alpha, iterations, params):
    """The textbook loop, written with the package's own step functions."""
    W1, b1, W2, b2 = params
    for _ in range(iterations):
        Z1, A1, Z2, A2 = forward_prop(W1, b1, W2, b2, X)
        grads = backward_prop(Z1, A1, Z2, A2, W1, W2, X, Y)
        W1, b1, W2, b2 = update_params(W1, b1, W2, b2, *grads, alpha)
    return W1, b1, W2, b2


# --------------------------------------------------------------------------- forward


@pytest.mark.equation("eq-z1", "eq-z2")
def test_linear_by_hand():
    W = np.array([[1.0, 2.0], [0.0, -1.0]])
    A_prev = np.array([[1.0, 0.0, 2.0], [3.0, 1.0, -1.0]])
    b = np.array([[0.5], [1.0]])
    np.testing.assert_array_equal(linear(W, A_prev, b), [[7.5, 2.5, 0.5], [-2.0, 0.0, 2.0]])


@pytest.mark.equation("eq-z1", "eq-z2", "eq-relu", "eq-softmax")
def test_forward_prop_composes_the_layers():
    W1, b1, W2, b2 = init_params(seed=1, dtype=np.float64)
    X = np.random.default_rng(0).random((784, 5))
    Z1, A1, Z2, A2 = forward_prop(W1, b1, W2, b2, X)
    assert [a.shape for a in (Z1, A1, Z2, A2)] == [(10, 5)] * 4
    np.testing.assert_allclose(Z1[:, 2], W1 @ X[:, 2] + b1[:, 0])
    np.testing.assert_array_equal(A1, relu(Z1))
    np.testing.assert_allclose(Z2, W2 @ A1 + b2)
    np.testing.assert_allclose(A2.sum(axis=0), 1)


def test_forward_prop_follows_the_dtype():
    params = init_params(seed=0)
    X = np.random.default_rng(0).random((784, 3), dtype=np.float32)
    assert all(a.dtype == np.float32 for a in forward_prop(*params, X))
    assert all(a.dtype == np.float64 for a in forward_prop(*_as64(*params, X)))


# --------------------------------------------------------------------------- backward


@pytest.mark.equation("eq-dw1", "eq-dw2", "eq-db1", "eq-db2")
def test_weight_and_bias_gradients_by_hand():
    dZ = np.array([[1.0, 2.0], [0.0, -4.0]])
    A_prev = np.array([[3.0, 4.0]])
    # (1/2) (1*3 + 2*4) = 5.5 and (1/2) (0*3 - 4*4) = -8
    np.testing.assert_array_equal(weight_gradient(dZ, A_prev), [[5.5], [-8.0]])
    np.testing.assert_array_equal(bias_gradient(dZ), [[1.5], [-2.0]])


@pytest.mark.equation("eq-dz1")
def test_hidden_delta_by_hand():
    W2 = np.array([[1.0, 2.0], [3.0, 4.0]])
    dZ2 = np.array([[1.0], [-1.0]])
    Z1 = np.array([[0.5], [-0.5]])
    # W2^T dZ2 = [1 - 3, 2 - 4] = [-2, -2]; the second unit is off
    np.testing.assert_array_equal(hidden_delta(W2, dZ2, Z1), [[-2.0], [0.0]])


@pytest.mark.equation("eq-dz1", "eq-relu-deriv")
def test_hidden_delta_gradient_check():
    # dZ1 is the gradient of m * L with respect to Z1, like dZ2 with respect to Z2.
    rng = np.random.default_rng(4)
    W2, b2 = rng.standard_normal((10, 10)), rng.standard_normal((10, 1))
    Z1 = rng.uniform(0.05, 2, (10, 6)) * rng.choice([-1.0, 1.0], (10, 6))
    y = rng.integers(0, 10, 6)

    def summed_loss(z1: np.ndarray) -> float:
        return y.size * cross_entropy(softmax(W2 @ relu(z1) + b2), y)

    dZ2 = softmax_cross_entropy_grad(softmax(W2 @ relu(Z1) + b2), y)
    assert check_gradient(summed_loss, Z1, hidden_delta(W2, dZ2, Z1)) < 1e-6


@pytest.mark.equation(
    "eq-dw1", "eq-dw2", "eq-db1", "eq-db2", "eq-dz1", "eq-dz2", "eq-cross-entropy"
)
def test_backward_prop_gradient_check_on_mnist(mnist):
    X_all, y_all, _, _ = mnist
    X, Y = X_all[:, :20].astype(np.float64), y_all[:20]
    params = init_params(seed=3, dtype=np.float64)
    Z1, A1, Z2, A2 = forward_prop(*params, X)
    assert np.abs(Z1).min() > 1e-4  # no ReLU kink within reach of a 1e-6 nudge
    analytic = backward_prop(Z1, A1, Z2, A2, params[0], params[2], X, Y)

    def loss() -> float:
        return cross_entropy(forward_prop(*params, X)[3], Y)

    for name, theta, grad in zip(("W1", "b1", "W2", "b2"), params, analytic, strict=True):
        error = check_gradient(lambda _: loss(), theta, grad)
        assert error < 1e-6, f"d{name}: relative error {error:.2e}"


def test_backward_prop_divides_by_the_batch_size():
    params = init_params(seed=0, dtype=np.float64)
    X = np.random.default_rng(1).random((784, 8))
    Y = np.arange(8)
    one = backward_prop(*forward_prop(*params, X), params[0], params[2], X, Y)
    doubled = np.hstack([X, X])
    two = backward_prop(*forward_prop(*params, doubled), params[0], params[2], doubled,
                        np.hstack([Y, Y]))
    for g1, g2 in zip(one, two, strict=True):  # the same examples twice: the same mean
        np.testing.assert_allclose(g1, g2, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-12), (np.float32, 2e-5)])
def test_blocked_gradient_equals_backward_prop(mnist, dtype, rtol):
    X_all, y_all, _, _ = mnist
    X, Y = X_all[:, :3000].astype(dtype), y_all[:3000]
    params = init_params(seed=5, dtype=dtype)
    expected = backward_prop(*forward_prop(*params, X), params[0], params[2], X, Y)
    blocked = full_batch_gradient(*params, X, Y, block_size=700)  # uneven last block
    for name, got, want in zip(("dW1", "db1", "dW2", "db2"), blocked, expected, strict=True):
        assert got.dtype == dtype
        scale = np.abs(want).max()
        np.testing.assert_allclose(got, want, rtol=0, atol=rtol * scale, err_msg=name)


@pytest.mark.parametrize("workers", [1, 3])
def test_blocked_gradient_with_any_number_of_threads(mnist, workers):
    X_all, y_all, _, _ = mnist
    X, Y = X_all[:, :2500].astype(np.float64), y_all[:2500]
    params = init_params(seed=6, dtype=np.float64)
    expected = backward_prop(*forward_prop(*params, X), params[0], params[2], X, Y)
    got = full_batch_gradient(*params, X, Y, block_size=300, workers=workers)
    for g, e in zip(got, expected, strict=True):
        np.testing.assert_allclose(g, e, rtol=1e-10, atol=1e-14)


def test_blocked_gradient_rejects_bad_settings(mnist):
    X_all, y_all, _, _ = mnist
    params = init_params(seed=0)
    for bad in ({"workers": 0}, {"block_size": 0}, {"workers": 1.5}):
        with pytest.raises(ValueError, match=next(iter(bad))):
            full_batch_gradient(*params, X_all[:, :10], y_all[:10], **bad)


def test_split_blocks_keeps_every_nonzero_pixel(mnist):
    X_all, y_all, _, _ = mnist
    X, Y = X_all[:, :1500], y_all[:1500]
    blocks = split_blocks(X, Y, block_size=400)
    assert sum(b.Y.size for b in blocks) == 1500
    assert np.array_equal(np.sort(np.concatenate([b.Y for b in blocks])), np.sort(Y))
    for block in blocks:
        assert block.X.flags.f_contiguous and block.X.dtype == np.float32
        assert len(block.pixels) % 16 == 0 and len(block.pixels) < 784
        np.testing.assert_array_equal(block.Y_onehot.argmax(axis=0), block.Y)
        assert block.Y_onehot.sum() == block.Y.size
    # the total of each pixel over all images survives the split
    totals = np.zeros(784)
    for block in blocks:
        totals[block.pixels] += block.X.sum(axis=1, dtype=np.float64)
    np.testing.assert_allclose(totals, X.sum(axis=1, dtype=np.float64), rtol=1e-6)


# --------------------------------------------------------------------------- update, init


@pytest.mark.equation("eq-update")
def test_update_params_by_hand():
    W1, b1, W2, b2 = (np.full((2, 2), 1.0), np.zeros((2, 1)), np.eye(2), np.ones((2, 1)))
    dW1, db1, dW2, db2 = (np.full((2, 2), 2.0), np.ones((2, 1)), np.eye(2), -np.ones((2, 1)))
    new = update_params(W1, b1, W2, b2, dW1, db1, dW2, db2, 0.5)
    np.testing.assert_array_equal(new[0], np.zeros((2, 2)))
    np.testing.assert_array_equal(new[1], [[-0.5], [-0.5]])
    np.testing.assert_array_equal(new[2], 0.5 * np.eye(2))
    np.testing.assert_array_equal(new[3], [[1.5], [1.5]])
    np.testing.assert_array_equal(W1, np.ones((2, 2)))  # the inputs are untouched


def test_init_params_uniform():
    W1, b1, W2, b2 = init_params(seed=7)
    assert [p.shape for p in (W1, b1, W2, b2)] == [(10, 784), (10, 1), (10, 10), (10, 1)]
    for p in (W1, b1, W2, b2):
        assert p.dtype == np.float32 and p.min() >= -0.5 and p.max() < 0.5
    assert abs(W1.mean()) < 0.02 and W1.std() == pytest.approx(1 / np.sqrt(12), rel=0.05)
    again = init_params(rng=np.random.default_rng(7))
    assert all(np.array_equal(a, b) for a, b in zip((W1, b1, W2, b2), again, strict=True))
    in64 = init_params(seed=7, dtype=np.float64)
    np.testing.assert_allclose(in64[0], W1, atol=3e-8)  # same draws, rounded differently
    assert not np.array_equal(init_params(seed=8)[0], W1)


@pytest.mark.equation("eq-init-he")
def test_init_params_he():
    W1, b1, W2, b2 = init_params(seed=0, scheme="he", dtype=np.float64)
    assert not b1.any() and not b2.any()
    assert W1.std() == pytest.approx(np.sqrt(2 / 784), rel=0.05)
    assert W2.std() == pytest.approx(np.sqrt(2 / 10), rel=0.3)  # only 100 draws
    assert abs(W1.mean()) < 0.005
    with pytest.raises(ValueError, match=r"scheme: expected one of \['he', 'uniform'\]"):
        init_params(scheme="xavier")


# --------------------------------------------------------------------------- predictions


@pytest.mark.equation("eq-predict")
def test_get_predictions_by_hand():
    A2 = np.array([[0.1, 0.7, 0.2], [0.8, 0.2, 0.3], [0.1, 0.1, 0.5]])
    np.testing.assert_array_equal(get_predictions(A2), [1, 0, 2])


@pytest.mark.equation("eq-accuracy")
def test_get_accuracy_by_hand():
    assert get_accuracy(np.array([1, 2, 3]), np.array([1, 0, 3])) == pytest.approx(2 / 3)
    assert get_accuracy(np.array([4, 4]), np.array([4, 4])) == 1.0
    with pytest.raises(ValueError, match=r"got \(2,\) and \(3,\)"):  # y_true, y_pred
        get_accuracy(np.array([1, 2, 3]), np.array([1, 2]))


def test_make_predictions():
    params = init_params(seed=0)
    X = np.random.default_rng(0).random((784, 4), dtype=np.float32)
    predictions = make_predictions(X, *params)
    assert predictions.shape == (4,)
    np.testing.assert_array_equal(predictions, get_predictions(forward_prop(*params, X)[3]))


# --------------------------------------------------------------------------- shape errors


def test_forward_prop_names_expected_and_received_shapes():
    W1, b1, W2, b2 = init_params()
    with pytest.raises(ValueError) as err:
        forward_prop(W1, b1, W2, b2, np.zeros((783, 5), dtype=np.float32))
    assert str(err.value) == "X: expected (784, m) to match W1 (10, 784), got (783, 5)"
    message = r"b1: expected \(10, 1\) to match W1 \(10, 784\), got \(10,\)"
    with pytest.raises(ValueError, match=message):
        forward_prop(W1, b1[:, 0], W2, b2, np.zeros((784, 5)))
    with pytest.raises(ValueError, match=r"W2: expected \(n_out, 10\) .* got \(10, 9\)"):
        forward_prop(W1, b1, W2[:, :9], b2, np.zeros((784, 5)))


def test_backward_prop_names_expected_and_received_shapes():
    params = init_params()
    X = np.zeros((784, 5), dtype=np.float32)
    Z1, A1, Z2, A2 = forward_prop(*params, X)
    message = r"Y: expected \(5,\) to match X \(784, 5\), got \(10, 5\) \(pass integer labels"
    with pytest.raises(ValueError, match=message):
        backward_prop(Z1, A1, Z2, A2, params[0], params[2], X, np.zeros((10, 5), dtype=int))
    with pytest.raises(ValueError, match=r"A2: expected \(10, 5\) .* got \(10, 4\)"):
        backward_prop(Z1, A1, Z2, A2[:, :4], params[0], params[2], X, np.zeros(5, dtype=int))
    with pytest.raises(ValueError, match=r"X: expected \(784, m\) .* got \(5, 784\)"):
        backward_prop(Z1, A1, Z2, A2, params[0], params[2], X.T, np.zeros(5, dtype=int))


@pytest.mark.parametrize("gradient_descent", [gradient_descent, fast_twolayer.gradient_descent])
def test_gradient_descent_rejects_bad_input_early(gradient_descent):
    X = np.zeros((784, 6), dtype=np.float32)
    Y = np.arange(6)
    message = r"X: expected \(784, m\) with one column per image .*, got \(6, 784\)"
    with pytest.raises(ValueError, match=message):
        gradient_descent(X.T, Y, 0.1, 1)
    with pytest.raises(TypeError, match="scale_pixels"):
        gradient_descent(X.astype(np.uint8), Y, 0.1, 1)
    with pytest.raises(ValueError, match=r"Y: expected \(6,\) to match X \(784, 6\), got \(5,\)"):
        gradient_descent(X, Y[:5], 0.1, 1)
    with pytest.raises(ValueError, match="alpha"):
        gradient_descent(X, Y, -0.1, 1)
    with pytest.raises(ValueError, match="give both or neither"):
        gradient_descent(X, Y, 0.1, 1, X_dev=X)


# --------------------------------------------------------------------------- training


@pytest.mark.parametrize("gradient_descent", [gradient_descent, fast_twolayer.gradient_descent])
def test_gradient_descent_is_deterministic(mnist, gradient_descent):
    X_all, y_all, _, _ = mnist
    X, Y = X_all[:, :2000], y_all[:2000]
    first = gradient_descent(X, Y, 0.12, 4, seed=11)
    second = gradient_descent(X, Y, 0.12, 4, seed=11)
    for a, b in zip(first, second, strict=True):
        assert a.dtype == np.float32
        assert a.tobytes() == b.tobytes()
    other = gradient_descent(X, Y, 0.12, 4, seed=12)
    assert not np.array_equal(first[0], other[0])


def test_gradient_descent_is_the_plain_loop(mnist):
    X_all, y_all, _, _ = mnist
    X, Y = X_all[:, :1500], y_all[:1500]
    package = gradient_descent(X, Y, 0.12, 3, seed=2)
    plain = _plain_training(X, Y, 0.12, 3, init_params(seed=2))
    for a, b in zip(package, plain, strict=True):
        assert a.tobytes() == b.tobytes()


def test_gradient_descent_calls_backward_prop(monkeypatch):
    calls = []

    def counted(*args):
        calls.append(args[-1].size)
        return backward_prop(*args)

    monkeypatch.setattr(twolayer, "backward_prop", counted)
    X = np.random.default_rng(0).random((784, 30), dtype=np.float32)
    gradient_descent(X, np.arange(30) % 10, 0.1, 4)
    assert calls == [30] * 4


@pytest.mark.parametrize("scheme", ["uniform", "he"])
def test_fast_gradient_descent_equals_the_plain_one(mnist, scheme):
    X_all, y_all, X_dev, y_dev = mnist
    X, Y = X_all[:, :1200].astype(np.float64), y_all[:1200]
    runs = {}
    for name, train in (("fast", fast_twolayer.gradient_descent), ("plain", gradient_descent)):
        history: list[Record] = []
        extra = {"block_size": 500} if name == "fast" else {}
        params = train(X, Y, 0.12, 3, seed=2, scheme=scheme, dtype=np.float64,
                       X_dev=X_dev[:, :200], y_dev=y_dev[:200], history=history,
                       record_every=2, **extra)
        runs[name] = params, history
    for a, b in zip(runs["fast"][0], runs["plain"][0], strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    fast_history, plain_history = runs["fast"][1], runs["plain"][1]
    assert [r.iteration for r in fast_history] == [r.iteration for r in plain_history] == [0, 2, 3]
    for fast_record, plain_record in zip(fast_history, plain_history, strict=True):
        np.testing.assert_allclose(fast_record, plain_record, rtol=1e-10)


def test_any_layer_sizes_a_2_2_2_network():
    # the worked example of the backward pass: two inputs, two hidden units, two classes
    X = np.array([[0.5, -1.0, 2.0], [1.0, 0.5, -0.5]])
    Y = np.array([0, 1, 1])
    params = init_params(seed=0, sizes=(2, 2, 2), dtype=np.float64)
    assert [p.shape for p in params] == [(2, 2), (2, 1), (2, 2), (2, 1)]
    Z1, A1, Z2, A2 = forward_prop(*params, X)
    assert A2.shape == (2, 3)
    grads = backward_prop(Z1, A1, Z2, A2, params[0], params[2], X, Y)
    assert [g.shape for g in grads] == [(2, 2), (2, 1), (2, 2), (2, 1)]
    trained = gradient_descent(X, Y, 0.5, 20, sizes=(2, 2, 2), dtype=np.float64)
    fast = fast_twolayer.gradient_descent(X, Y, 0.5, 20, sizes=(2, 2, 2), dtype=np.float64)
    for a, b in zip(trained, fast, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)
    for got, want in zip(full_batch_gradient(*params, X, Y), grads, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)


def test_short_training_reaches_the_measured_accuracy(mnist, capsys):
    X_all, y_all, X_dev, y_dev = mnist
    X, Y = X_all[:, :5000], y_all[:5000]
    history: list[Record] = []
    seen: list[int] = []
    params = gradient_descent(X, Y, 0.12, 100, seed=0, X_dev=X_dev, y_dev=y_dev,
                              history=history, callback=lambda r: seen.append(r.iteration),
                              record_every=25, progress=True)
    dev_accuracy = get_accuracy(make_predictions(X_dev, *params), y_dev)
    # Measured: 0.670 on the 1,000 dev images (uniform init, seed 0, float32, 2 cores);
    # 5 points of margin for other BLAS builds.
    assert dev_accuracy >= 0.62
    assert [r.iteration for r in history] == seen == [0, 25, 50, 75, 100]
    assert history[-1].dev_accuracy == pytest.approx(dev_accuracy)
    assert history[-1].loss < history[0].loss
    assert history[-1].train_accuracy > history[0].train_accuracy
    assert history[-1].dev_loss == pytest.approx(
        cross_entropy(forward_prop(*params, X_dev)[3], y_dev), rel=1e-5
    )
    assert "iteration   100  loss" in capsys.readouterr().out


@pytest.mark.equation("eq-init-he")
def test_short_training_with_he_init(mnist):
    X_all, y_all, X_dev, y_dev = mnist
    params = gradient_descent(X_all[:, :5000], y_all[:5000], 0.12, 100, seed=0, scheme="he")
    # Measured: 0.847 on the dev images (He init, seed 0); 5 points of margin.
    assert get_accuracy(make_predictions(X_dev, *params), y_dev) >= 0.80

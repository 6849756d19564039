"""The L-layer network: each equation by hand, gradient checks, Part I agreement, errors."""

from __future__ import annotations

import numpy as np
import pytest
from nnmath.activations import relu, softmax
from nnmath.data import scale_pixels, to_columns
from nnmath.fast.mlp import flattened
from nnmath.gradcheck import check_gradient
from nnmath.init import INITS, scaled_init, xavier_init
from nnmath.losses import cross_entropy
from nnmath.mlp import MLP, layer_db, layer_dw, layer_dz, layer_forward
from nnmath.optim import SGD
from nnmath.regularise import RegularisedMLP, dropout, l2_grad, l2_loss
from nnmath.train import fit
from nnmath.twolayer import backward_prop, forward_prop, init_params

SMALL = (20, 7, 5, 3)


def _small_batch(m: int = 6, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.standard_normal((SMALL[0], m)), rng.integers(0, SMALL[-1], m)


def _random_biases(model: MLP, seed: int = 0) -> MLP:
    """Give every bias a nonzero value (the inits make them 0), so the check covers them and
    no pre-activation sits exactly at the ReLU kink (an all-dropped column would)."""
    rng = np.random.default_rng(seed)
    for b in model.b:
        b[...] = rng.uniform(0.2, 0.6, b.shape) * rng.choice([-1.0, 1.0], b.shape)
    return model


def _far_from_kinks(model: MLP) -> bool:
    return min(np.abs(Z).min() for Z in model.Z[:-1]) > 1e-4


def _grad_errors(model: MLP, loss, analytic: list[np.ndarray]) -> dict[str, float]:
    """Relative error of each analytic gradient against central differences of ``loss``."""
    names = [f"d{'Wb'[i % 2]}{i // 2 + 1}" for i in range(2 * model.L)]
    return {
        name: check_gradient(lambda _: loss(), theta, grad)
        for name, theta, grad in zip(names, model.params, analytic, strict=True)
    }


# --------------------------------------------------------------------------- one layer


@pytest.mark.equation("eq-layer-forward")
def test_layer_forward_by_hand():
    W = np.array([[1.0, -1.0], [2.0, 0.0]])
    A_prev = np.array([[1.0, 2.0], [3.0, -1.0]])
    b = np.array([[0.5], [-3.0]])
    Z, A = layer_forward(W, A_prev, b)
    # column 1: (1 - 3 + 0.5, 2 - 3) = (-1.5, -1); column 2: (2 + 1 + 0.5, 4 - 3) = (3.5, 1)
    np.testing.assert_array_equal(Z, [[-1.5, 3.5], [-1.0, 1.0]])
    np.testing.assert_array_equal(A, [[0.0, 3.5], [0.0, 1.0]])
    _, P = layer_forward(W, A_prev, b, softmax)
    np.testing.assert_allclose(P, softmax(Z))


@pytest.mark.equation("eq-layer-dz")
def test_layer_dz_by_hand():
    W_next = np.array([[1.0, 2.0], [3.0, 4.0]])
    dZ_next = np.array([[1.0], [-1.0]])
    Z = np.array([[0.5], [-0.5]])
    # W^T dZ = (1 - 3, 2 - 4) = (-2, -2); the second unit is off
    np.testing.assert_array_equal(layer_dz(W_next, dZ_next, Z), [[-2.0], [0.0]])
    mask = np.array([[0.0], [2.0]])  # a dropped unit passes no gradient back
    np.testing.assert_array_equal(layer_dz(W_next, dZ_next, Z, mask), [[0.0], [0.0]])
    mask = np.array([[2.0], [0.0]])
    np.testing.assert_array_equal(layer_dz(W_next, dZ_next, Z, mask), [[-4.0], [0.0]])


@pytest.mark.equation("eq-layer-dw", "eq-layer-db")
def test_layer_dw_and_db_by_hand():
    dZ = np.array([[1.0, 2.0], [0.0, -4.0]])
    A_prev = np.array([[3.0, 4.0]])
    np.testing.assert_array_equal(layer_dw(dZ, A_prev), [[5.5], [-8.0]])
    np.testing.assert_array_equal(layer_db(dZ), [[1.5], [-2.0]])
    out_w, out_b = np.empty((2, 1)), np.empty((2, 1))
    assert layer_dw(dZ, A_prev, out=out_w) is out_w
    assert layer_db(dZ, out=out_b) is out_b
    np.testing.assert_array_equal(out_b, [[1.5], [-2.0]])


# --------------------------------------------------------------------------- initialisation


@pytest.mark.equation("eq-init-xavier")
def test_xavier_init_variance():
    W, b = xavier_init(300, 500, np.random.default_rng(0), np.float64)
    assert W.shape == (300, 500) and b.shape == (300, 1) and not b.any()
    assert W.var() == pytest.approx(2 / (500 + 300), rel=0.02)
    assert abs(W.mean()) < 0.002
    assert xavier_init(3, 4, np.random.default_rng(0))[0].dtype == np.float32


@pytest.mark.equation("eq-init-he")
def test_mlp_inits_have_their_variances():
    stds = {
        init: MLP((784, 256, 10), init=init, dtype=np.float64).W[0].std()
        for init in INITS
    }
    assert stds["he"] == pytest.approx(np.sqrt(2 / 784), rel=0.02)
    assert stds["xavier"] == pytest.approx(np.sqrt(2 / (784 + 256)), rel=0.02)
    assert stds["uniform"] == pytest.approx(1 / np.sqrt(12), rel=0.02)
    assert stds["scaled"] == pytest.approx(0.01, rel=0.02)
    W, b = scaled_init(4, 3, np.random.default_rng(0), scale=1.0)
    assert W.dtype == np.float32 and not b.any()


def test_scaled_init_starts_at_the_uniform_guess():
    # 0.01 N(0, 1) shrinks the signal layer by layer: the logits start near 0, so the
    # softmax is near 1/10 everywhere and the loss near log 10 = 2.303.
    X = np.random.default_rng(0).random((784, 50))
    A = MLP(init="scaled", dtype=np.float64).forward(X)
    np.testing.assert_allclose(A, 0.1, atol=1e-3)


def test_init_matches_part_one():
    for scheme in ("uniform", "he"):
        model = MLP((784, 10, 10), init=scheme, seed=4)
        for mine, theirs in zip(
            model.params, init_params(seed=4, scheme=scheme), strict=True
        ):
            assert mine.dtype == theirs.dtype == np.float32
            np.testing.assert_array_equal(mine, theirs)


# --------------------------------------------------------------------------- regularisation


@pytest.mark.equation("eq-l2-loss")
def test_l2_loss_by_hand():
    W1, W2 = np.array([[1.0, 2.0]]), np.array([[3.0], [-1.0]])
    # ||W1||^2 + ||W2||^2 = 5 + 10 = 15; lambda / 2m = 0.6 / 8
    assert l2_loss(1.25, [W1, W2], lam=0.6, m=4) == pytest.approx(1.25 + 15 * 0.6 / 8)
    assert l2_loss(1.25, [W1, W2], lam=0.0, m=4) == 1.25


@pytest.mark.equation("eq-l2-grad")
def test_l2_grad_by_hand():
    dW, W = np.array([[0.5, -1.0]]), np.array([[2.0, 4.0]])
    np.testing.assert_array_equal(l2_grad(dW, W, lam=1.0, m=4), [[1.0, 0.0]])
    l2_grad(dW, W, lam=1.0, m=4, out=dW)
    np.testing.assert_array_equal(dW, [[1.0, 0.0]])


@pytest.mark.equation("eq-dropout")
def test_dropout_keeps_the_expected_value():
    A = np.ones((200, 500))
    dropped, mask = dropout(A, 0.8, np.random.default_rng(0))
    assert set(np.unique(mask)) == {0.0, 1.25}
    assert np.count_nonzero(mask) / mask.size == pytest.approx(0.8, abs=0.005)
    assert dropped.mean() == pytest.approx(1.0, abs=0.01)  # E[D / p] = 1
    np.testing.assert_array_equal(dropped, A * mask)
    same, _ = dropout(A, 0.8, np.random.default_rng(0))
    np.testing.assert_array_equal(same, dropped)
    np.testing.assert_array_equal(dropout(A, 1.0, np.random.default_rng(0))[0], A)
    with pytest.raises(
        ValueError, match=r"keep_prob: expected a probability in \(0, 1\]"
    ):
        dropout(A, 0.0, np.random.default_rng(0))


@pytest.mark.equation("eq-dropout")
def test_dropout_is_the_identity_at_test_time():
    X, _ = _small_batch()
    plain = MLP(SMALL, seed=1, dtype=np.float64)
    with_dropout = RegularisedMLP(SMALL, seed=1, dropout=0.5, dtype=np.float64)
    np.testing.assert_array_equal(with_dropout.forward(X), plain.forward(X))
    np.testing.assert_array_equal(with_dropout.predict_proba(X), plain.forward(X))
    assert not np.array_equal(with_dropout.forward(X, train=True), plain.forward(X))
    # the hidden activations of the training pass are those of the plain network, masked
    A1 = with_dropout.A[1]
    kept = A1 != 0
    np.testing.assert_allclose(A1[kept], 2 * relu(plain.Z[0])[kept])


# --------------------------------------------------------------------------- forward


@pytest.mark.equation("eq-layer-forward", "eq-relu", "eq-softmax")
def test_forward_composes_the_layers():
    X, _ = _small_batch(m=4)
    model = MLP(SMALL, seed=2, dtype=np.float64)
    A = X
    for l in range(model.L):
        Z = model.W[l] @ A + model.b[l]
        A = relu(Z) if l < model.L - 1 else softmax(Z)
    out = model.forward(X)
    assert out.shape == (3, 4)
    np.testing.assert_allclose(out, A, rtol=1e-14)
    np.testing.assert_allclose(out.sum(axis=0), 1)
    assert [z.shape for z in model.Z] == [(7, 4), (5, 4), (3, 4)]
    assert [a.shape for a in model.A] == [(20, 4), (7, 4), (5, 4), (3, 4)]


def test_float32_end_to_end():
    model = MLP(seed=0)
    assert all(p.dtype == np.float32 for p in model.params)
    X = np.random.default_rng(0).random((784, 5))  # float64 in, converted once
    out = model.forward(X)
    assert out.dtype == np.float32
    grads = model.backward(np.arange(5))
    assert all(g.dtype == np.float32 for g in grads)
    assert model.flat_params().dtype == model.flat_gradients().dtype == np.float32
    assert model.n_params == 784 * 128 + 128 + 128 * 64 + 64 + 64 * 10 + 10


def test_params_and_flat_vectors():
    model = MLP(SMALL, seed=0)
    assert [p.shape for p in model.params] == [
        (7, 20),
        (7, 1),
        (5, 7),
        (5, 1),
        (3, 5),
        (3, 1),
    ]
    vector = model.flat_params()
    assert vector.shape == (model.n_params,)
    np.testing.assert_array_equal(vector[: 7 * 20], model.W[0].ravel())
    vector[:] = 0  # a copy: the network is unchanged
    assert model.W[2].any()
    model.set_flat_params(vector)
    assert not model.W[2].any()
    with pytest.raises(ValueError, match=r"vector: expected \(205,\) for sizes .* got \(204,\)"):
        model.set_flat_params(vector[:-1])
    new = [np.full(p.shape, i, dtype=np.float64) for i, p in enumerate(model.params)]
    model.set_params(new)
    assert model.b[1].dtype == np.float32 and (model.b[1] == 3).all()
    with pytest.raises(ValueError, match=r"W2: expected \(5, 7\), got \(7, 5\)"):
        model.set_params([*new[:2], new[2].T, *new[3:]])
    with pytest.raises(ValueError, match=r"expected 6 arrays"):
        model.set_params(new[:4])


def test_rebinding_a_weight_matrix_is_safe():
    # The taught network holds its arrays as they are, no view of a hidden vector: a matrix
    # rebound by the reader is the one that forward, backward and training use.
    X, y = _small_batch(m=30)
    start = MLP(SMALL, seed=1, dtype=np.float64)
    rebound, copied = MLP(SMALL, seed=0, dtype=np.float64), MLP(SMALL, seed=0, dtype=np.float64)
    rebound.W[0], rebound.b[0] = start.W[0].copy(), start.b[0].copy()
    copied.set_params([start.W[0], start.b[0], *copied.params[2:]])
    np.testing.assert_array_equal(rebound.forward(X), copied.forward(X))
    for network in (rebound, copied):
        fit(network, SGD(0.1), X, y, epochs=2, batch_size=8, seed=0)
    assert rebound.flat_params().tobytes() == copied.flat_params().tobytes()
    assert not np.array_equal(rebound.W[0], start.W[0])  # the rebound matrix was trained


def test_flattened_is_an_explicit_opt_in_for_a_block():
    X, y = _small_batch()
    model = MLP(SMALL, seed=0, dtype=np.float64)
    own = model.params
    before = model.flat_params()
    with flattened(model) as (params, grads):
        np.testing.assert_array_equal(params, before)  # the values are unchanged
        assert all(np.shares_memory(p, params) for p in model.params)
        assert all(np.shares_memory(g, grads) for g in model.gradients)
        model.forward(X)
        model.backward(y)  # written into the flat gradient vector
        np.testing.assert_array_equal(grads, model.flat_gradients())
        params -= 0.1 * grads  # one step on the vector is a step on every array
        stepped = params.copy()
    assert all(a is b for a, b in zip(model.params, own, strict=True))  # its own arrays
    assert not any(np.shares_memory(p, params) for p in model.params)
    np.testing.assert_array_equal(model.flat_params(), stepped)
    np.testing.assert_array_equal(model.flat_gradients(), grads)


def test_predict_and_loss():
    X, y = _small_batch(m=25)
    model = RegularisedMLP(SMALL, seed=3, dtype=np.float64, l2=0.7)
    A = model.forward(X)
    np.testing.assert_allclose(model.predict_proba(X, batch_size=7), A, rtol=1e-14)
    np.testing.assert_array_equal(model.predict(X), np.argmax(A, axis=0))
    penalty = 0.7 / (2 * 25) * sum(float(np.sum(W**2)) for W in model.W)
    assert model.loss(X, y) == pytest.approx(cross_entropy(A, y) + penalty, rel=1e-12)
    assert model.predict_proba(X[:, :0]).shape == (3, 0)


def test_predict_proba_keeps_the_training_cache():
    X, y = _small_batch()
    model = MLP(SMALL, seed=3, dtype=np.float64)
    model.forward(X)
    first = [g.copy() for g in model.backward(y)]
    model.forward(X)
    model.predict_proba(np.ones((20, 3)))  # must not replace what backward needs
    for a, b in zip(first, model.backward(y), strict=True):
        np.testing.assert_array_equal(a, b)


# --------------------------------------------------------------------------- gradient checks


@pytest.mark.equation("eq-layer-dw", "eq-layer-db", "eq-layer-dz", "eq-dz2")
def test_backward_gradient_check():
    X, y = _small_batch(m=6)
    model = _random_biases(MLP(SMALL, seed=5, dtype=np.float64))
    model.forward(X)
    assert _far_from_kinks(model)  # no ReLU kink within reach of a 1e-6 nudge
    analytic = [g.copy() for g in model.backward(y)]
    errors = _grad_errors(model, lambda: model.loss(X, y), analytic)
    assert max(errors.values()) < 1e-6, errors


@pytest.mark.equation("eq-l2-loss", "eq-l2-grad")
def test_backward_gradient_check_with_l2():
    X, y = _small_batch(m=6, seed=1)
    model = _random_biases(RegularisedMLP(SMALL, seed=6, dtype=np.float64, l2=0.9))
    model.forward(X)
    assert _far_from_kinks(model)
    analytic = [g.copy() for g in model.backward(y)]
    unregularised = _random_biases(MLP(SMALL, seed=6, dtype=np.float64))
    unregularised.forward(X)
    plain = unregularised.backward(y)
    for l in range(model.L):  # the penalty changes the weight gradients, not the biases
        np.testing.assert_allclose(analytic[2 * l], plain[2 * l] + 0.9 / 6 * model.W[l])
        np.testing.assert_array_equal(analytic[2 * l + 1], plain[2 * l + 1])
    errors = _grad_errors(model, lambda: model.loss(X, y), analytic)
    assert max(errors.values()) < 1e-6, errors


@pytest.mark.equation("eq-dropout", "eq-layer-dz")
def test_backward_gradient_check_with_dropout():
    # The masks are drawn from a generator re-made at every call, so the loss seen by the
    # finite differences always uses the masks of the analytic pass.
    X, y = _small_batch(m=8, seed=2)
    model = _random_biases(
        RegularisedMLP(SMALL, seed=7, dtype=np.float64, dropout=0.4, l2=0.3)
    )

    def loss() -> float:
        model.rng = np.random.default_rng(11)
        A = model.forward(X, train=True)
        return l2_loss(cross_entropy(A, y), model.W, model.l2, X.shape[1])

    loss()
    assert _far_from_kinks(model)
    assert model.masks[-1] is None  # the output layer is never dropped
    assert any(not m.all() for m in model.masks[:-1])  # some units are dropped
    analytic = [g.copy() for g in model.backward(y)]
    errors = _grad_errors(model, loss, analytic)
    assert max(errors.values()) < 1e-6, errors


@pytest.mark.equation("eq-layer-dw", "eq-layer-db", "eq-layer-dz")
def test_backward_gradient_check_on_mnist(mnist):
    X = scale_pixels(to_columns(mnist.train_images[:16]), np.float64)
    y = mnist.train_labels[:16].astype(np.intp)
    model = _random_biases(MLP((784, 12, 8, 10), seed=1, dtype=np.float64))
    model.forward(X)
    assert _far_from_kinks(model)
    analytic = [g.copy() for g in model.backward(y)]
    errors = _grad_errors(model, lambda: model.loss(X, y), analytic)
    assert max(errors.values()) < 1e-6, errors


@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-12), (np.float32, 1e-5)])
def test_784_10_10_matches_part_one(mnist, dtype, rtol):
    X = scale_pixels(to_columns(mnist.train_images[:200]), dtype)
    y = mnist.train_labels[:200].astype(np.intp)
    params = init_params(seed=9, scheme="uniform", dtype=dtype)
    model = MLP((784, 10, 10), dtype=dtype)
    model.set_params(params)
    Z1, A1, Z2, A2 = forward_prop(*params, X)
    np.testing.assert_allclose(model.forward(X), A2, rtol=rtol)
    expected = backward_prop(Z1, A1, Z2, A2, params[0], params[2], X, y)
    for name, got, want in zip(
        ("dW1", "db1", "dW2", "db2"), model.backward(y), expected, strict=True
    ):
        scale = np.abs(want).max()
        np.testing.assert_allclose(got, want, rtol=0, atol=rtol * scale, err_msg=name)


# --------------------------------------------------------------------------- errors, seeds


def test_same_seed_same_network():
    a, b, c = MLP(seed=1), MLP(seed=1), MLP(seed=2)
    assert a.flat_params().tobytes() == b.flat_params().tobytes()
    assert not np.array_equal(a.W[0], c.W[0])
    X = np.random.default_rng(0).random((784, 4), dtype=np.float32)
    dropping = [RegularisedMLP(seed=1, dropout=0.5).forward(X, train=True) for _ in range(2)]
    np.testing.assert_array_equal(*dropping)


def test_constructor_rejects_bad_settings():
    with pytest.raises(
        ValueError, match=r"sizes: expected at least two positive widths"
    ):
        MLP((784,))
    with pytest.raises(ValueError, match=r"sizes: .* got \(784, 0, 10\)"):
        MLP((784, 0, 10))
    with pytest.raises(
        ValueError, match=r"init: expected one of \['he', 'scaled', 'uniform', "
    ):
        MLP(init="glorot")
    with pytest.raises(
        ValueError, match=r"dropout: expected a drop probability in \[0, 1\)"
    ):
        RegularisedMLP(dropout=1.0)
    with pytest.raises(ValueError, match="l2: expected lambda >= 0, got -1"):
        RegularisedMLP(l2=-1)
    with pytest.raises(TypeError, match="dtype"):
        MLP(dtype=np.int32)


def test_forward_and_backward_name_the_shapes():
    model = MLP()
    message = (
        r"X: expected \(784, m\) to match sizes \(784, 128, 64, 10\), got \(5, 784\) "
    )
    with pytest.raises(ValueError, match=message + r"\(one COLUMN per example"):
        model.forward(np.zeros((5, 784), dtype=np.float32))
    with pytest.raises(ValueError, match=r"X: expected \(784, m\) .* got \(783, 5\)$"):
        model.forward(np.zeros((783, 5), dtype=np.float32))
    with pytest.raises(TypeError, match="scale_pixels"):
        model.forward(np.zeros((784, 5), dtype=np.uint8))
    with pytest.raises(RuntimeError, match="call forward"):
        MLP().backward(np.zeros(5, dtype=int))
    model.forward(np.zeros((784, 5), dtype=np.float32))
    with pytest.raises(
        ValueError, match=r"y: expected \(5,\) for 5 examples, got \(10, 5\)"
    ):
        model.backward(np.zeros((10, 5), dtype=int))
    with pytest.raises(
        ValueError, match=r"y: expected labels in 0..9, got values in 0..10"
    ):
        model.backward(np.array([0, 1, 2, 3, 10]))
    with pytest.raises(TypeError, match="integer labels"):
        model.loss(np.zeros((784, 2)), np.array([0.0, 1.0]))


def test_repr():
    assert repr(MLP(init="xavier")) == (
        "MLP(sizes=(784, 128, 64, 10), init='xavier', dtype=float32, seed=0)"
    )
    assert repr(RegularisedMLP(init="xavier", dropout=0.2)) == (
        "RegularisedMLP(sizes=(784, 128, 64, 10), init='xavier', l2=0.0, dropout=0.2, "
        "dtype=float32, seed=0)"
    )


def test_regularised_mlp_without_regularisation_is_the_mlp():
    X, y = _small_batch(m=9)
    plain, regularised = MLP(SMALL, seed=4), RegularisedMLP(SMALL, seed=4)
    for network in (plain, regularised):
        network.forward(X, train=True)
        network.backward(y)
    for a, b in zip(plain.params + plain.gradients,
                    regularised.params + regularised.gradients, strict=True):
        assert a.tobytes() == b.tobytes()
    assert plain.loss(X, y) == regularised.loss(X, y)


def test_regularised_mlp_predicts_without_dropout_or_touching_the_cache():
    X, y = _small_batch(m=6)
    model = RegularisedMLP(SMALL, seed=2, dropout=0.5, dtype=np.float64)
    model.forward(X, train=True)
    masks, first = list(model.masks), [g.copy() for g in model.backward(y)]
    plain = MLP(SMALL, seed=2, dtype=np.float64)
    np.testing.assert_array_equal(model.predict_proba(X), plain.forward(X))
    assert all(a is b for a, b in zip(masks, model.masks, strict=True))
    for a, b in zip(first, model.backward(y), strict=True):
        np.testing.assert_array_equal(a, b)

"""The convolutional network: every parameter's gradient against central differences, the
layers it is made of, training through fit, model files of either kind, and clear errors."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
from nnmath import train
from nnmath.cnn import CNN
from nnmath.conv import conv2d, max_pool2d
from nnmath.fast import cnn as fast_cnn
from nnmath.gradcheck import check_gradient
from nnmath.mlp import MLP
from nnmath.model_io import ModelFileError, export_for_browser, load_model, save_model
from nnmath.optim import Adam
from nnmath.train import evaluate, fit


def _small(dtype=np.float64, seed=0) -> CNN:
    net = CNN((2, 3), kernel=5, hidden=(6,), seed=seed, dtype=dtype)
    rng = np.random.default_rng(seed)
    for b in net.b:  # nonzero biases, so that the check covers them
        b[...] = rng.uniform(-0.1, 0.1, b.shape)
    return net


def _batch(m=4, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((784, m)), rng.integers(0, 10, m)


@pytest.mark.equation("eq-conv-dx", "eq-conv-dw", "eq-conv-db", "eq-max-pool-backward")
def test_every_gradient_matches_central_differences():
    net = _small()
    X, y = _batch()
    net.forward(X)
    grads = [g.copy() for g in net.backward(y)]
    for i, (theta, grad) in enumerate(zip(net.params, grads, strict=True)):
        error = check_gradient(lambda _: net.loss(X, y), theta, grad)
        assert error < 1e-6, f"{'Wb'[i % 2]}{i // 2 + 1}: relative error {error:.1e}"


def test_shapes_of_the_default_network():
    net = CNN()
    assert net.sizes == (784, 32 * 4 * 4, 128, 10)
    assert [p.shape for p in net.params] == [
        (16, 1, 5, 5), (16,), (32, 16, 5, 5), (32,), (128, 512), (128, 1), (10, 128), (10, 1)
    ]
    assert net.n_params == 16 * 26 + 32 * 401 + 128 * 513 + 10 * 129
    A = net.forward(np.zeros((784, 3), np.float32))
    assert A.shape == (10, 3) and A.dtype == np.float32
    np.testing.assert_allclose(A.sum(axis=0), 1, rtol=1e-6)


def test_forward_is_the_layers_composed():
    net = _small()
    X, _ = _batch(3)
    images = X.T.reshape(3, 1, 28, 28)
    P1 = max_pool2d(np.maximum(conv2d(images, net.W[0], net.b[0]), 0))
    P2 = max_pool2d(np.maximum(conv2d(P1, net.W[1], net.b[1]), 0))
    H = np.maximum(net.W[2] @ P2.reshape(3, -1).T + net.b[2], 0)
    Z = net.W[3] @ H + net.b[3]
    expected = np.exp(Z - Z.max(axis=0)) / np.exp(Z - Z.max(axis=0)).sum(axis=0)
    np.testing.assert_allclose(net.forward(X), expected, rtol=1e-10)
    maps = net.feature_maps(X)
    assert [M.shape for M in maps] == [(3, 2, 24, 24), (3, 3, 8, 8)]


def test_predicting_in_batches_changes_nothing():
    net = _small(np.float32)
    X, _ = _batch(7)
    # Equal up to float32 rounding: the matrix products' blocking depends on their sizes.
    np.testing.assert_allclose(net.predict_proba(X, batch_size=3),
                               net.predict_proba(X, batch_size=100), rtol=1e-5, atol=1e-7)


def test_fit_trains_it():
    net = CNN((4, 8), kernel=5, hidden=(16,), seed=1)
    rng = np.random.default_rng(0)
    # Two classes that a convolution sees at once: a bright row or a bright column.
    X = rng.random((784, 64), dtype=np.float32) * 0.2
    y = np.arange(64) % 2
    images = X.T.reshape(64, 28, 28)
    images[y == 0, 14, 4:24] = 1.0
    images[y == 1, 4:24, 14] = 1.0
    before = net.loss(X, y)
    history = fit(net, Adam(lr=3e-3), X, y, epochs=8, batch_size=16, seed=0)
    assert len(history) == 8
    loss, accuracy = evaluate(net, X, y)
    assert loss < before / 4 and accuracy == 1.0


@pytest.mark.parametrize("image", ["random", "flat"])
def test_the_fast_pass_computes_the_taught_one(image):
    # float64, so that only the order of the sums differs; "flat" images make every
    # pooling window a tie of equal positive values, which both must break alike.
    net = _small()
    X, y = _batch(5)
    if image == "flat":
        X[:] = 0.5
        for b in net.b:
            b[...] = 0.3
    A = net.forward(X)
    taught = [g.copy() for g in net.backward(y)]
    P, cache = fast_cnn.forward(net, np.ascontiguousarray(X.T))
    np.testing.assert_allclose(P, A.T, rtol=1e-12, atol=1e-15)
    fast_cnn.backward(net, P, y, cache)
    for i, (mine, theirs) in enumerate(zip(net.gradients, taught, strict=True)):
        np.testing.assert_allclose(mine, theirs, rtol=1e-10, atol=1e-14,
                                   err_msg=f"{'Wb'[i % 2]}{i // 2 + 1}")


def test_the_fast_epoch_takes_the_taught_steps():
    X, y = _batch(96, seed=3)
    plain, fast = _small(seed=4), _small(seed=4)
    results = [epoch(net, Adam(lr=1e-3), X, y, 32, np.random.default_rng(7))
               for epoch, net in ((train.train_epoch, plain), (fast_cnn.train_epoch, fast))]
    assert results[0] == pytest.approx(results[1], rel=1e-12)
    for p, q in zip(plain.params, fast.params, strict=True):
        np.testing.assert_allclose(p, q, rtol=1e-9, atol=1e-12)


def test_the_same_seed_gives_the_same_network():
    a, b = CNN(seed=3), CNN(seed=3)
    assert all(np.array_equal(p, q) for p, q in zip(a.params, b.params, strict=True))
    assert not np.array_equal(CNN(seed=4).W[0], a.W[0])


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="does not leave a side divisible by 2"):
        CNN((8, 8, 8), kernel=5)
    with pytest.raises(ValueError, match="expected positive widths"):
        CNN((), hidden=(8,))
    with pytest.raises(ValueError, match=r"X: expected \(784, m\).*got \(3, 784\)"):
        CNN().forward(np.zeros((3, 784), np.float32))
    with pytest.raises(RuntimeError, match="call forward"):
        CNN().backward(np.zeros(1, np.intp))


# --------------------------------------------------------------------------- model files


def test_a_cnn_file_round_trips_bitwise(tmp_path: Path):
    net = _small(np.float32, seed=2)
    path = save_model(tmp_path / "cnn.npz", net, metadata={"note": "x"})
    loaded, meta = load_model(path)
    assert isinstance(loaded, CNN) and meta["architecture"] == "cnn"
    assert (loaded.channels, loaded.kernel, loaded.hidden) == ((2, 3), 5, (6,))
    assert all(np.array_equal(p, q) and p.dtype == q.dtype
               for p, q in zip(net.params, loaded.params, strict=True))
    X, _ = _batch(5)
    np.testing.assert_array_equal(loaded.predict_proba(X), net.predict_proba(X))
    assert load_model(save_model(tmp_path / "f64.npz", _small()))[0].dtype == np.float64


def test_one_architecture_loaded_as_another_is_one_clear_error(tmp_path: Path):
    cnn = save_model(tmp_path / "cnn.npz", _small(np.float32))
    mlp = save_model(tmp_path / "mlp.npz", MLP())
    with pytest.raises(ModelFileError, match="expected a model file of architecture 'mlp', "
                                             "found one of 'cnn'"):
        load_model(cnn, architecture="mlp")
    with pytest.raises(ModelFileError, match="architecture 'cnn', found one of 'mlp'"):
        load_model(mlp, architecture="cnn")
    assert isinstance(load_model(mlp, architecture="mlp")[0], MLP)


def _rewrite(path: Path, out: Path, change) -> Path:
    with np.load(path) as archive:
        arrays = {name: archive[name] for name in archive.files}
    meta = json.loads(arrays["meta"].tobytes())
    change(arrays, meta)
    arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), np.uint8)
    np.savez(out, **arrays)
    return out


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("layers", r"expected 'cnn' as"),
        ("sizes", r"expected sizes \[784, 48, 6, 10\]"),
        ("shape", r"expected W2 of shape \(3, 2, 5, 5\).*found \(3, 2, 3, 3\)"),
        ("missing", r"expected arrays W1, b1, W2, b2, W3, b3, W4, b4"),
        ("nan", r"NaN or infinity in W1"),
        ("kind", r"expected 'architecture' 'mlp' or 'cnn', found 'rnn'"),
    ],
)
def test_bad_cnn_files_are_refused(tmp_path: Path, case: str, message: str):
    good = save_model(tmp_path / "good.npz", _small(np.float32))

    def change(arrays, meta):
        if case == "layers":
            meta["cnn"] = {"channels": [2, 3]}
        elif case == "sizes":
            meta["sizes"] = [784, 40, 6, 10]
        elif case == "shape":
            arrays["W2"] = np.zeros((3, 2, 3, 3), np.float32)
        elif case == "missing":
            del arrays["b4"]
        elif case == "nan":
            arrays["W1"] = np.full_like(arrays["W1"], np.nan)
        else:
            meta["architecture"] = "rnn"

    bad = _rewrite(good, tmp_path / "bad.npz", change)
    assert zipfile.is_zipfile(bad)
    with pytest.raises(ModelFileError, match=message):
        load_model(bad)


def test_the_browser_export_refuses_a_cnn(tmp_path: Path):
    with pytest.raises(ModelFileError, match="expected an MLP to export for the browser"):
        export_for_browser(_small(np.float32), tmp_path / "m.js")
    assert not (tmp_path / "m.js").exists()

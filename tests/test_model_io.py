"""Model files: bitwise round trip, metadata, atomic writes, every bad file refused clearly."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nnmath import model_io
from nnmath.data import scale_pixels, to_columns
from nnmath.mlp import MLP
from nnmath.model_io import (
    FORMAT_VERSION,
    ModelFileError,
    default_model_path,
    load_model,
    save_model,
    shipped_model_path,
)
from nnmath.recipes import CNN_RECIPE
from nnmath.regularise import RegularisedMLP
from nnmath.train import evaluate


def _model(sizes=(784, 16, 10), seed=3, dtype=np.float32) -> MLP:
    """A network whose every parameter (biases too) is random, so nothing is left at 0."""
    model = MLP(sizes, seed=seed, dtype=dtype)
    rng = np.random.default_rng(seed)
    model.set_flat_params(rng.standard_normal(model.n_params))
    return model


def _write_npz(path: Path, arrays: dict[str, np.ndarray]) -> Path:
    with path.open("wb") as f:
        np.savez(f, **arrays)
    return path


def _meta(**meta) -> np.ndarray:
    return np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)


def _arrays(model: MLP, **meta) -> dict[str, np.ndarray]:
    """The arrays save_model would write, with ``meta`` overriding the defaults."""
    base = {"format_version": FORMAT_VERSION, "sizes": list(model.sizes)}
    base.update(meta)
    names = [f"{k}{l}" for l in range(1, model.L + 1) for k in "Wb"]
    return {"meta": _meta(**base), **dict(zip(names, model.params, strict=True))}


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


# --------------------------------------------------------------------------- round trip


def test_round_trip_is_bitwise_equal(tmp_path: Path) -> None:
    model = _model()
    path = save_model(
        tmp_path / "m.npz", model, metadata={"seed": 3, "test_accuracy": 0.5}
    )
    loaded, meta = load_model(path)
    assert loaded.sizes == model.sizes
    assert loaded.dtype == np.float32
    for a, b in zip(loaded.params, model.params, strict=True):
        assert a.dtype == b.dtype
        assert a.tobytes() == b.tobytes()
    X = np.random.default_rng(0).random((784, 5), dtype=np.float32)
    assert np.array_equal(loaded.predict_proba(X), model.predict_proba(X))
    assert meta["seed"] == 3
    assert meta["test_accuracy"] == 0.5


@settings(max_examples=15, deadline=None)
@given(
    sizes=st.lists(st.integers(1, 6), min_size=2, max_size=4),
    dtype=st.sampled_from([np.float32, np.float64]),
    seed=st.integers(0, 2**32 - 1),
)
def test_round_trip_any_network(tmp_path_factory, sizes, dtype, seed) -> None:
    model = _model(sizes, seed=seed, dtype=dtype)
    path = save_model(tmp_path_factory.mktemp("m") / "m.npz", model)
    loaded, _ = load_model(path)
    assert loaded.sizes == tuple(sizes)
    assert loaded.flat_params().dtype == np.dtype(dtype)
    assert loaded.flat_params().tobytes() == model.flat_params().tobytes()


def test_metadata_has_the_required_keys_and_keeps_the_callers(tmp_path: Path) -> None:
    recipe = {"optimizer": "adam", "lr": 1e-3}
    path = save_model(
        tmp_path / "m.npz",
        _model(),
        metadata={"recipe": recipe, "seed": np.int64(7), "sizes": [1, 2]},
    )
    _, meta = load_model(path)
    assert meta["format_version"] == 1
    assert meta["sizes"] == [784, 16, 10]  # the model's own, never the caller's
    assert meta["preprocessing"].startswith("mnist: 28x28")
    assert meta["nnmath_version"] == __import__("nnmath").__version__
    assert meta["recipe"] == recipe
    assert meta["seed"] == 7
    with np.load(path, allow_pickle=False) as archive:
        assert sorted(archive.files) == ["W1", "W2", "b1", "b2", "meta"]
        assert archive["meta"].dtype == np.uint8


# --------------------------------------------------------------------------- atomic writes


def test_a_failed_write_leaves_nothing(tmp_path: Path, monkeypatch) -> None:
    def broken_savez(f, **arrays):
        f.write(b"PK\x03\x04 half an archive")
        raise OSError("disk full")

    monkeypatch.setattr(model_io.np, "savez", broken_savez)
    with pytest.raises(OSError, match="disk full"):
        save_model(tmp_path / "m.npz", _model())
    assert _leftovers(tmp_path) == []


def test_a_failed_write_keeps_the_old_file(tmp_path: Path, monkeypatch) -> None:
    path = save_model(tmp_path / "m.npz", _model(seed=1))
    before = path.read_bytes()

    def interrupted(f, **arrays):
        raise KeyboardInterrupt

    monkeypatch.setattr(model_io.np, "savez", interrupted)
    with pytest.raises(KeyboardInterrupt):
        save_model(path, _model(seed=2))
    assert path.read_bytes() == before
    assert _leftovers(tmp_path) == ["m.npz"]


def test_unserialisable_metadata_writes_nothing(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError, match="JSON"):
        save_model(tmp_path / "m.npz", _model(), metadata={"f": object()})
    assert _leftovers(tmp_path) == []


def test_missing_folder_is_reported(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError, match="does not exist"):
        save_model(tmp_path / "no" / "m.npz", _model())


def test_saved_file_is_readable_by_others(tmp_path: Path) -> None:
    path = save_model(tmp_path / "m.npz", _model())
    assert path.stat().st_mode & 0o044  # not mkstemp's private 0600


# --------------------------------------------------------------------------- bad files


def _truncated(tmp_path: Path) -> Path:
    good = save_model(tmp_path / "good.npz", _model()).read_bytes()
    path = tmp_path / "bad.npz"
    path.write_bytes(good[: len(good) // 2])
    return path


def _corrupt(tmp_path: Path) -> Path:
    data = bytearray(save_model(tmp_path / "good.npz", _model()).read_bytes())
    middle = len(data) // 3  # inside W1's stored bytes: the CRC no longer matches
    data[middle : middle + 16] = bytes(16)
    path = tmp_path / "bad.npz"
    path.write_bytes(bytes(data))
    return path


def _with(tmp_path: Path, **changes) -> Path:
    """A model file with arrays changed (None removes one) or meta replaced."""
    arrays = _arrays(_model())
    for name, value in changes.items():
        if value is None:
            arrays.pop(name)
        else:
            arrays[name] = value
    return _write_npz(tmp_path / "bad.npz", arrays)


def _nan(tmp_path: Path, value: float) -> Path:
    arrays = _arrays(_model())
    W2 = arrays["W2"].copy()
    W2[3, 1] = value
    arrays["W2"] = W2
    return _write_npz(tmp_path / "bad.npz", arrays)


def _text(tmp_path: Path) -> Path:
    path = tmp_path / "bad.npz"
    path.write_text("W1,b1\n1,2\n")
    return path


def _npy(tmp_path: Path) -> Path:
    path = tmp_path / "bad.npy"
    np.save(path, np.zeros(3))
    return path


def _zip_of_text(tmp_path: Path) -> Path:
    path = tmp_path / "bad.npz"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("meta.txt", "hello")
    return path


def _pickled(tmp_path: Path) -> Path:
    buffer = io.BytesIO()
    np.savez(
        buffer, meta=_meta(format_version=1, sizes=[2, 1]), W1=np.array([{"x": 1}])
    )
    path = tmp_path / "bad.npz"
    path.write_bytes(buffer.getvalue())
    return path


def _empty(tmp_path: Path) -> Path:
    path = tmp_path / "bad.npz"
    path.write_bytes(b"")
    return path


BAD_FILES = {
    "missing file": (lambda t: t / "nothing.npz", "no such file"),
    "a folder": (lambda t: t, "a folder"),
    "empty file": (_empty, "starting with b''"),
    "text, not a zip": (_text, "starting with b'W1,b'"),
    "a single .npy": (_npy, "starting with b'\\\\x93NUM'"),
    "truncated": (_truncated, "truncated or corrupt"),
    "corrupt bytes": (_corrupt, "truncated or corrupt"),
    "zip of non-arrays": (_zip_of_text, "not an array"),
    "pickled object array": (_pickled, "truncated or corrupt"),
    "no meta": (lambda t: _with(t, meta=None), "expected an array 'meta'"),
    "meta not JSON": (
        lambda t: _with(t, meta=np.frombuffer(b"\xff{", np.uint8)),
        "UTF-8 JSON",
    ),
    "meta not uint8": (
        lambda t: _with(t, meta=np.zeros(3)),
        "uint8 vector",
    ),
    "meta not an object": (
        lambda t: _with(t, meta=np.frombuffer(b"[1]", np.uint8)),
        "JSON object",
    ),
    "unknown format_version": (
        lambda t: _with(t, meta=_meta(format_version=2, sizes=[784, 16, 10])),
        "expected format_version 1, found 2",
    ),
    "bad sizes": (
        lambda t: _with(t, meta=_meta(format_version=1, sizes=[784, "16", 10])),
        "'sizes'",
    ),
    "missing array": (lambda t: _with(t, W2=None), "expected arrays W1, b1, W2, b2"),
    "extra array": (lambda t: _with(t, W3=np.zeros((2, 2))), "found W1, W2, W3"),
    "wrong shape": (
        lambda t: _with(t, W2=np.zeros((10, 17), np.float32)),
        r"expected W2 of shape \(10, 16\).*found \(10, 17\)",
    ),
    "wrong bias shape": (
        lambda t: _with(t, b1=np.zeros(16, np.float32)),
        r"expected b1 of shape \(16, 1\).*found \(16,\)",
    ),
    "sizes disagree": (
        lambda t: _with(t, meta=_meta(format_version=1, sizes=[784, 32, 10])),
        r"expected W1 of shape \(32, 784\)",
    ),
    "integer arrays": (
        lambda t: _with(t, b2=np.zeros((10, 1), np.int32)),
        "b2 int32",
    ),
    "NaN": (lambda t: _nan(t, np.nan), "NaN or infinity in W2"),
    "infinity": (lambda t: _nan(t, -np.inf), "NaN or infinity in W2"),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_bad_files_are_refused_with_one_clear_error(tmp_path: Path, case: str) -> None:
    make, expected = BAD_FILES[case]
    path = make(tmp_path)
    with pytest.raises(ModelFileError, match=expected) as info:
        load_model(path)
    message = str(info.value)
    assert message.startswith(f"{path}:"), message  # names the file
    assert "expected" in message
    assert "\n" not in message
    assert isinstance(info.value, ValueError)


def test_loading_never_unpickles(tmp_path: Path, monkeypatch) -> None:
    import pickle

    def forbidden(*args, **kwargs):
        raise AssertionError("pickle.load called")

    monkeypatch.setattr(pickle, "load", forbidden)
    monkeypatch.setattr(pickle, "loads", forbidden)
    with pytest.raises(ModelFileError):
        load_model(_pickled(tmp_path))


# --------------------------------------------------------------------------- regularised


def test_a_regularised_network_round_trips(tmp_path: Path) -> None:
    model = RegularisedMLP((784, 16, 10), seed=2, l2=1e-3, dropout=0.25)
    model.set_flat_params(np.random.default_rng(2).standard_normal(model.n_params))
    path = save_model(tmp_path / "r.npz", model, metadata={"regularisation": "ignored"})
    loaded, meta = load_model(path)
    assert type(loaded) is RegularisedMLP
    assert (loaded.l2, loaded.dropout) == (1e-3, 0.25)
    assert meta["regularisation"] == {"l2": 1e-3, "dropout": 0.25}
    assert loaded.flat_params().tobytes() == model.flat_params().tobytes()
    plain, meta = load_model(save_model(tmp_path / "p.npz", MLP((784, 16, 10))))
    assert type(plain) is MLP and "regularisation" not in meta


@pytest.mark.parametrize("found", [{"l2": -1.0, "dropout": 0.0}, {"l2": 0.1}, [0.1, 0.2]])
def test_a_bad_regularisation_is_refused(tmp_path: Path, found: object) -> None:
    path = save_model(tmp_path / "r.npz", RegularisedMLP((784, 16, 10), l2=0.1))
    arrays = dict(np.load(path))
    meta = json.loads(arrays["meta"].tobytes())
    meta["regularisation"] = found
    arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    _write_npz(path, arrays)
    with pytest.raises(ModelFileError, match="expected 'regularisation' as"):
        load_model(path)


# --------------------------------------------------------------------------- the default model


def test_default_model_ships_with_the_package() -> None:
    path = default_model_path()
    assert path.name == "default.npz" and path == shipped_model_path("default")
    assert path.parent.name == "models"
    assert path.stat().st_size < 1_500_000
    model, meta = load_model(path, architecture="cnn")  # Part V's network reads best
    assert (model.channels, model.kernel, model.hidden) == ((16, 32), 5, (128,))
    assert model.dtype == np.float32
    assert meta["recipe"]["network"] == "cnn"
    assert meta["recipe"]["augment"] == "distort-gentle"
    assert meta["recipe"]["epochs"] == CNN_RECIPE["epochs"]
    assert meta["recipe"]["lr"] == CNN_RECIPE["lr0"]
    assert meta["recipe"]["dev_size"] == CNN_RECIPE["dev_size"]


def test_the_perceptron_ships_for_the_web_page() -> None:
    path = shipped_model_path("mlp")
    assert path.is_file() and path.stat().st_size < 1_500_000
    model, meta = load_model(path)
    assert type(model) is MLP  # a file written before regularisation had a class of its own
    assert model.sizes == (784, 256, 128, 10)
    assert model.dtype == np.float32
    assert isinstance(meta["seed"], int)
    assert meta["recipe"]["arch"] == "784-256-128-10"
    assert meta["recipe"]["optimizer"] == "adam"
    assert meta["recipe"]["augment"] == "distort"
    assert 0 < meta["test_accuracy"] <= 1


def test_the_undistorted_model_ships_to_compare() -> None:
    model, meta = load_model(shipped_model_path("undistorted"))
    assert model.sizes == (784, 128, 64, 10)
    assert "augment" not in meta["recipe"]  # trained before --augment existed: none
    with pytest.raises(ValueError, match="expected one of default, mlp, undistorted, judge"):
        shipped_model_path("best")


@pytest.mark.parametrize(("name", "bar"), [("default", 0.994), ("mlp", 0.985)])
def test_shipped_models_reach_their_bars_on_the_official_test_set(mnist, name, bar) -> None:
    model, meta = load_model(shipped_model_path(name))
    X = scale_pixels(to_columns(mnist.test_images))
    assert X.shape == (784, 10_000)
    _, accuracy = evaluate(model, X, mnist.test_labels.astype(np.intp))
    assert accuracy >= bar, f"{name} model: {accuracy:.4f} on the test set"
    # the accuracy recorded when it was trained is the one measured now (BLAS may differ
    # by an image or two)
    assert accuracy == pytest.approx(meta["test_accuracy"], abs=3e-4)


@pytest.mark.parametrize("name", ["default", "mlp"])
def test_the_readme_states_each_models_seed_and_test_accuracy(name) -> None:
    _, meta = load_model(shipped_model_path(name))
    readme = (default_model_path().parent / "README.md").read_text()
    section = readme.split(f"## `{name}.npz`")[1].split("\n## ")[0]
    assert f"--seed {meta['seed']}" in section
    assert f"{100 * meta['test_accuracy']:.2f}%" in section


# --------------------------------------------------------------------------- the browser


def _read_browser_file(path: Path) -> dict:
    """The object of ``window.NNMATH_MODEL = {...};`` in a file of export_for_browser."""
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("/*") and lines[0].endswith("*/")
    prefix = f"window.{model_io.BROWSER_GLOBAL} = "
    assert len(lines) == 2 and lines[1].startswith(prefix) and lines[1].endswith(";")
    return json.loads(lines[1][len(prefix) : -1])


def _decoded(exported: dict) -> list[np.ndarray]:
    """[W1, b1, ..., WL, bL] from the base64 strings, in the book's shapes."""
    import base64

    dtype = np.dtype(exported["dtype"]).newbyteorder("<")
    sizes = exported["sizes"]
    params = []
    for l, (W, b) in enumerate(zip(exported["W"], exported["b"], strict=True), start=1):
        params.append(np.frombuffer(base64.b64decode(W), dtype=dtype).reshape(
            sizes[l], sizes[l - 1]))
        params.append(np.frombuffer(base64.b64decode(b), dtype=dtype).reshape(-1, 1))
    return params


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_browser_export_holds_the_parameters_bitwise(tmp_path: Path, dtype) -> None:
    model = _model(sizes=(784, 12, 7, 10), dtype=dtype)
    path = model_io.export_for_browser(
        model, tmp_path / "model.js", metadata={"seed": np.int64(3)}
    )
    exported = _read_browser_file(path)
    assert exported["sizes"] == [784, 12, 7, 10]
    assert exported["dtype"] == np.dtype(dtype).name
    assert (exported["hidden"], exported["output"]) == ("relu", "softmax")
    assert exported["meta"] == {"seed": 3}
    params = _decoded(exported)
    for a, b in zip(params, model.params, strict=True):
        assert a.shape == b.shape
        assert a.astype(dtype).tobytes() == b.tobytes()
    assert _leftovers(tmp_path) == ["model.js"]


def test_browser_export_means_what_predict_proba_computes(tmp_path: Path) -> None:
    """ReLU layers, then the softmax, with W row by row: the forward pass a page runs."""
    model = _model(sizes=(784, 9, 6, 10))
    params = _decoded(_read_browser_file(
        model_io.export_for_browser(model, tmp_path / "model.js")))
    X = np.random.default_rng(1).random((784, 4)).astype(np.float64)
    A = X
    for l in range(0, len(params), 2):
        Z = params[l].astype(np.float64) @ A + params[l + 1]
        A = np.maximum(Z, 0) if l < len(params) - 2 else np.exp(Z - Z.max(axis=0))
    A = A / A.sum(axis=0)
    assert np.allclose(A, model.predict_proba(X.astype(np.float32)), atol=1e-5)


def test_browser_export_fails_cleanly(tmp_path: Path) -> None:
    model = _model()
    with pytest.raises(ModelFileError, match="does not exist"):
        model_io.export_for_browser(model, tmp_path / "missing" / "model.js")
    with pytest.raises(ModelFileError, match="JSON-serialisable"):
        model_io.export_for_browser(
            model, tmp_path / "model.js", metadata={"bad": float("nan")}
        )
    with pytest.raises(ModelFileError, match="JSON-serialisable"):
        model_io.export_for_browser(model, tmp_path / "model.js", metadata={"f": object()})
    assert _leftovers(tmp_path) == []

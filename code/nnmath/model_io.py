"""Save and load a trained network (:class:`~nnmath.mlp.MLP` or :class:`~nnmath.cnn.CNN`):
one ``.npz`` file, no pickle.

A model file is a NumPy ``.npz`` archive holding the parameters ``W1, b1, ..., WL, bL``
(the book's shapes: ``W[l]`` ``(n_l, n_(l-1))``, ``b[l]`` ``(n_l, 1)``) and one array
``meta``: UTF-8 JSON bytes stored as a ``uint8`` vector, with at least

- ``format_version`` (int, :data:`FORMAT_VERSION`), ``sizes`` (the widths n_0..n_L),
- ``preprocessing`` (what an input column must look like), ``nnmath_version``,
- for a :class:`~nnmath.regularise.RegularisedMLP`, ``regularisation``: ``{"l2": lambda,
  "dropout": p}`` (a file without it holds a plain :class:`~nnmath.mlp.MLP`),
- for a :class:`~nnmath.cnn.CNN`, ``architecture`` ``"cnn"`` and ``cnn``: ``{"channels":
  [...], "kernel": k, "hidden": [...]}``, with its convolutions' W ``(c_out, c_in, k, k)``
  and b ``(c_out,)`` (a file without ``architecture`` holds an ``"mlp"``),

plus whatever the caller adds (``test_accuracy``, ``seed``, the training recipe, ...).
Files are written atomically and read with ``allow_pickle=False``; anything unexpected
raises :class:`ModelFileError` naming the file, what was expected and what was found.
"""

from __future__ import annotations

import base64
import json
import os
import zipfile
import zlib
from collections.abc import Mapping
from importlib import metadata as importlib_metadata
from importlib import resources
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np

import nnmath
from nnmath.cnn import CNN
from nnmath.files import json_default, write_atomically
from nnmath.mlp import MLP
from nnmath.regularise import RegularisedMLP

__all__ = [
    "ARCHITECTURES",
    "BROWSER_GLOBAL",
    "FORMAT_VERSION",
    "PREPROCESSING",
    "SHIPPED",
    "ModelFileError",
    "architecture",
    "default_model_path",
    "export_for_browser",
    "load_default_model",
    "load_model",
    "save_model",
    "shipped_model_path",
]

#: The version of the file layout written by :func:`save_model`.
FORMAT_VERSION = 1
#: How an input column was prepared for the models this package trains.
PREPROCESSING = "mnist: 28x28, ink white on black, pixels/255, column of 784"
#: The first bytes of a zip archive (an .npz file): a file entry, or an empty archive.
ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
#: The arrays' dtypes a model file may hold.
FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
#: The kinds of network a model file can hold (its ``architecture``).
ARCHITECTURES = ("mlp", "cnn")
#: The global that a file written by :func:`export_for_browser` defines.
BROWSER_GLOBAL = "NNMATH_MODEL"


class ModelFileError(ValueError):
    """A model file is missing, unreadable or not what :func:`save_model` writes."""


def _nnmath_version() -> str:
    """``nnmath.__version__``, else the installed distribution's version, else "unknown"."""
    version = getattr(nnmath, "__version__", None)
    if version:
        return str(version)
    try:
        return importlib_metadata.version("nnmath")
    except importlib_metadata.PackageNotFoundError:
        return "unknown"


def _param_names(n_layers: int) -> list[str]:
    """``["W1", "b1", ..., "WL", "bL"]``, the order of :attr:`MLP.params`."""
    return [f"{kind}{l}" for l in range(1, n_layers + 1) for kind in "Wb"]


def _encode_meta(meta: Mapping[str, Any]) -> np.ndarray:
    """``meta`` as UTF-8 JSON bytes in a ``uint8`` vector ``(k,)``."""
    text = json.dumps(dict(meta), default=json_default, sort_keys=True, allow_nan=True)
    return np.frombuffer(text.encode("utf-8"), dtype=np.uint8)


def architecture(model: MLP | CNN) -> str:
    """``"cnn"`` for a :class:`~nnmath.cnn.CNN`, ``"mlp"`` for an MLP."""
    return "cnn" if isinstance(model, CNN) else "mlp"


def save_model(
    path: str | os.PathLike[str],
    model: MLP | CNN,
    *,
    metadata: Mapping[str, Any] | None = None,
) -> Path:
    """Write ``model``'s parameters and metadata to ``path`` (``.npz``), atomically.

    ``metadata`` (JSON-serialisable) is stored beside ``format_version``, ``sizes``,
    ``preprocessing``, ``nnmath_version`` and, for a
    :class:`~nnmath.regularise.RegularisedMLP`, ``regularisation``; those keys are always
    the package's own. The file appears only when complete (temporary file in the same
    folder, flushed, fsynced, renamed); on any error nothing is left at ``path``. Returns
    ``path``.
    """
    path = Path(path)
    meta: dict[str, Any] = {"preprocessing": PREPROCESSING}
    meta.update(metadata or {})
    meta.update(
        format_version=FORMAT_VERSION,
        sizes=list(model.sizes),
        nnmath_version=_nnmath_version(),
    )
    for key in ("regularisation", "architecture", "cnn"):
        meta.pop(key, None)
    meta["architecture"] = architecture(model)
    if isinstance(model, CNN):
        meta["cnn"] = {"channels": list(model.channels), "kernel": model.kernel,
                       "hidden": list(model.hidden)}
    if isinstance(model, RegularisedMLP):
        meta["regularisation"] = {"l2": model.l2, "dropout": model.dropout}
    if not path.parent.is_dir():
        raise ModelFileError(
            f"{path}: cannot write the model, folder {path.parent} does not exist"
        )
    try:
        arrays = {"meta": _encode_meta(meta)}
    except (TypeError, ValueError) as err:
        raise ModelFileError(
            f"{path}: metadata must be JSON-serialisable, found {err}"
        ) from err
    params = model.params
    arrays.update(zip(_param_names(model.L), params, strict=True))
    write_atomically(path, lambda f: np.savez(f, **arrays))
    return path


# --------------------------------------------------------------------------- loading


def _read_arrays(path: Path) -> dict[str, np.ndarray]:
    """Every array of the archive at ``path``, read eagerly, never unpickled."""
    if not path.is_file():
        what = "a folder" if path.is_dir() else "no such file"
        raise ModelFileError(f"{path}: expected a model file (.npz), found {what}")
    with path.open("rb") as f:
        start = f.read(4)
    if start not in ZIP_MAGIC:
        raise ModelFileError(
            f"{path}: expected an .npz model archive (a zip file, starting with b'PK'), "
            f"found a file starting with {start!r}"
        )
    try:
        archive = np.load(path, allow_pickle=False)
        if not isinstance(archive, np.lib.npyio.NpzFile):
            raise ModelFileError(
                f"{path}: expected an .npz archive of arrays, found a single .npy array"
            )
        with archive:
            arrays = {name: archive[name] for name in archive.files}
    except ModelFileError:
        raise
    except (
        OSError,
        ValueError,
        EOFError,
        KeyError,
        zipfile.BadZipFile,
        zlib.error,
    ) as err:
        raise ModelFileError(
            f"{path}: expected an .npz model archive, found a file that is not one or is "
            f"truncated or corrupt ({type(err).__name__}: {err})"
        ) from err
    for name, value in arrays.items():
        if not isinstance(value, np.ndarray):  # a zip member that is not a .npy array
            raise ModelFileError(
                f"{path}: expected only .npy arrays in the archive, found {name!r} "
                "(not an array)"
            )
    return arrays


def _decode_meta(path: Path, raw: np.ndarray | None) -> dict[str, Any]:
    """The metadata dict from the ``meta`` array, checked for version and sizes."""
    if raw is None:
        raise ModelFileError(
            f"{path}: expected an array 'meta' (UTF-8 JSON), found none; "
            "not a file written by nnmath.model_io.save_model"
        )
    if raw.dtype != np.uint8 or raw.ndim != 1:
        raise ModelFileError(
            f"{path}: expected 'meta' as a uint8 vector of JSON bytes, "
            f"found dtype {raw.dtype} with shape {raw.shape}"
        )
    try:
        meta = json.loads(raw.tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ModelFileError(
            f"{path}: expected UTF-8 JSON in 'meta', found undecodable bytes ({err})"
        ) from err
    if not isinstance(meta, dict):
        raise ModelFileError(
            f"{path}: expected a JSON object in 'meta', found {type(meta).__name__}"
        )
    version = meta.get("format_version")
    if version != FORMAT_VERSION or isinstance(version, bool):
        raise ModelFileError(
            f"{path}: expected format_version {FORMAT_VERSION}, found {version!r} "
            "(written by another version of nnmath?)"
        )
    sizes = meta.get("sizes")
    if not (
        isinstance(sizes, list)
        and len(sizes) >= 2
        and all(
            isinstance(n, int) and not isinstance(n, bool) and n >= 1 for n in sizes
        )
    ):
        raise ModelFileError(
            f"{path}: expected 'sizes' as a list of at least two positive integers, "
            f"found {sizes!r}"
        )
    return meta


def _check_params(
    path: Path, arrays: Mapping[str, np.ndarray], sizes: list[int]
) -> list[np.ndarray]:
    """The parameters ``[W1, b1, ..., WL, bL]``, checked against ``sizes``."""
    names = _param_names(len(sizes) - 1)
    missing = [name for name in names if name not in arrays]
    extra = sorted(set(arrays) - set(names) - {"meta"})
    if missing or extra:
        raise ModelFileError(
            f"{path}: expected arrays {', '.join(names)} for sizes {sizes}, "
            f"found {', '.join(sorted(set(arrays) - {'meta'})) or 'none'}"
        )
    params = [arrays[name] for name in names]
    for l, (n_prev, n) in enumerate(pairwise(sizes), start=1):
        for name, shape in ((f"W{l}", (n, n_prev)), (f"b{l}", (n, 1))):
            found = arrays[name]
            if found.shape != shape:
                raise ModelFileError(
                    f"{path}: expected {name} of shape {shape} for sizes {sizes}, "
                    f"found {found.shape}"
                )
    return _finite_floats(path, names, params)


def _finite_floats(path: Path, names: list[str], params: list[np.ndarray]) -> list[np.ndarray]:
    """``params`` if all are float32 (or all float64) and finite."""
    dtypes = {p.dtype for p in params}
    if len(dtypes) != 1 or dtypes.pop() not in FLOAT_DTYPES:
        raise ModelFileError(
            f"{path}: expected every parameter as float32 (or every one float64), "
            f"found {', '.join(f'{n} {p.dtype}' for n, p in zip(names, params, strict=True))}"
        )
    for name, p in zip(names, params, strict=True):
        if not np.all(np.isfinite(p)):
            raise ModelFileError(
                f"{path}: expected finite parameters, found NaN or infinity in {name}"
            )
    return params


def load_model(
    path: str | os.PathLike[str], architecture: str | None = None
) -> tuple[MLP | CNN, dict[str, Any]]:
    """Read a model written by :func:`save_model`: ``(network, metadata)``.

    The network is the file's ``architecture`` (an :class:`~nnmath.mlp.MLP`, or a
    :class:`~nnmath.cnn.CNN`), with the file's ``sizes`` or layers, dtype, regularisation (a
    :class:`~nnmath.regularise.RegularisedMLP` when the file records one) and exactly its
    parameters (a round trip is bitwise equal). ``architecture`` (``"mlp"`` or ``"cnn"``),
    when given, is what the caller expects: a file of the other kind is refused. Raises
    :class:`ModelFileError` for a missing, non-npz, truncated or corrupt file, a missing
    ``meta``, an unknown ``format_version`` or architecture, missing arrays, wrong shapes,
    non-float arrays or NaN/infinity. Never unpickles anything.
    """
    if architecture is not None and architecture not in ARCHITECTURES:
        raise ValueError(
            f"architecture: expected one of {', '.join(ARCHITECTURES)}, got {architecture!r}"
        )
    path = Path(path)
    arrays = _read_arrays(path)
    meta = _decode_meta(path, arrays.get("meta"))
    found = meta.get("architecture", "mlp")
    if found not in ARCHITECTURES:
        raise ModelFileError(
            f"{path}: expected 'architecture' {' or '.join(map(repr, ARCHITECTURES))}, "
            f"found {found!r}"
        )
    if architecture is not None and found != architecture:
        raise ModelFileError(
            f"{path}: expected a model file of architecture {architecture!r}, found one of "
            f"{found!r}"
        )
    if found == "cnn":
        model: MLP | CNN
        model, params = _cnn(path, meta, arrays)
    else:
        params = _check_params(path, arrays, meta["sizes"])
        dtype = params[0].dtype.type
        regularisation = meta.get("regularisation")
        if regularisation is None:
            model = MLP(meta["sizes"], dtype=dtype)
        else:
            model = _regularised(path, meta["sizes"], dtype, regularisation)
    model.set_params(params)
    return model, meta


def _cnn(
    path: Path, meta: Mapping[str, Any], arrays: Mapping[str, np.ndarray]
) -> tuple[CNN, list[np.ndarray]]:
    """The :class:`~nnmath.cnn.CNN` that ``meta["cnn"]`` describes and its checked parameters."""
    found = meta.get("cnn")
    try:
        if not isinstance(found, dict) or set(found) != {"channels", "kernel", "hidden"}:
            raise TypeError(found)
        model = CNN(found["channels"], found["kernel"], found["hidden"])
    except (TypeError, ValueError) as err:
        raise ModelFileError(
            f"{path}: expected 'cnn' as {{\"channels\": [...], \"kernel\": k, \"hidden\": "
            f"[...]}}, found {found!r} ({err})"
        ) from err
    if list(model.sizes) != meta["sizes"]:
        raise ModelFileError(
            f"{path}: expected sizes {list(model.sizes)} for the layers {found}, found "
            f"{meta['sizes']}"
        )
    expected, names = _param_names(model.L), sorted(set(arrays) - {"meta"})
    if set(names) != set(expected):
        raise ModelFileError(
            f"{path}: expected arrays {', '.join(expected)} for {model}, found "
            f"{', '.join(names) or 'none'}"
        )
    for name, mine in zip(expected, model.params, strict=True):
        if arrays[name].shape != mine.shape:
            raise ModelFileError(
                f"{path}: expected {name} of shape {mine.shape} for {model}, found "
                f"{arrays[name].shape}"
            )
    params = _finite_floats(path, expected, [arrays[name] for name in expected])
    if params[0].dtype != model.dtype:
        model = CNN(model.channels, model.kernel, model.hidden, dtype=params[0].dtype)
    return model, params


def _regularised(path: Path, sizes: list[int], dtype: type, found: Any) -> RegularisedMLP:
    """The :class:`~nnmath.regularise.RegularisedMLP` that ``meta["regularisation"]`` names."""
    try:
        if set(found) != {"l2", "dropout"}:
            raise TypeError(sorted(found))
        return RegularisedMLP(sizes, l2=found["l2"], dropout=found["dropout"], dtype=dtype)
    except (TypeError, ValueError) as err:
        raise ModelFileError(
            f"{path}: expected 'regularisation' as {{\"l2\": lambda >= 0, \"dropout\": p in "
            f"[0, 1)}}, found {found!r} ({err})"
        ) from err


#: The models shipped with the package (``nnmath/models/<name>.npz``; see its README).
SHIPPED = ("default", "mlp", "undistorted", "judge")


def shipped_model_path(name: str = "default") -> Path:
    """The path of a model shipped with the package, ``nnmath/models/<name>.npz``.

    ``default`` is the one ``nnmath predict`` uses, Part V's convolutional network, which
    reads other writers best; ``mlp`` the perceptron trained on the same kind of distorted
    digits, which the book's web page runs; ``undistorted`` a perceptron trained on MNIST
    as it is, kept to compare; ``judge`` the network that tells a row reader whether a
    stretch of ink holds one digit (:func:`nnmath.segment.load_judge`).
    """
    if name not in SHIPPED:
        raise ValueError(f"name: expected one of {', '.join(SHIPPED)}, got {name!r}")
    return Path(str(resources.files("nnmath").joinpath("models", f"{name}.npz")))


def default_model_path() -> Path:
    """The path of the model ``nnmath predict`` uses: :func:`shipped_model_path`."""
    return shipped_model_path("default")


def load_default_model() -> tuple[MLP | CNN, dict[str, Any]]:
    """:func:`load_model` of :func:`default_model_path`."""
    return load_model(default_model_path())


# --------------------------------------------------------------------------- the browser


def export_for_browser(
    model: MLP,
    path: str | os.PathLike[str],
    *,
    metadata: Mapping[str, Any] | None = None,
) -> Path:
    """Write ``model`` as a JavaScript file that a web page loads with ``<script src>``.

    The file is one statement, ``window.NNMATH_MODEL = {...};`` (:data:`BROWSER_GLOBAL`),
    whose object is JSON: ``sizes`` (n_0..n_L), ``hidden`` (``"relu"``), ``output``
    (``"softmax"``), ``dtype`` (the model's, ``"float32"`` or ``"float64"``), ``W`` and
    ``b``, one base64 string per layer (little-endian, ``W[l]`` row by row as
    ``(n_l, n_(l-1))``, ``b[l]`` as ``n_l`` numbers), and ``meta``, the JSON-serialisable
    ``metadata``. A script, unlike ``fetch``, also loads from ``file://``. The values are the
    model's exactly (bitwise); the file is written atomically. Returns ``path``. Only
    an MLP: the page's JavaScript has no convolution.
    """
    path = Path(path)
    if not isinstance(model, MLP):
        raise ModelFileError(
            f"{path}: expected an MLP to export for the browser, got {type(model).__name__}"
        )
    if not path.parent.is_dir():
        raise ModelFileError(
            f"{path}: cannot write the model, folder {path.parent} does not exist"
        )
    dtype = np.dtype(model.dtype).newbyteorder("<")

    def encode(array: np.ndarray) -> str:
        return base64.b64encode(np.ascontiguousarray(array, dtype=dtype).tobytes()).decode()

    exported = {
        "sizes": list(model.sizes),
        "hidden": "relu",  # MLP.layer: ReLU below the top layer, softmax at the top
        "output": "softmax",
        "dtype": dtype.name,
        "W": [encode(W) for W in model.W],
        "b": [encode(b.reshape(-1)) for b in model.b],
        "meta": dict(metadata or {}),
    }
    try:
        text = json.dumps(exported, default=json_default, allow_nan=False)
    except (TypeError, ValueError) as err:
        raise ModelFileError(
            f"{path}: metadata must be JSON-serialisable (no NaN), found {err}"
        ) from err
    script = (
        f"/* {'-'.join(map(str, model.sizes))} network for the browser, written by "
        f"nnmath.model_io.export_for_browser (nnmath {_nnmath_version()}). */\n"
        f"window.{BROWSER_GLOBAL} = {text};\n"
    )
    write_atomically(path, lambda f: f.write(script.encode("utf-8")))
    return path

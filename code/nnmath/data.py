"""MNIST: find, download, verify and parse the IDX files; scale, split, one-hot.

Shapes follow the book's column convention: an example is a column, so a batch of
``m`` images is ``X`` with shape ``(784, m)`` and its one-hot labels ``Y`` have shape
``(10, m)``. :func:`load_mnist` itself returns the images as stored, ``(m, 28, 28)``
``uint8``, and never makes a float copy behind the reader's back.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import struct
import zlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np
import requests
from tqdm import tqdm  # plain bars: no widget warning inside a notebook

from nnmath import files, seeding

__all__ = [
    "CHECKSUMS",
    "MIRRORS",
    "MNIST",
    "PIXELS",
    "SIDE",
    "DataError",
    "load_mnist",
    "load_mnist_csv",
    "locate_mnist",
    "one_hot",
    "read_idx",
    "scale_pixels",
    "to_columns",
    "train_dev_split",
]

#: SHA-256 of the *decoded* IDX files: the canonical MNIST bytes.
CHECKSUMS: dict[str, str] = {
    "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}

#: Public mirrors of the gzip-compressed files, tried in order.
MIRRORS: tuple[str, ...] = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)

ENV_VAR = "NNMATH_DATA"
IMAGES_MAGIC = 2051  # 0x00000803: unsigned bytes, 3 dimensions
LABELS_MAGIC = 2049  # 0x00000801: unsigned bytes, 1 dimension
#: MNIST's images are SIDE x SIDE pixels: 28 x 28, a column of PIXELS = 784 numbers.
SIDE = 28
PIXELS = SIDE * SIDE


class DataError(RuntimeError):
    """A data file is missing, corrupt or malformed; the message says how to fix it."""


class MNIST(NamedTuple):
    """The four MNIST arrays as stored: images ``(m, 28, 28)`` and labels ``(m,)``, uint8."""

    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray


# --------------------------------------------------------------------------- IDX files


def _decode(raw: bytes, source: str | os.PathLike[str]) -> bytes:
    """``raw`` gunzipped when it starts with the gzip magic bytes, else as it is."""
    try:
        return gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw
    except (OSError, EOFError, zlib.error) as err:  # truncated or damaged gzip stream
        raise DataError(
            f"{source}: could not be decoded ({err}). "
            "Fix: delete it and run `python -m nnmath.data` to fetch it again."
        ) from err


def read_idx(path: str | os.PathLike[str], sha256: str | None = None) -> np.ndarray:
    """Parse one IDX file of unsigned bytes into a ``uint8`` array.

    Checks, in order: the SHA-256 of the decoded bytes (when ``sha256`` is given), the magic
    number (2051 for images, 2049 for labels), 28 x 28 images, and that the length matches
    the header. Returns ``(m, 28, 28)`` for images and ``(m,)`` for labels.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise DataError(f"{path}: could not be read ({err})") from err
    return _parse_idx(_decode(raw, path), path, sha256)


def _parse_idx(raw: bytes, source: str | os.PathLike[str], sha256: str | None) -> np.ndarray:
    """:func:`read_idx` of the decoded bytes ``raw``; ``source`` names them in messages."""
    fix = "Fix: delete it and run `python -m nnmath.data` to fetch it again."
    if sha256 is not None:
        found = hashlib.sha256(raw).hexdigest()
        if found != sha256:
            raise DataError(
                f"{source}: SHA-256 of the decoded bytes is {found}, expected {sha256} "
                f"(the file is corrupt or not the canonical MNIST file). {fix}"
            )
    if len(raw) < 8:
        raise DataError(
            f"{source}: {len(raw)} bytes is too short for an IDX header (8+). {fix}"
        )
    (magic,) = struct.unpack(">I", raw[:4])
    if magic == IMAGES_MAGIC:
        if len(raw) < 16:
            raise DataError(
                f"{source}: image header needs 16 bytes, found {len(raw)}. {fix}"
            )
        count, rows, cols = struct.unpack(">III", raw[4:16])
        if (rows, cols) != (SIDE, SIDE):
            raise DataError(
                f"{source}: images are {rows} x {cols}, expected 28 x 28. {fix}"
            )
        shape, offset = (count, rows, cols), 16
    elif magic == LABELS_MAGIC:
        (count,) = struct.unpack(">I", raw[4:8])
        shape, offset = (count,), 8
    else:
        raise DataError(
            f"{source}: magic number is {magic}, expected {IMAGES_MAGIC} (images) or "
            f"{LABELS_MAGIC} (labels); this is not an MNIST IDX file. {fix}"
        )
    expected = offset + int(np.prod(shape))
    if len(raw) != expected:
        raise DataError(
            f"{source}: header promises {expected} bytes, file has {len(raw)} "
            f"(truncated or padded). {fix}"
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=offset).reshape(shape)


def _find(folder: Path, name: str) -> Path | None:
    """The file ``name`` or ``name.gz`` in ``folder``, raw preferred; None when neither is."""
    for candidate in (folder / name, folder / f"{name}.gz"):
        if candidate.is_file():
            return candidate
    return None


# --------------------------------------------------------------------------- downloads


def _download(url: str, dest: Path, sha256: str) -> None:
    """Fetch ``url`` (gzip) into ``dest``: verified first, then written atomically."""
    body = io.BytesIO()
    with requests.get(url, stream=True, timeout=30) as resp:
        resp.raise_for_status()
        total = int(resp.headers.get("content-length", 0)) or None
        with tqdm(
            total=total, unit="B", unit_scale=True, desc=dest.name, disable=None, leave=False
        ) as bar:
            for chunk in resp.iter_content(chunk_size=1 << 16):
                body.write(chunk)
                bar.update(len(chunk))
    # verify before the file exists under its final name
    _parse_idx(_decode(body.getvalue(), url), url, sha256)
    dest.parent.mkdir(parents=True, exist_ok=True)
    files.write_atomically(dest, lambda f: f.write(body.getvalue()))


def _fetch(name: str, folder: Path, sha256: str, mirrors: Sequence[str]) -> Path:
    """Download ``name.gz`` into ``folder`` from the first mirror that serves good bytes."""
    dest = folder / f"{name}.gz"
    failures = []
    for mirror in mirrors:
        url = mirror.rstrip("/") + f"/{name}.gz"
        try:
            _download(url, dest, sha256)
            return dest
        except (requests.RequestException, DataError) as err:
            failures.append(f"  {url}: {err}")
    raise DataError(
        f"could not download {name}.gz from any mirror:\n" + "\n".join(failures) + "\n"
        f"Fix: connect to the internet, or put the four MNIST files in a folder and set "
        f"{ENV_VAR} to it (files: {', '.join(CHECKSUMS)}, raw or .gz)."
    )


# --------------------------------------------------------------------------- loading


def locate_mnist(
    folder: str | os.PathLike[str] | None = None,
    *,
    download: bool = True,
    mirrors: Sequence[str] = MIRRORS,
    checksums: Mapping[str, str] = CHECKSUMS,
) -> dict[str, Path]:
    """Find (or download) the four IDX files; return their paths by name.

    Where it looks: ``folder`` if given, else the folder in ``$NNMATH_DATA`` if set (which
    must then hold all four files), else the user cache, filled from ``mirrors`` when
    ``download`` is true.
    """
    if folder is None and os.environ.get(ENV_VAR):
        folder = os.environ[ENV_VAR]
    if folder is not None:
        folder = Path(folder).expanduser()
        source = (
            f"{ENV_VAR}={folder}"
            if str(folder) == os.environ.get(ENV_VAR)
            else str(folder)
        )
        if not folder.is_dir():
            raise DataError(
                f"{source}: no such folder. Expected a folder holding {', '.join(checksums)} "
                f"(raw or .gz). Fix: point {ENV_VAR} at that folder, or unset it to download."
            )
        paths = {name: _find(folder, name) for name in checksums}
        missing = [name for name, path in paths.items() if path is None]
        if missing:
            raise DataError(
                f"{source}: missing {', '.join(missing)} (raw or .gz). Expected all four MNIST "
                f"files there. Fix: copy them in, or unset {ENV_VAR} to download them."
            )
        return paths  # type: ignore[return-value]
    cache = files.cache_dir("mnist")
    paths = {}
    for name, sha in checksums.items():
        found = _find(cache, name)
        if found is None:
            if not download:
                raise DataError(
                    f"{name}: not in the cache {cache} and downloads are off. Fix: set "
                    f"{ENV_VAR} to a folder with the MNIST files, or allow the download."
                )
            found = _fetch(name, cache, sha, mirrors)
        paths[name] = found
    return paths


def load_mnist(
    folder: str | os.PathLike[str] | None = None,
    *,
    download: bool = True,
    mirrors: Sequence[str] = MIRRORS,
    checksums: Mapping[str, str] = CHECKSUMS,
) -> MNIST:
    """The 60,000 training and 10,000 test images, verified, as ``uint8``.

    Returns :class:`MNIST` with images ``(m, 28, 28)`` and labels ``(m,)``. Every file is
    checked against its pinned SHA-256 and its IDX header; a bad file raises
    :class:`DataError` naming the file, what was expected, what was found and the fix.
    """
    paths = locate_mnist(
        folder, download=download, mirrors=mirrors, checksums=checksums
    )
    arrays = {name: read_idx(path, checksums[name]) for name, path in paths.items()}
    data = MNIST(
        arrays["train-images-idx3-ubyte"],
        arrays["train-labels-idx1-ubyte"],
        arrays["t10k-images-idx3-ubyte"],
        arrays["t10k-labels-idx1-ubyte"],
    )
    for split, images, labels in (
        ("train", data[0], data[1]),
        ("t10k", data[2], data[3]),
    ):
        if len(images) != len(labels):
            raise DataError(
                f"{split}: {len(images)} images but {len(labels)} labels; expected equal "
                f"counts. Fix: replace the {split} files with a matching pair."
            )
    return data


def load_mnist_csv(path: str | os.PathLike[str]) -> tuple[np.ndarray, np.ndarray]:
    """Read a Kaggle-style ``train.csv`` (a label, then 784 pixels per row; header optional).

    Returns images ``(m, 28, 28)`` and labels ``(m,)``, both ``uint8``, checked: 785
    columns, pixels in 0..255, labels in 0..9.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(
            f"{path}: no such file. Expected a CSV with a label and 784 pixels a row."
        )
    with path.open() as f:
        first = f.readline()
    skip = 1 if first and not first.lstrip()[:1].isdigit() else 0
    try:
        table = np.loadtxt(path, delimiter=",", skiprows=skip, dtype=np.int64, ndmin=2)
    except ValueError as err:
        raise DataError(f"{path}: not a table of whole numbers ({err}).") from err
    if table.shape[1] != 1 + PIXELS:
        hint = (
            " (a test.csv has no label column)" if table.shape[1] == PIXELS else ""
        )
        raise DataError(
            f"{path}: rows have {table.shape[1]} columns, expected 785 (a label, then 784 "
            f"pixels){hint}."
        )
    if table.shape[0] == 0:
        raise DataError(f"{path}: no data rows, expected at least one.")
    labels, pixels = table[:, 0], table[:, 1:]
    if labels.min() < 0 or labels.max() > 9:
        raise DataError(
            f"{path}: labels span {labels.min()}..{labels.max()}, expected 0..9."
        )
    if pixels.min() < 0 or pixels.max() > 255:
        raise DataError(
            f"{path}: pixels span {pixels.min()}..{pixels.max()}, expected 0..255."
        )
    return pixels.astype(np.uint8).reshape(-1, SIDE, SIDE), labels.astype(np.uint8)


# --------------------------------------------------------------------------- preparation


def to_columns(images: np.ndarray) -> np.ndarray:
    """Flatten images ``(m, 28, 28)`` into a C-contiguous ``(784, m)`` matrix: one column each.

    The dtype is kept (``uint8`` stays ``uint8``, a quarter of the float32 size).
    """
    images = np.asarray(images)
    if images.ndim != 3 or images.shape[1:] != (SIDE, SIDE):
        raise ValueError(f"images: expected shape (m, 28, 28), got {images.shape}")
    return np.ascontiguousarray(images.reshape(len(images), -1).T)


def scale_pixels(pixels: np.ndarray, dtype: np.dtype | type = np.float32) -> np.ndarray:
    """Map pixel values 0..255 to [0, 1]: x_p = v_p / 255 for each pixel p.

    The result is in ``dtype`` (float32 by default).

    Implements: eq-scale
    """
    pixels = np.asarray(pixels)
    if pixels.dtype != np.uint8:
        raise TypeError(
            f"pixels: expected uint8 values 0..255, got dtype {pixels.dtype}"
        )
    out = pixels.astype(dtype)
    out /= 255
    return out


def one_hot(
    labels: np.ndarray, num_classes: int = 10, dtype: type = np.float32
) -> np.ndarray:
    """One-hot columns: Y[k, i] = 1 if label i is k, else 0. Labels ``(m,)`` -> ``(10, m)``.

    Implements: eq-one-hot
    """
    labels = np.asarray(labels)
    if labels.ndim != 1:
        raise ValueError(f"labels: expected shape (m,), got {labels.shape}")
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(
            f"labels: expected integers in 0..{num_classes - 1}, "
            f"got values in {labels.min()}..{labels.max()}"
        )
    Y = np.zeros((num_classes, labels.size), dtype=dtype)
    Y[labels, np.arange(labels.size)] = 1
    return Y


def train_dev_split(
    images: np.ndarray, labels: np.ndarray, dev_size: int = 1000, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Hold out ``dev_size`` examples, chosen by a seeded shuffle, as a development set.

    Returns ``(train_images, train_labels, dev_images, dev_labels)``, examples along axis 0.
    """
    if len(images) != len(labels):
        raise ValueError(
            f"images and labels: counts differ ({len(images)} vs {len(labels)})"
        )
    if not 0 < dev_size < len(labels):
        raise ValueError(f"dev_size: expected 1..{len(labels) - 1}, got {dev_size}")
    order = seeding.rng(seed).permutation(len(labels))
    dev, train = order[:dev_size], order[dev_size:]
    return images[train], labels[train], images[dev], labels[dev]


def main() -> None:
    """``python -m nnmath.data``: fetch and verify MNIST, then say where it is."""
    data = load_mnist()
    paths = locate_mnist(download=False)
    folder = {p.parent for p in paths.values()}
    print(
        f"MNIST verified: {len(data.train_labels)} training and {len(data.test_labels)} test "
        f"images in {', '.join(map(str, folder))}"
    )


if __name__ == "__main__":
    main()

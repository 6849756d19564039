"""nnmath.data: IDX parsing, verification, the mirror fallback and atomic downloads.

Every test here makes its own tiny IDX files; only the last ones read the real MNIST.
"""

from __future__ import annotations

import gzip
import hashlib
import http.server
import struct
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest
from nnmath import data, files
from nnmath.data import DataError

NAMES = tuple(data.CHECKSUMS)


def idx_images(images: np.ndarray) -> bytes:
    return struct.pack(">IIII", 2051, *images.shape) + images.astype(np.uint8).tobytes()


def idx_labels(labels: np.ndarray) -> bytes:
    return struct.pack(">II", 2049, len(labels)) + labels.astype(np.uint8).tobytes()


@pytest.fixture
def tiny() -> dict[str, bytes]:
    """Four decoded IDX files: 5 training and 3 test images with their labels."""
    rng = np.random.default_rng(0)
    return {
        NAMES[0]: idx_images(rng.integers(0, 256, (5, 28, 28))),
        NAMES[1]: idx_labels(np.array([0, 1, 2, 3, 9])),
        NAMES[2]: idx_images(rng.integers(0, 256, (3, 28, 28))),
        NAMES[3]: idx_labels(np.array([7, 8, 9])),
    }


@pytest.fixture
def sums(tiny: dict[str, bytes]) -> dict[str, str]:
    return {name: hashlib.sha256(raw).hexdigest() for name, raw in tiny.items()}


@pytest.fixture
def folder(tmp_path: Path, tiny: dict[str, bytes]) -> Path:
    """The tiny files in a folder: two gzip-compressed, two raw."""
    for i, (name, raw) in enumerate(tiny.items()):
        if i % 2:
            (tmp_path / name).write_bytes(raw)
        else:
            (tmp_path / f"{name}.gz").write_bytes(gzip.compress(raw))
    return tmp_path


@pytest.fixture(autouse=True)
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test here sees the real data folder or the user's cache."""
    monkeypatch.delenv("NNMATH_DATA", raising=False)
    monkeypatch.setenv(files.ENV_VAR, str(tmp_path / "cache"))


def test_reads_gzip_and_raw_files(folder: Path, sums: dict[str, str]) -> None:
    mnist = data.load_mnist(folder, checksums=sums)
    assert [a.shape for a in mnist] == [(5, 28, 28), (5,), (3, 28, 28), (3,)]
    assert all(a.dtype == np.uint8 for a in mnist)
    assert mnist.train_labels.tolist() == [0, 1, 2, 3, 9]


def test_env_variable_names_the_folder(
    folder: Path, sums: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NNMATH_DATA", str(folder))
    assert data.load_mnist(checksums=sums).test_labels.tolist() == [7, 8, 9]


def test_wrong_checksum_names_file_expected_and_found(
    folder: Path, sums: dict[str, str]
) -> None:
    sums[NAMES[3]] = "0" * 64
    with pytest.raises(DataError) as err:
        data.load_mnist(folder, checksums=sums)
    message = str(err.value)
    assert NAMES[3] in message and "0" * 64 in message and "Fix:" in message


def test_truncated_file(folder: Path) -> None:
    path = folder / NAMES[1]
    path.write_bytes(path.read_bytes()[:-2])
    with pytest.raises(DataError, match="header promises 13 bytes, file has 11"):
        data.read_idx(path)


def test_truncated_gzip(folder: Path) -> None:
    path = folder / f"{NAMES[0]}.gz"
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(DataError, match="could not be decoded"):
        data.read_idx(path)


def test_bad_magic(tmp_path: Path) -> None:
    path = tmp_path / "bad"
    path.write_bytes(struct.pack(">II", 2050, 0))
    with pytest.raises(DataError, match="magic number is 2050, expected 2051"):
        data.read_idx(path)


def test_wrong_image_size(tmp_path: Path) -> None:
    path = tmp_path / "small"
    path.write_bytes(idx_images(np.zeros((2, 14, 14))))
    with pytest.raises(DataError, match="images are 14 x 14, expected 28 x 28"):
        data.read_idx(path)


def test_missing_folder_is_one_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NNMATH_DATA", str(tmp_path / "nowhere"))
    with pytest.raises(DataError, match=r"NNMATH_DATA=.*nowhere: no such folder"):
        data.load_mnist()


def test_folder_missing_a_file(folder: Path, sums: dict[str, str]) -> None:
    (folder / NAMES[3]).unlink()
    with pytest.raises(DataError, match=f"missing {NAMES[3]}"):
        data.load_mnist(folder, checksums=sums)


def test_offline_without_files(sums: dict[str, str]) -> None:
    with pytest.raises(DataError, match=r"downloads are off.*NNMATH_DATA"):
        data.load_mnist(download=False, checksums=sums)


def test_corrupt_cached_file_is_never_used(
    tmp_path: Path, tiny: dict[str, bytes], sums: dict[str, str]
) -> None:
    cache = files.cache_dir("mnist")
    cache.mkdir(parents=True)
    for name, raw in tiny.items():
        (cache / name).write_bytes(raw)
    (cache / NAMES[2]).write_bytes(tiny[NAMES[2]][:-1] + b"\x01")
    with pytest.raises(DataError, match=f"{NAMES[2]}: SHA-256"):
        data.load_mnist(download=False, checksums=sums)


# --------------------------------------------------------------------------- mirrors


class Mirrors(http.server.BaseHTTPRequestHandler):
    """/missing/ answers 404, /corrupt/ serves damaged bytes, /good/ the real ones."""

    files: ClassVar[dict[str, bytes]] = {}
    hits: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        self.hits.append(self.path)
        kind, _, name = self.path.strip("/").partition("/")
        body = self.files.get(name.removesuffix(".gz"))
        if kind == "missing" or body is None:
            self.send_error(404)
            return
        body = gzip.compress(body)
        if kind == "corrupt":
            body = gzip.compress(b"not mnist at all")
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server(tiny: dict[str, bytes]) -> Iterator[str]:
    Mirrors.files, Mirrors.hits = tiny, []
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Mirrors)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_falls_back_past_404_and_corrupt_mirrors(
    server: str, sums: dict[str, str]
) -> None:
    mirrors = [f"{server}/missing/", f"{server}/corrupt/", f"{server}/good/"]
    mnist = data.load_mnist(mirrors=mirrors, checksums=sums)
    assert mnist.train_labels.tolist() == [0, 1, 2, 3, 9]
    assert Mirrors.hits[:3] == [
        f"/{k}/{NAMES[0]}.gz" for k in ("missing", "corrupt", "good")
    ]
    cached = sorted(p.name for p in files.cache_dir("mnist").iterdir())
    assert cached == sorted(f"{name}.gz" for name in NAMES)  # nothing else left behind
    # A second load reads the cache and asks no mirror.
    Mirrors.hits.clear()
    data.load_mnist(mirrors=mirrors, checksums=sums)
    assert Mirrors.hits == []


def test_failed_download_leaves_nothing(server: str, sums: dict[str, str]) -> None:
    with pytest.raises(DataError) as err:
        data.load_mnist(
            mirrors=[f"{server}/missing/", f"{server}/corrupt/"], checksums=sums
        )
    message = str(err.value)
    assert "404" in message and "SHA-256" in message and "NNMATH_DATA" in message
    cache = files.cache_dir("mnist")
    assert not cache.exists() or list(cache.iterdir()) == []


# --------------------------------------------------------------------------- helpers


@pytest.mark.equation("eq-scale")
def test_scale_pixels() -> None:
    x = data.scale_pixels(np.array([0, 51, 255], dtype=np.uint8))
    assert x.dtype == np.float32
    np.testing.assert_allclose(x, [0.0, 0.2, 1.0], rtol=1e-7)
    with pytest.raises(TypeError, match="expected uint8"):
        data.scale_pixels(np.array([0.5]))


@pytest.mark.equation("eq-one-hot")
def test_one_hot() -> None:
    Y = data.one_hot(np.array([2, 0, 2]), num_classes=3)
    assert Y.tolist() == [[0, 1, 0], [0, 0, 0], [1, 0, 1]]
    assert Y.shape == (3, 3) and Y.dtype == np.float32
    with pytest.raises(
        ValueError, match=r"expected integers in 0\.\.9, got values in 0\.\.10"
    ):
        data.one_hot(np.array([0, 10]))


def test_to_columns_keeps_dtype_and_puts_examples_in_columns() -> None:
    images = np.arange(2 * 28 * 28, dtype=np.uint8).reshape(2, 28, 28)
    X = data.to_columns(images)
    assert X.shape == (784, 2) and X.dtype == np.uint8 and X.flags.c_contiguous
    np.testing.assert_array_equal(X[:, 1], images[1].ravel())
    with pytest.raises(
        ValueError, match=r"expected shape \(m, 28, 28\), got \(784, 2\)"
    ):
        data.to_columns(X)


def test_train_dev_split_is_seeded_and_disjoint() -> None:
    images, labels = np.arange(100).reshape(100, 1, 1), np.arange(100)
    a = data.train_dev_split(images, labels, dev_size=10, seed=3)
    b = data.train_dev_split(images, labels, dev_size=10, seed=3)
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    assert len(a[1]) == 90 and len(a[3]) == 10
    assert sorted(np.concatenate([a[1], a[3]]).tolist()) == list(range(100))
    np.testing.assert_array_equal(a[0].ravel(), a[1])  # images stay with their labels


def test_load_mnist_csv(tmp_path: Path) -> None:
    rows = [[3, *range(784)], [9, *([255] * 784)]]
    rows[0][1:] = [v % 256 for v in rows[0][1:]]
    path = tmp_path / "train.csv"
    header = "label," + ",".join(f"pixel{i}" for i in range(784))
    path.write_text(
        header + "\n" + "\n".join(",".join(map(str, r)) for r in rows) + "\n"
    )
    images, labels = data.load_mnist_csv(path)
    assert images.shape == (2, 28, 28) and images.dtype == np.uint8
    assert labels.tolist() == [3, 9] and images[1].min() == 255
    path.write_text("\n".join(",".join(map(str, r[1:])) for r in rows))
    with pytest.raises(DataError, match=r"784 columns, expected 785.*no label column"):
        data.load_mnist_csv(path)
    path.write_text(",".join(map(str, [3, 256, *([0] * 783)])))
    with pytest.raises(DataError, match=r"pixels span 0\.\.256, expected 0\.\.255"):
        data.load_mnist_csv(path)


# --------------------------------------------------------------------------- the real files


def test_real_mnist(mnist: data.MNIST) -> None:
    assert [a.shape for a in mnist] == [
        (60000, 28, 28),
        (60000,),
        (10000, 28, 28),
        (10000,),
    ]
    assert np.bincount(mnist.test_labels).tolist()[:3] == [980, 1135, 1032]
    assert mnist.train_images.max() == 255 and mnist.train_images.min() == 0

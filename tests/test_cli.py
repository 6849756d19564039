"""The `nnmath` command end to end, in a subprocess: train, evaluate, predict, bad input."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tomllib
from pathlib import Path

import nnmath
import numpy as np
import pytest
from nnmath.data import scale_pixels, to_columns
from nnmath.mlp import MLP
from nnmath.model_io import default_model_path, load_model, save_model
from nnmath.preprocess import read_image
from nnmath.segment import compose_strip, read_row
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
CODE = Path(nnmath.__file__).resolve().parents[1]  # the package these tests import


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(CODE), *filter(None, [env.get("PYTHONPATH")])]
    )
    return env


def nnmath_cmd(
    *args: str | Path, cwd: Path, timeout: float = 120
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "nnmath.cli", *map(str, args)],
        cwd=cwd,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _files(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def _paper_png(
    path: Path, ink: np.ndarray, size: tuple[int, int] | None = None
) -> Path:
    """Save ink in [0, 1] as dark strokes on white, RGB, optionally resized (w, h)."""
    image = Image.fromarray(np.round(255 * (1 - ink)).astype(np.uint8)).convert("RGB")
    if size is not None:
        image = image.resize(size, Image.Resampling.BILINEAR)
    image.save(path)
    return path


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("cli")


@pytest.fixture(scope="module")
def trained(work: Path, mnist) -> tuple[Path, subprocess.CompletedProcess]:
    """A tiny model trained by the command: 784-16-10, two epochs on 3,000 images."""
    out = work / "tiny.npz"
    result = nnmath_cmd(
        "train", "--arch", "784-16-10", "--epochs", "2", "--limit", "3000",
        "--dev-size", "500", "--seed", "4", "--batch-size", "64", "--out", out,
        cwd=work,
    )  # fmt: skip
    return out, result


@pytest.fixture(scope="module")
def clear_digits(mnist):
    """Test images and labels the default model reads right."""
    model, _ = load_model(default_model_path())
    images, labels = mnist.test_images[:300], mnist.test_labels[:300]
    right = model.predict(scale_pixels(to_columns(images))) == labels
    return images[right], labels[right]


# --------------------------------------------------------------------------- happy paths


def test_entry_point_and_package_data_are_declared() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert project["project"]["scripts"]["nnmath"] == "nnmath.cli:main"
    assert "models/*.npz" in project["tool"]["setuptools"]["package-data"]["nnmath"]
    assert any(dep.startswith("pillow") for dep in project["project"]["dependencies"])


@pytest.mark.parametrize(
    "command", [[], ["data"], ["train"], ["evaluate"], ["predict"]]
)
def test_help_everywhere(tmp_path: Path, command: list[str]) -> None:
    result = nnmath_cmd(*command, "--help", cwd=tmp_path)
    assert result.returncode == 0
    assert result.stdout.startswith("usage: nnmath")
    assert "--limit" not in result.stdout  # the hidden option stays hidden


def test_data_says_where_mnist_is(tmp_path: Path, mnist) -> None:
    result = nnmath_cmd("data", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "60000 training and 10000 test images" in result.stdout


def test_train_prints_epochs_and_saves_recipe_and_test_accuracy(trained) -> None:
    out, result = trained
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("epoch 1/2  loss ")
    assert lines[1].startswith("epoch 2/2  loss ")
    assert "train acc" in lines[0] and "dev acc" in lines[0]
    model, meta = load_model(out)
    assert model.sizes == (784, 16, 10)
    assert meta["seed"] == 4
    assert meta["recipe"]["arch"] == "784-16-10"
    assert meta["recipe"]["training_images"] == 3000
    assert meta["test_images"] == 10_000
    assert 0.5 < meta["test_accuracy"] < 1  # 94 small steps: well above chance (0.1)
    assert f"test accuracy {meta['test_accuracy']:.4f}" in lines[-1]
    assert _files(out.parent) == ["tiny.npz"]  # no temporary file left


def test_train_is_reproducible(trained, work: Path) -> None:
    out, _ = trained
    again = work / "again.npz"
    result = nnmath_cmd(
        "train", "--arch", "784-16-10", "--epochs", "2", "--limit", "3000",
        "--dev-size", "500", "--seed", "4", "--batch-size", "64", "--out", again,
        cwd=work,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    a, _ = load_model(out)
    b, _ = load_model(again)
    assert a.flat_params().tobytes() == b.flat_params().tobytes()
    again.unlink()


def test_evaluate_text_json_and_confusion_png(trained, work: Path) -> None:
    out, _ = trained
    _, meta = load_model(out)
    text = nnmath_cmd("evaluate", out, cwd=work)
    assert text.returncode == 0, text.stderr
    assert f"test accuracy {meta['test_accuracy']:.4f}" in text.stdout
    assert text.stdout.count("  digit ") == 10

    png = work / "confusion.png"
    result = nnmath_cmd("evaluate", out, "--json", "--confusion", png, cwd=work)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["accuracy"] == pytest.approx(meta["test_accuracy"])
    cm = np.array(report["confusion_matrix"])
    assert cm.shape == (10, 10) and cm.sum() == 10_000
    assert np.allclose(report["per_class_accuracy"], np.diag(cm) / cm.sum(axis=1))
    assert np.trace(cm) / 10_000 == pytest.approx(report["accuracy"])
    with Image.open(png) as image:
        assert image.format == "PNG" and min(image.size) > 100
    png.unlink()


def test_predict_single_digits_with_the_default_model(
    tmp_path: Path, clear_digits
) -> None:
    images, labels = clear_digits
    paths = [
        _paper_png(tmp_path / f"digit{k}.png", images[k] / 255, size=(90, 90))
        for k in range(4)
    ]
    result = nnmath_cmd("predict", *paths, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert [line.split(": ")[1][0] for line in lines] == [str(d) for d in labels[:4]]

    result = nnmath_cmd("predict", "--json", *paths, cwd=tmp_path)
    report = json.loads(result.stdout)
    assert [r["digit"] for r in report] == labels[:4].tolist()
    for r in report:
        assert sum(r["probabilities"]) == pytest.approx(1, abs=1e-4)
        assert r["probability"] == max(r["probabilities"])


def test_predict_with_a_trained_model(trained, work: Path, clear_digits) -> None:
    out, _ = trained
    images, _ = clear_digits
    path = _paper_png(work / "one.png", images[0] / 255)
    result = nnmath_cmd("predict", "--model", out, "--json", path, cwd=work)
    assert result.returncode == 0, result.stderr
    model, _ = load_model(out)
    expected = model.predict(scale_pixels(images[:1].reshape(1, -1)).T)[0]
    assert json.loads(result.stdout)[0]["digit"] == expected  # prepared like MNIST
    path.unlink()


def test_predict_row_reads_a_zip_code(tmp_path: Path, clear_digits) -> None:
    images, labels = clear_digits
    strip, text = compose_strip(
        images, labels, np.random.default_rng(5), gap=(5, 9), scale=(1, 1)
    )
    path = _paper_png(tmp_path / "zip.png", strip)
    result = nnmath_cmd("predict", "--row", path, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"{path}: {text}  (least sure digit: p=")
    big = _paper_png(tmp_path / "big.png", strip, size=(strip.shape[1] * 3, 108))
    result = nnmath_cmd(
        "predict", "--row", "--digits", "5", "--json", big, cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    model, _ = load_model(default_model_path())
    expected, P = read_row(read_image(big), model, digits=5)
    assert report[0]["string"] == expected
    assert sum(a == b for a, b in zip(expected, text, strict=True)) >= 4
    assert report[0]["probabilities"] == pytest.approx(P.max(axis=0).tolist())


def test_train_evaluate_and_predict_a_cnn(work: Path, mnist, clear_digits) -> None:
    out = work / "cnn.npz"
    result = nnmath_cmd(
        "train", "--network", "cnn", "--channels", "4-8", "--hidden", "16", "--epochs", "1",
        "--augment", "distort-gentle", "--limit", "600", "--dev-size", "100", "--seed", "2",
        "--out", out, cwd=work,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    model, meta = load_model(out, architecture="cnn")
    assert (model.channels, model.hidden) == ((4, 8), (16,))
    assert meta["recipe"]["network"] == "cnn"
    assert meta["recipe"]["augment"] == "distort-gentle"
    assert meta["recipe"]["arch"] == "conv 4-8 (5x5), 128-16-10"
    result = nnmath_cmd("evaluate", "--json", out, cwd=work)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["accuracy"] == pytest.approx(meta["test_accuracy"])
    images, _ = clear_digits
    path = _paper_png(work / "for-cnn.png", images[1] / 255)
    result = nnmath_cmd("predict", "--model", out, "--json", path, cwd=work)
    assert result.returncode == 0, result.stderr
    expected = model.predict(scale_pixels(images[1:2].reshape(1, -1)).T)[0]
    assert json.loads(result.stdout)[0]["digit"] == expected
    path.unlink()


def test_ctrl_c_while_training_writes_nothing(tmp_path: Path, mnist) -> None:
    out = tmp_path / "model.npz"
    process = subprocess.Popen(
        [sys.executable, "-m", "nnmath.cli", "train", "--arch", "784-8-10",
         "--epochs", "100000", "--limit", "500", "--dev-size", "100", "--out", str(out)],
        cwd=tmp_path, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        first = process.stdout.readline()  # training has started
        assert first.startswith("epoch "), first
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130
    assert stderr.strip() == "nnmath: interrupted, nothing written"
    assert _files(tmp_path) == []


# --------------------------------------------------------------------------- bad input


def _corrupt_model(folder: Path) -> Path:
    path = folder / "corrupt.npz"
    data = default_model_path().read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def _wrong_model(folder: Path) -> Path:
    return save_model(folder / "wrong.npz", MLP((784, 8, 5)))


def _text_file(folder: Path) -> Path:
    path = folder / "notes.png"
    path.write_text("this is not an image")
    return path


def _blank(folder: Path) -> Path:
    path = folder / "blank.png"
    Image.new("L", (64, 64), 255).save(path)
    return path


def _digit(folder: Path) -> Path:
    ink = np.zeros((40, 30), np.float32)
    ink[5:35, 12:17] = 1  # a "1"
    return _paper_png(folder / "one.png", ink)


def _all_ink(folder: Path) -> Path:
    """A photo of a page of ink: dark almost everywhere, a little noise, no paper."""
    rng = np.random.default_rng(4)
    grey = np.clip(0.1 + 0.05 * rng.standard_normal((120, 160)), 0, 1)
    path = folder / "ink.png"
    Image.fromarray(np.round(255 * grey).astype(np.uint8)).save(path)
    return path


def _specks(folder: Path) -> Path:
    """White paper with a few specks of dirt and no digit."""
    ink = np.zeros((200, 200), np.float32)
    ink[[20, 90, 150], [30, 170, 60]] = 1
    ink[100:103, 100:103] = 1
    return _paper_png(folder / "specks.png", ink)


def _huge(folder: Path) -> Path:
    """A blank 8000 x 7000 PNG (56 megapixels, a small file)."""
    path = folder / "huge.png"
    Image.new("L", (8000, 7000), 255).save(path)
    return path


def _truncated(folder: Path) -> Path:
    """A digit's PNG cut off half-way."""
    whole = _digit(folder).read_bytes()
    path = folder / "cut.png"
    path.write_bytes(whole[: len(whole) // 2])
    (folder / "one.png").unlink()
    return path


BAD_INPUT = {
    "all-ink image": (lambda f: ["predict", _all_ink(f)], "found ink over"),
    "no digit-sized piece": (lambda f: ["predict", _specks(f)], "no digit-sized piece"),
    "huge image": (lambda f: ["predict", _huge(f)], "at most 50 megapixels"),
    "truncated image": (lambda f: ["predict", _truncated(f)], "cannot decode"),
    "missing image": (lambda f: ["predict", f / "nothing.png"], "no such file"),
    "not an image": (lambda f: ["predict", _text_file(f)], "cannot decode"),
    "empty image": (lambda f: ["predict", _blank(f)], "all one colour"),
    "empty row": (lambda f: ["predict", "--row", _blank(f)], "all one colour"),
    "good then bad image": (
        lambda f: ["predict", _digit(f), _blank(f)],
        "all one colour",
    ),
    "missing model": (
        lambda f: ["predict", "--model", f / "none.npz", _digit(f)],
        "no such file",
    ),
    "image as model": (
        lambda f: ["predict", "--model", _digit(f), _digit(f)],
        "expected an .npz model archive",
    ),
    "corrupt model": (
        lambda f: ["evaluate", _corrupt_model(f)],
        "truncated or corrupt",
    ),
    "wrong model": (
        lambda f: ["evaluate", _wrong_model(f)],
        "expected a network from 784 pixels to 10 digits",
    ),
    "unknown command": (lambda f: ["fly"], "invalid choice: 'fly'"),
    "unknown option": (lambda f: ["evaluate", "--colour", "x.npz"], "--colour"),
    "no image": (lambda f: ["predict"], "required: IMAGE"),
    "bad arch": (
        lambda f: ["train", "--arch", "784-x-10", "--out", f / "m.npz"],
        "784-x-10",
    ),
    "arch not ending in 10": (
        lambda f: ["train", "--arch", "784-16-9", "--out", f / "m.npz"],
        "to 10 classes",
    ),
    "--arch for a cnn": (
        lambda f: ["train", "--network", "cnn", "--arch", "784-16-10", "--out", f / "m.npz"],
        "--arch: only for --network mlp",
    ),
    "--channels for an mlp": (
        lambda f: ["train", "--channels", "8-16", "--out", f / "m.npz"],
        "--channels: only for --network cnn",
    ),
    "a cnn too deep for 28 x 28": (
        lambda f: ["train", "--network", "cnn", "--channels", "8-8-8", "--out", f / "m.npz"],
        "does not leave a side divisible by 2",
    ),
    "bad channels": (
        lambda f: ["train", "--network", "cnn", "--channels", "8-x", "--out", f / "m.npz"],
        "expected positive widths joined by '-'",
    ),
    "bad learning rate": (
        lambda f: ["train", "--lr", "fast", "--out", f / "m.npz"],
        "expected a number > 0, got 'fast'",
    ),
    "negative learning rate": (
        lambda f: ["train", "--lr", "-0.1", "--out", f / "m.npz"],
        "expected a number > 0",
    ),
    "zero epochs": (
        lambda f: ["train", "--epochs", "0", "--out", f / "m.npz"],
        "positive integer",
    ),
    "unknown optimiser": (
        lambda f: ["train", "--optimizer", "lbfgs", "--out", f / "m.npz"],
        "invalid choice: 'lbfgs'",
    ),
    "missing --out": (lambda f: ["train"], "--out"),
    "--out in a missing folder": (
        lambda f: ["train", "--out", f / "no" / "m.npz"],
        "does not exist",
    ),
    "--out is a folder": (lambda f: ["train", "--out", f], "found a folder"),
    "dev set too large": (
        lambda f: ["train", "--dev-size", "60000", "--out", f / "m.npz"],
        "dev_size",
    ),
    "--confusion in a missing folder": (
        lambda f: ["evaluate", default_model_path(), "--confusion", f / "no" / "c.png"],
        "does not exist",
    ),
    "--digits without --row": (
        lambda f: ["predict", "--digits", "5", _digit(f)],
        "only with --row",
    ),
}


@pytest.mark.parametrize("case", list(BAD_INPUT))
def test_bad_input_is_one_line_and_status_2(tmp_path: Path, case: str, mnist) -> None:
    make, expected = BAD_INPUT[case]
    args = make(tmp_path)
    before = _files(tmp_path)
    result = nnmath_cmd(*args, cwd=tmp_path)
    assert result.returncode == 2, (result.stdout, result.stderr)
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("nnmath: error: ")
    assert expected in lines[0]
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    assert _files(tmp_path) == before  # nothing written

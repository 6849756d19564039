"""The ``nnmath`` command: fetch the data, train, evaluate, predict.

::

    nnmath data
    nnmath train --arch 784-128-64-10 --optimizer adam --lr 1e-3 --batch-size 128 \\
                 --epochs 10 --seed 0 --out model.npz
    nnmath evaluate model.npz [--json] [--confusion confusion.png]
    nnmath predict [--model model.npz] digit.png ... [--row] [--json]

Bad input (a missing or unreadable file, an image without a digit, a wrong or corrupt
model, an unknown option, a bad value) prints one line ``nnmath: error: ...`` on stderr
and exits with status 2, writing nothing. Ctrl-C exits with status 130, writing nothing.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

import numpy as np
from tqdm import tqdm

from nnmath import data as mnist_data
from nnmath.data import (
    MNIST,
    PIXELS,
    DataError,
    load_mnist,
    scale_pixels,
    to_columns,
    train_dev_split,
)
from nnmath.files import write_atomically
from nnmath.metrics import confusion_matrix, per_class_accuracy
from nnmath.mlp import MLP
from nnmath.model_io import default_model_path, load_model, save_model
from nnmath.optim import SGD, Adam, Momentum, Optimizer, RMSProp
from nnmath.preprocess import prepare_digit, read_image
from nnmath.segment import read_row
from nnmath.train import History, evaluate, fit

__all__ = ["build_parser", "main"]

OPTIMIZERS: dict[str, type[Optimizer]] = {
    "adam": Adam,
    "sgd": SGD,
    "momentum": Momentum,
    "rmsprop": RMSProp,
}


class UsageError(Exception):
    """Bad input found after parsing: reported as one line, exit status 2."""


class Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line, ``nnmath: error: ...``, status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"nnmath: error: {message} (see `{self.prog} --help`)\n")


# --------------------------------------------------------------------------- values


def _arch(text: str) -> tuple[int, ...]:
    """``"784-128-64-10"`` -> ``(784, 128, 64, 10)``: 784 inputs, 10 classes."""
    try:
        sizes = tuple(int(part) for part in text.split("-"))
    except ValueError:
        sizes = ()
    if len(sizes) < 2 or min(sizes) < 1 or sizes[0] != PIXELS or sizes[-1] != 10:
        raise argparse.ArgumentTypeError(
            f"expected widths joined by '-', from 784 inputs to 10 classes "
            f"(e.g. 784-128-64-10), got {text!r}"
        )
    return sizes


def _integer(text: str, minimum: int, what: str) -> int:
    """``text`` as a whole number >= ``minimum``; ``what`` describes it in the error."""
    try:
        value = int(text)
    except ValueError:
        value = minimum - 1
    if value < minimum:
        raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}")
    return value


def _positive_int(text: str) -> int:
    return _integer(text, 1, "a positive integer")


def _count(text: str) -> int:
    return _integer(text, 0, "an integer >= 0")


def _learning_rate(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {text!r}")
    return value


def _writable(path: Path, what: str) -> Path:
    """``path`` if a file can be written there; :class:`UsageError` otherwise."""
    if path.is_dir():
        raise UsageError(f"{what} {path}: expected a file name, found a folder")
    if not path.parent.is_dir():
        raise UsageError(f"{what} {path}: folder {path.parent} does not exist")
    return path


# --------------------------------------------------------------------------- commands


def cmd_data(args: argparse.Namespace) -> int:
    """Fetch (if needed) and verify MNIST, then say where it is."""
    mnist_data.main()
    return 0


def _training_data(
    mnist: MNIST, seed: int, dev_size: int, limit: int | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None]:
    """MNIST's training set as columns ``(784, m)`` float32 and labels, split for a dev set."""
    images, labels = mnist.train_images, mnist.train_labels
    dev_images = dev_labels = None
    if dev_size:
        images, labels, dev_images, dev_labels = train_dev_split(
            images, labels, dev_size=dev_size, seed=seed
        )
    if limit is not None:
        images, labels = images[:limit], labels[:limit]
    X = scale_pixels(to_columns(images))
    if dev_images is None:
        return X, labels.astype(np.intp), None, None
    return X, labels.astype(np.intp), scale_pixels(to_columns(dev_images)), dev_labels


def _test_set(mnist: MNIST) -> tuple[np.ndarray, np.ndarray]:
    """MNIST's 10,000 test images as columns ``(784, 10000)`` float32, labels ``(10000,)``."""
    X = scale_pixels(to_columns(mnist.test_images))
    return X, mnist.test_labels.astype(np.intp)


def _epoch_line(epochs: int) -> Callable[[MLP, History], None]:
    """A ``fit`` callback printing one line per epoch: loss, train and dev accuracy."""

    def report(model: MLP, history: History) -> None:
        dev = history.dev_accuracy[-1]
        dev_text = "" if math.isnan(dev) else f"  dev acc {dev:.4f}"
        tqdm.write(
            f"epoch {history.epoch[-1]:>{len(str(epochs))}}/{epochs}  "
            f"loss {history.train_loss[-1]:.4f}  "
            f"train acc {history.train_accuracy[-1]:.4f}{dev_text}  "
            f"({history.seconds[-1]:.1f} s)",
            file=sys.stdout,
        )
        sys.stdout.flush()

    return report


def cmd_train(args: argparse.Namespace) -> int:
    """Train a network on MNIST and save it, with its recipe and test accuracy."""
    out = _writable(args.out, "--out")
    if args.limit is not None and args.limit > 60_000 - args.dev_size:
        raise UsageError(
            f"--limit {args.limit}: expected at most {60_000 - args.dev_size} training images"
        )
    mnist = load_mnist()
    X, y, X_dev, y_dev = _training_data(mnist, args.seed, args.dev_size, args.limit)
    model = MLP(args.arch, seed=args.seed)
    optimizer = OPTIMIZERS[args.optimizer](lr=args.lr)
    history = fit(
        model,
        optimizer,
        X,
        y,
        epochs=args.epochs,
        batch_size=args.batch_size,
        seed=args.seed,
        X_dev=X_dev,
        y_dev=y_dev,
        progress=sys.stderr.isatty(),
        callback=_epoch_line(args.epochs),
    )
    X_test, y_test = _test_set(mnist)
    test_loss, test_accuracy = evaluate(model, X_test, y_test)
    recipe = {
        "arch": "-".join(map(str, args.arch)),
        "optimizer": args.optimizer,
        "lr": args.lr,
        "batch_size": args.batch_size,
        "epochs": args.epochs,
        "dev_size": args.dev_size,
        "training_images": int(X.shape[1]),
        "init": model.init,
    }
    save_model(
        out,
        model,
        metadata={
            "seed": args.seed,
            "recipe": recipe,
            "test_accuracy": test_accuracy,
            "test_loss": test_loss,
            "test_images": int(X_test.shape[1]),
            "history": history.to_dict(),
        },
    )
    print(
        f"test accuracy {test_accuracy:.4f} ({test_accuracy:.2%}) on {X_test.shape[1]} "
        f"images; model saved to {out}"
    )
    return 0


def _load_mnist_model(path: Path) -> tuple[MLP, dict[str, Any]]:
    """:func:`load_model`, refusing a network that does not map 784 pixels to 10 digits."""
    model, meta = load_model(path)
    if model.sizes[0] != PIXELS or model.sizes[-1] != 10:
        raise UsageError(
            f"{path}: expected a network from 784 pixels to 10 digits, found sizes "
            f"{list(model.sizes)}"
        )
    return model, meta


def cmd_evaluate(args: argparse.Namespace) -> int:
    """Accuracy and per-class accuracy on MNIST's test set; optionally the confusion matrix."""
    png = _writable(args.confusion, "--confusion") if args.confusion else None
    model, meta = _load_mnist_model(args.model)
    X, y = _test_set(load_mnist())
    loss, acc = evaluate(model, X, y)
    cm = confusion_matrix(y, model.predict(X))
    per_class = per_class_accuracy(cm)
    if png is not None:
        _save_confusion(png, cm)
    if args.json:
        report = {
            "model": str(args.model),
            "test_images": int(X.shape[1]),
            "accuracy": acc,
            "loss": loss,
            "per_class_accuracy": per_class.tolist(),
            "confusion_matrix": cm.tolist(),
            "metadata": meta,
        }
        print(json.dumps(report, indent=2))
        return 0
    print(f"{args.model}: sizes {'-'.join(map(str, model.sizes))}")
    print(
        f"test accuracy {acc:.4f} ({acc:.2%}) on {X.shape[1]} images, loss {loss:.4f}"
    )
    for digit, value in enumerate(per_class):
        print(f"  digit {digit}: {value:.4f}")
    if png is not None:
        print(f"confusion matrix saved to {png}")
    return 0


def _save_confusion(path: Path, cm: np.ndarray) -> None:
    """Draw the confusion matrix ``(10, 10)`` and write it as a PNG, atomically."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from nnmath.plots.evaluation import confusion_heatmap

    fig = confusion_heatmap(cm)
    try:
        write_atomically(path, lambda f: fig.savefig(f, format="png"))
    finally:
        plt.close(fig)


def _predict_one(path: Path, model: MLP) -> dict[str, Any]:
    """The digit in the image at ``path`` and the probability of each class."""
    p = model.predict_proba(prepare_digit(read_image(path))[:, None])[:, 0]
    digit = int(np.argmax(p))
    return {
        "image": str(path),
        "digit": digit,
        "probability": float(p[digit]),
        "probabilities": p.tolist(),
    }


def _read_one_row(path: Path, model: MLP, digits: int | None) -> dict[str, Any]:
    """The string of digits in the image at ``path``, with each digit's probability."""
    text, P = read_row(read_image(path), model, digits=digits)
    return {
        "image": str(path),
        "string": text,
        "probabilities": [float(P[int(d), k]) for k, d in enumerate(text)],
    }


def cmd_predict(args: argparse.Namespace) -> int:
    """Classify each image (one digit, or with ``--row`` a row of digits)."""
    model_path = args.model if args.model is not None else default_model_path()
    model, _ = _load_mnist_model(model_path)
    if args.digits is not None and not args.row:
        raise UsageError("--digits: only with --row (the number of digits in the row)")
    if args.row:
        results = [_read_one_row(path, model, args.digits) for path in args.images]
    else:
        results = [_predict_one(path, model) for path in args.images]
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    for r in results:
        if args.row:
            lowest = min(r["probabilities"])
            print(f"{r['image']}: {r['string']}  (least sure digit: p={lowest:.3f})")
        else:
            print(f"{r['image']}: {r['digit']}  (p={r['probability']:.3f})")
    return 0


# --------------------------------------------------------------------------- parser


def build_parser() -> Parser:
    """The ``nnmath`` argument parser with its four subcommands."""
    parser = Parser(
        prog="nnmath",
        description="Neural networks from scratch on MNIST: data, train, evaluate, predict.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    data = commands.add_parser("data", help="fetch and verify MNIST, say where it is")
    data.set_defaults(run=cmd_data)

    train = commands.add_parser(
        "train",
        help="train a network on MNIST and save it",
        description="Train on MNIST's training set (minus a dev set), report the test "
        "accuracy, save the model with its recipe. One seed sets the dev split, the "
        "starting weights and the batch order.",
    )
    train.add_argument(
        "--arch",
        type=_arch,
        default=(784, 128, 64, 10),
        metavar="SIZES",
        help="layer widths, e.g. 784-128-64-10 (default)",
    )
    train.add_argument(
        "--optimizer", choices=sorted(OPTIMIZERS), default="adam", help="default: adam"
    )
    train.add_argument(
        "--lr", type=_learning_rate, default=1e-3, help="learning rate (default 1e-3)"
    )
    train.add_argument(
        "--batch-size",
        type=_positive_int,
        default=128,
        help="examples per mini-batch (default 128)",
    )
    train.add_argument(
        "--epochs",
        type=_positive_int,
        default=10,
        help="passes over the training set (default 10)",
    )
    train.add_argument(
        "--seed",
        type=_count,
        default=0,
        help="seed of the split, the weights and the order (default 0)",
    )
    train.add_argument(
        "--dev-size",
        type=_count,
        default=1000,
        help="training images held out as a dev set (default 1000; 0: none)",
    )
    train.add_argument(
        "--out", type=Path, required=True, help="the model file to write (.npz)"
    )
    train.add_argument(
        "--limit", type=_positive_int, default=None, help=argparse.SUPPRESS
    )
    train.set_defaults(run=cmd_train)

    ev = commands.add_parser(
        "evaluate",
        help="accuracy of a model on MNIST's test set",
        description="Accuracy and per-class accuracy on the 10,000 test images.",
    )
    ev.add_argument("model", type=Path, metavar="MODEL", help="a model file (.npz)")
    ev.add_argument("--json", action="store_true", help="print machine-readable JSON")
    ev.add_argument(
        "--confusion",
        type=Path,
        metavar="PNG",
        help="also draw the confusion matrix into this PNG file",
    )
    ev.set_defaults(run=cmd_evaluate)

    pr = commands.add_parser(
        "predict",
        help="read the digit in each image",
        description="Prepare each image as MNIST was prepared and classify it.",
    )
    pr.add_argument("images", type=Path, nargs="+", metavar="IMAGE", help="image files")
    pr.add_argument(
        "--model",
        type=Path,
        metavar="MODEL",
        help="a model file (.npz); default: the model shipped with nnmath",
    )
    pr.add_argument(
        "--row",
        action="store_true",
        help="each image is a row of digits (e.g. a ZIP code): print the string",
    )
    pr.add_argument(
        "--digits",
        type=_positive_int,
        metavar="N",
        help="with --row: the row holds exactly N digits (5 for a ZIP code)",
    )
    pr.add_argument("--json", action="store_true", help="print machine-readable JSON")
    pr.set_defaults(run=cmd_predict)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status (0, 2 on bad input, 130 on Ctrl-C)."""
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except BrokenPipeError:  # e.g. `nnmath evaluate model.npz | head`: stop quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    except KeyboardInterrupt:
        print("nnmath: interrupted, nothing written", file=sys.stderr)
        return 130
    except (UsageError, DataError, ValueError, OSError) as err:
        message = " ".join(str(err).split())  # one line
        print(f"nnmath: error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

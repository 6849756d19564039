"""The ``nnmath`` command: fetch the data, train, search, evaluate, predict.

::

    nnmath data
    nnmath train --arch 784-128-64-10 --optimizer adam --lr 1e-3 --batch-size 128 \\
                 --epochs 10 --seed 0 --out model.npz
    nnmath search --lr 1e-3 3e-3 --arch 784-64-10 784-128-10 --epochs 1 [--json] \\
                  [--random N --lr-range LOW HIGH] [--cluster tcp://host:8786]
    nnmath evaluate model.npz [--json] [--confusion confusion.png]
    nnmath predict [--model model.npz] digit.png ... [--row] [--json]

Bad input (a missing or unreadable file, an image without a digit, a wrong or corrupt
model, an unknown option, a bad value, an unreachable cluster) prints one line
``nnmath: error: ...`` on stderr and exits with status 2, writing nothing. A search whose
trials fail names each failed trial on one such line and exits with status 1. Ctrl-C
exits with status 130, writing nothing.
"""

from __future__ import annotations

import argparse
import functools
import importlib.util
import json
import logging
import math
import os
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from types import FrameType
from typing import Any, NoReturn

import numpy as np
from tqdm import tqdm

from nnmath import data as mnist_data
from nnmath.augment import augment_batch
from nnmath.cnn import CNN
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
from nnmath.optim import OPTIMIZERS, cosine_schedule
from nnmath.preprocess import prepare_digit, read_image
from nnmath.segment import read_row
from nnmath.train import History, evaluate, fit


def _lazy(name: str) -> Any:
    """Module ``name``, loaded when first used (the importlib recipe, LazyLoader).

    Searching needs joblib and Dask, which predicting one image should not wait for.
    """
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.find_spec(name)
    assert spec is not None and spec.loader is not None
    loader = importlib.util.LazyLoader(spec.loader)
    spec.loader = loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    loader.exec_module(module)
    return module


cluster = _lazy("nnmath.cluster")
search = _lazy("nnmath.search")

__all__ = ["build_parser", "main"]


class UsageError(Exception):
    """Bad input found after parsing: reported as one line, exit status 2."""


class Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line, ``nnmath: error: ...``, status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"nnmath: error: {message} (see `{self.prog} --help`)\n")


#: ``nnmath train --augment``: the names of the training transforms.
AUGMENTATIONS = ("distort", "distort-gentle", "none", "shift-rotate")


def _augmentation(name: str) -> Callable[..., np.ndarray] | None:
    """The training transform called ``name`` (one of :data:`AUGMENTATIONS`)."""
    if name.startswith("distort"):  # imported here: SciPy is needed to train, not to predict
        from nnmath.distort import GENTLE, distort_batch

        if name == "distort-gentle":
            return functools.partial(distort_batch, **GENTLE)
        return distort_batch
    return augment_batch if name == "shift-rotate" else None


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


def _widths(text: str) -> tuple[int, ...]:
    """``"16-32"`` -> ``(16, 32)``: positive widths joined by '-'."""
    try:
        widths = tuple(int(part) for part in text.split("-"))
    except ValueError:
        widths = ()
    if not widths or min(widths) < 1:
        raise argparse.ArgumentTypeError(
            f"expected positive widths joined by '-' (e.g. 16-32), got {text!r}"
        )
    return widths


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


def _cluster_address(text: str) -> str:
    try:
        return cluster.check_address(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from err


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


def _epoch_line(
    epochs: int, interrupted: threading.Event
) -> Callable[[MLP | CNN, History], None]:
    """A ``fit`` callback printing one line per epoch: loss, train and dev accuracy.

    It raises KeyboardInterrupt once ``interrupted`` is set: a Ctrl-C whose exception was
    swallowed (Python ignores exceptions raised in a finaliser) still stops training.
    """

    def report(model: MLP | CNN, history: History) -> None:
        if interrupted.is_set():
            raise KeyboardInterrupt
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


def _interrupted() -> threading.Event:
    """An event that Ctrl-C sets from now on, besides raising KeyboardInterrupt."""
    event = threading.Event()

    def on_interrupt(signum: int, frame: FrameType | None) -> None:
        event.set()
        signal.default_int_handler(signum, frame)

    signal.signal(signal.SIGINT, on_interrupt)
    return event


def _network(args: argparse.Namespace) -> MLP | CNN:
    """The untrained network that ``--network`` and its options describe."""
    if args.network == "cnn":
        if args.arch is not None:
            raise UsageError("--arch: only for --network mlp (a CNN takes --channels, --hidden)")
        return CNN(args.channels or (16, 32), hidden=args.hidden or (128,), seed=args.seed)
    for option, value in (("--channels", args.channels), ("--hidden", args.hidden)):
        if value is not None:
            raise UsageError(f"{option}: only for --network cnn (an MLP takes --arch)")
    return MLP(args.arch or (784, 128, 64, 10), seed=args.seed)


def _describe(model: MLP | CNN) -> str:
    """``784-128-64-10`` for an MLP; ``conv 16-32 (5x5), 512-128-10`` for a CNN."""
    widths = "-".join(map(str, model.sizes if isinstance(model, MLP) else model.sizes[1:]))
    if isinstance(model, MLP):
        return widths
    k = model.kernel
    return f"conv {'-'.join(map(str, model.channels))} ({k}x{k}), {widths}"


def cmd_train(args: argparse.Namespace) -> int:
    """Train a network on MNIST and save it, with its recipe and test accuracy."""
    out = _writable(args.out, "--out")
    if args.limit is not None and args.limit > 60_000 - args.dev_size:
        raise UsageError(
            f"--limit {args.limit}: expected at most {60_000 - args.dev_size} training images"
        )
    model = _network(args)
    mnist = load_mnist()
    X, y, X_dev, y_dev = _training_data(mnist, args.seed, args.dev_size, args.limit)
    optimizer = OPTIMIZERS[args.optimizer](lr=args.lr)
    schedule = (
        functools.partial(cosine_schedule, lr0=args.lr, total=args.epochs)
        if args.schedule == "cosine"
        else None
    )
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
        schedule=schedule,
        transform=_augmentation(args.augment),
        progress=sys.stderr.isatty(),
        callback=_epoch_line(args.epochs, _interrupted()),
        blas_threads=None if isinstance(model, CNN) else 1,  # a CNN's products: every core
    )
    X_test, y_test = _test_set(mnist)
    test_loss, test_accuracy = evaluate(model, X_test, y_test)
    recipe = {
        "network": args.network,
        "arch": _describe(model),
        "optimizer": args.optimizer,
        "lr": args.lr,
        "batch_size": args.batch_size,
        "epochs": args.epochs,
        "dev_size": args.dev_size,
        "training_images": int(X.shape[1]),
        "init": getattr(model, "init", "he"),
        "augment": args.augment,
        "schedule": args.schedule,
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


def _search_configs(args: argparse.Namespace) -> list[dict[str, Any]]:
    """The search's configurations, numbered and seeded: the grid, or ``--random`` draws."""
    if args.lr is not None and args.lr_range is not None:
        raise UsageError("--lr-range: give either --lr values or --lr-range, not both")
    if args.lr_range is not None and args.random is None:
        raise UsageError("--lr-range: only with --random N (the number of draws)")
    options: dict[str, Any] = {
        "lr": args.lr or [1e-3],
        "arch": args.arch,
        "batch_size": args.batch_size,
        "optimizer": args.optimizer,
        "epochs": args.epochs,
    }
    if args.random is None:
        return search.numbered(search.grid_configs(options), args.seed)
    if args.lr_range is not None:
        low, high = args.lr_range
        if not low < high:
            raise UsageError(f"--lr-range {low:g} {high:g}: expected LOW < HIGH")
        options["lr"] = search.log_uniform(low, high)
    draws = search.random_configs(options, n_iter=args.random, seed=args.seed)
    return search.numbered(draws, args.seed)


def _settings(config: dict[str, Any]) -> str:
    """``lr 0.003  arch 784-64-10  batch 64  adam  2 epochs``"""
    epochs = f"{config['epochs']} epoch{'s' if config['epochs'] != 1 else ''}"
    return (
        f"lr {config['lr']:.3g}  arch {'-'.join(map(str, config['arch']))}  "
        f"batch {config['batch_size']}  {config['optimizer']}  {epochs}"
    )


def _trial_line(outcome: cluster.Outcome, total: int) -> str:
    """One finished trial: its settings, then its dev accuracy and where it ran, or why not."""
    config, result = outcome.config, outcome.result
    head = f"trial {config['trial']:>{len(str(total))}}/{total}  {_settings(config)}"
    if result is None:
        return f"{head}  FAILED: {outcome.error}"
    ran_on = f"pid {result['pid']}" if result["worker"] == "local" else result["worker"]
    return (
        f"{head}  dev acc {result['dev_accuracy']:.4f}  dev loss {result['dev_loss']:.4f}"
        f"  ({result['seconds']:.1f} s, {ran_on})"
    )


def _search_table(results: list[dict[str, Any]], dev_size: int) -> str:
    """The results, best first, as a text table."""
    lines = [
        f"best first, by accuracy on the {dev_size} dev images:",
        f"{'rank':>4}  {'trial':>5}  {'lr':>8}  {'arch':<16}  {'batch':>5}  "
        f"{'optimizer':<9}  {'epochs':>6}  {'dev acc':>7}  {'dev loss':>8}",
    ]
    for rank, r in enumerate(results, start=1):
        lines.append(
            f"{rank:>4}  {r['trial']:>5}  {r['lr']:>8.3g}  "
            f"{'-'.join(map(str, r['arch'])):<16}  {r['batch_size']:>5}  "
            f"{r['optimizer']:<9}  {r['epochs']:>6}  {r['dev_accuracy']:>7.4f}  "
            f"{r['dev_loss']:>8.4f}"
        )
    return "\n".join(lines)


def _as_json(result: dict[str, Any]) -> dict[str, Any]:
    """A result for JSON: the architecture as ``"784-64-10"``, NaN and infinities as null."""
    out = {**result, "arch": "-".join(map(str, result["arch"]))}
    return {
        k: None if isinstance(v, float) and not math.isfinite(v) else v
        for k, v in out.items()
    }


def cmd_search(args: argparse.Namespace) -> int:
    """Train one network per configuration, locally or on a Dask cluster; rank by dev accuracy."""
    if args.dev_size >= 60_000:
        raise UsageError(f"--dev-size {args.dev_size}: expected at most 59999 images")
    if args.train_size is not None and args.train_size > 60_000 - args.dev_size:
        raise UsageError(
            f"--train-size {args.train_size}: expected at most {60_000 - args.dev_size} "
            f"training images (60,000 minus the dev set)"
        )
    if args.cluster is None and args.retries is not None:
        raise UsageError(
            "--retries: only with --cluster (local trials are not retried)"
        )
    if args.cluster is not None and args.jobs is not None:
        raise UsageError(
            "--jobs: only without --cluster (a cluster runs one trial per worker thread)"
        )
    configs = _search_configs(args)
    split = search.DevSplit(args.dev_size, args.seed, args.train_size)
    trial = functools.partial(search.mnist_trial, split=split)
    client = None
    if args.cluster is None:
        mnist_data.locate_mnist()  # a missing data set: one error here, not one per trial
    else:
        logging.getLogger("distributed").setLevel(logging.CRITICAL)  # errors come below
        client = cluster.connect(args.cluster)
    bar = tqdm(total=len(configs), unit="trial", disable=not sys.stderr.isatty())

    def report(outcome: cluster.Outcome) -> None:
        bar.update()
        if not args.json:
            tqdm.write(_trial_line(outcome, len(configs)), file=sys.stdout)
            sys.stdout.flush()

    try:
        with bar:
            results = cluster.run_search(
                trial, configs, n_jobs=args.jobs or 2, client=client,
                retries=2 if args.retries is None else args.retries, on_outcome=report,
            )  # fmt: skip
    finally:
        if client is not None:
            client.close()
    if args.json:
        print(json.dumps([_as_json(r) for r in results], indent=2))
    else:
        print(_search_table(results, args.dev_size))
    return 0


def _load_mnist_model(path: Path) -> tuple[MLP | CNN, dict[str, Any]]:
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
    print(f"{args.model}: {type(model).__name__.lower()} {_describe(model)}")
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


def _predict_one(path: Path, model: MLP | CNN) -> dict[str, Any]:
    """The digit in the image at ``path`` and the probability of each class."""
    p = model.predict_proba(prepare_digit(read_image(path))[:, None])[:, 0]
    digit = int(np.argmax(p))
    return {
        "image": str(path),
        "digit": digit,
        "probability": float(p[digit]),
        "probabilities": p.tolist(),
    }


def _read_one_row(path: Path, model: MLP | CNN, digits: int | None) -> dict[str, Any]:
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
    """The ``nnmath`` argument parser with its five subcommands."""
    parser = Parser(
        prog="nnmath",
        description="Neural networks from scratch on MNIST: data, train, search, evaluate, "
        "predict.",
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
        "--network",
        choices=["mlp", "cnn"],
        default="mlp",
        help="mlp: fully connected (Part II); cnn: convolutional (Part V). Default mlp",
    )
    train.add_argument(
        "--arch",
        type=_arch,
        default=None,
        metavar="SIZES",
        help="the MLP's layer widths, e.g. 784-128-64-10 (default)",
    )
    train.add_argument(
        "--channels",
        type=_widths,
        default=None,
        metavar="C",
        help="the CNN's channels per 5x5 convolution block, e.g. 16-32 (default)",
    )
    train.add_argument(
        "--hidden",
        type=_widths,
        default=None,
        metavar="N",
        help="the CNN's fully connected hidden widths, e.g. 128 (default)",
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
        "--augment",
        choices=AUGMENTATIONS,
        default="none",
        help="a new random version of every image each epoch: shift-rotate "
        "(chapter 12), distort (chapter 14: affine, elastic, pen) or distort-gentle "
        "(smaller distortions, Part V's recipe); default none",
    )
    train.add_argument(
        "--schedule",
        choices=["constant", "cosine"],
        default="constant",
        help="learning rate over the epochs (default constant)",
    )
    train.add_argument(
        "--out", type=Path, required=True, help="the model file to write (.npz)"
    )
    train.add_argument(
        "--limit", type=_positive_int, default=None, help=argparse.SUPPRESS
    )
    train.set_defaults(run=cmd_train)
    _add_search(commands)

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


def _add_search(commands: argparse._SubParsersAction) -> None:
    """The ``search`` subcommand and its options."""
    sr = commands.add_parser(
        "search",
        help="hyper-parameter search: train one network per configuration",
        description="Grid search (every combination of the values given) or random "
        "search (--random N draws) over learning rate, architecture, batch size, "
        "optimiser and epochs. Each trial trains on MNIST's training set minus a dev set "
        "and is ranked by its dev accuracy; the test set is not used. Trials run in local "
        "processes, or with --cluster on an existing Dask cluster, whose workers need "
        "nnmath and MNIST (NNMATH_DATA) installed; the results are the same either way.",
    )
    sr.add_argument(
        "--lr", type=_learning_rate, nargs="+", metavar="LR",
        help="learning rates to try (default 1e-3)",
    )  # fmt: skip
    sr.add_argument(
        "--lr-range", type=_learning_rate, nargs=2, metavar=("LOW", "HIGH"),
        help="with --random: draw each learning rate log-uniformly from [LOW, HIGH]",
    )  # fmt: skip
    sr.add_argument(
        "--arch", type=_arch, nargs="+", default=[(784, 128, 64, 10)], metavar="SIZES",
        help="layer widths to try, e.g. 784-64-10 784-128-10 (default 784-128-64-10)",
    )  # fmt: skip
    sr.add_argument(
        "--batch-size", type=_positive_int, nargs="+", default=[128], metavar="N",
        help="batch sizes to try (default 128)",
    )  # fmt: skip
    sr.add_argument(
        "--optimizer", choices=sorted(OPTIMIZERS), nargs="+", default=["adam"],
        metavar="NAME", help=f"optimisers to try, of {', '.join(sorted(OPTIMIZERS))} "
        "(default adam)",
    )  # fmt: skip
    sr.add_argument(
        "--epochs", type=_positive_int, nargs="+", default=[10], metavar="N",
        help="numbers of epochs to try (default 10)",
    )  # fmt: skip
    sr.add_argument(
        "--random", type=_positive_int, metavar="N",
        help="draw N random configurations (each option: one of its values, uniformly) "
        "instead of trying every combination",
    )  # fmt: skip
    sr.add_argument(
        "--seed", type=_count, default=0,
        help="seed of the dev split, of the random draws and of each trial's own seed "
        "(starting weights, batch order), which also depends on its number (default 0)",
    )  # fmt: skip
    sr.add_argument(
        "--dev-size", type=_positive_int, default=1000,
        help="training images held out as the dev set that ranks the trials (default 1000)",
    )  # fmt: skip
    sr.add_argument(
        "--train-size", type=_positive_int, metavar="N",
        help="train each trial on the first N images of the training split, for a quick "
        "search (default: all of them)",
    )  # fmt: skip
    sr.add_argument(
        "--jobs", type=_positive_int, metavar="N",
        help="local worker processes (default 2)",
    )  # fmt: skip
    sr.add_argument(
        "--cluster", type=_cluster_address, metavar="ADDRESS",
        help="run the trials on the Dask cluster whose scheduler is at ADDRESS, "
        "e.g. tcp://10.0.0.5:8786",
    )  # fmt: skip
    sr.add_argument(
        "--retries", type=_count, metavar="K",
        help="with --cluster: run a trial that raised an error up to K more times "
        "(default 2); a trial whose worker died is moved to another worker by Dask",
    )  # fmt: skip
    sr.add_argument("--json", action="store_true", help="print the table as JSON")
    sr.set_defaults(run=cmd_search)


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
    except cluster.TrialsFailed as err:
        print(f"nnmath: error: {' '.join(str(err).split())}", file=sys.stderr)
        return 1
    except (UsageError, DataError, ValueError, OSError) as err:
        message = " ".join(str(err).split())  # one line
        print(f"nnmath: error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

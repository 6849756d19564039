"""Time the 784-128-64-10 network with nnmath (and PyTorch, when it is installed).

Two measurements on the book's split (59,000 training images; 1,000 held out by
``train_dev_split(..., dev_size=1000, seed=0)``; the official 10,000 test images):

1. Speed: the wall time of one epoch of Adam at batch sizes 32, 128 and 512, the median
   over ``--repeats`` epochs (after one warm-up epoch). ``fit``'s one-off set-up (a
   row-major copy of the training set) is reported apart.
2. Accuracy: the recipe -- He init, Adam (lr 1e-3), batch 128, 10 epochs -- trained once
   per seed, with the test accuracy of each run and their median.

``--stall`` adds the slides' recipe (0.01 N(0, 1) init, plain SGD at 0.001, batch 32) and
prints its loss after one epoch. PyTorch runs the same network and recipe side by side
only if ``import torch`` works; otherwise it is skipped with a note.

    NNMATH_DATA=/path/to/mnist python benchmarks/bench_mlp.py --seeds 0 1 2
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
from nnmath.data import load_mnist, scale_pixels, to_columns, train_dev_split
from nnmath.metrics import accuracy
from nnmath.mlp import MLP
from nnmath.optim import SGD, Adam
from nnmath.train import fit

SIZES = (784, 128, 64, 10)


def load_split() -> tuple[np.ndarray, ...]:
    """X (784, 59000), y, X_dev, y_dev, X_test (784, 10000), y_test; float32 and intp."""
    data = load_mnist()
    images, labels, dev_images, dev_labels = train_dev_split(
        data.train_images, data.train_labels, dev_size=1000, seed=0
    )
    return (
        scale_pixels(to_columns(images)),
        labels.astype(np.intp),
        scale_pixels(to_columns(dev_images)),
        dev_labels.astype(np.intp),
        scale_pixels(to_columns(data.test_images)),
        data.test_labels.astype(np.intp),
    )


# --------------------------------------------------------------------------- nnmath


def nnmath_epoch_times(
    X: np.ndarray, y: np.ndarray, batch_size: int, repeats: int, threads: int | None
) -> tuple[float, list[float], float]:
    """(set-up seconds, per-epoch seconds after a warm-up epoch, total wall seconds)."""
    model = MLP(SIZES, seed=0)
    start = time.perf_counter()
    history = fit(
        model,
        Adam(1e-3),
        X,
        y,
        epochs=repeats + 1,
        batch_size=batch_size,
        seed=0,
        blas_threads=threads,
    )
    wall = time.perf_counter() - start
    return wall - sum(history.seconds), history.seconds[1:], wall


def nnmath_recipe(data, seed: int, batch_size: int, epochs: int, threads: int | None):
    """Train the recipe; return (test accuracy, seconds, final train loss)."""
    X, y, X_dev, y_dev, X_test, y_test = data
    model = MLP(SIZES, seed=seed)
    start = time.perf_counter()
    history = fit(
        model,
        Adam(1e-3),
        X,
        y,
        epochs=epochs,
        batch_size=batch_size,
        seed=seed,
        X_dev=X_dev,
        y_dev=y_dev,
        blas_threads=threads,
    )
    seconds = time.perf_counter() - start
    return accuracy(y_test, model.predict(X_test)), seconds, history.train_loss[-1]


# --------------------------------------------------------------------------- PyTorch


def torch_available() -> bool:
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


def torch_run(data, seed: int, batch_size: int, epochs: int, threads: int):
    """The same network and recipe in PyTorch: He-normal weights, zero biases, Adam.

    Returns (per-epoch seconds, test accuracy). Mini-batches are slices of a tensor
    shuffled by ``torch.randperm`` (no DataLoader, whose worker overhead would dominate).
    """
    import torch
    from torch import nn

    torch.manual_seed(seed)
    torch.set_num_threads(threads)
    X, y, _, _, X_test, y_test = data
    Xt = torch.from_numpy(np.ascontiguousarray(X.T))  # (m, 784): PyTorch's row layout
    yt = torch.from_numpy(y.astype(np.int64))
    net = nn.Sequential(
        nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 64), nn.ReLU(), nn.Linear(64, 10)
    )
    for layer in net:
        if isinstance(layer, nn.Linear):
            nn.init.kaiming_normal_(layer.weight, nonlinearity="relu")
            nn.init.zeros_(layer.bias)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    times = []
    for _ in range(epochs):
        start = time.perf_counter()
        order = torch.randperm(Xt.shape[0])
        for i in range(0, Xt.shape[0], batch_size):
            idx = order[i : i + batch_size]
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(net(Xt[idx]), yt[idx])
            loss.backward()
            opt.step()
        times.append(time.perf_counter() - start)
    with torch.no_grad():
        logits = net(torch.from_numpy(np.ascontiguousarray(X_test.T)))
    predictions = logits.argmax(dim=1).numpy()
    return times, accuracy(y_test, predictions)


# --------------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--batch-sizes",
        type=int,
        nargs="*",
        default=[32, 128, 512],
        help="batch sizes to time (none: skip the timing)",
    )
    parser.add_argument(
        "--repeats",
        type=int,
        default=5,
        help="epochs timed per batch size (after one warm-up epoch)",
    )
    parser.add_argument(
        "--seeds",
        type=int,
        nargs="*",
        default=[0],
        help="seeds of the 10-epoch recipe (none: skip it)",
    )
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument(
        "--batch-size", type=int, default=128, help="the recipe's batch size"
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="BLAS threads for nnmath and PyTorch (0: leave as is)",
    )
    parser.add_argument(
        "--stall",
        action="store_true",
        help="also run one epoch of the slides' recipe (init 'scaled', SGD)",
    )
    parser.add_argument("--no-torch", action="store_true", help="skip PyTorch")
    args = parser.parse_args()
    threads = args.threads or None

    data = load_split()
    X, y = data[0], data[1]
    use_torch = not args.no_torch and torch_available()
    print(
        f"{X.shape[1]} training, {data[2].shape[1]} dev, {data[4].shape[1]} test images; "
        f"BLAS threads: {threads or 'default'}; PyTorch: "
        f"{'yes' if use_torch else 'not installed, skipped' if not args.no_torch else 'off'}"
    )

    print(
        "\none epoch of Adam, 784-128-64-10 (median of "
        f"{args.repeats} epochs after a warm-up)"
    )
    for batch_size in args.batch_sizes:
        setup, times, _ = nnmath_epoch_times(X, y, batch_size, args.repeats, threads)
        line = (
            f"  batch {batch_size:4d}: nnmath {statistics.median(times):6.3f} s "
            f"(min {min(times):.3f}, max {max(times):.3f}; fit set-up {setup:.3f} s)"
        )
        if use_torch:
            torch_times, _ = torch_run(
                data, 0, batch_size, args.repeats + 1, threads or 1
            )
            line += f"   PyTorch {statistics.median(torch_times[1:]):6.3f} s"
        print(line, flush=True)

    if args.seeds:
        print(
            f"\nthe recipe: He init, Adam 1e-3, batch {args.batch_size}, "
            f"{args.epochs} epochs -> test accuracy"
        )
        scores = []
        for seed in args.seeds:
            acc, seconds, train_loss = nnmath_recipe(
                data, seed, args.batch_size, args.epochs, threads
            )
            scores.append(acc)
            line = (
                f"  seed {seed}: nnmath {acc:.4f} ({seconds:.1f} s, final train loss "
                f"{train_loss:.4f})"
            )
            if use_torch:
                _, torch_acc = torch_run(
                    data, seed, args.batch_size, args.epochs, threads or 1
                )
                line += f"   PyTorch {torch_acc:.4f}"
            print(line, flush=True)
        print(f"  median over {len(scores)} seed(s): {statistics.median(scores):.4f}")

    if args.stall:
        X_dev, y_dev = data[2], data[3]
        model = MLP(SIZES, init="scaled", seed=0)
        history = fit(
            model,
            SGD(0.001),
            X,
            y,
            epochs=1,
            batch_size=32,
            seed=0,
            X_dev=X_dev,
            y_dev=y_dev,
            blas_threads=threads,
        )
        print(
            f"\nthe slides' recipe (0.01 N(0,1), SGD 0.001, batch 32), after 1 epoch: "
            f"train loss {history.train_loss[0]:.4f}, dev loss {history.dev_loss[0]:.4f}, "
            f"dev accuracy {history.dev_accuracy[0]:.3f} (log 10 = {np.log(10):.4f})"
        )


if __name__ == "__main__":
    main()

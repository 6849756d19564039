"""Time the tutorials' recipe for the 784-10-10 network with nnmath, and optionally a reference.

The recipe: 59,000 training images (1,000 of the 60,000 held out as a dev set by
``train_dev_split(..., dev_size=1000, seed=0)``), full-batch gradient descent, alpha = 0.12,
500 iterations. Prints the training time and the dev and test accuracy.

``--reference`` also runs a plain implementation written here in the tutorials' style (float64,
a one-hot matrix built with ``np.eye`` every iteration, separate softmax and gradient, division
by the global m) from the same starting parameters, and prints the speed ratio. The first line
printed names the machine (CPU, NumPy's BLAS and its kernel, date): the times hold for it only.

    NNMATH_DATA=/path/to/mnist python benchmarks/bench_twolayer.py --reference
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from bench_speed import describe, machine
from nnmath.data import load_mnist, scale_pixels, to_columns, train_dev_split
from nnmath.fast.twolayer import gradient_descent
from nnmath.twolayer import get_accuracy, init_params, make_predictions

# --------------------------------------------------------------------------- reference


def reference_train(X, Y, alpha, iterations, params):
    """The tutorials' algorithm, written the plain way: float64, one-hot via np.eye, unfused."""
    W1, b1, W2, b2 = (p.astype(np.float64) for p in params)
    m = X.shape[1]  # the global m, as in the tutorials
    for _ in range(iterations):
        Z1 = W1.dot(X) + b1
        A1 = np.maximum(Z1, 0)
        Z2 = W2.dot(A1) + b2
        A2 = np.exp(Z2) / np.sum(np.exp(Z2), axis=0)
        one_hot_Y = np.eye(10)[Y].T
        dZ2 = A2 - one_hot_Y
        dW2 = 1 / m * dZ2.dot(A1.T)
        db2 = 1 / m * np.sum(dZ2, axis=1, keepdims=True)
        dZ1 = W2.T.dot(dZ2) * (Z1 > 0)
        dW1 = 1 / m * dZ1.dot(X.T)
        db1 = 1 / m * np.sum(dZ1, axis=1, keepdims=True)
        W1 = W1 - alpha * dW1
        b1 = b1 - alpha * db1
        W2 = W2 - alpha * dW2
        b2 = b2 - alpha * db2
    return W1, b1, W2, b2


# --------------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--iterations", type=int, default=500)
    parser.add_argument("--alpha", type=float, default=0.12)
    parser.add_argument("--seed", type=int, default=0, help="initialisation seed")
    parser.add_argument("--scheme", choices=["uniform", "he", "both"], default="uniform")
    parser.add_argument("--block-size", type=int, default=1024)
    parser.add_argument("--repeat", type=int, default=1,
                        help="time each run this many times and report the fastest "
                             "(the least disturbed by other processes)")
    parser.add_argument("--reference", action="store_true",
                        help="also time the plain float64 reference (about 1 minute)")
    args = parser.parse_args()
    print(describe(machine()))  # the times below hold for this machine only

    data = load_mnist()
    train_images, train_labels, dev_images, dev_labels = train_dev_split(
        data.train_images, data.train_labels, dev_size=1000, seed=0
    )
    X = scale_pixels(to_columns(train_images))
    Y = train_labels.astype(np.intp)
    X_dev, Y_dev = scale_pixels(to_columns(dev_images)), dev_labels.astype(np.intp)
    X_test, Y_test = scale_pixels(to_columns(data.test_images)), data.test_labels.astype(np.intp)
    print(f"{X.shape[1]} training, {X_dev.shape[1]} dev, {X_test.shape[1]} test images; "
          f"alpha {args.alpha}, {args.iterations} iterations, seed {args.seed}")

    def timed(train) -> tuple[float, tuple]:
        """The fastest of ``--repeat`` runs of ``train()``, and its result."""
        times = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            params = train()
            times.append(time.perf_counter() - start)
        if args.repeat > 1:
            print("  runs: " + ", ".join(f"{t:.2f} s" for t in times))
        return min(times), params

    def report(name: str, seconds: float, params) -> None:
        params = [np.asarray(p, dtype=np.float64) for p in params]
        dev = get_accuracy(make_predictions(X_dev, *params), Y_dev)
        test = get_accuracy(make_predictions(X_test, *params), Y_test)
        print(f"{name:28s} {seconds:7.2f} s   dev accuracy {dev:.4f}   test accuracy {test:.4f}",
              flush=True)

    schemes = ["uniform", "he"] if args.scheme == "both" else [args.scheme]
    nnmath_seconds = {}
    for scheme in schemes:
        nnmath_seconds[scheme], params = timed(
            lambda scheme=scheme: gradient_descent(
                X, Y, args.alpha, args.iterations, seed=args.seed, scheme=scheme,
                block_size=args.block_size,
            )
        )
        report(f"nnmath float32 ({scheme})", nnmath_seconds[scheme], params)

    if args.reference:
        X64 = X.astype(np.float64)
        start_params = init_params(seed=args.seed, scheme="uniform", dtype=np.float64)
        seconds, params = timed(
            lambda: reference_train(X64, Y, args.alpha, args.iterations, start_params)
        )
        report("reference float64 (uniform)", seconds, params)
        if "uniform" in nnmath_seconds:
            print(f"speed-up: {seconds / nnmath_seconds['uniform']:.2f}x")


if __name__ == "__main__":
    main()

"""Where one epoch of 784-128-64-10 with Adam spends its time, step by step.

The epoch of :func:`nnmath.fast.mlp.train_epoch`, taken apart: each of its steps (the
batch gather, every layer's product, bias and activation, the softmax, the loss and hits,
dZ[L], every layer's dW, db and dZ, the Adam update) is timed on its own with
``time.perf_counter`` around it, batch after batch, over whole epochs; the last row is the
epoch timed as one call, so the gap between it and the sum of the steps is what the timing
itself adds. Medians over ``--repeats`` epochs after a warm-up, per batch size, with the
BLAS threads of ``--threads``. Times are seconds per epoch.

    NNMATH_DATA=/path/to/mnist python benchmarks/profile_mlp.py --batch-sizes 32 128 512
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections import defaultdict

import numpy as np
from bench_mlp import SIZES, load_split
from nnmath.activations import relu, relu_deriv, softmax
from nnmath.fast.mlp import flattened, train_epoch
from nnmath.losses import cross_entropy, softmax_cross_entropy_grad
from nnmath.mlp import MLP
from nnmath.optim import Adam
from nnmath.speed_record import describe, machine
from threadpoolctl import threadpool_limits


def profiled_epoch(
    model: MLP, optimizer: Adam, rows: np.ndarray, y: np.ndarray, batch_size: int,
    rng: np.random.Generator,
) -> dict[str, float]:
    """One epoch of the fast path's steps, each timed on its own: seconds per step name."""
    spent: dict[str, float] = defaultdict(float)
    clock = time.perf_counter

    def timed(name: str, start: float) -> float:
        now = clock()
        spent[name] += now - start
        return now

    m = rows.shape[0]
    buffer = np.empty((batch_size, rows.shape[1]), dtype=model.dtype)
    t = clock()
    order = rng.permutation(m)
    t = timed("shuffle", t)
    with flattened(model) as (params, grads):
        for start in range(0, m, batch_size):
            t = clock()
            batch = order[start : start + batch_size]
            A = np.take(rows, batch, axis=0, out=buffer[: batch.size], mode="clip").T
            y_batch = y[batch]
            t = timed("gather the batch", t)
            Z_all, A_all = [], [A]
            for l in range(model.L):
                Z = model.W[l] @ A
                t = timed(f"Z{l + 1} = W{l + 1} A{l}", t)
                Z += model.b[l]
                t = timed("+ b (all layers)", t)
                A = relu(Z) if l < model.L - 1 else softmax(Z)
                t = timed("ReLU (hidden layers)" if l < model.L - 1 else "softmax", t)
                Z_all.append(Z)
                A_all.append(A)
            cross_entropy(A, y_batch)
            (A.argmax(axis=0) == y_batch).mean()
            t = timed("loss and hits", t)
            dZ = softmax_cross_entropy_grad(A, y_batch)
            t = timed("dZ3 = A3 - Y", t)
            for l in reversed(range(model.L)):
                np.matmul(dZ, A_all[l].T, out=model.dW[l])
                model.dW[l] /= dZ.shape[1]
                t = timed(f"dW{l + 1}", t)
                np.sum(dZ, axis=1, keepdims=True, out=model.db[l])
                model.db[l] /= dZ.shape[1]
                t = timed("db (all layers)", t)
                if l > 0:
                    dA = model.W[l].T @ dZ
                    t = timed(f"W{l + 1}^T dZ{l + 1}", t)
                    dA *= relu_deriv(Z_all[l - 1])
                    dZ = dA
                    t = timed("* ReLU' (hidden layers)", t)
            optimizer.step([params], [grads])
            t = timed("Adam update", t)
    return spent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[32, 128, 512])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    X, y, *_ = load_split()
    rows = np.ascontiguousarray(X.T)
    print(describe(machine(with_torch=False)))
    with threadpool_limits(args.threads):
        for batch_size in args.batch_sizes:
            model, optimizer = MLP(SIZES, seed=0), Adam(1e-3)
            steps: dict[str, list[float]] = defaultdict(list)
            whole = []
            for repeat in range(args.repeats + 1):
                spent = profiled_epoch(model, optimizer, rows, y, batch_size,
                                       np.random.default_rng(repeat))
                start = time.perf_counter()
                train_epoch(model, optimizer, X, y, batch_size, np.random.default_rng(repeat))
                if repeat:  # the first of each is a warm-up
                    whole.append(time.perf_counter() - start)
                    for name, seconds in spent.items():
                        steps[name].append(seconds)
            medians = {name: statistics.median(times) for name, times in steps.items()}
            total = sum(medians.values())
            print(f"\nbatch {batch_size}: {len(y) // batch_size + 1} steps an epoch")
            for name, seconds in sorted(medians.items(), key=lambda item: -item[1]):
                print(f"  {name:<26} {seconds:7.3f} s  {seconds / total:6.1%}")
            print(f"  {'sum of the steps':<26} {total:7.3f} s")
            print(f"  {'the epoch in one call':<26} {statistics.median(whole):7.3f} s")


if __name__ == "__main__":
    main()

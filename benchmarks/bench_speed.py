"""nnmath against PyTorch on the CPU, side by side, written to a machine-stamped JSON file.

Four measurements, each the median over ``--repeats`` runs after a warm-up, float32, on
the book's split (59,000 training images, the official 10,000 test images), with the
thread counts of ``--threads`` (BLAS threads for nnmath, ``torch.set_num_threads`` for
PyTorch; Part I's ``gradient_descent`` uses that many worker threads of one BLAS thread):

1. one full-batch iteration of the 784-10-10 network of Part I (alpha 0.12);
2. one epoch of 784-128-64-10 with Adam (lr 1e-3) at batch sizes 32, 128 and 512;
3. inference (class probabilities) on the 10,000 test images with 784-128-64-10;
4. the machine's own float32 matrix-multiply rate (an n x n product, n = 2048) and its
   memory read rate (the sum of a 185 MB array), against which the FLOP rate of each
   training run (from ``nnmath.flops``) and the 784-10-10 pass are compared.

PyTorch is optional (``pip install torch==2.13.0``: the CPU build); without it, its
columns are null. Chapter 16 reads the file this writes.

The times hold for one machine only, so the file's ``machine`` record names it
(:func:`nnmath.speed_record.machine`, shared with ``bench_cnn.py``): the CPU
model (``/proc/cpuinfo``'s 'model name', else ``platform``) and its vector instruction
sets, the core count, NumPy's BLAS as threadpoolctl reports it (library, version, the
kernel OpenBLAS chose for this CPU, threads), PyTorch's BLAS from its build configuration
(MKL or OpenBLAS), its CPU capability and threads, the versions and the date (UTC).
The file keeps one entry per machine, keyed by :func:`nnmath.speed_record.machine_key`: a
run adds this machine's entry, or replaces it, and leaves the others' as they were.

    NNMATH_DATA=/path/to/mnist python benchmarks/bench_speed.py --out code/nnmath/speed.json
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from bench_mlp import SIZES, load_split, nnmath_epoch_times, torch_available, torch_run
from nnmath import flops, twolayer
from nnmath.fast import twolayer as fast_twolayer
from nnmath.mlp import MLP
from nnmath.speed_record import describe, load_all, machine, machine_key
from threadpoolctl import threadpool_limits

Timer = Callable[[], object]


def median_seconds(run: Timer, repeats: int) -> float:
    """Median wall time of ``run()`` over ``repeats`` calls, after one warm-up call."""
    run()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


# --------------------------------------------------------------------------- the machine


def matmul_rate(threads: int, n: int = 2048, repeats: int = 5) -> float:
    """GFLOP/s of an (n, n) @ (n, n) float32 product with ``threads`` BLAS threads."""
    rng = np.random.default_rng(0)
    A, B = (rng.standard_normal((n, n), dtype=np.float32) for _ in range(2))
    with threadpool_limits(limits=threads, user_api="blas"):
        seconds = median_seconds(lambda: A @ B, repeats)
    return 2 * n**3 / seconds / 1e9


def read_rate(X: np.ndarray, repeats: int = 5) -> float:
    """GB/s of one pass reading ``X`` (a sum: one addition per 4 bytes read)."""
    return X.nbytes / median_seconds(lambda: X.sum(dtype=np.float32), repeats) / 1e9


# --------------------------------------------------------------------------- Part I


def twolayer_iteration(X: np.ndarray, y: np.ndarray, threads: int, repeats: int,
                       iterations: int = 20) -> float:
    """Seconds per full-batch iteration of ``fast.twolayer.gradient_descent``, set-up excluded.

    The median time of 1 + ``iterations`` iterations minus that of 1 (which includes the
    one-off cutting of X into blocks), divided by ``iterations``.
    """
    def run(n: int) -> Timer:
        return lambda: fast_twolayer.gradient_descent(X, y, 0.12, n, workers=threads)

    one = median_seconds(run(1), repeats)
    return (median_seconds(run(1 + iterations), repeats) - one) / iterations


def torch_twolayer_iteration(X: np.ndarray, y: np.ndarray, threads: int,
                             repeats: int) -> float:
    """Seconds per full-batch iteration of the same network and step in PyTorch."""
    import torch

    torch.set_num_threads(threads)
    Xt = torch.from_numpy(np.ascontiguousarray(X.T))  # (m, 784)
    yt = torch.from_numpy(y.astype(np.int64))
    W1, b1, W2, b2 = (torch.from_numpy(p.copy()).requires_grad_()
                      for p in twolayer.init_params(seed=0))

    def step() -> None:
        logits = torch.relu(Xt @ W1.T + b1.T) @ W2.T + b2.T
        loss = torch.nn.functional.cross_entropy(logits, yt)
        grads = torch.autograd.grad(loss, (W1, b1, W2, b2))
        with torch.no_grad():
            for p, g in zip((W1, b1, W2, b2), grads, strict=True):
                p -= 0.12 * g

    return median_seconds(step, repeats)


# --------------------------------------------------------------------------- Part II


def mlp_inference(X_test: np.ndarray, threads: int, repeats: int) -> float:
    """Seconds for the class probabilities of every test image with 784-128-64-10."""
    model = MLP(SIZES, seed=0)
    with threadpool_limits(limits=threads, user_api="blas"):
        return median_seconds(lambda: model.predict_proba(X_test), repeats)


def torch_inference(X_test: np.ndarray, threads: int, repeats: int) -> float:
    """The same in PyTorch (``no_grad``, one batch)."""
    import torch
    from torch import nn

    torch.set_num_threads(threads)
    net = nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 64), nn.ReLU(),
                        nn.Linear(64, 10))
    Xt = torch.from_numpy(np.ascontiguousarray(X_test.T))

    def run() -> None:
        with torch.no_grad():
            torch.softmax(net(Xt), dim=1)

    return median_seconds(run, repeats)


# --------------------------------------------------------------------------- main


def measure(threads: int, repeats: int, batch_sizes: list[int], use_torch: bool,
            data: tuple[np.ndarray, ...]) -> dict[str, object]:
    """Every workload with ``threads`` threads; seconds, and the ratio nnmath / PyTorch."""
    X, y, _, _, X_test, _ = data
    rows: dict[str, object] = {}

    def row(name: str, ours: float, theirs: float | None, **extra: object) -> None:
        ratio = None if theirs is None else ours / theirs
        rows[name] = {"nnmath_s": ours, "torch_s": theirs, "ratio": ratio, **extra}
        shown = "" if theirs is None else f"   PyTorch {theirs:8.4f} s   ratio {ratio:.2f}"
        print(f"  {name:28s} nnmath {ours:8.4f} s{shown}", flush=True)

    ours = twolayer_iteration(X, y, threads, repeats)
    theirs = torch_twolayer_iteration(X, y, threads, repeats) if use_torch else None
    row("twolayer_iteration", ours, theirs,
        flop=flops.training_flops((784, 10, 10), X.shape[1]))
    for batch_size in batch_sizes:
        _, times, _ = nnmath_epoch_times(X, y, batch_size, repeats, threads)
        theirs = None
        if use_torch:
            torch_times, _ = torch_run(data, 0, batch_size, repeats + 1, threads)
            theirs = statistics.median(torch_times[1:])
        row(f"mlp_epoch_batch_{batch_size}", statistics.median(times), theirs,
            batch_size=batch_size, flop=flops.training_flops(SIZES, X.shape[1]))
    ours = mlp_inference(X_test, threads, repeats)
    theirs = torch_inference(X_test, threads, repeats) if use_torch else None
    row("mlp_inference_10000", ours, theirs,
        flop=X_test.shape[1] * flops.forward_flops(SIZES))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[32, 128, 512])
    parser.add_argument("--no-torch", action="store_true", help="skip PyTorch")
    parser.add_argument("--out", type=Path, default=Path("code/nnmath/speed.json"))
    args = parser.parse_args()
    use_torch = not args.no_torch and torch_available()
    if not use_torch and not args.no_torch:
        print("PyTorch is not installed: its columns stay empty "
              "(pip install torch==2.13.0)", file=sys.stderr)

    data = load_split()
    X = data[0]
    blocks = fast_twolayer.split_blocks(X, data[1])
    result: dict[str, object] = {
        "machine": machine(),
        "settings": {"repeats": args.repeats, "statistic": "median after one warm-up",
                     "training_images": X.shape[1], "test_images": data[4].shape[1]},
        "read_GBps": read_rate(X),
        "twolayer_pass_bytes": int(sum(block.X.nbytes for block in blocks)),
        "twolayer_data_bytes": int(X.nbytes),
        "threads": {},
    }
    print(describe(result["machine"]))
    print(f"memory read rate {result['read_GBps']:.1f} GB/s")
    for threads in args.threads:
        rate = matmul_rate(threads)
        print(f"{threads} thread(s): float32 matmul {rate:.0f} GFLOP/s", flush=True)
        rows = measure(threads, args.repeats, args.batch_sizes, use_torch, data)
        result["threads"][str(threads)] = {"matmul_GFLOPps": rate, "workloads": rows}
    key = machine_key(result["machine"])
    record = load_all(args.out) if args.out.is_file() else {"format": 1, "machines": {}}
    record["machines"][key] = {"key": key, **result}  # this machine's entry, replaced
    args.out.parent.mkdir(parents=True, exist_ok=True)
    temporary = args.out.with_suffix(".tmp")
    temporary.write_text(json.dumps(record, indent=2) + "\n")
    os.replace(temporary, args.out)
    print(f"written to {args.out}, entry {key!r} ({len(record['machines'])} machines)")


if __name__ == "__main__":
    main()

"""The convolutional network of Part V: its accuracy over seeds, its epoch against PyTorch's,
its memory; written to ``code/nnmath/cnn_speed.json``, one entry per machine.

Three parts, each of which can be skipped (``--skip-seeds``, ``--skip-timing``,
``--skip-memory``; a skipped part keeps the values this machine's entry already has):

1. **Seeds.** ``nnmath.recipes.CNN_RECIPE`` trained once per seed of ``--seeds``
   (``train_cnn``), each network evaluated on MNIST's official 10,000 test images with
   its final weights: per seed the test accuracy, the final and the best dev accuracy and
   the training time; and the median test accuracy. ``--jobs 2`` trains two seeds at a
   time in separate processes with one BLAS thread each; by default the seeds run one
   after the other with the BLAS library's own thread count.
2. **Timing.** One epoch of the same network at batch 128, Adam (lr 1e-3), float32, on
   the recipe's 55,000 training images without augmentation, in nnmath's fast path
   (``nnmath.fast.cnn.train_epoch``, what ``fit`` runs) and in PyTorch (Conv2d(1, 16, 5),
   ReLU, MaxPool2d(2), Conv2d(16, 32, 5), ReLU, MaxPool2d(2), Flatten, Linear(512, 128),
   ReLU, Linear(128, 10), cross-entropy), both at ``--threads`` threads (threadpoolctl's
   BLAS limit; ``torch.set_num_threads``). Each run is a fresh process that loads the
   data, warms up on ``--warmup-batches`` batches and times one epoch with
   ``perf_counter``; the runs alternate nnmath, PyTorch, nnmath, ... ``--repeats`` times
   each, and the medians are kept, with their ratio nnmath / PyTorch. The taught epoch
   (``nnmath.train.train_epoch``) is timed ``--taught-repeats`` times after them, and
   the float32 matmul rate (a 2048 x 2048 product) at the same thread count.
3. **Memory.** The peak of what one fast epoch at batch 128 allocates above what was
   allocated before it (the data, the network), traced by ``tracemalloc`` (NumPy reports
   its arrays to it), in a fresh process; the process's peak resident set size during
   the epoch (Linux: the peak is reset before the epoch through /proc/self/clear_refs),
   which also counts the BLAS library's buffers and the interpreter; and, from the
   shapes, the bytes of the unfolded patches (im2col) of one batch in each convolution.

Times depend on the machine and on what else runs on it: the record names the machine
(:func:`nnmath.speed_record.machine`) and the load average around the timing.

    NNMATH_DATA=/path/to/mnist python benchmarks/bench_cnn.py --seeds 0 1 2 --jobs 2
"""

from __future__ import annotations

import argparse
import datetime
import gc
import json
import os
import resource
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable, Mapping
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np
from nnmath import data, files, optim, recipes, speed_record, train
from nnmath.cnn import CNN, POOL
from nnmath.fast import blas_threads
from nnmath.fast import cnn as fast_cnn

BATCH = 128
LR = 1e-3
FORMAT = 1
ABOUT = (
    "Part V's convolutional network measured by benchmarks/bench_cnn.py, one entry per "
    "machine (keyed by CPU model, vector instruction sets and NumPy's BLAS kernel); "
    "read it with nnmath.speed_record.load_cnn and cnn_entry."
)


def now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")


def in_a_process(function: Callable[..., Any], *args: Any) -> Any:
    """``function(*args)`` in a fresh (spawned) process: its own imports, threads, memory."""
    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
        return pool.submit(function, *args).result()


def training_set() -> tuple[np.ndarray, np.ndarray]:
    """The recipe's training images ``(784, 55000)`` float32, stored as ``fit`` stores them
    (``X.T`` C-contiguous), and their labels; no augmentation."""
    X, y, _, _ = recipes.cnn_data(data.load_mnist(), recipes.CNN_RECIPE)
    return np.asfortranarray(X), y


def network(seed: int = 0) -> CNN:
    return recipes.cnn_from(dict(recipes.CNN_RECIPE, seed=seed))


def clocked(run: Callable[[], object]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of all the process's threads) of ``run()``."""
    def cpu() -> float:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime

    wall, used = time.perf_counter(), cpu()
    run()
    return time.perf_counter() - wall, cpu() - used


# --------------------------------------------------------------------------- seeds


def run_seed(seed: int, threads: int | None) -> dict[str, Any]:
    """Train the recipe with ``seed``; its test accuracy (final weights), dev accuracies."""
    mnist = data.load_mnist()
    config = dict(recipes.CNN_RECIPE, seed=seed)
    split = recipes.cnn_data(mnist, config)
    start = time.perf_counter()
    params, history = recipes.train_cnn(config, split, blas_threads=threads)
    seconds = time.perf_counter() - start
    model = recipes.cnn_from(config, params)
    X_test = data.scale_pixels(data.to_columns(mnist.test_images))
    with blas_threads(threads):
        test_loss, test_accuracy = train.evaluate(model, X_test,
                                                  mnist.test_labels.astype(np.intp))
    dev = history["dev_accuracy"]
    best = int(np.argmax(dev))
    return {
        "seed": seed,
        "test_accuracy": float(test_accuracy),
        "test_loss": float(test_loss),
        "dev_accuracy_final": float(dev[-1]),
        "dev_accuracy_best": float(dev[best]),
        "dev_accuracy_best_epoch": best + 1,
        "lowest_dev_loss_epoch": history["best_epoch"],
        "epochs": len(dev),
        "seconds": seconds,
    }


def seeds_part(seeds: list[int], jobs: int) -> dict[str, Any]:
    """Every seed's results, their median test accuracy and the settings."""
    threads = 1 if jobs > 1 else None
    print(f"training {len(seeds)} seed(s) of CNN_RECIPE, {jobs} at a time "
          f"(BLAS threads: {threads or 'as is'})", flush=True)
    results = []

    def report(result: dict[str, Any]) -> None:
        results.append(result)
        print(f"  seed {result['seed']}: test accuracy {result['test_accuracy']:.4f}, "
              f"dev {result['dev_accuracy_final']:.4f} (best {result['dev_accuracy_best']:.4f}"
              f" at epoch {result['dev_accuracy_best_epoch']}), {result['seconds']:.0f} s",
              flush=True)

    if jobs > 1:
        with ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("spawn")) as pool:
            for result in pool.map(run_seed, seeds, [threads] * len(seeds)):
                report(result)
    else:
        for seed in seeds:
            report(run_seed(seed, threads))
    recipe = {key: value for key, value in recipes.CNN_RECIPE.items() if key != "seed"}
    median = statistics.median(r["test_accuracy"] for r in results)
    print(f"  median test accuracy over {len(results)} seed(s): {median:.4f}")
    return {
        "seeds": results,
        "median_test_accuracy": median,
        "settings": {"seeds": seeds, "jobs": jobs, "blas_threads": threads,
                     "recipe": recipe, "test_images": 10_000,
                     "weights": "the final epoch's (no early stopping)",
                     "statistic": "median of the seeds' test accuracies", "date": now()},
    }


# --------------------------------------------------------------------------- timing


def time_nnmath(kind: str, threads: int, warmup: int) -> dict[str, float]:
    """One epoch of nnmath's ``kind`` path ('fast' or 'taught'), after a warm-up."""
    X, y = training_set()
    model, adam, rng = network(), optim.Adam(LR), np.random.default_rng(0)
    epoch = fast_cnn.train_epoch if kind == "fast" else train.train_epoch
    with blas_threads(threads):
        epoch(model, adam, X[:, : warmup * BATCH], y[: warmup * BATCH], BATCH, rng)
        wall, cpu = clocked(lambda: epoch(model, adam, X, y, BATCH, rng))
    return {"seconds": wall, "cpu_seconds": cpu, "images": X.shape[1]}


def torch_network(torch: Any) -> Any:
    nn = torch.nn
    return nn.Sequential(
        nn.Conv2d(1, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(512, 128), nn.ReLU(), nn.Linear(128, 10),
    )


def time_torch(threads: int, warmup: int) -> dict[str, float]:
    """One epoch of the same network in PyTorch, after a warm-up. Batches are slices of a
    shuffled tensor (no DataLoader, whose overhead would dominate)."""
    import torch

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    X, y = training_set()
    images = torch.from_numpy(np.ascontiguousarray(X.T)).reshape(-1, 1, 28, 28)
    labels = torch.from_numpy(y.astype(np.int64))
    net = torch_network(torch)
    adam = torch.optim.Adam(net.parameters(), lr=LR)

    def epoch(m: int) -> None:
        order = torch.randperm(m)
        for start in range(0, m, BATCH):
            batch = order[start : start + BATCH]
            adam.zero_grad(set_to_none=True)
            loss = torch.nn.functional.cross_entropy(net(images[batch]), labels[batch])
            loss.backward()
            adam.step()

    epoch(warmup * BATCH)
    wall, cpu = clocked(lambda: epoch(images.shape[0]))
    return {"seconds": wall, "cpu_seconds": cpu, "images": images.shape[0]}


def torch_stamp() -> tuple[dict[str, object] | None, str | None]:
    """PyTorch's BLAS record and version, None when it is not installed."""
    info = speed_record.torch_blas()
    if info is None:
        return None, None
    import torch

    return info, torch.__version__


def matmul_rate(threads: int, n: int = 2048, repeats: int = 5) -> float:
    """GFLOP/s of an (n, n) @ (n, n) float32 product on ``threads`` BLAS threads (median
    of ``repeats`` after a warm-up)."""
    rng = np.random.default_rng(0)
    A, B = (rng.standard_normal((n, n), dtype=np.float32) for _ in range(2))
    times = []
    with blas_threads(threads):
        A @ B
        for _ in range(repeats):
            times.append(clocked(lambda: A @ B)[0])
    return 2 * n**3 / statistics.median(times) / 1e9


def timing_part(threads: int, repeats: int, taught_repeats: int, warmup: int,
                use_torch: bool) -> dict[str, Any]:
    """The epochs, alternating nnmath and PyTorch, each in its own process; medians."""
    load_before = list(os.getloadavg())
    runs: dict[str, list[dict[str, float]]] = {"fast": [], "torch": [], "taught": []}

    def run(kind: str) -> None:
        result = (in_a_process(time_torch, threads, warmup) if kind == "torch"
                  else in_a_process(time_nnmath, kind, threads, warmup))
        runs[kind].append(result)
        print(f"  {kind:6} epoch {result['seconds']:7.2f} s (CPU {result['cpu_seconds']:.1f} s)",
              flush=True)

    print(f"one epoch of {BATCH}-image batches, {threads} thread(s), alternating", flush=True)
    for _ in range(repeats):
        run("fast")
        if use_torch:
            run("torch")
    for _ in range(taught_repeats):
        run("taught")
    rate = in_a_process(matmul_rate, threads)

    def median(kind: str) -> float | None:
        return statistics.median(r["seconds"] for r in runs[kind]) if runs[kind] else None

    ours, theirs, taught = median("fast"), median("torch"), median("taught")
    epoch = {
        "nnmath_s": ours, "torch_s": theirs,
        "ratio": None if theirs is None else ours / theirs,
        "taught_s": taught, "fast_gain": None if taught is None else taught / ours,
        "nnmath_runs_s": [r["seconds"] for r in runs["fast"]],
        "torch_runs_s": [r["seconds"] for r in runs["torch"]],
        "taught_runs_s": [r["seconds"] for r in runs["taught"]],
        "cpu_s": {kind: [r["cpu_seconds"] for r in rows] for kind, rows in runs.items()},
        "matmul_GFLOPps": rate,
        "threads": threads, "batch_size": BATCH, "images": runs["fast"][0]["images"],
        "load_average": {"before": load_before, "after": list(os.getloadavg())},
        "date": now(),
    }
    shown = "" if theirs is None else f", PyTorch {theirs:.2f} s, ratio {ours / theirs:.2f}"
    print(f"  medians: nnmath {ours:.2f} s (taught {taught or float('nan'):.2f} s){shown}; "
          f"matmul {rate:.0f} GFLOP/s")
    settings = {"threads": threads, "repeats": repeats, "taught_repeats": taught_repeats,
                "warmup_batches": warmup, "batch_size": BATCH, "optimizer": "Adam",
                "lr": LR, "dtype": "float32", "augmentation": None,
                "order": "nnmath, PyTorch, nnmath, ...; then the taught epoch; each run a "
                         "fresh process timing one epoch after its warm-up",
                "statistic": "median", "date": epoch["date"]}
    return {"epoch": epoch, "settings": settings}


# --------------------------------------------------------------------------- memory


def im2col_bytes(model: CNN, batch: int) -> list[dict[str, Any]]:
    """The unfolded patches of one batch in each convolution, from the shapes: a matrix of
    ``batch n'_h n'_w`` rows and ``c_in K_h K_w`` columns."""
    layers, side, c_in = [], 28, 1
    itemsize = np.dtype(model.dtype).itemsize
    for l, c_out in enumerate(model.channels):
        out = side - model.kernel + 1
        shape = (batch * out * out, c_in * model.kernel**2)
        layers.append({"layer": l + 1, "shape": list(shape),
                       "bytes": shape[0] * shape[1] * itemsize,
                       "input_bytes": batch * c_in * side * side * itemsize})
        side, c_in = out // POOL, c_out
    return layers


def traced_epoch(threads: int) -> dict[str, int]:
    """tracemalloc's peak during one fast epoch, and what was traced before it."""
    tracemalloc.start()
    X, y = training_set()
    model, adam, rng = network(), optim.Adam(LR), np.random.default_rng(0)
    gc.collect()
    before = tracemalloc.get_traced_memory()[0]
    tracemalloc.reset_peak()
    with blas_threads(threads):
        fast_cnn.train_epoch(model, adam, X, y, BATCH, rng)
    after, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {"before": before, "peak": peak, "after": after, "data": int(X.nbytes)}


def _status() -> dict[str, int]:
    """VmRSS and VmHWM (peak) of /proc/self/status, in bytes ({} off Linux)."""
    values = {}
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            name, _, rest = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                values[name] = int(rest.split()[0]) * 1024
    return values


def rss_epoch(threads: int) -> dict[str, Any]:
    """The process's peak resident set size during one fast epoch (no tracemalloc)."""
    X, y = training_set()
    model, adam, rng = network(), optim.Adam(LR), np.random.default_rng(0)
    gc.collect()
    before = _status().get("VmRSS")
    try:  # Linux: reset the peak to the current size, so the epoch's own peak is seen
        Path("/proc/self/clear_refs").write_text("5")
        reset = True
    except OSError:
        reset = False
    with blas_threads(threads):
        fast_cnn.train_epoch(model, adam, X, y, BATCH, rng)
    peak = _status().get("VmHWM") if reset else None
    if peak is None:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux
    return {"before": before, "peak": peak, "reset": reset}


def memory_part(threads: int) -> dict[str, Any]:
    traced = in_a_process(traced_epoch, threads)
    rss = in_a_process(rss_epoch, threads)
    layers = im2col_bytes(network(), BATCH)
    above = traced["peak"] - traced["before"]
    rss_above = (rss["peak"] - rss["before"]
                 if rss["reset"] and rss["before"] is not None else None)
    memory = {
        "tracemalloc_peak_above_before_bytes": above,
        "tracemalloc_before_bytes": traced["before"],
        "tracemalloc_peak_bytes": traced["peak"],
        "data_bytes": traced["data"],
        "rss_before_bytes": rss["before"],
        "rss_peak_bytes": rss["peak"],
        "rss_peak_above_before_bytes": rss_above,
        "im2col": layers,
        "im2col_bytes": sum(layer["bytes"] for layer in layers),
        "batch_size": BATCH, "threads": threads, "date": now(),
        "meaning": {
            "tracemalloc_peak_above_before_bytes":
                "the most that Python and NumPy held at once during one fast epoch, less "
                "what they held before it (the training images, the network); includes "
                "Adam's two moment arrays, made at the first step",
            "rss_peak_bytes":
                "the process's peak resident set size during the epoch (the data, the "
                "interpreter and its libraries, the BLAS buffers, freed memory not yet "
                "returned to the system)",
            "rss_peak_above_before_bytes":
                "that peak less the resident size just before the epoch (null when the "
                "peak could not be reset, off Linux)",
            "im2col_bytes": "the unfolded patches of one batch, both convolutions, from "
                            "the shapes",
        },
    }
    print(f"memory: one epoch's peak {above / 1e6:.1f} MB above the {traced['before'] / 1e6:.0f}"
          f" MB before it (tracemalloc); peak RSS {rss['peak'] / 1e6:.0f} MB"
          + ("" if rss_above is None else f", {rss_above / 1e6:.1f} MB above before")
          + f"; im2col of one batch {memory['im2col_bytes'] / 1e6:.1f} MB")
    return {"memory": memory, "peak_memory_bytes": above,
            "settings": {"batch_size": BATCH, "threads": threads, "date": memory["date"]}}


# --------------------------------------------------------------------------- the file


def empty_record() -> dict[str, Any]:
    return {"format": FORMAT, "about": ABOUT, "machines": {}}


def save(out: Path, stamp: Mapping[str, Any], parts: Mapping[str, Mapping[str, Any]]) -> None:
    """Merge this run's ``parts`` into this machine's entry of ``out``, read afresh (other
    machines' entries, and this machine's other parts, stay), and write it atomically."""
    record = speed_record.load_cnn(out) if out.is_file() else empty_record()
    key = speed_record.machine_key(stamp)
    entry = record["machines"].setdefault(key, {})
    entry.update(key=key, machine=dict(stamp), date=now())
    settings = entry.setdefault("settings", {})
    for name, part in parts.items():
        for field, value in part.items():
            if field == "settings":
                settings[name] = value
            else:
                entry[field] = value
    record["machines"] = dict(sorted(record["machines"].items()))
    text = json.dumps(record, indent=2, default=files.json_default) + "\n"
    out.parent.mkdir(parents=True, exist_ok=True)
    files.write_atomically(out, lambda f: f.write(text.encode()))
    print(f"written to {out} (machine {key!r})", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--jobs", type=int, default=1,
                        help="seeds trained at once, each process on one BLAS thread")
    parser.add_argument("--threads", type=int, default=2,
                        help="threads of both libraries for the timing and the memory")
    parser.add_argument("--repeats", type=int, default=3, help="timed epochs per library")
    parser.add_argument("--taught-repeats", type=int, default=1,
                        help="timed epochs of the taught path (0: none)")
    parser.add_argument("--warmup-batches", type=int, default=20)
    parser.add_argument("--skip-seeds", action="store_true")
    parser.add_argument("--skip-timing", action="store_true")
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--no-torch", action="store_true", help="time nnmath only")
    parser.add_argument("--out", type=Path, default=speed_record.CNN_PATH)
    args = parser.parse_args()

    stamp = speed_record.machine(with_torch=False)  # PyTorch stays out of this process
    torch_info, torch_version = (None, None) if args.no_torch else in_a_process(torch_stamp)
    stamp["torch_blas"] = torch_info
    if torch_version is not None:
        stamp["versions"]["torch"] = torch_version
    elif not args.no_torch:
        print("PyTorch is not installed: its times stay empty (pip install torch==2.13.0)",
              file=sys.stderr)
    print(speed_record.describe(stamp), flush=True)

    parts: dict[str, dict[str, Any]] = {}
    if not args.skip_timing:
        parts["timing"] = timing_part(args.threads, args.repeats, args.taught_repeats,
                                      args.warmup_batches, torch_info is not None)
    if not args.skip_memory:
        parts["memory"] = memory_part(args.threads)
    if parts:
        save(args.out, stamp, parts)
    if not args.skip_seeds:
        save(args.out, stamp, {"seeds": seeds_part(args.seeds, args.jobs)})


if __name__ == "__main__":
    main()

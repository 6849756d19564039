"""Hyper-parameter search: every configuration of a grid, or random ones, in parallel.

A search calls ``train_eval_fn(config)`` once per configuration, a ``dict`` of
hyper-parameters, and expects back the dev accuracy (a float) or a dict of measurements
that includes ``"dev_accuracy"``. The calls run in parallel with :mod:`joblib`, by default
in ``n_jobs=2`` worker processes (the "loky" backend); large NumPy arrays that
``train_eval_fn`` uses are memory-mapped rather than copied to each worker. The same code
runs on a cluster by choosing another joblib backend, e.g. ``with
joblib.parallel_config(backend="dask"):`` with a Dask distributed client, or Ray's.

Results come back as a list of dicts, ``{**config, **measurements, "seconds": ...}``,
sorted by dev accuracy, best first.

The ``nnmath search`` command trains :func:`mnist_trial` for each configuration: an
:class:`~nnmath.mlp.MLP` trained on MNIST's training split and measured on its dev split,
with the data loaded once per process (:func:`load_split`), never sent with a trial.
:func:`numbered` gives each configuration its trial number and a seed derived from the
search's seed, so a search gives the same results wherever its trials run
(:mod:`nnmath.cluster`: local processes or a Dask cluster).
"""

from __future__ import annotations

import functools
import itertools
import math
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from joblib import Parallel, delayed

from nnmath import seeding
from nnmath.data import PIXELS, load_mnist, scale_pixels, to_columns, train_dev_split
from nnmath.mlp import MLP
from nnmath.optim import OPTIMIZERS
from nnmath.train import fit

__all__ = [
    "OPTIMIZERS",
    "WHERE",
    "DevSplit",
    "best_first",
    "choice",
    "comparable",
    "grid_configs",
    "grid_search",
    "load_split",
    "log_uniform",
    "mnist_trial",
    "numbered",
    "random_configs",
    "random_search",
    "run_all",
    "run_timed",
    "uniform",
]


#: Keys of a result that say where and how fast a trial ran, not what it measured.
WHERE = ("seconds", "host", "pid", "worker")

Sampler = Callable[[np.random.Generator], Any]
TrainEval = Callable[[dict[str, Any]], float | Mapping[str, Any]]


def log_uniform(low: float, high: float) -> Sampler:
    """A sampler of values whose logarithm is uniform on [log low, log high].

    Needs 0 < low < high. Each decade between ``low`` and ``high`` is equally
    likely: the right prior for a learning rate, whose useful values span several
    powers of ten.
    """
    if not (0 < low < high and math.isfinite(high)):
        raise ValueError(f"low, high: expected 0 < low < high, got {low} and {high}")

    def sample(rng: np.random.Generator) -> float:
        return float(np.exp(rng.uniform(np.log(low), np.log(high))))

    sample.__qualname__ = f"log_uniform({low}, {high})"
    return sample


def uniform(low: float, high: float) -> Sampler:
    """A sampler of values uniform on [low, high]."""
    if not (math.isfinite(low) and math.isfinite(high) and low < high):
        raise ValueError(f"low, high: expected low < high, got {low} and {high}")

    def sample(rng: np.random.Generator) -> float:
        return float(rng.uniform(low, high))

    sample.__qualname__ = f"uniform({low}, {high})"
    return sample


def choice(options: Sequence[Any]) -> Sampler:
    """A sampler of one of ``options``, each equally likely."""
    options = list(options)
    if not options:
        raise ValueError("options: expected at least one option")

    def sample(rng: np.random.Generator) -> Any:
        return options[int(rng.integers(len(options)))]

    sample.__qualname__ = f"choice({options})"
    return sample


def run_timed(train_eval_fn: TrainEval, config: dict[str, Any]) -> dict[str, Any]:
    """Run one configuration; its result as one flat dict with the wall time."""
    start = time.perf_counter()
    result = train_eval_fn(dict(config))
    seconds = time.perf_counter() - start
    if isinstance(result, Mapping):
        if "dev_accuracy" not in result:
            raise ValueError(
                f"train_eval_fn: the dict it returned for {config} has no "
                f"'dev_accuracy' (keys: {sorted(result)})"
            )
        measured = dict(result)
    else:
        measured = {"dev_accuracy": result}
    try:
        measured["dev_accuracy"] = float(measured["dev_accuracy"])
    except (TypeError, ValueError) as err:
        raise TypeError(
            f"train_eval_fn: expected a number for the dev accuracy of {config}, got "
            f"{measured['dev_accuracy']!r}"
        ) from err
    return {**config, **measured, "seconds": seconds}


def run_all(
    configs: list[dict[str, Any]], train_eval_fn: TrainEval, n_jobs: int
) -> list[dict[str, Any]]:
    """Run every configuration, ``n_jobs`` at a time; sort by dev accuracy."""
    if not callable(train_eval_fn):
        raise TypeError("train_eval_fn: expected a function of one config dict")
    if not (isinstance(n_jobs, int) and (n_jobs >= 1 or n_jobs == -1)):
        raise ValueError(
            f"n_jobs: expected workers >= 1 (or -1: all cores), got {n_jobs!r}"
        )
    if n_jobs == 1:
        results = [run_timed(train_eval_fn, c) for c in configs]
    else:
        results = Parallel(n_jobs=n_jobs)(
            delayed(run_timed)(train_eval_fn, c) for c in configs
        )
    return best_first(results)


def best_first(results: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """``results`` sorted by dev accuracy, highest first; ties keep their order, NaN last."""

    def rank(result: dict[str, Any]) -> float:  # NaN (a diverged run) goes last
        acc = result["dev_accuracy"]
        return -acc if math.isfinite(acc) else math.inf

    return sorted(results, key=rank)  # stable


def comparable(results: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """``results`` without the keys in :data:`WHERE`: what two runs of a search share."""
    return [{k: v for k, v in r.items() if k not in WHERE} for r in results]


def grid_configs(param_grid: Mapping[str, Iterable[Any]]) -> list[dict[str, Any]]:
    """Every combination of ``param_grid`` (name -> values), the last name varying fastest."""
    if not isinstance(param_grid, Mapping) or not param_grid:
        raise ValueError(
            "param_grid: expected a dict of hyper-parameter name -> list of values"
        )
    names, values = list(param_grid), [list(v) for v in param_grid.values()]
    for name, options in zip(names, values, strict=True):
        if not options:
            raise ValueError(f"param_grid[{name!r}]: expected at least one value")
    return [
        dict(zip(names, combo, strict=True)) for combo in itertools.product(*values)
    ]


def grid_search(
    param_grid: Mapping[str, Iterable[Any]],
    train_eval_fn: TrainEval,
    *,
    n_jobs: int = 2,
) -> list[dict[str, Any]]:
    """Evaluate every combination of ``param_grid`` (name -> values) in parallel.

    ``train_eval_fn(config)`` trains with ``config`` and returns the dev accuracy or
    a dict holding ``"dev_accuracy"``. The product of the lists' lengths is the
    number of runs, ``n_jobs`` at a time (1: in this process, no joblib). Returns
    one dict per run, sorted by dev accuracy, best first.
    """
    return run_all(grid_configs(param_grid), train_eval_fn, n_jobs)


def random_configs(
    distributions: Mapping[str, Sampler | Sequence[Any]], *, n_iter: int, seed: int
) -> list[dict[str, Any]]:
    """``n_iter`` configurations drawn from ``distributions``, all from ``rng(seed)``.

    Each entry of ``distributions`` is a sampler ``f(rng) -> value`` (see
    :func:`log_uniform`, :func:`uniform`, :func:`choice`) or a list of values to choose
    from uniformly. The same seed gives the same configurations.
    """
    if not isinstance(distributions, Mapping) or not distributions:
        raise ValueError(
            "distributions: expected a dict of hyper-parameter name -> sampler or list"
        )
    if not (isinstance(n_iter, int) and n_iter >= 1):
        raise ValueError(f"n_iter: expected a number of runs >= 1, got {n_iter!r}")
    samplers: dict[str, Sampler] = {}
    for name, dist in distributions.items():
        if callable(dist):
            samplers[name] = dist
        elif isinstance(dist, Sequence) and not isinstance(dist, str):
            samplers[name] = choice(dist)
        else:
            raise TypeError(
                f"distributions[{name!r}]: expected a sampler f(rng) or a list of "
                f"values, got {type(dist).__name__}"
            )
    rng = seeding.rng(seed)
    return [
        {name: sample(rng) for name, sample in samplers.items()} for _ in range(n_iter)
    ]


def random_search(
    distributions: Mapping[str, Sampler | Sequence[Any]],
    train_eval_fn: TrainEval,
    *,
    n_iter: int,
    seed: int,
    n_jobs: int = 2,
) -> list[dict[str, Any]]:
    """Evaluate ``n_iter`` configurations drawn at random, in parallel.

    The configurations are :func:`random_configs`, all drawn before any run starts, so
    the same seed gives the same configurations whatever the order in which the workers
    finish. Returns one dict per run, sorted by dev accuracy, best first.
    """
    configs = random_configs(distributions, n_iter=n_iter, seed=seed)
    return run_all(configs, train_eval_fn, n_jobs)


def numbered(configs: Sequence[Mapping[str, Any]], seed: int) -> list[dict[str, Any]]:
    """Each configuration with its ``"trial"`` number (1, 2, ...) and its own ``"seed"``.

    Trial r's seed is drawn from the r-th child of ``nnmath.seeding.rng(seed)``
    (``Generator.spawn``): it depends on the search's seed and on r only, not on the
    number of trials, their order of completion or the worker that runs them.
    """
    for config in configs:
        if "trial" in config or "seed" in config:
            raise ValueError(
                f"configs: 'trial' and 'seed' are set by numbered(), found them in {config}"
            )
    children = seeding.rng(seed).spawn(len(configs))
    return [
        {"trial": r, **config, "seed": int(child.integers(2**31))}
        for r, (config, child) in enumerate(
            zip(configs, children, strict=True), start=1
        )
    ]


# --------------------------------------------------------------------------- MNIST trials


@dataclass(frozen=True)
class DevSplit:
    """Which MNIST images every trial of a search trains and measures on.

    ``nnmath.data.train_dev_split(..., dev_size, seed)`` of the 60,000 training images
    (the test set is never touched), then the first ``train_size`` images of the training
    part (None: all ``60,000 - dev_size``).
    """

    dev_size: int = 1000
    seed: int = 0
    train_size: int | None = None

    def __post_init__(self) -> None:
        if not (isinstance(self.dev_size, int) and 1 <= self.dev_size < 60_000):
            raise ValueError(
                f"dev_size: expected 1..59999 images, got {self.dev_size!r}"
            )
        most = 60_000 - self.dev_size
        if self.train_size is not None and not (
            isinstance(self.train_size, int) and 1 <= self.train_size <= most
        ):
            raise ValueError(
                f"train_size: expected 1..{most} images (60,000 minus a dev set of "
                f"{self.dev_size}), got {self.train_size!r}"
            )


_load_lock = threading.Lock()  # one load per process, even with several worker threads


def load_split(
    split: DevSplit,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(X, y, X_dev, y_dev)`` of ``split``: columns ``(784, m)`` float32, labels ``(m,)``.

    MNIST is read (from ``$NNMATH_DATA`` or the cache, see :func:`nnmath.data.load_mnist`)
    the first time a process asks for a split, and kept: every later trial in that process
    reuses the arrays.
    """
    with _load_lock:
        return _load_split(split)


@functools.lru_cache(maxsize=2)
def _load_split(
    split: DevSplit,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    mnist = load_mnist()
    images, labels, dev_images, dev_labels = train_dev_split(
        mnist.train_images, mnist.train_labels, dev_size=split.dev_size, seed=split.seed
    )
    images, labels = images[: split.train_size], labels[: split.train_size]
    X, X_dev = scale_pixels(to_columns(images)), scale_pixels(to_columns(dev_images))
    return X, labels.astype(np.intp), X_dev, dev_labels.astype(np.intp)


def mnist_trial(config: Mapping[str, Any], split: DevSplit) -> dict[str, float]:
    """Train one network on ``split`` and measure it on its dev set.

    ``config`` holds ``arch`` (layer widths, 784 to 10), ``optimizer`` (a key of
    :data:`OPTIMIZERS`), ``lr``, ``batch_size``, ``epochs`` and ``seed``, which seeds the
    starting weights and the batch order. Returns the last epoch's ``dev_accuracy``,
    ``dev_loss``, ``train_accuracy`` and ``train_loss`` (see :class:`nnmath.train.History`).
    The first trial in a process also loads the data (:func:`load_split`).
    """
    arch = tuple(config["arch"])
    if len(arch) < 2 or arch[0] != PIXELS or arch[-1] != 10:
        raise ValueError(
            f"arch: expected widths from 784 inputs to 10 classes, got {arch}"
        )
    if config["optimizer"] not in OPTIMIZERS:
        raise ValueError(
            f"optimizer: expected one of {sorted(OPTIMIZERS)}, got {config['optimizer']!r}"
        )
    X, y, X_dev, y_dev = load_split(split)
    model = MLP(arch, seed=config["seed"])
    history = fit(
        model, OPTIMIZERS[config["optimizer"]](lr=config["lr"]), X, y,
        epochs=config["epochs"], batch_size=config["batch_size"], seed=config["seed"],
        X_dev=X_dev, y_dev=y_dev,
    )  # fmt: skip
    return {
        "dev_accuracy": history.dev_accuracy[-1],
        "dev_loss": history.dev_loss[-1],
        "train_accuracy": history.train_accuracy[-1],
        "train_loss": history.train_loss[-1],
    }

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
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np
from joblib import Parallel, delayed

from nnmath import seeding

__all__ = ["choice", "grid_search", "log_uniform", "random_search", "run_all", "uniform"]

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


def _timed(train_eval_fn: TrainEval, config: dict[str, Any]) -> dict[str, Any]:
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
        results = [_timed(train_eval_fn, c) for c in configs]
    else:
        results = Parallel(n_jobs=n_jobs)(
            delayed(_timed)(train_eval_fn, c) for c in configs
        )

    def rank(result: dict[str, Any]) -> float:  # NaN (a diverged run) goes last
        acc = result["dev_accuracy"]
        return -acc if math.isfinite(acc) else math.inf

    return sorted(results, key=rank)  # stable: ties keep the order of the configs


def _grid(param_grid: Mapping[str, Iterable[Any]]) -> list[dict[str, Any]]:
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
    return run_all(_grid(param_grid), train_eval_fn, n_jobs)


def random_search(
    distributions: Mapping[str, Sampler | Sequence[Any]],
    train_eval_fn: TrainEval,
    *,
    n_iter: int,
    seed: int,
    n_jobs: int = 2,
) -> list[dict[str, Any]]:
    """Evaluate ``n_iter`` configurations drawn at random, in parallel.

    Each entry of ``distributions`` is a sampler ``f(rng) -> value`` (see
    :func:`log_uniform`, :func:`uniform`, :func:`choice`) or a list of values to choose
    from uniformly. All configurations are drawn first, from
    ``nnmath.seeding.rng(seed)``, so the same seed gives the same configurations
    whatever the order in which the workers finish. Returns one dict per run, sorted by
    dev accuracy, best first.
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
    configs = [
        {name: sample(rng) for name, sample in samplers.items()} for _ in range(n_iter)
    ]
    return run_all(configs, train_eval_fn, n_jobs)

"""Grid and random search on a cheap deterministic function, in and out of process."""

from __future__ import annotations

import math

import numpy as np
import pytest
from nnmath.search import (
    DevSplit,
    best_first,
    choice,
    comparable,
    grid_configs,
    grid_search,
    load_split,
    log_uniform,
    mnist_trial,
    numbered,
    random_configs,
    random_search,
    uniform,
)


def score(config: dict) -> dict:
    """A made-up 'dev accuracy', best at lr = 0.01 and width 128."""
    distance = abs(math.log10(config["lr"]) + 2) + abs(config["width"] - 128) / 128
    return {"dev_accuracy": 1 - 0.1 * distance, "train_accuracy": 1.0}


GRID = {"lr": [0.001, 0.01, 0.1], "width": [64, 128, 256]}


def _without_seconds(results: list[dict]) -> list[dict]:
    return [{k: v for k, v in r.items() if k != "seconds"} for r in results]


def test_grid_search_runs_every_combination_best_first():
    results = grid_search(GRID, score, n_jobs=1)
    assert len(results) == 9
    assert {(r["lr"], r["width"]) for r in results} == {
        (lr, w) for lr in GRID["lr"] for w in GRID["width"]
    }
    accuracies = [r["dev_accuracy"] for r in results]
    assert accuracies == sorted(accuracies, reverse=True)
    assert (results[0]["lr"], results[0]["width"]) == (0.01, 128)
    assert results[0]["dev_accuracy"] == pytest.approx(1.0)
    assert all(r["train_accuracy"] == 1.0 and r["seconds"] >= 0 for r in results)


def test_parallel_gives_the_same_results():
    assert _without_seconds(grid_search(GRID, score, n_jobs=2)) == _without_seconds(
        grid_search(GRID, score, n_jobs=1)
    )


def test_parallel_workers_see_arrays_the_function_closes_over():
    weights = np.linspace(0, 1, 200_000)  # big enough for joblib to memory-map it

    def uses_data(config: dict) -> float:
        return float(weights[config["i"]])

    results = grid_search({"i": [0, 199_999, 100_000]}, uses_data, n_jobs=2)
    assert [r["i"] for r in results] == [199_999, 100_000, 0]


def test_a_float_result_and_ties_and_nan():
    def flat(config: dict) -> float:
        return math.nan if config["x"] == 2 else 0.5

    results = grid_search({"x": [0, 1, 2, 3]}, flat, n_jobs=1)
    assert [r["x"] for r in results] == [0, 1, 3, 2]  # ties in grid order, NaN last


def test_random_search_is_determined_by_the_seed():
    dists = {"lr": log_uniform(1e-4, 1e-1), "width": [64, 128, 256]}
    first = random_search(dists, score, n_iter=12, seed=3, n_jobs=2)
    again = random_search(dists, score, n_iter=12, seed=3, n_jobs=1)
    other = random_search(dists, score, n_iter=12, seed=4, n_jobs=1)
    assert _without_seconds(first) == _without_seconds(again)
    assert _without_seconds(first) != _without_seconds(other)
    assert len(first) == 12
    assert all(1e-4 <= r["lr"] <= 1e-1 and r["width"] in (64, 128, 256) for r in first)
    accuracies = [r["dev_accuracy"] for r in first]
    assert accuracies == sorted(accuracies, reverse=True)


def test_samplers():
    rng = np.random.default_rng(0)
    lrs = np.array([log_uniform(1e-4, 1.0)(rng) for _ in range(4000)])
    assert lrs.min() >= 1e-4 and lrs.max() <= 1.0
    # every decade equally likely: about a quarter of the draws in each
    decades = np.bincount(np.floor(np.log10(lrs)).astype(int) + 4, minlength=4)
    assert np.all(np.abs(decades / 4000 - 0.25) < 0.03)
    xs = [uniform(2.0, 3.0)(rng) for _ in range(100)]
    assert min(xs) >= 2.0 and max(xs) <= 3.0
    assert {choice("abc")(rng) for _ in range(100)} == {"a", "b", "c"}


def test_clear_errors():
    with pytest.raises(ValueError, match="param_grid"):
        grid_search({}, score)
    with pytest.raises(ValueError, match="at least one value"):
        grid_search({"lr": []}, score)
    with pytest.raises(ValueError, match="n_jobs"):
        grid_search(GRID, score, n_jobs=0)
    with pytest.raises(TypeError, match="train_eval_fn"):
        grid_search(GRID, "score")
    with pytest.raises(ValueError, match="dev_accuracy"):
        grid_search(GRID, lambda c: {"accuracy": 1.0}, n_jobs=1)
    with pytest.raises(TypeError, match="number"):
        grid_search(GRID, lambda c: "high", n_jobs=1)
    with pytest.raises(ValueError, match="n_iter"):
        random_search({"lr": [1]}, score, n_iter=0, seed=0)
    with pytest.raises(TypeError, match="sampler"):
        random_search({"lr": 0.1}, score, n_iter=1, seed=0)
    with pytest.raises(ValueError, match="low < high"):
        log_uniform(0.0, 1.0)
    with pytest.raises(ValueError, match="low < high"):
        uniform(1.0, 1.0)
    with pytest.raises(ValueError, match="option"):
        choice([])


def test_grid_and_random_configs_are_what_the_searches_run():
    assert grid_configs({"a": [1, 2], "b": ["x", "y"]}) == [
        {"a": 1, "b": "x"}, {"a": 1, "b": "y"}, {"a": 2, "b": "x"}, {"a": 2, "b": "y"},
    ]  # fmt: skip
    dists = {"lr": log_uniform(1e-4, 1e-1), "width": [64, 128]}
    drawn = random_configs(dists, n_iter=5, seed=2)
    assert drawn == random_configs(dists, n_iter=5, seed=2)
    assert drawn[:3] == random_configs(dists, n_iter=3, seed=2)  # one stream, in order
    ran = random_search(dists, lambda c: c["lr"], n_iter=5, seed=2, n_jobs=1)
    assert sorted(r["lr"] for r in ran) == sorted(c["lr"] for c in drawn)


def test_each_trial_seed_depends_on_the_search_seed_and_the_trial_only():
    configs = grid_configs({"lr": [0.1, 0.01, 0.001]})
    trials = numbered(configs, seed=5)
    assert [t["trial"] for t in trials] == [1, 2, 3]
    assert [t["lr"] for t in trials] == [0.1, 0.01, 0.001]
    seeds = [t["seed"] for t in trials]
    assert len(set(seeds)) == 3
    assert [t["seed"] for t in numbered(configs[:2], seed=5)] == seeds[:2]
    assert numbered(list(reversed(configs)), seed=5)[0]["seed"] == seeds[0]  # by number
    assert [t["seed"] for t in numbered(configs, seed=6)] != seeds
    with pytest.raises(ValueError, match="set by numbered"):
        numbered([{"lr": 0.1, "seed": 3}], seed=0)


def test_best_first_and_comparable():
    results = [
        {"dev_accuracy": 0.5, "k": 0, "seconds": 1.0, "pid": 1},
        {"dev_accuracy": math.nan, "k": 1, "seconds": 1.0, "pid": 1},
        {"dev_accuracy": 0.9, "k": 2, "host": "a", "worker": "local"},
        {"dev_accuracy": 0.5, "k": 3},
    ]
    assert [r["k"] for r in best_first(results)] == [2, 0, 3, 1]
    assert comparable(results[2:]) == [
        {"dev_accuracy": 0.9, "k": 2},
        {"dev_accuracy": 0.5, "k": 3},
    ]


def test_dev_split_and_mnist_trial_check_their_input():
    with pytest.raises(ValueError, match="dev_size"):
        DevSplit(dev_size=0)
    with pytest.raises(ValueError, match=r"train_size: expected 1\.\.59000"):
        DevSplit(dev_size=1000, train_size=59_001)
    config = {
        "arch": (784, 8, 10),
        "optimizer": "adam",
        "lr": 1e-3,
        "batch_size": 32,
        "epochs": 1,
        "seed": 0,
    }
    with pytest.raises(ValueError, match="arch: expected widths from 784"):
        mnist_trial({**config, "arch": (784, 8, 9)}, DevSplit())
    with pytest.raises(ValueError, match="optimizer: expected one of"):
        mnist_trial({**config, "optimizer": "lbfgs"}, DevSplit())


def test_mnist_trial_trains_on_the_split_and_is_reproducible(mnist):
    split = DevSplit(dev_size=300, seed=1, train_size=600)
    X, y, X_dev, y_dev = load_split(split)
    assert X.shape == (784, 600) and X_dev.shape == (784, 300) and X.dtype == np.float32
    assert y.shape == (600,) and y_dev.shape == (300,)
    assert load_split(split)[0] is X  # loaded once per process
    config = {
        "arch": (784, 8, 10),
        "optimizer": "sgd",
        "lr": 0.1,
        "batch_size": 32,
        "epochs": 1,
        "seed": 4,
    }
    first = mnist_trial(config, split)
    assert first == mnist_trial(config, split)
    assert set(first) == {"dev_accuracy", "dev_loss", "train_accuracy", "train_loss"}
    assert first != mnist_trial({**config, "seed": 5}, split)

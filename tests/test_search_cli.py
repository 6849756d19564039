"""`nnmath search`, locally and on a real Dask cluster: same results, retries, bad input.

The clusters are real: a scheduler in this process and worker processes on 127.0.0.1.
Trials are tiny (one epoch on 2,000 images). Every test runs under a time limit, and every
command under a subprocess timeout, so that nothing can hang.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import cloudpickle
import nnmath
import pytest
from distributed import Client, LocalCluster
from nnmath import cluster, search

CODE = Path(nnmath.__file__).resolve().parents[1]  # the package these tests import
LIMIT = 120  # seconds per test

# the trial functions below are defined here, not in nnmath: send them to workers by value
cloudpickle.register_pickle_by_value(sys.modules[__name__])

SEARCH = [
    "search", "--lr", "1e-3", "3e-3", "--arch", "784-16-10", "784-32-10",
    "--batch-size", "64", "--epochs", "1", "--train-size", "2000", "--dev-size", "500",
    "--seed", "3",
]  # fmt: skip


@pytest.fixture(autouse=True)
def time_limit() -> Iterator[None]:
    """Fail (rather than hang) a test that takes longer than LIMIT seconds."""

    def expire(signum: int, frame: object) -> None:
        raise TimeoutError(f"the test took longer than {LIMIT} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(LIMIT)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


def _local_cluster(n_workers: int, **worker_options: object) -> LocalCluster:
    return LocalCluster(
        n_workers=n_workers, threads_per_worker=1, processes=True, host="127.0.0.1",
        dashboard_address="127.0.0.1:0", silence_logs=logging.ERROR, **worker_options,
    )  # fmt: skip


@pytest.fixture(scope="module")
def client(mnist) -> Iterator[Client]:
    """A client of a two-worker cluster (one thread each) whose workers can read MNIST."""
    with _local_cluster(2) as dask_cluster, Client(dask_cluster) as dask_client:
        yield dask_client


def nnmath_cmd(*args: str, timeout: float = 90) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(CODE), *filter(None, [env.get("PYTHONPATH")])]
    )
    return subprocess.run(
        [sys.executable, "-m", "nnmath.cli", *args],
        env=env, capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip


def _free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (it was free a moment ago)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --------------------------------------------------------------------------- the command


def test_the_cluster_runs_the_trials_and_matches_the_local_run(client: Client) -> None:
    local = nnmath_cmd(*SEARCH, "--json")
    remote = nnmath_cmd(*SEARCH, "--json", "--cluster", client.scheduler.address)
    assert local.returncode == 0, local.stderr
    assert remote.returncode == 0, remote.stderr
    here, there = json.loads(local.stdout), json.loads(remote.stdout)

    workers = client.run(os.getpid)  # {address: pid} of the cluster's workers
    assert {r["worker"] for r in there} <= set(workers)
    assert all(r["pid"] == workers[r["worker"]] for r in there)
    assert {r["worker"] for r in here} == {"local"}
    assert not {r["pid"] for r in here} & set(workers.values())

    assert search.comparable(here) == search.comparable(there)  # every number, exactly
    assert sorted(r["trial"] for r in there) == [1, 2, 3, 4]
    assert len({r["seed"] for r in there}) == 4  # each trial its own seed
    accuracies = [r["dev_accuracy"] for r in there]
    assert accuracies == sorted(accuracies, reverse=True)
    assert {(r["lr"], r["arch"]) for r in there} == {
        (lr, arch) for lr in (1e-3, 3e-3) for arch in ("784-16-10", "784-32-10")
    }


def test_random_search_prints_a_line_per_trial_then_the_table(mnist) -> None:
    result = nnmath_cmd(
        *SEARCH[:1], "--random", "3", "--lr-range", "1e-4", "1e-2", "--arch", "784-16-10",
        "--batch-size", "32", "64", "--epochs", "1", "--train-size", "1000", "--jobs", "1",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert [line.split()[1] for line in lines[:3]] == [
        "1/3",
        "2/3",
        "3/3",
    ]  # in order: 1 job
    assert all("dev acc" in line and "pid" in line for line in lines[:3])
    assert lines[3] == "best first, by accuracy on the 1000 dev images:"
    rows = [line.split() for line in lines[5:]]
    assert len(rows) == 3 and [row[0] for row in rows] == ["1", "2", "3"]
    assert all(1e-4 <= float(row[2]) <= 1e-2 and row[4] in ("32", "64") for row in rows)
    accuracies = [float(row[7]) for row in rows]
    assert accuracies == sorted(accuracies, reverse=True)


def test_an_unreachable_cluster_is_one_line_within_10_s(mnist) -> None:
    address = f"tcp://127.0.0.1:{_free_port()}"
    start = time.perf_counter()
    result = nnmath_cmd(*SEARCH, "--cluster", address, timeout=30)
    seconds = time.perf_counter() - start
    assert result.returncode == 2, result.stderr
    assert seconds < 10
    assert result.stderr.splitlines() == [result.stderr.strip()]  # one line
    assert result.stderr.startswith(
        f"nnmath: error: {address}: no Dask scheduler answered"
    )
    assert result.stdout == ""


def test_failed_trials_are_named_and_the_status_is_1() -> None:
    """Workers without MNIST: every trial fails, each named with its settings."""
    with _local_cluster(1, env={"NNMATH_DATA": "/no/such/folder"}) as dask_cluster:
        result = nnmath_cmd(
            *SEARCH, "--retries", "0", "--cluster", dask_cluster.scheduler_address
        )
    assert result.returncode == 1, result.stderr
    error = result.stderr.strip()
    assert error.splitlines() == [error]
    assert error.startswith("nnmath: error: 4 of 4 trials failed: trial 1 (lr=0.001, ")
    assert all(f"trial {k} (" in error for k in (1, 2, 3, 4))
    assert error.count("DataError: NNMATH_DATA=/no/such/folder: no such folder") == 4
    assert "best first" not in result.stdout  # no table, partial or not
    assert result.stdout.count("FAILED: DataError") == 4


def test_help_shows_the_search_options() -> None:
    result = nnmath_cmd("search", "--help")
    assert result.returncode == 0
    for option in ("--lr-range", "--random", "--cluster", "--retries", "--train-size"):
        assert option in result.stdout


BAD_OPTIONS = {
    "negative lr": (
        ["--lr", "1e-3", "-0.01"],
        "argument --lr: expected a number > 0, got '-0.01'",
    ),
    "zero lr": (["--lr", "0"], "argument --lr: expected a number > 0, got '0'"),
    "malformed arch": (["--arch", "784-x-10"], "argument --arch: expected widths"),
    "arch to 9 classes": (["--arch", "784-16-9"], "to 10 classes"),
    "unknown optimiser": (["--optimizer", "adam", "lbfgs"], "invalid choice: 'lbfgs'"),
    "zero random draws": (["--random", "0"], "argument --random: expected a positive"),
    "range without --random": (["--lr-range", "1e-4", "1e-2"], "only with --random"),
    "range upside down": (
        ["--random", "2", "--lr-range", "1e-2", "1e-4"],
        "--lr-range 0.01 0.0001: expected LOW < HIGH",
    ),
    "lr and range": (
        ["--random", "2", "--lr", "1e-3", "--lr-range", "1e-4", "1e-2"],
        "either --lr values or --lr-range",
    ),
    "retries without a cluster": (["--retries", "3"], "--retries: only with --cluster"),
    "jobs on a cluster": (
        ["--jobs", "2", "--cluster", "tcp://127.0.0.1:1"],
        "--jobs: only without --cluster",
    ),
    "address without a port": (["--cluster", "somehost"], "missing port number"),
    "address of another protocol": (
        ["--cluster", "http://somehost:80"],
        "unknown address scheme 'http'",
    ),
    "training set too large": (["--train-size", "59500"], "expected at most 59000"),
    "no dev set": (["--dev-size", "0"], "argument --dev-size: expected a positive"),
}


@pytest.mark.parametrize("case", list(BAD_OPTIONS))
def test_bad_options_are_one_line_and_status_2(case: str) -> None:
    extra, expected = BAD_OPTIONS[case]
    result = nnmath_cmd("search", "--epochs", "1", *extra, timeout=30)
    assert result.returncode == 2, (result.stdout, result.stderr)
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("nnmath: error: ")
    assert expected in lines[0]
    assert result.stdout == ""


# --------------------------------------------------------------------------- the package


def _dies_once(config: dict, marker: Path, killed: Path) -> float:
    """A trial whose worker process kills itself the first time it finds ``marker``."""
    if config["x"] == 2:
        try:
            marker.unlink()  # only one attempt can remove it
        except FileNotFoundError:
            pass
        else:
            killed.write_text(str(os.getpid()))
            os.kill(os.getpid(), signal.SIGKILL)
    return config["x"] / 10


def _fails_for_x_1(config: dict, attempts: Path) -> float:
    """A trial that raises every time for x = 1, counting its attempts in ``attempts``."""
    if config["x"] == 1:
        with attempts.open("a") as f:
            f.write(f"{os.getpid()}\n")
        raise ValueError("x = 1 is not allowed")
    return config["x"] / 10


def test_a_killed_worker_is_replaced_and_its_trial_run_again(
    client: Client, tmp_path: Path
) -> None:
    marker, killed = tmp_path / "kill-once", tmp_path / "killed-pid"
    marker.touch()
    before = set(client.run(os.getpid).values())
    configs = [{"x": x} for x in range(6)]
    trial = partial(_dies_once, marker=marker, killed=killed)
    results = cluster.run_search(trial, configs, client=client, retries=0)
    assert not marker.exists() and killed.exists()  # a worker did die, running x = 2
    dead = int(killed.read_text())
    assert dead in before
    assert [r["x"] for r in results] == [5, 4, 3, 2, 1, 0]
    assert [r["dev_accuracy"] for r in results] == [0.5, 0.4, 0.3, 0.2, 0.1, 0.0]
    assert next(r for r in results if r["x"] == 2)["pid"] != dead  # run again elsewhere
    client.wait_for_workers(2, timeout=30)  # the nanny restarts the dead worker
    assert dead not in client.run(os.getpid).values()


@pytest.mark.parametrize("where", ["local", "cluster"])
def test_a_failing_trial_is_retried_then_named(
    where: str, client: Client, tmp_path: Path
) -> None:
    attempts = tmp_path / "attempts"
    trial = partial(_fails_for_x_1, attempts=attempts)
    on_cluster = (
        {"client": client, "retries": 2} if where == "cluster" else {"n_jobs": 2}
    )
    seen: list[cluster.Outcome] = []
    with pytest.raises(cluster.TrialsFailed) as failure:
        cluster.run_search(
            trial, [{"x": x} for x in range(3)], on_outcome=seen.append, **on_cluster
        )
    assert len(attempts.read_text().splitlines()) == (3 if where == "cluster" else 1)
    assert [o.index for o in failure.value.failed] == [1]
    assert str(failure.value) == (
        "1 of 3 trials failed: trial 2 (x=1): ValueError: x = 1 is not allowed"
    )
    assert [r["x"] for r in failure.value.results] == [2, 0]
    reported = sorted(o.index for o in seen)
    assert reported == [0, 1, 2]  # every trial reported as it ended

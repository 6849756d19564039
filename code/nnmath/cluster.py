"""Where a search's trials run: local worker processes (joblib) or a Dask cluster.

:func:`run_trials` calls ``trial_fn(config)`` once per configuration and yields an
:class:`Outcome` for each as it finishes, in whatever order they finish; :func:`run_search`
collects them, best first, and raises :class:`TrialsFailed` naming every trial that failed,
never returning a partial table. Each result records where it ran (:data:`search.WHERE
<nnmath.search.WHERE>`: wall time, host, process id, Dask worker).

- **Locally** (``client=None``), ``n_jobs`` joblib ("loky") processes run the trials; a
  trial that raises is reported as failed, the others go on.
- **On a Dask cluster** (``client``, from :func:`connect`), every trial is one task,
  ``client.map(..., retries=retries)``. A trial that raises is run again up to ``retries``
  times; a trial whose worker dies is moved to another worker by the scheduler (up to its
  ``distributed.scheduler.allowed-failures``, 3 by default). A trial that fails after that
  is reported as failed, by number and configuration.

joblib's own Dask backend (``joblib.parallel_config(backend="dask", retries=k)``) would run
the same calls, but a trial that exhausts its retries stops the whole call with one error
that does not say which trial it was; futures of our own do. ``trial_fn`` is sent to the
workers by reference (a module-level function, e.g. ``functools.partial(search.mnist_trial,
split=...)``): it must not hold the data, which each worker loads once.
"""

from __future__ import annotations

import functools
import os
import socket
import sys
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from joblib import Parallel, delayed

from nnmath.search import TrainEval, best_first, run_timed

if TYPE_CHECKING:
    from distributed import Client, Future

__all__ = [
    "CONNECT_TIMEOUT",
    "Outcome",
    "TrialsFailed",
    "check_address",
    "connect",
    "run_search",
    "run_trials",
    "where",
]

#: Seconds :func:`connect` waits for a scheduler to answer.
CONNECT_TIMEOUT = 5.0


@dataclass(frozen=True)
class Outcome:
    """What became of one trial: ``configs[index]`` and its result, or why it failed.

    ``result`` is ``{**config, **measurements, "seconds", "host", "pid", "worker"}``, None
    when the trial failed; ``error`` is then one line saying why.
    """

    index: int
    config: dict[str, Any]
    result: dict[str, Any] | None
    error: str | None = None

    def describe(self) -> str:
        """``trial 3 (lr=0.01, arch=(784, 64, 10), ...)``: its number (``config["trial"]``,
        else ``index + 1``) and its settings."""
        number = self.config.get("trial", self.index + 1)
        settings = ", ".join(f"{k}={v}" for k, v in self.config.items() if k != "trial")
        return f"trial {number} ({settings})"


class TrialsFailed(RuntimeError):
    """Some trials failed after their retries: ``failed`` and ``results`` (best first)."""

    def __init__(self, failed: list[Outcome], results: list[dict[str, Any]]) -> None:
        self.failed, self.results = failed, results
        total = len(failed) + len(results)
        reasons = "; ".join(f"{o.describe()}: {o.error}" for o in failed)
        super().__init__(f"{len(failed)} of {total} trials failed: {reasons}")


def _one_line(err: BaseException) -> str:
    return " ".join(f"{type(err).__name__}: {err}".split())


def where() -> dict[str, Any]:
    """This process: ``host`` name, ``pid``, and the Dask ``worker`` address ("local": none)."""
    worker = "local"
    distributed = sys.modules.get(
        "distributed"
    )  # only loaded in a Dask worker or client
    if distributed is not None:
        try:
            worker = distributed.get_worker().address
        except ValueError:  # not inside a Dask worker
            pass
    return {"host": socket.gethostname(), "pid": os.getpid(), "worker": worker}


def _measured(trial_fn: TrainEval, config: dict[str, Any]) -> dict[str, Any]:
    """One trial's result: what ``trial_fn`` measured, its wall time, and :func:`where`."""
    return {**run_timed(trial_fn, config), **where()}


# --------------------------------------------------------------------------- local


def _attempt(trial_fn: TrainEval, index: int, config: dict[str, Any]) -> Outcome:
    """Run one trial here; a trial that raises becomes a failed :class:`Outcome`."""
    try:
        return Outcome(index, config, _measured(trial_fn, config))
    except Exception as err:
        return Outcome(index, config, None, _one_line(err))


def _run_locally(
    trial_fn: TrainEval, configs: list[dict[str, Any]], n_jobs: int
) -> Iterator[Outcome]:
    if n_jobs == 1:
        yield from (_attempt(trial_fn, k, c) for k, c in enumerate(configs))
        return
    finished: set[int] = set()
    calls = (delayed(_attempt)(trial_fn, k, c) for k, c in enumerate(configs))
    try:
        for outcome in Parallel(n_jobs=n_jobs, return_as="generator_unordered")(calls):
            finished.add(outcome.index)
            yield outcome
    except Exception as err:  # e.g. a worker process was killed: the rest did not run
        reason = f"not completed, the local workers stopped ({_one_line(err)})"
        for k, config in enumerate(configs):
            if k not in finished:
                yield Outcome(k, config, None, reason)


# --------------------------------------------------------------------------- Dask


def check_address(address: str) -> str:
    """``address`` if it reads as a Dask scheduler's (``tcp://host:port``); ValueError if not."""
    from distributed.comm.addressing import get_address_host_port

    try:
        get_address_host_port(address)
    except ValueError as err:
        raise ValueError(
            f"{address!r}: expected a Dask scheduler address such as "
            f"tcp://10.0.0.5:8786 ({err})"
        ) from err
    return address


def connect(address: str, timeout: float = CONNECT_TIMEOUT) -> Client:
    """A :class:`distributed.Client` of the scheduler at ``address``, within ``timeout`` s.

    Raises ValueError for a malformed address and ConnectionError (an OSError) when no
    scheduler answers in time. Close the client when done (``with connect(...) as c:``).
    """
    check_address(address)
    from distributed import Client

    try:
        return Client(address, timeout=timeout, set_as_default=False)
    except OSError as err:
        raise ConnectionError(
            f"{address}: no Dask scheduler answered within {timeout:g} s ({err}). Is "
            f"the scheduler running there, and reachable from this machine?"
        ) from err


def _failure(future: Future) -> str:
    """Why a Dask future did not finish, in one line."""
    if future.status == "error":
        return _one_line(future.exception())
    return f"the task was {future.status} by the scheduler"


def _run_on_cluster(
    client: Client, trial_fn: TrainEval, configs: list[dict[str, Any]], retries: int
) -> Iterator[Outcome]:
    from distributed import as_completed

    search_id = uuid.uuid4().hex[:8]
    futures = client.map(
        functools.partial(_measured, trial_fn),
        configs,
        key=[f"nnmath-trial-{k}-{search_id}" for k in range(len(configs))],
        retries=retries,
    )
    index = {future.key: k for k, future in enumerate(futures)}
    try:
        for future in as_completed(futures, loop=client.loop):
            k = index[future.key]
            if future.status == "finished":
                yield Outcome(k, configs[k], future.result())
            else:
                yield Outcome(k, configs[k], None, _failure(future))
    finally:  # finished, failed or interrupted: nothing keeps running for us
        client.cancel(futures)


# --------------------------------------------------------------------------- either


def run_trials(
    trial_fn: TrainEval,
    configs: Sequence[Mapping[str, Any]],
    *,
    n_jobs: int = 2,
    client: Client | None = None,
    retries: int = 2,
) -> Iterator[Outcome]:
    """Run ``trial_fn(config)`` for every config; yield each :class:`Outcome` as it finishes.

    Without ``client``: ``n_jobs`` local processes (1: in this process). With a Dask
    ``client``: one task per trial on its cluster, ``retries`` extra attempts for a trial
    that raises (``n_jobs`` is then not used: the cluster runs as many trials at once as
    its workers have threads).
    """
    if not callable(trial_fn):
        raise TypeError("trial_fn: expected a function of one config dict")
    configs = [dict(c) for c in configs]
    if not configs:
        raise ValueError("configs: expected at least one configuration")
    if not (isinstance(retries, int) and retries >= 0):
        raise ValueError(f"retries: expected a whole number >= 0, got {retries!r}")
    if client is not None:
        return _run_on_cluster(client, trial_fn, configs, retries)
    if not (isinstance(n_jobs, int) and (n_jobs >= 1 or n_jobs == -1)):
        raise ValueError(
            f"n_jobs: expected workers >= 1 (or -1: all cores), got {n_jobs!r}"
        )
    return _run_locally(trial_fn, configs, n_jobs)


def run_search(
    trial_fn: TrainEval,
    configs: Sequence[Mapping[str, Any]],
    *,
    n_jobs: int = 2,
    client: Client | None = None,
    retries: int = 2,
    on_outcome: Callable[[Outcome], None] | None = None,
) -> list[dict[str, Any]]:
    """Every trial's result, best first (:func:`run_trials`, then ``search.best_first``).

    ``on_outcome(outcome)`` is called as each trial finishes (e.g. to print a line).
    Raises :class:`TrialsFailed`, after all trials have finished, if any failed.
    """
    results, failed = [], []
    for outcome in run_trials(
        trial_fn, configs, n_jobs=n_jobs, client=client, retries=retries
    ):
        if on_outcome is not None:
            on_outcome(outcome)
        if outcome.result is None:
            failed.append(outcome)
        else:
            results.append((outcome.index, outcome.result))
    ranked = best_first(r for _, r in sorted(results, key=lambda item: item[0]))
    if failed:
        raise TrialsFailed(sorted(failed, key=lambda o: o.index), ranked)
    return ranked

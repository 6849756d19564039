"""The run cache: hits, misses, corrupt entries, failures, atomic writes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from nnmath import runs


class Counter:
    """A tiny deterministic 'training' that counts how often it runs."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, config: dict) -> tuple[list[np.ndarray], dict]:
        self.calls += 1
        rng = np.random.default_rng(config["seed"])
        params = [rng.standard_normal((3, 2)).astype(np.float32), np.zeros((3, 1))]
        history = {"loss": [np.float64(1.5), 0.5], "best_epoch": np.int64(2)}
        return params, history


CONFIG = {"sizes": [2, 3], "seed": 0, "lr": 0.1}


def _files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_second_call_hits_the_cache(tmp_path):
    train = Counter()
    params, history = runs.cached_run(CONFIG, train, folder=tmp_path)
    again, history_again = runs.cached_run(dict(CONFIG), train, folder=tmp_path)
    assert train.calls == 1
    assert history == history_again == {"loss": [1.5, 0.5], "best_epoch": 2}
    for p, q in zip(params, again, strict=True):
        np.testing.assert_array_equal(p, q)
        assert p.dtype == q.dtype
    key = runs.run_key(CONFIG)
    assert _files(tmp_path) == [f"{key}.json", f"{key}.npz"]


def test_key_ignores_key_order_and_tuples_but_not_values():
    assert runs.run_key({"a": 1, "b": (2, 3)}) == runs.run_key({"b": [2, 3], "a": 1})
    assert runs.run_key({"a": 1}) != runs.run_key({"a": 2})
    assert runs.run_key({"a": 1}, source="x") != runs.run_key({"a": 1}, source="y")


def test_changing_the_config_misses(tmp_path):
    train = Counter()
    runs.cached_run(CONFIG, train, folder=tmp_path)
    runs.cached_run({**CONFIG, "lr": 0.2}, train, folder=tmp_path)
    assert train.calls == 2


def test_changing_the_source_misses(tmp_path, monkeypatch):
    train = Counter()
    runs.cached_run(CONFIG, train, folder=tmp_path)
    monkeypatch.setattr(runs, "source_hash", lambda: "edited")
    runs.cached_run(CONFIG, train, folder=tmp_path)
    assert train.calls == 2


def test_source_hash_covers_the_package():
    digest = runs.source_hash()
    assert len(digest) == 64 and digest == runs.source_hash()


@pytest.mark.parametrize(
    "damage",
    [
        lambda npz, meta: npz.write_bytes(npz.read_bytes()[:-10]),  # truncated
        lambda npz, meta: npz.write_bytes(b"not a zip file"),
        lambda npz, meta: npz.unlink(),
        lambda npz, meta: meta.write_text("{not json"),
        lambda npz, meta: meta.unlink(),
        lambda npz, meta: meta.write_text(
            json.dumps({**json.loads(meta.read_text()), "config": {"seed": 1}})
        ),
        lambda npz, meta: meta.write_text(
            json.dumps({**json.loads(meta.read_text()), "n_params": 3})
        ),
    ],
    ids=[
        "truncated",
        "garbage",
        "no-npz",
        "bad-json",
        "no-json",
        "other-config",
        "count",
    ],
)
def test_a_damaged_entry_is_recomputed(tmp_path, damage):
    train = Counter()
    params, _ = runs.cached_run(CONFIG, train, folder=tmp_path)
    key = runs.run_key(CONFIG)
    damage(tmp_path / f"{key}.npz", tmp_path / f"{key}.json")
    again, _ = runs.cached_run(CONFIG, train, folder=tmp_path)
    assert train.calls == 2
    np.testing.assert_array_equal(params[0], again[0])
    runs.cached_run(CONFIG, train, folder=tmp_path)  # repaired: a hit again
    assert train.calls == 2


def test_a_tampered_npz_with_valid_zip_is_recomputed(tmp_path):
    train = Counter()
    runs.cached_run(CONFIG, train, folder=tmp_path)
    key = runs.run_key(CONFIG)
    np.savez(tmp_path / f"{key}.npz", p000=np.ones((3, 2)), p001=np.ones((3, 1)))
    params, _ = runs.cached_run(CONFIG, train, folder=tmp_path)
    assert train.calls == 2
    assert not np.all(params[0] == 1)


def test_nothing_is_written_when_training_fails(tmp_path):
    def broken(config: dict) -> tuple[list[np.ndarray], dict]:
        raise RuntimeError("diverged")

    with pytest.raises(RuntimeError, match="diverged"):
        runs.cached_run(CONFIG, broken, folder=tmp_path)
    assert not tmp_path.exists() or _files(tmp_path) == []


def test_a_failed_write_leaves_no_partial_file(tmp_path, monkeypatch):
    def failing_savez(file, **arrays):
        file.write(b"half an archive")
        raise OSError("disk full")

    monkeypatch.setattr(runs.np, "savez", failing_savez)
    with pytest.raises(OSError, match="disk full"):
        runs.cached_run(CONFIG, Counter(), folder=tmp_path)
    assert _files(tmp_path) == []


def test_train_fn_cannot_change_the_key(tmp_path):
    def mutating(config: dict) -> tuple[list[np.ndarray], dict]:
        config["lr"] = 99
        return [np.zeros(2)], {}

    config = dict(CONFIG)
    runs.cached_run(config, mutating, folder=tmp_path)
    assert config == CONFIG
    assert (tmp_path / f"{runs.run_key(CONFIG)}.json").exists()


def test_cache_dir_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv(runs.ENV_VAR, str(tmp_path / "here"))
    assert runs.cache_dir() == tmp_path / "here"
    train = Counter()
    runs.cached_run(CONFIG, train)
    runs.cached_run(CONFIG, train)
    assert train.calls == 1
    assert len(_files(tmp_path / "here")) == 2
    monkeypatch.delenv(runs.ENV_VAR)
    assert runs.cache_dir().parts[-2:] == ("nnmath", "runs")


def test_clear_errors(tmp_path):
    with pytest.raises(TypeError, match="JSON"):
        runs.cached_run({"f": print}, Counter(), folder=tmp_path)
    with pytest.raises(TypeError, match="JSON"):
        runs.cached_run({"lr": float("nan")}, Counter(), folder=tmp_path)
    with pytest.raises(TypeError, match="dict"):
        runs.cached_run([1, 2], Counter(), folder=tmp_path)
    with pytest.raises(TypeError, match="numeric"):
        runs.cached_run(
            CONFIG, lambda c: ([np.array(["a"], dtype=object)], {}), folder=tmp_path
        )
    with pytest.raises(TypeError, match="history"):
        runs.cached_run(CONFIG, lambda c: ([np.zeros(1)], [1, 2]), folder=tmp_path)
    with pytest.raises(TypeError, match="JSON serialisable"):
        runs.cached_run(
            CONFIG, lambda c: ([np.zeros(1)], {"f": print}), folder=tmp_path
        )
    assert _files(tmp_path) == []

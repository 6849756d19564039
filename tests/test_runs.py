"""The run cache: hits, misses, corrupt entries, failures, atomic writes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from nnmath import files, mlp, optim, runs, train


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
    key = runs.run_key(CONFIG, runs.source_hash(train))
    assert _files(tmp_path) == [f"{key}.json", f"{key}.npz"]


def test_key_ignores_key_order_and_tuples_but_not_values():
    key = runs.run_key
    assert key({"a": 1, "b": (2, 3)}, "s") == key({"b": [2, 3], "a": 1}, "s")
    assert key({"a": 1}, "s") != key({"a": 2}, "s")
    assert key({"a": 1}, source="x") != key({"a": 1}, source="y")


def test_changing_the_config_misses(tmp_path):
    train = Counter()
    runs.cached_run(CONFIG, train, folder=tmp_path)
    runs.cached_run({**CONFIG, "lr": 0.2}, train, folder=tmp_path)
    assert train.calls == 2


def test_changing_the_source_misses(tmp_path, monkeypatch):
    train = Counter()
    runs.cached_run(CONFIG, train, folder=tmp_path)
    monkeypatch.setattr(runs, "source_hash", lambda train_fn: "edited")
    runs.cached_run(CONFIG, train, folder=tmp_path)
    assert train.calls == 2


X_TOY = np.random.default_rng(0).random((4, 12))
Y_TOY = np.arange(12) % 2


def train_toy(config: dict) -> tuple[list[np.ndarray], dict]:
    """A run as a chapter writes one: nnmath's modules, reached through their names."""
    model = mlp.MLP([4, 3, 2], seed=config["seed"], dtype=np.float64)
    history = train.fit(model, optim.SGD(0.1), X_TOY, Y_TOY, epochs=1, batch_size=4, seed=0)
    return [p.copy() for p in model.params], history.to_dict()


def test_modules_run_by_follow_the_imports():
    found = runs.modules_run_by(train_toy)
    for name in ("nnmath", "nnmath.mlp", "nnmath.optim", "nnmath.train", "nnmath.checks",
                 "nnmath.seeding", "nnmath.fast", "nnmath.fast.mlp", "nnmath.losses"):
        assert name in found
    assert not any(name.startswith(("nnmath.plots", "nnmath.cli")) for name in found)
    assert runs.modules_run_by(Counter()) == []  # no nnmath at all


def test_the_key_hashes_only_the_code_a_run_executes(tmp_path, monkeypatch):
    copy = tmp_path / "nnmath"
    shutil.copytree(runs.package_root(), copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(runs, "package_root", lambda: copy)
    before = runs.source_hash(train_toy)
    assert before == runs.source_hash(train_toy)
    figures = sorted(f"plots/{path.name}" for path in (copy / "plots").glob("*.py"))
    assert "plots/gradient_descent.py" in figures
    for figure_or_command in (*figures, "cli.py"):
        with (copy / figure_or_command).open("a") as f:
            f.write("\n# recoloured\n")
        assert runs.source_hash(train_toy) == before, figure_or_command
    for trained_by in ("train.py", "checks.py", "fast/mlp.py"):
        with (copy / trained_by).open("a") as f:
            f.write("\n# changed\n")
        after = runs.source_hash(train_toy)
        assert after != before, trained_by
        before = after


def test_the_key_hashes_the_arrays_a_run_reads():
    data = np.zeros(3)

    def reads(config: dict) -> tuple[list[np.ndarray], dict]:
        return [data + config["seed"]], {}

    before = runs.source_hash(reads)
    data[1] = 1
    assert runs.source_hash(reads) != before


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
    key = runs.run_key(CONFIG, runs.source_hash(train))
    damage(tmp_path / f"{key}.npz", tmp_path / f"{key}.json")
    again, _ = runs.cached_run(CONFIG, train, folder=tmp_path)
    assert train.calls == 2
    np.testing.assert_array_equal(params[0], again[0])
    runs.cached_run(CONFIG, train, folder=tmp_path)  # repaired: a hit again
    assert train.calls == 2


def test_a_tampered_npz_with_valid_zip_is_recomputed(tmp_path):
    train = Counter()
    runs.cached_run(CONFIG, train, folder=tmp_path)
    key = runs.run_key(CONFIG, runs.source_hash(train))
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

    monkeypatch.setattr(np, "savez", failing_savez)
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
    assert (tmp_path / f"{runs.run_key(CONFIG, runs.source_hash(mutating))}.json").exists()


def test_cache_dir_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv(files.ENV_VAR, str(tmp_path / "here"))
    assert files.cache_dir("runs") == tmp_path / "here" / "runs"
    train = Counter()
    runs.cached_run(CONFIG, train)
    runs.cached_run(CONFIG, train)
    assert train.calls == 1
    assert len(_files(tmp_path / "here" / "runs")) == 2
    monkeypatch.delenv(files.ENV_VAR)
    assert files.cache_dir("runs").parts[-2:] == ("nnmath", "runs")


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


def test_the_key_is_the_same_in_every_process(tmp_path: Path) -> None:
    """A run that reads several arrays gets one key whatever PYTHONHASHSEED orders sets by."""
    script = tmp_path / "run.py"
    script.write_text(
        "import numpy as np\n"
        "from nnmath import runs, train\n"
        "alpha, beta, gamma, delta = (np.full(3, k, np.float32) for k in range(4))\n"
        "def train_fn(config):\n"
        "    return [alpha + beta + gamma + delta], {'fit': train.fit.__name__}\n"
        "print(runs.source_hash(train_fn))\n"
    )
    keys = set()
    for seed in ("1", "2", "3", "4"):
        env = dict(os.environ, PYTHONHASHSEED=seed)
        out = subprocess.run(
            [sys.executable, str(script)], env=env, capture_output=True, text=True,
            check=True,
        )
        keys.add(out.stdout.strip())
    assert len(keys) == 1, keys

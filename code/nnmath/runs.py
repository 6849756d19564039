"""An on-disk cache for long trainings: compute once with a fixed seed, reuse while valid.

:func:`cached_run` keys a training by the SHA-256 of its configuration (canonical JSON)
together with :func:`source_hash`, the hash of every ``.py`` file of the package, so that a
change to the code that trains (or anything else in ``nnmath``) makes the old result
stale. An entry is two files in :func:`cache_dir`: ``<key>.npz`` with the parameters
(loaded with ``allow_pickle=False``) and ``<key>.json`` with the configuration, the source
hash, the history and the SHA-256 of the ``.npz``. Both are written atomically (a
temporary file, then :func:`os.replace`), the ``.json`` last; an entry that is missing,
unreadable or inconsistent in any way is trained again, never trusted. Nothing is ever
made up: when there is no valid entry, ``train_fn`` runs.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import zipfile
from collections.abc import Callable, Mapping, Sequence
from contextlib import suppress
from pathlib import Path
from typing import IO, Any

import numpy as np
import platformdirs

import nnmath
from nnmath import seeding

__all__ = ["ENV_VAR", "cache_dir", "cached_run", "run_key", "source_hash"]

#: Environment variable naming the cache folder (default: the user cache folder).
ENV_VAR = "NNMATH_CACHE"

TrainFn = Callable[[dict[str, Any]], tuple[Sequence[np.ndarray], Mapping[str, Any]]]


def cache_dir() -> Path:
    """The folder of cached runs: ``$NNMATH_CACHE``, else the user cache's ``nnmath/runs``."""
    folder = os.environ.get(ENV_VAR)
    if folder:
        return Path(folder).expanduser()
    return Path(platformdirs.user_cache_dir("nnmath")) / "runs"


def source_hash() -> str:
    """SHA-256 over the package's source: every ``nnmath/**/*.py``, path and bytes."""
    root = Path(nnmath.__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()


def _canonical(config: Mapping[str, Any]) -> str:
    """``config`` as canonical JSON (sorted keys, no spaces); a clear error otherwise."""
    if not isinstance(config, Mapping):
        raise TypeError(f"config: expected a dict, got {type(config).__name__}")
    try:
        return json.dumps(
            config, sort_keys=True, separators=(",", ":"), allow_nan=False
        )
    except (TypeError, ValueError) as err:
        raise TypeError(
            f"config: expected JSON values only (numbers, strings, booleans, None, "
            f"lists, dicts), so that it can name the run ({err})"
        ) from err


def run_key(config: Mapping[str, Any], source: str | None = None) -> str:
    """SHA-256 of the canonical JSON of ``config``, the source hash and the seed offset.

    Tuples and lists give the same key (JSON has only lists). The offset of
    :func:`nnmath.seeding.seed_offset` is part of the key, so a run made with other random
    draws (``make check-claims``) never reuses, or replaces, the ordinary one.
    """
    source = source_hash() if source is None else source
    text = f"{_canonical(config)}\n{source}\n{seeding.seed_offset()}"
    return hashlib.sha256(text.encode()).hexdigest()


def _to_json(value: Any) -> Any:
    """``json.dumps`` hook: NumPy scalars and arrays become Python numbers and lists."""
    if isinstance(value, np.generic | np.ndarray):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _atomic_write(path: Path, write: Callable[[IO[bytes]], None]) -> None:
    """Write ``path`` through a temporary file in the same folder, then rename it."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _load(
    folder: Path, key: str, config_json: str, source: str
) -> tuple[list[np.ndarray], dict[str, Any]] | None:
    """The entry ``key`` if it is complete and consistent, else None."""
    meta_path, npz_path = folder / f"{key}.json", folder / f"{key}.npz"
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        if not (
            isinstance(meta, dict)
            and meta.get("key") == key
            and meta.get("source_hash") == source
            and _canonical(meta.get("config")) == config_json
            and meta.get("npz_sha256") == _sha256(npz_path)
            and isinstance(meta.get("history"), dict)
        ):
            return None
        n = meta["n_params"]
        with np.load(npz_path, allow_pickle=False) as npz:
            if sorted(npz.files) != sorted(f"p{i:03d}" for i in range(n)):
                return None
            params = [npz[f"p{i:03d}"] for i in range(n)]
    except (OSError, ValueError, TypeError, KeyError, EOFError, zipfile.BadZipFile):
        return None
    return params, meta["history"]


def cached_run(
    config: Mapping[str, Any],
    train_fn: TrainFn,
    *,
    folder: str | os.PathLike[str] | None = None,
) -> tuple[list[np.ndarray], dict[str, Any]]:
    """``train_fn(config)``, computed once and then read from the on-disk cache.

    ``config`` is a JSON-able dict that fully determines the run (sizes, seeds, epochs,
    ...); ``train_fn(config)`` trains and returns ``(params, history)``: a list of
    numeric arrays (e.g. copies of ``model.params``) and a JSON-able dict (e.g.
    ``History.to_dict()``). Returns the same pair, the history as read back from JSON,
    whether it was just computed or found valid in ``folder`` (default
    :func:`cache_dir`). If ``train_fn`` raises, nothing is written.
    """
    config_json = _canonical(config)
    config = json.loads(config_json)  # a private copy: train_fn cannot change the key
    source = source_hash()
    key = run_key(config, source)
    folder = Path(folder) if folder is not None else cache_dir()
    found = _load(folder, key, config_json, source)
    if found is not None:
        return found

    params, history = train_fn(config)
    params = [np.asarray(p) for p in params]
    for i, p in enumerate(params):
        if not (np.issubdtype(p.dtype, np.number) or p.dtype == np.bool_):
            raise TypeError(
                f"train_fn: params[{i}] has dtype {p.dtype}; expected numeric arrays"
            )
    if not isinstance(history, Mapping):
        raise TypeError(
            f"train_fn: expected (params, history dict), got a history of type "
            f"{type(history).__name__}"
        )
    try:
        history_json = json.dumps(dict(history), default=_to_json)
    except (TypeError, ValueError) as err:
        raise TypeError(
            f"train_fn: the history is not JSON serialisable ({err})"
        ) from err

    folder.mkdir(parents=True, exist_ok=True)
    npz_path = folder / f"{key}.npz"
    _atomic_write(
        npz_path,
        lambda f: np.savez(f, **{f"p{i:03d}": p for i, p in enumerate(params)}),
    )
    meta = {
        "key": key,
        "config": config,
        "source_hash": source,
        "npz_sha256": _sha256(npz_path),
        "n_params": len(params),
        "history": json.loads(history_json),
    }
    _atomic_write(
        folder / f"{key}.json",
        lambda f: f.write(json.dumps(meta, indent=1).encode()),
    )
    return params, meta["history"]

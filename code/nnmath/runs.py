"""An on-disk cache for long trainings: compute once with a fixed seed, reuse while valid.

:func:`cached_run` keys a training by the SHA-256 of its configuration (canonical JSON)
together with :func:`source_hash`, a hash of what ``train_fn`` runs: the source files of
the ``nnmath`` modules it uses and of every ``nnmath`` module those import, and the NumPy
arrays it reads (the training data). A change to the code that trains makes the old
result stale; a change to code that the run does not execute (a figure, the command
line) does not. An entry is two files in ``nnmath.files.cache_dir("runs")``:
``<key>.npz`` with the parameters (loaded with ``allow_pickle=False``) and ``<key>.json``
with the configuration, the source hash, the history and the SHA-256 of the ``.npz``.
Both are written atomically, the ``.json`` last; an entry that is missing, unreadable or
inconsistent in any way is trained again, never trusted. Nothing is ever made up: when
there is no valid entry, ``train_fn`` runs.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import inspect
import json
import os
import zipfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from types import CodeType, ModuleType
from typing import Any

import numpy as np

import nnmath
from nnmath import files, seeding

__all__ = ["cached_run", "modules_run_by", "package_root", "run_key", "source_hash"]

TrainFn = Callable[[dict[str, Any]], tuple[Sequence[np.ndarray], Mapping[str, Any]]]


# --------------------------------------------------------------------------- what a run runs


def package_root() -> Path:
    """The folder of the ``nnmath`` package whose source files are hashed."""
    return Path(nnmath.__file__).resolve().parent


def _in_nnmath(name: object) -> bool:
    return isinstance(name, str) and (name == "nnmath" or name.startswith("nnmath."))


def _module_file(name: str, root: Path) -> Path | None:
    """The source file of module ``name`` (``nnmath.a.b``) under ``root``, or None."""
    parts = name.split(".")[1:]
    candidates = [root.joinpath(*parts).with_suffix(".py")] if parts else []
    candidates.append(root.joinpath(*parts, "__init__.py"))
    return next((path for path in candidates if path.is_file()), None)


def _imports(name: str, path: Path, root: Path) -> set[str]:
    """The ``nnmath`` modules that the file ``path`` of module ``name`` imports, anywhere in it."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    named: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            named.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level else ""
            module = ".".join(part for part in (base, node.module) if part)
            named.add(module)  # from pkg import sub: sub may be a module too
            named.update(f"{module}.{alias.name}" for alias in node.names)
    return {m for m in named if _in_nnmath(m) and _module_file(m, root) is not None}


def _code_names(code: CodeType) -> set[str]:
    """The global and attribute names that ``code`` and the code nested in it use."""
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, CodeType):
            names |= _code_names(const)
    return names


def _referenced(obj: Any) -> Iterator[Any]:
    """The objects that calling ``obj`` may use: globals, closures, defaults, methods."""
    if isinstance(obj, functools.partial):
        yield obj.func
        yield from obj.args
        yield from obj.keywords.values()
    elif inspect.ismethod(obj):
        yield obj.__func__
        yield obj.__self__
    elif inspect.isfunction(obj):
        names = _code_names(obj.__code__)
        for name in sorted(names & set(obj.__globals__)):  # sorted: the same order in
            # every process (a set of strings is ordered by PYTHONHASHSEED)
            value = obj.__globals__[name]
            yield value
            if isinstance(value, ModuleType) and _in_nnmath(value.__name__):
                # nnmath.train.fit: the package's attributes that the code names
                yield from (getattr(value, n) for n in sorted(names) if hasattr(value, n))
        yield from (cell.cell_contents for cell in obj.__closure__ or ())
        yield from obj.__defaults__ or ()
        yield from (obj.__kwdefaults__ or {}).values()
    elif inspect.isclass(obj):
        yield from (v for v in vars(obj).values() if inspect.isfunction(v))
    elif callable(obj):
        yield type(obj)


def _run_by(train_fn: Callable[..., Any]) -> tuple[set[str], list[np.ndarray]]:
    """The ``nnmath`` modules ``train_fn`` uses directly, and the arrays it reads."""
    modules: set[str] = set()
    arrays: list[np.ndarray] = []
    seen: set[int] = set()
    todo = [train_fn]
    while todo:
        obj = todo.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        module = obj.__name__ if isinstance(obj, ModuleType) else getattr(obj, "__module__", None)
        if isinstance(obj, np.ndarray):
            arrays.append(obj)
        elif _in_nnmath(module):  # what it runs in turn is read from its module's imports
            modules.add(module)
        else:
            todo.extend(_referenced(obj))
    return modules, arrays


def modules_run_by(train_fn: Callable[..., Any], root: Path | None = None) -> list[str]:
    """The ``nnmath`` modules a call of ``train_fn`` can execute, sorted.

    Those it refers to (through its globals, closures and defaults, and the functions
    of the caller's own that it calls), every ``nnmath`` module they import (read from
    their source, ``import`` statements anywhere in the file), and the packages holding
    them. Modules that nothing imports from there (figures, the command line) are not
    in the list.
    """
    root = package_root() if root is None else root
    todo = sorted(_run_by(train_fn)[0])
    found: set[str] = set()
    while todo:
        name = todo.pop()
        path = _module_file(name, root)
        if name in found or path is None:
            continue
        found.add(name)
        parents = [name.rsplit(".", k)[0] for k in range(1, name.count(".") + 1)]
        todo.extend(parents)
        todo.extend(_imports(name, path, root))
    return sorted(found)


def source_hash(train_fn: Callable[..., Any]) -> str:
    """SHA-256 over what ``train_fn`` runs and reads: the source of :func:`modules_run_by`
    (path and bytes of each file) and the arrays it refers to (shape, dtype, bytes)."""
    root = package_root()
    digest = hashlib.sha256()
    for name in modules_run_by(train_fn, root):
        path = _module_file(name, root)
        assert path is not None
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    arrays = [
        hashlib.sha256(
            f"{a.shape} {a.dtype}\0".encode() + np.ascontiguousarray(a).tobytes()
        ).hexdigest()
        for a in _run_by(train_fn)[1]
    ]
    for array_digest in sorted(arrays):  # whatever order the arrays were found in
        digest.update(array_digest.encode())
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


def run_key(config: Mapping[str, Any], source: str) -> str:
    """SHA-256 of the canonical JSON of ``config``, the source hash and the seed offset.

    Tuples and lists give the same key (JSON has only lists). The offset of
    :func:`nnmath.seeding.seed_offset` is part of the key, so a run made with other random
    draws (``make check-claims``) never reuses, or replaces, the ordinary one.
    """
    text = f"{_canonical(config)}\n{source}\n{seeding.seed_offset()}"
    return hashlib.sha256(text.encode()).hexdigest()


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
    ``nnmath.files.cache_dir("runs")``). If ``train_fn`` raises, nothing is written.
    """
    config_json = _canonical(config)
    config = json.loads(config_json)  # a private copy: train_fn cannot change the key
    source = source_hash(train_fn)
    key = run_key(config, source)
    folder = Path(folder) if folder is not None else files.cache_dir("runs")
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
        history_json = json.dumps(dict(history), default=files.json_default)
    except (TypeError, ValueError) as err:
        raise TypeError(
            f"train_fn: the history is not JSON serialisable ({err})"
        ) from err

    folder.mkdir(parents=True, exist_ok=True)
    npz_path = folder / f"{key}.npz"
    files.write_atomically(
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
    files.write_atomically(
        folder / f"{key}.json",
        lambda f: f.write(json.dumps(meta, indent=1).encode()),
    )
    return params, meta["history"]

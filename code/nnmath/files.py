"""Where the package keeps files, and how it writes them: one cache folder, one atomic write.

:func:`cache_dir` is the per-user cache (``$NNMATH_CACHE`` when set), with one subfolder
per kind of file: ``mnist`` for the downloaded data, ``runs`` for cached trainings.
:func:`write_atomically` is the only way the package writes a file that someone may read
later (downloads, cached runs, model files): a temporary file in the same folder, flushed
to disk, then renamed, so that a reader sees the whole file or none of it.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path
from typing import IO, Any

import numpy as np
import platformdirs

__all__ = ["ENV_VAR", "cache_dir", "json_default", "write_atomically"]

#: Environment variable naming the cache folder (default: the user cache folder's nnmath).
ENV_VAR = "NNMATH_CACHE"


def cache_dir(kind: str) -> Path:
    """The cache subfolder ``kind``: ``$NNMATH_CACHE/kind``, else the user cache's ``nnmath/kind``.

    The folder is not created here; writers create it when they first need it.
    """
    root = os.environ.get(ENV_VAR)
    base = Path(root).expanduser() if root else Path(platformdirs.user_cache_dir("nnmath"))
    return base / kind


def write_atomically(path: str | os.PathLike[str], write: Callable[[IO[bytes]], None]) -> Path:
    """Write ``path`` through ``write(file)``: temporary file, fsync, rename; mode 0666 - umask.

    Nothing is left at ``path`` (or in its folder) when ``write`` fails or is interrupted.
    Returns ``path``.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            if hasattr(os, "fchmod"):  # mkstemp makes 0600; give the usual mode of a new file
                umask = os.umask(0)
                os.umask(umask)
                os.fchmod(f.fileno(), 0o666 & ~umask)
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return path


def json_default(value: Any) -> Any:
    """``json.dumps`` hook: NumPy scalars and arrays become Python numbers and lists."""
    if isinstance(value, np.generic | np.ndarray):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")

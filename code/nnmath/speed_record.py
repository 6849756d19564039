"""The speed benchmark's record, shipped inside the package so that chapter 16 reads it anywhere.

``benchmarks/bench_speed.py`` (``make bench``) measures nnmath against PyTorch and writes
``speed.json`` beside this module; the chapter on speed reads it with :func:`load`, in the
book's build as in a notebook opened alone in Colab, where no benchmark folder exists.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

__all__ = ["PATH", "load"]

#: Where the benchmark writes its record and where :func:`load` reads it.
PATH = Path(__file__).with_name("speed.json")


def load(path: str | Path = PATH) -> dict[str, Any]:
    """The record at ``path``: a dict with ``"machine"``, ``"settings"`` and the timings."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"{path}: expected the speed benchmark's record; run `make bench` to make it"
        )
    return json.loads(path.read_text())

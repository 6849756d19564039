"""Building the book as the Makefile does, for the tests of the site and of the PDF."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def jupyter_book_build(
    *options: str, env: dict[str, str] | None = None, timeout: float = 3600
) -> subprocess.CompletedProcess[str]:
    """``jupyter-book build . -W -n --keep-going [options]`` in the repository, as make does."""
    jupyter_book = Path(sys.executable).with_name("jupyter-book")
    return subprocess.run(
        [str(jupyter_book), "build", ".", "-W", "-n", "--keep-going", *options],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def build_warnings(build: subprocess.CompletedProcess[str]) -> list[str]:
    """The lines of a build's log that are Sphinx warnings or errors (not the kernel's)."""
    log = build.stdout + build.stderr
    return [
        line
        for line in log.splitlines()
        if re.search(r"\b(WARNING|ERROR)\b", line) and "IPKernelApp" not in line
    ]

"""Shared fixtures: the real MNIST, loaded once per test session; the built site, served."""

from __future__ import annotations

import functools
import http.server
import os
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from book_build import jupyter_book_build
from browsing import CHROMIUM_FLAGS, find_chromium
from nnmath.data import MNIST, DataError, load_mnist


@pytest.fixture(scope="session")
def mnist() -> MNIST:
    """The real MNIST from NNMATH_DATA or the cache; skipped (never in CI) when absent."""
    try:
        return load_mnist(download=False)
    except DataError as err:
        if os.environ.get("CI"):
            raise
        pytest.skip(
            f"MNIST is not available here ({err}); run `make data` or set NNMATH_DATA"
        )


ROOT = Path(__file__).resolve().parents[1]
HTML = ROOT / "_build" / "html"


@pytest.fixture(scope="session")
def build() -> subprocess.CompletedProcess[str]:
    """Build the book exactly as `make book` does."""
    return jupyter_book_build()


@pytest.fixture(scope="session")
def site(build: subprocess.CompletedProcess[str]) -> Path:
    if build.returncode != 0:
        pytest.fail(
            f"the book did not build:\n{build.stdout[-4000:]}\n{build.stderr[-4000:]}"
        )
    return HTML


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    sync_api = pytest.importorskip("playwright.sync_api")
    executable = find_chromium()
    with sync_api.sync_playwright() as p:
        try:
            browser = p.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        except Exception as err:  # no browser at all on this machine
            if os.environ.get("CI"):
                raise
            pytest.skip(
                f"no Chromium to run the browser checks ({err}); "
                "install Debian's `chromium` or set CHROMIUM=/path/to/chromium"
            )
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def server(site: Path) -> Iterator[str]:
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Quiet, directory=str(site))
    )
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()

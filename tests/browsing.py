"""Opening the built site in headless Chromium, for the tests of the site and its pages.

:func:`find_chromium` finds a browser; :func:`open_page` opens a page and collects every
problem seen while it loads (console errors, failed requests, requests to other hosts).
The fixtures that build and serve the site are in ``conftest.py``.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from urllib.parse import urlparse

CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def find_chromium() -> str | None:
    """A Chromium binary: $CHROMIUM, Debian's, or None for Playwright's own browser."""
    for candidate in (
        os.environ.get("CHROMIUM"),
        "/usr/bin/chromium",
        shutil.which("chromium"),
    ):
        if candidate and Path(candidate).is_file():
            return candidate
    return None


def open_page(browser: object, url: str) -> tuple[object, list[str]]:
    """Open ``url``; return the page and every problem seen while it loaded."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})  # type: ignore[attr-defined]
    problems: list[str] = []
    local = urlparse(url).netloc

    def route(r: object) -> None:
        request_url = r.request.url  # type: ignore[attr-defined]
        parsed = urlparse(request_url)
        if parsed.scheme in ("http", "https") and parsed.netloc != local:
            problems.append(f"request to another host: {request_url}")
            r.abort()  # type: ignore[attr-defined]
        else:
            r.continue_()  # type: ignore[attr-defined]

    page.route("**/*", route)
    page.on(
        "console",
        lambda m: (
            problems.append(f"console {m.type}: {m.text}")
            if m.type == "error"
            else None
        ),
    )
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on(
        "requestfailed",
        lambda r: (
            problems.append(f"failed: {r.url} {r.failure}")
            if urlparse(r.url).netloc == local
            else None
        ),
    )
    page.on(
        "response",
        lambda r: (
            problems.append(f"HTTP {r.status}: {r.url}") if r.status >= 400 else None
        ),
    )
    page.goto(url, wait_until="networkidle")
    return page, problems

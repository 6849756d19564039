"""The book: it builds with warnings as errors, and the built site works in a real browser.

The site is built once per session (outputs cached in _build, re-executed when a chapter or
the package changes), served on 127.0.0.1 and opened in headless Chromium: every page loads
with no console error, no failed request and no request to any other host; its equations are
typeset; its images have a size; its links to equations and sections resolve; the search page
finds the book's words. A screenshot of every page goes to _build/screenshots/.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from urllib.parse import urljoin, urlparse

import pytest
from book_build import build_warnings
from browsing import open_page
from bs4 import BeautifulSoup

ROOT = Path(__file__).resolve().parents[1]
SHOTS = ROOT / "_build" / "screenshots"
pytestmark = pytest.mark.book


def pages(site: Path) -> list[Path]:
    """Every page of the book (the chapters and the index redirect), not Sphinx's extras."""
    found = [*sorted(site.glob("book/*.html")), site / "index.html"]
    assert len(found) >= 3, f"expected the book's pages in {site}, found {found}"
    return found


def test_book_builds_without_warnings(build: subprocess.CompletedProcess[str]) -> None:
    assert build.returncode == 0, (build.stdout + build.stderr)[-4000:]
    assert build_warnings(build) == []


def test_site_makes_no_request_to_a_cdn(site: Path) -> None:
    """Static check: no page loads a script, style or font from another host."""
    for page in pages(site):
        soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
        remote = [
            tag.get("src") or tag.get("href")
            for tag in soup.find_all(["script", "link"])
            if urlparse(tag.get("src") or tag.get("href") or "").netloc
            and (tag.name == "script" or "stylesheet" in (tag.get("rel") or []))
        ]
        assert remote == [], f"{page.name} loads {remote}"


def test_launch_buttons_open_the_chapters_notebooks(site: Path) -> None:
    """Binder and Colab open `make notebooks`' .ipynb on the notebooks branch, never a .md."""
    sys.path.insert(0, str(ROOT / "book" / "_ext"))
    from nnmath_notebooks import NOTEBOOKS_BRANCH, chapters

    launched = {}
    for page in pages(site):
        soup = BeautifulSoup(page.read_text(), "html.parser")
        for link in soup.select("a[href*='colab.research.google.com'], a[href*='mybinder.org']"):
            launched.setdefault(page.relative_to(site).with_suffix("").as_posix(), []).append(
                link["href"])
    assert set(launched) == set(chapters(ROOT)), "pages with launch buttons != chapters"
    for name, hrefs in launched.items():
        assert len(hrefs) == 2, f"{name}: expected a Binder and a Colab link, found {hrefs}"
        for href in hrefs:
            assert href.endswith(f"{name}.ipynb") and f"/{NOTEBOOKS_BRANCH}" in href, href


def test_internal_links_resolve(site: Path) -> None:
    """Every link to a page of the site, with or without a fragment, finds its target."""
    ids: dict[Path, set[str]] = {}

    def targets(path: Path) -> set[str]:
        if path not in ids:
            soup = BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")
            ids[path] = {tag["id"] for tag in soup.find_all(id=True)}
        return ids[path]

    equation_links = 0
    for page in pages(site):
        soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
        for a in soup.find_all("a", href=True):
            href = a["href"]
            if urlparse(href).scheme or href.startswith(("mailto:", "javascript:")):
                continue
            path, _, fragment = href.partition("#")
            target = (page.parent / path).resolve() if path else page
            assert target.is_file(), (
                f"{page.name}: link {href} points to a missing page"
            )
            if fragment and target.suffix == ".html":
                assert fragment in targets(target), f"{page.name}: {href} has no target"
                equation_links += fragment.startswith("equation-")
    assert equation_links > 0, "expected links to equations ({eq} references)"


# --------------------------------------------------------------------------- in a browser


def test_every_page_in_chromium(site: Path, server: str, browser: object) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    failures: dict[str, list[str]] = {}
    for path in pages(site):
        rel = path.relative_to(site).as_posix()
        page, problems = open_page(browser, urljoin(server, rel))
        if page.locator(".math").count():
            page.wait_for_function(
                "window.MathJax && MathJax.startup && MathJax.startup.promise"
            )
            page.evaluate("MathJax.startup.promise")
            untyped = page.evaluate(
                "Array.from(document.querySelectorAll('.math'))"
                ".filter(e => !e.querySelector('mjx-container')).length"
            )
            if untyped:
                problems.append(f"{untyped} equations not typeset by MathJax")
        broken = page.evaluate(
            "Array.from(document.images).filter(i => !(i.complete && i.naturalWidth > 0))"
            ".map(i => i.src)"
        )
        problems += [f"image with no size: {src}" for src in broken]
        page.screenshot(
            path=str(SHOTS / (rel.replace("/", "_") + ".png")), full_page=True
        )
        page.close()
        if problems:
            failures[rel] = problems
    assert failures == {}


@pytest.mark.parametrize("term", ["MNIST", "softmax"])
def test_search_finds_the_books_words(
    site: Path, server: str, browser: object, term: str
) -> None:
    sources = " ".join(
        p.read_text(encoding="utf-8") for p in (ROOT / "book").glob("*.md")
    )
    if term.lower() not in sources.lower():
        pytest.skip(f"'{term}' is not in the book yet")
    page, problems = open_page(browser, urljoin(server, f"search.html?q={term}"))
    page.wait_for_function(
        "document.querySelectorAll('#search-results ul.search li').length > 0",
        timeout=15000,
    )
    hits = page.locator("#search-results ul.search li").count()
    page.screenshot(path=str(SHOTS / f"search_{term}.png"))
    page.close()
    assert hits > 0 and problems == []

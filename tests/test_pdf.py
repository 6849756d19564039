"""The PDF edition: `make pdf` builds the whole book with XeLaTeX, and the PDF is complete.

The book is built as `make pdf` builds it (Sphinx's LaTeX builder, warnings as errors),
from the execution cache in _build that the HTML build fills, so nothing is executed again
when the site was built first. Then the PDF is read back with poppler's tools: it is long
enough, every part and chapter of _toc.yml is in it, no reference is printed as "??", no
character is missing from the fonts, and every figure of the chapters made it in (each
declared figure with its label, as many images as the HTML build shows, all PNG or PDF).

Without TeX (xelatex, latexmk) or poppler (pdfinfo, pdftotext, pdfimages) the tests are
skipped with a message, except in CI, where they must run (.ci/run installs them).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import unicodedata
from pathlib import Path

import pytest
import yaml
from book_build import build_warnings, jupyter_book_build

ROOT = Path(__file__).resolve().parents[1]
LATEX = ROOT / "_build" / "latex"
PDF = LATEX / "nnmath.pdf"
TOOLS = ("xelatex", "latexmk", "pdfinfo", "pdftotext", "pdfimages")
MIN_PAGES = 150

pytestmark = pytest.mark.book


@pytest.fixture(scope="session")
def pdf_build() -> subprocess.CompletedProcess[str]:
    """Build the PDF exactly as `make pdf` does."""
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing:
        message = (
            f"no {', '.join(missing)} to build and read the PDF; `make pdf` installs "
            "Debian's TeX Live and poppler-utils (or apt-get install texlive-xetex "
            "texlive-latex-extra texlive-fonts-recommended fonts-freefont-otf latexmk "
            "poppler-utils)"
        )
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    PDF.unlink(missing_ok=True)  # a PDF left by an earlier build proves nothing
    return jupyter_book_build(
        "--builder", "pdflatex",
        env={"LATEXOPTS": "-interaction=nonstopmode -halt-on-error"}, timeout=2400,
    )


@pytest.fixture(scope="session")
def pdf(pdf_build: subprocess.CompletedProcess[str]) -> Path:
    if pdf_build.returncode != 0 or not PDF.is_file():
        pytest.fail(
            f"the PDF did not build:\n{pdf_build.stdout[-4000:]}\n{pdf_build.stderr[-4000:]}"
        )
    return PDF


def normalise(text: str) -> str:
    """Lower case, one space for any run of white space, plain quotes and hyphens."""
    text = unicodedata.normalize("NFKC", text)  # ligatures (fi, fl) as letters
    text = text.translate(str.maketrans("\u2018\u2019\u201c\u201d\u2010\u2011", "''\"\"--"))
    return re.sub(r"\s+", " ", text).strip().casefold()


@pytest.fixture(scope="session")
def text(pdf: Path) -> str:
    out = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(pdf), "-"],
        capture_output=True, text=True, check=True,
    )
    return out.stdout


@pytest.fixture(scope="session")
def latex_log(pdf: Path) -> str:
    return pdf.with_suffix(".log").read_text(encoding="utf-8", errors="replace")


def toc_titles() -> list[str]:
    """The part captions of _toc.yml and the title (first `# ` line) of every file."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    files = [toc["root"]]
    titles = []
    for part in toc["parts"]:
        titles.append(part["caption"])
        files += [chapter["file"] for chapter in part["chapters"]]
    for file in files:
        source = (ROOT / file).with_suffix(".md").read_text(encoding="utf-8")
        heading = re.search(r"^# (.+)$", source, flags=re.MULTILINE)
        assert heading, f"{file}.md has no title"
        titles.append(heading.group(1).strip())
    return titles


def test_pdf_builds_without_warnings(pdf_build: subprocess.CompletedProcess[str]) -> None:
    assert pdf_build.returncode == 0, (pdf_build.stdout + pdf_build.stderr)[-4000:]
    assert build_warnings(pdf_build) == []
    assert PDF.is_file(), f"no {PDF.relative_to(ROOT)} after the build"


def test_pdf_is_a_book(pdf: Path) -> None:
    info = subprocess.run(
        ["pdfinfo", str(pdf)], capture_output=True, text=True, check=True
    ).stdout
    pages = int(re.search(r"^Pages:\s+(\d+)", info, flags=re.MULTILINE).group(1))
    assert pages >= MIN_PAGES, f"{pages} pages"
    assert re.search(r"^Title:\s+Neural Networks from Scratch", info, flags=re.MULTILINE)


def test_every_part_and_chapter_is_in_the_pdf(text: str) -> None:
    found = normalise(text)
    missing = [title for title in toc_titles() if normalise(title) not in found]
    assert missing == []


def test_no_unresolved_reference(text: str, latex_log: str) -> None:
    """LaTeX prints an unresolved \\ref or \\cite as "??" and says so in its log."""
    unresolved = [line for line in text.splitlines() if "??" in line]
    assert unresolved == []
    assert not re.search(r"(Reference|Citation) `[^']*' on page \d+ undefined", latex_log)
    assert "There were undefined references" not in latex_log
    # (not "Label(s) may have changed": XeLaTeX says so on every run for the captions with a
    # Greek letter, which read back from the .aux file differently; latexmk stops once the
    # .aux file no longer changes, so the numbers are settled)


def test_no_missing_character(latex_log: str) -> None:
    """Every character of the prose, the code and the outputs is in the fonts."""
    missing = sorted(set(re.findall(r"Missing character: There is no (.+?) in font", latex_log)))
    assert missing == []


def source_figures() -> dict[str, list[str]]:
    """The figures that the chapters' cells declare (``mystnb: figure: name:``), by file."""
    figures = {}
    for source in sorted((ROOT / "book").glob("*.md")):
        text = source.read_text(encoding="utf-8")
        names = re.findall(r"^  figure:\n(?:    .*\n)*?    name: (\S+)$", text, re.MULTILINE)
        if names:
            figures[f"book/{source.stem}"] = names
    return figures


def html_images() -> int | None:
    """The chapters' images in the HTML build, if there is one (not the theme's icons)."""
    pages = sorted((ROOT / "_build" / "html" / "book").glob("*.html"))
    if not pages:
        return None
    found = 0
    for page in pages:
        found += len(re.findall(r'<img [^>]*src="\.\./_images/', page.read_text(encoding="utf-8")))
    return found


def test_every_figure_is_in_the_pdf(pdf: Path, latex_log: str) -> None:
    tex = pdf.with_suffix(".tex").read_text(encoding="utf-8")
    included = [
        braced + ext
        for braced, ext in re.findall(
            r"\\sphinxincludegraphics(?:\[[^\]]*\])?\{\{([^{}]+)\}(\.\w+)\}", tex
        )
    ] + re.findall(r"\\sphinxincludegraphics(?:\[[^\]]*\])?\{([^{}]+)\}", tex)
    assert included, "no image in the PDF"
    files = [LATEX / name for name in included]
    assert [f.name for f in files if not f.is_file()] == [], "included images are missing"
    assert [f.name for f in files if f.suffix.lower() not in (".png", ".pdf", ".jpg")] == []
    assert not re.search(r"File `[^']*' not found", latex_log)
    # every figure that a cell declares is a figure of the PDF, with its label
    declared = source_figures()
    missing = [
        f"{doc}:{name}"
        for doc, names in declared.items()
        for name in names
        if "\\label{\\detokenize{" + f"{doc}:{name}" + "}}" not in tex
    ]
    assert missing == []
    assert tex.count("\\begin{figure}") == sum(map(len, declared.values()))
    # as many images as the site shows, when the site was built (as `make test` does first)
    site = html_images()
    assert site is None or len(included) == site, (
        f"{len(included)} images in the PDF, {site} in _build/html (stale? run make book)"
    )
    # and each is embedded in the PDF (an image with transparency adds an 'smask')
    listing = subprocess.run(
        ["pdfimages", "-list", str(pdf)], capture_output=True, text=True, check=True
    ).stdout.splitlines()[2:]
    assert len([row for row in listing if row.split()[2] == "image"]) >= len(set(included))

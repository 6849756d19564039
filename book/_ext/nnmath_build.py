"""Two build-time duties the book needs and Jupyter Book does not do by itself.

1. Re-execute the chapters when the package changes. jupyter-cache keys a notebook on its
   own cells only, so after an edit of ``code/nnmath`` a cached chapter would show stale
   outputs. We hash the package's source; when the hash differs from the last build's, the
   execution cache is cleared and every document is marked for re-reading.
2. Serve MathJax from the site itself. The single file ``tex-svg-full.js`` (TeX input, all
   TeX extensions, SVG output with its fonts built in) is copied from the MathJax 3 package
   installed from PyPI (``django-static-mathjax``) into ``_static/mathjax/``, so no page asks
   a CDN for anything and equations render offline.

It also points the launch buttons at notebooks: sphinx-book-theme links a page's MyST
source, which Colab cannot open. ``make notebooks`` (``nnmath_notebooks.py``) writes
``book/NAME.ipynb`` for every chapter and the Pages workflow pushes them to the branch
``notebooks``, so Binder and Colab open that branch's ``.ipynb``; a page with no notebook
(the ledger) has no launch buttons.

It registers the bibliography's style, ``nnmath``: pybtex's ``unsrt`` entries sorted by
author and year, each labelled as the text cites it ("Zhang, 2020", "Muk200, n.d."),
instead of the default alpha labels, which make "Anonymoussauthorsd." of an entry whose
author is a group and whose year is "n.d.".

And it drops duplicate ``<script>`` entries: sphinx-thebe registers its inline
configuration on every read phase, and a second copy throws "Identifier 'THEBE_JS_URL'
has already been declared" in the browser console.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

from nnmath_notebooks import NOTEBOOKS_BRANCH, chapters
from pybtex.plugin import register_plugin
from pybtex.richtext import Text
from pybtex.style.formatting.unsrt import Style as UnsrtStyle
from pybtex.style.labels import BaseLabelStyle
from pybtex.style.sorting.author_year_title import SortingStyle
from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment
from sphinx.util import logging

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "code" / "nnmath"
MATHJAX_FILES = ("tex-svg-full.js",)


def package_hash() -> str:
    """SHA-256 over what the chapters read besides themselves (paths and contents).

    The package's Python files, the model and the benchmark record it ships (which the
    chapter on speed reads), and the seed offset of ``make check-claims``.
    """
    inputs = [*PACKAGE.rglob("*.py"), *PACKAGE.rglob("*.npz"), *PACKAGE.rglob("*.json")]
    digest = hashlib.sha256(os.environ.get("NNMATH_SEED_OFFSET", "").encode())
    for path in sorted(inputs):
        digest.update(path.relative_to(ROOT).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def invalidate_cache(app: Sphinx, config: object) -> None:
    build = Path(app.outdir).parent
    stamp = build / ".nnmath-source.sha256"
    current = package_hash()
    app.nnmath_changed = stamp.is_file() and stamp.read_text().strip() != current  # type: ignore[attr-defined]
    if app.nnmath_changed:  # type: ignore[attr-defined]
        logger.info("nnmath changed since the last build: clearing the execution cache")
        shutil.rmtree(build / ".jupyter_cache", ignore_errors=True)
    build.mkdir(parents=True, exist_ok=True)
    stamp.write_text(current + "\n")


def outdated_docs(
    app: Sphinx,
    env: BuildEnvironment,
    added: set[str],
    changed: set[str],
    removed: set[str],
) -> list[str]:
    return sorted(env.found_docs) if getattr(app, "nnmath_changed", False) else []


def mathjax_source() -> Path:
    import mathjax  # the django-static-mathjax distribution

    return Path(mathjax.__file__).parent / "static" / "mathjax" / "es5"


def copy_mathjax(app: Sphinx, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    source = mathjax_source()
    target = Path(app.outdir) / "_static" / "mathjax"
    target.mkdir(parents=True, exist_ok=True)
    for name in MATHJAX_FILES:
        shutil.copy2(source / name, target / name)
    shutil.copy2(source.parent / "LICENSE", target / "LICENSE")


def drop_duplicate_scripts(
    app: Sphinx, pagename: str, templatename: str, context: dict, doctree: object
) -> None:
    unique: dict[tuple[object, ...], object] = {}
    for script in context.get(
        "script_files", []
    ):  # same file (None == "") and attributes
        attributes = sorted(getattr(script, "attributes", {}).items())
        key = (getattr(script, "filename", script) or "", *attributes)
        unique.setdefault(key, script)
    context["script_files"] = list(unique.values())


def launch_notebooks(
    app: Sphinx, pagename: str, templatename: str, context: dict, doctree: object
) -> None:
    buttons = context.get("header_buttons", [])
    launch = next((b for b in buttons if b.get("label") == "launch-buttons"), None)
    if launch is None:
        return
    if pagename not in chapters(ROOT):
        buttons.remove(launch)
        return
    options = app.config.html_theme_options
    repo = options["repository_url"].rstrip("/").removeprefix("https://github.com/")
    hubs = options["launch_buttons"]
    notebook = f"{pagename}.ipynb"
    urls = {
        "Binder": f"{hubs['binderhub_url'].rstrip('/')}/v2/gh/{repo}/{NOTEBOOKS_BRANCH}"
        f"?urlpath=lab/tree/{notebook}",
        "Colab": f"{hubs['colab_url'].rstrip('/')}/github/{repo}/blob/{NOTEBOOKS_BRANCH}/"
        f"{notebook}",
    }
    for button in launch["buttons"]:
        button["url"] = urls.get(button["text"], button.get("url"))


class AuthorYearLabels(BaseLabelStyle):
    """An entry's label as the text cites it: "Last, year", "A and B, year", "A et al., year"."""

    def format_labels(self, sorted_entries):  # type: ignore[no-untyped-def]
        labels = [self.label(entry) for entry in sorted_entries]
        seen: dict[str, int] = {}
        for label in labels:  # entries that share a label: "LeCun et al., 1998a", "...b"
            if labels.count(label) == 1:
                yield label
            else:
                seen[label] = seen.get(label, 0) + 1
                yield label + "abcdefghijklmnopqrstuvwxyz"[seen[label] - 1]

    @staticmethod
    def label(entry):  # type: ignore[no-untyped-def]
        people = entry.persons.get("author", [])
        lasts = [Text.from_latex(" ".join(p.last_names)).render_as("text") for p in people]
        names = " and ".join(lasts) if len(lasts) <= 2 else f"{lasts[0]} et al."
        return f"{names}, {entry.fields.get('year', 'n.d.')}"


class AuthorYearOrder(SortingStyle):
    """By author, year and title, a group author's braces ignored ("{Anonymous ...}")."""

    def person_key(self, person):  # type: ignore[no-untyped-def]
        return super().person_key(person).replace("{", "").replace("}", "")


class BookStyle(UnsrtStyle):
    default_label_style = AuthorYearLabels
    default_sorting_style = AuthorYearOrder


register_plugin("pybtex.style.formatting", "nnmath", BookStyle)


def setup(app: Sphinx) -> dict[str, object]:
    mathjax_source()  # fail at once, with the import error, if MathJax is not installed
    app.connect("config-inited", invalidate_cache)
    app.connect("env-get-outdated", outdated_docs)
    app.connect("build-finished", copy_mathjax)
    app.connect("html-page-context", launch_notebooks, priority=502)  # after the theme's
    app.connect(
        "html-page-context", drop_duplicate_scripts, priority=900
    )  # after the adders
    return {"parallel_read_safe": True, "parallel_write_safe": True}

"""``make notebooks``: each chapter as a notebook that runs in Colab, Binder or any Jupyter.

Each chapter's MyST source is converted with jupytext, without outputs (the reader runs
the cells), and one cell is put in front of the chapter's own: it installs what the chapter
imports when it is missing, ``nnmath`` from the repository with pip and myst-nb for
``glue``. Nothing else differs from the page. The files land in ``OUT/book/NAME.ipynb``,
the path the site's launch buttons open on the repository's ``notebooks`` branch, which the
Pages workflow fills from this folder.

Usage: ``python book/_ext/nnmath_notebooks.py [--out _build/notebooks]``.
"""

from __future__ import annotations

import argparse
import functools
import re
import sys
from pathlib import Path

import jupytext
import nbformat
import yaml

ROOT = Path(__file__).resolve().parents[2]

#: Pages that read the repository's own files (the ledger scans the chapters and the tests),
#: so they run only in a clone of it: no notebook is made of them.
REPOSITORY_ONLY = frozenset({"book/ledger"})

#: The repository's branch that holds the notebooks (the Pages workflow pushes it).
NOTEBOOKS_BRANCH = "notebooks"

INSTALL_TAG = "nnmath-install"

INSTALL = '''\
# Colab, Binder or a fresh Jupyter: install what this chapter imports, if it is missing.
import importlib.util
import subprocess
import sys

NEEDS = {{  # module: what pip installs for it
    "nnmath": "nnmath @ git+{url}@{branch}",
    "myst_nb": "{myst_nb}",  # for glue(), which records the numbers the text quotes
}}
missing = [spec for module, spec in NEEDS.items() if importlib.util.find_spec(module) is None]
if missing:
    subprocess.check_call([sys.executable, "-m", "pip", "install", "--quiet", *missing])'''


@functools.cache
def chapters(root: Path = ROOT) -> list[str]:
    """The docnames of ``_toc.yml`` (``book/05_backprop``, ...) that have code to run."""
    toc = yaml.safe_load((root / "_toc.yml").read_text())
    files = [toc["root"]] + [
        chapter["file"] for part in toc["parts"] for chapter in part["chapters"]
    ]
    return [
        name for name in files
        if name not in REPOSITORY_ONLY
        and "```{code-cell}" in (root / f"{name}.md").read_text()
    ]


def install_source(root: Path = ROOT) -> str:
    """The first cell's code, for the repository and myst-nb version that ``root`` names."""
    config = yaml.safe_load((root / "_config.yml").read_text())
    pinned = re.search(r"^myst-nb==(\S+)$", (root / "requirements.txt").read_text(), re.M)
    if pinned is None:
        raise ValueError(f"{root / 'requirements.txt'}: expected a line myst-nb==VERSION")
    return INSTALL.format(
        url=config["repository"]["url"],
        branch=config["repository"].get("branch", "main"),
        myst_nb=f"myst-nb=={pinned.group(1)}",
    )


def chapter_notebook(source: Path, install: str) -> nbformat.NotebookNode:
    """The chapter at ``source`` as an nbformat-4 notebook with the install cell first."""
    notebook = jupytext.read(source, fmt="md:myst")
    cell = nbformat.v4.new_code_cell(install, metadata={"tags": [INSTALL_TAG]})
    notebook.cells.insert(0, cell)
    notebook.metadata.pop("jupytext", None)
    notebook.metadata["language_info"] = {"name": "python"}
    for number, cell in enumerate(notebook.cells):
        cell["id"] = f"cell-{number}"  # stable ids: the same chapter gives the same file
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    nbformat.validate(notebook)
    return notebook


def write_notebooks(out: Path, root: Path = ROOT) -> list[Path]:
    """Write ``out/NAME.ipynb`` for every chapter; return the paths written."""
    install = install_source(root)
    written = []
    for name in chapters(root):
        path = out / f"{name}.ipynb"
        path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(chapter_notebook(root / f"{name}.md", install), path)
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "_build" / "notebooks")
    args = parser.parse_args(argv)
    written = write_notebooks(args.out)
    print(f"{len(written)} notebooks in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

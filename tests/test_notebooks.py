"""The chapters as notebooks (``make notebooks``): valid, and runnable with only nnmath installed.

The slow test makes what a reader in Colab or Binder has: a fresh virtual environment into
which only the package (``pip install .``) and a Jupyter kernel were installed. Each
notebook then runs top to bottom with ``jupyter nbconvert --execute``, its first cell
installing what else it needs (myst-nb), as it would in Colab.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import venv
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "book" / "_ext"))
import nnmath_notebooks as notebooks  # noqa: E402  (book/_ext is not a package: it is Sphinx's extension folder)

CHAPTERS = notebooks.chapters()
PACKAGE_FILES = ("pyproject.toml", "README.md", "LICENSE")


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("notebooks")
    paths = notebooks.write_notebooks(out)
    return {path.relative_to(out).with_suffix("").as_posix(): path for path in paths}


def code_cells(source: list[nbformat.NotebookNode]) -> list[str]:
    return [cell.source for cell in source if cell.cell_type == "code"]


def test_every_chapter_of_the_toc_has_a_notebook(written: dict[str, Path]) -> None:
    assert set(written) == set(CHAPTERS)
    assert {"book/01_mnist", "book/by_hand", "book/16_speed"} <= set(written)
    assert "book/ledger" not in written  # it reads the repository's tests: clones only


@pytest.mark.parametrize("name", CHAPTERS)
def test_a_notebook_is_the_chapter_behind_one_install_cell(
    written: dict[str, Path], name: str
) -> None:
    notebook = nbformat.read(written[name], as_version=4)
    nbformat.validate(notebook)
    assert notebook.nbformat == 4
    first, *rest = notebook.cells
    assert first.metadata["tags"] == [notebooks.INSTALL_TAG]
    assert "git+https://github.com/" in first.source and "myst-nb==" in first.source
    chapter = notebooks.jupytext.read(ROOT / f"{name}.md", fmt="md:myst")
    assert code_cells(rest) == code_cells(chapter.cells)
    assert all(not cell.get("outputs") for cell in notebook.cells)


def test_the_repository_comes_from_the_config() -> None:
    source = notebooks.install_source()
    assert "nnmath @ git+https://github.com/nnmath/nnmath@main" in source


@pytest.fixture(scope="module")
def fresh_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A virtual environment with `pip install .` of the package and a kernel, nothing else."""
    base = tmp_path_factory.mktemp("fresh")
    source = base / "nnmath-src"  # the package's files only, so pip builds nothing in ROOT
    source.mkdir()
    for name in PACKAGE_FILES:
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(ROOT / "code", source / "code",
                    ignore=shutil.ignore_patterns("*.egg-info", "__pycache__"))
    venv.create(base / "venv", with_pip=True)
    python = base / "venv" / "bin" / "python"
    pip = [str(python), "-m", "pip", "install", "--quiet"]
    subprocess.run([*pip, str(source)], check=True, timeout=900)
    subprocess.run([*pip, "ipykernel", "nbconvert"], check=True, timeout=900)
    yield python


def execute(python: Path, notebook: Path, folder: Path) -> subprocess.CompletedProcess[str]:
    """Run ``notebook`` alone in ``folder`` (as in a Colab session) with the env's Jupyter."""
    env = {key: value for key, value in os.environ.items()
           if key not in {"PYTHONPATH", "NNMATH_SEED_OFFSET", "VIRTUAL_ENV"}}
    env["PATH"] = f"{python.parent}{os.pathsep}{env.get('PATH', '')}"
    folder.mkdir(parents=True)
    shutil.copy(notebook, folder / "chapter.ipynb")
    return subprocess.run(
        [str(python.parent / "jupyter"), "nbconvert", "--to", "notebook", "--execute",
         "--ExecutePreprocessor.timeout=1800", "--ExecutePreprocessor.kernel_name=python3",
         "--output", "executed.ipynb", "chapter.ipynb"],
        cwd=folder, env=env, capture_output=True, text=True, timeout=3600, check=False,
    )


@pytest.fixture(scope="module")
def executed(
    fresh_env: Path, written: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, tuple[subprocess.CompletedProcess[str], Path]]:
    """Every notebook run; the first alone (its install cell installs myst-nb), then the
    others two at a time, one per core: each is a process of its own, as in Colab."""
    base = tmp_path_factory.mktemp("executed")

    def run(name: str) -> tuple[subprocess.CompletedProcess[str], Path]:
        folder = base / name.replace("/", "_")
        return execute(fresh_env, written[name], folder), folder / "executed.ipynb"

    first, *rest = CHAPTERS
    runs = {first: run(first)}
    with ThreadPoolExecutor(max_workers=2) as pool:
        runs.update(zip(rest, pool.map(run, rest), strict=True))
    return runs


@pytest.mark.notebooks
@pytest.mark.parametrize("name", CHAPTERS)
def test_the_notebook_runs_where_only_nnmath_is_installed(
    executed: dict[str, tuple[subprocess.CompletedProcess[str], Path]], name: str
) -> None:
    run, path = executed[name]
    assert run.returncode == 0, f"{name} failed as a notebook:\n{run.stderr[-6000:]}"
    notebook = nbformat.read(path, as_version=4)
    ran = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert ran and all(cell.execution_count is not None for cell in ran)

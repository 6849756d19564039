"""The equation ledger: each labelled equation of the book, the function that implements it,
and the tests that check it.

A function claims an equation with a line ``Implements: eq-label`` in its docstring; a test
claims it with the marker ``@pytest.mark.equation("eq-label")``; the book labels a display
equation as ``$$ ... $$ (eq-label)``. The book's appendix renders this ledger, and a test fails
when a label lacks its function or its test.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
import re
from dataclasses import dataclass, field
from pathlib import Path

import nnmath

__all__ = ["Entry", "book_labels", "build_ledger", "implementations", "test_claims"]

_IMPLEMENTS = re.compile(r"^\s*Implements:\s*(.+)$", re.MULTILINE)
_LABEL = re.compile(r"\$\$[ \t]*\((eq-[a-z0-9-]+)\)")


@dataclass
class Entry:
    """One row of the ledger."""

    label: str
    chapter: str | None = None
    function: str | None = None
    tests: list[str] = field(default_factory=list)


def implementations() -> dict[str, str]:
    """Map each claimed label to the dotted name of the one function that implements it.

    Every module of the package is read, subpackages included; a label claimed by two
    functions is an error.
    """
    claims: dict[str, str] = {}
    for info in pkgutil.walk_packages(nnmath.__path__, prefix="nnmath."):
        module = importlib.import_module(info.name)
        for name, obj in vars(module).items():
            if not inspect.isfunction(obj) or obj.__module__ != module.__name__:
                continue
            for match in _IMPLEMENTS.finditer(inspect.getdoc(obj) or ""):
                for label in re.split(r"[,\s]+", match.group(1).strip()):
                    where = f"{module.__name__}.{name}"
                    if label in claims and claims[label] != where:
                        raise ValueError(
                            f"{label} is claimed by {claims[label]} and by {where}"
                        )
                    claims[label] = where
    return claims


def book_labels(book_dir: str | Path) -> dict[str, str]:
    """Map each equation label in the book's Markdown files to the file (stem) holding it."""
    labels: dict[str, str] = {}
    for path in sorted(Path(book_dir).rglob("*.md")):
        for label in _LABEL.findall(path.read_text(encoding="utf-8")):
            if label in labels:
                raise ValueError(
                    f"{label} is labelled twice: in {labels[label]} and {path.stem}"
                )
            labels[label] = path.stem
    return labels


def test_claims(tests_dir: str | Path) -> dict[str, list[str]]:
    """Map each label to the tests marked ``@pytest.mark.equation(label)`` in ``tests_dir``."""
    claims: dict[str, list[str]] = {}
    for path in sorted(Path(tests_dir).glob("test_*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.FunctionDef):
                continue
            for dec in node.decorator_list:
                if (
                    isinstance(dec, ast.Call)
                    and isinstance(dec.func, ast.Attribute)
                    and dec.func.attr == "equation"
                ):
                    for arg in dec.args:
                        if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                            claims.setdefault(arg.value, []).append(
                                f"{path.name}::{node.name}"
                            )
    return claims


def build_ledger(book_dir: str | Path, tests_dir: str | Path) -> list[Entry]:
    """Every label found in the book, the package or the tests, in the book's order."""
    book = book_labels(book_dir)
    funcs = implementations()
    tests = test_claims(tests_dir)
    order = list(book) + sorted((set(funcs) | set(tests)) - set(book))
    return [
        Entry(label, book.get(label), funcs.get(label), sorted(tests.get(label, [])))
        for label in order
    ]

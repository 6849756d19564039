"""The equation ledger is complete: every labelled equation has one function and a test."""

from __future__ import annotations

from pathlib import Path

from nnmath.ledger import build_ledger, implementations

ROOT = Path(__file__).resolve().parents[1]


def test_every_equation_has_a_function_and_a_test() -> None:
    rows = build_ledger(ROOT / "book", ROOT / "tests")
    assert rows, "the book has no labelled equations"
    incomplete = {
        row.label: [
            what
            for what, ok in (
                ("no chapter labels it", row.chapter),
                ("no function implements it", row.function),
                ("no test checks it", row.tests),
            )
            if not ok
        ]
        for row in rows
    }
    assert {label: gaps for label, gaps in incomplete.items() if gaps} == {}


def test_implementations_are_importable_functions() -> None:
    import importlib

    for label, dotted in implementations().items():
        module, _, name = dotted.rpartition(".")
        assert callable(getattr(importlib.import_module(module), name)), label

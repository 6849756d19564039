"""The speed record ships with the package and loads wherever the package is installed."""

from __future__ import annotations

from pathlib import Path

import pytest
from nnmath import speed_record


def test_the_shipped_record_names_its_machine_and_settings() -> None:
    record = speed_record.load()
    assert {"machine", "settings"} <= record.keys()


def test_a_missing_record_says_how_to_make_it(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="make bench"):
        speed_record.load(tmp_path / "speed.json")

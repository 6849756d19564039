"""The speed records ship with the package and load wherever the package is installed."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
from pathlib import Path

import pytest
from nnmath import speed_record


def test_the_shipped_record_names_its_machine_and_settings() -> None:
    record = speed_record.load()
    assert {"machine", "settings", "threads"} <= record.keys()
    for key, one in speed_record.load_all()["machines"].items():
        assert key == one["key"] == speed_record.machine_key(one["machine"])


def test_a_missing_record_says_how_to_make_it(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="make bench"):
        speed_record.load(tmp_path / "speed.json")
    (tmp_path / "flat.json").write_text(json.dumps({"machine": {}, "settings": {}}))
    with pytest.raises(ValueError, match="'machines' table"):
        speed_record.load(tmp_path / "flat.json")


def test_load_prefers_this_machine_then_the_latest(tmp_path: Path) -> None:
    old = entry(stamp("Old CPU", "Haswell", "2026-01-01"), "2026-01-01", settings={})
    new = entry(stamp("New CPU", "SkylakeX", "2026-03-01"), "2026-03-01", settings={})
    path = write(tmp_path / "speed.json", old, new)
    assert speed_record.load(path)["key"] == new["key"]
    assert speed_record.load(path, key=old["key"])["key"] == old["key"]
    here = dict(old, key=speed_record.this_machine_key())
    path = write(tmp_path / "speed.json", old, new, here)
    assert speed_record.load(path)["key"] == here["key"]
    with pytest.raises(KeyError, match="no such machine"):
        speed_record.load(path, key="a machine never measured")


# --------------------------------------------------------------------------- the CNN's


def stamp(cpu: str, kernel: str, date: str) -> dict[str, object]:
    """A machine record as :func:`speed_record.machine` writes it (the fields the key uses)."""
    return {"cpu": cpu, "cpu_features": ["avx2", "fma"], "date": date,
            "numpy_blas": [{"internal_api": "openblas", "architecture": kernel}]}


def entry(machine: dict[str, object], date: str, **parts: object) -> dict[str, object]:
    key = speed_record.machine_key(machine)
    return {"key": key, "machine": machine, "date": date, **parts}


def write(path: Path, *entries: dict[str, object]) -> Path:
    path.write_text(json.dumps({"format": 1, "machines": {e["key"]: e for e in entries}}))
    return path


def test_a_missing_cnn_record_says_how_to_make_it(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="make bench"):
        speed_record.load_cnn(tmp_path / "cnn_speed.json")


def test_a_cnn_record_without_machines_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "cnn_speed.json"
    path.write_text(json.dumps({"epoch": {}}))
    with pytest.raises(ValueError, match="machines"):
        speed_record.load_cnn(path)


def test_the_machine_key_names_cpu_vector_sets_and_blas_kernel() -> None:
    key = speed_record.machine_key(stamp("Some CPU", "Zen", "2026-01-01"))
    assert key == "Some CPU | avx2 fma | openblas Zen"


def test_cnn_entry_prefers_this_machine_then_the_latest(tmp_path: Path) -> None:
    old = entry(stamp("Old CPU", "Haswell", "2026-01-01"), "2026-01-01", epoch={"ratio": 2})
    new = entry(stamp("New CPU", "Zen", "2026-03-01"), "2026-03-01", epoch={"ratio": 1})
    seeds_only = entry(stamp("Other CPU", "Zen", "2026-05-01"), "2026-05-01",
                       median_test_accuracy=0.99, epoch=None)
    record = speed_record.load_cnn(write(tmp_path / "cnn_speed.json", old, new, seeds_only))
    assert speed_record.cnn_entry(record) is record["machines"][seeds_only["key"]]
    assert speed_record.cnn_entry(record, needs=("epoch",))["key"] == new["key"]
    assert speed_record.cnn_entry(record, key=old["key"])["epoch"] == {"ratio": 2}
    here = dict(old, key=speed_record.this_machine_key())  # this machine, measured first
    record["machines"][here["key"]] = here
    assert speed_record.cnn_entry(record, needs=("epoch",)) is here
    with pytest.raises(LookupError, match="peak_memory_bytes"):
        speed_record.cnn_entry(record, needs=("peak_memory_bytes",))
    with pytest.raises(KeyError, match="no such machine"):
        speed_record.cnn_entry(record, key="a machine never measured")


def test_the_shipped_cnn_record_keys_each_entry_by_its_machine() -> None:
    record = speed_record.load_cnn()
    assert record["machines"]
    for key, one in record["machines"].items():
        assert key == one["key"] == speed_record.machine_key(one["machine"])
        if one.get("epoch") is not None:
            assert {"nnmath_s", "torch_s", "ratio"} <= one["epoch"].keys()
        if one.get("seeds") is not None:
            accuracies = [seed["test_accuracy"] for seed in one["seeds"]]
            assert one["median_test_accuracy"] == statistics.median(accuracies)


def test_the_record_module_does_not_import_torch() -> None:
    code = ("import sys; from nnmath import speed_record; speed_record.this_machine_key(); "
            "speed_record.machine(with_torch=False); assert 'torch' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)

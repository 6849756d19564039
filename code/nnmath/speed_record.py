"""The speed benchmarks' records, shipped inside the package so that chapters read them anywhere.

``benchmarks/bench_speed.py`` (``make bench``) measures nnmath against PyTorch and writes
its result into ``speed.json`` beside this module, one entry per machine (keyed by
:func:`machine_key`, as below: a run on another machine adds its entry, a run on the same
machine replaces its own). The chapter on speed reads one entry with :func:`load`, and every
machine's with :func:`load_all`, in the book's build as in a notebook opened alone in Colab,
where no benchmark folder exists.

``benchmarks/bench_cnn.py`` (also ``make bench``) measures the convolutional network of
Part V and writes ``cnn_speed.json``, read with :func:`load_cnn`. Its times and even its
accuracies belong to one machine, so the file holds one entry per machine, keyed by
:func:`machine_key` (the CPU model, its vector instruction sets and the kernel NumPy's
BLAS chose for it), and :func:`cnn_entry` picks one:

    {"format": 1, "about": "...",
     "machines": {KEY: {"key": KEY, "machine": {...}, "date": "...",
                        "settings": {"seeds": {...}, "timing": {...}, "memory": {...}},
                        "seeds": [{"seed": 0, "test_accuracy": ..., ...}, ...],
                        "median_test_accuracy": ...,
                        "epoch": {"nnmath_s": ..., "torch_s": ..., "ratio": ...,
                                  "taught_s": ..., ...},
                        "peak_memory_bytes": ..., "memory": {...}}}}

:func:`machine` describes the machine of a measurement (both benchmarks stamp their records
with it). This module imports neither PyTorch nor the benchmarks: PyTorch is imported
inside :func:`torch_blas` only, when it is installed.
"""

from __future__ import annotations

import datetime
import importlib.util
import json
import os
import platform
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

__all__ = [
    "CNN_PATH",
    "PATH",
    "cnn_entry",
    "cpu_features",
    "cpu_model",
    "describe",
    "load",
    "load_all",
    "load_cnn",
    "machine",
    "machine_key",
    "numpy_blas",
    "this_machine_key",
    "torch_blas",
]

#: Where the benchmark writes its record and where :func:`load` reads it.
PATH = Path(__file__).with_name("speed.json")

#: Where ``benchmarks/bench_cnn.py`` writes its record and where :func:`load_cnn` reads it.
CNN_PATH = Path(__file__).with_name("cnn_speed.json")


def load_all(path: str | Path = PATH) -> dict[str, Any]:
    """The speed record at ``path``: ``{"format": 1, "machines": {key: entry}}``.

    Each entry holds ``"machine"``, ``"settings"`` and the timings of one machine. Raises
    FileNotFoundError, saying how to make the file, when it is missing.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"{path}: expected the speed benchmark's record; run `make bench` to make it"
        )
    record = json.loads(path.read_text())
    if not isinstance(record.get("machines"), dict):
        raise ValueError(f"{path}: expected a 'machines' table, found keys {sorted(record)}")
    return record


def load(path: str | Path = PATH, *, key: str | None = None) -> dict[str, Any]:
    """One machine's entry of :func:`load_all`: ``key``'s, else this machine's, else the latest.

    The entry has ``"machine"``, ``"settings"`` and the timings.
    """
    return _entry(load_all(path)["machines"], (), key, "benchmarks/bench_speed.py")


def _entry(
    machines: Mapping[str, dict[str, Any]], needs: Iterable[str], key: str | None,
    bench: str,
) -> dict[str, Any]:
    """The entry of ``key``; else, among those holding ``needs``, this machine's or the latest."""
    if key is not None:
        if key not in machines:
            raise KeyError(f"{key!r}: no such machine in the record; it has {sorted(machines)}")
        return machines[key]
    needs = tuple(needs)
    usable = {k: entry for k, entry in machines.items()
              if all(entry.get(name) is not None for name in needs)}
    if not usable:
        raise LookupError(
            f"no machine in the record has {', '.join(needs) or 'an entry'}; run {bench} "
            "without skipping that part"
        )
    here = this_machine_key()
    if here in usable:
        return usable[here]
    return max(usable.values(),
               key=lambda entry: entry.get("date") or entry["machine"].get("date") or "")


# --------------------------------------------------------------------------- the machine


def cpu_model() -> str:
    """The processor's model name: /proc/cpuinfo's 'model name' when there is one."""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def cpu_features() -> list[str]:
    """The vector instruction sets that decide BLAS kernels, from /proc/cpuinfo's flags."""
    cpuinfo = Path("/proc/cpuinfo")
    if not cpuinfo.exists():
        return []
    for line in cpuinfo.read_text().splitlines():
        if line.startswith("flags"):
            flags = set(line.split(":", 1)[1].split())
            return [f for f in ("avx", "avx2", "fma", "avx512f", "avx512_bf16", "amx_tile")
                    if f in flags]
    return []


def numpy_blas() -> list[dict[str, object]]:
    """NumPy's BLAS as threadpoolctl reports it: library, version, kernel, threads.

    ``architecture`` is the kernel OpenBLAS chose for this CPU at load time (for example
    'Haswell', 'Zen' or 'SkylakeX'); the same NumPy wheel runs different kernels on
    different processors.
    """
    import numpy  # noqa: F401  (loads the BLAS library that threadpoolctl looks for)
    from threadpoolctl import threadpool_info

    keys = ("internal_api", "version", "architecture", "threading_layer", "num_threads")
    libraries = [info for info in threadpool_info() if info["user_api"] == "blas"
                 and "torch" not in Path(info.get("filepath") or "").parts]
    ours = [info for info in libraries  # a wheel's numpy.libs/, or numpy/ itself
            if any(part.startswith("numpy") for part in Path(info["filepath"]).parts)]
    return [{key: info.get(key) for key in keys} for info in ours or libraries]


def torch_blas() -> dict[str, object] | None:
    """PyTorch's BLAS (MKL or OpenBLAS, from its build configuration), CPU kernel, threads.

    None when PyTorch is not installed.
    """
    if importlib.util.find_spec("torch") is None:
        return None
    import torch

    config = torch.__config__.show()
    blas_info = re.search(r"BLAS_INFO=(\w+)", config)
    mkl_version = re.search(r"Math Kernel Library Version ([\d.]+)", config)
    name = blas_info.group(1) if blas_info else None
    try:
        capability = torch.backends.cpu.get_cpu_capability()
    except AttributeError:  # older PyTorch
        capability = None
    return {
        "blas": {"mkl": "MKL", "open": "OpenBLAS", "openblas": "OpenBLAS"}.get(name, name),
        "blas_info": name,
        "mkl_available": bool(torch.backends.mkl.is_available()),
        "mkl_version": mkl_version.group(1) if mkl_version else None,
        "mkldnn_available": bool(torch.backends.mkldnn.is_available()),
        "cpu_capability": capability,
        "num_threads": torch.get_num_threads(),
    }


def machine(*, with_torch: bool = True) -> dict[str, object]:
    """What the numbers were measured on: CPU, cores, each library's BLAS, versions, date.

    Call it before any thread limit is set, so that the thread counts are the defaults.
    ``with_torch=False`` leaves PyTorch out (``torch_blas`` None) without importing it.
    """
    import numpy as np

    import nnmath

    versions = {"python": platform.python_version(), "numpy": np.__version__,
                "nnmath": nnmath.__version__}
    numpy_libraries = numpy_blas()  # not the libraries PyTorch loads with itself
    torch_info = torch_blas() if with_torch else None
    if torch_info is not None:
        import torch

        versions["torch"] = torch.__version__
    return {
        "cpu": cpu_model(),
        "cpu_features": cpu_features(),
        "cores": os.cpu_count(),
        "system": f"{platform.system()} {platform.release()}",
        "blas": [f"{i['internal_api']} {i['version']}" for i in numpy_libraries],
        "numpy_blas": numpy_libraries,
        "torch_blas": torch_info,
        "versions": versions,
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
    }


def describe(stamp: Mapping[str, Any]) -> str:
    """One line naming the machine of :func:`machine`, printed above every result."""
    numpy_part = "; ".join(
        f"{i['internal_api']} {i['version']}, kernel {i.get('architecture') or '?'}, "
        f"{i['num_threads']} threads" for i in stamp["numpy_blas"]) or "BLAS not found"
    torch_info = stamp["torch_blas"]
    torch_part = "PyTorch not installed" if torch_info is None else (
        f"PyTorch {stamp['versions']['torch']} ({torch_info['blas']}, "
        f"{torch_info['cpu_capability']}, {torch_info['num_threads']} threads)")
    return (f"{stamp['date']}  {stamp['cpu']} ({stamp['cores']} cores; "
            f"{', '.join(stamp['cpu_features']) or 'flags unknown'}); NumPy "
            f"{stamp['versions']['numpy']} ({numpy_part}); {torch_part}")


def machine_key(stamp: Mapping[str, Any]) -> str:
    """The key of a machine in the records: CPU model, vector sets, BLAS kernel.

    For example ``'AMD EPYC | avx avx2 fma | openblas Zen'``: two machines with the same
    key run the same kernels, whatever their core count or software versions.
    """
    kernels = ", ".join(f"{i.get('internal_api')} {i.get('architecture') or '?'}"
                        for i in stamp.get("numpy_blas") or []) or "BLAS unknown"
    features = " ".join(stamp.get("cpu_features") or []) or "flags unknown"
    return f"{stamp['cpu']} | {features} | {kernels}"


def this_machine_key() -> str:
    """:func:`machine_key` of the machine running this code (PyTorch is not imported)."""
    return machine_key({"cpu": cpu_model(), "cpu_features": cpu_features(),
                        "numpy_blas": numpy_blas()})


# --------------------------------------------------------------------------- the CNN's


def load_cnn(path: str | Path = CNN_PATH) -> dict[str, Any]:
    """The convolutional network's record at ``path``: ``{"machines": {key: entry}, ...}``.

    Each entry is one machine's measurements (see the module's docstring); pick one with
    :func:`cnn_entry`. Raises FileNotFoundError, saying how to make the file, when it is
    missing.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"{path}: expected the convolutional network's benchmark record; run "
            "`make bench` (or benchmarks/bench_cnn.py) to make it"
        )
    record = json.loads(path.read_text())
    if not isinstance(record.get("machines"), dict):
        raise ValueError(f"{path}: expected a 'machines' table, found keys {sorted(record)}")
    return record


def cnn_entry(
    record: Mapping[str, Any] | None = None, *, needs: Iterable[str] = (),
    key: str | None = None,
) -> dict[str, Any]:
    """One machine's entry of :func:`load_cnn`'s record (read from :data:`CNN_PATH` if None).

    The entry of the machine ``key`` when given (KeyError if absent). Otherwise, among the
    entries that hold every key in ``needs`` (for example ``("epoch",)`` or
    ``("median_test_accuracy",)``): the one of the machine running this code
    (:func:`this_machine_key`) if there is one, else the one updated last (its ``date``).
    Raises LookupError when no entry holds ``needs``.
    """
    record = load_cnn() if record is None else record
    return _entry(record["machines"], needs, key, "benchmarks/bench_cnn.py")

"""Backends: where arrays live and which array module computes on them.

Kernels never import numpy for computing; they ask ``get_array_module`` for
the module that owns their inputs (Chainer's rule), so one code path serves
NumPy and CuPy.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy

from ..errors import NNSpecRuntimeError

DTYPES = {
    "float16": numpy.float16,
    "half": numpy.float16,
    "float32": numpy.float32,
    "float": numpy.float32,
    "float64": numpy.float64,
    "double": numpy.float64,
}


def get_array_module(*arrays: Any) -> ModuleType:
    """The array module that owns the given arrays: numpy, cupy, or nnspec's shape-only meta module."""
    for a in arrays:
        owner = type(a).__module__
        if owner.split(".")[0] == "cupy":
            return importlib.import_module("cupy")
        if owner == "nnspec.runtime.meta":
            return importlib.import_module("nnspec.runtime.meta")
    return numpy


def resolve_dtype(dtype: Any) -> numpy.dtype:
    """A numpy dtype from a name (``"float32"``), a numpy type or a dtype."""
    if isinstance(dtype, str):
        if dtype not in DTYPES:
            raise NNSpecRuntimeError(f"unknown dtype {dtype!r}; expected one of {', '.join(sorted(DTYPES))}")
        return numpy.dtype(DTYPES[dtype])
    return numpy.dtype(dtype)


@dataclass(frozen=True)
class Backend:
    """A device kind and the array module that computes on it."""

    device: str  # "cpu" or "cuda:N"
    xp: ModuleType

    @property
    def name(self) -> str:
        return self.xp.__name__

    def asarray(self, a: Any, dtype: Any = None) -> Any:
        """``a`` on this backend's device, copied only when it must be."""
        if self.xp is numpy:
            if type(a).__module__.split(".")[0] == "cupy":
                a = a.get()
            return numpy.asarray(a, dtype=dtype)
        with self.xp.cuda.Device(self.device_index):
            return self.xp.asarray(a, dtype=dtype)

    @property
    def device_index(self) -> int:
        return int(self.device.partition(":")[2] or 0)


CPU = Backend("cpu", numpy)


def get_backend(device: str | Backend = "cpu") -> Backend:
    """The backend for ``"cpu"``, ``"cuda"`` or ``"cuda:N"``; never a silent fallback."""
    if isinstance(device, Backend):
        return device
    if device == "cpu":
        return CPU
    kind, _, index = device.partition(":")
    if kind != "cuda" or (index and not index.isdigit()):
        raise NNSpecRuntimeError(f"unknown device {device!r}; expected 'cpu', 'cuda' or 'cuda:N'")
    try:
        cupy = importlib.import_module("cupy")
    except ImportError as e:
        raise NNSpecRuntimeError(
            f"device {device!r} needs CuPy, which is not installed ({e}); "
            "install nnspec with the cuda12 or cuda13 extra"
        ) from None
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as e:  # CuPy raises its own runtime errors when no driver is loaded
        raise NNSpecRuntimeError(f"device {device!r}: CuPy found no usable CUDA driver ({e})") from None
    i = int(index or 0)
    if i >= count:
        raise NNSpecRuntimeError(f"device {device!r}: only {count} CUDA device(s) found")
    return Backend(f"cuda:{i}", cupy)


def synchronize(xp: Any) -> None:
    """Wait for the device's queued work (CuPy runs kernels asynchronously); nothing on NumPy."""
    cuda = getattr(xp, "cuda", None)
    if cuda is not None and xp is not numpy:
        cuda.get_current_stream().synchronize()


def describe() -> dict[str, Any]:
    """The backends this process can use: NumPy (with its BLAS and threads), and CuPy where it is
    installed, with its CUDA versions and each device's name and memory, or why it can't run."""
    import os

    info: dict[str, Any] = {"numpy": {"version": numpy.__version__}}
    try:
        blas = numpy.show_config(mode="dicts").get("Build Dependencies", {}).get("blas", {})
        info["numpy"]["blas"] = f"{blas.get('name', '?')} {blas.get('version', '')}".strip()
    except (TypeError, AttributeError):  # NumPy before 1.26 prints its config only
        pass
    info["numpy"]["threads"] = {v: os.environ.get(v) for v in (
        "NNSPEC_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "OPENBLAS_THREAD_TIMEOUT") if os.environ.get(v)}
    try:
        cupy = importlib.import_module("cupy")
    except ImportError as e:
        info["cupy"] = {"available": False, "why": f"not installed ({e}); pip install 'nnspec[cuda12]' or "
                                                   "'nnspec[cuda13]', whichever matches the driver"}
        return info
    entry: dict[str, Any] = {"version": cupy.__version__}
    info["cupy"] = entry
    try:
        runtime = cupy.cuda.runtime
        entry["cuda_runtime"] = _cuda_version(runtime.runtimeGetVersion())
        entry["cuda_driver"] = _cuda_version(runtime.driverGetVersion())
        devices = []
        for i in range(runtime.getDeviceCount()):
            props = runtime.getDeviceProperties(i)
            name = props["name"]
            with cupy.cuda.Device(i):
                free, total = cupy.cuda.Device(i).mem_info
            devices.append({"device": f"cuda:{i}", "name": name.decode() if isinstance(name, bytes) else str(name),
                            "memory_total": int(total), "memory_free": int(free)})
        entry["devices"] = devices
        entry["available"] = bool(devices)
        if not devices:
            entry["why"] = "no CUDA device found"
    except Exception as e:  # noqa: BLE001 - CuPy raises its own runtime errors where no driver is loaded
        entry["available"] = False
        entry["why"] = f"CuPy found no usable CUDA driver ({e})"
    return info


def _cuda_version(v: int) -> str:
    """CUDA's 12040 as "12.4"."""
    return f"{v // 1000}.{v % 1000 // 10}"


def to_numpy(a: Any) -> numpy.ndarray:
    """A host (NumPy) copy of an array from any backend."""
    return a.get() if hasattr(a, "get") and not isinstance(a, numpy.ndarray) else numpy.asarray(a)


def device_of(a: Any) -> str:
    """``"cpu"`` or ``"cuda:N"`` for an array."""
    dev = getattr(a, "device", None)
    if type(a).__module__.split(".")[0] == "cupy":
        return f"cuda:{dev.id}"
    return "cpu"

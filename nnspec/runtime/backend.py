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
    cupy = _import_cupy(f"device {device!r}")
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as e:  # noqa: BLE001 - CuPy raises its own runtime errors where no driver or device is
        raise NNSpecRuntimeError(f"device {device!r}: {_cuda_problem(cupy, e)}") from None
    i = int(index or 0)
    if i >= count:
        raise NNSpecRuntimeError(f"device {device!r}: only {count} CUDA device(s) found")
    return Backend(f"cuda:{i}", cupy)


CUDA_NO_DEVICE, CUDA_INSUFFICIENT_DRIVER = 100, 35  # cudaErrorNoDevice, cudaErrorInsufficientDriver


def _import_cupy(what: str) -> ModuleType:
    """CuPy, or an error saying whether it is missing or one of its own imports failed."""
    try:
        return importlib.import_module("cupy")
    except ImportError as e:
        if e.name in (None, "cupy"):
            raise NNSpecRuntimeError(f"{what} needs CuPy, which is not installed ({e}); install nnspec with the "
                                     "cuda12 or cuda13 extra, whichever matches the CUDA driver") from None
        raise NNSpecRuntimeError(f"{what}: CuPy is installed but cannot be imported ({e}); reinstall it "
                                 "(and never install cupy-cuda12x and cupy-cuda13x together)") from None


def _cuda_problem(cupy: Any, e: Exception) -> str:
    """Why CUDA can't run, from the error CuPy raised: no device, no driver, or a driver too old."""
    status = getattr(e, "status", None)
    if status == CUDA_NO_DEVICE:
        return f"the CUDA driver finds no GPU ({e})"
    if status == CUDA_INSUFFICIENT_DRIVER:
        try:
            driver = cupy.cuda.runtime.driverGetVersion()
            runtime = cupy.cuda.runtime.runtimeGetVersion()
        except Exception:  # noqa: BLE001
            driver, runtime = 0, 0
        if driver == 0:
            return f"no CUDA driver is loaded ({e})"
        return (f"the CUDA driver ({_cuda_version(driver)}) is older than CuPy's CUDA runtime "
                f"({_cuda_version(runtime)}); install the other cuda extra or update the driver ({e})")
    return f"CuPy found no usable CUDA driver ({e})"


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
        cupy = _import_cupy("the cuda backend")
    except NNSpecRuntimeError as e:
        info["cupy"] = {"available": False, "why": str(e)}
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
        entry["why"] = _cuda_problem(cupy, e)
        if entry.get("cuda_driver") == "0.0":
            entry["cuda_driver"] = "none"
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

"""``nnspec info``: the backends found, with CuPy's versions and devices, or why CuPy can't run."""

from __future__ import annotations

import json
import sys
import types

import numpy as np
from typer.testing import CliRunner

from nnspec.cli import app

runner = CliRunner()


def fake_cupy(devices: int = 1, broken: bool = False) -> types.ModuleType:
    """Enough of CuPy's API for ``describe``: versions, device count, properties and memory."""
    class Runtime:
        def runtimeGetVersion(self):
            return 13000

        def driverGetVersion(self):
            return 13010

        def getDeviceCount(self):
            if broken:
                raise RuntimeError("cudaErrorInsufficientDriver: CUDA driver version is insufficient")
            return devices

        def getDeviceProperties(self, i):
            return {"name": b"NVIDIA H200"}

    class Device:
        def __init__(self, i):
            self.mem_info = (100 * 2**30, 139 * 2**30)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

    cupy = types.ModuleType("cupy")
    cupy.__version__ = "14.2.0"
    cupy.cuda = types.SimpleNamespace(runtime=Runtime(), Device=Device)
    return cupy


def test_info_without_cupy_says_how_to_get_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "cupy", None)  # import cupy raises ImportError
    result = runner.invoke(app, ["info"])
    assert result.exit_code == 0, result.output
    assert f"numpy  {np.__version__}" in result.output
    assert "pip install 'nnspec[cuda12]' or 'nnspec[cuda13]'" in result.output
    data = json.loads(runner.invoke(app, ["info", "--json"]).stdout)
    assert data["cupy"]["available"] is False and data["numpy"]["version"] == np.__version__


def test_info_lists_cuda_versions_and_devices(monkeypatch):
    monkeypatch.setitem(sys.modules, "cupy", fake_cupy(devices=2))
    result = runner.invoke(app, ["info"])
    assert result.exit_code == 0, result.output
    assert "cupy   14.2.0, CUDA runtime 13.0, driver 13.1" in result.output
    assert "cuda:0  NVIDIA H200, 139.0 GiB (100.0 GiB free)" in result.output and "cuda:1" in result.output
    data = json.loads(runner.invoke(app, ["info", "--json"]).stdout)
    assert data["cupy"]["available"] is True and len(data["cupy"]["devices"]) == 2
    assert data["cupy"]["devices"][0]["memory_total"] == 139 * 2**30


def test_info_names_a_driver_problem(monkeypatch):
    monkeypatch.setitem(sys.modules, "cupy", fake_cupy(broken=True))
    result = runner.invoke(app, ["info"])
    assert result.exit_code == 0, result.output
    assert "CuPy found no usable CUDA driver (cudaErrorInsufficientDriver" in result.output

"""``nnspec info``: the backends found, with CuPy's versions and devices, or why CuPy can't run."""

from __future__ import annotations

import json
import sys
import types

import numpy as np
from typer.testing import CliRunner

from nnspec_cli import app

runner = CliRunner()


class CUDARuntimeError(RuntimeError):
    def __init__(self, status: int, text: str):
        super().__init__(text)
        self.status = status


def fake_cupy(devices: int = 1, broken: bool = False, status: int = 35, driver: int = 13010) -> types.ModuleType:
    """Enough of CuPy's API for ``describe``: versions, device count, properties and memory."""
    class Runtime:
        def runtimeGetVersion(self):
            return 13000

        def driverGetVersion(self):
            return driver

        def getDeviceCount(self):
            if broken:
                raise CUDARuntimeError(status, "cudaErrorInsufficientDriver: CUDA driver version is insufficient"
                                       if status == 35 else "cudaErrorNoDevice: no CUDA-capable device is detected")
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
    assert "needs CuPy, which is not installed" in result.output and "cuda12 or cuda13 extra" in result.output
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


def test_info_tells_no_driver_an_old_driver_and_no_device_apart(monkeypatch):
    for fake, says in ((fake_cupy(broken=True, driver=0), "no CUDA driver is loaded"),
                       (fake_cupy(broken=True, driver=12040), "the CUDA driver (12.4) is older than CuPy's CUDA "
                                                               "runtime (13.0); install the other cuda extra"),
                       (fake_cupy(broken=True, status=100), "the CUDA driver finds no GPU")):
        monkeypatch.setitem(sys.modules, "cupy", fake)
        result = runner.invoke(app, ["info"])
        assert result.exit_code == 0 and says in result.output, result.output
        run = runner.invoke(app, ["run", "models/seed/linear.yaml", "-s", "2,20", "--device", "cuda"])
        assert run.exit_code == 1 and says in run.output and "output:" not in run.output


def test_a_broken_cupy_install_is_not_called_missing(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def broken(name, *args, **kwargs):
        if name == "cupy":
            raise ImportError("No module named 'cuda.pathfinder'", name="cuda.pathfinder")
        return real_import(name, *args, **kwargs)

    monkeypatch.delitem(sys.modules, "cupy", raising=False)
    monkeypatch.setattr(builtins, "__import__", broken)
    monkeypatch.setattr("importlib.import_module", lambda name: broken(name))
    result = runner.invoke(app, ["info"])
    assert "CuPy is installed but cannot be imported (No module named 'cuda.pathfinder')" in result.output

"""The dask extra stays optional: ``import nnspec`` (and the command line's start) imports none of it, and
``nnspec predict`` without it says which extra to install, in one line."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from typer.testing import CliRunner

import nnspec
import nnspec_cli.predict  # noqa: F401 - registers the command (whether or not the CLI lists it yet)
from nnspec_cli import app

runner = CliRunner()
CHECK = ("import sys, nnspec, nnspec_cli, nnspec.dask, nnspec.distributed; nnspec.predict; "
         "print(sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed', 'zarr')))")


def test_import_nnspec_imports_no_dask():
    out = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


@pytest.mark.parametrize("missing", ["dask", "distributed", "zarr"])
def test_without_the_extra_predict_says_what_to_install(monkeypatch, tmp_path, missing):
    monkeypatch.setitem(sys.modules, missing, None)  # import fails, as where it isn't installed
    model = tmp_path / "m.yaml"
    model.write_text("Linear: [4, 2]\n")
    r = runner.invoke(app, ["predict", str(model), "-i", str(tmp_path), "-o", str(tmp_path / "o.zarr")])
    assert r.exit_code == 1, r.output
    assert r.stderr.startswith("error: nnspec predict needs the dask extra: pip install 'nnspec[dask]'"), r.stderr
    assert "Traceback" not in r.output
    if missing != "dask":  # map_model needs dask alone
        return
    with pytest.raises(nnspec.NNSpecError, match=r"needs the dask extra: pip install 'nnspec\[dask\]'"):
        nnspec.dask.map_model(str(model), None)


def test_a_zarr_that_writes_chunks_in_place_is_refused(monkeypatch, tmp_path):
    """Before zarr 3.1.3 its local store wrote a chunk in place: a worker killed mid-write left it half written."""
    zarr = pytest.importorskip("zarr") if os.environ.get("NNSPEC_REQUIRE_TOOLS") != "1" else __import__("zarr")
    monkeypatch.setattr(zarr, "__version__", "3.1.2")
    model = tmp_path / "m.yaml"
    model.write_text("Linear: [4, 2]\n")
    r = runner.invoke(app, ["predict", str(model), "-i", str(tmp_path), "-o", str(tmp_path / "o.zarr")])
    assert r.exit_code == 1 and "needs zarr 3.1.3 or later" in r.stderr, r.output

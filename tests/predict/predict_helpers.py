"""What the distributed tests share: the skip (or, with NNSPEC_REQUIRE_TOOLS=1, the failure) where the dask extra
is missing, a tiny model with weights, Zarr and .npy inputs, and the reference: the model run on the whole array in
one process."""

from __future__ import annotations

import os
from pathlib import Path

import numpy
import pytest

REQUIRE = os.environ.get("NNSPEC_REQUIRE_TOOLS") == "1"


def need_dask_extra() -> None:
    """Skip the calling test module where dask, distributed or zarr is missing (fail it under CI)."""
    missing = []
    for name in ("dask", "distributed", "zarr"):
        try:
            __import__(name)
        except ImportError:
            missing.append(name)
    if missing:
        what = f"{', '.join(missing)} not installed (pip install 'nnspec[dask]')"
        if REQUIRE:
            pytest.fail(f"NNSPEC_REQUIRE_TOOLS=1 but {what}", pytrace=False)
        pytest.skip(what, allow_module_level=True)


# 64 features in, 2 out: the output is small beside the input, so the tests' disk and time go to reading
MODEL = """\
type: Sequential
modules:
  - {Linear: [64, 16]}
  - ReLU
  - {Linear: [16, 2]}
"""
FEATURES = 64


def write_model(folder: Path, seed: int = 1) -> tuple[Path, Path]:
    """The model file and a weights file (.npz) for it, in ``folder``."""
    import nnspec

    model = folder / "mlp.yaml"
    model.write_text(MODEL)
    weights = folder / "mlp.npz"
    nnspec.save_weights(nnspec.load(model, seed=seed), weights)
    return model, weights


def reference(model: Path, weights: Path | None, x: numpy.ndarray) -> numpy.ndarray:
    """The model on the whole array at once, in this process, through its plan (as ``nnspec run`` runs it)."""
    import nnspec
    from nnspec.weights import load_into

    net = nnspec.load(model, seed=0)
    if weights is not None:
        load_into(net, weights)
    net.train(False)
    return numpy.asarray(nnspec.compile(net)(x.astype(numpy.float32, copy=False)))


def write_zarr(path: Path, rows: int, chunk_rows: int, *, seed: int = 0, compress: bool = False,
               features: int = FEATURES):
    """A Zarr v3 array of standard normal rows, written chunk by chunk (never whole in memory)."""
    import zarr

    rng = numpy.random.default_rng(seed)
    z = zarr.create_array(store=str(path), shape=(rows, features), chunks=(chunk_rows, features), dtype="float32",
                          compressors="auto" if compress else None)
    for start in range(0, rows, chunk_rows):
        stop = min(start + chunk_rows, rows)
        z[start:stop] = rng.standard_normal((stop - start, features), dtype=numpy.float32)
    return z


def write_npy(folder: Path, sizes: list[int], *, seed: int = 0, features: int = FEATURES) -> numpy.ndarray:
    """``.npy`` files part-0.npy, part-1.npy, ... of these row counts in ``folder``; all their rows, in order."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = numpy.random.default_rng(seed)
    parts = [rng.standard_normal((n, features), dtype=numpy.float32) for n in sizes]
    for i, part in enumerate(parts):
        numpy.save(folder / f"part-{i}.npy", part)
    return numpy.concatenate(parts)


def writes(out: Path) -> dict[int, int]:
    """How many times each chunk of the output at ``out`` was written (its journal of writes)."""
    from collections import Counter

    from nnspec.distributed import read_log

    return dict(Counter(entry["chunk"] for entry in read_log(out)))


def assert_same(y, expected) -> None:
    """Equal to float32 rounding: a batch's rows are summed in another order where BLAS splits the work otherwise
    (its threads, the batch's size), never more than that apart."""
    numpy.testing.assert_allclose(numpy.asarray(y), expected, rtol=1e-5, atol=1e-6)

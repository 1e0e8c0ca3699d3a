"""What the distributed batch inference shares: its errors, the check for the ``[dask]`` extra, and digests.

Nothing here imports Dask or Zarr at import time: ``import nnspec`` must work without them.
"""

from __future__ import annotations

import hashlib
import importlib
import os
import re
from types import ModuleType
from typing import Any

from ..errors import NNSpecError, Position

EXTRA_HINT = "pip install 'nnspec[dask]'"


class PredictError(NNSpecError):
    """A mistake in a batch inference's arguments or data: a missing store, an input that does not fit the model,
    an output folder that holds something else."""

    kind = "predict error"


class BadChunkError(PredictError):
    """An input chunk that could not be read or has the wrong shape (with ``on_bad_chunk="fail"``)."""

    kind = "bad chunk"

    def __init__(self, message: str, *, chunk: int | None = None, path: str | None = None,
                 position: Position | None = None):
        super().__init__(message, path=path, position=position)
        self.chunk = chunk


class MissingExtraError(PredictError):
    """Dask, distributed or Zarr is not installed."""

    kind = "missing extra"


OPEN_ARRAYS = 8  # Zarr arrays a worker keeps open (input and output of the runs it serves), oldest closed first
_open: dict[tuple, Any] = {}


def open_zarr(path: str, digest: str, mode: str) -> Any:
    """The Zarr array at ``path`` opened in ``mode``, once per worker for a run (``digest`` tells runs apart)."""
    key = (path, digest, mode)
    array = _open.get(key)
    if array is None:
        array = _open[key] = need("zarr").open_array(path, mode=mode)
        while len(_open) > OPEN_ARRAYS:
            _open.pop(next(iter(_open)))
    return array


def need(name: str, what: str = "nnspec predict") -> ModuleType:
    """Import ``name`` (dask, dask.array, distributed, zarr) or say which extra brings it."""
    try:
        module = importlib.import_module(name)
    except ImportError as e:
        top = name.split(".")[0]
        raise MissingExtraError(f"{what} needs the dask extra: {EXTRA_HINT} ({top} is missing: {e})") from None
    if name == "zarr" and _version(getattr(module, "__version__", "0")) < ZARR_ATOMIC:
        raise MissingExtraError(f"{what} needs zarr 3.1.3 or later (whose local store writes a chunk atomically), "
                                f"not {module.__version__}: {EXTRA_HINT}")
    return module


# the first zarr whose local store writes each key to a temporary file, then renames it over the key
ZARR_ATOMIC = (3, 1, 3)


def _version(text: str) -> tuple[int, ...]:
    """(3, 1, 6) from '3.1.6', '3.1.6rc1' or '3.1.6.post1'."""
    found = re.match(r"(\d+)(?:\.(\d+))?(?:\.(\d+))?", text)
    return tuple(int(g) for g in found.groups() if g is not None) if found else (0,)


def file_digest(path: str | os.PathLike, what: str = "file") -> str:
    """The SHA-256 of a file's bytes, read in pieces (a weights file may be larger than memory is free)."""
    h = hashlib.sha256()
    try:
        with open(path, "rb") as f:
            while True:
                block = f.read(1 << 22)
                if not block:
                    break
                h.update(block)
    except OSError as e:
        raise PredictError(f"cannot read {what}: {e.strerror or e}", position=Position(str(path))) from None
    return h.hexdigest()


def text_digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def array_digest(a: Any) -> str:
    """The SHA-256 of an array's values (C order, its dtype and shape included), as read or as computed."""
    import numpy

    a = numpy.ascontiguousarray(a)
    h = hashlib.sha256(f"{a.dtype.str}{a.shape}".encode())
    h.update(memoryview(a.reshape(-1).view(numpy.uint8)))
    return h.hexdigest()

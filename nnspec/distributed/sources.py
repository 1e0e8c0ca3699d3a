"""The data a batch inference reads: a Zarr array (v2 or v3) or a folder or glob of ``.npy`` files, as chunks
of rows.

``open_input`` looks at the data on the client, cheaply (a Zarr array's metadata, each ``.npy`` file's header),
and lays it out as chunks along the first axis (the batch axis): a Zarr array's own chunks, or one chunk per
file. A worker reads one chunk with ``read_chunk`` and checks it is what the layout says, so that a corrupt or
wrong-shaped chunk is reported with its index, never run or written.
"""

from __future__ import annotations

import glob as globbing
import hashlib
import json
import os
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy

from .common import BadChunkError, PredictError, need, open_zarr

GLOB_CHARS = re.compile(r"[*?\[]")


@dataclass(frozen=True)
class Chunk:
    """Rows ``start:stop`` of the input, the ``index``-th chunk (a ``.npy`` file's chunk names the file)."""

    index: int
    start: int
    stop: int
    file: str | None = None

    @property
    def rows(self) -> int:
        return self.stop - self.start

    def describe(self) -> str:
        where = f"rows {self.start}-{self.stop - 1}" if self.stop > self.start else "no rows"
        return f"input chunk {self.index} ({Path(self.file).name + ', ' if self.file else ''}{where})"


@dataclass(frozen=True)
class InputRef:
    """What a worker needs to read chunks: the kind, the Zarr array's path, each row's shape, and the digest of
    the layout (a worker's open array is kept per digest)."""

    kind: str  # "zarr" or "npy"
    path: str
    sample: tuple
    digest: str


@dataclass
class Input:
    """An input laid out in chunks, with the chunks found wrong from their description alone (``bad``: index to
    message) and what it is, for the manifest."""

    ref: InputRef
    chunks: list[Chunk]
    dtype: numpy.dtype
    chunk_rows: int
    bad: dict[int, str] = field(default_factory=dict)

    @property
    def rows(self) -> int:
        return self.chunks[-1].stop if self.chunks else 0

    @property
    def sample(self) -> tuple:
        return self.ref.sample


def open_input(data: str | os.PathLike) -> Input:
    """The input at ``data``: a Zarr array store (or a group holding one array), a folder of ``.npy`` files, a
    glob of them (``'parts/*.npy'``), or one ``.npy`` file."""
    text = os.fspath(data)
    if GLOB_CHARS.search(text) and not Path(text).exists():
        files = sorted((f for f in globbing.glob(text) if f.endswith(".npy") and Path(f).is_file()), key=_natural)
        if not files:
            raise PredictError(f"no .npy files match {text!r}")
        return _npy(files)
    p = Path(text)
    if not p.exists():
        raise PredictError(f"no such input: {text!r} (give a Zarr store, a folder of .npy files or a glob of them)")
    if p.is_file():
        if p.suffix != ".npy":
            raise PredictError(f"input {text!r} is a file but not a .npy file; give a Zarr store, a folder of "
                               ".npy files or a glob of them")
        return _npy([text])
    if any((p / marker).is_file() for marker in ("zarr.json", ".zarray", ".zgroup")):
        return _zarr(p)
    files = sorted((str(f) for f in p.glob("*.npy") if f.is_file()), key=_natural)
    if not files:
        raise PredictError(f"input {text!r} is neither a Zarr store (no zarr.json or .zarray) nor a folder of "
                           ".npy files")
    return _npy(files)


def _natural(name: str) -> list:
    """part-2.npy before part-10.npy."""
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", name)]


# ------------------------------------------------------------------------------------------------- Zarr

def _open_zarr(path: Path) -> tuple[Any, Path]:
    zarr = need("zarr")
    try:
        node = zarr.open(str(path), mode="r")
    except Exception as e:  # noqa: BLE001 - a store zarr cannot read, whatever zarr raises
        raise PredictError(f"cannot open the Zarr store {str(path)!r}: {type(e).__name__}: {e}") from None
    if isinstance(node, zarr.Group):
        arrays = sorted(name for name, _ in node.arrays())
        if len(arrays) != 1:
            names = ", ".join(repr(a) for a in arrays[:10]) or "none"
            raise PredictError(f"the Zarr group {str(path)!r} holds {len(arrays)} arrays ({names}); give the "
                               f"array's own path, {str(path / (arrays[0] if arrays else 'NAME'))!r}")
        return _open_zarr(path / arrays[0])
    return node, path


def _zarr(path: Path) -> Input:
    array, path = _open_zarr(path)
    if array.ndim < 1:
        raise PredictError(f"the Zarr array {str(path)!r} is a scalar; predict needs rows (a first, batch axis)")
    dtype = numpy.dtype(array.dtype)
    if dtype.kind not in "fiub":
        raise PredictError(f"the Zarr array {str(path)!r} holds {dtype}; give an array of numbers")
    rows, step = int(array.shape[0]), int(array.chunks[0])
    meta = json.dumps(array.metadata.to_dict(), sort_keys=True, default=str)
    digest = hashlib.sha256(f"zarr\n{meta}".encode()).hexdigest()
    chunks = [Chunk(i, start, min(start + step, rows)) for i, start in enumerate(range(0, rows, step))]
    ref = InputRef("zarr", str(path.resolve()), tuple(int(s) for s in array.shape[1:]), digest)
    return Input(ref, chunks, dtype, step)


# ------------------------------------------------------------------------------------------------- .npy

def _header(file: str) -> tuple[tuple, numpy.dtype]:
    fmt = numpy.lib.format
    with open(file, "rb") as f:
        major, _ = fmt.read_magic(f)
        read = fmt.read_array_header_1_0 if major == 1 else fmt.read_array_header_2_0
        shape, _, dtype = read(f)
    return tuple(int(s) for s in shape), numpy.dtype(dtype)


def _npy(files: list[str]) -> Input:
    files = [str(Path(f).resolve()) for f in files]  # as a worker finds them, whatever its folder
    headers: list[tuple[tuple, numpy.dtype] | str] = []
    for f in files:
        try:
            headers.append(_header(f))
        except (OSError, ValueError, SyntaxError, TypeError) as e:
            headers.append(f"cannot read its .npy header ({type(e).__name__}: {e})")
    good = [h for h in headers if not isinstance(h, str) and len(h[0]) >= 1 and h[1].kind in "fiub"]
    if not good:
        first = headers[0]
        why = first if isinstance(first, str) else f"shape {first[0]} {first[1]}"
        raise PredictError(f"no .npy file of the input holds rows of numbers ({Path(files[0]).name}: {why})")
    sample, dtype = Counter((h[0][1:], h[1].str) for h in good).most_common(1)[0][0]
    dtype = numpy.dtype(dtype)
    # the chunk size: the row count most files but the last have (the last may have fewer)
    bodies = headers[:-1] if len(headers) > 1 else headers
    counts = Counter(h[0][0] for h in bodies if not isinstance(h, str) and len(h[0]) >= 1 and h[0][1:] == sample)
    counts.pop(0, None)
    step = counts.most_common(1)[0][0] if counts else max(max(h[0][0] for h in good if h[0][1:] == sample), 1)
    chunks, bad, start = [], {}, 0
    for i, (f, h) in enumerate(zip(files, headers)):
        last = i == len(files) - 1
        fits = last and not isinstance(h, str) and len(h[0]) >= 1 and 1 <= h[0][0] <= step
        rows = h[0][0] if fits else step
        chunk = Chunk(i, start, start + rows, f)
        chunks.append(chunk)
        start += rows
        why = _wrong(h, (rows, *sample), last, step)
        if why is not None:
            bad[i] = f"{chunk.describe()}: {why}"
    names = [Path(f).name for f in files]
    shapes = [list(h[0]) + [h[1].str] if not isinstance(h, str) else None for h in headers]
    digest = hashlib.sha256(json.dumps({"npy": names, "shapes": shapes}).encode()).hexdigest()
    ref = InputRef("npy", str(Path(files[0]).resolve().parent), tuple(sample), digest)
    return Input(ref, chunks, dtype, step, bad)


def _wrong(header: tuple | str, want: tuple, last: bool, step: int) -> str | None:
    if isinstance(header, str):
        return header
    shape, dtype = header
    if dtype.kind not in "fiub":
        return f"holds {dtype}, not numbers"
    if len(shape) < 1 or shape[1:] != want[1:]:
        return f"its rows are {shape[1:]} where the input's are {want[1:]}"
    if shape[0] != want[0]:
        more = "1 to " if last else ""
        return f"has {shape[0]} rows where {more}{step} were expected"
    return None


# ------------------------------------------------------------------------------------------------- reading

def read_chunk(ref: InputRef, chunk: Chunk) -> numpy.ndarray:
    """Chunk ``chunk`` of the input, checked: a chunk that can't be read (a corrupt Zarr chunk, a truncated
    file) or has the wrong shape raises BadChunkError with its index."""
    want = (chunk.rows, *ref.sample)
    try:
        if ref.kind == "zarr":
            x = numpy.asarray(open_zarr(ref.path, ref.digest, "r")[chunk.start:chunk.stop])
        else:
            x = numpy.load(chunk.file, allow_pickle=False)
    except Exception as e:  # noqa: BLE001 - whatever a corrupt chunk makes the decoder raise
        raise BadChunkError(f"{chunk.describe()}: cannot read it ({type(e).__name__}: {e})",
                            chunk=chunk.index) from None
    if not isinstance(x, numpy.ndarray) or x.dtype.kind not in "fiub":
        kind = f"dtype {x.dtype}" if isinstance(x, numpy.ndarray) else type(x).__name__
        raise BadChunkError(f"{chunk.describe()}: holds {kind}, not numbers", chunk=chunk.index)
    if tuple(x.shape) != want:
        raise BadChunkError(f"{chunk.describe()}: shape {tuple(x.shape)} where {want} was expected",
                            chunk=chunk.index)
    return x

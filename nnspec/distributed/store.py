"""The output: a Zarr v3 array with one chunk per input chunk, and beside its data, in ``.nnspec/``, what makes a
run resumable and each chunk trustworthy.

- ``.nnspec/manifest.json``: what the output is the output of (the model file's, the weights file's and the
  input's digests, the dtype, the seed of weights not loaded) and its shape. A rerun whose manifest is the same
  resumes; one whose manifest differs is refused (``overwrite`` starts over).
- ``.nnspec/chunks/I.json``, per chunk written: the digest of the input chunk it was computed from and of the
  output chunk as read back after it was written. A rerun skips a chunk whose record, input and output agree.
- ``.nnspec/writes.log``: one line per chunk written, by whom and when (appended, never rewritten).

Zarr's local store (from zarr 3.1.3, which ``common.need`` asks for) writes each chunk to a temporary file and
renames it over the chunk's key, so a chunk is there whole or not at all; its record is written the same way,
after it. A worker killed between the two leaves a chunk without a record, which the next run (or Dask,
recomputing the task) writes again.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..files import save_atomic
from .common import PredictError, need, open_zarr

FORMAT = 1
META = ".nnspec"


@dataclass(frozen=True)
class OutputRef:
    """What a worker needs to write chunks: the store's path and the digest of its manifest's identity."""

    path: str
    digest: str

    @property
    def meta(self) -> Path:
        return Path(self.path) / META

    def record_path(self, index: int) -> Path:
        return self.meta / "chunks" / f"{index}.json"


def identity_digest(identity: dict) -> str:
    return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()


def check_store(path: str | os.PathLike, identity: dict, overwrite: bool = False) -> str:
    """What ``open_output`` will do with ``path``, found without writing anything: "new" (nothing there, or an
    empty folder), "resume" (this same run's output) or "overwrite" (another run's, with ``overwrite``); any
    other folder or file is refused."""
    p = Path(path).resolve()
    if p.exists() and not p.is_dir():
        raise PredictError(f"output {str(path)!r} is a file, not a Zarr store; give a new folder's path")
    if not p.is_dir() or not any(p.iterdir()):
        return "new"
    manifest = p / META / "manifest.json"
    if not manifest.is_file():
        raise PredictError(f"output {str(path)!r} exists and was not written by nnspec predict (it has no "
                           f"{META}/manifest.json): not touching it; give a new folder's path")
    try:
        old = json.loads(manifest.read_text())["identity"]
    except (OSError, ValueError, KeyError, TypeError):
        old = None
    if old == identity:
        return "resume"
    if not overwrite:
        raise PredictError(f"output {str(path)!r} holds {_differs(old, identity)}; give --overwrite to start "
                           "over, or a new --output")
    return "overwrite"


def open_output(path: str | os.PathLike, identity: dict, *, shape: tuple, chunks: tuple, dtype: str,
                overwrite: bool = False, about: dict | None = None) -> tuple[OutputRef, bool]:
    """The output store at ``path``, made (or, where it holds this same run's output, reopened: the second value
    says so; see ``check_store``). ``identity`` is what must agree for a rerun to resume; ``about`` is recorded
    beside it."""
    zarr = need("zarr")
    how = check_store(path, identity, overwrite)
    p = Path(path).resolve()
    if how == "overwrite":
        shutil.rmtree(p)
    resumed = how == "resume"
    manifest_path = p / META / "manifest.json"
    (p / META / "chunks").mkdir(parents=True, exist_ok=True)
    if not resumed:  # the manifest first: a folder with one is nnspec's to resume or to overwrite
        document = {"format": FORMAT, "identity": identity, "about": about or {}}
        save_atomic(manifest_path, lambda f: f.write(json.dumps(document, indent=2, sort_keys=True).encode()))
    fill = float("nan") if dtype.startswith(("float", "complex")) else 0
    try:
        existing = zarr.open_array(str(p), mode="r") if (p / "zarr.json").is_file() else None
    except Exception:  # noqa: BLE001 - metadata half made by a run that was stopped: made again below
        existing = None
    if existing is None or tuple(existing.shape) != tuple(shape) or str(existing.dtype) != dtype \
            or tuple(existing.chunks) != tuple(chunks):
        # (zarr's overwrite=True would empty the whole folder, .nnspec/ included: only the metadata goes)
        (p / "zarr.json").unlink(missing_ok=True)
        zarr.create_array(store=str(p), shape=shape, chunks=chunks, dtype=dtype, fill_value=fill, zarr_format=3,
                          config={"write_empty_chunks": True})
    if resumed:
        _sweep(p)
    return OutputRef(str(p), identity_digest(identity)), resumed


def _differs(old: dict | None, new: dict) -> str:
    if old is None:
        return "the output of an nnspec predict whose manifest can't be read"
    for key, what in (("model", "another model file"), ("weights", "other weights"), ("input", "another input"),
                      ("dtype", "another dtype"), ("seed", "another --seed"), ("output", "an output of another "
                                                                                           "shape")):
        if old.get(key) != new.get(key):
            return f"the output of a run with {what}"
    return "the output of another run"


def _sweep(p: Path) -> None:
    """Remove the temporary files of writes a stopped run left (Zarr's ``*.partial``, ``save_atomic``'s dot
    files in the records)."""
    for folder, _, files in os.walk(p):
        for name in files:
            if name.endswith(".partial") or (folder.endswith("chunks") and name.startswith(".")):
                Path(folder, name).unlink(missing_ok=True)


# ------------------------------------------------------------------------------------------------- a worker's side

def output_array(ref: OutputRef) -> Any:
    return open_zarr(ref.path, ref.digest, "r+")


def read_record(ref: OutputRef, index: int) -> dict | None:
    try:
        record = json.loads(ref.record_path(index).read_text())
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None


def write_record(ref: OutputRef, index: int, record: dict) -> None:
    save_atomic(ref.record_path(index), lambda f: f.write(json.dumps(record, sort_keys=True).encode()))


def log_write(ref: OutputRef, index: int, rows: int) -> None:
    """One line in the journal of writes: appended in one write(2) call, so lines from workers never interleave."""
    line = json.dumps({"chunk": index, "rows": rows, "time": round(time.time(), 3),
                       "worker": f"{socket.gethostname()}:{os.getpid()}"}) + "\n"
    fd = os.open(ref.meta / "writes.log", os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
    try:
        os.write(fd, line.encode())
    finally:
        os.close(fd)


def read_log(path: str | os.PathLike) -> list[dict]:
    """The journal of writes of the output at ``path``: one entry per chunk written, oldest first."""
    try:
        text = (Path(path) / META / "writes.log").read_text()
    except FileNotFoundError:
        return []
    return [json.loads(line) for line in text.splitlines() if line.strip()]

"""``nnspec.predict``: a model run over a dataset larger than memory, chunk by chunk, on a Dask cluster, into a
Zarr store, resumable and losing nothing.

The client looks at the input (``sources``) and checks the model on it statically (shapes, the output's shape,
the memory a worker needs) before anything runs; then makes or reopens the output (``store``) and submits one
task per input chunk. A task, on a worker (``run_chunk``):

1. reads its input chunk and checks its shape (a bad chunk is reported with its index, never run or written);
2. skips the chunk where its record says it was written from this same input chunk by this same run and the
   output chunk still reads back as recorded;
3. else runs the model on it in batches (the worker's model is built once, ``worker.loaded``), writes the output
   chunk (atomically: Zarr's local store renames a complete file over the chunk's key), reads it back, and
   records its digests.

A task returns what it did rather than raising, so that Dask does not retry a chunk that is bad; a worker that
dies is another matter: Dask runs its tasks again elsewhere, and since a task writes its whole chunk at once and
skips a chunk already recorded, a chunk is never written half, and written again only where a worker died
between writing it and recording it.
"""

from __future__ import annotations

import logging
import math
import os
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy

from ..errors import NNSpecError, Position
from ..progress import Progress, quiet
from .common import BadChunkError, PredictError, array_digest, file_digest, need, text_digest
from .sources import Chunk, Input, InputRef, open_input, read_chunk
from .store import OutputRef, check_store, log_write, open_output, output_array, read_record, write_record
from .worker import ModelRef, describe_error, loaded, rebuild_error

BAD_CHUNK = ("fail", "skip")
MAX_BATCH = 4096
# what a batch's activations may take of a worker's memory, where the batch size is not given
BATCH_SHARE = 8
DEFAULT_BATCH_BYTES = 256 << 20


@dataclass(frozen=True)
class Job:
    """One run, as each task gets it (small: the chunks go separately)."""

    model: ModelRef
    input: InputRef
    output: OutputRef
    batch: int
    out_sample: tuple
    out_dtype: str


@dataclass
class ChunkResult:
    """What a task did with its chunk: ``status`` written, skipped (written before, verified), bad or error."""

    chunk: int
    status: str
    rows: int = 0
    message: str = ""
    seconds: float = 0.0
    built: bool = False
    worker: str = ""
    error: dict | None = None


@dataclass
class Summary:
    """What ``predict`` did: chunks written now, skipped (written before and verified), bad; rows, and the time
    from the workers being ready to the last chunk's end (``seconds``)."""

    input: str
    output: str
    chunks: int
    rows: int
    written: int = 0
    skipped: int = 0
    bad: list[dict] = field(default_factory=list)
    rows_written: int = 0
    seconds: float = 0.0
    workers: int = 0
    model_loads: int = 0
    batch_size: int = 0
    cluster: str = ""
    resumed: bool = False

    @property
    def rows_per_second(self) -> float:
        return self.rows_written / self.seconds if self.seconds > 0 else 0.0

    def to_json(self) -> dict:
        d = asdict(self)
        d["rows_per_second"] = round(self.rows_per_second, 1)
        d["seconds"] = round(self.seconds, 3)
        return d


# ------------------------------------------------------------------------------------------------- a task

def run_chunk(job: Job, chunk: Chunk) -> dict:
    """Read, check, run, write and record one chunk (see the module's doc); what was done, as a dict."""
    start = time.perf_counter()
    try:
        result = _run_chunk(job, chunk)
    except NNSpecError as e:
        result = ChunkResult(chunk.index, "error", message=str(e), error=describe_error(e))
    except Exception as e:  # noqa: BLE001 - a bug: reported by the client as an internal error
        result = ChunkResult(chunk.index, "error", message=f"{type(e).__name__}: {e}", error=describe_error(e))
    result.seconds = time.perf_counter() - start
    result.worker = f"{os.uname().nodename}:{os.getpid()}"
    return asdict(result)


def _run_chunk(job: Job, chunk: Chunk) -> ChunkResult:
    record = read_record(job.output, chunk.index)
    try:
        x = read_chunk(job.input, chunk)
    except BadChunkError as e:
        return ChunkResult(chunk.index, "bad", message=e.message)
    source = array_digest(x)
    array = output_array(job.output)
    if record is not None and record.get("run") == job.output.digest and record.get("input") == source \
            and record.get("rows") == [chunk.start, chunk.stop]:
        try:
            if array_digest(array[chunk.start:chunk.stop]) == record.get("output"):
                return ChunkResult(chunk.index, "skipped", rows=chunk.rows)
        except Exception:  # noqa: BLE001 - an output chunk that no longer decodes: written again
            pass
    model, built = loaded(job.model)
    try:
        y = model.run(x, job.batch)
    except PredictError:
        raise
    except NNSpecError as e:  # a failure on these values (a token id out of range): the chunk's, not the model's
        return ChunkResult(chunk.index, "bad", message=f"{chunk.describe()}: the model failed on it: {e}",
                           built=built)
    want = (chunk.rows, *job.out_sample)
    if tuple(y.shape) != want:
        raise PredictError(f"{chunk.describe()}: the model's output is {tuple(y.shape)}, not the {want} its static "
                           "check found")
    if y.dtype != numpy.dtype(job.out_dtype):
        if not numpy.can_cast(y.dtype, job.out_dtype, "same_kind"):
            raise PredictError(f"{chunk.describe()}: the model's output is {y.dtype}, not {job.out_dtype}")
        y = y.astype(job.out_dtype)
    array[chunk.start:chunk.stop] = y  # one whole chunk: Zarr writes it to a temporary file, then renames it
    written = array_digest(array[chunk.start:chunk.stop])
    if written != array_digest(y):
        raise PredictError(f"{chunk.describe()}: the output chunk read back differs from what was written")
    log_write(job.output, chunk.index, chunk.rows)
    write_record(job.output, chunk.index, {"chunk": chunk.index, "rows": [chunk.start, chunk.stop],
                                           "run": job.output.digest, "input": source, "output": written})
    return ChunkResult(chunk.index, "written", rows=chunk.rows, built=built)


# ------------------------------------------------------------------------------------------------- the client

def predict(model: str | os.PathLike, input: str | os.PathLike, output: str | os.PathLike, *,
            weights: str | os.PathLike | None = None, batch_size: int | None = None, cluster: Any = None,
            workers: int | None = None, memory_limit: int | str | None = None, device: str = "cpu",
            dtype: str = "float32", seed: int = 0, on_bad_chunk: str = "fail", overwrite: bool = False,
            progress: Progress | None = None, on_chunk: Callable[[ChunkResult], None] | None = None) -> Summary:
    """Run the model file ``model`` over every row of ``input`` and write its output to the Zarr store ``output``,
    one output chunk per input chunk; return a ``Summary``.

    ``input`` is a Zarr array (v2 or v3; or a group holding one), a folder of ``.npy`` files or a glob of them
    (one chunk per file, in natural order: part-2 before part-10). The model runs in eval mode on batches of
    ``batch_size`` rows (default: as many as fit an eighth of a worker's memory, up to a chunk or MAX_BATCH),
    with ``weights`` loaded (a .safetensors, .npz or .pt file), else initialised from ``seed``.

    It runs on the Dask cluster ``cluster`` (a scheduler's address, ``tcp://...``, or a ``distributed.Client``),
    whose workers must see the same files; else on a local cluster of ``workers`` processes (default: one per
    core, one for a GPU) of ``memory_limit`` each (bytes or "2GiB"; default: the memory shared out). Each worker
    builds the model once.

    A rerun with the same model, weights and input resumes: chunks written and verified are skipped. A chunk that
    can't be read or has the wrong shape stops the run (``on_bad_chunk="fail"``: a BadChunkError naming it) or is
    left unwritten and listed in the summary (``"skip"``). ``progress`` hears ``("checking", 0, None)``,
    ``("starting workers", 0, None)`` and ``("predicting", chunks done, chunks)``; ``on_chunk`` gets each chunk's
    ``ChunkResult`` as it comes.
    """
    progress = progress or quiet
    if on_bad_chunk not in BAD_CHUNK:
        raise PredictError(f"on_bad_chunk must be one of {', '.join(BAD_CHUNK)}, not {on_bad_chunk!r}")
    if batch_size is not None and batch_size < 1:
        raise PredictError(f"the batch size must be 1 or more, not {batch_size}")
    if workers is not None and workers < 1:
        raise PredictError(f"the number of workers must be 1 or more, not {workers}")
    if cluster is not None and (workers is not None or memory_limit is not None):
        raise PredictError("workers and memory_limit size a local cluster; an existing cluster (cluster=) has its own")
    for name in ("dask", "distributed", "zarr"):
        need(name)
    out_path = Path(output)
    if not out_path.resolve().parent.is_dir():
        raise PredictError(f"the folder of the output {str(output)!r} does not exist")

    progress("checking", 0, None)
    data = open_input(input)
    if not data.chunks:
        raise PredictError(f"input {os.fspath(input)!r} has no rows")
    checked = check_model(model, data.sample, data.dtype, weights=weights, dtype=dtype, seed=seed, device=device)
    bad = [{"chunk": i, "message": m} for i, m in sorted(data.bad.items())]
    if bad and on_bad_chunk == "fail":
        raise BadChunkError(_bad_message(bad), chunk=bad[0]["chunk"])
    identity = {"model": checked.ref.sha256, "weights": checked.ref.weights_sha256, "input": data.ref.digest,
                "dtype": dtype, "seed": seed if weights is None else None,
                "output": {"shape": [data.rows, *checked.out_sample], "dtype": checked.out_dtype,
                           "chunk_rows": data.chunk_rows}}
    about = {"model": checked.ref.path, "weights": checked.ref.weights, "input": os.fspath(input)}
    check_store(output, identity, overwrite)  # another run's output is refused before any worker starts
    todo = [c for c in data.chunks if c.index not in data.bad]
    summary = Summary(os.fspath(input), os.fspath(output), len(data.chunks), data.rows, bad=bad)

    if on_chunk is not None:  # the bad chunks found from the input's description (a .npy file's header)
        for b in bad:
            on_chunk(ChunkResult(b["chunk"], "bad", message=b["message"]))
    progress("starting workers", 0, None)
    with _client(cluster, workers, memory_limit, device) as (client, where):
        limits = _worker_limits(client, where)
        started = time.perf_counter()
        summary.workers, summary.cluster = len(limits), where
        batch = batch_size or checked.default_batch(data.chunk_rows, min(limits) if all(limits) else None)
        summary.batch_size = batch
        _check_worker_memory(checked, data, batch, limits)
        out_ref, summary.resumed = open_output(output, identity, shape=(data.rows, *checked.out_sample),
                                               chunks=(data.chunk_rows, *checked.out_sample),
                                               dtype=checked.out_dtype, overwrite=overwrite, about=about)
        job = Job(checked.ref, data.ref, out_ref, batch, checked.out_sample, checked.out_dtype)
        run = uuid.uuid4().hex[:8]
        futures = client.map(run_chunk, [job] * len(todo), todo, key=[f"nnspec-predict-{run}-{c.index}" for c in todo],
                             pure=False, retries=0)
        by_key = {f.key: c for f, c in zip(futures, todo)}
        progress("predicting", 0, len(todo))
        distributed = need("distributed")
        done = 0
        try:
            for future in distributed.as_completed(futures, loop=client.loop):
                chunk = by_key[future.key]
                try:
                    result = ChunkResult(**future.result())
                except Exception as e:  # noqa: BLE001 - the task itself failed, not what it ran: see _lost
                    raise _lost(chunk, e) from None
                future.release()
                done += 1
                summary.model_loads += result.built
                if result.status == "written":
                    summary.written += 1
                    summary.rows_written += result.rows
                elif result.status == "skipped":
                    summary.skipped += 1
                elif result.status == "bad":
                    summary.bad.append({"chunk": result.chunk, "message": result.message})
                    if on_bad_chunk == "fail":
                        raise BadChunkError(result.message, chunk=result.chunk)
                else:
                    raise rebuild_error(result.error) if result.error else PredictError(result.message)
                if on_chunk is not None:
                    on_chunk(result)
                progress("predicting", done, len(todo))
        except BaseException:
            client.cancel([f for f in futures if not f.done()])
            raise
        summary.seconds = time.perf_counter() - started
    summary.bad.sort(key=lambda b: b["chunk"])
    return summary


def _lost(chunk: Chunk, e: Exception) -> PredictError:
    """A task that returned nothing: its workers died running it (Dask's KilledWorker, after a few), or could
    not run it at all (a worker without nnspec)."""
    if type(e).__name__ == "KilledWorker":
        return PredictError(f"{chunk.describe()}: every worker that ran it died ({e}); did they run out of memory? "
                            "give a smaller --batch-size, or the workers more memory")
    if isinstance(e, ImportError):
        return PredictError(f"{chunk.describe()}: a worker could not run it ({type(e).__name__}: {e}); install "
                            "nnspec[dask] where the workers run")
    return PredictError(f"{chunk.describe()}: its task failed on the cluster ({type(e).__name__}: {e})")


def _bad_message(bad: list[dict]) -> str:
    more = f" (and {len(bad) - 1} more bad chunk{'s' * (len(bad) > 2)})" if len(bad) > 1 else ""
    return f"{bad[0]['message']}{more}; --on-bad-chunk skip leaves bad chunks out"


# ------------------------------------------------------------------------------------------------- the model, checked

@dataclass
class Checked:
    """The model as the client checked it: its reference for the workers, its output's row shape and dtype, and
    the bytes a worker needs for it: state, and activations for one row and per further row."""

    ref: ModelRef
    out_sample: tuple
    out_dtype: str
    state_bytes: int
    one_row: int | None
    per_row: int | None

    def activations(self, batch: int) -> int | None:
        if self.one_row is None or self.per_row is None:
            return None
        return self.one_row + self.per_row * (batch - 1)

    def default_batch(self, chunk_rows: int, limit: int | None) -> int:
        budget = limit // BATCH_SHARE if limit else DEFAULT_BATCH_BYTES
        per_row = max(self.per_row or 0, 1)
        return int(max(1, min(chunk_rows, MAX_BATCH, budget // per_row)))


def check_model(model: str | os.PathLike, sample: tuple, in_dtype: numpy.dtype, *, weights: Any = None,
                dtype: str = "float32", seed: int = 0, device: str = "cpu") -> Checked:
    """Check the model file on rows of shape ``sample``, statically (nothing allocated; the weights, where given,
    against the model): every layer's shapes, and that the output has the input's rows on its first axis."""
    from ..builder import Source
    from ..runtime.backend import resolve_dtype
    from ..spec import parse, read
    from ..weights import load_weights, prepare

    resolve_dtype(dtype)
    text, filename = read(model)
    source = Source(parse(text, filename), filename, text)
    meta = source.build(meta=True).to(dtype)
    weights_path = weights_sha = None
    if weights is not None:
        weights_path = str(Path(weights).resolve())
        prepare(meta, load_weights(weights), str(weights))  # every mismatch, placed in the model file
        weights_sha = file_digest(weights, "weights file")
    out_sample, out_dtype, one, two = _rows_out(meta, sample, in_dtype, dtype, Position(filename))
    ref = ModelRef(str(Path(model).resolve()), text_digest(text), weights_path, weights_sha, dtype, device, seed)
    per_row = None if one.activation_peak is None or two.activation_peak is None \
        else max(two.activation_peak - one.activation_peak, 0)
    return Checked(ref, out_sample, out_dtype, one.param_bytes + one.buffer_bytes, one.activation_peak, per_row)


def check_output(model: Any, sample: tuple, in_dtype: numpy.dtype) -> tuple[tuple, str]:
    """The row shape and dtype of a built model's output on rows of shape ``sample``, found statically."""
    dtype = next((str(p.dtype) for p in model.parameters()), "float32")
    where = model.__dict__.get("_spec_position")
    return _rows_out(model, sample, in_dtype, dtype, Position(where.file) if where is not None else None)[:2]


def _rows_out(model: Any, sample: tuple, in_dtype: numpy.dtype, dtype: str, where: Position | None) -> tuple:
    from .. import static
    from ..runtime.meta import DataDependentError
    from ..runtime.symbolic import Dim

    kinds = [str(in_dtype) if in_dtype.kind in "iub" else None]
    n = Dim.symbol("N")
    try:
        found = static.infer(model, [(n, *sample)], dtype=dtype, input_dtypes=kinds)
        one, two = (static.infer(model, [(b, *sample)], dtype=dtype, input_dtypes=kinds) for b in (1, 2))
    except DataDependentError as e:
        raise PredictError(f"the output's shape depends on the input's values ({e}); predict needs it known "
                           "ahead, to make the output store", position=where) from None
    out = found.output
    shape = getattr(out, "shape", None)
    if shape is None or not hasattr(out, "dtype"):
        raise PredictError(f"the model returns {found.output_shape}, not one array: predict writes a model's "
                           "single output", position=where)
    first = shape[0] if len(shape) else None
    if first is None or getattr(first, "poly", None) != n.poly or any(not isinstance(s, int) for s in shape[1:]):
        rows = ", ".join(["N", *map(str, sample)])
        raise PredictError(f"on input ({rows}) the model's output is {found.output_shape}: predict needs one "
                           "output row per input row, on the first axis", position=where)
    return tuple(int(s) for s in shape[1:]), str(numpy.dtype(out.dtype)), one, two


def _check_worker_memory(checked: Checked, data: Input, batch: int, limits: list[int]) -> None:
    """Refuse, before anything runs, a batch or chunk size a worker's memory can't hold: the model, an input
    chunk (and its batch cast), the output chunk (and its copy read back) and the batch's activations."""
    known = [m for m in limits if m]
    if not known:
        return
    rows = data.chunk_rows
    item = numpy.dtype(checked.ref.dtype).itemsize
    row_in = math.prod(data.sample) * max(data.dtype.itemsize, item)
    row_out = math.prod(checked.out_sample) * numpy.dtype(checked.out_dtype).itemsize
    activations = checked.activations(batch) or 0
    need_bytes = checked.state_bytes + rows * row_in + batch * row_in + 2 * rows * row_out + activations
    limit = min(known)
    if need_bytes > limit // 2:
        raise PredictError(
            f"a worker would hold about {need_bytes:,} bytes at once (the model {checked.state_bytes:,}, an input "
            f"chunk of {rows} rows {rows * row_in:,}, its output twice {2 * rows * row_out:,}, activations of a "
            f"batch of {batch} {activations:,}), more than half its memory limit of {limit:,}: give a smaller "
            "--batch-size, rechunk the input, or give the workers more memory")


# ------------------------------------------------------------------------------------------------- the cluster

@contextmanager
def _client(cluster: Any, workers: int | None, memory_limit: Any, device: str) -> Iterator[tuple[Any, str]]:
    """A Dask client: on ``cluster`` (an address or a Client), else on a local cluster it makes and closes."""
    distributed = need("distributed")
    if isinstance(cluster, distributed.Client):
        yield cluster, str(cluster.scheduler.address)
        return
    if cluster is not None:
        address = str(getattr(cluster, "scheduler_address", cluster))
        try:
            client = distributed.Client(address, timeout="10s", set_as_default=False)
        except (OSError, TimeoutError, ValueError) as e:
            raise PredictError(f"cannot reach the Dask scheduler at {address!r}: {e}") from None
        try:
            yield client, address
        finally:
            client.close()
        return
    n = workers or (1 if device != "cpu" else _cores())
    local = distributed.LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                                     memory_limit=memory_limit if memory_limit is not None else "auto",
                                     dashboard_address=":0", silence_logs=logging.ERROR)
    try:
        client = distributed.Client(local, set_as_default=False)
        try:
            yield client, "local"
        finally:
            client.close()
    finally:
        local.close()


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def _worker_limits(client: Any, where: str) -> list[int]:
    """Each worker's memory limit in bytes (0: none), once at least one worker is there."""
    try:
        client.wait_for_workers(1, timeout=60)
    except TimeoutError:
        raise PredictError(f"the Dask cluster at {where!r} has no workers") from None
    try:
        workers = client.scheduler_info(n_workers=-1)["workers"]
    except TypeError:  # distributed before 2025: every worker, always
        workers = client.scheduler_info()["workers"]
    return [int(w.get("memory_limit") or 0) for w in workers.values()]

"""``nnspec predict``: a model over a dataset larger than memory, on a Dask cluster, into a Zarr store."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated, Optional

import typer

from .common import JsonOpt, ModelArg, app, echo, guard, progress_bar
from .options import DtypeOpt, check_dtype

BAD_CHUNK = ("fail", "skip")


@app.command()
def predict(
    model: ModelArg,
    input: Annotated[str, typer.Option(
        "--input", "-i", metavar="DATA", help="The data: a Zarr array store (v2 or v3), a folder of .npy files, "
        "or a glob of them in quotes ('parts/*.npy'). The first axis is the batch axis.", show_default=False)],
    output: Annotated[Path, typer.Option(
        "--output", "-o", metavar="OUT", help="The Zarr store to write, one chunk per input chunk; a rerun "
        "resumes it.", show_default=False)],
    weights: Annotated[Optional[Path], typer.Option(
        "--weights", "-w", metavar="FILE", help="Load the model's state from this file: .safetensors, .npz, or "
        "PyTorch's .pt/.pth.")] = None,
    batch_size: Annotated[Optional[int], typer.Option(
        "--batch-size", "-b", metavar="N", min=1, help="Rows the model runs on at once. Default: as many as fit an "
        "eighth of a worker's memory, up to a chunk or 4096.")] = None,
    cluster: Annotated[Optional[str], typer.Option(
        "--cluster", metavar="ADDRESS", help="Run on this Dask scheduler (tcp://host:8786), whose workers see the "
        "same files. Default: a local cluster.")] = None,
    workers: Annotated[Optional[int], typer.Option(
        "--workers", metavar="N", min=1, help="Worker processes of the local cluster. Default: one per core "
        "(one for a GPU).")] = None,
    memory_limit: Annotated[Optional[float], typer.Option(
        "--memory-limit", metavar="MB", min=1, help="Memory of each worker of the local cluster, in MB. Default: "
        "the machine's, shared out.")] = None,
    device: Annotated[str, typer.Option(
        metavar="DEVICE", help="Where the workers run the model: cpu, or cuda[:N] where CuPy is installed.")] = "cpu",
    dtype: DtypeOpt = "float32",
    seed: Annotated[int, typer.Option(
        min=0, metavar="INT", help="Seed of the weights, where --weights is not given.")] = 0,
    on_bad_chunk: Annotated[str, typer.Option(
        "--on-bad-chunk", metavar="ACTION", help="What a chunk that can't be read or has the wrong shape does: "
        "fail (stop the run) or skip (leave it unwritten and list it).")] = "fail",
    overwrite: Annotated[bool, typer.Option(
        "--overwrite", help="Start over where OUT holds another run's output (another model, weights or "
        "input).")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Run a model over a dataset larger than memory, on a Dask cluster.

    Each input chunk (a Zarr chunk of rows, or a .npy file) is read, run
    through the model's execution plan in batches and written as one chunk of
    the output Zarr store, by workers that each build the model once. The
    model is checked on the data's row shape first, statically. A chunk is
    written whole or not at all, and recorded with its input's and its own
    digests: a rerun with the same arguments (after a crash, or Ctrl-C) skips
    the chunks already written and verified. A chunk that can't be read or has
    the wrong shape is named by its index. Needs the dask extra: pip install
    'nnspec[dask]'.

    Examples:

    \b
      nnspec predict models/zoo/resnet18.yaml -w resnet18.safetensors \\
          -i images.zarr -o logits.zarr
      nnspec predict models/seed/linear.yaml -i 'parts/*.npy' -o out.zarr \\
          --workers 2 --memory-limit 2000 --batch-size 256
      nnspec predict models/zoo/lenet5.yaml -i digits.zarr -o out.zarr \\
          --cluster tcp://scheduler:8786 --on-bad-chunk skip --json
    """
    if on_bad_chunk not in BAD_CHUNK:
        raise typer.BadParameter(f"{on_bad_chunk!r}; choose fail or skip", param_hint="--on-bad-chunk")
    check_dtype(dtype)
    if cluster is not None and (workers is not None or memory_limit is not None):
        raise typer.BadParameter("--workers and --memory-limit size the local cluster; an existing cluster has "
                                 "its own", param_hint="--cluster")

    def body() -> None:
        from nnspec.distributed import predict as run_predict

        with progress_bar(f"Predicting {model.name}") as report:
            started, rows = [0.0], [0]

            def progress(stage: str, done: int, total: int | None) -> None:
                if stage == "predicting":
                    started[0] = started[0] or time.perf_counter()
                    rate = rows[0] / max(time.perf_counter() - started[0], 1e-9)
                    stage = f"{done}/{total} chunks, {rate:,.0f} rows/s" if done else "running"
                report(stage, done, total)

            def on_chunk(result) -> None:
                if result.status == "written":
                    rows[0] += result.rows
                elif result.status == "bad":
                    echo(f"warning: {result.message}; skipped", err=True)

            summary = run_predict(model, input, output, weights=weights, batch_size=batch_size, cluster=cluster,
                                  workers=workers, memory_limit=None if memory_limit is None
                                  else int(memory_limit * 1e6), device=device, dtype=dtype, seed=seed,
                                  on_bad_chunk=on_bad_chunk, overwrite=overwrite, progress=progress,
                                  on_chunk=on_chunk)
        if as_json:
            echo(json.dumps(summary.to_json(), indent=2))
            return
        echo(f"wrote {output}: {summary.chunks} chunks, {summary.rows:,} rows")
        echo(f"chunks: {summary.written} written, {summary.skipped} already written and verified, "
             f"{len(summary.bad)} bad")
        on = f"on {summary.workers} worker{'s' * (summary.workers != 1)}"
        if not summary.written:
            echo(f"time: {summary.seconds:.2f} s {on} (nothing left to run)")
            return
        loads = f"model built {summary.model_loads} time{'s' * (summary.model_loads != 1)}"
        echo(f"time: {summary.seconds:.2f} s, {summary.rows_per_second:,.0f} rows/s {on} ({loads}, batch "
             f"{summary.batch_size})")

    guard(body)

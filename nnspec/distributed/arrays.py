"""``map_model``: a model over a Dask array, chunk by chunk, as a Dask array of its outputs, for a Dask pipeline
of one's own (``nnspec.dask.map_model``).

Each chunk of rows runs on whichever worker Dask gives it, through that worker's copy of the model, built once
(``worker.loaded``: a model file is read, its weights loaded and its plan compiled once per worker process).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy

from .common import PredictError, need
from .worker import ModelRef, loaded, loaded_module

WHAT = "nnspec.dask.map_model"


def map_model(model: Any, array: Any, *, weights: str | os.PathLike | None = None, batch_size: int | None = None,
              dtype: str = "float32", device: str = "cpu", seed: int = 0) -> Any:
    """The outputs of ``model`` on the rows of the Dask array ``array`` (its first axis is the batch axis), as a
    Dask array with the same chunks along that axis, computed when Dask computes it.

    ``model`` is a model file (.yaml, .yml or .json: checked now on the array's row shape, statically, and built
    once per worker, in eval mode, with ``weights`` loaded, else initialised from ``seed``), or an
    ``nnspec.nn.Module`` (run as it is, in its own mode and dtype: call ``.eval()`` first; sent to each worker
    once). A chunk runs ``batch_size`` rows at a time (default: as many as fit 256 MB of activations, at most
    the chunk). A chunk split along other axes is joined first: the model sees whole rows.

        import dask.array as da, nnspec.dask
        x = da.from_zarr("images.zarr")               # (N, 3, 224, 224), chunked along N
        y = nnspec.dask.map_model("models/zoo/resnet18.yaml", x, weights="resnet18.safetensors")
        y.to_zarr("logits.zarr")
    """
    da = need("dask.array", WHAT)
    dask = need("dask", WHAT)
    from ..nn import Module
    from .batch import check_model, check_output

    if batch_size is not None and batch_size < 1:
        raise PredictError(f"the batch size must be 1 or more, not {batch_size}")
    if not isinstance(array, da.Array):
        if not (hasattr(array, "shape") and hasattr(array, "dtype")):
            raise PredictError(f"{WHAT} takes a Dask array, not {type(array).__name__}")
        array = da.from_array(array)
    if array.ndim < 1:
        raise PredictError(f"{WHAT} needs rows: the array is a scalar")
    if any(isinstance(c, float) and c != c for c in array.chunks[0]):
        raise PredictError(f"{WHAT} needs the array's chunk sizes: call array.compute_chunk_sizes() first")
    in_dtype = numpy.dtype(array.dtype)
    if in_dtype.kind not in "fiub":
        raise PredictError(f"{WHAT} needs an array of numbers, not {in_dtype}")
    sample = tuple(int(s) for s in array.shape[1:])
    rows = max(array.chunks[0]) if array.chunks[0] else 1
    if isinstance(model, Module):
        if weights is not None:
            raise PredictError(f"{WHAT}: load the weights into the Module first (nnspec.weights.load_into), or give "
                               "the model file's path with weights=")
        out_sample, out_dtype = check_output(model, sample, in_dtype)
        runner = dask.delayed(model, pure=False)
        batch = batch_size or max(1, min(rows, 4096))
    elif isinstance(model, (str, os.PathLike)):
        checked = check_model(Path(model), sample, in_dtype, weights=weights, dtype=dtype, seed=seed, device=device)
        out_sample, out_dtype, runner = checked.out_sample, checked.out_dtype, checked.ref
        batch = batch_size or checked.default_batch(rows, None)
    else:
        raise PredictError(f"{WHAT} takes a model file's path or an nnspec Module, not {type(model).__name__}")
    if any(n > 1 for n in array.numblocks[1:]):
        array = array.rechunk({axis: -1 for axis in range(1, array.ndim)})
    out_ndim = 1 + len(out_sample)
    return da.map_blocks(_block, array, runner, batch, device, dtype=numpy.dtype(out_dtype),
                         chunks=(array.chunks[0], *((s,) for s in out_sample)),
                         drop_axis=list(range(1, array.ndim)), new_axis=list(range(1, out_ndim)),
                         meta=numpy.empty((0,) * out_ndim, out_dtype), token="nnspec-map-model")


def _block(block: numpy.ndarray, runner: Any, batch: int, device: str) -> numpy.ndarray:
    model = loaded(runner)[0] if isinstance(runner, ModelRef) else loaded_module(runner, device)
    return model.run(numpy.asarray(block), batch)

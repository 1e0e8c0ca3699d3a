"""Batch inference over datasets larger than memory, on Dask: ``predict`` (a model over a Zarr array or a folder
of ``.npy`` files, into a Zarr store, resumable) and ``map_model`` (a model over a Dask array, for a pipeline of
one's own; also ``nnspec.dask.map_model``).

Dask, distributed and Zarr are the ``[dask]`` extra (``pip install 'nnspec[dask]'``): they are imported when a
function here runs, never by ``import nnspec``.

- ``sources``: the input, laid out in chunks of rows, and a chunk read and checked;
- ``store``: the output store, its manifest, each chunk's record and the journal of writes;
- ``worker``: each worker's models, built once and run in batches through the execution plan;
- ``batch``: ``predict`` itself, the client's side and the task's;
- ``arrays``: ``map_model``.
"""

from .arrays import map_model
from .batch import ChunkResult, Summary, predict
from .common import BadChunkError, MissingExtraError, PredictError
from .store import read_log

__all__ = ["BadChunkError", "ChunkResult", "MissingExtraError", "PredictError", "Summary", "map_model", "predict",
           "read_log"]

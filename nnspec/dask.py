"""nnspec on Dask: ``map_model(model, dask_array)``, a model over a Dask array's rows, chunk by chunk, for a Dask
pipeline of one's own (``nnspec.predict`` runs a whole dataset from a store into a store).

Needs the ``[dask]`` extra (``pip install 'nnspec[dask]'``); Dask is imported when ``map_model`` runs, not when
this module is imported. See ``nnspec.distributed``.
"""

from __future__ import annotations

from .distributed.arrays import map_model

__all__ = ["map_model"]

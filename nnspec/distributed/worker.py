"""A worker's models: each model file and weights file loaded once per worker process and kept, keyed by their
digests, then run in batches through the execution plan.

A Dask task calls ``loaded(ref)`` for its ``ModelRef``: the first task of a worker to need a model builds it,
loads the weights and compiles the plan; the others (on any of the worker's threads) find it here. Each thread
has its own plan over the one model, so that two threads never share a plan's compiled programs.
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import numpy

from ..errors import NNSpecError, Position
from .common import PredictError, text_digest

# the models a worker keeps: a long-lived cluster that runs several models keeps the latest few
KEEP = 2

_lock = threading.Lock()
_models: OrderedDict[tuple, Loaded] = OrderedDict()
# models built in this process, over its life: each worker builds a model once (tests and the summary count it)
LOADS = [0]


@dataclass(frozen=True)
class ModelRef:
    """Which model to run, as a worker finds it: the model file and weights file by path and digest (a file changed
    since the run began is refused, not run), the dtype, the device and the seed of weights not loaded."""

    path: str
    sha256: str
    weights: str | None = None
    weights_sha256: str | None = None
    dtype: str = "float32"
    device: str = "cpu"
    seed: int = 0

    @property
    def key(self) -> tuple:
        return (self.sha256, self.weights_sha256, self.dtype, self.device, self.seed if self.weights is None else None)


@dataclass
class Loaded:
    """A model built on this worker, with one plan per thread that runs it."""

    model: Any
    backend: Any
    dtype: str = "float32"
    plans: dict = field(default_factory=dict)
    eager: str | None = None  # why the model's own forward runs (a forward that cannot be planned)

    def run(self, x: numpy.ndarray, batch: int) -> numpy.ndarray:
        """The model's output for the rows of ``x``, ``batch`` rows at a time, as one host array: floating inputs
        in the model's dtype, integer and bool ones as they are (token ids), as ``nnspec run`` feeds them."""
        from ..runtime.backend import resolve_dtype, to_numpy

        dt = resolve_dtype(self.dtype)
        out = None
        n = int(x.shape[0])
        for start in range(0, n, batch):
            part = x[start:start + batch]
            part = part if part.dtype.kind in "iub" else part.astype(dt, copy=False)
            y = self._forward(self.backend.asarray(numpy.ascontiguousarray(part)))
            if not hasattr(y, "shape") or not hasattr(y, "dtype"):
                raise PredictError(f"the model returned {type(y).__name__}, not one array: predict writes a "
                                   "model's single output")
            y = to_numpy(y)
            if y.ndim == 0 or y.shape[0] != part.shape[0]:
                raise PredictError(f"the model's output {tuple(y.shape)} has no batch axis of the input's "
                                   f"{part.shape[0]} rows")
            if out is None:
                out = numpy.empty((n, *y.shape[1:]), y.dtype)
            out[start:start + part.shape[0]] = y
        if out is None:  # no rows: an empty output of the model's shape, found by running one row of zeros
            return self.run(numpy.zeros((1, *x.shape[1:]), x.dtype), 1)[:0]
        return out

    def _forward(self, x: Any) -> Any:
        from ..plan import PlanError, compile

        if self.eager is None:
            ident = threading.get_ident()
            plan = self.plans.get(ident)
            if plan is None:
                plan = self.plans[ident] = compile(self.model)
            try:
                return plan(x)
            except PlanError as e:
                self.eager = str(e)
        return self.model(x)


def loaded(ref: ModelRef) -> tuple[Loaded, bool]:
    """The worker's model for ``ref``, and whether this call built it (the first call on the worker)."""
    key = ref.key
    with _lock:
        found = _models.get(key)
        if found is not None:
            _models.move_to_end(key)
            return found, False
        found = _build(ref)
        _models[key] = found
        while len(_models) > KEEP:
            _models.popitem(last=False)
        LOADS[0] += 1
        return found, True


def _build(ref: ModelRef) -> Loaded:
    from ..builder import Source
    from ..runtime.backend import get_backend
    from ..spec import parse, read
    from ..weights import load_weights, prepare
    from .common import file_digest

    text, filename = read(ref.path)
    if text_digest(text) != ref.sha256:
        raise PredictError("the model file changed since the run began; run again", position=Position(ref.path))
    source = Source(parse(text, filename), filename, text)
    state = None
    if ref.weights is not None:
        if file_digest(ref.weights, "weights file") != ref.weights_sha256:
            raise PredictError("the weights file changed since the run began; run again",
                               position=Position(ref.weights))
        state, _ = prepare(source.build(meta=True).to(ref.dtype), load_weights(ref.weights), ref.weights)
    backend = get_backend(ref.device)
    model = source.build(seed=ref.seed)
    if state is not None:
        model.load_state_dict(state)
    model.to(ref.dtype).to(backend.device).train(False)
    return Loaded(model, backend, ref.dtype)


_modules: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def loaded_module(model: Any, device: str = "cpu") -> Loaded:
    """A Loaded for a model object a caller built (``map_model`` given a Module), kept while the object lives, so
    that each worker's copy of it is compiled once."""
    with _lock:
        found = _modules.get(model)
        if found is None:
            from ..runtime.backend import get_backend

            dtype = next((str(p.dtype) for p in model.parameters()), "float32")
            found = _modules[model] = Loaded(model, get_backend(device), dtype)
        return found


def clear() -> None:
    """Forget the worker's models (tests; a worker that should load again)."""
    with _lock:
        _models.clear()


def describe_error(e: BaseException) -> dict:
    """An error as a task returns it (not raised: a raised error would be retried, and its fields lost)."""
    if isinstance(e, NNSpecError):
        where = e.position
        return {"type": type(e).__name__, "kind": e.kind, "message": e.message, "path": e.path,
                "file": where.file if where else None, "line": where.line if where else None,
                "column": where.col if where else None}
    return {"type": type(e).__name__, "kind": "internal error", "message": f"{type(e).__name__}: {e}", "path": None,
            "file": None, "line": None, "column": None}


def rebuild_error(d: dict) -> NNSpecError:
    """An error a task returned, as the client raises it."""
    from ..errors import NNSpecRuntimeError

    position = Position(d["file"], d["line"], d["column"]) if d.get("file") else None
    cls = PredictError if d["kind"] == "predict error" else NNSpecRuntimeError
    e = cls(d["message"], path=d.get("path"), position=position)
    e.kind = d["kind"]
    return e

"""A model written as an ONNX model without torch: ``nnspec.export_onnx`` (``nnspec export``).

The model's forward is recorded once as a flat list of steps (``nnspec.plan.record``: every leaf layer and
every op of a custom forward, for shape-only inputs), with the input sizes symbolic where they are names
(``N,3,H,W``). Each step becomes ONNX nodes by its kind: a layer by its class (``Conv2d`` -> Conv), an op by
its name (``torch.flatten``, ``add``, ``.view()``). A size an op was given that depends on a symbolic size
(``x.view(N, -1)``) is computed in the graph from the input's Shape, so one export runs at every size. The
weights are initializers named by their state_dict keys; each node's doc string names the model file's line
it came from. A layer or op with no translation yet is an ``ExportError`` naming it and where it is.

The export is of the model in eval mode (dropout is the identity, batch norms use their running statistics).
Needs the ``onnx`` package (the ``onnx`` extra); onnxruntime is not needed to export.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import numpy

from ... import nn
from ...errors import NNSpecError
from ...plan.record import Ref, map_nested
from ...progress import Progress, quiet
from ...runtime.backend import to_numpy
from ...runtime.functional.core import data_of
from ...runtime.symbolic import Dim, is_symbolic

OPSET = 17
MIN_OPSET, MAX_OPSET = 17, 21


class ExportError(NNSpecError):
    """A model, layer or op nnspec cannot write as ONNX."""


def export_onnx(model: nn.Module | str | Path, input_shapes: list, path: str | Path | None = None, *,
                weights: str | Path | None = None, opset: int = OPSET, named: dict | None = None,
                input_dtypes: list | None = None, seed: int | None = 0, progress: Progress | None = None) -> Any:
    """The model (a Module, or a model file built with ``seed`` and ``weights`` loaded) as an ``onnx.ModelProto``,
    for inputs of ``input_shapes`` (a size may be a name: ``("N", 3, "H", "W")``), written to ``path`` where
    given. Checked with ``onnx.checker.check_model(full_check=True)`` before it is written. ``progress``
    hears the stages: "building", "recording", "translating" (steps done, steps), "checking", "writing"."""
    progress = progress or quiet
    try:
        import onnx
    except ImportError:  # pragma: no cover - the onnx extra is missing
        raise ExportError("nnspec export needs the onnx package (pip install 'nnspec[onnx]')") from None
    if not MIN_OPSET <= opset <= MAX_OPSET:
        raise ExportError(f"opset {opset}: nnspec writes opsets {MIN_OPSET} to {MAX_OPSET}")
    source = None
    if not isinstance(model, nn.Module):
        from ...builder import load

        source = str(model)
        progress("building", 0, None)
        model = load(model, seed=seed)
        if weights is not None:
            from ...weights import load_into

            load_into(model, weights)
    shapes = [tuple(_size(s) for s in shape) for shape in input_shapes]
    from ...plan.plan import record

    modes = [(m, m.training) for m in model.modules()]
    model.eval()  # exported in eval mode; the model's own modes are given back
    try:
        progress("recording", 0, None)
        program = record(model, shapes, input_dtypes, named=named)
        proto = _Exporter(onnx, model, program, opset, source, progress).build(shapes, input_dtypes)
    finally:
        for m, training in modes:
            m.training = training
    try:
        progress("checking", 0, None)
        onnx.checker.check_model(proto, full_check=True)
    except Exception as e:  # noqa: BLE001 - the checker's errors are its own kinds: a bug of this exporter
        raise ExportError(f"the ONNX model failed onnx's checker: {str(e).splitlines()[0]}") from None
    if path is not None:
        progress("writing", 0, None)
        _save(onnx, proto, Path(path))
    return proto


def run_onnxruntime(model: nn.Module, inputs: list, *, named: dict | None = None, repeat: int = 1,
                    opset: int = OPSET) -> tuple[list, list[float]]:
    """``model`` exported for these inputs' shapes and run by onnxruntime (CPU): its outputs, and the ms of each of
    ``repeat`` runs after one to warm up. Needs onnx and onnxruntime."""
    import time

    try:
        import onnxruntime
    except ImportError:
        raise ExportError("--engine onnxruntime needs onnxruntime (pip install 'nnspec[onnxruntime]')") from None
    arrays = [_host(a) for a in inputs]
    proto = export_onnx(model, [a.shape for a in arrays], named=named, opset=opset,
                        input_dtypes=[str(a.dtype) for a in arrays])
    if proto.ByteSize() >= 2**31:
        raise ExportError("the model is over 2 GB as ONNX: export it to a file (nnspec export) and run that")
    session = onnxruntime.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    feed = {i.name: a for i, a in zip(session.get_inputs(), arrays)}
    out = session.run(None, feed)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        out = session.run(None, feed)
        times.append((time.perf_counter() - start) * 1e3)
    return out, times


def _size(s: Any) -> Any:
    """A size as given: an int, a name (a symbolic size) or the text of either."""
    if isinstance(s, str) and s.strip().isdigit():
        return int(s)
    if isinstance(s, str):
        if not s.strip().isidentifier():
            raise ExportError(f"a size must be a number or a name, got {s!r}")
        return Dim.symbol(s.strip())
    return s if is_symbolic(s) else int(s)


def _save(onnx: Any, proto: Any, path: Path) -> None:
    """Written atomically; weights over 2 GB go to one external data file beside it (protobuf's limit)."""
    from ...files import save_atomic

    large = sum(t.ByteSize() for t in proto.graph.initializer) > (2 << 30) - (64 << 20)
    if large:
        save_atomic(path, write_path=lambda tmp: onnx.save_model(
            proto, tmp, save_as_external_data=True, all_tensors_to_one_file=True, location=f"{path.name}.data"))
    else:
        save_atomic(path, lambda f: f.write(proto.SerializeToString()))


# ---------------------------------------------------------------------- values in the graph
class V:
    """A tensor of the ONNX graph: its name, and its recorded shape (sizes may be Dims) and dtype."""

    __slots__ = ("name", "shape", "dtype")

    def __init__(self, name: str, shape: tuple, dtype: Any):
        self.name, self.shape, self.dtype = name, tuple(shape), numpy.dtype(dtype)

    @property
    def ndim(self) -> int:
        return len(self.shape)


class _Exporter:
    def __init__(self, onnx: Any, model: nn.Module, program: Any, opset: int, source: str | None,
                 progress: Progress = quiet):
        self.onnx, self.model, self.program, self.opset, self.source = onnx, model, program, opset, source
        self.progress = progress
        self.h = onnx.helper
        self.nodes: list = []
        self.initializers: list = []
        self.values: dict[int, V] = {}  # slot -> value
        self.names: set[str] = set()
        self.dims: dict[str, tuple[str, int]] = {}  # a symbolic size -> (input name, axis)
        self.cache: dict[Any, str] = {}  # constants and size computations made once
        self.written: dict[int, tuple[Any, str]] = {}  # id(array) -> (the array, its initializer's name)
        self.step: Any = None

    # -- names, constants, nodes
    def fresh(self, hint: str) -> str:
        base = "".join(c if c.isalnum() or c in "._" else "_" for c in hint) or "v"
        name, i = base, 1
        while name in self.names:
            name, i = f"{base}_{i}", i + 1
        self.names.add(name)
        return name

    def node(self, op: str, inputs: list[str], n_out: int = 1, **attrs: Any) -> list[str]:
        hint = self.step.name if self.step is not None else op.lower()
        outs = [self.fresh(f"{hint}.{op}" if n_out == 1 else f"{hint}.{op}.{i}") for i in range(n_out)]
        node = self.h.make_node(op, inputs, outs, name=self.fresh(f"{hint}/{op}"),
                                **{k: v for k, v in attrs.items() if v is not None})
        where = self.where()
        if where:
            node.doc_string = where
        self.nodes.append(node)
        return outs

    def one(self, op: str, inputs: list[str], **attrs: Any) -> str:
        return self.node(op, inputs, **attrs)[0]

    def where(self) -> str:
        step = self.step
        position = getattr(step, "position", None) if step is not None else None
        if position is None and step is not None and step.module is not None:
            position = getattr(self.original(step), "__dict__", {}).get("_spec_position")
        if position is None or getattr(position, "line", None) is None:
            return f"{self.source}: {step.name}" if step is not None and self.source else ""
        return f"{position}: {step.name}"

    def constant(self, value: Any, dtype: Any = None, hint: str = "const") -> str:
        a = numpy.asarray(value, dtype=dtype)
        key = ("const", a.dtype.str, a.shape, a.tobytes())
        found = self.cache.get(key)
        if found is None:
            found = self.cache[key] = self.fresh(hint)
            self.initializers.append(self.onnx.numpy_helper.from_array(a, found))
        return found

    def initializer(self, array: Any, name: str) -> str:
        """``array`` (a parameter, buffer or constant) as an initializer named ``name``: once, however many
        steps read it (a module called twice, a weight tied to another)."""
        data = data_of(array)
        found = self.written.get(id(data))
        if found is not None:
            return found[1]
        name = self.fresh(name)
        self.initializers.append(self.onnx.numpy_helper.from_array(numpy.ascontiguousarray(to_numpy(data)), name))
        self.written[id(data)] = (data, name)  # the array kept: its id is not reused while it is a key
        return name

    def fail(self, what: str) -> ExportError:
        where = self.where() or (self.step.name if self.step is not None else "")
        return ExportError(f"{where}: {what}")

    # -- sizes
    def size(self, d: Any) -> str:
        """A 1-element int64 tensor holding the size ``d`` (an int or a Dim), computed from the inputs'
        Shapes where it is symbolic."""
        if not is_symbolic(d):
            return self.constant([int(d)], numpy.int64, "size")
        key = ("size", str(d))
        if key in self.cache:
            return self.cache[key]
        out = self._poly(d.poly)
        self.cache[key] = out
        return out

    def _poly(self, poly: tuple) -> str:
        total = None
        for monomial, coefficient in poly:
            term = None
            for atom in monomial:
                value = self._atom(atom)
                term = value if term is None else self.one("Mul", [term, value])
            c = self.constant([coefficient], numpy.int64, "size")
            term = c if term is None else term if coefficient == 1 else self.one("Mul", [term, c])
            total = term if total is None else self.one("Add", [total, term])
        return total if total is not None else self.constant([0], numpy.int64, "size")

    def _atom(self, atom: tuple) -> str:
        if atom[0] == "sym":
            name = atom[1]
            if name not in self.dims:
                raise self.fail(f"the size {name} is not a size of an input")
            key = ("sym", name)
            if key not in self.cache:
                x, axis = self.dims[name]
                shape = self.cache.get(("shape", x)) or self.cache.setdefault(("shape", x), self.one("Shape", [x]))
                self.cache[key] = self.one("Gather", [shape, self.constant([axis], numpy.int64, "axis")], axis=0)
            return self.cache[key]
        _, numerator, divisor = atom  # floor(numerator / divisor): sizes are not negative, so Div's truncation
        num = self._poly(numerator)
        div = self.constant([divisor], numpy.int64, "size") if isinstance(divisor, int) else self._poly(divisor)
        return self.one("Div", [num, div])

    def sizes(self, ds: Any) -> str:
        """A 1-D int64 tensor of the sizes ``ds`` (ints and Dims)."""
        ds = list(ds)
        if not any(is_symbolic(d) for d in ds):
            return self.constant([int(d) for d in ds], numpy.int64, "shape")
        return self.one("Concat", [self.size(d) for d in ds], axis=0)

    # -- the graph
    def original(self, step: Any) -> Any:
        try:
            return self.model.get_submodule(step.name) if step.name not in ("", "(root)") else self.model
        except (AttributeError, KeyError, TypeError):
            return None

    def build(self, shapes: list[tuple], dtypes: list | None) -> Any:
        onnx, h, program = self.onnx, self.h, self.program
        names = _input_names(self.model, len(program.inputs))
        graph_inputs = []
        for k, (slot, shape) in enumerate(zip(program.inputs, shapes)):
            dtype = numpy.dtype((dtypes or [None] * len(shapes))[k] or "float32")
            name = self.fresh(names[k])
            self.values[slot] = V(name, shape, dtype)
            for axis, d in enumerate(shape):
                if is_symbolic(d):
                    self.dims.setdefault(str(d), (name, axis))
            graph_inputs.append(h.make_tensor_value_info(
                name, _elem(onnx, dtype), [str(d) if is_symbolic(d) else int(d) for d in shape]))
        keys = {id(data_of(v)): k for k, v in self.model.state_dict().items()}
        for slot, read in program.state.items():
            array = read()
            key = keys.get(id(data_of(array)), f"state_{slot}")
            self.values[slot] = V(self.initializer(array, key), array.shape, array.dtype)
        for slot, value in program.constants.items():
            self.values[slot] = V(self.initializer(value, f"constant_{slot}"), numpy.shape(value), numpy.asarray(value).dtype)
        for i, step in enumerate(program.steps):
            self.progress("translating", i, len(program.steps))
            self.step = step
            self.translate(step)
        self.progress("translating", len(program.steps), len(program.steps))
        self.step = None
        outputs = []
        flat = [r for r in _refs(program.output)]
        for i, ref in enumerate(flat):
            v = self.values[ref.slot]
            name = "output" if len(flat) == 1 else f"output_{i}"
            self.nodes.append(h.make_node("Identity", [v.name], [name], name=self.fresh(f"{name}/Identity")))
            outputs.append(h.make_tensor_value_info(name, _elem(onnx, v.dtype),
                                                    [str(d) if is_symbolic(d) else int(d) for d in v.shape]))
        read = {name for node in self.nodes for name in node.input}
        initializers = [t for t in self.initializers if t.name in read]  # constants made and not used
        graph = h.make_graph(self.nodes, self.model._get_name(), graph_inputs, outputs, initializers)
        proto = h.make_model(graph, opset_imports=[h.make_opsetid("", self.opset)], producer_name="nnspec",
                             doc_string=f"{self.source or self.model._get_name()}, written by nnspec export")
        proto.ir_version = min(proto.ir_version, 10)
        return proto

    def translate(self, step: Any) -> None:
        emit = _LAYERS.get(step.kind) if step.module is not None else _OPS.get(step.kind)
        if emit is None:
            what = f"the layer {step.kind}" if step.module is not None else f"the op {step.kind}"
            raise self.fail(f"{what} has no ONNX translation in nnspec yet")
        args = map_nested(step.args, self.arg)
        kwargs = {k: map_nested(v, self.arg) for k, v in step.kwargs.items()}
        result = emit(self, step, args, kwargs)
        self.bind(step.out, result)

    def arg(self, value: Any) -> Any:
        return self.values[value.slot] if isinstance(value, Ref) else value

    def bind(self, out: Any, result: Any) -> None:
        """Each Ref of a step's result (a structure) gets its value: a name is given the Ref's recorded shape."""
        if isinstance(out, Ref):
            if isinstance(result, V):
                self.values[out.slot] = result
            else:
                shape, dtype = self.program.shapes[out.slot]
                self.values[out.slot] = V(result, shape, dtype)
        elif isinstance(out, (tuple, list)):
            for o, r in zip(out, result):
                self.bind(o, r)


def _refs(value: Any) -> list:
    found: list = []
    map_nested(value, lambda v: found.append(v) if isinstance(v, Ref) else None)
    return found


def _host(a: Any) -> numpy.ndarray:
    """A parameter's or array's values as a NumPy array (from any backend)."""
    return to_numpy(data_of(a))


def _elem(onnx: Any, dtype: Any) -> int:
    return onnx.helper.np_dtype_to_tensor_dtype(numpy.dtype(dtype))


def _input_names(model: nn.Module, n: int) -> list[str]:
    params = [p.name for p in model.forward_parameters()] if hasattr(model, "forward_parameters") else []
    names = params[:n] if len(params) >= n else []
    return names or (["input"] if n == 1 else [f"input_{i}" for i in range(n)])


# ---------------------------------------------------------------------- the translations' registries
_LAYERS: dict[str, Callable] = {}  # a layer's class name -> emit(exporter, step, args, kwargs)
_OPS: dict[str, Callable] = {}  # an op's kind (``torch.flatten``, ``add``, ``.view()``) -> emit(...)


def _registrar(table: dict[str, Callable]) -> Callable:
    def register_kinds(*kinds: str) -> Callable:
        def register(fn: Callable) -> Callable:
            for k in kinds:
                table[k] = fn
            return fn
        return register
    return register_kinds


# ``@layer("Conv2d")`` / ``@op("torch.flatten")``: register a translation, ``emit(e, step, args, kwargs)``,
# which returns the result's ONNX name (or a structure of names, as the step's result is)
layer = _registrar(_LAYERS)
op = _registrar(_OPS)


def weight(e: "_Exporter", step: Any, name: str) -> str | None:
    """A layer's parameter or buffer as an initializer named by its state_dict key (None where it has none)."""
    m = e.original(step)
    p = getattr(m, name, None)
    if p is None:
        return None
    return e.initializer(p, f"{step.name}.{name}" if step.name not in ("", "(root)") else name)


def reduce_mean(e: "_Exporter", x: str, axes: list[int], keepdims: int) -> str:
    """ReduceMean over ``axes``: an attribute before opset 18, an input from it."""
    if e.opset >= 18:
        return e.one("ReduceMean", [x, e.constant(axes, numpy.int64, "axes")], keepdims=keepdims)
    return e.one("ReduceMean", [x], axes=axes, keepdims=keepdims)


def unsqueeze(e: "_Exporter", x: str, axes: list[int]) -> str:
    return e.one("Unsqueeze", [x, e.constant(axes, numpy.int64, "axes")])


__all__ = ["ExportError", "export_onnx", "layer", "op", "run_onnxruntime", "weight"]

"""The graph ``nnspec graph`` draws: modules as nested clusters, the forward's steps as boxes, its dataflow as edges.

The forward is recorded once on shape-only inputs (``plan.record_traced``: every leaf layer and every op of a
custom forward is a step, a container's loop included), with sizes symbolic where they are names
(``N,3,H,W``). Each step becomes a box inside the clusters of the modules its path names; each array a step
reads that another step (or an input) made becomes an edge, labelled with the array's static shape. A box's
mult-adds are its trace record's and those of the records inside it, so the boxes add up to what
``static.infer`` (``nnspec summary``) counts; its parameters are its module's.

Nothing here formats for a medium: ``dot`` and ``html`` draw a ``Graph``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import NNSpecError
from ..inputs import forward_parameters
from ..nn import Module
from ..nn.lazy import is_lazy
from ..nn.user import base_class, has_custom_forward
from ..plan.record import PlanError, Ref, map_nested
from ..runtime.symbolic import Dim, DimLike, assumptions, is_symbolic
from ..static import _strongest, call_ends
from ..summary import totals
from ..trace import format_shape


class GraphError(NNSpecError):
    """A model nnspec cannot draw as given (no input shapes it can guess, no graphviz for an SVG)."""


@dataclass
class Box:
    """One node of the picture: a layer's call, an op of a custom forward, an input or an output."""

    id: str
    kind: str  # "layer", "op", "input" or "output" ("module": a cluster collapsed into a box, in a view)
    name: str  # the step's path: a module's ("layer1.0.conv1"), or a forward's module and node ("layer1.0.add")
    label: str  # what the box says first: the module's own name, the op, the input's name
    type: str  # the layer's class ("Conv2d"), or the op ("add", ".view()", "torch.flatten")
    cluster: str | None  # the id of the innermost cluster it is drawn in (None: the model's top level)
    family: str  # its colour: "conv", "norm", "activation", ... (see FAMILIES)
    params: int = 0
    mult_adds: DimLike = 0
    where: str | None = None  # "file:line:col" of the layer's entry or the op's line in the forward
    detail: str = ""  # the layer as torch prints it, the op's arguments, the input's dtype
    shared: bool = False  # a module called again, or one whose parameters another box counts: params not counted again


@dataclass
class Cluster:
    """A module that holds others (a container, a custom forward's module), drawn as a frame around its steps."""

    id: str
    path: str
    label: str  # the module's own name in its parent ("layer1", "0")
    type: str  # its class name as torch prints it ("Sequential", "BasicBlock")
    parent: str | None
    depth: int  # 1 for the model's children
    params: int = 0  # every parameter of the module, each once
    mult_adds: DimLike = 0  # every box inside it
    where: str | None = None
    custom: bool = False  # it has a forward written in the model file


@dataclass
class Edge:
    """An array a step reads, from the step (or input) that made it; ``shape`` is its static shape as printed."""

    source: str
    target: str
    shape: str
    dtype: str


@dataclass
class Graph:
    """A model's picture as data: ``boxes`` in forward order, ``clusters`` parents first, ``edges``."""

    title: str
    source: str | None  # the model file
    boxes: list[Box]
    clusters: list[Cluster]
    edges: list[Edge]
    params: int
    trainable: int
    mult_adds: DimLike
    inputs: list[tuple[str, str, str]] = field(default_factory=list)  # (name, shape, dtype) as drawn
    outputs: list[tuple[str, str, str]] = field(default_factory=list)
    assumptions: list[str] = field(default_factory=list)  # the conditions the shapes hold under (H >= 32)
    guessed: bool = False  # the input shapes were guessed from the model's first layer

    def view(self, depth: int | None) -> Graph:
        """The graph with every cluster deeper than ``depth`` collapsed into one box (kind "module") inside its
        parent: the edges of its boxes go to that box, those between them are dropped, and edges that became
        the same are drawn once. ``None`` keeps every cluster."""
        if depth is None or all(c.depth <= depth for c in self.clusters):
            return self
        clusters = {c.id: c for c in self.clusters}
        outer: dict[str, str] = {}  # a box's or cluster's id -> the collapsed cluster it is drawn as
        for c in self.clusters:  # parents come first, so a parent's answer is known
            if c.parent is not None and c.parent in outer:
                outer[c.id] = outer[c.parent]
            elif c.depth > depth:
                outer[c.id] = c.id
        boxes: list[Box] = []
        made: set[str] = set()
        for b in self.boxes:
            top = outer.get(b.cluster) if b.cluster is not None else None
            if top is None:
                boxes.append(b)
                continue
            outer[b.id] = top
            if top not in made:  # the collapsed box stands where the first of its steps ran
                made.add(top)
                boxes.append(closed(clusters[top]))
        edges, seen = [], set()
        for e in self.edges:
            source, target = outer.get(e.source, e.source), outer.get(e.target, e.target)
            key = (source, target, e.shape)
            if source == target or key in seen:
                continue
            seen.add(key)
            edges.append(Edge(source, target, e.shape, e.dtype))
        kept = [c for c in self.clusters if c.id not in outer]
        return Graph(self.title, self.source, boxes, kept, edges, self.params, self.trainable, self.mult_adds,
                     self.inputs, self.outputs, self.assumptions, self.guessed)

    def fitting_depth(self, max_boxes: int) -> int | None:
        """The deepest cluster depth whose view has at most ``max_boxes`` boxes (None: every depth fits; 0: only
        the model's top level fits, or not even that)."""
        deepest = max((c.depth for c in self.clusters), default=0)
        if len(self.boxes) <= max_boxes:
            return None
        for depth in range(deepest - 1, -1, -1):
            if len(self.view(depth).boxes) <= max_boxes:
                return depth
        return 0

    def to_json(self) -> dict:
        """The graph as plain data (sizes as text): what the HTML page embeds."""
        return {
            "title": self.title, "source": self.source, "params": self.params, "trainable": self.trainable,
            "mult_adds": _text(self.mult_adds), "inputs": [list(i) for i in self.inputs],
            "outputs": [list(o) for o in self.outputs], "assumptions": list(self.assumptions),
            "guessed": self.guessed,
            "boxes": [{**b.__dict__, "mult_adds": _text(b.mult_adds)} for b in self.boxes],
            "clusters": [{**c.__dict__, "mult_adds": _text(c.mult_adds)} for c in self.clusters],
            "edges": [e.__dict__.copy() for e in self.edges],
        }


# an array read by more boxes than this has its shape written on its first edge only (the others show it on
# hover): a DenseNet block's features, or an attention mask every layer reads, would otherwise fill the picture
FANOUT = 3


def labelled(edges: list[Edge]) -> list[bool]:
    """Which edges have their shape written (see FANOUT): an array is its source and shape."""
    readers: dict[tuple[str, str], int] = {}
    for e in edges:
        readers[e.source, e.shape] = readers.get((e.source, e.shape), 0) + 1
    out, written = [], set()
    for e in edges:
        key = (e.source, e.shape)
        out.append(readers[key] <= FANOUT or key not in written)
        written.add(key)
    return out


def closed(c: Cluster) -> Box:
    """A cluster collapsed into one box (kind "module") in its parent."""
    return Box(c.id, "module", c.path, c.label, c.type, c.parent, family_of_module(c.type), c.params, c.mult_adds,
               c.where, "custom forward" if c.custom else "")


def _text(v: DimLike) -> int | str:
    return str(v) if is_symbolic(v) else int(v)


# --------------------------------------------------------------------------- families (colours)

# (family, pattern on the layer's class or the op's name): the first that matches gives a box its colour
_FAMILY_RULES = [
    ("attention", r"Attention|Transformer|scaled_dot_product|multi_head"),
    ("recurrent", r"^(RNN|LSTM|GRU)(Cell)?$|^(RNNBase|RNNCellBase)$|\brnn\b|lstm|gru"),
    ("conv", r"Conv|conv\d|conv_transpose|Unfold|Fold|unfold|fold"),
    ("norm", r"Norm|norm|normalize"),
    ("pool", r"Pool|pool|Upsample|upsample|interpolate|PixelShuffle|PixelUnshuffle|pixel_shuffle|ChannelShuffle"),
    ("embedding", r"Embedding|embedding"),
    ("dropout", r"Dropout|dropout"),
    ("linear", (r"^(Linear|Bilinear|LazyLinear|NonDynamicallyQuantizableLinear)$|linear|addmm|matmul|\bmm\b|"
                r"\bbmm\b|einsum|baddbmm|\bmv\b|\bdot\b")),
    ("activation", (r"ReLU|ELU|GELU|SiLU|Sigmoid|Tanh|Softmax|Softmin|LogSoftmax|Hardswish|Hardsigmoid|Hardtanh|"
                    r"Mish|Softplus|Softsign|Threshold|GLU|PReLU|LogSigmoid|Tanhshrink|Softshrink|Hardshrink|"
                    r"relu|elu|gelu|silu|sigmoid|tanh|softmax|softmin|hardswish|hardsigmoid|hardtanh|mish|"
                    r"softplus|glu|erf|\bexp\b")),
    ("merge", (r"^i?(add|sub|mul|truediv|floordiv|div|pow|matmul|mod)$|^torch\.(cat|stack|add|sub|mul|div|where|"
               r"concat|concatenate|hstack|vstack)$|^\.(add|sub|mul|div)_?\(\)$")),
    ("shape", (r"view|reshape|transpose|permute|flatten|Flatten|Unflatten|unflatten|squeeze|unsqueeze|getitem|"
               r"setitem|unpack|contiguous|split|chunk|expand|repeat|narrow|select|\.t\(\)|\.type\(\)|\.to\(\)|"
               r"\.float\(\)|\.long\(\)|\.int\(\)|\.bool\(\)|\.half\(\)|\.double\(\)|roll|flip|gather|pad|"
               r"size|movedim|swapaxes|clone|detach|tile|index_select|masked_fill|new_zeros|new_ones|zeros|ones|"
               r"arange|full|empty|tril|triu")),
]
_FAMILY_PATTERNS = [(name, re.compile(pattern)) for name, pattern in _FAMILY_RULES]

# the families in the order a legend lists them
FAMILIES = ("conv", "linear", "norm", "activation", "pool", "attention", "recurrent", "embedding", "dropout",
            "merge", "shape", "other", "module", "io")


def family_of(kind: str) -> str:
    """The colour family of a layer's class name or an op's name."""
    for name, pattern in _FAMILY_PATTERNS:
        if pattern.search(kind):
            return name
    return "other"


def family_of_module(type_name: str) -> str:
    """A collapsed cluster's family: its class's where that names one (a TransformerEncoderLayer), else "module"."""
    found = family_of(type_name)
    return found if found not in ("other", "io", "shape") else "module"


# --------------------------------------------------------------------------- inputs: given or guessed

def _symbols(*names: str) -> tuple[Dim, ...]:
    return tuple(Dim.symbol(n) for n in names)


def _size(s: Any) -> DimLike:
    """A size as given: an int, a Dim, or the text of either (``"N"``, ``"224"``)."""
    if is_symbolic(s):
        return s
    if isinstance(s, str):
        text = s.strip()
        if text.isascii() and text.isdigit():
            return int(text)
        if text.isascii() and text.isidentifier():
            return Dim.symbol(text)
        raise GraphError(f"a size must be a number or a name, got {s!r}")
    return int(s)


def guesses(model: Module) -> list[tuple[list[tuple], list[str | None]]]:
    """Input shapes to try for a model given none, best first: from the first layers that say what they take
    (a Conv2d's in_channels: ``(N, C, H, W)``, then ``(N, C, 224, 224)`` and smaller for a model that needs
    numbers; a Linear's ``(N, in_features)``; an Embedding's token ids ``int64 (N, T)``), for a forward
    taking that many arrays."""
    required = [p for p in forward_parameters(model)
                if p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    found: list[tuple[list[tuple], list[str | None]]] = []
    seen = 0
    for m in model.modules():
        shapes = _takes(m)
        if not shapes:
            continue
        seen += 1
        for option in shapes:
            if len(option[0]) == max(len(required), 1) and option not in found:
                found.append(option)
        if seen == 3:  # the model's first few layers: a later one is no longer what its input goes into
            break
    return found


def _takes(m: Module) -> list[tuple[list[tuple], list[str | None]]]:
    """What a layer takes, as input shapes to try (symbolic first)."""
    kind = base_class(m).__name__
    N, T = _symbols("N", "T")
    conv = re.fullmatch(r"(?:Lazy)?Conv(?:Transpose)?([123])d|(?:BatchNorm|InstanceNorm)([123])d", kind)
    if conv:
        k = int(conv.group(1) or conv.group(2))
        channels = getattr(m, "in_channels", None) or getattr(m, "num_features", None)
        if not isinstance(channels, int) or channels <= 0:
            return []
        spatial = {1: _symbols("L"), 2: _symbols("H", "W"), 3: _symbols("D", "H", "W")}[k]
        # the sizes models are made for, where one needs numbers: ImageNet's, CIFAR's and LeNet's, MNIST's
        numbers = {1: [(224,)], 2: [(224, 224), (32, 32), (28, 28)], 3: [(16, 112, 112)]}[k]
        return [([(N, channels, *spatial)], [None])] + [([(N, channels, *n)], [None]) for n in numbers]
    if kind in ("Linear", "LazyLinear") and getattr(m, "in_features", 0):
        return [([(N, m.in_features)], [None]), ([(N, T, m.in_features)], [None])]
    if kind == "Bilinear":
        return [([(N, m.in1_features), (N, m.in2_features)], [None, None])]
    if kind == "Embedding":
        return [([(N, T)], ["int64"]), ([(N, 16)], ["int64"])]
    if kind in ("RNN", "LSTM", "GRU"):
        shape = (N, T, m.input_size) if m.batch_first else (T, N, m.input_size)
        return [([shape], [None])]
    if kind == "LayerNorm":
        return [([(N, T, *m.normalized_shape)], [None])]
    return []


# --------------------------------------------------------------------------- building the graph

def build(model: Module | str | Path, shapes: Sequence[Sequence[Any]] | None = None, *,
          dtypes: Sequence[str | None] | None = None, names: Sequence[str | None] | None = None,
          named: dict[str, Any] | None = None, training: bool = False) -> Graph:
    """The graph of ``model`` (a Module, or a model file, built shape-only) for inputs of ``shapes``.

    A size may be a name (``("N", 3, "H", "W")`` or a ``Dim``): it stays symbolic in the edges' labels.
    Without ``shapes``, they are guessed from the model's first layers (``guesses``), symbolic where the
    model allows. ``dtypes`` gives an input's dtype where it is not float32 (``"int64"`` token ids),
    ``names`` the forward's input each shape is for, ``named`` its non-array inputs, as ``static.infer``'s do.
    """
    source = None
    if not isinstance(model, Module):
        from ..builder import load

        source = str(model)
        model = load(model, meta=True)
    modes = [(m, m.training) for m in model.modules()]
    model.train(training)
    try:
        if shapes is not None:
            given = [tuple(_size(s) for s in shape) for shape in shapes]
            return _build(model, given, list(dtypes or [None] * len(given)), names, named, source, False)
        tried = guesses(model)
        first: NNSpecError | None = None
        for guess, kinds in tried:
            try:
                return _build(model, guess, kinds, None, named, source, True)
            except NNSpecError as e:
                first = first or e
        why = f": {first}" if first is not None else ""
        raise GraphError(f"give the input shapes (a size may be a name, as in N,3,H,W); nnspec could not guess "
                         f"them from {model._get_name()}'s first layers{why}", position=_file(model)) from None
    finally:
        for m, mode in modes:
            m.training = mode


def _file(model: Module):
    from ..errors import Position

    where = model.__dict__.get("_spec_position")
    return Position(file=where.file) if where is not None else None


def _where(module: Module | None, position: Any = None) -> str | None:
    position = position if position is not None else \
        module.__dict__.get("_spec_position") if module is not None else None
    return str(position) if position is not None and position.file is not None else None


def _build(model: Module, shapes: list[tuple], dtypes: list[str | None], names: Sequence[str | None] | None,
           named: dict | None, source: str | None, guessed: bool) -> Graph:
    from ..plan.plan import record_traced

    with assumptions() as log:
        try:
            compiled = record_traced(model, shapes, dtypes, named=named, names=names)
        except PlanError as e:
            raise GraphError(f"nnspec cannot draw this model's dataflow: {e.message}", path=e.path,
                             position=e.position) from None
    program, calls = compiled.program, compiled.calls
    ends = call_ends(calls)
    paths = dict(model.named_modules())  # path -> module ("": the model)
    made: dict[int, str] = {}  # slot -> the id of the box that made it
    boxes: list[Box] = []
    edges: list[Edge] = []
    input_names = _input_names(model, len(program.inputs), names)
    inputs = []
    for k, slot in enumerate(program.inputs):
        shape, dtype = program.shapes[slot]
        box = Box(f"in{k}", "input", input_names[k], input_names[k], "input", None, "io",
                  detail=f"{format_shape(shape)} {dtype}")
        boxes.append(box)
        made[slot] = box.id
        inputs.append((input_names[k], format_shape(shape), str(dtype)))
    clusters: dict[str, Cluster] = {}
    counted: set[int] = set()  # parameters a box counts already
    called: set[int] = set()
    for i, step in enumerate(program.steps):
        mult_adds: DimLike = 0
        for j in range(step.call, ends[step.call] if 0 <= step.call < len(calls) else step.call):
            mult_adds = mult_adds + calls[j].mult_adds
        if step.module is not None:
            module_path = "" if step.name == "(root)" else step.name
            owner = module_path.rpartition(".")[0] if module_path else None
            module = step.module
            mine = [p for p in module.parameters() if not is_lazy(p)]  # each once; a lazy one has no size yet
            shared = bool(mine) and (id(module) in called or all(id(p) in counted for p in mine))
            called.add(id(module))
            counted |= {id(p) for p in mine}
            label = module_path.rpartition(".")[2] if module_path else model._get_name()
            box = Box(f"s{i}", "layer", step.name, label, module._get_name(), None, family_of(step.kind),
                      0 if shared else sum(p.numel() for p in mine), mult_adds, _where(module),
                      _layer_text(module), shared)
        else:
            owner, _, node = step.name.rpartition(".")
            box = Box(f"s{i}", "op", step.name, node, step.kind, None, family_of(step.kind), 0, mult_adds,
                      _where(None, step.position), _op_text(step, program))
        if owner is not None and owner in paths and owner != "":
            box.cluster = _cluster(owner, paths, clusters).id
        boxes.append(box)
        seen: set[int] = set()
        for slot in step.refs():
            source_id = made.get(slot)
            if source_id is None or slot in seen:  # a parameter or buffer read by an op: no edge
                continue
            seen.add(slot)
            shape, dtype = program.shapes[slot]
            edges.append(Edge(source_id, box.id, format_shape(shape), str(dtype)))
        for slot in step.outputs():
            made[slot] = box.id
    outputs = []
    for k, (name, ref) in enumerate(_named_refs(program.output)):
        shape, dtype = program.shapes[ref.slot]
        box = Box(f"out{k}", "output", name, name, "output", None, "io", detail=f"{format_shape(shape)} {dtype}")
        boxes.append(box)
        outputs.append((name, format_shape(shape), str(dtype)))
        if ref.slot in made:
            edges.append(Edge(made[ref.slot], box.id, format_shape(shape), str(dtype)))
    by_id = {c.id: c for c in clusters.values()}
    for box in boxes:  # a cluster's mult-adds: its boxes'
        cid = box.cluster
        while cid is not None:
            c = by_id[cid]
            c.mult_adds = c.mult_adds + box.mult_adds
            cid = c.parent
    ordered = sorted(clusters.values(), key=lambda c: (c.depth, _first_box(boxes, c.id)))
    total = totals(model)
    mult_adds = sum((b.mult_adds for b in boxes), start=0)
    return Graph(model._get_name(), source, boxes, ordered, edges, total["params"], total["trainable"], mult_adds,
                 inputs, outputs, _strongest(log.needed()), guessed)


def _first_box(boxes: list[Box], cid: str) -> int:
    return next((k for k, b in enumerate(boxes) if b.cluster == cid), len(boxes))


def _cluster(path: str, paths: dict[str, Module], clusters: dict[str, Cluster]) -> Cluster:
    """The cluster of the module at ``path``, made with its parents where new."""
    found = clusters.get(path)
    if found is not None:
        return found
    parent_path, _, label = path.rpartition(".")
    parent = _cluster(parent_path, paths, clusters) if parent_path else None
    module = paths[path]
    params = sum(p.numel() for p in module.parameters() if not is_lazy(p))  # parameters() gives a shared one once
    found = clusters[path] = Cluster(f"c{len(clusters)}", path, label, module._get_name(), parent.id if parent else None,
                                     path.count(".") + 1, params, 0, _where(module), has_custom_forward(module))
    return found


def _input_names(model: Module, n: int, names: Sequence[str | None] | None) -> list[str]:
    """Each input's name: as given, else the forward's next parameter not given by name, else input<k>."""
    given = list(names or [None] * n)
    taken = {g for g in given if g}
    free = [p.name for p in forward_parameters(model)
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.name not in taken]
    out = []
    for k, g in enumerate(given):
        out.append(g if g else free.pop(0) if free else ("input" if n == 1 else f"input{k}"))
    return out


def _named_refs(output: Any) -> list[tuple[str, Ref]]:
    """The arrays of a forward's result with names: ``output``, or ``output[0]``, ``output.logits`` inside it."""
    found: list[tuple[str, Ref]] = []

    def walk(value: Any, name: str) -> None:
        if isinstance(value, Ref):
            found.append((name, value))
        elif isinstance(value, dict):
            for k, v in value.items():
                walk(v, f"{name}.{k}")
        elif isinstance(value, (tuple, list)) and not hasattr(value, "_fields"):
            for k, v in enumerate(value):
                walk(v, f"{name}[{k}]")
        elif isinstance(value, tuple):  # a named tuple
            for k, v in zip(value._fields, value):
                walk(v, f"{name}.{k}")

    walk(output, "output")
    return found


def _layer_text(module: Module) -> str:
    """The layer as torch prints it on one line: ``Conv2d(3, 64, kernel_size=(7, 7), ...)``."""
    extra = module.extra_repr()
    return f"{module._get_name()}({extra})" if "\n" not in extra else module._get_name()


def _op_text(step: Any, program: Any) -> str:
    """An op's call with each array written as its shape: ``.view((N, 512, 1, 1), N, -1)``."""
    def show(v: Any) -> Any:
        return _Shown(format_shape(program.shapes[v.slot][0])) if isinstance(v, Ref) else v

    args = [repr(map_nested(a, show)) for a in step.args]
    args += [f"{k}={map_nested(v, show)!r}" for k, v in step.kwargs.items()]
    text = f"{step.kind}({', '.join(args)})"
    return text if len(text) <= 300 else text[:299] + "\u2026"


class _Shown:
    """A shape written where an array was given (its repr is the text)."""

    def __init__(self, text: str):
        self.text = text

    def __repr__(self) -> str:
        return self.text

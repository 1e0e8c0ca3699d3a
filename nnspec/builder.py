"""Validated specs to a Module tree with registered Parameters and buffers.

Construction order is torch's: a module's own state first, then its children
in file order, so the seeded generator hands out weights the way a torch
``__init__`` written the same way would draw them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy

from . import nn
from .errors import CompileError, ErrorLog, NNSpecError, Position
from .ir import ForwardSource, compile_forward
from .ir.program import parse_functions
from .nn.user import base_class, custom_class
from .resources import MAX_MODULES, MODULES_WHY, budget, empty, shape_only
from .runtime.meta import is_meta
from .runtime import random
from .spec import functions_text, locate, tied_parameters, parse, read, validate, weight_renames
from .spec.loader import walk
from .spec import models as S

class Builder:
    """Builds one model file's spec; knows the parsed data so errors carry positions."""

    def __init__(self, data: Any = None, filename: str = "<string>", text: str | None = None,
                 functions: dict | None = None, errors: ErrorLog | None = None):
        self.data = data
        self.errors = errors if errors is not None else ErrorLog()  # the forwards' mistakes, raised by Source.build
        self.functions = functions or {}  # the file's module-level defs (its functions: text), by name
        self.filename = filename
        self.text = text  # the file's text, to place errors inside forward code
        self._lines: list[str] | None = None  # ... split into lines once, for every forward in it
        self.modules = 0
        self._located: dict[tuple, tuple[Any, Position | None]] = {}  # loc -> (its node, its position)

    def _where(self, loc: tuple) -> Position:
        """``locate(self.data, loc)``, walked from the nearest path located before (a module's path extends
        its parent's by a key or two), so that placing each module costs O(1), not O(its depth)."""
        if self.data is None:
            return Position(self.filename)
        start, keys = (self.data, getattr(self.data, "pos", None)), loc
        for cut in (1, 2, 3):
            found = self._located.get(loc[:-cut]) if len(loc) >= cut else None
            if found is not None:
                start, keys = found, loc[-cut:]
                break
        self._located[loc] = reached = walk(*start, keys)  # (its node, its position)
        return reached[1] or Position(self.filename)

    def error(self, message: str, loc: tuple) -> CompileError:
        return CompileError(message, path=".".join(map(str, loc)) or "(root)", position=self._where(loc))

    def module(self, spec: Any, loc: tuple = (), parent: nn.Module | None = None) -> nn.Module:
        """The module for ``spec``; any NNSpecError raised inside is given the spec's position."""
        if isinstance(spec, S.ShareSpec):
            return self.share(spec, loc, parent)
        self.modules += 1
        if self.modules > MAX_MODULES:
            raise self.error(f"the model has more than {MAX_MODULES:,} modules, {MODULES_WHY}", loc)
        where = self._where(loc)  # placed before its children, which are placed from it
        try:
            module = self._build(spec, loc, parent)
            module.__dict__["_spec_position"] = where  # where run-time errors in it point
            return module
        except CompileError as e:
            if e.position is not None and e.position.line is not None:
                raise  # already placed, by a deeper module
            raise self.error(e.message, loc) from None
        except NNSpecError as e:
            raise self.error(e.message, loc) from None

    def _build(self, spec: Any, loc: tuple, parent: nn.Module | None = None) -> nn.Module:
        if isinstance(spec, S.LayerSpec):
            kwargs = spec.kwargs()
            for name in spec.module_fields:  # a module argument (TransformerEncoder's encoder_layer): built first
                if kwargs[name] is not None:
                    kwargs[name] = self.module(kwargs[name], loc + (name,), parent)
            sub = spec.subclass()
            layer = self.instance(sub, spec.layer, kwargs)
            self.attributes(layer, sub.attributes, loc)
            self.forward(layer, sub.forward, sub.inputs, loc)
            return layer
        if isinstance(spec, S.SequentialSpec):
            seq = self.instance(spec.subclass(), nn.Sequential)
            self.attributes(seq, spec.attributes, loc)
            items = spec.modules.items() if isinstance(spec.modules, dict) else enumerate(spec.modules)
            for key, child in items:
                seq.add_module(str(key), self.module(child, loc + ("modules", key), seq))
            self.forward(seq, spec.forward, spec.inputs, loc)
            return seq
        if isinstance(spec, S.ModuleListSpec):
            ml = self.instance(spec.subclass(), nn.ModuleList)
            self.attributes(ml, spec.attributes, loc)
            if spec.modules is not None:
                for i, child in enumerate(spec.modules):
                    ml.append(self.module(child, loc + ("modules", i), ml))
            else:  # copies past the module cap were refused before validation (spec.count), none built
                for _ in range(spec.repeat or 0):  # neither form given: empty, as torch's ModuleList()
                    ml.append(self.module(spec.module, loc + ("module",), ml))
            self.forward(ml, spec.forward, spec.inputs, loc)
            return ml
        if isinstance(spec, S.ModuleDictSpec):
            md = self.instance(spec.subclass(), nn.ModuleDict)
            self.attributes(md, spec.attributes, loc)
            for key, child in spec.modules.items():
                md[key] = self.module(child, loc + ("modules", key), md)
            self.forward(md, spec.forward, spec.inputs, loc)
            return md
        if isinstance(spec, S.ParameterListSpec):
            pl = nn.ParameterList()
            if spec.parameters is not None:
                for i, p in enumerate(spec.parameters):
                    pl.append(self.parameter(p, loc + ("parameters", i)))
            else:
                for _ in range(spec.repeat or 0):  # neither form given: empty, as torch's ParameterList()
                    pl.append(self.parameter(spec.parameter, loc + ("parameter",)))
            return pl
        if isinstance(spec, S.ParameterDictSpec):
            pd = nn.ParameterDict()
            for key, p in spec.parameters.items():
                pd[key] = self.parameter(p, loc + ("parameters", key))
            return pd
        if isinstance(spec, S.UserModuleSpec):
            m = nn.UserModule(spec.name)
            for key, p in spec.parameters.items():
                m.register_parameter(key, self.parameter(p, loc + ("parameters", key)))
            for key, b in spec.buffers.items():
                m.register_buffer(key, self.array(b, loc + ("buffers", key)), persistent=b.persistent)
            self.attributes(m, spec.attributes, loc)
            for key, child in spec.modules.items():
                if child is None:  # absent, like torch's `self.downsample = None`: an attribute, not a child
                    setattr(m, key, None)
                else:
                    m.add_module(key, self.module(child, loc + ("modules", key), m))
            self.forward(m, spec.forward, spec.inputs, loc)
            return m
        raise self.error(f"cannot build a {type(spec).__name__}", loc)  # a spec class without a builder

    @staticmethod
    def instance(sub: S.Subclass, base: type, kwargs: dict | None = None) -> nn.Module:
        """``base(**kwargs)``; or, where the file subclasses it (a forward of its own, or another name), an
        instance of ``class <sub.name>(base)``, its forward still to compile (``forward``)."""
        if sub.forward is None and sub.name == base.__name__:
            m = base(**(kwargs or {}))
        else:
            cls = custom_class(sub.name, base)
            m = cls.__new__(cls)
            m._init_custom_forward(sub.name)  # first: the base's __init__ may name the module in an error
            m.__init__(**(kwargs or {}))
        m.__dict__["_init_kwargs"] = dict(kwargs or {})  # the call that made it, for nnspec.to_torch
        return m

    def attributes(self, m: nn.Module, attributes: dict, loc: tuple) -> None:
        """The constants a forward reads (``self.use_res_connect``), set as torch's ``__init__`` sets them; one
        may not replace what the class has (a layer's ``eps``). A list is set as a tuple, and a forward reads it
        as a list (torch's type)."""
        if attributes or isinstance(m, nn.CustomForward):
            m.__dict__["_list_attributes"] = frozenset(k for k, v in attributes.items() if isinstance(v, list))
            m.__dict__["_attribute_names"] = tuple(attributes)
        for key, value in attributes.items():
            if key in m.__dict__ or key in m._parameters or key in m._buffers or key in m._modules \
                    or hasattr(type(m), key):
                owner = m._get_name() if type(m).__name__ == base_class(m).__name__ else \
                    f"{m._get_name()} (a {base_class(m).__name__})"
                raise self.error(f"{key!r} can't be an attribute name: {owner} has one already",
                                 loc + ("attributes", key))
            setattr(m, key, tuple(value) if isinstance(value, list) else value)

    def forward(self, m: nn.Module, text: str | None, inputs: list[str] | None, loc: tuple) -> None:
        """``m``'s forward, compiled from the file's text (placed in the file, for its errors)."""
        if text is None:
            return
        where = self._where(loc + ("forward",))
        if self._lines is None and self.text is not None:
            self._lines = self.text.splitlines()
        source = ForwardSource.locate(text, self._lines, self.filename, where)
        try:
            compile_forward(m, source, inputs, ".".join(map(str, loc)), self.functions)
        except CompileError as e:  # noted, and the building goes on: every forward of the file is checked
            self.errors.add(e, place=lambda one: self.error(one.message, loc))
            if self.errors.full:
                raise self.errors.error() from None

    def share(self, spec: S.ShareSpec, loc: tuple, parent: nn.Module | None) -> nn.Module:
        if parent is None:
            raise self.error("the root module can't be a share", loc)
        target: nn.Module = parent
        parts = spec.share.split(".")
        for i, part in enumerate(parts):
            children = target._modules
            if part not in children or children[part] is None:
                inside = ".".join(parts[:i])
                if isinstance(target, (nn.ParameterList, nn.ParameterDict)):
                    problem = f"{inside} is a {target._get_name()}: it holds parameters, not modules"
                else:
                    known = ", ".join(k for k, v in children.items() if v is not None) or "none"
                    problem = f"no module {part!r} is registered {'in ' + inside if inside else 'before this one'} " \
                              f"(registered: {known})"
                raise self.error(f"share: {spec.share!r}: {problem}", loc + ("share",))
            target = children[part]
        return target

    def array(self, spec: S.ParameterSpec | S.BufferSpec, loc: tuple) -> Any:
        """A parameter's or buffer's array, filled as its ``init`` says."""
        try:
            a = empty(tuple(spec.shape), spec.dtype)
        except CompileError as e:
            raise self.error(e.message, loc + ("shape",)) from None
        init, gen = spec.init, random.generator()
        result = a
        if is_meta(a):
            # shape-only state draws nothing (the seeded draws are the real build's, and only they can tell
            # whether a random value overflows the dtype); a constant that can't be stored still fails here
            if not isinstance(init, S.ConstantInit):
                return a
            a = numpy.empty((1,), spec.dtype)
        with numpy.errstate(over="raise", invalid="raise"):
            try:
                if init in ("zeros", "ones"):
                    a[...] = 0 if init == "zeros" else 1
                elif init == "rand":
                    a[...] = gen.random(a.shape)
                elif init == "randn":
                    a[...] = gen.standard_normal(a.shape)
                elif isinstance(init, S.ConstantInit):
                    a[...] = init.constant
                elif isinstance(init, S.UniformInit):
                    a[...] = gen.uniform(init.uniform[0], init.uniform[1], a.shape)
                elif isinstance(init, S.NormalInit):
                    a[...] = gen.normal(init.normal[0], init.normal[1], a.shape)
                else:
                    a[...] = self._structured(init, tuple(a.shape), loc)
            except (OverflowError, ValueError, FloatingPointError) as e:
                raise self.error(f"cannot fill a {spec.dtype} array with {init}: {e}", loc + ("init",)) from None
        return result

    def _structured(self, init, shape: tuple, loc: tuple) -> Any:
        """The values of a tril, triu or arange init, broadcast over the leading dims, or of a relative position
        index (as int64 or bool; the caller's assignment converts them to the array's dtype)."""
        if isinstance(init, S.RelativePositionIndexInit):
            wh, ww = init.relative_position_index.window_size
            n = wh * ww
            if shape not in ((n * n,), (n, n)):
                raise self.error(f"a relative_position_index init of a {wh}x{ww} window fills shape [{n * n}] or "
                                 f"[{n}, {n}], got shape {list(shape)}", loc + ("init",))
            h, w = numpy.divmod(numpy.arange(n, dtype=numpy.int64), ww)  # each token's row and column in the window
            index = (h[:, None] - h[None, :] + wh - 1) * (2 * ww - 1) + (w[:, None] - w[None, :] + ww - 1)  # (n, n)
            return index.reshape(shape)
        if isinstance(init, (S.TrilInit, S.TriuInit)):
            if len(shape) < 2:
                raise self.error(f"a {'tril' if isinstance(init, S.TrilInit) else 'triu'} init needs at least 2 dims, "
                                 f"got shape {list(shape)}", loc + ("init",))
            rows, cols = numpy.arange(shape[-2])[:, None], numpy.arange(shape[-1])[None, :]
            d = (init.tril if isinstance(init, S.TrilInit) else init.triu).diagonal
            return (cols - rows <= d) if isinstance(init, S.TrilInit) else (cols - rows >= d)  # (n, m), broadcast
        if len(shape) < 1:
            raise self.error("an arange init needs at least 1 dim, got a 0-d shape", loc + ("init",))
        values = init.arange.start + init.arange.step * numpy.arange(shape[-1], dtype=numpy.int64)
        if not -(2**63) <= init.arange.start + init.arange.step * max(shape[-1] - 1, 0) < 2**63:
            raise OverflowError("the values overflow int64")
        return values

    def parameter(self, spec: S.ParameterSpec, loc: tuple) -> nn.Parameter:
        return nn.Parameter(self.array(spec, loc), requires_grad=spec.requires_grad)


def _located(text: str, lines: list[str] | None, filename: str, where: Position) -> tuple[str, ForwardSource]:
    source = ForwardSource.locate(text, lines, filename, where)
    return source.code, source


class Source:
    """A model file read, parsed and validated once, to build as often as needed (``nnspec run`` builds a
    shape-only twin to check first, then the model: the file is not parsed twice)."""

    def __init__(self, data: Any, filename: str, text: str | None = None):
        self.spec, self.expanded = validate(data, filename)
        self.renames = weight_renames(data, filename)
        self.filename, self.text = filename, text
        self.functions: dict = {}
        self.function_errors: list[CompileError] = []  # reported with the forwards' when the model is built
        self.tied = tied_parameters(data, filename)
        found = functions_text(data, filename)
        if found is not None:
            lines = text.splitlines() if text is not None else None
            self.functions, self.function_errors = parse_functions(*_located(found[0], lines, filename, found[1]))

    @classmethod
    def read(cls, path: str | Path) -> Source:
        text, filename = read(path)
        return cls(parse(text, filename), filename, text)

    def tie(self, model: nn.Module) -> None:
        """Make each ``tied:`` target the same Parameter as its source (torch's ``a.weight = b.weight``)."""
        tied = {}
        for target, source, where in self.tied:
            def find(key: str, what: str):
                owner, _, name = key.rpartition(".")
                try:
                    module = model.get_submodule(owner) if owner else model
                except (AttributeError, KeyError, TypeError):
                    module = None
                if module is None or name not in module._parameters or module._parameters[name] is None:
                    raise CompileError(f"the model has no parameter {key!r} ({what})", path="tied",
                                       position=where)
                return module, name

            tmod, tname = find(target, "the parameter to tie")
            smod, sname = find(source, "the parameter it shares")
            t, src = tmod._parameters[tname], smod._parameters[sname]
            if tuple(t.shape) != tuple(src.shape) or str(t.dtype) != str(src.dtype):
                raise CompileError(f"{target} is {t.dtype} {tuple(t.shape)}, {source} is {src.dtype} "
                                   f"{tuple(src.shape)}: a tied parameter must have its source's shape and dtype",
                                   path="tied", position=where)
            tmod._parameters[tname] = src
            tied[target] = source
        model.__dict__["_tied"] = tied

    def build(self, *, seed: int | None = None, memory_limit: int | None = None, meta: bool = False) -> nn.Module:
        """The model (see ``load`` for the arguments)."""
        if seed is not None:
            random.manual_seed(seed)
        built = Builder(self.expanded, self.filename, self.text, self.functions, ErrorLog(self.function_errors))
        with budget(memory_limit), shape_only(meta):
            try:
                model = built.module(self.spec)
            except CompileError as e:  # what stopped the building, with the forwards' mistakes found before it
                if not built.errors:
                    raise
                built.errors.add(e)
                raise built.errors.error() from None
        if built.errors:  # the mistakes of every forward and of functions:, together
            raise built.errors.error()
        model.__dict__["_weight_renames"] = self.renames  # applied by nnspec.weights.prepare, for --weights
        self.tie(model)
        return model


def _build(data: Any, filename: str, seed: int | None, memory_limit: int | None, text: str | None = None,
           meta: bool = False) -> nn.Module:
    return Source(data, filename, text).build(seed=seed, memory_limit=memory_limit, meta=meta)


def from_dict(d: dict, *, seed: int | None = None, memory_limit: int | None = None, meta: bool = False) -> nn.Module:
    """Build a model from a plain dict, as a parsed model file would give."""
    return _build(d, "<dict>", seed, memory_limit, meta=meta)


def loads(text: str, *, filename: str = "<string>", seed: int | None = None, memory_limit: int | None = None,
          meta: bool = False) -> nn.Module:
    """Build a model from YAML or JSON text."""
    return _build(parse(text, filename), filename, seed, memory_limit, text, meta)


def load(path: str | Path, *, seed: int | None = None, memory_limit: int | None = None,
         meta: bool = False) -> nn.Module:
    """Build a model from a .yaml, .yml or .json file.

    ``seed`` reseeds the generator first; ``memory_limit`` (bytes, default: the memory free now)
    bounds the model's parameters and buffers, refused before they are allocated. ``meta=True``
    builds a shape-only model (parameters and buffers are MetaArrays, nothing is allocated or
    initialised) for static inference: ``nnspec.infer``.
    """
    text, filename = read(path)
    return loads(text, filename=filename, seed=seed, memory_limit=memory_limit, meta=meta)


__all__ = ["Builder", "Source", "from_dict", "load", "loads"]

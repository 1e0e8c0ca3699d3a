"""Reusable blocks: parameterised module definitions, expanded into plain specs before validation.

A model file may define blocks once and use them as often as it likes, as a Python
class with constructor arguments is used::

    blocks:
      BasicBlock:
        args: {inplanes: int, planes: int, stride: 1}      # a type name: required; a value: the default
        modules:
          conv1: {Conv2d: [$inplanes, $planes, 3], stride: $stride, padding: 1, bias: false}
          downsample: {when: "stride != 1 or inplanes != planes", Sequential: [...]}
        forward: |
          ...
    modules:
      layer1: {Sequential: [{BasicBlock: {inplanes: 64, planes: 64}, repeat: 2}]}

- ``$name`` is an argument's value and ``${expr}`` an expression's (``${planes * 4}``),
  evaluated by the forward compiler's own constant folding (``ir.compiler.evaluate``), never by
  Python's ``eval``; inside a longer string either is interpolated as text.
- ``when: expr`` on any module makes it conditional: when false it is absent (None, as
  ``self.downsample = None`` is in torch; a list item is dropped).
- ``repeat: N`` on an item of a module list repeats it N times, its index bound to ``i``
  (or to the name given by ``index:``).
- A block's body may use other blocks. A user-defined block's class name is the block's name.

An error inside a block names the place in its definition and the place it was used at.
"""

from __future__ import annotations

import difflib
import re
from typing import Any

from ..errors import CompileError, Position, SpecError
from .loader import PosDict, PosList, _short
from .models import CONTAINER_SPECS, LAYER_SPECS

MAX_BLOCK_DEPTH = 32  # blocks using blocks
MAX_EXPANDED = 200_000  # module nodes after expansion: repeat and nesting multiply
MAX_VALUES = 5_000_000  # values copied while expanding (a block's literal list, copied at every use)
MAX_TEXT = 100_000  # characters of a string after substitution ("$a$a" doubling, argument after argument)
ARG_TYPES = {"int": int, "float": (int, float), "bool": bool, "str": str, "list": list, "any": object}
_PIECE = re.compile(r"\$(?:\{([^{}]*)\}|([A-Za-z_]\w*))")
_MODULE_LISTS = ("Sequential", "ModuleList")


class _Use:
    """Where a block was used: the innermost use wraps the error of anything expanded from it."""

    def __init__(self, name: str, position: Position | None, outer: _Use | None):
        self.name, self.position, self.outer = name, position, outer

    def describe(self) -> str:
        parts, use = [], self
        while use is not None:
            where = f"line {use.position.line}" if use.position is not None and use.position.line else "?"
            parts.append(f"{use.name} used at {where}")
            use = use.outer
        return "in block " + ", in ".join(parts)


class _Splice(PosList):
    """The modules of an ``items:`` block: they take the place of its use in a list."""


class Expander:
    """Expands every block use, ``when`` and ``repeat`` of one model file."""

    def __init__(self, blocks: dict, filename: str):
        self.blocks = blocks
        self.filename = filename
        self.count = 0
        self.values = 0

    # ------------------------------------------------------------------ errors

    def error(self, message: str, position: Position | None, use: _Use | None, path: tuple) -> SpecError:
        if use is not None:
            message = f"{message} ({use.describe()})"
        return SpecError(message, path=".".join(map(str, path)) or None, position=position or Position(self.filename))

    # ------------------------------------------------------------------ values

    def value(self, v: Any, env: dict, pos: Position | None, use: _Use | None, path: tuple) -> Any:
        """``v`` with every ``$name`` and ``${expr}`` in its strings replaced (a copy; positions kept)."""
        self.values += 1
        if self.values > MAX_VALUES:
            raise self.error(f"the model expands to more than {MAX_VALUES:,} values", pos, use, path)
        if isinstance(v, str):
            return self.string(v, env, pos, use, path)
        if isinstance(v, dict):
            out = _like(v)
            for k, item in v.items():
                vp = _vpos(v, k) or pos
                out[k] = item if k == "forward" else self.value(item, env, vp, use, path + (k,))
                _copy_pos(v, out, k)
            return out
        if isinstance(v, list):
            out = _like(v)
            for i, item in enumerate(v):
                out.append(self.value(item, env, _ipos(v, i) or pos, use, path + (i,)))
            return out
        return v

    def string(self, s: str, env: dict, pos: Position | None, use: _Use | None, path: tuple) -> Any:
        if "$" not in s:
            return s
        m = _PIECE.fullmatch(s)
        if m:  # the whole string is one $name or ${expr}: its value, of its own type
            return self.evaluate(m.group(1), env, pos, use, path) if m.group(1) is not None \
                else self.name(m.group(2), env, pos, use, path)

        def piece(m: re.Match) -> str:
            value = self.evaluate(m.group(1), env, pos, use, path) if m.group(1) is not None \
                else self.name(m.group(2), env, pos, use, path)
            return str(value)

        out = _PIECE.sub(piece, s.replace("$$", "\x00")).replace("\x00", "$")
        if len(out) > MAX_TEXT:
            raise self.error(f"a string grows past {MAX_TEXT:,} characters by substitution", pos, use, path)
        return out

    def name(self, name: str, env: dict, pos: Position | None, use: _Use | None, path: tuple) -> Any:
        if name in env:
            return env[name]
        known = sorted(env)
        close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
        hint = f"; did you mean ${close[0]}?" if close else \
            f"; the names here are: {', '.join(known)}" if known else " (no block argument is in scope here)"
        raise self.error(f"unknown name ${name}{hint}", pos, use, path)

    def evaluate(self, expression: str, env: dict, pos: Position | None, use: _Use | None, path: tuple) -> Any:
        from ..ir.compiler import evaluate
        from ..ir.source import ForwardSource

        where = ForwardSource(expression, self.filename, pos.line if pos else None, (pos.col or 1) - 1 if pos else 0,
                              exact=False)
        try:
            return evaluate(expression, env, where)
        except CompileError as e:
            message = e.message.replace(" in a forward", " in an expression")
            raise self.error(message, pos, use, path) from None

    # ------------------------------------------------------------------ modules

    def module(self, node: Any, env: dict, pos: Position | None, use: _Use | None, path: tuple) -> Any:
        """A module node with blocks expanded; None where its ``when`` is false."""
        self.count += 1
        if self.count > MAX_EXPANDED:
            raise self.error(f"the model expands to more than {MAX_EXPANDED:,} modules", pos, use, path)
        if isinstance(node, str) and node in self.blocks:
            node = _with_pos({node: None}, pos)
        if not isinstance(node, dict):
            return self.value(node, env, pos, use, path)
        if "when" in node:
            if not self.truth(node["when"], env, _vpos(node, "when") or pos, use, path + ("when",)):
                return None
            node = _without(node, "when")
        kind = _kind(node)
        if kind in self.blocks:
            return self.use(kind, node, env, pos, use, path)
        out = _like(node)
        module_args = getattr(LAYER_SPECS.get(kind), "module_fields", ())  # TransformerEncoder's encoder_layer
        for k, v in node.items():
            vp = _vpos(node, k) or pos
            if k == "forward":
                out[k] = v
            elif k in ("modules", "module") or (k == kind and kind in CONTAINER_SPECS):  # {Sequential: [...]}
                out[k] = self.children(v, env, vp, use, path + (k,), kind)
            elif k in module_args:
                out[k] = self.module(v, env, vp, use, path + (k,))
            elif k == kind and module_args and isinstance(v, (dict, list)):  # {TransformerEncoder: [layer, 2]}
                out[k] = self.layer_args(kind, v, env, vp, use, path + (k,))
            else:
                out[k] = self.value(v, env, vp, use, path + (k,))
            _copy_pos(node, out, k)
        return out

    def layer_args(self, kind: str, value: Any, env: dict, pos: Position | None, use: _Use | None,
                   path: tuple) -> Any:
        """A layer's one-key arguments, by name or in torch's order: its module arguments are modules."""
        spec = LAYER_SPECS[kind]
        out = _like(value)
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for k, v in items:
            name = k if isinstance(value, dict) else spec.positional[k] if k < len(spec.positional) else None
            vp = (_vpos(value, k) if isinstance(value, dict) else _ipos(value, k)) or pos
            one = self.module(v, env, vp, use, path + (k,)) if name in spec.module_fields else \
                self.value(v, env, vp, use, path + (k,))
            if isinstance(value, dict):
                out[k] = one
                _copy_pos(value, out, k)
            else:
                out.append(one)
        if isinstance(value, list):
            out.item_pos = list(getattr(value, "item_pos", []))
        return out

    def children(self, value: Any, env: dict, pos: Position | None, use: _Use | None, path: tuple,
                 kind: str | None) -> Any:
        if isinstance(value, list):
            out = _like(value)
            out.item_pos = []
            for i, item in enumerate(value):
                ipos = _ipos(value, i) or pos
                for n, (copy, scope, copies) in enumerate(self.repeated(item, env, ipos, use, path + (i,))):
                    before = self.count
                    expanded = self.module(copy, scope, ipos, use, path + (i,))
                    if n == 0 and copies > 1 and self.count + (copies - 1) * (self.count - before) > MAX_EXPANDED \
                            and not _mentions_expansion(copy):  # every copy the same: the whole is known now
                        raise self.error(f"the model expands to more than {MAX_EXPANDED:,} modules ({copies:,} "
                                         f"copies of {self.count - before:,})", ipos, use, path + (i,))
                    for one in (expanded if isinstance(expanded, _Splice) else [expanded]):
                        if one is not None:  # a false `when` drops a list item
                            out.append(one)
                            out.item_pos.append(ipos)
            return out
        if isinstance(value, dict) and not _kind(value) and kind not in LAYER_SPECS and "type" not in value:
            out = _like(value)
            for k, item in value.items():
                expanded = self.module(item, env, _vpos(value, k) or pos, use, path + (k,))
                if expanded is None and kind in ("Sequential", "ModuleDict"):
                    continue  # a false `when`: the entry is absent (only a user module keeps a None attribute)
                out[k] = expanded
                _copy_pos(value, out, k)
            return out
        return self.module(value, env, pos, use, path)

    def repeated(self, item: Any, env: dict, pos: Position | None, use: _Use | None, path: tuple):
        """(item, env, N) once, or, for ``repeat: N``, N times with the index bound."""
        if not isinstance(item, dict) or "repeat" not in item or _kind(item) in ("ModuleList", "ParameterList"):
            yield item, env, 1
            return
        count = self.value(item["repeat"], env, _vpos(item, "repeat") or pos, use, path + ("repeat",))
        index = item.get("index", "i")
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise self.error(f"repeat must be a number >= 0, got {_short(count)}", _vpos(item, "repeat") or pos,
                             use, path + ("repeat",))
        if not isinstance(index, str) or not index.isidentifier():
            raise self.error(f"index must be a name, got {_short(index)}", _vpos(item, "index") or pos, use,
                             path + ("index",))
        if count > MAX_EXPANDED:
            raise self.error(f"repeat {count:,} is more than {MAX_EXPANDED:,}", _vpos(item, "repeat") or pos, use,
                             path + ("repeat",))
        body = _without(_without(item, "repeat"), "index")
        for n in range(count):
            yield body, {**env, index: n}, count

    def truth(self, value: Any, env: dict, pos: Position | None, use: _Use | None, path: tuple) -> bool:
        """``when``'s value: an expression (``stride != 1``), or a string whose $-parts make one, or a value."""
        if isinstance(value, str):
            if "$" in value:
                value = self.string(value, env, pos, use, path)
            if isinstance(value, str):
                value = self.evaluate(value, env, pos, use, path)
        if not isinstance(value, (bool, int, type(None))):
            raise self.error(f"when must be true or false, got {_short(value)}", pos, use, path)
        return bool(value)

    def use(self, name: str, node: dict, env: dict, pos: Position | None, outer: _Use | None, path: tuple) -> Any:
        """One use of a block: its arguments bound, its body expanded in their scope."""
        depth, u = 0, outer
        while u is not None:
            if u.name == name:
                raise self.error(f"block {name} uses itself", pos, outer, path)
            depth, u = depth + 1, u.outer
        if depth >= MAX_BLOCK_DEPTH:
            raise self.error(f"blocks nest more than {MAX_BLOCK_DEPTH} deep", pos, outer, path)
        definition = self.blocks[name]
        for key in ("repeat", "index"):  # a list item's repeat was consumed by repeated()
            if key in node:
                raise self.error(f"{key} repeats an item of a module list; {name} here is not one",
                                 _kpos(node, key) or pos, outer, path + (key,))
        if "type" not in node:
            extra = [k for k in node if k != name]
            if extra:
                raise self.error(f"unknown key {extra[0]!r} beside the use of block {name}; its arguments go "
                                 f"inside: {{{name}: {{{extra[0]}: ...}}}}", _kpos(node, extra[0]) or pos, outer,
                                 path + (extra[0],))
        given = _block_args(node, name)
        args_spec = definition.get("args") or {}
        here = _Use(name, pos, outer)
        bound: dict[str, Any] = {}
        for arg, value in given.items():
            vpos = _vpos(given, arg) or pos
            if arg not in args_spec:
                close = difflib.get_close_matches(str(arg), list(args_spec), n=1, cutoff=0.6)
                hint = f"; did you mean {close[0]!r}?" if close else \
                    f"; {name} takes: {', '.join(args_spec) or 'no arguments'}"
                raise self.error(f"{name} has no argument {arg!r}{hint}", _kpos(given, arg) or pos, outer,
                                 path + (arg,))
            bound[arg] = self.value(value, env, vpos, outer, path + (arg,))
        for arg, default in args_spec.items():
            kind = ARG_TYPES.get(default) if isinstance(default, str) else None
            apos = _vpos(args_spec, arg)
            if arg not in bound:
                if kind is not None:
                    raise self.error(f"{name} needs argument {arg!r} ({default})", pos, outer, path)
                bound[arg] = self.value(default, bound, apos, here, ("blocks", name, "args", arg))
            elif kind is not None and (not isinstance(bound[arg], kind) or
                                       (kind is not bool and isinstance(bound[arg], bool) and default != "any")):
                raise self.error(f"{name}: argument {arg!r} must be {default}, got {_short(bound[arg])}",
                                 _vpos(given, arg) or pos, outer, path + (arg,))
        body = _without(definition, "args")
        if "items" in body:  # a list of modules, spliced into the list the block is used in
            items = body["items"]
            if not isinstance(items, list):
                raise self.error(f"block {name}: items must be a list of modules", _vpos(body, "items"), outer, path)
            return _Splice(self.children(items, bound, _vpos(body, "items"), here, path, "Sequential"))
        if _kind(body) is None and "name" not in body:  # a user-defined block: its name is its class name
            body = _with_key(body, "name", name)
        return self.module(body, bound, getattr(definition, "pos", None), here, path)


# --------------------------------------------------------------------------- helpers on positioned data


def _like(v: Any) -> Any:
    out = PosDict() if isinstance(v, dict) else PosList()
    out.pos = getattr(v, "pos", None)
    return out


def _copy_pos(src: Any, dst: PosDict, key: Any) -> None:
    if isinstance(src, PosDict):
        if key in src.key_pos:
            dst.key_pos[key] = src.key_pos[key]
        if key in src.value_pos:
            dst.value_pos[key] = src.value_pos[key]


def _vpos(d: Any, key: Any) -> Position | None:
    return d.value_pos.get(key) if isinstance(d, PosDict) else None


def _kpos(d: Any, key: Any) -> Position | None:
    return d.key_pos.get(key) if isinstance(d, PosDict) else None


def _ipos(lst: Any, i: int) -> Position | None:
    items = getattr(lst, "item_pos", [])
    return items[i] if i < len(items) else None


def _without(d: dict, key: str) -> PosDict:
    out = _like(d)
    for k, v in d.items():
        if k != key:
            out[k] = v
            _copy_pos(d, out, k)
    return out


def _with_key(d: dict, key: str, value: Any) -> PosDict:
    """``d`` with ``key`` set first (a class name reads best at the top)."""
    out = _like(d)
    out[key] = value
    rest = _without(d, key)
    for k, v in rest.items():
        out[k] = v
        _copy_pos(rest, out, k)
    return out


def _with_pos(d: dict, pos: Position | None) -> PosDict:
    out = PosDict(d)
    out.pos = pos
    for k in d:
        out.key_pos[k] = pos
        out.value_pos[k] = pos
    return out


def _kind(node: Any) -> str | None:
    """The type a module node names: its ``type``, or the one capitalised key of the one-key form."""
    if not isinstance(node, dict):
        return None
    if "type" in node:
        return node["type"] if isinstance(node["type"], str) else None
    keys = [k for k in node if isinstance(k, str) and k[:1].isupper()]
    return keys[0] if len(keys) == 1 else None


def _block_args(node: dict, name: str) -> PosDict:
    """The arguments of a block use: ``{Name: {args}}``, ``{Name: null}`` or ``{type: Name, arg: ...}``."""
    if "type" in node:
        return _without(node, "type")
    value = node.get(name)
    if value is None:
        return PosDict()
    if not isinstance(value, dict):
        raise SpecError(f"a block's arguments are a mapping of names, got {_short(value)}",
                        position=_vpos(node, name))
    return value


def expand_blocks(data: Any, filename: str) -> Any:
    """The model file's data with its ``blocks`` definitions applied and removed."""
    if not isinstance(data, dict):
        return data
    blocks = data.get("blocks") or {}
    if not isinstance(blocks, dict):
        raise SpecError("blocks must be a mapping of block names to definitions",
                        path="blocks", position=_vpos(data, "blocks") or Position(filename))
    for name, definition in blocks.items():
        where = _kpos(blocks, name) or Position(filename)
        if not isinstance(name, str) or not name.isidentifier() or not name[:1].isupper():
            raise SpecError(f"a block's name is a class name (CamelCase), got {_short(name)}", path="blocks",
                            position=where)
        if name in LAYER_SPECS or name in CONTAINER_SPECS:
            raise SpecError(f"block {name} would hide torch.nn's {name}; choose another name",
                            path=f"blocks.{name}", position=where)
        if not isinstance(definition, dict):
            raise SpecError(f"block {name} must be a mapping (a module definition), got {_short(definition)}",
                            path=f"blocks.{name}", position=_vpos(blocks, name) or where)
        args = definition.get("args") or {}
        if not isinstance(args, dict) or not all(isinstance(a, str) and a.isidentifier() for a in args):
            raise SpecError(f"block {name}: args must map argument names to a type (int, float, bool, str, list, "
                            "any) or a default value", path=f"blocks.{name}.args",
                            position=_vpos(definition, "args") or where)
    body = _without(data, "blocks") if "blocks" in data else data
    if not blocks and not _mentions_expansion(body):
        return body
    try:
        expanded = Expander(blocks, filename).module(body, {}, getattr(data, "pos", None), None, ())
    except RecursionError:
        raise SpecError("blocks nest too deeply to expand", position=Position(filename)) from None
    from .loader import _check_size

    _check_size(expanded, filename)  # the expanded model keeps the file's bounds (nesting depth, size)
    return expanded


def _mentions_expansion(node: Any, depth: int = 0) -> bool:
    """Whether any module uses ``when``, ``repeat`` on a list item, or a ``$`` substitution."""
    if depth > 200:
        return True
    if isinstance(node, str):
        return "$" in node
    if isinstance(node, dict):
        return "when" in node or any(k != "forward" and _mentions_expansion(v, depth + 1) for k, v in node.items())
    if isinstance(node, list):
        return any(isinstance(v, dict) and "repeat" in v and _kind(v) not in ("ModuleList", "ParameterList")
                   or _mentions_expansion(v, depth + 1) for v in node)
    return False


__all__ = ["expand_blocks"]

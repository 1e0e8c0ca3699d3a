"""Model files to plain data, with the source position of every node kept beside it.

YAML is read with a SafeLoader subclass (no Python tags, no code), JSON through
the same parser (JSON is YAML), and every mapping and list remembers where it
and each of its entries start, so errors can point at file:line:col.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from ..errors import Position, SpecError

MAX_FILE_BYTES = 16 * 1024 * 1024
MAX_NODES = 1_000_000  # after alias expansion: a "billion laughs" file stops here
MAX_DEPTH = 64  # mappings and lists inside each other


class PosDict(dict):
    """A mapping from a model file; ``pos`` is where it starts, ``key_pos``/``value_pos`` per entry."""

    pos: Position | None = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.key_pos: dict[Any, Position] = {}
        self.value_pos: dict[Any, Position] = {}


class PosList(list):
    """A list from a model file; ``pos`` is where it starts, ``item_pos`` per item."""

    pos: Position | None = None

    def __init__(self, *args):
        super().__init__(*args)
        self.item_pos: list[Position | None] = []


def _short(value: Any, limit: int = 60) -> str:
    """repr of a value from the file, cut so one hostile value cannot flood an error message."""
    r = repr(value)
    return r if len(r) <= limit else r[: limit - 3] + "..."


def _position(filename: str, mark) -> Position:
    return Position(filename, mark.line + 1, mark.column + 1)


class _Refused(Exception):
    """A value refused while the file is constructed; the mappings and lists it is inside add their keys to
    ``path`` on its way out, so the message names the key (``in_features: a number with ... digits``)."""

    def __init__(self, message: str, mark, named: bool = True):
        super().__init__(message)
        self.message, self.mark, self.path, self.named = message, mark, [], named  # named: the path is shown


class _Loader(yaml.SafeLoader):
    """SafeLoader that builds PosDict/PosList and reads numbers as YAML 1.2 does.

    YAML 1.1's oddities are plain strings here: ``1:30`` (a base-60 integer, 90 to PyYAML) and ``2001-12-14``
    (a timestamp) are text, as a reader of the file would take them; ``1e-5`` is a float and ``0o17`` an
    integer (YAML 1.2). The composer stops at MAX_DEPTH levels of nesting, where the file crosses it."""

    filename = "<string>"
    _depth = 0

    def _pos(self, node) -> Position:
        return _position(self.filename, node.start_mark)

    def compose_node(self, parent, index):  # the pure-Python composer recurses: bound it where the file nests
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH + 1 and self.check_event(yaml.SequenceStartEvent, yaml.MappingStartEvent):
                raise _Refused(_too_deep(), self.peek_event().start_mark, named=False)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def _too_deep() -> str:
    return f"model file nests mappings and lists deeper than {MAX_DEPTH} levels"


# YAML 1.1's implicit types without base 60 and timestamps; 0o17 and 1e-5 as YAML 1.2 reads them
_INT = re.compile(r"^(?:[-+]?0b[0-1_]+|[-+]?0o[0-7_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+)$")
_FLOAT = re.compile(r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?
                    |\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?
                    |[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+
                    |[-+]?\.(?:inf|Inf|INF)
                    |\.(?:nan|NaN|NAN))$""", re.X)
_IMPLICIT = {"tag:yaml.org,2002:int": _INT, "tag:yaml.org,2002:float": _FLOAT}
_Loader.yaml_implicit_resolvers = {
    first: [(tag, _IMPLICIT.get(tag, regexp)) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
MAX_INT_BITS = 4096  # as the forward's arithmetic (runtime.scalars): no size, count or index is near it
_BASES = {"0b": 2, "0o": 8, "0x": 16}


def _construct_int(loader: _Loader, node) -> int:
    """An integer, refused by its number of digits before Python converts it (int() of 5,000 decimal digits
    raises, and past that it would take time quadratic in the length); base 60 is not read (``!!int 1:30``)."""
    text = loader.construct_scalar(node)
    if ":" in text:  # ``!!int 1:30``: base 60 is not read
        raise _Refused(f"not an integer: {_short(text)}", node.start_mark)
    value = text.replace("_", "")
    sign = -1 if value[:1] == "-" else 1
    value = value.lstrip("+-")
    base = _BASES.get(value[:2].lower(), 8 if len(value) > 1 and value[0] == "0" else 10)
    digits = value[2:] if value[:2].lower() in _BASES else value
    significant = digits.lstrip("0") or "0"
    bits_per_digit = {2: 1, 8: 3, 16: 4, 10: 3.3219281}[base]  # log2 of the base
    if len(significant) * bits_per_digit > MAX_INT_BITS + 4:
        raise _Refused(f"a number with {len(significant):,} digits is too large (an integer in a model file has at "
                       f"most {MAX_INT_BITS:,} bits)", node.start_mark)
    try:
        number = sign * int(significant, base)
    except ValueError:
        raise _Refused(f"not an integer: {_short(text)}", node.start_mark) from None
    if number.bit_length() > MAX_INT_BITS:
        raise _Refused(f"a number with {len(significant):,} digits is too large (an integer in a model file has at "
                       f"most {MAX_INT_BITS:,} bits)", node.start_mark)
    return number


def _construct_float(loader: _Loader, node) -> float:
    text = loader.construct_scalar(node)
    if ":" in text:  # ``!!float 1:30.5``: base 60 is not read
        raise _Refused(f"not a number: {_short(text)}", node.start_mark)
    return loader.construct_yaml_float(node)


def _check_duplicates(loader: _Loader, node) -> None:
    """A key written twice is a mistake (PyYAML silently keeps the last): name both lines."""
    seen: dict[str, Any] = {}
    for key_node, _ in node.value:
        if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == "tag:yaml.org,2002:merge":
            continue
        if key_node.value in seen:
            first = seen[key_node.value].start_mark.line + 1
            raise SpecError(
                f"duplicate key {_short(key_node.value)}: first at line {first}, again at line "
                f"{key_node.start_mark.line + 1}", position=_position(loader.filename, key_node.start_mark))
        seen[key_node.value] = key_node


_STR = "tag:yaml.org,2002:str"


def _child(loader: _Loader, node, key: Any) -> Any:
    """The value of a child node, one level deeper (refused past MAX_DEPTH, where the file crosses it, so the
    recursive construction stays bounded); a value refused inside it gets ``key`` on its path."""
    loader._depth += 1
    try:
        if loader._depth > MAX_DEPTH and type(node) is not yaml.ScalarNode:
            raise _Refused(_too_deep(), node.start_mark, named=False)
        return loader.construct_object(node, deep=True)
    except _Refused as e:
        if key is not None:
            e.path.insert(0, key)
        raise
    finally:
        loader._depth -= 1


def _construct_mapping(loader: _Loader, node):
    data = PosDict()
    data.pos = loader._pos(node)
    yield data
    _check_duplicates(loader, node)
    loader.flatten_mapping(node)  # merged (<<) keys first, so the mapping's own keys override them
    filename, scalar, key_pos, value_pos = loader.filename, yaml.ScalarNode, data.key_pos, data.value_pos
    for key_node, value_node in node.value:
        # a plain string (most keys and values of a model file) is its text: no constructor call
        key = key_node.value if key_node.tag == _STR and type(key_node) is scalar else _child(loader, key_node, None)
        try:
            hash(key)
        except TypeError:
            raise SpecError("a mapping key must be a plain value", position=_position(filename, key_node.start_mark)) from None
        data[key] = value_node.value if value_node.tag == _STR and type(value_node) is scalar else \
            _child(loader, value_node, key)
        mark = key_node.start_mark
        key_pos[key] = Position(filename, mark.line + 1, mark.column + 1)
        mark = value_node.start_mark
        value_pos[key] = Position(filename, mark.line + 1, mark.column + 1)


def _construct_sequence(loader: _Loader, node):
    data = PosList()
    data.pos = loader._pos(node)
    yield data
    filename, scalar, item_pos = loader.filename, yaml.ScalarNode, data.item_pos
    for i, child in enumerate(node.value):
        data.append(child.value if child.tag == _STR and type(child) is scalar else _child(loader, child, i))
        mark = child.start_mark
        item_pos.append(Position(filename, mark.line + 1, mark.column + 1))


_Loader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)
_Loader.add_constructor("tag:yaml.org,2002:seq", _construct_sequence)
_Loader.add_constructor("tag:yaml.org,2002:int", _construct_int)
_Loader.add_constructor("tag:yaml.org,2002:float", _construct_float)


_LINE_BREAK = re.compile("\r\n|[\n\r\x85\u2028\u2029]")  # what YAML counts as a line break


def _offset_position(filename: str, text: str, offset: int) -> Position:
    """The line and column of a character offset, counted as YAML marks count them."""
    line, start = 1, 0
    for m in _LINE_BREAK.finditer(text, 0, offset):
        line, start = line + 1, m.end()
    return Position(filename, line, offset - start + 1)


def _char(c: Any) -> str:
    return f"U+{c:04X}" if isinstance(c, int) else _short(c)


class PosStr(str):
    """A model file whose whole document is one string (``ReLU``); ``pos`` is where it is."""

    pos: Position | None = None


def _c_parser():
    """libyaml's parser and composer (several times faster than PyYAML's own: a 2 MB file in a second or two, not
    ten), where it is there and bounds nesting itself (its composer recurses in C; recent libyaml stops at 1,000
    levels, which this checks by trying); else None, and PyYAML's pure-Python one is used."""
    try:
        from yaml._yaml import CParser
    except ImportError:
        return None
    try:
        CParser("[" * 1100 + "]" * 1100).get_single_node()
    except yaml.MarkedYAMLError:
        pass  # refused, as it should be
    else:
        return None

    class _CLoader(CParser, _Loader):
        def __init__(self, stream):
            yaml.reader.Reader(stream)  # PyYAML's reader refuses control characters and lone surrogates, placed
            CParser.__init__(self, stream)
            yaml.constructor.SafeConstructor.__init__(self)
            yaml.resolver.Resolver.__init__(self)

    return _CLoader


_CLoader = _c_parser()


def _depth_crossing(text: str, mark):
    """Where ``text`` first nests deeper than MAX_DEPTH, by its events: libyaml refused it deeper (at ``mark``, 1,000
    levels), and in a flow collection its scanner looks that far ahead before the event that crosses ours. Read
    by PyYAML up to ``mark`` where that is short, else by libyaml's events; None where neither finds it."""
    from yaml._yaml import CParser

    prefix = text[: mark.index] if mark is not None else ""
    parser = _Loader(prefix) if 0 < len(prefix) <= 200_000 else CParser(text)
    depth = 0
    try:
        while parser.check_event():
            event = parser.get_event()
            if isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
                depth += 1
                if depth > MAX_DEPTH + 1:
                    return event.start_mark
            elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
                depth -= 1
    except yaml.YAMLError:
        return None
    finally:
        parser.dispose()
    return None


def parse(text: str, filename: str = "<string>") -> Any:
    """Parse YAML or JSON text into PosDict/PosList data; errors become SpecError with a position."""
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_FILE_BYTES:
        raise SpecError(f"model file is {size:,} bytes, larger than the limit of {MAX_FILE_BYTES:,}", position=Position(filename))
    if not text.strip():
        raise SpecError("empty model file", position=Position(filename))
    try:
        loader = (_CLoader or _Loader)(text)  # the reader refuses control characters and lone surrogates here
    except yaml.reader.ReaderError as e:
        raise SpecError(f"invalid YAML: unacceptable character {_char(e.character)}: {e.reason}",
                        position=_offset_position(filename, text, e.position)) from None
    loader.filename = filename
    try:
        node = loader.get_single_node()
        if node is None:
            raise SpecError("empty model file", position=Position(filename))
        from .count import count_nodes

        count_nodes(node, filename)  # over the module cap: refused before it is constructed
        data = loader.construct_document(node)
    except _Refused as e:
        raise SpecError(e.message, path=".".join(map(str, e.path)) if e.named and e.path else None,
                        position=_position(filename, e.mark)) from None
    except yaml.MarkedYAMLError as e:
        # the position is where the parser stopped; what it was inside (a '[' left open, say) can be
        # lines earlier, so name that line too
        mark = e.problem_mark or e.context_mark
        pos = _position(filename, mark) if mark else Position(filename)
        problem = e.problem or str(e)
        if problem == "exceeded maximum nesting depth":  # libyaml's own bound (1,000 levels): place ours
            crossing = _depth_crossing(text, e.problem_mark)
            raise SpecError(_too_deep(), position=_position(filename, crossing) if crossing else pos) from None
        if e.context and e.context_mark and e.problem_mark and e.problem_mark.line != e.context_mark.line:
            problem += f" ({e.context} that starts at line {e.context_mark.line + 1})"
        if isinstance(e, yaml.constructor.ConstructorError) and "could not determine a constructor" in problem:
            problem = f"tag not allowed in a model file: {problem.split('tag ')[-1]}"
        raise SpecError(f"invalid YAML: {problem}", position=pos) from None
    except yaml.reader.ReaderError as e:  # libyaml's reader, past PyYAML's
        raise SpecError(f"invalid YAML: unacceptable character {_char(e.character)}: {e.reason}",
                        position=Position(filename)) from None
    except ValueError as e:  # a value Python cannot convert (the constructors bound what they can)
        raise SpecError(f"invalid YAML value: {e}", position=Position(filename)) from None
    except yaml.YAMLError as e:
        raise SpecError(f"invalid YAML: {e}", position=Position(filename)) from None
    except RecursionError:
        raise SpecError("model file is nested too deeply", position=Position(filename)) from None
    finally:
        loader.dispose()
    if data is None:
        raise SpecError("empty model file", position=Position(filename))
    if isinstance(data, str):  # a bare type name: its place, for the errors about it
        data = PosStr(data)
        data.pos = _position(filename, node.start_mark)
    _check_size(data, filename)
    return data


def _check_size(data: Any, filename: str) -> None:
    """Refuse data that nests too deeply or, with aliases expanded, has too many nodes.

    Aliases make the data a DAG; sizes and heights are memoised per object, so a file whose expansion is
    exponential is measured in linear time, before anything walks it, and an alias used deeper than its
    anchor is measured where it is used.
    """
    sizes: dict[int, tuple[int, int]] = {}  # id -> (values, levels of mappings and lists)

    def too_deep(node: Any) -> SpecError:
        return SpecError(_too_deep(), position=getattr(node, "pos", None) or Position(filename))

    def size(node: Any, depth: int, parent: Any = None) -> tuple[int, int]:
        if not isinstance(node, (dict, list)):
            return 1, 0
        if depth > MAX_DEPTH:
            raise too_deep(node)
        key = id(node)
        if key not in sizes:
            children = node.values() if isinstance(node, dict) else node
            total, height = 1, 0
            for child in children:
                n, h = size(child, depth + 1, node)
                total, height = total + n, max(height, h)
            sizes[key] = total, height + 1
            if total > MAX_NODES:
                raise SpecError(f"model file expands to more than {MAX_NODES:,} values (aliases count each time they "
                                "are used)", position=getattr(node, "pos", None) or Position(filename))
        elif depth + sizes[key][1] - 1 > MAX_DEPTH:  # an alias, measured at its anchor, used deeper here: placed
            raise too_deep(parent if parent is not None else node)  # at what holds it (the anchor is elsewhere)
        return sizes[key]

    size(data, 0)


def read(path: str | Path) -> tuple[str, str]:
    """(text, filename) of a model file, with clear errors for missing, huge or binary files."""
    p = Path(path)
    name = str(path)
    if p.suffix.lower() not in (".yaml", ".yml", ".json"):
        raise SpecError(f"model files end in .yaml, .yml or .json, got {p.name!r}", position=Position(name))
    try:
        if p.exists() and not p.is_file() and not p.is_dir():
            raise SpecError("is not a regular file (a device or a pipe?)", position=Position(name))
        with p.open("rb") as f:  # read at most one byte past the limit: st_size lies for /dev files
            raw = f.read(MAX_FILE_BYTES + 1)
        if len(raw) > MAX_FILE_BYTES:
            raise SpecError(f"model file is larger than the limit of {MAX_FILE_BYTES:,} bytes", position=Position(name))
    except FileNotFoundError:
        raise SpecError("no such model file", position=Position(name)) from None
    except IsADirectoryError:
        raise SpecError("is a directory, not a model file", position=Position(name)) from None
    except OSError as e:
        raise SpecError(f"cannot read model file: {e.strerror}", position=Position(name)) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise SpecError(f"model file is not UTF-8 text (byte {e.start})", position=Position(name)) from None
    if "\x00" in text:
        raise SpecError("model file is binary, not text", position=Position(name))
    return text, name


def locate(data: Any, loc: tuple, at_key: bool = False) -> Position | None:
    """The most precise position known for a path of keys and indices into parsed data.

    ``at_key`` points at the last key itself rather than its value (for an unknown key).
    """
    return walk(data, getattr(data, "pos", None), loc, at_key)[1]


def walk(node: Any, best: Position | None, keys: tuple, at_key: bool = False) -> tuple[Any, Position | None]:
    """``locate``'s walk from ``node`` (whose position is ``best``) along ``keys``: the node reached and the most
    precise position known on the way (a caller that places many paths walks on from one it placed before)."""
    for i, key in enumerate(keys):
        last = i == len(keys) - 1
        if isinstance(node, PosDict) and key in node:
            best = (node.key_pos if at_key and last else node.value_pos).get(key, best)
            node = node[key]
        elif isinstance(node, PosList) and isinstance(key, int) and 0 <= key < len(node):
            best = node.item_pos[key] if key < len(node.item_pos) else best
            node = node[key]
        elif isinstance(node, PosDict) and last and key in node.key_pos:
            best = node.key_pos[key]
        # anything else is a union tag or a key that is not there: keep the best so far
    return node, best

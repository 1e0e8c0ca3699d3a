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


class _Loader(yaml.SafeLoader):
    """SafeLoader that builds PosDict/PosList and reads 1e-5 as a float (YAML 1.2 style)."""

    filename = "<string>"

    def _pos(self, node) -> Position:
        return _position(self.filename, node.start_mark)


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


def _construct_mapping(loader: _Loader, node):
    data = PosDict()
    data.pos = loader._pos(node)
    yield data
    _check_duplicates(loader, node)
    loader.flatten_mapping(node)  # merged (<<) keys first, so the mapping's own keys override them
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        try:
            hash(key)
        except TypeError:
            raise SpecError("a mapping key must be a plain value", position=_position(loader.filename, key_node.start_mark)) from None
        data[key] = loader.construct_object(value_node, deep=True)
        data.key_pos[key] = _position(loader.filename, key_node.start_mark)
        data.value_pos[key] = loader._pos(value_node)


def _construct_sequence(loader: _Loader, node):
    data = PosList()
    data.pos = loader._pos(node)
    yield data
    for child in node.value:
        data.append(loader.construct_object(child, deep=True))
        data.item_pos.append(loader._pos(child))


_Loader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)
_Loader.add_constructor("tag:yaml.org,2002:seq", _construct_sequence)
# YAML 1.1 wants a dot in a float ("1.0e-5"); users write 1e-5 and mean a number.
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"),
)


_LINE_BREAK = re.compile("\r\n|[\n\r\x85\u2028\u2029]")  # what YAML counts as a line break


def _offset_position(filename: str, text: str, offset: int) -> Position:
    """The line and column of a character offset, counted as YAML marks count them."""
    line, start = 1, 0
    for m in _LINE_BREAK.finditer(text, 0, offset):
        line, start = line + 1, m.end()
    return Position(filename, line, offset - start + 1)


def _char(c: Any) -> str:
    return f"U+{c:04X}" if isinstance(c, int) else _short(c)


def parse(text: str, filename: str = "<string>") -> Any:
    """Parse YAML or JSON text into PosDict/PosList data; errors become SpecError with a position."""
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_FILE_BYTES:
        raise SpecError(f"model file is {size:,} bytes, larger than the limit of {MAX_FILE_BYTES:,}", position=Position(filename))
    if not text.strip():
        raise SpecError("empty model file", position=Position(filename))
    try:
        loader = _Loader(text)  # the reader refuses control characters and lone surrogates here, before parsing
    except yaml.reader.ReaderError as e:
        raise SpecError(f"invalid YAML: unacceptable character {_char(e.character)}: {e.reason}",
                        position=_offset_position(filename, text, e.position)) from None
    loader.filename = filename
    try:
        data = loader.get_single_data()
    except yaml.MarkedYAMLError as e:
        # the position is where the parser stopped; what it was inside (a '[' left open, say) can be
        # lines earlier, so name that line too
        mark = e.problem_mark or e.context_mark
        pos = _position(filename, mark) if mark else Position(filename)
        problem = e.problem or str(e)
        if e.context and e.context_mark and e.problem_mark and e.problem_mark.line != e.context_mark.line:
            problem += f" ({e.context} that starts at line {e.context_mark.line + 1})"
        if isinstance(e, yaml.constructor.ConstructorError) and "could not determine a constructor" in problem:
            problem = f"tag not allowed in a model file: {problem.split('tag ')[-1]}"
        raise SpecError(f"invalid YAML: {problem}", position=pos) from None
    except ValueError as e:  # e.g. an integer too long for Python to convert
        raise SpecError(f"invalid YAML value: {e}", position=Position(filename)) from None
    except yaml.YAMLError as e:
        raise SpecError(f"invalid YAML: {e}", position=Position(filename)) from None
    except RecursionError:
        raise SpecError("model file is nested too deeply", position=Position(filename)) from None
    finally:
        loader.dispose()
    if data is None:
        raise SpecError("empty model file", position=Position(filename))
    _check_size(data, filename)
    return data


def _check_size(data: Any, filename: str) -> None:
    """Refuse data that nests too deeply or, with aliases expanded, has too many nodes.

    Aliases make the data a DAG; sizes are memoised per object, so a file whose
    expansion is exponential is measured in linear time, before anything walks it.
    """
    sizes: dict[int, int] = {}

    def size(node: Any, depth: int) -> int:
        if not isinstance(node, (dict, list)):
            return 1
        if depth > MAX_DEPTH:
            raise SpecError(f"model file nests mappings and lists deeper than {MAX_DEPTH} levels",
                            position=getattr(node, "pos", None) or Position(filename))
        key = id(node)
        if key not in sizes:
            children = node.values() if isinstance(node, dict) else node
            sizes[key] = 1 + sum(size(child, depth + 1) for child in children)
            if sizes[key] > MAX_NODES:
                raise SpecError(f"model file expands to more than {MAX_NODES:,} values (aliases count each time they "
                                "are used)", position=getattr(node, "pos", None) or Position(filename))
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
    best = getattr(data, "pos", None)
    node = data
    for i, key in enumerate(loc):
        if isinstance(node, PosDict) and key in node:
            last = at_key and i == len(loc) - 1
            best = (node.key_pos if last else node.value_pos).get(key, best)
            node = node[key]
        elif isinstance(node, PosList) and isinstance(key, int) and 0 <= key < len(node):
            best = node.item_pos[key] if key < len(node.item_pos) else best
            node = node[key]
        elif isinstance(node, PosDict) and i == len(loc) - 1 and key in node.key_pos:
            best = node.key_pos[key]
        # anything else is a union tag or a key that is not there: keep the best so far
    return best

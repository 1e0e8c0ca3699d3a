"""The model's modules counted before anything is constructed, validated or built, so a file over the cap
(resources.MAX_MODULES) is refused in a moment: 150,000 entries of a Sequential, or a ModuleList of 10,000
copies of a ModuleList of 10,000, are refused where the count passes the cap, not after building 50,000.

``count_nodes`` reads the YAML node graph, before it becomes data (constructing and validating a 2 MB file
take seconds): a lower bound that never counts a module that may not be there, so it refuses only what the
builder would (its own count stays the authority). ``count_modules`` reads the expanded normal form, blocks
applied, before validation: there every module is written out, so it is exact but for TransformerEncoder's
copies of its layer, which the builder counts.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from ..errors import Position, SpecError
from ..resources import MAX_MODULES, MODULES_WHY
from .loader import MAX_DEPTH, locate

_LISTS = ("Sequential", "ModuleList", "ModuleDict")  # containers whose one-key value is their modules
_HOLDERS = (*_LISTS, "Module")  # ... and those with a modules: key
_STR = "tag:yaml.org,2002:str"
_INT = "tag:yaml.org,2002:int"
_SMALL_INT = re.compile(r"^\+?(?:0|[1-9][0-9]{0,5})$")  # decimal as written (010 is YAML 1.1's octal 8)


def _message(copies: str = "") -> str:
    return f"the model has more than {MAX_MODULES:,} modules{copies}, {MODULES_WHY}"


def _copies(repeat: int, copy: int) -> str:
    """What a ModuleList's repeat adds up to, for the message that refuses it at its ``repeat:``."""
    return f" ({repeat:,} copies of {'a module' if copy == 1 else f'{copy:,} modules'})"


def _repeat(value: Any) -> int | None:
    """A ModuleList's ``repeat`` where it is a plain count (validation reports anything else)."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


class _Nodes:
    """A lower bound of the modules in a YAML node graph (shorthand forms included, aliases counted as copies)."""

    def __init__(self, filename: str):
        self.filename = filename
        self.total = 0

    def add(self, n: int, node, path: tuple, copies: str = "") -> None:
        self.total += n
        if self.total > MAX_MODULES:
            mark = node.start_mark
            raise SpecError(_message(copies), path=".".join(map(str, path)) or "(root)",
                            position=Position(self.filename, mark.line + 1, mark.column + 1))

    def module(self, node, path: tuple) -> int:
        if len(path) > 2 * MAX_DEPTH:  # the constructor refuses such nesting, placed; not counted here (recursion)
            return 0
        if isinstance(node, yaml.ScalarNode):  # a type name (not null, not a $-substitution)
            if node.tag == _STR and node.value and "$" not in node.value:
                self.add(1, node, path)
                return 1
            return 0
        if not isinstance(node, yaml.MappingNode):
            return 0
        keys = {k.value: v for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.tag == _STR}
        if "when" in keys or ("share" in keys and "type" not in keys):
            return 0  # may be absent; another's instance
        if "type" in keys:
            kind = keys["type"].value if isinstance(keys["type"], yaml.ScalarNode) else None
        else:  # the one-key form's one capitalised key, else a user-defined module
            upper = [k for k in keys if k[:1].isupper()]
            kind = upper[0] if len(upper) == 1 else "Module"
        if "repeat" in keys and kind != "ModuleList":
            return 0  # a list item repeated N times (N may be 0)
        self.add(1, node, path)
        n = 1
        contents = keys.get(kind) if kind in _LISTS and kind in keys else keys.get("modules") if kind in _HOLDERS \
            else None
        where = path + ((kind,) if kind in keys else ("modules",))
        if isinstance(contents, yaml.SequenceNode):
            for i, item in enumerate(contents.value):
                n += self.module(item, where + (i,))
        elif isinstance(contents, yaml.MappingNode):
            for k, v in contents.value:
                if isinstance(k, yaml.ScalarNode) and k.tag == _STR:
                    n += self.module(v, where + (k.value,))
        repeat, one = keys.get("repeat"), keys.get("module")
        if kind == "ModuleList" and one is not None and isinstance(repeat, yaml.ScalarNode) and \
                repeat.tag == _INT and _SMALL_INT.match(repeat.value) and int(repeat.value) > 0:
            copy = self.module(one, path + ("module",))
            self.add((int(repeat.value) - 1) * copy, repeat, path + ("repeat",), _copies(int(repeat.value), copy))
            n += int(repeat.value) * copy
        return n


def count_nodes(root, filename: str) -> None:
    """Refuse a composed model file that certainly has more than MAX_MODULES modules (files with blocks are
    counted as they expand, by blocks.Expander, and again by ``count_modules``)."""
    if isinstance(root, yaml.MappingNode) and any(isinstance(k, yaml.ScalarNode) and k.value == "blocks"
                                                  for k, _ in root.value):
        return
    _Nodes(filename).module(root, ())


class _Data:
    """The modules of the expanded normal form ({type: ..., modules: ...}), ModuleList's copies multiplied."""

    def __init__(self, data: Any, filename: str):
        self.data, self.filename, self.total = data, filename, 0

    def add(self, n: int, path: tuple, copies: str = "") -> None:
        self.total += n
        if self.total > MAX_MODULES:
            raise SpecError(_message(copies), path=".".join(map(str, path)) or "(root)",
                            position=locate(self.data, path) or Position(self.filename))

    def module(self, node: Any, path: tuple) -> int:
        if not isinstance(node, dict) or ("share" in node and "type" not in node):
            return 0
        self.add(1, path)
        n, kind = 1, node.get("type", "Module")
        contents = node.get("modules") if kind in _HOLDERS else None
        items = contents.items() if isinstance(contents, dict) else enumerate(contents) \
            if isinstance(contents, list) else ()
        for k, child in items:
            n += self.module(child, path + ("modules", k))
        repeat = _repeat(node.get("repeat"))
        if kind == "ModuleList" and repeat and node.get("module") is not None:
            copy = self.module(node["module"], path + ("module",))
            self.add((repeat - 1) * copy, path + ("repeat",), _copies(repeat, copy))
            n += repeat * copy
        from .models import LAYER_SPECS  # a layer's module arguments (TransformerEncoder's encoder_layer)

        spec = LAYER_SPECS.get(kind) if isinstance(kind, str) else None
        for name in getattr(spec, "module_fields", ()):
            n += self.module(node.get(name), path + (name,))
        return n


def count_modules(expanded: Any, filename: str) -> None:
    """Refuse an expanded model (normal form, before validation) of more than MAX_MODULES modules."""
    _Data(expanded, filename).module(expanded, ())


__all__ = ["count_modules", "count_nodes"]

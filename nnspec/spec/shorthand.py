"""Shorthand forms, normalised to ``{type: ..., arg: value}`` once, before validation.

- ``ReLU`` (a bare string) is ``{type: ReLU}``;
- ``{Conv2d: [1, 20, 5]}`` passes positional arguments in torch's order, and
  ``{MaxPool2d: 3}`` a single one;
- ``{Conv2d: {in_channels: 1, ...}}`` is the one-key form of keyword arguments;
- ``{Conv2d: [4, 8, 3], groups: 4}`` mixes the two, as a torch call would;
- for a container, the one-key value is its contents: ``{Sequential: [ReLU, ...]}``,
  ``{ModuleDict: {conv: ..., pool: ...}}``.

Positions recorded by the loader are carried over to the expanded nodes.
"""

from __future__ import annotations

from typing import Any

from ..errors import SpecError
from .loader import PosDict, PosList
from .models import LAYER_SPECS

_CONTENTS = {"Sequential": "modules", "ModuleList": "modules", "ModuleDict": "modules",
             "ParameterList": "parameters", "ParameterDict": "parameters"}


def _new_dict(like: Any, pos=None) -> PosDict:
    d = PosDict()
    d.pos = pos if pos is not None else getattr(like, "pos", None)
    return d


def _set(d: PosDict, key: str, value: Any, key_pos=None, value_pos=None) -> None:
    d[key] = value
    if key_pos is not None:
        d.key_pos[key] = key_pos
    if value_pos is not None:
        d.value_pos[key] = value_pos


def _type_key(node: Any) -> str | None:
    """The one capitalised key of a mapping without ``type`` (argument and registry keys are lower case)."""
    if not isinstance(node, dict) or "type" in node:
        return None
    keys = [k for k in node if isinstance(k, str) and k[:1].isupper()]
    return keys[0] if len(keys) == 1 else None


def expand(node: Any, path: tuple = ()) -> Any:
    """A module node in normal form, children included."""
    if isinstance(node, str):
        d = _new_dict(node)
        _set(d, "type", str(node))  # a bare root is a PosStr: its place is the dict's, the name plain text
        return d
    if not isinstance(node, dict):
        return node  # validation reports the wrong kind with its position
    kind = _type_key(node)
    if kind is not None:
        node = _one_key(node, kind, path)
    return _expand_children(node, path)


def _one_key(node: PosDict, kind: str, path: tuple) -> PosDict:
    """``{Kind: args, other: value}`` -> ``{type: Kind, <args by name>, other: value}``."""
    value = node[kind]
    key_pos = getattr(node, "key_pos", {}).get(kind)
    value_pos = getattr(node, "value_pos", {}).get(kind)
    d = _new_dict(node)
    _set(d, "type", kind, key_pos, key_pos)
    for k, v in node.items():
        if k != kind:
            _set(d, k, v, getattr(node, "key_pos", {}).get(k), getattr(node, "value_pos", {}).get(k))
    if value is None:
        return d
    if kind in _CONTENTS:
        _set(d, _CONTENTS[kind], value, value_pos, value_pos)
        return d
    if isinstance(value, dict):
        if "type" in value:
            raise SpecError(f"the one-key form {{{kind}: {{...}}}} takes arguments, not another 'type'",
                            path=_dotted(path), position=value.key_pos.get("type") if isinstance(value, PosDict) else None)
        for k, v in value.items():
            _set(d, k, v, getattr(value, "key_pos", {}).get(k), getattr(value, "value_pos", {}).get(k))
        return d
    args = value if isinstance(value, list) else [value]
    spec = LAYER_SPECS.get(kind)
    if spec is None:
        return d  # unknown type: validation names it
    names = spec.positional
    if len(args) > len(names):
        raise SpecError(
            f"{kind} takes at most {len(names)} positional arguments ({', '.join(names)}), got {len(args)}",
            path=_dotted(path), position=value_pos,
        )
    item_pos = getattr(args, "item_pos", [])
    for i, (name, arg) in enumerate(zip(names, args)):
        if name in d:
            raise SpecError(f"{kind}: argument {name!r} given both by position and by name",
                            path=_dotted(path + (name,)), position=d.key_pos.get(name))
        _set(d, name, arg, item_pos[i] if i < len(item_pos) else value_pos,
             item_pos[i] if i < len(item_pos) else value_pos)
    return d


def _expand_children(node: dict, path: tuple) -> dict:
    out = _new_dict(node)
    kind = node.get("type", "Module")
    for key, value in node.items():
        kp = getattr(node, "key_pos", {}).get(key)
        vp = getattr(node, "value_pos", {}).get(key)
        if key == "modules" and kind in ("Sequential", "ModuleList", "ModuleDict", "Module"):
            value = _expand_registry(value, path + (key,))
        elif key == "module" and kind == "ModuleList":
            value = expand(value, path + (key,))
        elif value is not None and key in _module_fields(kind):
            value = expand(value, path + (key,))  # a module argument (TransformerEncoder's encoder_layer)
        _set(out, key, value, kp, vp)
    return out


def _module_fields(kind: Any) -> tuple[str, ...]:
    """A layer's arguments that are modules (TransformerEncoder's encoder_layer)."""
    spec = LAYER_SPECS.get(kind) if isinstance(kind, str) else None
    return spec.module_fields if spec is not None else ()


def _expand_registry(value: Any, path: tuple) -> Any:
    if isinstance(value, list):
        out = PosList(expand(v, path + (i,)) for i, v in enumerate(value))
        out.pos = getattr(value, "pos", None)
        out.item_pos = list(getattr(value, "item_pos", []))
        return out
    if isinstance(value, dict):
        d = _new_dict(value)
        for k, v in value.items():
            _set(d, k, expand(v, path + (k,)), getattr(value, "key_pos", {}).get(k),
                 getattr(value, "value_pos", {}).get(k))
        return d
    return value


def _dotted(path: tuple) -> str:
    return ".".join(str(p) for p in path)


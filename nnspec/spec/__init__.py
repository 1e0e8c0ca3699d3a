"""Model files to validated specs: parse (positions kept), expand shorthands, validate."""

from __future__ import annotations

import difflib
import functools
import re
from typing import Any

from pydantic import TypeAdapter, ValidationError

from ..errors import Position, SpecError, SpecErrors
from . import loader
from .loader import _short, locate, parse, read
from .models import CONTAINER_SPECS, LAYER_SPECS, ModuleSpec
from .blocks import _without, expand_blocks
from .count import count_modules
from .shorthand import expand



@functools.cache
def _adapter() -> TypeAdapter:
    """The validator of a model file's root: built on first use (~0.3 s and ~25 MiB), so commands and imports
    that validate nothing never pay for it. Every spec class defers its own build to this one, which holds the
    one compiled copy of the recursive union of layers and containers."""
    return TypeAdapter(ModuleSpec)


MODULE_TYPES = sorted(LAYER_SPECS) + sorted(set(CONTAINER_SPECS) - {"Module"})
# union branches and tags appear in pydantic's loc; they are not keys of the file
_BRANCH = re.compile(r"[^A-Za-z0-9_]|^(Module|Share)$|Spec$")


def _real_loc(loc: tuple, data: Any) -> tuple:
    """The keys and indices of ``loc`` that are really in the data (tags and union branches dropped)."""
    out, node = [], data
    for item in loc:
        if isinstance(node, dict) and item in node:
            out.append(item)
            node = node[item]
        elif isinstance(node, list) and isinstance(item, int) and 0 <= item < len(node):
            out.append(item)
            node = node[item]
        elif isinstance(node, dict) and isinstance(item, str) and not _BRANCH.search(item) and item not in LAYER_SPECS \
                and item not in CONTAINER_SPECS:
            out.append(item)  # a key that is missing or unknown
            node = None
    return tuple(out)


def _message(err: dict) -> str:
    kind, msg, value = err["type"], err["msg"], err.get("input")
    if kind == "union_tag_invalid":
        tag = err.get("ctx", {}).get("tag")
        close = difflib.get_close_matches(str(tag), MODULE_TYPES, n=1, cutoff=0.6)
        hint = f"; did you mean {close[0]!r}?" if close else f" (`nnspec ops --kind module` lists the {len(MODULE_TYPES)})"
        return f"unknown module type {_short(tag)}{hint}"
    if kind == "union_tag_not_found":
        return "a module needs a 'type' (or is a user-defined module)"
    if kind == "extra_forbidden":
        return "unknown argument"
    if kind in ("model_type", "dict_type") and "ShareSpec" in msg:
        return f"expected a module (a mapping, or a type name such as ReLU), got {_short(value)}"
    if kind == "missing":
        return f"missing required argument {err['loc'][-1]!r}"
    if kind == "value_error":
        return msg.removeprefix("Value error, ")
    if isinstance(value, (dict, list)) and len(repr(value)) > 60:
        return msg
    return f"{msg}, got {_short(value)}"


def _with_hint(err: dict, loc: tuple, data: Any) -> str:
    msg = _message(err)
    if err["type"] == "extra_forbidden" and loc:
        parent = data
        for item in loc[:-1]:
            parent = parent[item]
        kind = parent.get("type") if isinstance(parent, dict) else None
        kind = kind if isinstance(kind, str) else None  # a `type:` that is not a name (a mapping, say) names no spec
        spec = LAYER_SPECS.get(kind) or CONTAINER_SPECS.get(kind or "Module")
        if spec is not None:
            names = [f.alias or n for n, f in spec.model_fields.items() if n != "type"]
            close = difflib.get_close_matches(str(loc[-1]), names, n=1, cutoff=0.6)
            msg += f"; did you mean {close[0]!r}?" if close else f"; {kind or 'Module'} takes: {', '.join(names)}"
    return msg


def validation_errors(e: ValidationError, data: Any, filename: str) -> SpecErrors:
    """One SpecError per distinct place, union-branch duplicates merged, in file order."""
    grouped: dict[tuple, list[dict]] = {}
    for err in e.errors():
        # a validator's error about one entry (a duplicate name) points at that entry, not at its module
        below = getattr(err.get("ctx", {}).get("error"), "loc", ())
        grouped.setdefault(_real_loc(tuple(err["loc"]) + tuple(below), data), []).append(err)
    # a union reports every branch; an error deeper inside says more than "not a list" at its parent
    deepest = {loc: errs for loc, errs in grouped.items()
               if not any(other[: len(loc)] == loc and len(other) > len(loc) for other in grouped)}
    errors = []
    for loc, errs in deepest.items():
        messages = list(dict.fromkeys(_with_hint(err, loc, data) for err in errs))
        if len(messages) > 1:
            value = errs[0].get("input")
            message = f"invalid value {_short(value)}: " + "; or ".join(m.split(", got ")[0] for m in messages)
        else:
            message = messages[0]
        path = ".".join(str(p) for p in loc) or "(root)"
        # an unknown argument, or a key that is not a valid name (pydantic's loc ends in "[key]"): point at the key
        at_key = all(err["type"] == "extra_forbidden" or err["loc"][-1:] == ("[key]",) for err in errs)
        errors.append(SpecError(message, path=path, position=locate(data, loc, at_key) or Position(filename)))
    errors.sort(key=lambda x: (x.position.line or 0, x.position.col or 0))
    return SpecErrors(errors)


def weight_renames(data: Any, filename: str = "<string>") -> list:
    """The key renames of the root's ``weights: {rename: [[pattern, replacement], ...]}`` (checked)."""
    from ..weights import MAX_RENAMES, Rename

    if not isinstance(data, dict) or data.get("weights") is None:
        return []
    options = data["weights"]
    where = getattr(data, "value_pos", {}).get("weights") or Position(filename)
    if not isinstance(options, dict) or set(options) - {"rename"}:
        raise SpecError("weights takes one key, rename: a list of [pattern, replacement] pairs", path="weights",
                        position=where)
    pairs = options.get("rename") or []
    if not isinstance(pairs, list):
        raise SpecError("weights.rename must be a list of [pattern, replacement] pairs", path="weights.rename",
                        position=where)
    if len(pairs) > MAX_RENAMES:
        raise SpecError(f"weights.rename has {len(pairs):,} rules, more than {MAX_RENAMES}",
                        path="weights.rename", position=where)
    renames = []
    for i, pair in enumerate(pairs):
        pos = (getattr(pairs, "item_pos", []) or [where] * len(pairs))[i] if i < len(getattr(pairs, "item_pos", [])) \
            else where
        if not (isinstance(pair, list) and len(pair) == 2 and all(isinstance(p, str) for p in pair)):
            raise SpecError(f"a rename is a [pattern, replacement] pair of strings, got {_short(pair)}",
                            path=f"weights.rename.{i}", position=pos)
        try:
            renames.append(Rename(*pair, position=pos))
        except ValueError as e:
            raise SpecError(str(e), path=f"weights.rename.{i}", position=pos) from None
    return renames


def functions_text(data: Any, filename: str = "<string>") -> tuple[str, Position] | None:
    """The root's ``functions:`` (module-level Python defs the forwards call) and where its value starts."""
    if not isinstance(data, dict) or data.get("functions") is None:
        return None
    text = data["functions"]
    where = getattr(data, "value_pos", {}).get("functions") or Position(filename)
    if not isinstance(text, str):
        raise SpecError(f"functions must be Python text (module-level defs), got {_short(text)}", path="functions",
                        position=where)
    if len(text) > 1_000_000:
        raise SpecError("functions: more than 1,000,000 characters", path="functions", position=where)
    return text, where


MAX_TIED = 1_000
_KEY = re.compile(r"^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*$")


def tied_parameters(data: Any, filename: str = "<string>") -> list[tuple[str, str, Position]]:
    """The root's ``tied: {lm_head.weight: transformer.wte.weight}``: (target, source, position) for each
    parameter that is the same Parameter as another, as ``self.lm_head.weight = self.transformer.wte.weight``
    makes it in torch (state_dict lists both keys; parameters() the shared one once)."""
    if not isinstance(data, dict) or data.get("tied") is None:
        return []
    tied = data["tied"]
    where = getattr(data, "value_pos", {}).get("tied") or Position(filename)
    if not isinstance(tied, dict):
        raise SpecError(f"tied maps a parameter's key to the key of the parameter it shares, as "
                        f"{{lm_head.weight: transformer.wte.weight}}; got {_short(tied)}", path="tied", position=where)
    if len(tied) > MAX_TIED:
        raise SpecError(f"tied has {len(tied):,} entries, more than {MAX_TIED:,}", path="tied", position=where)
    out = []
    for target, source in tied.items():
        pos = getattr(tied, "value_pos", {}).get(target) or getattr(tied, "pos", {}).get(target) or where
        for key in (target, source):
            if not isinstance(key, str) or len(key) > 300 or not _KEY.match(key):
                raise SpecError(f"{_short(key)} is not a state_dict key (dotted names, as "
                                "transformer.wte.weight)", path=f"tied.{target}", position=pos)
        if target == source:
            raise SpecError(f"{target} is tied to itself", path=f"tied.{target}", position=pos)
        out.append((target, source, pos))
    targets = {t for t, _, _ in out}
    for target, source, pos in out:
        if source in targets:
            raise SpecError(f"{target} is tied to {source}, which is itself tied to another; tie both to "
                            "the same source", path=f"tied.{target}", position=pos)
    return out


def validate(data: Any, filename: str = "<string>") -> Any:
    """(root ModuleSpec, expanded data): blocks and shorthands expanded, then validated. The root's
    ``weights`` options are not part of the module (see ``weight_renames``)."""
    if isinstance(data, dict) and "weights" in data:
        weight_renames(data, filename)  # checked here, so a bad rename is a spec error like any other
        data = _without(data, "weights")
    if isinstance(data, dict) and "tied" in data:  # parameters shared between modules: tied by the builder
        tied_parameters(data, filename)
        data = _without(data, "tied")
    if isinstance(data, dict) and "functions" in data:  # the root's Python functions: compiled by the builder
        functions_text(data, filename)
        data = _without(data, "functions")
    expanded = expand(expand_blocks(data, filename))
    count_modules(expanded, filename)  # over the module cap: refused before validation and building
    try:
        return _adapter().validate_python(expanded), expanded
    except ValidationError as e:
        raise validation_errors(e, expanded, filename) from None


__all__ = ["functions_text", "tied_parameters", "weight_renames", "ModuleSpec", "expand", "loader", "locate", "parse", "read", "validate", "MODULE_TYPES"]

"""A JSON Schema (draft 2020-12) of model files as users write them, for editors.

The normal forms (``{type: Conv2d, in_channels: 1, ...}``) are Pydantic's own JSON
Schemas of the specs in models.py. The shorthands that shorthand.py expands before
validation are built here from the same specs: a bare type name, the one-key form
``{Conv2d: ...}`` (positional arguments in ``LayerSpec.positional`` order, one
argument, or a mapping of arguments, with the other arguments beside it), and a
container's contents as the one-key value. Every place that holds a module accepts
all of these (``$defs/AnyModule``).

Rules that the specs check in Python validators are added where JSON Schema can say
them (``repeat`` with ``module``, reserved registry names, ``inputs`` with
``forward``); the rest (a name registered twice, a share's target) are left to nnspec.
"""

from __future__ import annotations

import copy
import json
import keyword
import sys
from typing import Any

from pydantic import TypeAdapter
from pydantic.json_schema import GenerateJsonSchema

from .models import _RESERVED, CONTAINER_SPECS, LAYER_SPECS, ModuleSpec, ShareSpec, UserModuleSpec
from .shorthand import _CONTENTS

DIALECT = "https://json-schema.org/draft/2020-12/schema"
ANY_MODULE = "AnyModule"
_NOT_SCALAR = {"type": ["array", "object", "null"]}
# bounds on a union (Prob = Annotated[int | float, Field(ge=0, le=1)]) come out of pydantic under their Python names
_BOUNDS = {"ge": "minimum", "le": "maximum", "gt": "exclusiveMinimum", "lt": "exclusiveMaximum"}


class _Generator(GenerateJsonSchema):
    """Pydantic's generator, and a float that must be finite says so (±inf is out of range; NaN cannot be said)."""

    def float_schema(self, schema):
        out = super().float_schema(schema)
        if schema.get("allow_inf_nan") is False:
            out.setdefault("minimum", -sys.float_info.max)
            out.setdefault("maximum", sys.float_info.max)
        return out


def _ref(name: str, *pointer: str) -> dict:
    return {"$ref": "/".join(["#/$defs", name, *pointer])}


def _walk(node: Any, fn) -> Any:
    """``fn`` applied to every schema mapping, bottom up."""
    if isinstance(node, dict):
        return fn({k: _walk(v, fn) for k, v in node.items()})
    if isinstance(node, list):
        return [_walk(v, fn) for v in node]
    return node


def _def_name(spec: type) -> str:
    return spec.__name__


def _first_line(doc: str | None) -> str:
    return " ".join((doc or "").strip().split("\n\n")[0].split())


def _given(key: str) -> dict:
    """The key is there with a value other than null (a null argument is the default, as absent)."""
    return {"required": [key], "properties": {key: {"not": {"type": "null"}}}}


def _repeat_rules(spec: type, items_key: str) -> list[dict]:
    """ModuleList/ParameterList: ``modules: [...]`` or ``repeat: N`` with ``module: {...}``, not both
    (models._check_repeat); ``items_key`` is where the list is written (``modules``, or ``ModuleList`` one-key)."""
    fields = spec.model_fields
    if "repeat" not in fields:
        return []
    item = next(f for f in fields if f + "s" in fields)
    return [
        {"not": {"allOf": [_given(items_key), {"anyOf": [_given("repeat"), _given(item)]}]}},
        {"if": _given("repeat"), "then": _given(item), "else": {"not": _given(item)}},
    ]


def _normal_forms() -> tuple[dict, dict]:
    """Pydantic's $defs for every spec, module places pointing at AnyModule; and the union it made."""
    schema = TypeAdapter(ModuleSpec).json_schema(schema_generator=_Generator)
    defs = schema.pop("$defs")
    union = schema  # what pydantic writes, inline, wherever a ModuleSpec goes
    replaced = []

    def fix(node: dict) -> dict:
        if node == union:
            replaced.append(1)
            return _ref(ANY_MODULE)
        if "anyOf" in node and _BOUNDS.keys() & node.keys():
            node = {_BOUNDS.get(k, k): v for k, v in node.items()}
        patterns = node.get("patternProperties")
        if patterns and len(patterns) == 1 and "properties" not in node and "additionalProperties" not in node:
            # dict[Name, X]: every key must match, so say it with propertyNames (a key "a.b" is an error, not free)
            (pattern, value), = patterns.items()
            node = {k: v for k, v in node.items() if k != "patternProperties"}
            node["propertyNames"] = {**node.get("propertyNames", {}), "pattern": pattern}
            node["additionalProperties"] = value
        return node

    defs = {name: _walk(d, fix) for name, d in defs.items()}
    if not replaced:
        raise RuntimeError("nnspec schema: no module place found in the container specs' JSON Schemas")
    for name, spec in {**LAYER_SPECS, **CONTAINER_SPECS, "Share": ShareSpec}.items():
        if _def_name(spec) not in defs:
            raise RuntimeError(f"nnspec schema: pydantic gave no $defs entry for {name}")
    return defs, union


def _describe_layers(defs: dict) -> None:
    for kind, spec in LAYER_SPECS.items():
        d = defs[_def_name(spec)]
        d["description"] = _first_line(spec.layer.__doc__) or f"torch.nn.{kind}"
        d["properties"]["type"]["description"] = f"torch.nn.{kind}"
        call = f"{kind}({', '.join(spec.positional)})"
        for name, field in spec.model_fields.items():
            if name == "type":
                continue
            where = f"argument {spec.positional.index(name) + 1} of {call}" if name in spec.positional \
                else f"keyword argument of {kind}"
            need = "required" if field.is_required() else "optional"
            d["properties"][name]["description"] = f"{name}: {where}; {need}."


def _user_module_rules(defs: dict) -> None:
    """UserModuleSpec's validator, where a schema can say it: reserved names, inputs only with forward."""
    d = defs[_def_name(UserModuleSpec)]
    # dunders are matched by pattern: which ones a class has depends on the Python version
    reserved = sorted({n for n in _RESERVED if not (n.startswith("__") and n.endswith("__"))} | set(keyword.kwlist))
    banned = {"not": {"anyOf": [{"enum": reserved}, {"pattern": "^__.*__$"}]}}
    for registry in ("parameters", "buffers", "modules"):
        names = d["properties"][registry]["propertyNames"]
        names.update(banned)
    d["properties"]["inputs"]["anyOf"][0].update({"uniqueItems": True, "not": {"contains": {"const": "self"}}})
    d["allOf"] = [{"if": _given("inputs"), "then": _given("forward")}]


def _layer_one_key(kind: str, spec: type, defs: dict) -> dict:
    """``{Kind: [positional...] | one argument | {name: value} | null, name: value, ...}``."""
    normal = _def_name(spec)
    names = [n for n in spec.model_fields if n != "type"]
    pos = list(spec.positional)
    arg = {n: _ref(normal, "properties", n) for n in names}
    forms: list[dict] = [{"type": "null"}, {"type": "object", "properties": dict(arg), "additionalProperties": False}]
    if pos:
        forms.append({"type": "array", "maxItems": len(pos), "prefixItems": [arg[n] for n in pos]})
        forms.append({**arg[pos[0]], "not": _NOT_SCALAR})
    value = {
        "description": f"{kind}'s arguments: a list in torch's order [{', '.join(pos)}], the first one alone, "
                       f"or a mapping by name; the others may follow as keys beside it.",
        "anyOf": forms,
    }
    somewhere = {n: {"anyOf": [{"required": [n]}, {"properties": {kind: {"type": "object", "required": [n]}}}]}
                 for n in names}  # beside the one-key, or in its mapping
    rules = []
    for i, name in enumerate(pos):
        given = {"type": "array", "minItems": i + 1}
        if i == 0:
            given = {"anyOf": [given, {"not": _NOT_SCALAR}]}
        rule: dict = {"if": {"properties": {kind: given}}, "then": {"properties": {name: False}}}
        if spec.model_fields[name].is_required():
            rule["else"] = somewhere[name]
        rules.append(rule)
    for name in names:
        if name not in pos and spec.model_fields[name].is_required():
            rules.append(somewhere[name])
    out = {
        "type": "object",
        "description": f"{defs[normal]['description']} One-key form: {{{kind}: [{', '.join(pos)}]}}.",
        "properties": {kind: value, **arg},
        "required": [kind],
        "additionalProperties": False,
    }
    if rules:
        out["allOf"] = rules
    return out


def _container_one_key(kind: str, spec: type, defs: dict) -> dict:
    """``{Sequential: [...]}``, ``{ModuleDict: {...}}``: the value is the contents; ``{Module: {...}}``: the keys."""
    normal = _def_name(spec)
    names = [n for n in spec.model_fields if n != "type"]
    contents = _CONTENTS.get(kind)
    if contents is not None:
        value = {"anyOf": [{"type": "null"}, _ref(normal, "properties", contents)],
                 "description": f"The {kind}'s {contents}."}
        outer = [n for n in names if n != contents]
        rules = _repeat_rules(spec, kind)
    else:  # a user-defined module: the value holds its keys
        value = {"anyOf": [{"type": "null"}, {"type": "object", "additionalProperties": False,
                                               "properties": {n: _ref(normal, "properties", n) for n in names}}],
                 "description": f"The {kind}'s keys ({', '.join(names)})."}
        outer, rules = names, []
    out = {
        "type": "object",
        "description": f"{_first_line(defs[normal].get('description'))} One-key form: {{{kind}: ...}}.",
        "properties": {kind: value, **{n: _ref(normal, "properties", n) for n in outer}},
        "required": [kind],
        "additionalProperties": False,
    }
    if rules:
        out["allOf"] = rules
    return out


def json_schema() -> dict:
    """The JSON Schema of a model file, shorthands included."""
    defs, _ = _normal_forms()
    _describe_layers(defs)
    _user_module_rules(defs)
    for kind, spec in CONTAINER_SPECS.items():
        rules = _repeat_rules(spec, _CONTENTS.get(kind, ""))
        if rules:
            defs[_def_name(spec)]["allOf"] = rules

    bare = [k for k, s in {**LAYER_SPECS, **CONTAINER_SPECS}.items()
            if not any(f.is_required() for n, f in s.model_fields.items() if n != "type")]
    defs["ModuleName"] = {
        "type": "string",
        "enum": bare,
        "description": "A module by its type alone, every argument at its default (ReLU is {type: ReLU}).",
    }
    one_key = {}
    for kind, spec in LAYER_SPECS.items():
        one_key[f"{kind}OneKey"] = _layer_one_key(kind, spec, defs)
    for kind, spec in CONTAINER_SPECS.items():
        one_key[f"{kind}OneKey"] = _container_one_key(kind, spec, defs)
    defs.update(one_key)
    defs[ANY_MODULE] = {
        "description": "A module: a type name, {type: ..., args}, a one-key form {Type: args}, "
                       "a user-defined module (no type), or {share: path}.",
        "anyOf": [_ref("ModuleName")]
                 + [_ref(_def_name(s)) for s in {**LAYER_SPECS, **CONTAINER_SPECS}.values()]
                 + [_ref(_def_name(ShareSpec))]
                 + [_ref(name) for name in one_key],
    }
    return {
        "$schema": DIALECT,
        "title": "nnspec model file",
        "description": "A neural network in torch.nn's vocabulary, for nnspec (generated by `nnspec schema`).",
        "$ref": f"#/$defs/{ANY_MODULE}",
        "$defs": copy.deepcopy(defs),
    }


def schema_text() -> str:
    """``json_schema()`` as the committed file holds it: indented, keys sorted, a final newline."""
    return json.dumps(json_schema(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


__all__ = ["json_schema", "schema_text"]

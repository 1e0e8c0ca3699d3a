"""A JSON Schema (draft 2020-12) of model files as users write them, for editors.

The normal forms (``{type: Conv2d, in_channels: 1, ...}``) are Pydantic's own JSON
Schemas of the specs in models.py. The shorthands that shorthand.py expands before
validation are built here from the same specs: a bare type name, the one-key form
``{Conv2d: ...}`` (positional arguments in ``LayerSpec.positional`` order, one
argument, or a mapping of arguments, with the other arguments beside it), and a
container's contents as the one-key value. Every place that holds a module accepts
all of these (``$defs/AnyModule``). Which form a module is in is chosen by its shape before any form is
tried (``$defs/ModuleForm``: ``if``/``then`` on a string, a ``type:`` key and its value, ``share:``, a CamelCase
key, or else a user-defined module), so that an editor checks a module against its own form and reports a
mistake on its line, not as the nearest of 300 forms.

Editors (yaml-language-server, which VS Code's YAML extension runs, and VS Code's JSON service) read two
keywords beside the standard ones: ``errorMessage``, shown for a failed ``enum``, ``const``, ``type`` or
``pattern`` (a reserved name's rule names the name), and ``doNotSuggest``, which keeps a key that is valid only
in some places (``repeat``, ``args``, ...) out of completion.

Rules that the specs check in Python validators are added where JSON Schema can say
them (``repeat`` with ``module``, reserved registry names, ``inputs`` with
``forward``); the rest (a name registered twice, a share's target) are left to nnspec.

What blocks.py expands before validation is said here too: a ``$name`` or ``${expr}``
string wherever an argument or a registry's value goes (``$defs/Substitution``);
``when`` on every module; ``repeat`` and ``index`` on an item of a module list
(``$defs/ListItem``); and, in a file with a root ``blocks:`` mapping, block definitions
and block uses (``BasicBlock``, ``{BasicBlock: {...}}``, ``{type: BasicBlock, ...}``).
A schema cannot tell which blocks a file defines, so a block use is any CamelCase name
that is not a torch type, and it is accepted only in files that have ``blocks:``:
the module graph is built twice, ``AnyModule`` for files without blocks (an unknown type
stays an error) and ``AnyModuleInBlocks`` for files with them. Every module form takes the
extra keys (``when``, ``repeat``, ``index``, ``args``, ``blocks``); each place a module
goes forbids those that do not belong there.
"""

from __future__ import annotations

import copy
import json
import keyword
import sys
from typing import Any

from pydantic import TypeAdapter
from pydantic.json_schema import GenerateJsonSchema

from .blocks import ARG_TYPES, MAX_EXPANDED
from .models import _RESERVED, CONTAINER_SPECS, LAYER_SPECS, SUBCLASS_KEYS, ModuleSpec, ShareSpec, UserModuleSpec
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
        annotations = {k: v for k, v in node.items() if k in ("title", "description")}
        if annotations and {k: v for k, v in node.items() if k not in annotations} == union:
            return {**_ref(ANY_MODULE), **annotations}  # a module argument (TransformerEncoder's encoder_layer)
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
        for name, field in _arguments(spec).items():
            if name in spec.subclass_keys:
                continue  # described where they are shared (_subclass_keys)
            where = f"argument {spec.positional.index(name) + 1} of {call}" if name in spec.positional \
                else f"keyword argument of {kind}"
            need = "required" if field.is_required() else "optional"
            d["properties"][name]["description"] = f"{name}: {where}; {need}."


def _refused(message: str) -> dict:
    """A schema no value passes, with the message an editor shows: yaml-language-server and VS Code print
    ``errorMessage`` for a failed ``enum`` (for ``not`` and ``false`` they have only "not allowed")."""
    return {"enum": [], "errorMessage": message}


def _banned_names() -> dict:
    """What no registry entry or attribute may be named (a Module attribute, or a Python keyword): a reference
    to ``NotReserved``, which names the word in its message."""
    return {"allOf": [_ref("NotReserved")]}


def _not_reserved() -> dict:
    """``$defs/NotReserved``: one rule per reserved word, so that the message names it (as nnspec's does)."""
    keywords = set(keyword.kwlist)
    # dunders are matched by pattern: which ones a class has depends on the Python version
    attributes = sorted({n for n in _RESERVED if not (n.startswith("__") and n.endswith("__"))} - keywords)
    rules: list[dict] = [{"pattern": "^(?!__.*__$)",
                          "patternErrorMessage": "a __name__ can't be a name here: it is a Module attribute"}]
    rules += [{"if": {"const": n}, "then": _refused(f"'{n}' can't be a name here: it is a Module attribute")}
              for n in attributes]
    rules += [{"if": {"const": n}, "then": _refused(f"'{n}' can't be a name here: it is a Python keyword")}
              for n in sorted(keywords)]
    return {"description": "A name no module, parameter, buffer or attribute may have: a Module attribute "
                           "(forward, training, ...), a __dunder__, or a Python keyword.",
            "allOf": rules}


def _user_module_rules(defs: dict) -> None:
    """UserModuleSpec's validator, where a schema can say it: reserved names, inputs only with forward."""
    d = defs[_def_name(UserModuleSpec)]
    for registry in ("parameters", "buffers", "modules"):
        names = d["properties"][registry]["propertyNames"]
        names.update(_banned_names())
    d["properties"]["inputs"]["anyOf"][0].update({"uniqueItems": True, "not": {"contains": {"const": "self"}}})
    d["allOf"] = [{"if": _given("inputs"), "then": _given("forward")}]


_SUBCLASS_DEFS = {"name": "ClassName", "forward": "Forward", "inputs": "Inputs", "attributes": "Attributes"}
_SUBCLASS_HELP = {
    "name": "The class name, shown in the repr: of a user-defined module, or of a subclass of a layer or container "
            "(`class LayerNorm2d(nn.LayerNorm)`; with no forward of its own it runs its base's, as torchvision's "
            "`_Transition(nn.Sequential)`).",
    "forward": "The forward, torch code pasted as it is (with or without its `def forward(self, ...)` line); "
               "compiled by nnspec, never run by Python. On a layer or container: the forward of a subclass of it.",
    "inputs": "The forward's input names, where its text has no `def forward(self, ...)` line (default [x]).",
    "attributes": "Constants the forward reads as `self.<name>` (torch's `self.use_res_connect = ...` in "
                  "`__init__`); none may replace what the module has already.",
}


def _subclass_keys(defs: dict) -> None:
    """``name``, ``forward``, ``inputs`` and ``attributes`` (UserModuleSpec's, and those of every layer and
    container a file may subclass) as shared $defs, each module's property a reference to them."""
    user = defs[_def_name(UserModuleSpec)]["properties"]
    for key, name in _SUBCLASS_DEFS.items():
        shared = {k: v for k, v in user[key].items() if k not in ("title", "default", "description")}
        defs[name] = {**shared, "description": _SUBCLASS_HELP[key]}
    defs["Attributes"]["propertyNames"].update(_banned_names())
    specs = [(s, s.subclass_keys) for s in LAYER_SPECS.values()] + \
        [(s, tuple(SUBCLASS_KEYS)) for s in CONTAINER_SPECS.values() if "forward" in s.model_fields]
    for spec, keys in specs:
        d = defs[_def_name(spec)]
        base = d["properties"]["type"].get("const", "Module")
        text = {"name": f"name: the class name of a subclass of {base}, for the repr; optional (default {base}).",
                "forward": f"forward: the subclass's own forward, run instead of {base}'s; optional.",
                "inputs": "inputs: the forward's input names, where it has no def line; optional.",
                "attributes": "attributes: constants the forward reads as self.<name>; optional."}
        if spec is UserModuleSpec:
            text["name"], text["forward"] = "name: the class name, for the repr; optional.", "forward: optional."
        for key in keys:
            prop = d["properties"][key]
            d["properties"][key] = {**_ref(_SUBCLASS_DEFS[key]), "description": text[key],
                                    **{k: v for k, v in prop.items() if k == "default"}}
        if "inputs" in keys and spec is not UserModuleSpec:
            d.setdefault("allOf", []).append(_ref("InputsNeedForward"))
    defs["InputsNeedForward"] = {"description": "inputs name a forward's inputs: only with a forward.",
                                 "if": _given("inputs"), "then": _given("forward")}

    def beside_or_inside(key: str) -> dict:  # the one-key form: beside its type key, or in its mapping
        inside = {"not": {"patternProperties": {"^[A-Z]": {"not": {"type": "object", **_given(key)}}}}}
        return {"anyOf": [_given(key), inside]}

    defs["OneKeyInputsNeedForward"] = {"description": "inputs name a forward's inputs: only with a forward.",
                                       "if": beside_or_inside("inputs"), "then": beside_or_inside("forward")}


def _arguments(spec: type) -> dict:
    """A layer spec's fields by the key a model file writes: the alias where there is one (torch's
    _random_samples is the field random_samples: pydantic keeps no field named with a leading _)."""
    return {f.alias or n: f for n, f in spec.model_fields.items() if n != "type"}


def _layer_one_key(kind: str, spec: type, defs: dict) -> dict:
    """``{Kind: [positional...] | one argument | {name: value} | null, name: value, ...}``."""
    normal = _def_name(spec)
    fields = _arguments(spec)
    names = list(fields)
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
        twice = _refused(f"{kind}: argument '{name}' given both by position and by name")
        rule: dict = {"if": {"properties": {kind: given}}, "then": {"properties": {name: twice}}}
        if fields[name].is_required():
            rule["else"] = somewhere[name]
        rules.append(rule)
    for name in names:
        if name not in pos and fields[name].is_required():
            rules.append(somewhere[name])
    if {"inputs", "forward"} <= set(spec.subclass_keys):
        rules.append(_ref("OneKeyInputsNeedForward"))
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
        rules = _repeat_rules(spec, kind) + ([_ref("InputsNeedForward")] if "inputs" in names else [])
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


# --------------------------------------------------------------------------- blocks, when, repeat, $

SUBST = "Substitution"
IN_BLOCKS = "InBlocks"  # the suffix of the module graph of a file with blocks
_IDENT = r"^[A-Za-z_][A-Za-z0-9_]*$"
_BLOCK_NAME = r"^[A-Z][A-Za-z0-9_]*$"
_ANNOTATIONS = ("title", "description", "default", "examples")
_OWN_REPEAT = ("ModuleList", "ParameterList")  # their `repeat` is their own field, not a list item's
EXTRA_KEYS = ("when", "repeat", "index", "args", "blocks", "functions", "weights", "tied")  # what blocks.py takes off a module before validation


# yaml-language-server's and VS Code's keyword: the key is valid but left out of completion. The extra keys are
# on every module form, so without it completion in a {type: Conv2d} mapping would offer args, index, repeat...
_HIDDEN = {"doNotSuggest": True}

_ROOT_ONLY = {key: {"$ref": "#/$defs/OnlyAtTheRoot"} for key in ("blocks", "functions", "weights", "tied")}


def _mentions(node: Any, names: set[str]) -> bool:
    """Whether the schema refers to one of the $defs ``names``."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/") and ref.split("/")[2] in names:
            return True
        return any(_mentions(v, names) for v in node.values())
    if isinstance(node, list):
        return any(_mentions(v, names) for v in node)
    return False


def _takes_any_string(node: dict) -> bool:
    return node.get("type") == "string" and not {"pattern", "enum", "const", "minLength", "maxLength",
                                                  "format"} & node.keys()


def _substitutable(node: Any, wrap: bool = True) -> Any:
    """``node`` (an argument's or a registry value's schema) that also takes a ``$`` substitution string, at
    every level that has a type (a list of ints: the list, and each int). Module places stay modules."""
    if not isinstance(node, dict) or _mentions(node, {ANY_MODULE}):
        return node
    node = dict(node)
    for key in ("items", "additionalProperties"):
        if isinstance(node.get(key), dict):
            node[key] = _substitutable(node[key])
    if isinstance(node.get("prefixItems"), list):
        node["prefixItems"] = [_substitutable(v) for v in node["prefixItems"]]
    if isinstance(node.get("properties"), dict):
        node["properties"] = {k: _substitutable(v) for k, v in node["properties"].items()}
    subst = _ref(SUBST)
    if "anyOf" in node:
        branches = [_substitutable(b, wrap=False) for b in node["anyOf"]]
        node["anyOf"] = branches if subst in branches else branches + [subst]
        return node
    typed = {"type", "enum", "const", "$ref"} & node.keys()
    if not wrap or not typed or node.get("type") == "object" or _takes_any_string(node):
        return node  # a mapping's keys are never substituted: its values are
    outer = {k: node.pop(k) for k in _ANNOTATIONS if k in node}
    return {**outer, "anyOf": [node, subst]}


def _allow_substitutions(defs: dict) -> None:
    """Every argument of every spec (and every field of a parameter, buffer, init) takes ``$`` strings; a
    module's ``type`` (what the forms are told apart by) and its ``forward`` (never substituted) do not."""
    for d in defs.values():
        for name, prop in list(d.get("properties", {}).items()):
            if name not in ("type", "forward"):
                d["properties"][name] = _substitutable(prop)


def _module_list_items(defs: dict) -> None:
    """A module list's items (Sequential's and ModuleList's ``modules: [...]``) are ``ListItem``s: they may
    carry ``repeat`` and ``index``."""
    def fix(node: dict) -> dict:
        if node.get("type") == "array" and node.get("items") == _ref(ANY_MODULE):
            return {**node, "items": _ref("ListItem")}
        return node

    for kind in CONTAINER_SPECS.values():
        defs[_def_name(kind)] = _walk(defs[_def_name(kind)], fix)


def _extra_keys() -> dict:
    """The keys blocks.py takes off a module, as a module form has them. ``args`` and ``blocks`` are only let
    through here: the place that takes them (a block's body, the root) checks them, once, not once per form."""
    return {"when": _ref("When"), "repeat": _ref("Repeat"), "index": _ref("Index"),
            "args": _ref("ArgsKey"), "blocks": _ref("BlocksKey"), "functions": _ref("FunctionsKey"),
            "weights": _ref("WeightsKey"), "tied": _ref("TiedKey")}


def _add_extra_keys(form: dict, kind: str | None) -> None:
    """The extra keys on one module form; the place it is in says which belong."""
    extra = _extra_keys()
    if kind in _OWN_REPEAT:
        del extra["repeat"], extra["index"]
    form["properties"] = {**form["properties"], **extra}


def _only(where: str, what: str) -> dict:
    return {**_refused(f"{what}: only {where}"), "description": f"{what}: only {where}.", **_HIDDEN}


def _extra_key_defs() -> dict:
    subst = _ref(SUBST)
    defs = {
        SUBST: {
            "type": "string",
            "pattern": r"\$",
            "description": "A substitution, replaced before validation: `$name` is a block argument's value (or a "
                           "repeat's index), `${expr}` an expression's (`${planes * 4}`, `${stride if i == 0 else 1}`"
                           "); inside a longer string either is written in as text, and `$$` is a `$`.",
        },
        "When": {
            "type": ["string", "boolean"],
            "description": "The module only when this holds: an expression over block arguments and repeat "
                           "indices (`stride != 1 or inplanes != planes`), or true/false. When false the module "
                           "is absent: None, as torch's `self.downsample = None`, or left out of a list.",
        },
        "Repeat": {
            "description": "On an item of a module list (Sequential, ModuleList, a block's items): the item N times, "
                           "its index 0..N-1 bound to `i` (or to the name given by `index`) for `$i`, `${...}` and "
                           "`when`.",
            "anyOf": [{"type": "integer", "minimum": 0, "maximum": MAX_EXPANDED}, subst],
        },
        "Index": {
            "type": "string",
            "pattern": _IDENT,
            "description": "With repeat: the name the repetition's index is bound to (default `i`).",
        },
        "BlockName": {
            "type": "string",
            "pattern": _BLOCK_NAME,
            "not": {"enum": sorted({*LAYER_SPECS, *CONTAINER_SPECS})},
            "description": "A block, by the CamelCase name it has under the root's `blocks:` (not a torch.nn type's "
                           "name).",
        },
        "BlockArgs": {
            "type": ["object", "null"],
            "propertyNames": {"pattern": _IDENT},
            "additionalProperties": {
                "description": f"A type name ({', '.join(ARG_TYPES)}): a required argument of that type; any "
                               "other value: the argument's default (`stride: 1`)."},
            "description": "In a block definition: the block's arguments, used in its body as `$name` and in "
                           "`${...}` expressions. A type name makes an argument required, a value is its default.",
        },
        "Blocks": {
            "type": ["object", "null"],
            "propertyNames": _ref("BlockName"),
            "additionalProperties": _ref("BlockDefinition"),
            "description": "At the root: reusable blocks, parameterised modules used as often as a layer is "
                           "(`BasicBlock`, `{BasicBlock: {inplanes: 64, planes: 64}}`, "
                           "`{type: BasicBlock, inplanes: 64}`). Each is a module body with `args:`, or "
                           "`items:` a list of modules spliced into the list it is used in.",
        },
        "BlockDefinition": {
            "description": "A block: a module (a user-defined module's class name is the block's name) with "
                           "optional `args:`, or `items:` a list of modules to splice.",
            # as blocks.py tells them apart: by an items key (an anyOf made editors guess, as for modules)
            "if": {"type": "object", "required": ["items"]},
            "then": _ref("BlockItems"),
            "else": _ref("BlockBody"),
        },
        "BlockItems": {
            "type": "object",
            "description": "A block of list items: its modules take the place of its use in a module list.",
            "properties": {"args": _ref("BlockArgs"),
                           "items": {"type": "array", "items": _ref("ListItem" + IN_BLOCKS),
                                     "description": "The modules spliced into the list the block is used in."}},
            "required": ["items"],
            "additionalProperties": False,
        },
        "ArgsKey": {"description": "args: a block's arguments, in its definition (see BlockArgs)."},
        "BlocksKey": {"description": "blocks: the file's reusable blocks, at its root (see Blocks)."},
        "FunctionsKey": {"type": "string", "description": "functions: module-level Python defs (as torch code "
                         "has them: torchvision's stochastic_depth) that every forward in the file may call, at "
                         "its root."},
        "TiedKey": {"type": "object", "maxProperties": 1000, "additionalProperties": {"type": "string"},
                    "description": "tied: parameters that are another's (torch's lm_head.weight = "
                                   "transformer.wte.weight), as {key: the key it shares}, at the root."},
        "WeightsKey": {
            "type": "object", "additionalProperties": False,
            "description": "weights: how checkpoint keys map to this model's state_dict keys, at the root.",
            "properties": {"rename": {"type": "array", "maxItems": 100, "description": "[pattern, replacement] "
                                      "pairs (Python regular expressions), applied in order to every key.",
                                      "items": {"type": "array", "minItems": 2, "maxItems": 2,
                                                "items": {"type": "string"}}}}},
        "OnlyInLists": _only("on an item of a module list (Sequential, ModuleList, a block's items)",
                             "repeat, index"),
        "OnlyInBlockDefinitions": _only("in a block's definition, under the root's blocks", "args"),
        "OnlyAtTheRoot": _only("at the root of a model file", "blocks, functions, tied and weights"),
    }
    for key in _extra_keys().values():  # valid where they are, but not what completion should offer
        defs[key["$ref"].split("/")[-1]].update(_HIDDEN)
    return defs


def _block_uses() -> dict:
    """How a block is used, in a file with blocks: a bare name, a one-key form, or the ``type:`` form."""
    extra = _extra_keys()
    known = sorted({*LAYER_SPECS, *CONTAINER_SPECS})
    not_known = f"^(?!(?:{'|'.join(known)})$)[A-Z]"  # a torch type's key is that type's one-key form, not a block's
    # exactly one CamelCase key beside the extra keys: for each subset of extra keys present, one more key at most
    subsets = [[k for i, k in enumerate(EXTRA_KEYS) if mask >> i & 1] for mask in range(1 << len(EXTRA_KEYS))]
    return {
        "BlockUseName": {
            **_ref("BlockName"),
            "description": "A block used with its arguments' defaults.",
        },
        "BlockUseOneKey": {
            "type": "object",
            "description": "A block used like a layer: {BlockName: {argument: value, ...}} (or null: the "
                           "defaults), with when/repeat/index beside it.",
            "properties": extra,
            "patternProperties": {not_known: {"type": ["object", "null"],
                                             "propertyNames": {"pattern": _IDENT},
                                             "description": "The block's arguments by name (null: every default)."}},
            "propertyNames": {"anyOf": [{"enum": list(EXTRA_KEYS)}, _ref("BlockName")]},
            "not": {"propertyNames": {"enum": list(EXTRA_KEYS)}},  # a block's name is there
            "anyOf": [{"required": keys, "maxProperties": len(keys) + 1} for keys in subsets],  # and only one
        },
        "BlockUseType": {
            "type": "object",
            "description": "A block used in normal form: {type: BlockName, argument: value, ...}.",
            "properties": {"type": _ref("BlockName"), **extra},
            "required": ["type"],
            "additionalProperties": {"description": "An argument of the block."},
        },
        "TypeSubstitution": {
            "type": "object",
            "description": "A module whose type is a block argument's value: {type: $act, argument: value, ...}; "
                           "nnspec checks its arguments once the block is expanded.",
            "properties": {"type": _ref(SUBST), **extra},
            "required": ["type"],
            "additionalProperties": {"description": "An argument of the module."},
        },
    }


_UNKNOWN_TYPE = "unknown module type: a torch.nn type such as Conv2d, ReLU or Sequential (completion lists them)"


def _form_selection(defs: dict, suffix: str) -> dict:
    """``ModuleForm``: which form a module is in, chosen by its shape before any form is tried, so that an
    editor checks a module against its own form only (one flat anyOf of 300 forms made yaml-language-server
    guess, and report a mistake as another form's, on another line):

    - a string: a type name alone (``ModuleName``; in a file with blocks, a block's name);
    - a mapping with ``type:`` (``TypedModule``): the form its value names (``{type: Conv2d}`` is Conv2dSpec);
    - ``{share: path}``;
    - a mapping with a CamelCase key (``OneKeyModule``): the one-key form of that type (``{Conv2d: [...]}``;
      in a file with blocks, a block's use when the key is not a torch type);
    - any other mapping: a user-defined module's keys (``UserModuleSpec``).

    ``suffix`` is "" or IN_BLOCKS: the second graph refers to the InBlocks copies where there are some."""
    blocks = bool(suffix)

    def ref(name: str) -> dict:
        return _ref(name + suffix) if name + suffix in defs else _ref(name)

    known = sorted({*LAYER_SPECS, *CONTAINER_SPECS})
    specs = {**LAYER_SPECS, **CONTAINER_SPECS}
    not_known = f"^(?!(?:{'|'.join(known)})$)[A-Z]"
    camel_key = {"not": {"propertyNames": {"not": {"pattern": "^[A-Z]"}}}}  # some key is CamelCase
    type_names = {"enum": known, "errorMessage": _UNKNOWN_TYPE + (", or a block under blocks:" if blocks else "")}
    if blocks:
        type_names = {"anyOf": [type_names, _ref("BlockName"), _ref(SUBST)]}
    typed_rules = [{"if": {"properties": {"type": {"const": k}}}, "then": ref(_def_name(s))} for k, s in specs.items()]
    one_key_rules = [{"if": {"required": [k]}, "then": ref(f"{k}OneKey")} for k in specs]
    if blocks:
        typed_rules += [{"if": {"properties": {"type": _ref("BlockName")}}, "then": _ref("BlockUseType")},
                        {"if": {"properties": {"type": _ref(SUBST)}}, "then": _ref("TypeSubstitution")}]
        one_key_rules.append({"if": {"not": {"propertyNames": {"not": {"pattern": not_known}}}},
                              "then": _ref("BlockUseOneKey")})
    name = _ref("ModuleName" + suffix)
    if blocks:
        name = {"if": {"pattern": not_known}, "then": _ref("BlockUseName"), "else": name}
    one_key = {
        "type": "object",
        "description": "A module keyed by its type: {Conv2d: [1, 20, 5]}, {Sequential: [...]}"
                       + (", or a block's use {BasicBlock: {...}}." if blocks else "."),
        "allOf": one_key_rules,
    }
    if not blocks:  # a CamelCase key names a type: a torch type, where there are no blocks
        one_key["propertyNames"] = {"if": {"pattern": "^[A-Z]"}, "then": {"enum": known, "errorMessage": _UNKNOWN_TYPE},
                                    **_HIDDEN}  # no "property" item in completion: the forms offer their keys

    def obj(*required: str) -> dict:
        return {"type": "object", "required": list(required)}

    return {
        "ModuleName" + suffix: {
            **{k: v for k, v in defs["ModuleName"].items() if k != "errorMessage"},
            "errorMessage": "not a module by its name alone: a type whose arguments all have defaults (ReLU); "
                            "others take their arguments ({Linear: [4, 2]})"
                            + ("; a block, by its CamelCase name under blocks:" if blocks else ""),
        },
        "TypedModule" + suffix: {
            "type": "object",
            "description": "A module in normal form, {type: Conv2d, in_channels: 1, ...}: the form of its type.",
            "properties": {"type": {**type_names, "description": "The module's type: a torch.nn type"
                                    + (", a block, or a block argument's value ($act)." if blocks else ".")}},
            "required": ["type"],
            "allOf": typed_rules,
        },
        "OneKeyModule" + suffix: one_key,
        "ModuleForm" + suffix: {
            "description": "Every form a module is written in, told apart by its shape: a type name; a mapping "
                           "with type:; {share: path}; a mapping with a CamelCase key, the one-key form "
                           "{Conv2d: [...]}; or else a user-defined module's keys"
                           + (" (and the uses of blocks)." if blocks else "."),
            "type": ["string", "object"],
            "errorMessage": "expected a module: a type name (ReLU) or a mapping ({Linear: [4, 2]}, "
                            "{type: Linear, in_features: 4, out_features: 2}, a user-defined module's keys)",
            "if": {"type": "string"},
            "then": name,
            "else": {"if": obj("type"), "then": ref("TypedModule"),
                     "else": {"if": obj("share"), "then": ref(_def_name(ShareSpec)),
                              "else": {"if": {"type": "object", **camel_key}, "then": ref("OneKeyModule"),
                                       "else": {"if": {"type": "object"}, "then": ref(_def_name(UserModuleSpec))}}}},
        },
    }


def _places(forms: str, suffix: str) -> dict:
    """Where a module goes, each taking the extra keys that belong there."""
    not_repeat = {"if": {"not": {"anyOf": [
        {"required": ["type"], "properties": {"type": {"enum": list(_OWN_REPEAT)}}},
        *({"required": [k]} for k in _OWN_REPEAT)]}},
        "then": {"properties": {"repeat": _ref("OnlyInLists")}}}
    out = {
        ANY_MODULE + suffix: {
            "description": "A module: a type name, {type: ..., args}, a one-key form {Type: args}, "
                           "a user-defined module (no type), or {share: path}"
                           + (", or a block's use." if suffix else "."),
            "$ref": f"#/$defs/{forms}",
            "properties": {"index": _ref("OnlyInLists"), "args": _ref("OnlyInBlockDefinitions"),
                           **_ROOT_ONLY},
            "allOf": [not_repeat],
        },
        "ListItem" + suffix: {
            "description": "An item of a module list: a module, which may be repeated (repeat: N, index: name).",
            "$ref": f"#/$defs/{forms}",
            "properties": {"args": _ref("OnlyInBlockDefinitions"), **_ROOT_ONLY},
            "dependentRequired": {"index": ["repeat"]},
        },
    }
    if not suffix:
        out["Model"] = {
            "description": "A model file without blocks: the root module, with functions: and weights: beside "
                           "its keys.",
            "$ref": f"#/$defs/{forms}",
            "properties": {"index": _ref("OnlyInLists"), "args": _ref("OnlyInBlockDefinitions"),
                           "blocks": _ref("OnlyAtTheRoot")},
            "allOf": [not_repeat],
        }
    if suffix:
        out["BlockBody"] = {
            "description": "A block's body: a module, with the block's args beside its keys.",
            "$ref": f"#/$defs/{forms}",
            "properties": {"index": _ref("OnlyInLists"), "args": _ref("BlockArgs"), **_ROOT_ONLY},
            "allOf": [not_repeat],
        }
        out["ModelWithBlocks"] = {
            "description": "A model file with blocks: the root module, with `blocks:` beside its keys.",
            "$ref": f"#/$defs/{forms}",
            "properties": {"index": _ref("OnlyInLists"), "args": _ref("OnlyInBlockDefinitions"),
                           "blocks": _ref("Blocks")},  # functions and weights: the forms' own keys
            "required": ["blocks"],
            "allOf": [not_repeat],
        }
    return out


def _in_blocks(defs: dict, roots: set[str]) -> dict:
    """Copies, named ``...InBlocks``, of the defs that lead to ``roots``, their references to each other renamed."""
    names = set(roots)
    while True:
        more = {n for n, d in defs.items() if n not in names and _mentions(d, names)}
        if not more:
            break
        names |= more

    def rename(node: dict) -> dict:
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            parts = ref.split("/")
            if parts[2] in names:
                return {**node, "$ref": "/".join(parts[:2] + [parts[2] + IN_BLOCKS] + parts[3:])}
        return node

    return {n + IN_BLOCKS: _walk(copy.deepcopy(defs[n]), rename) for n in sorted(names)}


def json_schema() -> dict:
    """The JSON Schema of a model file, shorthands, blocks and substitutions included."""
    defs, _ = _normal_forms()
    _describe_layers(defs)
    _user_module_rules(defs)
    for kind, spec in CONTAINER_SPECS.items():
        rules = _repeat_rules(spec, _CONTENTS.get(kind, ""))
        if rules:
            defs[_def_name(spec)]["allOf"] = rules
    _allow_substitutions(defs)
    _subclass_keys(defs)
    _module_list_items(defs)

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
    for kind, spec in {**LAYER_SPECS, **CONTAINER_SPECS, "Share": ShareSpec}.items():
        _add_extra_keys(defs[_def_name(spec)], kind)
        if f"{kind}OneKey" in one_key:
            _add_extra_keys(defs[f"{kind}OneKey"], kind)
    defs.update(_extra_key_defs())
    defs["NotReserved"] = _not_reserved()
    defs.update(_form_selection(defs, ""))
    defs.update(_places("ModuleForm", ""))

    defs.update(_in_blocks(defs, {ANY_MODULE, "ListItem", "ModuleForm"}))
    defs.update(_block_uses())
    defs.update(_form_selection(defs, IN_BLOCKS))
    defs.update(_places("ModuleForm" + IN_BLOCKS, IN_BLOCKS))
    return {
        "$schema": DIALECT,
        "title": "nnspec model file",
        "description": "A neural network in torch.nn's vocabulary, for nnspec (generated by `nnspec schema`). "
                       "A file with `blocks:` at its root may use them as modules.",
        "if": {"type": "object", "required": ["blocks"]},
        "then": _ref("ModelWithBlocks"),
        "else": _ref("Model"),
        "$defs": copy.deepcopy(defs),
    }


def schema_text() -> str:
    """``json_schema()`` as the committed file holds it: indented, keys sorted, a final newline."""
    return json.dumps(json_schema(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


__all__ = ["json_schema", "schema_text"]

"""Names from a model file (modules, parameters, buffers, share paths) can't carry control characters or bidi
controls: no torch code could be written with them, and printed in a tree or a table they would reach the
terminal (ESC ] 0 ; title BEL retitles the window, U+202E makes text read backwards)."""

from __future__ import annotations

import functools
import re

import jsonschema
import pytest
import yaml

import nnspec
from nnspec.spec.models import NAME_PATTERN
from nnspec.spec.schema import json_schema

# (the YAML escape, what the message calls it)
HOSTILE = {"title": ("\\e]0;pwned\\a", "control character"), "clear": ("\\e[2J", "control character"),
           "nul": ("\\0", "control character"), "tab": ("\\t", "control character"),
           "newline": ("\\n", "control character"), "del": ("\\x7f", "control character"),
           "csi": ("\\x9b", "control character"), "rlo": ("\\u202e", "bidi control"),
           "isolate": ("\\u2066", "bidi control"), "alm": ("\\u061c", "bidi control"), "rlm": ("\\u200f", "bidi control")}
# a name in each registry of a model file, as YAML text with {name} where the name goes (double-quoted)
PLACES = {
    "sequential": 'Sequential:\n  ok: ReLU\n  "{name}": ReLU\n',
    "module_dict": 'type: ModuleDict\nmodules:\n  "{name}": ReLU\n',
    "parameter_dict": 'type: ParameterDict\nparameters:\n  "{name}": {{shape: [1]}}\n',
    "parameter": 'parameters:\n  "{name}": {{shape: [1]}}\n',
    "buffer": 'buffers:\n  "{name}": {{shape: [1]}}\n',
    "module": 'modules:\n  "{name}": ReLU\n',
}


def _error(text: str) -> nnspec.NNSpecError:
    with pytest.raises(nnspec.NNSpecError) as info:
        nnspec.loads(text, filename="m.yaml", meta=True)
    return info.value


@pytest.mark.parametrize("place", PLACES)
@pytest.mark.parametrize("char", HOSTILE)
def test_a_name_with_a_control_or_bidi_character_is_refused_at_its_key(place, char):
    escape, kind = HOSTILE[char]
    e = _error(PLACES[place].format(name=f"a{escape}b"))
    line = next(i for i, x in enumerate(PLACES[place].splitlines(), 1) if "{name}" in x)
    assert (e.position.line, e.position.col) == (line, 3)  # the key itself
    assert f"a name can't hold the {kind} " in e.message
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]", str(e))


def test_the_message_shows_the_name_escaped():
    e = _error('Sequential:\n  "conv\\e]0;pwned\\a": ReLU\n')
    assert str(e) == ("m.yaml:2:3: modules.conv\\x1b]0;pwned\\x07: a name can't hold the control character '\\x1b' "
                      "(no torch code could name it), got 'conv\\x1b]0;pwned\\x07'")


def test_a_share_path_is_names_too():
    e = _error('Sequential:\n  a: ReLU\n  b: {share: "a\\u202e"}\n')
    assert "bidi control '\\u202e'" in e.message and e.position.line == 3
    assert "share path is module names joined by '.'" in _error("Sequential:\n  a: ReLU\n  b: {share: a..b}\n").message


@pytest.mark.parametrize("name", ["conv 1", "0", "名前", "é", "a-b", "a\u200db"])  # torch takes these, and so do we
def test_ordinary_names_are_still_names(name):
    net = nnspec.loads(yaml.safe_dump({"Sequential": {name: "ReLU"}}, allow_unicode=True))
    assert list(dict(net.named_children())) == [name]


def test_a_dot_is_named_as_the_reason():
    assert "a name can't hold '.' (it joins the names of a state_dict key), got 'a.b'" in \
        _error('Sequential:\n  "a.b": ReLU\n').message


@pytest.mark.parametrize("name", ["ok", "a b", "名前", "a.b", "a\x1bb", "a\tb", "a\nb", "a\x85b", "a\u202eb",
                                  "a\u2069", "\x7f", "a\u200db"])
def test_the_schema_says_what_the_spec_does(name):
    schema_ok = re.fullmatch(NAME_PATTERN[1:-1], name) is not None
    try:
        nnspec.loads(yaml.safe_dump({"Sequential": {name: "ReLU"}}), meta=True)
        spec_ok = True
    except nnspec.NNSpecError:
        spec_ok = False
    assert schema_ok == spec_ok
    errors = list(_validator().iter_errors({"Sequential": {name: "ReLU"}}))
    assert (not errors) == spec_ok


@functools.cache
def _validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(json_schema())

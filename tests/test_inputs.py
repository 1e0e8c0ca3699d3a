"""``nnspec.inputs``: a forward's parameters, and binding arrays (by position or name) and values to them."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import nnspec
from nnspec import inputs, static
from nnspec.errors import NNSpecRuntimeError
from nnspec.nn import Module

P = inspect.Parameter
TWO = """\
name: Two
forward: |
  def forward(self, x, y):
      return x - 2 * y
"""
HEADER = """\
name: Header
forward: |
  def forward(self, x, mask=None, y=None, *, scale=1.0):
      if mask is not None:
          x = x.masked_fill(mask, 0.0)
      if y is not None:
          x = x - 2 * y
      return x * scale
"""


class Layer(Module):
    """A layer with a required input, optional ones and a keyword-only one, as torch layers have."""

    def forward(self, a, b=None, c=1, *, d=2):
        return (a, b, c, d)


class VarArgs(Module):
    def forward(self, a, *rest):
        return (a, rest)


class PositionalOnly(Module):
    def forward(self, a, b=None, /, c=None):
        return (a, b, c)


def test_forward_parameters_of_a_custom_forward_are_its_header():
    params = inputs.forward_parameters(nnspec.loads(TWO))
    assert [(p.name, p.kind, p.default) for p in params] == [("x", P.POSITIONAL_OR_KEYWORD, P.empty),
                                                            ("y", P.POSITIONAL_OR_KEYWORD, P.empty)]
    params = inputs.forward_parameters(nnspec.loads(HEADER))
    assert [(p.name, p.kind, p.default) for p in params] == [
        ("x", P.POSITIONAL_OR_KEYWORD, P.empty), ("mask", P.POSITIONAL_OR_KEYWORD, None),
        ("y", P.POSITIONAL_OR_KEYWORD, None), ("scale", P.KEYWORD_ONLY, 1.0)]
    assert inputs.input_names(nnspec.loads("name: NoForward")) == []  # Module's forward(*input)


def test_forward_parameters_of_a_layer_are_its_signature():
    assert [(p.name, p.default) for p in inputs.forward_parameters(Layer())] == [
        ("a", P.empty), ("b", None), ("c", 1), ("d", 2)]
    assert inputs.input_names(Layer()) == ["a", "b", "c"]  # d is keyword-only
    assert inputs.input_names(nnspec.loads("Bilinear: [2, 3, 4]")) == ["input1", "input2"]


def test_arrays_fill_the_inputs_not_given_by_name_in_order():
    m = nnspec.loads(TWO)
    assert inputs.bind_call(m, ["X", "Y"]) == (["X", "Y"], {})
    assert inputs.bind_call(m, ["Y", "X"], names=["y", None]) == (["X", "Y"], {})
    assert inputs.bind_call(m, ["X"], {"y": "Y"}) == (["X", "Y"], {})


def test_an_input_left_out_is_not_passed_and_later_ones_go_by_keyword():
    layer = Layer()
    assert inputs.bind_call(layer, ["A"]) == (["A"], {})
    assert inputs.bind_call(layer, ["A", "C"], names=[None, "c"]) == (["A"], {"c": "C"})
    assert inputs.bind_call(layer, ["A", "D"], names=[None, "d"]) == (["A"], {"d": "D"})
    args, kwargs = inputs.bind_call(layer, ["A", "C"], names=[None, "c"])
    assert layer(*args, **kwargs) == ("A", None, "C", 2)  # b and d: the forward's own defaults


def test_arrays_left_over_go_to_star_args():
    assert inputs.bind_call(VarArgs(), ["A", "B", "C"]) == (["A", "B", "C"], {})
    assert inputs.bind_call(VarArgs(), ["B", "A"], names=[None, "a"]) == (["A", "B"], {})
    with pytest.raises(NNSpecRuntimeError, match="too many"):
        inputs.bind_call(Layer(), ["A", "B", "C", "D"])


def test_a_positional_only_input_before_a_given_one_gets_its_default():
    m = PositionalOnly()
    assert inputs.bind_call(m, ["A", "C"], names=[None, "c"]) == (["A"], {"c": "C"})
    assert inputs.bind_call(m, ["B", "A"], names=["b", None]) == (["A", "B"], {})


def test_a_custom_forward_s_defaults_apply_where_inputs_are_left_out():
    m = nnspec.loads(HEADER)
    x, y = np.ones((2, 3), np.float32), np.full((2, 3), 3, np.float32)
    mask = np.array([[True, False, False]] * 2)
    assert inputs.bind_call(m, [x]) == ([x], {})
    args, kwargs = inputs.bind_call(m, [x, y], names=[None, "y"])
    assert args == [x] and kwargs == {"y": y}  # the mask is not passed: its default, None, applies
    assert inputs.call_inputs(m, args, kwargs) == [("x", x), ("y", y)]
    np.testing.assert_array_equal(m(*args, **kwargs), x - 2 * y)
    args, kwargs = inputs.bind_call(m, [x, mask], names=[None, "mask"])
    np.testing.assert_array_equal(m(*args, **kwargs), np.where(mask, 0, x))
    np.testing.assert_array_equal(nnspec.compile(m, names=["y", None])(y, x), x - 2 * y)
    assert static.infer(m, [(2, 3), (2, 3)], names=[None, "y"]).output_shape == (2, 3)
    with pytest.raises(NNSpecRuntimeError, match=r"its inputs are: x, mask=None, y=None, scale=1.0"):
        inputs.bind_call(m, [x], names=["z"])


@pytest.mark.parametrize("arrays, named, names, message", [
    (["X"], {}, ["z"], "Two has no input 'z'; its inputs are: x, y"),
    (["X", "Y"], {"x": "v"}, ["x", None], "Two's input 'x' is given twice"),
    (["X", "X"], {}, ["x", "x"], "Two's input 'x' is given twice"),
    (["X"], {}, None, "Two takes the input(s) x, y; got 1 array(s): y missing"),
    (["X", "Y", "Z"], {}, ["y", None, None], "got 2 array(s) by position and y by name: too many for the 1 input(s) "
                                             "left to fill by position (x)"),
])
def test_binding_mistakes(arrays, named, names, message):
    with pytest.raises(NNSpecRuntimeError) as e:
        inputs.bind_call(nnspec.loads(TWO), arrays, named, names)
    assert message in str(e.value)


def test_static_inference_and_plans_take_names():
    m = nnspec.loads(TWO)
    found = static.infer(m, [(2, 3), (4, 1, 3)], names=["y", None])
    assert found.output_shape == (4, 2, 3)
    assert [(n, v.shape) for n, v in found.inputs] == [("x", (4, 1, 3)), ("y", (2, 3))]
    x, y = np.ones((4, 1, 3), np.float32), np.full((2, 3), 3, np.float32)
    np.testing.assert_array_equal(nnspec.compile(m, names=["y", None])(y, x), x - 2 * y)

"""The forward compiler: what compiles, what is refused (message and file position), and the graph it makes."""

from __future__ import annotations

import json

import numpy as np
import pytest

import nnspec
from nnspec.ir import OPS

HEAD = "name: M\nmodules:\n  conv: {Conv2d: [2, 2, 1]}\n  lin: {Linear: [4, 4]}\n  seq: {Sequential: [ReLU, ReLU]}\n" \
       "  md: {ModuleDict: {a: ReLU, b: {LeakyReLU: [0.5]}}}\n  ml: {ModuleList: [ReLU, {Linear: [4, 4]}]}\n" \
       "  maybe: null\nparameters:\n  w: {shape: [4, 4], init: randn}\nforward: |\n"
BODY_LINE = HEAD.count("\n") + 1  # the file line of the forward's first line


def model(body: str, extra: str = "") -> nnspec.Module:
    text = HEAD + "".join(f"  {line}\n" for line in body.splitlines()) + extra
    return nnspec.loads(text, filename="m.yaml", seed=0)


def refused(body: str) -> nnspec.NNSpecError:
    with pytest.raises(nnspec.CompileError) as info:
        model(body)
    return info.value


# --------------------------------------------------------------------------- refused constructs

REFUSED = [
    ("import os\nreturn x", 1, 3, "'import' is not supported"),
    ("from os import path\nreturn x", 1, 3, "'import' is not supported"),
    ("while True:\n    x = x\nreturn x", 1, 3, "'while' is not supported"),
    ("return eval('1')", 1, 10, "'eval' is not allowed"),
    ("return exec('1')", 1, 10, "'exec' is not allowed"),
    ("return __import__('os')", 1, 10, "'__import__' is not allowed"),
    ("return open('f')", 1, 10, "'open' is not allowed"),
    ("f = lambda y: y\nreturn f(x)", 1, 7, "lambda is not supported"),
    ("return [y for y in x]", 1, 10, "a list comprehension is not supported"),
    ("return {k: k for k in x}", 1, 10, "a dict comprehension is not supported"),
    ("return max(y for y in x)", 1, 13, "a generator expression is not supported"),  # at its parenthesis
    ("return undefined_name", 1, 10, "name 'undefined_name' is not defined"),
    ("return x.__class__", 1, 10, "tensor attribute or method '__class__' is not supported"),
    ("return os.system('ls')", 1, 10, "name 'os' is not defined"),
    ("return torch.load('f')", 1, 10, "torch.load is not supported"),
    ("return F.not_an_op(x)", 1, 10, "F.not_an_op is not supported"),
    ("return self.nothing(x)", 1, 10, "M has no submodule, parameter, buffer or hyperparameter 'nothing'"),
    ("self.conv = x\nreturn x", 1, 3, "assigning to an attribute is not supported"),
    ("(4, 5)[0] = 1\nreturn x", 1, 3, "assigning to an item of (4, 5) is not supported"),
    ("if x.sum() > 0:\n    x = x\nreturn x", 1, 6, "an if must be decidable"),
    ("return 0 < x < 1", 1, 10, "a chained comparison of values computed in the forward"),
    ("return x is self.w", 1, 10, "comparisons must be between values known"),
    ("for v in [*x.shape]:\n    pass\nreturn x", 1, 12, "can only loop over what is known"),
    ("a, *b = x.shape\nreturn x", 1, 3, "starred assignment is not supported"),
    ("return self.conv(**x)", 1, 20, "** needs a dict"),
    ("return torch.bfloat16", 1, 10, "torch.bfloat16 is not supported: nnspec computes with NumPy's dtypes"),
    ("return x.dtype.nothing", 1, 10, "tensor attribute or method 'nothing' is not supported"),
    ("return math.sqrt(-1)", 1, 10, "math domain error"),
    ("return torch.finfo(torch.int64)", 1, 10, "torch.finfo() requires a floating point input type"),
    ("if x:\n    x = x\nreturn x", 1, 6, "an if must be decidable"),
    ("for y in x:\n    pass\nreturn x", 1, 12, "can only loop over what is known"),
    ("return self.ml[x](x)", 1, 10, "takes a constant integer index"),
    ("return self.ml[5](x)", 1, 10, "index 5 is out of range"),
    ("return self.md['c'](x)", 1, 10, "has no key 'c'"),
    ("return self.ml(x)", 1, 10, "ml is a ModuleList: call one of its entries"),
    ("try:\n    pass\nexcept Exception:\n    pass\nreturn x", 1, 3, "'try' is not supported"),
    ("with x:\n    pass\nreturn x", 1, 3, "'with' is not supported"),
    ("del x\nreturn x", 1, 3, "'del' is not supported"),
    ("global g\nreturn x", 1, 3, "'global' is not supported"),
    ("raise ValueError()", 1, 3, "the forward raises ValueError()"),
    ("assert 1 == 2, 'sizes differ'\nreturn x", 1, 3, "assertion failed: sizes differ"),
    ("with open('f'):\n    pass\nreturn x", 1, 3, "'with' is not supported"),
    ("return f'{x}'", 1, 10, "an f-string takes values known when the model is compiled"),
    ("return (y := x)", 1, 11, "':=' is not supported"),
    ("return self.conv(*1)", 1, 20, "* needs a sequence, not 1"),
    ("return x ** 2 if x else x", 1, 20, "an if must be decidable"),
    ("return x +", 1, 13, "invalid Python syntax"),
    ("def helper(self, x):\n    return x", 1, 3, "the function must be named forward"),
    ("return getattr(self, 'conv')(x)", 1, 10, "'getattr' is not allowed"),
    ("return self(x)", 1, 10, "calling self (recursion) is not supported"),
    ("return 2 ** 100000", 1, 10, "the result would be too large"),
    ("return 'ab' * 100000", 1, 10, "the result would be too large"),
    ("return [0] * 400000000", 1, 10, "the result would be too large"),
    ("return range(10 ** 20)", 1, 10, "range(): OverflowError"),
    ("return 'abc'[::0]", 1, 10, "slice step cannot be zero"),
    ("if 1 < 'a':\n    pass\nreturn x", 1, 10, "cannot evaluate this when compiling: TypeError"),
    ("return min(1, 2, key=abs)", 1, 10, "keyword arguments to min() are not supported"),
    ("for i in range(10 ** 7):\n    pass\nreturn x", 1, 12, "more than 1,000,000"),
]


@pytest.mark.parametrize("body, line, col, phrase", REFUSED, ids=[r[3][:40] for r in REFUSED])
def test_refused_constructs_name_the_construct_and_its_file_position(body, line, col, phrase):
    e = refused(body)
    assert phrase in str(e)
    assert e.position.file == "m.yaml"
    assert (e.position.line, e.position.col) == (BODY_LINE + line - 1, col), str(e)
    assert str(e).startswith(f"m.yaml:{BODY_LINE + line - 1}:{col}: ")


def test_nothing_runs_when_a_forward_tries_to(tmp_path):
    marker = tmp_path / "ran"
    for body in (f"__import__('os').system('touch {marker}')\nreturn x",
                 f"eval(\"__import__('os').system('touch {marker}')\")\nreturn x",
                 f"open('{marker}', 'w')\nreturn x"):
        with pytest.raises(nnspec.CompileError):
            model(body)
    assert not marker.exists()


def test_unrolling_is_bounded():
    e = refused("for i in range(200000):\n    x = x + 1\nreturn x")
    assert "more than 100,000 graph nodes" in str(e)


def test_inputs_key_and_header_must_agree():
    with pytest.raises(nnspec.CompileError, match="disagrees with the forward header"):
        model("def forward(self, x):\n    return x", extra="inputs: [y]\n")


# --------------------------------------------------------------------------- what compiles


def test_language_features_compile_and_run():
    m = model(
        "def forward(self, x: Tensor) -> Tensor:\n"
        "    '''docstring'''\n"
        "    y = self.lin(x)\n"
        "    a, b = y, x\n"
        "    n = len(self.ml)\n"
        "    for i, layer in enumerate(self.ml):\n"
        "        if i == n - 1:\n"
        "            a = layer(a)\n"
        "        else:\n"
        "            continue\n"
        "    for k, act in self.md.items():\n"
        "        b = act(b)\n"
        "    if self.maybe is None and self.training is False:\n"
        "        b = -b\n"
        "    b += self.w @ x.t() if False else 0\n"
        "    out = (a * 2 - b / 4) ** 2\n"
        "    return out.sum(dim=-1, keepdim=True), x.shape[0]\n"
    ).eval()
    x = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
    out, n = m(x)
    lin, ml1 = m.lin, m.ml[1]
    a = ml1(lin(x))
    b = -np.maximum(x, 0)  # ReLU, then LeakyReLU(0.5) of a non-negative value, negated
    want = ((a * 2 - b / 4) ** 2).sum(-1, keepdims=True)
    np.testing.assert_allclose(out, want, rtol=1e-5, atol=1e-5)
    assert n == 3


def test_training_is_folded_per_mode():
    m = model("if self.training:\n    return x * 2\nreturn x")
    x = np.ones((1, 4), np.float32)
    np.testing.assert_array_equal(m.train()(x), 2 * x)
    np.testing.assert_array_equal(m.eval()(x), x)


def test_the_graph_prints_as_code_and_json():
    m = model("def forward(self, x, key):\n    y = self.md[key](self.lin(x))\n    return F.relu(y + self.w[0])\n")
    code = m.graph.python_code()
    assert code.splitlines() == [
        "def forward(self, x, key):",
        "    lin = self.lin(x)",
        "    md = self.md[key](lin)",
        "    w = self.w",
        "    getitem = w[0]",
        "    add = md + getitem",
        "    relu = F.relu(add)",
        "    return relu",
    ]
    data = json.loads(json.dumps(m.graph.to_json()))
    assert [n["op"] for n in data["nodes"]] == ["placeholder", "placeholder", "call_module", "call_module",
                                                "get_attr", "call_function", "call_function", "call_function",
                                                "output"]
    assert all(n["op"] in OPS for n in data["nodes"])
    md = data["nodes"][3]
    assert md["key"] == {"node": "key"} and md["args"] == [{"node": "lin"}]
    assert md["position"] == {"file": "m.yaml", "line": BODY_LINE + 1, "col": 11}
    m.graph.lint()


def test_the_code_names_the_file_line_each_node_came_from():
    m = model("def forward(self, x, key):\n    y = self.md[key](self.lin(x))\n    return F.relu(y + self.w[0])\n")
    code = m.graph.python_code(positions=True).splitlines()
    assert code[0] == "# m.yaml" and code[1] == "def forward(self, x, key):"
    assert code[2] == f"    lin = self.lin(x)  # line {BODY_LINE + 1}"
    assert code[-2] == f"    relu = F.relu(add)  # line {BODY_LINE + 2}" and code[-1] == "    return relu"


def test_runtime_errors_name_the_forward_line_the_op_and_the_shapes():
    m = model("y = self.lin(x)\nz = y + x[:, :3]\nreturn z").eval()
    with pytest.raises(nnspec.ShapeError) as info:
        m(np.zeros((2, 4), np.float32))
    text = str(info.value)
    assert text.startswith(f"m.yaml:{BODY_LINE + 1}:")
    assert "add" in text and "(2, 4)" in text and "(2, 3)" in text


def test_a_wrong_module_dict_key_at_run_time_is_placed():
    m = model("def forward(self, x, key):\n    return self.md[key](x)").eval()
    with pytest.raises(nnspec.NNSpecError) as info:  # a string input is compiled in: refused where it is used
        m(np.zeros((2, 4), np.float32), "zzz")
    assert str(info.value).startswith(f"m.yaml:{BODY_LINE + 1}:") and "no key 'zzz'" in str(info.value)


def test_an_input_tested_against_none_compiles_for_each_way_it_is_called():
    # a forward is compiled for each way it is called: mask given, mask None; each call runs its own branch
    m = model("def forward(self, x, mask):\n    if mask is not None:\n        x = x * mask\n    return x").eval()
    x = np.full((2, 4), 3, np.float32)
    np.testing.assert_array_equal(m(x, np.zeros((2, 4), np.float32)), 0 * x)
    np.testing.assert_array_equal(m(x, None), x)
    np.testing.assert_array_equal(m(x, mask=None), x)
    assert len(m._forward_variants) == 2  # the default call (an array for each input) and mask=None


def test_a_forward_with_defaults_keywords_and_helpers():
    m = model("def _scale(self, x, k=2, *rest, **kw):\n"
              "    return (x * k + sum(rest, 0)) * kw.get('mul', 1)\n"
              "def forward(self, x, mask=None, *, flag: bool = False):\n"
              "    y = self._scale(x, 3, x, x, mul=2)\n"
              "    if mask is not None:\n"
              "        y = y + mask\n"
              "    d = {'a': y}\n"
              "    d.update(b=1)\n"
              "    return d['a'] * 0 if flag else d").eval()
    x = np.full((2, 4), 1, np.float32)
    out = m(x)
    assert set(out) == {"a", "b"} and out["b"] == 1
    np.testing.assert_array_equal(out["a"], (x * 3 + x + x) * 2)
    np.testing.assert_array_equal(m(x, x)["a"], (x * 3 + x + x) * 2 + x)
    np.testing.assert_array_equal(m(x, flag=True), 0 * x)
    assert [str(p) for p in m.forward_parameters()] == ["x", "mask=None", "flag=False"]


@pytest.mark.parametrize("body, phrase", [
    ("n = 2 ** 1000\nfor i in range(40):\n    n = n * n\nreturn x", "the result would be too large"),
    ("s = 'ab'\nfor i in range(40):\n    s = s + s\nreturn x", "the result would be too large"),
    ("a = tuple(range(9999))\nfor i in range(999):\n    b = -1 in a\nreturn x", "more than 1,000,000 steps"),
    ("a = list(range(100000))\nreturn x", "more than 10,000"),
    ("return " + " + ".join(["x"] * 20000), "nests too deeply"),
])
def test_compile_time_work_is_bounded(body, phrase):
    assert phrase in str(refused(body))


def test_bare_names_and_hyperparameters_resolve_to_the_module():
    m = model(
        "if conv.stride == (1, 1) and self.conv.in_channels == 2 and self.lin.out_features > 3:\n"
        "    y = lin(x)\n"
        "else:\n"
        "    y = x\n"
        "for act in self.md.values():\n"
        "    y = act(y)\n"
        "return y + w.sum()"
    ).eval()
    x = np.random.default_rng(1).standard_normal((2, 4)).astype(np.float32)
    want = np.maximum(m.lin(x), 0) + m.w.data.sum()  # ReLU then LeakyReLU of non-negative values
    np.testing.assert_allclose(m(x), want, rtol=1e-5, atol=1e-5)
    assert "lin = self.lin(x)" in m.graph.python_code()


def test_a_forward_without_a_header_takes_its_inputs_from_the_inputs_key():
    m = model("return self.lin(a) + b", extra="inputs: [a, b]\n").eval()
    assert [n.target for n in m.graph.placeholders] == ["a", "b"]
    a, b = np.ones((1, 4), np.float32), np.full((1, 4), 2, np.float32)
    np.testing.assert_allclose(m(a, b), m.lin(a) + 2, rtol=1e-6)


def test_columns_count_characters_not_bytes():
    e = refused("return 'é' + undefined_name")
    assert (e.position.line, e.position.col) == (BODY_LINE, 16)


def test_a_forward_in_a_quoted_string_points_at_the_string():
    with pytest.raises(nnspec.CompileError) as info:
        nnspec.loads('name: M\nforward: "y = x\\nreturn y + undefined_name"\n', filename="m.yaml")
    assert str(info.value).startswith("m.yaml:2:11:")  # escapes shift lines, so the string's start it is


def test_input_names_are_kept_and_never_collide_with_node_names():
    m = model("def forward(self, x_, relu_1):\n    return F.relu(x_) + F.relu(relu_1) * float('inf')")
    code = m.graph.python_code()
    assert code.splitlines()[0] == "def forward(self, x_, relu_1):"
    assert "relu_2 = F.relu(relu_1)" in code and "float('inf')" in code
    assert json.loads(json.dumps(m.graph.to_json(), allow_nan=False))  # JSON without Infinity


def test_unpacking_checks_the_length_when_it_runs():
    m = model("a, b = x.shape\nreturn x * a").eval()
    np.testing.assert_array_equal(m(np.ones((2, 4), np.float32)), np.full((2, 4), 2, np.float32))
    with pytest.raises(nnspec.NNSpecRuntimeError, match="cannot unpack 3 values into 2 names") as info:
        m(np.ones((2, 4, 1), np.float32))
    assert str(info.value).startswith(f"m.yaml:{BODY_LINE}:")


def test_augmented_assignment_is_in_place_as_in_torch():
    m = model("y = x\ny += 1\nreturn x").eval()
    x = np.zeros((1, 4), np.float32)
    assert m(x) is x and (x == 1).all()


def test_submodules_with_forwards_take_keyword_inputs():
    text = ("name: Outer\nmodules:\n  inner:\n    name: Inner\n    forward: |\n      def forward(self, x, scale):\n"
            "          return x * scale\nforward: |\n  return self.inner(x, scale=3.0)\n")
    m = nnspec.loads(text)
    np.testing.assert_array_equal(m(np.ones(2, np.float32)), np.full(2, 3, np.float32))


def test_containers_slices_membership_and_lists():
    m = model("feats = []\nfor layer in self.seq[1:]:\n    feats.append(layer(x))\n"
              "if 'a' in self.md and 'z' not in self.md and self.ml:\n    feats.append(x)\n"
              "return torch.cat(feats, 1)").eval()
    x = np.random.default_rng(2).standard_normal((2, 4)).astype(np.float32)
    np.testing.assert_array_equal(m(x), np.concatenate([np.maximum(x, 0), x], 1))


def test_wrong_arguments_to_an_op_are_placed_errors_not_crashes():
    m = model("return F.relu(None)").eval()
    with pytest.raises(nnspec.NNSpecError) as info:
        m(np.zeros((1, 4), np.float32))
    assert str(info.value).startswith(f"m.yaml:{BODY_LINE}:")


def test_torch_model_code_compiles_and_runs():
    """What model code writes besides layers: * unpacking, math on sizes, comparisons and masks, dtypes and
    finfo, item assignment, assert, torch.no_grad(), named results of reductions."""
    m = nnspec.loads(
        "name: M\nbuffers:\n  mask: {shape: [8, 8], init: {tril: {}}, dtype: bool}\nforward: |\n"
        + "".join(f"  {line}\n" for line in (
            "B, T = x.shape",
            "assert T <= self.mask.size(0), f'sequence of length {T} is too long'",
            "with torch.no_grad():",
            "    att = (x[:, :, None] * x[:, None, :]) / math.sqrt(T)",
            "att = att.masked_fill(~self.mask[:T, :T], torch.finfo(att.dtype).min)",
            "att[:, 0, 0] = 0.0",
            "best = att.max(dim=-1)",
            "shape = (*x.shape, 1)",
            "ok = (x.dtype == torch.float32) & x.dtype.is_floating_point",
            "return att.softmax(-1).view(*shape[:2], -1), best.indices, best.values, x.new_tensor([ok]) > 0")),
        filename="m.yaml")
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    att, idx, values, ok = m(x)
    assert att.shape == (2, 3, 3) and idx.dtype == np.int64 and values.shape == (2, 3) and bool(ok[0])
    np.testing.assert_allclose(att.sum(-1), 1, rtol=1e-6)
    assert (att[:, 0, 1:] == 0).all()  # row 0 of the causal mask keeps only itself
    with pytest.raises(nnspec.NNSpecError, match="assertion failed: f'sequence of length {T} is too long'"):
        m(np.zeros((1, 9), np.float32))
    from nnspec import static
    from nnspec.runtime.symbolic import Dim

    found = static.infer(m, [(2, Dim.symbol("T"))])
    assert found.assumptions == ["T <= 8"] and str(found.output_shape[0]) == "(2, T, T)"


def test_an_rnn_flatten_parameters_call_compiles_to_nothing():
    """Pasted LSTM code calls self.lstm.flatten_parameters() (cuDNN's weight layout); it changes nothing here."""
    import numpy as np

    import nnspec

    text = ("name: M\nmodules:\n  lstm: {LSTM: [3, 4]}\nforward: |\n  def forward(self, x):\n"
            "      self.lstm.flatten_parameters()\n      out, _ = self.lstm(x)\n      return out\n")
    m = nnspec.loads(text, seed=0)
    assert [n.op for n in m.graph.nodes] == ["placeholder", "call_module", "call_function", "call_function",
                                             "call_function", "output"]
    x = np.ones((5, 2, 3), np.float32)
    np.testing.assert_array_equal(m(x), m.lstm(x)[0])
    with pytest.raises(nnspec.NNSpecError, match="flatten_parameters\\(\\) takes no arguments"):
        nnspec.loads(text.replace("flatten_parameters()", "flatten_parameters(1)"))
    with pytest.raises(nnspec.NNSpecError, match="has no submodule, parameter, buffer or hyperparameter"):
        nnspec.loads(text.replace("LSTM: [3, 4]", "Linear: [3, 4]"))


@pytest.mark.parametrize("body", ["return " + "-" * 100_000 + "x", "y = x\nreturn " + "not " * 100_000 + "y"])
def test_a_forward_too_deep_for_pythons_parser_is_placed_at_its_line(body):
    # ast.parse runs out of its stack (MemoryError or RecursionError) on 100,000 nested operators
    e = refused(body)
    line = body.count("\n") + 1
    assert "nests too deeply" in str(e) and str(e).startswith(f"m.yaml:{BODY_LINE + line - 1}:")


def test_a_forward_that_tests_a_size_compiles_per_input_shape():
    # Swin's `if window_size >= pad_H: shift = 0`: the test is on sizes alone, so the forward is compiled for the
    # shapes of each call, each call taking its own branch
    m = model("h = x.size(1)\n"
              "pad = (4 - h % 4) % 4\n"
              "if pad == 0:\n"
              "    return x * 2\n"
              "return x").eval()
    np.testing.assert_array_equal(m(np.ones((2, 4), np.float32)), np.full((2, 4), 2, np.float32))
    np.testing.assert_array_equal(m(np.ones((2, 3), np.float32)), np.ones((2, 3), np.float32))
    assert m._forward_shaped and m.graph is None  # nothing to compile before shapes are known
    found = nnspec.infer(m, [(5, 8)])
    assert tuple(found.output_shape) == (5, 8)


def test_a_test_on_data_is_still_refused_when_building():
    assert "an if must be decidable" in str(refused("if x.sum() > 0:\n    return x\nreturn x"))


def test_module_level_functions_and_a_repr_method():
    m = nnspec.loads(
        "functions: |\n"
        "  @torch.fx.wrap\n"
        "  def stochastic_depth(input, p: float, mode: str, training: bool = True):\n"
        "      if p < 0.0 or p > 1.0:\n"
        "          raise ValueError(f'drop probability has to be between 0 and 1, but got {p}')\n"
        "      if not training or p == 0.0:\n"
        "          return input\n"
        "      return input * 0\n"
        "  torch.fx.wrap('stochastic_depth')\n"
        "name: StochasticDepth\n"
        "attributes: {p: 0.5, mode: row}\n"
        "forward: |\n"
        "  def forward(self, input):\n"
        "      return stochastic_depth(input, self.p, self.mode, self.training)\n"
        "  def __repr__(self) -> str:\n"
        "      s = f'{self.__class__.__name__}(p={self.p}, mode={self.mode})'\n"
        "      return s\n", filename="m.yaml")
    assert repr(m) == "StochasticDepth(p=0.5, mode=row)"
    x = np.ones((2, 3), np.float32)
    np.testing.assert_array_equal(m.eval()(x), x)
    np.testing.assert_array_equal(m.train()(x), 0 * x)


@pytest.mark.parametrize("functions, phrase, line", [
    ("def f(x):\n    return f(x)\n", "helper calls nest more than 32 deep", 3),
    ("x = 1\n", "functions: holds only defs", 2),
    ("@functools.lru_cache\ndef f(x):\n    return x\n", "decorator @functools.lru_cache is not supported", 2),
    ("def f(x):\n    raise ValueError('no')\n", "the forward raises ValueError('no')", 3),
])
def test_functions_are_refused_at_their_place(functions, phrase, line):
    text = "functions: |\n" + "".join(f"  {ln}\n" for ln in functions.splitlines()) + \
        "name: M\nforward: |\n  def forward(self, x):\n      return f(x)\n"
    with pytest.raises(nnspec.NNSpecError) as info:
        nnspec.loads(text, filename="m.yaml")
    assert phrase in str(info.value) and str(info.value).startswith(f"m.yaml:{line}:"), str(info.value)


def test_torch_assert_keeps_its_f_string_message_unevaluated():
    m = model("n, h = x.shape\n"
              "torch._assert(h == 4, f'Wrong image height! Expected 4 but got {h}!')\n"
              "return x").eval()
    np.testing.assert_array_equal(m(np.ones((2, 4), np.float32)), np.ones((2, 4), np.float32))
    with pytest.raises(nnspec.NNSpecError) as info:
        m(np.ones((2, 5), np.float32))
    assert "assertion failed: f'Wrong image height! Expected 4 but got {h}!'" in str(info.value)


def test_a_size_of_a_computed_value_and_a_list_attribute_copied():
    # Swin's shifted_window_attention: the padded map's size decides the shift, and the shift list is the
    # module's list attribute, copied then changed (never the module's own)
    m = nnspec.loads(
        "name: M\n"
        "attributes: {window_size: [4, 4], shift_size: [2, 2]}\n"
        "forward: |\n"
        "  def forward(self, input):\n"
        "      B, H, W = input.shape\n"
        "      pad_r = (self.window_size[1] - W % self.window_size[1]) % self.window_size[1]\n"
        "      pad_b = (self.window_size[0] - H % self.window_size[0]) % self.window_size[0]\n"
        "      x = F.pad(input, (0, pad_r, 0, pad_b))\n"
        "      _, pad_H, pad_W = x.shape\n"
        "      shift_size = self.shift_size.copy()\n"
        "      if self.window_size[0] >= pad_H:\n"
        "          shift_size[0] = 0\n"
        "      if self.window_size[1] >= pad_W:\n"
        "          shift_size[1] = 0\n"
        "      return torch.roll(x, shifts=(-shift_size[0], -shift_size[1]), dims=(1, 2))\n", filename="m.yaml")
    for h, shift in ((3, (0, 2)), (5, (2, 2))):
        x = np.arange(2 * h * 6, dtype=np.float32).reshape(2, h, 6)
        padded = np.pad(x, ((0, 0), (0, 8 - h if h > 4 else 4 - h), (0, 2)))
        np.testing.assert_array_equal(m(x), np.roll(padded, (-shift[0], -shift[1]), axis=(1, 2)))
    assert m.shift_size == (2, 2)


def test_a_forward_whose_inputs_default_to_none_compiles_when_called():
    # Hugging Face's forwards: every input None by default, and that call raises; compiled per call instead
    m = model("def forward(self, input_ids=None, inputs_embeds=None):\n"
              "    if (input_ids is None) ^ (inputs_embeds is not None):\n"
              "        raise ValueError('You must specify exactly one of input_ids or inputs_embeds')\n"
              "    if hasattr(self, 'lin') and not hasattr(self, 'nothing'):\n"
              "        x = input_ids if input_ids is not None else inputs_embeds\n"
              "    return x[:, slice(-2, None)]").eval()
    assert m.graph is None  # nothing compiled when built
    x = np.arange(8, dtype=np.float32).reshape(2, 4)
    np.testing.assert_array_equal(m(x), x[:, -2:])
    np.testing.assert_array_equal(m(inputs_embeds=x), x[:, -2:])
    with pytest.raises(nnspec.NNSpecError) as info:
        m()
    assert "the forward raises ValueError('You must specify exactly one" in str(info.value)


def test_overload_declarations_are_skipped_and_tensor_is_torch_tensor():
    # torchvision's _DenseLayer: two @torch.jit._overload_method declarations, then the forward that runs
    m = model("@torch.jit._overload_method  # noqa: F811\n"
              "def forward(self, input: List[Tensor]) -> Tensor:  # noqa: F811\n"
              "    pass\n"
              "@torch.jit._overload_method  # noqa: F811\n"
              "def forward(self, input: Tensor) -> Tensor:  # noqa: F811\n"
              "    pass\n"
              "def forward(self, input):\n"
              "    prev = [input] if isinstance(input, Tensor) else input\n"
              "    return torch.cat(prev, 1)").eval()
    x = np.ones((2, 3), np.float32)
    assert m(x).shape == (2, 3) and m([x, x]).shape == (2, 6)


@pytest.mark.parametrize("functions, phrase", [
    ("[1, 2]", "functions must be Python text (module-level defs), got"),
    ("'def f(x):\\n  return (x'", "functions: invalid Python syntax"),
])
def test_a_functions_key_that_is_not_python_text_is_placed(functions, phrase):
    text = f"functions: {functions}\nname: M\nforward: 'return x'\n"
    with pytest.raises(nnspec.NNSpecError) as info:
        nnspec.loads(text, filename="m.yaml")
    assert str(info.value).startswith("m.yaml:1:") and phrase in str(info.value), str(info.value)

"""Model files: loading, shorthands, validation errors with file:line:col and dotted paths, build semantics."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import nnspec
from nnspec import nn
from nnspec.errors import SpecErrors

SEED_DIR = Path(__file__).resolve().parents[2] / "models" / "seed"


def lines(*rows: str) -> str:
    """A model file from its lines: row i is line i + 1, so tests can name line numbers plainly."""
    return "\n".join(rows) + "\n"


def load_error(text: str, filename: str = "model.yaml") -> nnspec.NNSpecError:
    with pytest.raises(nnspec.NNSpecError) as info:
        nnspec.loads(text, filename=filename)
    return info.value


# --------------------------------------------------------------------------- shorthands


def test_bare_string_is_a_type():
    m = nnspec.loads("ReLU")
    assert type(m) is nn.ReLU
    seq = nnspec.loads(lines("type: Sequential", "modules: [ReLU, PReLU]"))
    assert [type(x) for x in seq] == [nn.ReLU, nn.PReLU]


def test_positional_shorthand_in_torch_order():
    m = nnspec.loads("{Conv2d: [1, 20, 5]}")
    assert type(m) is nn.Conv2d
    assert (m.in_channels, m.out_channels, m.kernel_size) == (1, 20, (5, 5))
    assert m.weight.shape == (20, 1, 5, 5)
    t = nnspec.loads("{ConvTranspose1d: [16, 33, 3, 2]}")  # the fourth positional argument is stride
    assert t.stride == (2,)


def test_keyword_shorthand():
    m = nnspec.loads("{Conv2d: {in_channels: 1, out_channels: 20, kernel_size: [3, 5], padding: 1}}")
    assert (m.in_channels, m.out_channels, m.kernel_size, m.padding) == (1, 20, (3, 5), (1, 1))


def test_mixed_positional_and_keyword():
    m = nnspec.loads("{Conv2d: [4, 8, 3], groups: 4}")
    assert m.groups == 4
    assert m.weight.shape == (8, 1, 3, 3)


def test_scalar_shorthand():
    m = nnspec.loads("{MaxPool2d: 3}")
    assert type(m) is nn.MaxPool2d
    assert m.kernel_size == 3 and m.stride == 3


def test_full_form_equals_shorthands():
    full = nnspec.loads(lines("type: Conv2d", "in_channels: 1", "out_channels: 20", "kernel_size: 5"), seed=3)
    short = nnspec.loads("{Conv2d: [1, 20, 5]}", seed=3)
    kw = nnspec.loads("{Conv2d: {in_channels: 1, out_channels: 20, kernel_size: 5}}", seed=3)
    assert repr(full) == repr(short) == repr(kw)
    for other in (short, kw):
        np.testing.assert_array_equal(full.weight.data, other.weight.data)
        np.testing.assert_array_equal(full.bias.data, other.bias.data)


def test_container_shorthands():
    seq = nnspec.loads("{Sequential: [{Linear: [2, 3]}, ReLU, {Linear: [3, 1]}]}")
    assert type(seq) is nn.Sequential and list(seq._modules) == ["0", "1", "2"]
    named = nnspec.loads("{Sequential: {fc: {Linear: [2, 3]}, act: ReLU}}")
    assert list(named._modules) == ["fc", "act"]
    ml = nnspec.loads("{ModuleList: [ReLU, {Linear: [1, 1]}]}")
    assert type(ml) is nn.ModuleList and [type(x) for x in ml] == [nn.ReLU, nn.Linear]
    md = nnspec.loads("{ModuleDict: {a: ReLU, b: {MaxPool2d: 2}}}")
    assert type(md) is nn.ModuleDict and list(md) == ["a", "b"]
    pd = nnspec.loads("{ParameterDict: {w: {shape: [2, 3]}}}")
    assert type(pd) is nn.ParameterDict and pd["w"].shape == (2, 3)
    pl = nnspec.loads("{ParameterList: [{shape: [1]}, {shape: [2], init: ones}]}")
    assert [p.shape for p in pl] == [(1,), (2,)]
    np.testing.assert_array_equal(pl[1].data, [1, 1])


def test_shorthands_match_torch_repr():
    torch = pytest.importorskip("torch")
    tnn = torch.nn
    cases = [
        ("{Conv2d: [1, 20, 5]}", tnn.Conv2d(1, 20, 5)),
        ("{Conv2d: [4, 8, 3], groups: 4, bias: false}", tnn.Conv2d(4, 8, 3, groups=4, bias=False)),
        ("{MaxPool2d: 3}", tnn.MaxPool2d(3)),
        ("{LeakyReLU: [0.2]}", tnn.LeakyReLU(0.2)),
        ("{Sequential: [{Linear: [2, 3]}, ReLU]}", tnn.Sequential(tnn.Linear(2, 3), tnn.ReLU())),
        ("{Dropout: {p: 0.25}}", tnn.Dropout(p=0.25)),
    ]
    for text, module in cases:
        assert repr(nnspec.loads(text)) == repr(module), text


def test_exponent_without_dot_is_a_float():
    m = nnspec.loads(lines("BatchNorm1d: [10]", "eps: 1e-5", "momentum: 2E-1"))
    assert m.eps == 1e-5 and isinstance(m.eps, float)
    assert m.momentum == 0.2 and isinstance(m.momentum, float)
    assert nnspec.spec.parse("x: 1e-5")["x"] == 1e-5
    assert nnspec.spec.parse("x: -3e+2")["x"] == -300.0
    assert nnspec.spec.parse("x: '1e-5'")["x"] == "1e-5"  # a quoted one stays a string


# --------------------------------------------------------------------------- files


MODEL_YAML = lines("type: Sequential", "modules:", "  - {Linear: [4, 3]}", "  - ReLU")


@pytest.mark.parametrize("suffix", [".yaml", ".yml", ".YAML", ".json"])
def test_file_extensions_accepted(tmp_path, suffix):
    path = tmp_path / f"model{suffix}"
    if suffix == ".json":
        path.write_text(json.dumps({"type": "Sequential", "modules": [{"Linear": [4, 3]}, "ReLU"]}, indent=2))
    else:
        path.write_text(MODEL_YAML)
    m = nnspec.load(path, seed=0)
    assert [type(x) for x in m] == [nn.Linear, nn.ReLU]
    assert m(np.ones((2, 4), dtype=np.float32)).shape == (2, 3)


def test_json_and_yaml_build_the_same_model(tmp_path):
    (tmp_path / "a.json").write_text(json.dumps({"type": "Sequential", "modules": [{"Linear": [4, 3]}, "ReLU"]}))
    (tmp_path / "a.yaml").write_text(MODEL_YAML)
    a, b = nnspec.load(tmp_path / "a.json", seed=5), nnspec.load(tmp_path / "a.yaml", seed=5)
    for (ka, va), (kb, vb) in zip(a.state_dict().items(), b.state_dict().items()):
        assert ka == kb
        np.testing.assert_array_equal(va, vb)


def test_load_accepts_str_paths():
    m = nnspec.load(str(SEED_DIR / "linear.yaml"))
    assert type(m) is nn.Linear


def test_wrong_extension(tmp_path):
    path = tmp_path / "model.txt"
    path.write_text(MODEL_YAML)
    with pytest.raises(nnspec.SpecError) as info:
        nnspec.load(path)
    assert "model files end in .yaml, .yml or .json, got 'model.txt'" in str(info.value)
    assert str(info.value).startswith(str(path))


def test_missing_file(tmp_path):
    path = tmp_path / "nope.yaml"
    with pytest.raises(nnspec.SpecError) as info:
        nnspec.load(path)
    assert str(info.value) == f"{path}: no such model file"


def test_directory_is_not_a_model_file(tmp_path):
    path = tmp_path / "dir.yaml"
    path.mkdir()
    with pytest.raises(nnspec.SpecError, match="is a directory"):
        nnspec.load(path)


def test_non_utf8_file(tmp_path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes("# modèle\nReLU\n".encode("latin-1"))
    with pytest.raises(nnspec.SpecError) as info:
        nnspec.load(path)
    assert "not UTF-8" in str(info.value)
    assert str(info.value).startswith(str(path))


def test_binary_file(tmp_path):
    path = tmp_path / "bin.yaml"
    path.write_bytes(b"ReLU\x00\x00")
    with pytest.raises(nnspec.SpecError, match="binary"):
        nnspec.load(path)


@pytest.mark.parametrize("content", ["", "   \n\n", "# only a comment\n", "---\n", "null\n"])
def test_empty_file(tmp_path, content):
    path = tmp_path / "empty.yaml"
    path.write_text(content)
    with pytest.raises(nnspec.SpecError) as info:
        nnspec.load(path)
    assert "empty model file" in str(info.value)
    assert str(info.value).startswith(str(path))


# --------------------------------------------------------------------------- errors with positions


def test_yaml_syntax_error_position():
    e = load_error(lines("type: Sequential", "modules:", "  - ReLU", "  - a: b: c"))
    assert isinstance(e, nnspec.SpecError)
    assert str(e).startswith("model.yaml:4:9: invalid YAML:")
    assert "mapping values are not allowed" in str(e)  # "here" (PyYAML) or "in this context" (libyaml)
    assert (e.position.file, e.position.line, e.position.col) == ("model.yaml", 4, 9)


def test_yaml_syntax_error_unclosed_flow_mapping():
    e = load_error(lines("type: Sequential", "modules:", "  - ReLU", "  - {Conv2d: [1, 2, 3]", "  - ReLU"))
    assert str(e).startswith("model.yaml:5:")
    assert "invalid YAML" in str(e)


def test_json_syntax_error_position(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text(lines("{", '  "type": "Sequential",', '  "modules": [', '    "ReLU"', '    "PReLU"', "  ]", "}"))
    with pytest.raises(nnspec.SpecError) as info:
        nnspec.load(path)
    assert str(info.value).startswith(f"{path}:5:")


def test_unknown_type_did_you_mean():
    e = load_error(lines("type: Sequential", "modules:", "  - ReLU", "  - {Conv2D: [1, 2, 3]}"))
    assert isinstance(e, nnspec.SpecError)
    assert "model.yaml:4:" in str(e)
    assert "modules.1" in str(e)
    assert "unknown module type 'Conv2D'; did you mean 'Conv2d'?" in str(e)
    assert e.path == "modules.1"


def test_unknown_type_in_type_key():
    e = load_error(lines("type: Sequential", "modules:", "  - ReLU", "  - type: Linaer", "    in_features: 1"))
    assert "model.yaml:4:" in str(e)
    assert "did you mean 'Linear'?" in str(e)


def test_unknown_type_without_close_match_points_at_the_vocabulary():
    e = load_error("{Frobnicator: [1]}")
    assert "unknown module type 'Frobnicator' (`nnspec ops --kind module` lists the" in str(e)
    assert "Conv2d" not in str(e)  # no list of every type on every such line


def test_unknown_argument_did_you_mean():
    e = load_error(lines(
        "type: Sequential",
        "modules:",
        "  - ReLU",
        "  - type: Conv2d",
        "    in_channels: 1",
        "    out_channels: 2",
        "    kernal_size: 3",
    ))
    text = str(e)
    assert "model.yaml:7:" in text
    assert "modules.1.kernal_size: unknown argument; did you mean 'kernel_size'?" in text
    # the misspelt argument also leaves the real one missing: both are reported
    assert "model.yaml:4:" in text and "modules.1.kernel_size: missing required argument" in text
    assert isinstance(e, SpecErrors) and len(e.errors) == 2


def test_unknown_argument_without_close_match_lists_arguments():
    e = load_error(lines("Linear: [2, 3]", "activation: relu"))
    assert "model.yaml:2:" in str(e)
    assert "activation: unknown argument; Linear takes: in_features, out_features, bias" in str(e)


def test_wrong_type():
    e = load_error(lines(
        "type: Sequential",
        "modules:",
        "  - ReLU",
        "  - type: Conv2d",
        "    in_channels: one",
        "    out_channels: 2",
        "    kernel_size: 3",
    ))
    assert "model.yaml:5:18: modules.1.in_channels:" in str(e)
    assert "'one'" in str(e)


@pytest.mark.parametrize("row, expected", [
    ("  - {Linear: [2, 3], bias: 1}", "modules.0.bias"),
    ("  - {Linear: [-2, 3]}", "modules.0.in_features"),
    ("  - {Dropout: [1.5]}", "modules.0.p"),
    ("  - {Conv2d: [1, 2, [3, 3, 3]]}", "modules.0.kernel_size"),
])
def test_bad_values_are_located(row, expected):
    e = load_error(lines("type: Sequential", "modules:", row))
    assert "model.yaml:3:" in str(e)
    assert expected in str(e)


def test_too_many_positional_arguments():
    e = load_error(lines("type: Sequential", "modules:", "  - ReLU", "  - {Linear: [1, 2, true, 4]}"))
    assert "model.yaml:4:" in str(e)
    assert "modules.1: Linear takes at most 3 positional arguments (in_features, out_features, bias), got 4" in str(e)


def test_argument_given_twice():
    e = load_error(lines("type: Sequential", "modules:", "  - ReLU", "  - Conv2d: [1, 2, 3]", "    kernel_size: 3"))
    assert "model.yaml:5:" in str(e)
    assert "modules.1.kernel_size: Conv2d: argument 'kernel_size' given both by position and by name" in str(e)


def test_groups_must_divide_in_channels():
    e = load_error(lines("type: Sequential", "modules:", "  - ReLU", "  - Conv2d: [3, 8, 3]", "    groups: 2"))
    assert isinstance(e, nnspec.CompileError)
    assert "model.yaml:4:" in str(e)
    assert "modules.1: in_channels (=3) must be divisible by groups (=2)" in str(e)


def test_share_of_unknown_module():
    e = load_error(lines("name: Model", "modules:", "  conv1: {Conv2d: [1, 1, 3]}", "  conv2: {share: conv3}"))
    assert isinstance(e, nnspec.CompileError)
    assert "model.yaml:4:" in str(e)
    assert "modules.conv2.share" in str(e)
    assert "no module 'conv3' is registered before this one (registered: conv1)" in str(e)


def test_share_of_a_later_module_is_refused():
    e = load_error(lines("name: Model", "modules:", "  a: {share: b}", "  b: ReLU"))
    assert "model.yaml:3:" in str(e) and "no module 'b'" in str(e)


def test_duplicate_names_across_registries():
    e = load_error(lines("name: Model", "parameters:", "  a: {shape: [1]}", "modules:", "  a: ReLU"))
    assert "model.yaml:5:" in str(e)
    assert "'a' is registered twice, in parameters and in modules" in str(e)
    assert "Value error" not in str(e)


def test_duplicate_names_in_a_nested_module():
    e = load_error(lines(
        "name: Outer",
        "modules:",
        "  inner:",
        "    name: Inner",
        "    buffers: {b: {shape: [1]}}",
        "    modules: {b: ReLU}",
    ))
    assert "model.yaml:6:" in str(e)
    assert "modules.inner.modules.b: 'b' is registered twice, in buffers and in modules" in str(e)


def test_reserved_attribute_name():
    e = load_error(lines("name: Model", "modules:", "  eval: ReLU"))
    assert "model.yaml:3:" in str(e)
    assert "'eval' can't be a module name" in str(e)


def test_several_errors_reported_together():
    e = load_error(lines(
        "type: Sequential",
        "modules:",
        "  - {Conv2d: {in_channels: 1, out_channels: 2, kernel_size: 3, strid: 2}}",
        "  - ReLU",
        "  - {Linear: {in_features: x, out_features: 3}}",
        "  - {Dropuot: [0.5]}",
    ))
    assert isinstance(e, SpecErrors)
    text = str(e).splitlines()
    assert len(text) == len(e.errors) == 3
    assert text[0].startswith("model.yaml:3:") and "modules.0.strid: unknown argument; did you mean 'stride'?" in text[0]
    assert text[1].startswith("model.yaml:5:") and "modules.2.in_features" in text[1]
    assert text[2].startswith("model.yaml:6:") and "did you mean 'Dropout'?" in text[2]
    assert [x.position.line for x in e.errors] == [3, 5, 6]


def test_python_tags_refused_and_nothing_runs(tmp_path):
    marker = tmp_path / "pwned"
    payloads = [
        f"!!python/object/apply:os.system ['touch {marker}']",
        lines("type: Sequential", "modules:", f"  - !!python/object/apply:os.system ['touch {marker}']"),
        lines("type: Sequential", "modules:", "  - !!python/name:os.system ''"),
        f"!!python/object/new:subprocess.check_output [['touch', '{marker}']]",
    ]
    for text in payloads:
        e = load_error(text)
        assert isinstance(e, nnspec.SpecError)
        assert "tag not allowed in a model file" in str(e), text
    assert not marker.exists()
    e = load_error(payloads[1])
    assert str(e).startswith("model.yaml:3:")


def test_errors_through_files_carry_the_file_name(tmp_path):
    path = tmp_path / "m.yml"
    path.write_text(lines("type: Sequential", "modules:", "  - {Conv2D: [1, 2, 3]}"))
    with pytest.raises(nnspec.SpecError) as info:
        nnspec.load(path)
    assert str(info.value).startswith(f"{path}:3:")


def test_from_dict_errors_name_the_path():
    with pytest.raises(nnspec.SpecError) as info:
        nnspec.from_dict({"type": "Sequential", "modules": [{"Linear": [2, 3]}, {"Linear": {"in_feature": 3}}]})
    assert "modules.1.in_feature: unknown argument; did you mean 'in_features'?" in str(info.value)
    assert str(info.value).startswith("<dict>")


def test_root_share_is_refused():
    e = load_error("{share: x}")
    assert isinstance(e, nnspec.CompileError) and "root module can't be a share" in str(e)


def test_modulelist_repeat_needs_module():
    e = load_error(lines("type: ModuleList", "repeat: 2"))
    assert "repeat: N and module: {...} go together" in str(e)
    assert "Value error" not in str(e)


# --------------------------------------------------------------------------- build semantics


def test_share_gives_the_same_instance():
    m = nnspec.load(SEED_DIR / "shared_submodule.yaml", seed=0)
    assert m.conv1 is m.conv2
    nested = nnspec.loads(lines(
        "name: Model",
        "modules:",
        "  body: {Sequential: [{Linear: [2, 2]}, ReLU]}",
        "  again: {share: body.0}",
    ))
    assert nested.again is nested.body[0]


def test_module_list_repeat_gives_independent_copies():
    m = nnspec.load(SEED_DIR / "module_list.yaml", seed=0)
    ids = {id(x) for x in m.linears}
    assert len(ids) == 10
    weights = [x.weight.data for x in m.linears]
    assert len({id(w) for w in weights}) == 10
    assert not np.array_equal(weights[0], weights[1])
    m.linears[0].weight.data[...] = 0
    assert not np.all(m.linears[1].weight.data == 0)


def test_same_seed_same_weights_different_seed_different_weights():
    def weights(seed):
        return nnspec.load(SEED_DIR / "state_dict.yaml", seed=seed).state_dict()

    a, b, c = weights(7), weights(7), weights(8)
    for key in a:
        np.testing.assert_array_equal(a[key], b[key])
    assert any(not np.array_equal(a[k], c[k]) for k in a)
    assert not np.array_equal(a["buffer"], c["buffer"]) and not np.array_equal(a["conv2.weight"], c["conv2.weight"])


def test_seed_is_independent_of_earlier_draws():
    a = nnspec.loads("{Linear: [4, 4]}", seed=1).weight.data.copy()
    nnspec.loads("{Linear: [40, 40]}", seed=2)  # draws in between
    b = nnspec.loads("{Linear: [4, 4]}", seed=1).weight.data
    np.testing.assert_array_equal(a, b)


def test_parameter_and_buffer_specs():
    m = nnspec.loads(lines(
        "name: Model",
        "parameters:",
        "  w: {shape: [2, 3], init: ones, requires_grad: false}",
        "  c: {shape: [2], init: {constant: 0.5}, dtype: float64}",
        "buffers:",
        "  steps: {shape: [], dtype: int64}",
        "  tmp: {shape: [4], persistent: false}",
    ))
    np.testing.assert_array_equal(m.w.data, np.ones((2, 3)))
    assert m.w.requires_grad is False and m.w.dtype == np.float32
    assert m.c.dtype == np.float64 and np.all(m.c.data == 0.5)
    assert m.steps.dtype == np.int64 and m.steps.shape == ()
    assert list(m.state_dict()) == ["w", "c", "steps"]
    assert [n for n, _ in m.named_buffers()] == ["steps", "tmp"]
    assert repr(m) == "Model()"


def test_relative_position_index_init_is_swin_s():
    m = nnspec.loads(lines(
        "name: Attention",
        "buffers:",
        "  flat: {shape: [36], dtype: int64, init: {relative_position_index: {window_size: [2, 3]}}}",
        "  square: {shape: [6, 6], dtype: int64, init: {relative_position_index: {window_size: [2, 3]}}}",
    ))
    # tokens (h, w) in row-major order; the entry of (a, b) is the table row of their offset, as Swin's loop has it
    tokens = [(h, w) for h in range(2) for w in range(3)]
    want = [[(ha - hb + 1) * 5 + (wa - wb + 2) for hb, wb in tokens] for ha, wa in tokens]
    assert m.square.dtype == np.int64 and m.square.tolist() == want
    assert m.flat.tolist() == np.array(want).ravel().tolist()
    assert m.flat.min() == 0 and m.flat.max() == 3 * 5 - 1  # every row of the (2*2-1)*(2*3-1) table is reachable
    with pytest.raises(nnspec.NNSpecError, match=r"a relative_position_index init of a 2x3 window fills shape \[36\] "
                                                 r"or \[6, 6\], got shape \[6\]"):
        nnspec.loads("name: M\nbuffers:\n  b: {shape: [6], init: {relative_position_index: {window_size: [2, 3]}}}")
    with pytest.raises(nnspec.NNSpecError, match="window_size"):
        nnspec.loads("name: M\nbuffers:\n  b: {shape: [1], init: {relative_position_index: {window_size: [0, 1]}}}")


def test_relative_position_index_init_is_torchvision_s():
    pytest.importorskip("torch")
    import sys
    import types

    sys.modules.setdefault("torchvision._meta_registrations", types.ModuleType("torchvision._meta_registrations"))
    swin = pytest.importorskip("torchvision.models.swin_transformer")
    for window in ([7, 7], [3, 5]):
        reference = swin.ShiftedWindowAttention(8, window, [0, 0], 2).relative_position_index
        m = nnspec.loads(f"name: M\nbuffers:\n  b: {{shape: [{reference.numel()}], dtype: int64, "
                         f"init: {{relative_position_index: {{window_size: {window}}}}}}}")
        np.testing.assert_array_equal(m.b, reference.numpy())


# --------------------------------------------------------------------------- the validator is built once, on use


def test_importing_nnspec_builds_no_validator_and_the_first_load_builds_one():
    # each spec class built on its own held a compiled copy of the recursive union of every layer: five copies,
    # 28 MiB and 0.4 s of every import. Import builds none; the first validation builds the root's one adapter
    import subprocess
    import sys

    code = ("import nnspec, nnspec.spec as s\n"
            "from nnspec.spec.models import CONTAINER_SPECS, LAYER_SPECS\n"
            "specs = [*LAYER_SPECS.values(), *CONTAINER_SPECS.values()]\n"
            "print(s._adapter.cache_info().currsize, sum(c.__pydantic_complete__ for c in specs))\n"
            "m = nnspec.loads('Sequential: [{Linear: [2, 3]}, ReLU]\\n')\n"
            "print(s._adapter.cache_info().currsize, type(m).__name__, list(m.state_dict()))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.splitlines() == ["0 0", "1 Sequential ['0.weight', '0.bias']"]

"""Static inference agrees with running: shapes, dtypes, errors, mult-adds (against torchinfo) and memory."""

from __future__ import annotations

import importlib.util
import os

import numpy as np
import pytest
from cases import CASES, ROOT
from cases_tensor import SYMBOLIC
from parity import build_nnspec, input_dtypes, input_shapes, make_inputs
from summaries import SUMMARY_CASES, load_torchinfo_golden, resnet, torchinfo_numbers

import nnspec
from nnspec import static
from nnspec.errors import NNSpecError
from nnspec.runtime.symbolic import Dim, SymbolicValueError
from nnspec.trace import ShapeTrace


def build_meta(model) -> nnspec.Module:
    if isinstance(model, str):
        return nnspec.load(ROOT / model, meta=True)
    return nnspec.from_dict(model, meta=True)


RUNNABLE = [c for c in CASES if c.inputs]


def run_trace(case):
    net = build_nnspec(case).to(case.dtype).train(case.train)
    from nnspec.inputs import bind_call

    args, kwargs = bind_call(net, make_inputs(case), case.named)
    with ShapeTrace(net, kwargs) as trace:
        y = net(*args, **kwargs)
    return trace.calls, y


@pytest.mark.parametrize("case", RUNNABLE, ids=[c.id for c in RUNNABLE])
def test_static_trace_is_the_run_trace(case):
    """Every module call and functional op: same path, inputs, output shape and dtype, same mult-adds."""
    calls, y = run_trace(case)
    meta = build_meta(case.model).to(case.dtype)
    found = static.infer(meta, input_shapes(case), named=case.named, dtype=case.dtype, training=case.train,
                         input_dtypes=input_dtypes(case))
    assert [(c.path, c.type, c.depth, c.inputs, c.output, c.mult_adds) for c in found.calls] == \
        [(c.path, c.type, c.depth, c.inputs, c.output, c.mult_adds) for c in calls]
    outs = y if isinstance(y, (tuple, list)) else (y,)
    metas = found.output if isinstance(found.output, (tuple, list)) else (found.output,)
    assert [(tuple(o.shape), o.dtype) for o in metas] == [(tuple(o.shape), o.dtype) for o in outs]


def test_static_inference_allocates_nothing_and_changes_no_state():
    case = next(c for c in CASES if c.id == "seed_batchnorm2d")
    net = build_nnspec(case).train()
    before = {k: np.array(v) for k, v in net.state_dict().items()}
    static.infer(net, input_shapes(case), training=True)
    assert all(np.array_equal(before[k], v) for k, v in net.state_dict().items())
    meta = build_meta(resnet())
    assert all(type(p.data).__name__ == "MetaArray" for p in meta.parameters())
    found = static.infer(meta, [(8, 3, 224, 224)])
    assert found.param_bytes == 11_689_512 * 4
    assert found.output_shape == (8, 1000)


# --------------------------------------------------------------------------- errors


def _failure(fn) -> str:
    with pytest.raises(NNSpecError) as info:
        fn()
    return str(info.value)


BAD_SHAPES = [
    ("conv_channels", {"type": "Sequential", "modules": [{"Conv2d": [3, 8, 3]}, {"Conv2d": [4, 8, 3]}]}, (1, 3, 9, 9)),
    ("linear", {"type": "Sequential", "modules": [{"Linear": [10, 5]}, {"Linear": [6, 2]}]}, (4, 10)),
    ("pool", {"type": "Sequential", "modules": [{"MaxPool2d": 4}, {"MaxPool2d": 4}]}, (1, 2, 8, 8)),
    ("add", {"name": "M", "modules": {"a": {"Linear": [4, 3]}, "b": {"Linear": [4, 5]}},
             "forward": "return self.a(x) + self.b(x)"}, (2, 4)),
]


@pytest.mark.parametrize("model,shape", [b[1:] for b in BAD_SHAPES], ids=[b[0] for b in BAD_SHAPES])
def test_static_errors_are_the_run_errors(model, shape):
    """A mismatch found statically is the error the run raises, word for word, at the same place."""
    real = nnspec.from_dict(model, seed=0)
    from nnspec.trace import ShapeTrace as T

    def run():
        with T(real) as trace:
            try:
                real(np.zeros(shape, np.float32))
            except NNSpecError as e:
                raise trace.place(e) from None

    assert _failure(lambda: static.infer(nnspec.from_dict(model, meta=True), [shape])) == _failure(run)


def test_a_channel_mismatch_names_both_shapes_and_where_the_input_came_from():
    model = BAD_SHAPES[0][1]
    text = _failure(lambda: static.infer(nnspec.from_dict(model, meta=True), [(Dim.symbol("N"), 3, 9, 9)]))
    assert "weight of size [8, 4, 3, 3], expected input[N, 8, 7, 7] to have 4 channels, but got 8" in text
    assert "its input comes from 0 (Conv2d" in text and "output (N, 8, 7, 7)" in text


def test_too_much_pooling_names_the_layer_and_the_formula():
    text = _failure(lambda: static.infer(nnspec.from_dict(BAD_SHAPES[2][1], meta=True), [(1, 2, 8, 8)]))
    assert text.startswith("<dict>: 1 (MaxPool2d): max_pool2d:") and "Output size is too small" in text
    assert "//stride + 1" in text and "kernel_size=(4, 4)" in text


# --------------------------------------------------------------------------- symbolic sizes


def test_symbolic_resnet_keeps_n_and_prints_formulas():
    N, H, W = (Dim.symbol(s) for s in "NHW")
    found = static.infer(build_meta(resnet()), [(N, 3, H, W)])
    assert found.output_shape == (N, 1000)
    pooled = next(c for c in found.calls if c.path == "maxpool").output
    assert str(pooled[2]) == "(H + 3)//4" and str(pooled[3]) == "(W + 3)//4"
    for h, w in ((224, 224), (97, 131), (32, 33)):
        numeric = static.infer(build_meta(resnet()), [(2, 3, h, w)])
        for sym, num in zip(found.calls, numeric.calls):
            assert tuple(d if isinstance(d, int) else d.evaluate({"N": 2, "H": h, "W": w}) for d in sym.output) \
                == num.output, sym.path
    assert found.activation_peak is None and "H" in str(found.input_bytes)


@pytest.mark.parametrize("case", [c for c in RUNNABLE if c.inputs and len(c.inputs[0]) >= 3 and c.dtype == "float32"],
                         ids=lambda c: c.id)
def test_symbolic_formulas_evaluate_to_the_numeric_shapes(case):
    """Spatial sizes as symbols: each formula, evaluated at the case's sizes, is the numeric shape."""
    shapes = input_shapes(case)
    first = shapes[0]
    names = [f"S{i}" for i in range(len(first) - 2)]
    symbolic = [(first[0], first[1], *(Dim.symbol(n) for n in names))] + shapes[1:]
    values = dict(zip(names, first[2:]))
    try:
        found = static.infer(build_meta(case.model), symbolic, named=case.named, training=case.train,
                             input_dtypes=input_dtypes(case))
    except (SymbolicValueError, NNSpecError) as e:  # a size that must be a number here (a view to fixed sizes)
        pytest.skip(f"not expressible symbolically: {e}")
    broken = [a for a in found.assumptions if not eval(a, {"__builtins__": {}}, dict(values))]  # noqa: S307 - own text
    if broken:  # the formulas hold where their assumptions do (U-Net's pads assume sizes divisible by 8)
        pytest.skip(f"the case's sizes break an assumption of the symbolic run: {broken[0]}")
    numeric = static.infer(build_meta(case.model), shapes, named=case.named, training=case.train,
                           input_dtypes=input_dtypes(case))

    def value(s):
        if isinstance(s, Dim):  # a size the forward computed, recorded as repr() of the int it is
            return repr(s.evaluate(values))
        if isinstance(s, tuple):
            return tuple(d if isinstance(d, int) else d.evaluate(values) for d in s)
        return [value(x) for x in s] if isinstance(s, list) else s

    got, want = [value(c.output) for c in found.calls], [c.output for c in numeric.calls]
    # a float made of symbolic sizes (1 / math.sqrt(d)) has no value to evaluate: only its place is compared
    want = [g if g == "SymbolicFloat" and isinstance(w, str) else w for g, w in zip(got, want)] + want[len(got):]
    assert got == want


SYMBOLIC_TENSOR = [(c, SYMBOLIC[c.id]) for c in RUNNABLE if c.id in SYMBOLIC]


@pytest.mark.parametrize("case,dims", SYMBOLIC_TENSOR, ids=[c.id for c, _ in SYMBOLIC_TENSOR])
def test_sequence_lengths_can_be_symbolic(case, dims):
    """The tensor family's cases with a sequence length (or the like) as a symbol: every shape of the trace is a
    formula that evaluates to the numeric one, under the assumptions recorded (T <= block_size)."""
    shapes = input_shapes(case)
    names: dict[str, int] = {}
    symbolic = []
    for i, s in enumerate(shapes):
        s = list(s)
        for d in dims.get(i, ()):
            names[f"S{i}_{d}"] = s[d]
            s[d] = Dim.symbol(f"S{i}_{d}")
        symbolic.append(tuple(s))
    found = static.infer(build_meta(case.model), symbolic, named=case.named, training=case.train,
                         input_dtypes=input_dtypes(case), dtype=case.dtype)
    numeric = static.infer(build_meta(case.model), shapes, named=case.named, training=case.train,
                           input_dtypes=input_dtypes(case), dtype=case.dtype)
    assert all(eval(a, {"__builtins__": {}}, names) for a in found.assumptions), found.assumptions  # noqa: S307
    assert any(isinstance(d, Dim) for d in found.calls[-1].output if isinstance(found.calls[-1].output, tuple)) or \
        any(isinstance(d, Dim) for c in found.calls for d in (c.output if isinstance(c.output, tuple) else ()))

    def value(s):
        if isinstance(s, Dim):
            return repr(s.evaluate(names))
        if isinstance(s, tuple):
            return tuple(d if isinstance(d, int) else d.evaluate(names) for d in s)
        return [value(x) for x in s] if isinstance(s, list) else s

    got, want = [value(c.output) for c in found.calls], [c.output for c in numeric.calls]
    want = [g if g == "SymbolicFloat" and isinstance(w, str) else w for g, w in zip(got, want)] + want[len(got):]
    assert got == want


# --------------------------------------------------------------------------- summaries against torchinfo


def _compare_with_torchinfo(case, ti: dict) -> None:
    found = static.infer(build_meta(case.model), [case.input])
    rows = static.layer_rows(found)
    layers = [r for r in rows if not r.is_op]
    mine = [(r.type, r.depth, list(r.output), r.mult_adds if r.is_leaf else None,
             None if (r.again or r.params is None) else r.params if r.is_leaf else None, r.again or r.params is None)
            for r in layers]
    theirs = [(t["type"], t["depth"], t["output"], t["macs"] if t["leaf"] else None,
               None if t["recursive"] else t["params"] if t["leaf"] else None, t["recursive"])
              for t in ti["layers"]]
    assert mine == theirs
    meta = build_meta(case.model)
    assert sum(p.numel() for p in meta.parameters()) == ti["total_params"]
    assert sum(p.numel() for p in meta.parameters() if p.requires_grad) == ti["trainable_params"]
    # torchinfo does not see the functional ops of a custom forward (the residual adds); nnspec counts them
    ops = sum(r.mult_adds for r in rows if r.is_op)
    assert found.mult_adds == ti["total_mult_adds"] + ops


GOLDEN = load_torchinfo_golden()


@pytest.mark.parametrize("case", SUMMARY_CASES, ids=[c.id for c in SUMMARY_CASES])
def test_summary_agrees_with_torchinfo_golden(case):
    _compare_with_torchinfo(case, GOLDEN[case.id])


HAVE_TORCHINFO = importlib.util.find_spec("torch") is not None and importlib.util.find_spec("torchinfo") is not None
# CI sets NNSPEC_REQUIRE_TORCH=1: there a missing torch or torchinfo fails these tests instead of skipping them
SKIP_LIVE = not HAVE_TORCHINFO and not os.environ.get("NNSPEC_REQUIRE_TORCH")


@pytest.mark.skipif(SKIP_LIVE, reason="torch and torchinfo are not installed (the golden test covers this)")
@pytest.mark.parametrize("case", SUMMARY_CASES, ids=[c.id for c in SUMMARY_CASES])
def test_summary_agrees_with_torchinfo_live(case):
    _compare_with_torchinfo(case, torchinfo_numbers(case))


def test_resnet18_figures():
    """The numbers people know: 11.69 M parameters, 1.81 G mult-adds by torchinfo's count at 224x224."""
    found = static.infer(build_meta(resnet()), [(1, 3, 224, 224)])
    rows = static.layer_rows(found)
    assert found.param_bytes == 46_758_048
    adds = sum(r.mult_adds for r in rows if r.is_op)
    assert found.mult_adds - adds == 1_814_083_944
    assert adds == 752_640  # the eight residual adds: one per output element
    assert sum(r.params or 0 for r in rows) == 11_689_512  # the column sums to the total


def test_depth_folds_rows_into_their_parents():
    found = static.infer(build_meta(resnet()), [(1, 3, 224, 224)])
    full = static.layer_rows(found)
    top = [r for r in static.layer_rows(found, depth=1) if not r.hidden]
    assert [r.name for r in top] == ["(root)", "conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3",
                                    "layer4", "avgpool", "fc"]
    assert sum(r.params or 0 for r in top) == sum(r.params or 0 for r in full) == 11_689_512
    assert sum(r.mult_adds for r in top) == found.mult_adds


# --------------------------------------------------------------------------- memory


def test_activation_peak_counts_live_arrays_only():
    model = {"type": "Sequential", "modules": [{"Linear": [100, 100]}, {"Linear": [100, 100]}, {"Linear": [100, 10]}]}
    found = static.infer(nnspec.from_dict(model, meta=True), [(1000, 100)])
    layer = 1000 * 100 * 4
    assert found.activation_total == 2 * layer + 1000 * 10 * 4
    assert found.activation_peak == 2 * layer  # the first output is freed once the third layer has its input
    assert found.input_bytes == layer
    assert found.total_bytes == found.param_bytes + found.buffer_bytes + layer + found.activation_peak


def test_check_memory_refuses_before_allocating():
    found = static.infer(build_meta(resnet()), [(64, 3, 224, 224)])
    assert found.total_bytes > 5e8
    with pytest.raises(NNSpecError, match=r"running this model needs [\d,]+ bytes .* the limit is 1,000,000 bytes"):
        static.check_memory(found, 1_000_000)
    static.check_memory(found, found.total_bytes)  # exactly enough is enough


# --------------------------------------------------------------------------- found in review


def _model(forward: str, **extra) -> dict:
    return {"name": "M", "inputs": ["x"], "forward": f"return {forward}", **extra}


SIZE_ARITHMETIC = [
    "x.sum(-1) / x.size(-1)", "x * x.size(2)", "x[:, :x.size(1)//2]", "x[..., :-x.size(3)]",
    "x[:, :, [x.size(2) - 1]]", "torch.add(x, 1, alpha=x.size(2))", "x.view(x.size(0) ** 1, -1)",
    "x / x.size(-1) ** 0.5", "torch.cat([x[[0, 1], True], x], 0)", "x[[0, 1], True]",
    "x.view(-1, 2 * x.size(3))", "F.interpolate(x, scale_factor=1.7)", "F.avg_pool2d(x, 2, x.size(2) // 4)",
]


@pytest.mark.parametrize("forward", SIZE_ARITHMETIC)
def test_sizes_in_arithmetic_stay_symbolic_and_evaluate_to_the_numbers(forward):
    model = _model(forward)
    N, H, W = (Dim.symbol(s) for s in "NHW")
    found = static.infer(nnspec.from_dict(model, meta=True), [(N, 3, H, W)])
    for n, h, w in ((2, 10, 12), (3, 16, 16), (4, 30, 20)):
        numeric = static.infer(nnspec.from_dict(model, meta=True), [(n, 3, h, w)])
        values = {"N": n, "H": h, "W": w}
        got = tuple(d if isinstance(d, int) else d.evaluate(values) for d in found.output_shape)
        holds = all(eval(a, {"__builtins__": {}}, values) for a in found.assumptions)  # noqa: S307 - our text
        if holds:  # where the assumptions hold, the formulas are the numeric shapes
            assert got == numeric.output_shape, (n, h, w)


def test_a_real_model_writing_into_its_state_is_inferred_without_writing():
    model = nnspec.from_dict({"name": "M", "buffers": {"b": {"shape": [3]}}, "inputs": ["x"],
                              "forward": "b = self.b\nb += x.sum(0)\nreturn x * b"}, seed=0)
    before = model.b.copy()
    assert static.infer(model, [(2, 3)]).output_shape == (2, 3)
    assert np.array_equal(model.b, before)


@pytest.mark.parametrize("write", ["self.w.add_(1)", "self.w[0] = 5.0", "w = self.w.view(-1)\nw.zero_()",
                                   "self.steps.add_(1)", "F.relu(self.w, inplace=True)", "F.leaky_relu_(self.w, 0.5)",
                                   "F.dropout(self.w, 0.5, True, True)", "F.elu_(self.w)",
                                   "F.hardtanh_(self.w, 0.0, 0.1)", "self.w.masked_fill_(self.w > 0, 7.0)"])
def test_a_write_of_values_only_into_state_changes_nothing_statically(write):
    # where the written value involves no input (a step counter), it was a real array, written into the model
    model = nnspec.from_dict({"name": "M", "parameters": {"w": {"shape": [3], "init": "randn"}},
                              "buffers": {"steps": {"shape": [], "dtype": "int64"}}, "inputs": ["x"],
                              "forward": f"{write}\nreturn x * self.w"}, seed=0)
    before = {k: np.array(v) for k, v in model.state_dict().items()}
    for shape in ([2, 3], [Dim.symbol("N"), 3]):
        static.infer(model, [shape], training=True)
    assert all(np.array_equal(before[k], v) for k, v in model.state_dict().items())
    model(np.ones((2, 3), np.float32))  # the run writes, as torch's does
    assert not all(np.array_equal(before[k], v) for k, v in model.state_dict().items())


def test_a_shape_only_build_draws_no_random_numbers():
    """The seeded draws are the real build's: a shape-only twin neither consumes nor second-guesses them."""
    text = ("name: M\nparameters:\n  p: {shape: [2], init: {normal: [0, 1]}}\n"
            "  b: {shape: [1], dtype: float16, init: {normal: [0, 10]}}\n")
    nnspec.manual_seed(3)
    nnspec.loads(text, meta=True)
    after_twin = nnspec.loads(text)
    assert np.array_equal(after_twin.p, nnspec.loads(text, seed=3).p)
    with pytest.raises(NNSpecError, match="cannot fill a float16 array"):  # a constant is checked all the same
        nnspec.loads("name: M\nparameters: {b: {shape: [1], dtype: float16, init: {constant: 1e6}}}\n", meta=True)

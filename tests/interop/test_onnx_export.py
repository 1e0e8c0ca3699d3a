"""nnspec.export_onnx and ``nnspec export``: every model in models/ written as ONNX, checked by onnx's checker
(full_check), run by onnxruntime at two input sizes from one export with symbolic sizes, and compared with
nnspec's own outputs within 1e-4 (of the largest). Needs onnx and onnxruntime (test oracles, like torch):
skipped without them, required in CI by NNSPEC_REQUIRE_TORCH."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import nnspec
from cases import CASES
from parity import make_inputs as case_inputs
from references import REFERENCES, make_inputs as reference_inputs

ROOT = Path(__file__).resolve().parents[2]
HAVE = all(importlib.util.find_spec(p) is not None for p in ("onnx", "onnxruntime"))
SKIP = not HAVE and not os.environ.get("NNSPEC_REQUIRE_TORCH")
pytestmark = pytest.mark.skipif(SKIP, reason="needs onnx and onnxruntime")

# the sizes each model's export leaves symbolic, where not the batch (or the length of an unbatched
# sequence): the ParameterList/Dict seeds multiply a parameter by the input, so its last dim is the free
# one; swin_t's forward branches on the image size, so only its batch is symbolic
LAST_DIM_FREE = {"models/seed/parameter_dict.yaml", "models/seed/parameter_list.yaml"}
BATCH_ONLY = {"models/zoo/swin_t.yaml"}


def _case_model(path: str):
    """(symbolic shapes, two input sets, named inputs) for a model file with a parity case."""
    case = next(c for c in CASES if c.model == path and c.inputs and not c.random)
    first = case_inputs(case)
    axis = -1 if path in LAST_DIM_FREE else 0
    rng = np.random.default_rng(1)

    def grown(a: np.ndarray) -> np.ndarray:
        shape = list(a.shape)
        shape[axis] += 1
        if a.dtype.kind == "i":
            return rng.integers(0, max(int(a.max()) + 1, 1), shape).astype(a.dtype)
        return rng.standard_normal(shape).astype(a.dtype)

    second = [grown(a) for a in first]
    name = "N" if axis == 0 and first[0].ndim > 1 else "L"
    shapes = [[name if i == axis % a.ndim else s for i, s in enumerate(a.shape)] for a in first]
    return shapes, [first, second], case.named


def _reference_model(path: str):
    ref = next(r for r in REFERENCES if r.path.resolve() == (ROOT / path).resolve())
    sets = [list(reference_inputs(ref, i).values()) for i in range(2)]
    if path in BATCH_ONLY:  # the second set at the first's image size, another batch
        sets[1] = [np.concatenate([a, a]) for a in sets[0]]
    shapes = []
    for a, b in zip(*sets):
        shapes.append([s if s == t else {0: "N", 1: "T"}.get(i, f"S{i}") for i, (s, t) in enumerate(zip(a.shape,
                                                                                                          b.shape))])
    return shapes, sets, {}


MODELS = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "models").rglob("*.yaml"))
STATE_ONLY = {"models/seed/state_dict.yaml"}  # no forward to run: its test is its state_dict


def _first(y):
    if isinstance(y, dict):
        y = next(iter(y.values()))
    while isinstance(y, (tuple, list)):
        y = y[0]
    return np.asarray(y)


@pytest.mark.parametrize("path", [m for m in MODELS if m not in STATE_ONLY])
def test_every_model_exports_checks_and_runs_in_onnxruntime_as_in_nnspec(path):
    import onnx
    import onnxruntime as ort

    model = nnspec.load(ROOT / path, seed=0).eval()
    shapes, sets, named = (_reference_model if path.startswith("models/zoo/") else _case_model)(path)
    proto = nnspec.export_onnx(model, shapes, named=named or None, input_dtypes=[str(a.dtype) for a in sets[0]])
    onnx.checker.check_model(proto, full_check=True)
    assert {d.dim_param for i in proto.graph.input for d in i.type.tensor_type.shape.dim} - {""}, \
        "no size was left symbolic"
    keys = set(model.state_dict())
    names = {t.name for t in proto.graph.initializer}
    assert names & keys or not keys, "the weights are named by their state_dict keys"
    assert any(n.doc_string.startswith(str(ROOT / path) + ":") or n.doc_string.startswith(path)
               for n in proto.graph.node), "each node names the model file's line"
    session = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    assert sets[0][0].shape != sets[1][0].shape
    for xs in sets:
        want = _first(model(*[x.copy() for x in xs], **named))
        got = session.run(None, {i.name: x for i, x in zip(session.get_inputs(), xs)})[0]
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4 * max(float(np.abs(want).max()), 1e-30))


def test_every_model_file_has_an_export_test():
    """A model added to models/ is exported by the test above: it needs a parity case or a reference."""
    for path in MODELS:
        if path in STATE_ONLY:
            continue
        if path.startswith("models/zoo/"):
            assert any(r.path.resolve() == (ROOT / path).resolve() for r in REFERENCES), path
        else:
            assert any(c.model == path and c.inputs and not c.random for c in CASES), path


def test_the_export_is_in_eval_mode_and_leaves_the_model_s_modes_as_they_were():
    import onnxruntime as ort

    model = nnspec.load(ROOT / "models/seed/dropout.yaml", seed=0).train()
    proto = nnspec.export_onnx(model, [("N", 16)])
    assert model.training and all(m.training for m in model.modules())
    x = np.ones((4, 16), np.float32)
    session = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    np.testing.assert_array_equal(session.run(None, {session.get_inputs()[0].name: x})[0], x)  # no dropout


def test_an_op_without_a_translation_is_an_error_at_its_line(tmp_path):
    text = "name: Running\nforward: |\n  def forward(self, x):\n      y = torch.relu(x)\n      return torch.cumsum(y, 1)\n"
    path = tmp_path / "running.yaml"
    path.write_text(text)
    with pytest.raises(nnspec.interop.ExportError, match=r"running.yaml:5:\d+: .*the op torch.cumsum has no ONNX "
                                                         r"translation"):
        nnspec.export_onnx(nnspec.load(path), [("N", 4)], tmp_path / "running.onnx")
    assert not (tmp_path / "running.onnx").exists()


def test_the_export_command_writes_a_model_that_runs(tmp_path):
    import onnxruntime as ort

    from nnspec_cli import app

    out = tmp_path / "lenet.onnx"
    result = CliRunner().invoke(app, ["export", str(ROOT / "models/zoo/lenet5.yaml"), "-o", str(out),
                                      "-s", "N,1,32,32"])
    assert result.exit_code == 0, result.output
    assert f"wrote {out}" in result.output and "N" in result.output
    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    x = np.random.default_rng(0).standard_normal((3, 1, 32, 32)).astype(np.float32)
    want = nnspec.load(ROOT / "models/zoo/lenet5.yaml", seed=0).eval()(x)
    np.testing.assert_allclose(session.run(None, {session.get_inputs()[0].name: x})[0], want, rtol=1e-4, atol=1e-5)
    bad = CliRunner().invoke(app, ["export", str(ROOT / "models/zoo/lenet5.yaml"), "-o", str(tmp_path / "x.onnx"),
                                   "-s", "N,1,32,32", "--opset", "9"])
    assert bad.exit_code != 0 and "opset" in bad.output and not (tmp_path / "x.onnx").exists()


def test_run_with_the_onnxruntime_engine_gives_the_same_output_and_an_untimed_trace(tmp_path):
    from nnspec_cli import app

    model = str(ROOT / "models/zoo/lenet5.yaml")
    out_ort, out_nnspec = tmp_path / "ort.npy", tmp_path / "nnspec.npy"
    result = CliRunner().invoke(app, ["run", model, "-s", "2,1,32,32", "--engine", "onnxruntime", "-n", "3",
                                      "-o", str(out_ort)])
    assert result.exit_code == 0, result.output
    assert "in onnxruntime" in result.output and "over 3 runs (onnxruntime)" in result.output
    assert CliRunner().invoke(app, ["run", model, "-s", "2,1,32,32", "-q", "-o", str(out_nnspec)]).exit_code == 0
    np.testing.assert_allclose(np.load(out_ort), np.load(out_nnspec), rtol=1e-4, atol=1e-5)
    bad = CliRunner().invoke(app, ["run", model, "-s", "2,1,32,32", "--engine", "onnxruntime", "--train"])
    assert bad.exit_code != 0 and "eval mode on the CPU" in bad.output


def test_a_model_without_a_forward_is_an_error_not_a_file(tmp_path):
    model = nnspec.load(ROOT / "models/seed/state_dict.yaml", seed=0)
    with pytest.raises(nnspec.NNSpecError, match=r'state_dict.yaml:2:1: .*missing the required "forward" function'):
        nnspec.export_onnx(model, [(2, 1)], tmp_path / "m.onnx")
    assert not (tmp_path / "m.onnx").exists()


def test_a_module_called_twice_has_its_weights_written_once():
    proto = nnspec.export_onnx(nnspec.load(ROOT / "models/seed/shared_submodule.yaml", seed=0), [("N", 20, 28, 28)])
    assert sorted(t.name for t in proto.graph.initializer) == ["conv1.bias", "conv1.weight"]


@pytest.mark.parametrize("argv,message", [
    (["export", "M", "-o", "m.txt", "-s", "N,1,32,32"], "must end in .onnx"),
    (["export", "M", "-o", "m.onnx"], "give the inputs' shapes"),
    (["export", "M", "-o", "m.onnx", "-s", "x=N,1,32,32"], "without names"),
    (["run", "M", "-s", "1,1,32,32", "--engine", "tvm"], "unknown engine 'tvm'"),
])
def test_the_export_and_engine_options_refuse_what_they_cannot_do(argv, message, tmp_path):
    from nnspec_cli import app

    argv = [str(ROOT / "models/zoo/lenet5.yaml") if a == "M" else str(tmp_path / a) if a.startswith("m.") else a
            for a in argv]
    result = CliRunner().invoke(app, argv)
    assert result.exit_code == 2 and message in " ".join(result.output.replace("│", " ").split()), \
        result.output  # rich boxes and wraps the message
    assert not list(tmp_path.iterdir())

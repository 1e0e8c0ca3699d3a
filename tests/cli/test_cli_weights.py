"""nnspec run --weights, nnspec weights init|convert|check, and nnspec expand."""

from __future__ import annotations

import json
import pickle
import zipfile
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import nnspec
from nnspec_cli import app

ROOT = Path(__file__).resolve().parents[2]
LENET = str(ROOT / "models" / "zoo" / "lenet5.yaml")
LENET_PT = ROOT / "tests" / "golden" / "zoo" / "lenet5.pt"
runner = CliRunner()


def invoke(*args: str, code: int = 0) -> str:
    result = runner.invoke(app, [str(a) for a in args])
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output and "internal error" not in result.output
    return result.output


def test_run_with_a_torch_checkpoint_reproduces_torch(tmp_path):
    golden = np.load(ROOT / "tests" / "golden" / "zoo" / "lenet5_pt.npz")
    np.save(tmp_path / "x.npy", golden["input"])
    out = invoke("run", LENET, "--weights", LENET_PT, "-i", tmp_path / "x.npy", "-o", tmp_path / "y.npy")
    assert "output: shape (2, 10)" in out
    np.testing.assert_allclose(np.load(tmp_path / "y.npy"), golden["output"], rtol=1e-4, atol=1e-5)


def test_init_convert_check_round_trip(tmp_path):
    assert "wrote 10 arrays" in invoke("weights", "init", LENET, "-o", tmp_path / "w.safetensors", "--seed", "3")
    assert invoke("weights", "check", LENET, tmp_path / "w.safetensors").endswith("all 10 arrays fit " + LENET + "\n")
    assert "wrote 10 arrays" in invoke("weights", "convert", LENET_PT, "-o", tmp_path / "w.npz")
    assert "all 10 arrays fit" in invoke("weights", "check", LENET, tmp_path / "w.npz")
    a, b = nnspec.load_weights(tmp_path / "w.npz"), nnspec.load_weights(LENET_PT)
    assert list(a) == list(b) and all(np.array_equal(a[k], b[k]) for k in a)


def test_check_reports_every_kind_of_mismatch(tmp_path):
    state = nnspec.load_weights(LENET_PT)
    state["classifier.0.weight"] = state["classifier.0.weight"][:, :10]  # shape
    state["features.0.bias"] = state["features.0.bias"].astype(np.int64)  # dtype
    state["classifier.4.bais"] = state.pop("classifier.4.bias")  # missing + unexpected, near names
    state["extra"] = np.zeros(3, np.float32)  # unexpected
    state["features.3.weight"] = state["features.3.weight"].astype(np.float16)  # fine: converted
    nnspec.save_weights(state, tmp_path / "w.safetensors")
    out = invoke("weights", "check", LENET, tmp_path / "w.safetensors", code=1)
    rows = {tuple(line.split()[:2]) for line in out.splitlines()}
    assert {("missing", "classifier.4.bias"), ("unexpected", "classifier.4.bais"), ("unexpected", "extra"),
            ("shape", "classifier.0.weight"), ("dtype", "features.0.bias")} <= rows
    assert "the file has 'classifier.4.bais'" in out and "did you mean 'classifier.4.bias'?" in out
    first = out.splitlines()[0]  # a placed summary (the model's root), then the table
    assert first.startswith(LENET + ":4:1: ") and first.endswith(
        "w.safetensors: 1 missing key, 2 unexpected keys, 1 shape mismatch, 1 dtype mismatch: "
        "the weights do not fit the model")
    data = json.loads(invoke("weights", "check", LENET, tmp_path / "w.safetensors", "--json", code=1))
    assert data["ok"] is False and len(data["mismatches"]) == 5
    # run refuses the same file, one placed line per mismatch, before it builds the model
    out = invoke("run", LENET, "-s", "1,1,32,32", "--weights", tmp_path / "w.safetensors", code=1)
    lines = out.strip().splitlines()
    assert len(lines) == 5 and all(line.startswith(f"{LENET}:") for line in lines)
    assert any(":20:9:" in line and "missing key 'classifier.4.bias'" in line for line in lines)  # its Linear


def test_renames_in_the_model_file_apply_to_run_and_check(tmp_path):
    state = {f"module.{k}": v for k, v in nnspec.load_weights(LENET_PT).items()}
    nnspec.save_weights(state, tmp_path / "dp.npz")
    assert "12 missing" not in invoke("weights", "check", LENET, tmp_path / "dp.npz", code=1)
    model = tmp_path / "lenet_dp.yaml"
    model.write_text("weights: {rename: [['^module\\.', '']]}\n" + Path(LENET).read_text())
    assert "all 10 arrays fit" in invoke("weights", "check", model, tmp_path / "dp.npz")
    assert "output: shape (1, 10)" in invoke("run", model, "-s", "1,1,32,32", "--weights", tmp_path / "dp.npz")


def test_half_precision_weights_are_converted_with_a_note(tmp_path):
    state = {k: (v.astype(np.float16) if v.dtype == np.float32 else v)
             for k, v in nnspec.load_weights(LENET_PT).items()}
    nnspec.save_weights(state, tmp_path / "half.safetensors")
    result = runner.invoke(app, ["run", LENET, "-s", "1,1,32,32", "--weights", str(tmp_path / "half.safetensors")])
    assert result.exit_code == 0, result.output
    assert "note:" in result.output and "converted 10 array(s) from float16 to float32" in result.output


class _Evil:
    def __init__(self, path: str):
        self.path = path

    def __reduce__(self):
        import os

        return os.system, (f"touch {self.path}",)


def test_a_malicious_checkpoint_is_refused_without_running_anything(tmp_path):
    marker = tmp_path / "pwned"
    evil = tmp_path / "evil.pt"
    with zipfile.ZipFile(evil, "w") as z:  # torch's layout: archive/data.pkl, archive/version
        z.writestr("archive/data.pkl", pickle.dumps({"w": _Evil(str(marker))}, protocol=2))
        z.writestr("archive/version", "3\n")
    for args in (["weights", "convert", evil, "-o", tmp_path / "out.npz"],
                 ["run", LENET, "-s", "1,1,32,32", "--weights", evil],
                 ["weights", "check", LENET, evil]):
        out = invoke(*args, code=1)
        assert "refusing to load posix.system" in out or "refusing to load os.system" in out, out
    assert not marker.exists() and not (tmp_path / "out.npz").exists()


def test_expand_prints_a_plain_model_file_that_builds_the_same_model(tmp_path):
    text = invoke("expand", ROOT / "models" / "zoo" / "mobilenet_v2.yaml")
    assert "blocks" not in text and "$" not in text and "name: InvertedResidual" in text
    path = tmp_path / "plain.yaml"
    path.write_text(text)
    a, b = nnspec.load(path, meta=True), nnspec.load(ROOT / "models" / "zoo" / "mobilenet_v2.yaml", meta=True)
    assert repr(a) == repr(b)
    assert [(k, v.shape) for k, v in a.state_dict().items()] == [(k, v.shape) for k, v in b.state_dict().items()]


@pytest.mark.parametrize("suffix", [".pt", ".txt"])
def test_weights_outputs_must_be_safetensors_or_npz(tmp_path, suffix):
    out = invoke("weights", "init", LENET, "-o", tmp_path / f"w{suffix}", code=2)
    assert "must end in .safetensors or .npz" in " ".join(out.replace("\u2502", " ").split())


def test_check_prints_a_placed_summary_and_at_most_some_rows(tmp_path):
    """Thousands of mismatches: the first line is the count, placed at the model file; the table is cut."""
    from nnspec_cli.weights import MAX_CHECK_ROWS

    nnspec.save_weights({f"extra.{i}": np.zeros(1, np.float32) for i in range(MAX_CHECK_ROWS + 30)},
                        tmp_path / "w.safetensors")
    out = invoke("weights", "check", LENET, tmp_path / "w.safetensors", code=1)
    lines = out.splitlines()
    assert lines[0].startswith(LENET + ":4:1: ") and "10 missing keys, 80 unexpected keys" in lines[0]
    assert len(lines) == 1 + 2 + MAX_CHECK_ROWS + 1
    assert lines[-1] == "... and 40 more (--json lists them all)"
    data = json.loads(invoke("weights", "check", LENET, tmp_path / "w.safetensors", "--json", code=1))
    assert len(data["mismatches"]) == 90


def test_check_hints_at_the_key_that_differs_least_in_its_path(tmp_path):
    # a file saved from a model whose up-convolutions were wrapped in a Sequential (upsample, conv)
    model = tmp_path / "m.yaml"
    model.write_text("Sequential:\n  up1: {Conv2d: [2, 2, 1]}\n  up2: {Conv2d: [2, 2, 1]}\n")
    state = {f"{name}.1.{leaf}": np.zeros((2, 2, 1, 1) if leaf == "weight" else 2, np.float32)
             for name in ("up1", "up2") for leaf in ("weight", "bias")}
    nnspec.save_weights(state, tmp_path / "w.safetensors")
    out = invoke("weights", "check", model, tmp_path / "w.safetensors", "--json", code=1)
    hints = {p["key"]: p["hint"] for p in json.loads(out)["mismatches"]}
    assert hints["up1.weight"] == "; the file has 'up1.1.weight'" and hints["up2.bias"] == "; the file has 'up2.1.bias'"
    assert hints["up1.1.weight"] == "; did you mean 'up1.weight'?"

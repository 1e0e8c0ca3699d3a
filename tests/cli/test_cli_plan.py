"""``nnspec run`` through the execution plan: --repeat, --quiet, --profile, --no-plan, --disable-pass."""

from __future__ import annotations

import json
import re

import numpy as np
from typer.testing import CliRunner

from nnspec_cli import app
from nnspec.plan import PASSES

runner = CliRunner()
RESNET = "models/resnet_blocks.yaml"


def invoke(*args: str):
    return runner.invoke(app, [str(a) for a in args])


def test_run_times_the_plan_and_keeps_the_trace():
    result = invoke("run", RESNET, "-s", "2,3,32,32")
    assert result.exit_code == 0, result.output
    # six kernels (the stem's pool runs inside its convolution), and the result's copy from channels-last
    # to NCHW as it leaves the plan
    assert re.search(r"^time: [0-9.]+ ms \(plan of 7 kernels\)$", result.output, re.M), result.output
    trace = result.output.split("\n\n")[0]
    assert "layer1" in trace and "bn1" in trace  # every module call is in the trace, folded ones included
    layer1 = next(line for line in trace.splitlines() if line.strip().startswith("layer1 "))
    assert float(layer1.split()[-1]) > 0  # a container's time is the sum of its kernels'
    rows = {line.split()[0]: line for line in trace.splitlines()[2:]}
    assert rows["bn1"].endswith("in conv1") and rows["relu"].endswith("in conv1")  # folded, fused
    assert rows["layer1.bn2"].endswith("in layer1.conv2")
    assert float(rows["conv1"].split()[-1]) > 0


def test_a_dropped_layer_is_not_run():
    result = invoke("run", "models/seed/dropout.yaml", "-s", "20,16", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["trace"][0]["ran_in"] == "not run" and data["plan"]["kernels"] == 0
    result = invoke("run", "models/seed/dropout.yaml", "-s", "20,16", "--json", "--no-plan")
    data = json.loads(result.stdout)
    assert "ran_in" not in data["trace"][0] and data["plan"] is None


def test_repeat_reports_median_and_spread():
    result = invoke("run", RESNET, "-s", "2,3,32,32", "--repeat", "3", "--quiet")
    assert result.exit_code == 0, result.output
    assert "module" not in result.output  # no trace
    m = re.search(r"time: median ([0-9.]+) ms, min ([0-9.]+), max ([0-9.]+) over 3 runs", result.output)
    assert m and float(m[2]) <= float(m[1]) <= float(m[3]), result.output


def test_json_has_times_plan_and_profile():
    result = invoke("run", RESNET, "-s", "2,3,32,32", "-n", "2", "--profile", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert len(data["time_ms"]["runs"]) == 2
    assert data["plan"] == {"kernels": 7, "passes": list(PASSES)}
    kinds = [r["kind"] for r in data["profile"]]
    plain = [k.split(" (")[0] for k in kinds]  # a channels-last convolution's kind names its method
    assert plain.count("Conv2d+BatchNorm2d+ReLU") == 2 and "BatchNorm2d" not in kinds
    assert "Conv2d+BatchNorm2d+ReLU+MaxPool2d" in plain  # the stem, its pool fused (fuse_pool)
    assert "Conv2d+BatchNorm2d+ReLU (winograd4)" in kinds
    ms = [r["ms"] for r in data["profile"]]
    assert ms == sorted(ms, reverse=True)
    conv = next(r for r in data["profile"] if r["kind"].startswith("Conv2d"))
    assert conv["mult_adds"] > 0 and conv["gflops"] > 0 and 0 < conv["of_peak"]
    assert abs(sum(r["share"] for r in data["profile"]) - 1) < 1e-6


def test_profile_table_in_the_terminal():
    result = invoke("run", RESNET, "-s", "2,3,32,32", "--profile", "--quiet")
    assert result.exit_code == 0, result.output
    header = next(line for line in result.output.splitlines() if line.startswith("kernel"))
    assert header.split() == ["kernel", "kind", "ms", "share", "mult-adds", "GFLOP/s", "of", "peak"]


def test_plan_passes_and_forward_give_the_same_output(tmp_path):
    outs = {}
    for name, extra in [("plan", []), ("forward", ["--no-plan"]), ("nofold", ["--disable-pass", "fold_batchnorm",
                                                                             "--disable-pass", "reuse_memory"])]:
        path = tmp_path / f"{name}.npy"
        result = invoke("run", RESNET, "-s", "2,3,32,32", "-o", path, "--quiet", *extra)
        assert result.exit_code == 0, result.output
        outs[name] = np.load(path)
        if name == "forward":
            assert "(the model's own forward)" in result.output
        if name == "nofold":
            assert "plan of 21 kernels" in result.output  # the BatchNorms are steps of their own again
    np.testing.assert_allclose(outs["plan"], outs["forward"], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(outs["nofold"], outs["forward"], rtol=1e-4, atol=1e-5)


def test_unknown_pass_and_no_plan_conflicts_are_usage_errors():
    result = invoke("run", RESNET, "-s", "2,3,32,32", "--disable-pass", "fold_bn")
    assert result.exit_code == 2 and "unknown pass 'fold_bn'" in result.output
    assert "fold_batchnorm" in result.output
    result = invoke("run", RESNET, "-s", "2,3,32,32", "--no-plan", "--profile")
    assert result.exit_code == 2 and "need the plan" in result.output


def test_disable_pass_winograd_or_channels_last_from_the_command_line():
    """The exactness switches the README gives: --profile names each convolution's method; with
    --disable-pass winograd none is Winograd's, with --disable-pass channels_last none is named at all."""
    methods = {}
    for off in (None, "winograd", "channels_last"):
        result = invoke("run", RESNET, "-s", "2,3,32,32", "--profile", "--json",
                        *(["--disable-pass", off] if off else []))
        assert result.exit_code == 0, result.output
        kinds = [r["kind"] for r in json.loads(result.stdout)["profile"]]
        methods[off] = {k.split(" (")[1].rstrip(")") for k in kinds if " (" in k}
    assert "winograd4" in methods[None]
    assert methods["winograd"] and not any(m.startswith("winograd") for m in methods["winograd"])
    assert methods["channels_last"] == set()

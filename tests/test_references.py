"""Every zoo model against the model it reproduces (tests/references.py): torchvision's, transformers', or a twin.

Live (torch and the reference package installed): the reference is built with random weights
(torch.manual_seed, then its 1-d and constant entries redrawn and its batch norms calibrated), its
state saved as people save it (torch.save, safetensors, save_pretrained), and ``nnspec run MODEL
--weights FILE --input ...`` (inputs by name where there are several) must give the reference's
outputs within 1e-4 on every file at both input sizes; nnspec's state_dict must be the
reference's key for key (order, shapes, dtypes), and ``nnspec summary -s`` must agree with torchinfo
on the parameters and every layer's output shape.

Golden (no torch): tests/golden/references/ (written by tests/golden/make_references.py) holds each
reference's layout, torchinfo's numbers, and its outputs with nnspec's own seeded weights loaded;
the default run rebuilds those weights and compares.

Versions: torch==2.13.0 (a CPU build) is the oracle. torchvision's wheels here are CUDA builds;
torchvision==0.28.0 pairs with torch 2.13 and its model code is 0.29.1's, but its C extension does
not load beside a CPU torch, so CI installs it with --no-deps and references.import_torchvision
imports it without its C operators (no classification model needs them; the one place this is done,
and why, is references._without_torchvision_ops). transformers==5.25.0 and
safetensors==0.8.0 are pinned beside it in .ci/run.

A row whose model file is not in models/zoo yet is skipped, saying so.
"""

from __future__ import annotations

import gc
import importlib.util
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from references import GOLDEN_REFERENCES, REFERENCES, TORCHINFO_FIELDS, Reference, build_reference, \
    depends_on_input, digest, golden_model, make_inputs, missing_packages, nnspec_outputs, prepare_reference, \
    run_reference, save_reference, shape_arg, state_layout, torchinfo_of, view
from summaries import summary_disagreements
from typer.testing import CliRunner
from zoo import close

import nnspec
from nnspec_cli import app

REQUIRE_TORCH = bool(os.environ.get("NNSPEC_REQUIRE_TORCH"))
runner = CliRunner()


def invoke(*args) -> str:
    result = runner.invoke(app, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result.output


def skip_reason(ref: Reference, live: bool) -> str | None:
    missing = missing_packages(ref) if live else []
    if missing and not REQUIRE_TORCH:  # CI sets NNSPEC_REQUIRE_TORCH=1: there a missing package fails
        return f"{' and '.join(missing)} not installed (the golden tests cover this)"
    return None


def rows(live: bool, per: str = "") -> list:
    """pytest params: one per reference (``per`` empty), per input set ("inputs"), or per file and input set
    ("files"); each skipped with its reason where it cannot run."""
    out = []
    for ref in REFERENCES:
        reason = skip_reason(ref, live)
        marks = [pytest.mark.skip(reason=reason)] if reason else []
        sets = range(len(ref.inputs))
        cases = ([((ref,), ref.name)] if not per else
                 [((ref, i), f"{ref.name}-{i}") for i in sets] if per == "inputs" else
                 [((ref, kind, i), f"{ref.name}-{kind}-{i}") for kind in ref.files for i in sets])
        out += [pytest.param(*values, id=id_, marks=marks) for values, id_ in cases]
    return out


def golden(ref: Reference) -> dict:
    path = GOLDEN_REFERENCES / f"{ref.name}.json"
    if not path.exists():
        pytest.fail(f"{path.relative_to(GOLDEN_REFERENCES.parents[2])} is missing: write it with "
                    f"python tests/golden/make_references.py {ref.name} (torch, the reference package and torchinfo "
                    f"installed)")
    return json.loads(path.read_text())


def named(inputs: dict[str, np.ndarray], name: str, value) -> str:
    """A command-line input: by name where the forward takes several (input_ids=ids.npy), else as it is."""
    return f"{name}={value}" if len(inputs) > 1 else str(value)


def summary(ref: Reference, inputs: dict[str, np.ndarray]) -> dict:
    """``nnspec summary MODEL -s ... --format json`` on the shapes (and integer dtypes) of ``inputs``."""
    shapes = [a for name, x in inputs.items() for a in ("-s", named(inputs, name, shape_arg(x)))]
    return json.loads(invoke("summary", ref.path, *shapes, "--format", "json"))


def check_summary(ref: Reference, data: dict, ti: dict, params: int) -> None:
    assert summary_disagreements(data["layers"], ti, types=ref.same_repr) == []
    assert data["totals"]["params"] == params
    # torchinfo counts a tied weight once more in its total (GPT-2's lm_head); nnspec, as torch, once
    pairs = zip([r for r in data["layers"] if not r["op"]], [t for t in ti["layers"] if t.get("executed", True)])
    again = sum(t["params"] for r, t in pairs if t["leaf"] and r["shared"] and not t["recursive"])
    assert ti["total_params"] == params + again


# --------------------------------------------------------------------------- golden (no torch)


@pytest.fixture(scope="module")
def seeded(request):
    """nnspec's model of a row as its golden was made (references.golden_model), built once for the module."""
    ref = request.param
    model = golden_model(ref)
    yield ref, model
    del model
    gc.collect()


@pytest.mark.parametrize("ref", rows(live=False))
def test_state_dict_is_the_reference_s_golden(ref):
    want = golden(ref)
    model = nnspec.load(ref.path, meta=True)
    assert state_layout(model.state_dict()) == want["state_dict"]
    assert sum(p.numel() for p in model.parameters()) == want["params"]
    if ref.same_repr:
        assert repr(model) == want["repr"]


@pytest.mark.parametrize("seeded,i", rows(live=False, per="inputs"), indirect=["seeded"], scope="module")
def test_output_matches_the_reference_golden(seeded, i):
    ref, model = seeded
    want = golden(ref)
    x = make_inputs(ref, i)
    assert {k: digest(a) for k, a in x.items()} == {k: v["sha256"] for k, v in want["inputs"][i].items()}, \
        "the inputs are not the ones the golden was made with: rerun tests/golden/make_references.py"
    got = nnspec_outputs(ref, model(*x.values()))
    with np.load(GOLDEN_REFERENCES / f"{ref.name}.npz") as npz:
        for name in ref.outputs:
            close(view(ref, name, got[name]), npz[f"{i}/{name}"])


# the default plan's methods on a reference model's file, against its golden: resnet18's Winograd F(4x4) for
# the 64- and 128-channel 3x3 layers and F(2x2) for the 256-channel ones (measured within 5.4e-6 and 8.1e-6,
# max|y| 1.8; 2.6e-6 and 2.9e-6 with --disable-pass winograd); mobilenet_v2's inverted residuals as one kernel
# each (fuse_separable)
DEFAULT_PLAN_METHODS = {"resnet18": {"winograd4", "winograd2", "im2col"}, "mobilenet_v2": {"separable", "im2col"}}


@pytest.mark.parametrize("name", sorted(DEFAULT_PLAN_METHODS))
def test_the_default_plan_keeps_the_output_within_1e_4_of_the_golden(name):
    """The plan's default methods on torchvision-scale weights: within 1e-4 of torchvision's output, relative
    to its largest."""
    ref = next(r for r in REFERENCES if r.name == name)
    want = golden(ref)
    plan = nnspec.compile(golden_model(ref))
    with np.load(GOLDEN_REFERENCES / f"{ref.name}.npz") as npz:
        for i in range(len(want["inputs"])):
            x = list(make_inputs(ref, i).values())
            got = nnspec_outputs(ref, plan(*x))
            methods = {getattr(s.fn, "method", None) for s in plan.steps(x)}
            assert DEFAULT_PLAN_METHODS[name] <= methods
            for out in ref.outputs:
                expected = npz[f"{i}/{out}"]
                assert np.abs(view(ref, out, got[out]) - expected).max() <= 1e-4 * np.abs(expected).max()


@pytest.mark.parametrize("ref,i", rows(live=False, per="inputs"))
def test_summary_agrees_with_torchinfo_golden(ref, i):
    want = golden(ref)
    ti = want["torchinfo"][i]
    ti = dict(ti, layers=[dict(zip(TORCHINFO_FIELDS, row)) for row in ti["layers"]])
    check_summary(ref, summary(ref, make_inputs(ref, i)), ti, want["params"])


# --------------------------------------------------------------------------- live (torch and the reference package)


@dataclass
class Live:
    ref: Reference
    model: object  # the torch reference
    inputs: list[dict[str, np.ndarray]]
    outputs: list[dict[str, np.ndarray]]
    files: dict[str, Path]


@pytest.fixture(scope="module")
def live(request, tmp_path_factory):
    """A row's reference, built once for the module: its outputs on every input set and its saved files."""
    ref = request.param
    model = build_reference(ref)
    prepare_reference(ref, model)
    inputs = [make_inputs(ref, i) for i in range(len(ref.inputs))]
    outputs = [run_reference(ref, model, x) for x in inputs]
    moved = depends_on_input(ref, model, inputs[0], outputs[0])
    assert moved > 1e-2, f"{ref.name}: the reference's outputs move by {moved:.1e} of their size when its input " \
                         "changes: the weights drown the input, and the comparison would prove little"
    folder = tmp_path_factory.mktemp(ref.name)
    state = Live(ref, model, inputs, outputs, save_reference(ref, model, folder))
    yield state
    shutil.rmtree(folder, ignore_errors=True)  # GPT-2's three files are 1.5 GB
    del state, model
    gc.collect()


@pytest.mark.parametrize("live", rows(live=True), indirect=True, scope="module")
def test_state_dict_is_the_reference_s(live):
    ref = live.ref
    model = nnspec.load(ref.path, meta=True)
    want = state_layout(live.model.state_dict())
    assert state_layout(model.state_dict()) == want
    params = sum(p.numel() for p in live.model.parameters())
    assert sum(p.numel() for p in model.parameters()) == params
    if ref.same_repr:
        assert repr(model) == repr(live.model)
        assert [(n, m._get_name()) for n, m in model.named_modules()] == \
            [(n, m._get_name()) for n, m in live.model.named_modules()]
    path = GOLDEN_REFERENCES / f"{ref.name}.json"
    if path.exists():  # the golden is still the reference's (a new torchvision or transformers changes it)
        recorded = json.loads(path.read_text())
        assert (recorded["state_dict"], recorded["params"]) == (want, params)


@pytest.mark.parametrize("live,kind,i", rows(live=True, per="files"), indirect=["live"], scope="module")
def test_nnspec_runs_the_reference_s_file(live, kind, i, tmp_path):
    """``nnspec run MODEL --weights FILE --input ... --output ...`` on each file the reference was saved to."""
    ref, x = live.ref, live.inputs[i]
    args = []
    for name, a in x.items():
        np.save(tmp_path / f"{name}.npy", a)
        args += ["--input", named(x, name, tmp_path / f"{name}.npy")]
    out = tmp_path / ("y.npy" if len(ref.outputs) == 1 else "y.npz")
    invoke("run", ref.path, "--weights", live.files[kind], *args, "--output", out, "--quiet")
    if out.suffix == ".npy":
        got = {ref.outputs[0]: np.load(out)}
    else:  # a dict output is saved by its keys, a tuple as arr_0, arr_1, ...
        with np.load(out) as saved:
            got = {name: saved[name if name in saved else f"arr_{j}"] for j, name in enumerate(ref.outputs)}
    for name in ref.outputs:
        close(got[name], live.outputs[i][name])


@pytest.mark.parametrize("live,i", rows(live=True, per="inputs"), indirect=["live"], scope="module")
def test_summary_agrees_with_torchinfo_live(live, i):
    if importlib.util.find_spec("torchinfo") is None and not REQUIRE_TORCH:
        pytest.skip("torchinfo is not installed (the golden test covers this)")
    ref, x = live.ref, live.inputs[i]
    check_summary(ref, summary(ref, x), torchinfo_of(ref, live.model, x),
                  sum(p.numel() for p in live.model.parameters()))


def test_every_reference_row_has_its_model_file_and_every_zoo_file_a_row():
    assert [r.name for r in REFERENCES if not r.exists] == []
    zoo = sorted(p.stem for p in (Path(__file__).resolve().parents[1] / "models" / "zoo").glob("*.yaml"))
    assert sorted(r.name for r in REFERENCES) == zoo

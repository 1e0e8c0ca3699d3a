"""``nnspec run``: a model on random or given inputs, its shape trace timed."""

from __future__ import annotations

import json
import math
from contextlib import nullcontext
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Annotated, Any, Optional

import numpy
import typer

from nnspec import builder, static
from nnspec.errors import NNSpecRuntimeError
from nnspec.files import save_atomic
from nnspec.inputs import bind_call, call_inputs
from nnspec.plan import PASSES
from nnspec.plan.timing import matmul_peak, measure, profile_rows
from nnspec.progress import quiet as no_progress
from nnspec.resources import available_memory
from nnspec.runtime import random
from nnspec.runtime.backend import get_backend, resolve_dtype, to_numpy
from nnspec.runtime.meta import DataDependentError
from nnspec.trace import format_shape, profile_table, shapes, table, with_subtotals
from nnspec.weights import load_weights
from nnspec.weights import prepare as prepare_weights

from .common import JsonOpt, ModelArg, app, echo, guard, progress_bar, render_table
from .options import (
    ArgOpt,
    DtypeOpt,
    TrainOpt,
    check_dtype,
    check_names,
    input_name,
    named_args,
    parse_input,
    random_high,
)
from .show import dtypes, inputs_json, inputs_line, output_line


@app.command()
def run(
    model: ModelArg,
    input_shape: Annotated[Optional[list[str]], typer.Option(
        "--input-shape", "-s", metavar="SHAPE", help="Shape of a random input, e.g. 20,16,50. An integer input names its dtype "
        "first: int64:8,128 gives ids in [0, n), n the model's smallest Embedding size (int64<1000:8,128 sets n); "
        "bool:8,128 gives random booleans. NAME=... is the forward's input NAME (attention_mask=int64<2:8,128); "
        "the others fill the inputs not given by name, in order, and an input with a default may be left out. "
        "Repeat for several inputs.")] = None,
    input: Annotated[Optional[list[str]], typer.Option(
        "--input", "-i", metavar="FILE", help="A .npy file to feed instead of random data; NAME=FILE feeds the forward's input NAME "
        "(input_ids=ids.npy). Text before the first '=' is a name only where it is an identifier, so ./a=b.npy is "
        "the file a=b.npy. Repeat for several inputs; files and random inputs mix where one of the two kinds is "
        "all named.")] = None,
    output: Annotated[Optional[Path], typer.Option(
        "--output", "-o", metavar="FILE", help="Save the output to this .npy file (.npz for a tuple output, or a dict's "
        "outputs under their names).")] = None,
    weights: Annotated[Optional[Path], typer.Option(
        "--weights", "-w", metavar="FILE", help="Load the model's state from this file: .safetensors, .npz, or PyTorch's "
        ".pt/.pth (read without torch; only tensors are admitted from its pickle).")] = None,
    seed: Annotated[int, typer.Option(min=0, metavar="INT", help="Seed for the weights, the random inputs and dropout.")] = 0,
    dtype: DtypeOpt = "float32",
    train: TrainOpt = False,
    device: Annotated[str, typer.Option(metavar="DEVICE", help="Where to run: cpu, or cuda[:N] where CuPy is installed.")] = "cpu",
    arg: ArgOpt = None,
    memory_limit: Annotated[Optional[float], typer.Option(
        "--memory-limit", metavar="MB", min=0, help="Refuse to run a model that needs more than this many MB "
        "(parameters, inputs and activations at peak, found statically). Default: the memory free.")] = None,
    repeat: Annotated[int, typer.Option(
        "--repeat", "-n", metavar="N", min=1, help="Run this many times and report the median time and the spread "
        "(in train mode each run updates BatchNorm statistics, as that many calls would).")] = 1,
    quiet: Annotated[bool, typer.Option(
        "--quiet", "-q", help="No shape trace, and no per-kernel timing: only the output and the time.")] = False,
    profile: Annotated[bool, typer.Option(
        "--profile", help="Print the plan's kernels, slowest first, with GFLOP/s and the share of the "
        "measured matmul peak.")] = False,
    no_plan: Annotated[bool, typer.Option(
        "--no-plan", help="Run the model's own forward (module by module, hooks and all) instead of its plan.")] = False,
    disable_pass: Annotated[Optional[list[str]], typer.Option(
        "--disable-pass", metavar="PASS", help=f"Switch a pass of the plan off: {', '.join(PASSES)}. Repeat for several.")] = None,
    engine: Annotated[str, typer.Option(
        "--engine", metavar="ENGINE", help="What runs the model: nnspec, or onnxruntime (the model exported to ONNX for these "
        "inputs, then run by onnxruntime on the CPU; needs onnx and onnxruntime). The trace then has no times: "
        "the engine runs the graph as a whole.")] = "nnspec",
    as_json: JsonOpt = False,
) -> None:
    """Run a model and print its shape trace, timed.

    The inputs are random, of the shapes given, or read from .npy files.

    The model is first checked statically (shapes, and the memory it needs
    against --memory-limit), so a mistake or a model too big for the machine
    fails before anything is allocated. It then runs as an execution plan: one
    flat list of kernels, with BatchNorm folded into convolutions, activations
    fused, identities dropped, memory reused and convolutions run
    channels-last, 3x3 ones by Winograd's method (see --disable-pass). The
    times in the trace are the plan's kernels' own.

    Examples:

    \b
      nnspec run models/seed/conv2d.yaml --input-shape 20,16,50,100
      nnspec run models/zoo/resnet18.yaml -s 8,3,224,224 -n 10 --quiet
      nnspec run models/zoo/resnet18.yaml -s 8,3,224,224 --profile
      nnspec run models/zoo/resnet18.yaml -s 8,3,224,224 \\
          --disable-pass winograd                # as exact as im2col
      nnspec run models/examples/transformer_classifier.yaml \\
          -s 'tokens=int64<1000:8,48'            # '<' needs quotes
      nnspec run models/zoo/resnet18.yaml -s 8,3,224,224 \\
          --engine onnxruntime -n 10 -q
    """
    if engine not in ("nnspec", "onnxruntime"):
        raise typer.BadParameter(f"unknown engine {engine!r}; the engines are nnspec and onnxruntime",
                                 param_hint="--engine")
    if engine == "onnxruntime" and (no_plan or profile or disable_pass or train or device != "cpu"):
        raise typer.BadParameter("--engine onnxruntime runs the exported model in eval mode on the CPU: no --no-plan, "
                                 "--profile, --disable-pass, --train or --device", param_hint="--engine")
    specs_in = [parse_input(s) for s in input_shape or []]
    files_in = [input_name(t, "--input") for t in input or []]
    check_dtype(dtype)
    if not specs_in and not files_in:
        raise typer.BadParameter("give --input-shape or --input", param_hint="--input-shape")
    if any(s.name is None for s in specs_in) and any(n is None for n, _ in files_in):
        raise typer.BadParameter("give positional inputs with --input-shape or --input, not both (their order "
                                 "would be unknown); name one kind to mix them: --input NAME=FILE",
                                 param_hint="--input")
    if output is not None and output.suffix not in (".npy", ".npz"):
        raise typer.BadParameter(f"{str(output)!r} must end in .npy or .npz", param_hint="--output")
    if output is not None and not output.resolve().parent.is_dir():
        raise typer.BadParameter(f"the folder of {str(output)!r} does not exist", param_hint="--output")

    named = named_args(arg)
    check_names([("--input-shape", s.name) for s in specs_in] + [("--input", n) for n, _ in files_in]
                 + [("--arg", n) for n in named])
    unknown = [p for p in disable_pass or [] if p not in PASSES]
    if unknown:
        raise typer.BadParameter(f"unknown pass {unknown[0]!r}; the passes are {', '.join(PASSES)}",
                                 param_hint="--disable-pass")
    if no_plan and (profile or disable_pass):
        raise typer.BadParameter("--profile and --disable-pass need the plan", param_hint="--no-plan")

    def body() -> None:
        backend = get_backend(device)
        limit = available_memory() if memory_limit is None else int(memory_limit * 1e6)
        dt = resolve_dtype(dtype)
        files = []
        for name, p in files_in:
            what = f"input {p!r}" if name is None else f"input {name!r} ({p})"
            try:
                a = numpy.load(p, allow_pickle=False)
            except (OSError, ValueError) as e:
                whole = f"{name}={p}"  # NAME=FILE wins over a file of that name: say how to read the file
                hint = f"; for the file {whole!r}, write ./{whole}" if name is not None and Path(whole).exists() else ""
                raise NNSpecRuntimeError(f"cannot read {what}: {e}{hint}") from None
            if not isinstance(a, numpy.ndarray) or a.dtype.kind not in "fiub":
                kind = "an .npz archive" if not isinstance(a, numpy.ndarray) else f"dtype {a.dtype}"
                raise NNSpecRuntimeError(f"{what} holds {kind}; give a .npy array of real numbers")
            files.append(a)
        shapes_in = [spec.shape for spec in specs_in]
        need = sum(math.prod(s) for s in shapes_in) * 8  # drawn in float64, then cast
        free = available_memory()
        if free is not None and need > free:
            raise NNSpecRuntimeError(
                f"the random inputs {', '.join(map(str, shapes_in))} need {need:,} bytes; only {free:,} are free"
            )
        # the files' inputs, then the random ones: at most one of the two kinds has inputs without a name
        names = [n for n, _ in files_in] + [spec.name for spec in specs_in]
        # integer and bool inputs keep their dtype (token ids, masks); floating ones run in the model's dtype
        in_dtypes = [str(a.dtype) if a.dtype.kind in "iub" else None for a in files] + [s.dtype for s in specs_in]
        # check shapes and memory on a shape-only twin before the model or its inputs are allocated
        source = builder.Source.read(model)  # parsed and validated once, built twice
        plan = source.build(meta=True, memory_limit=None if memory_limit is None else limit)
        plan.to(dtype)
        try:
            found = static.infer(plan, [a.shape for a in files] + shapes_in, named=named, names=names,
                                 dtype=dtype, training=train, input_dtypes=in_dtypes)
        except DataDependentError:
            found = None  # a shape depends on values (a boolean mask): only the run itself can tell
        if found is not None:
            static.check_memory(found, limit, "the memory free" if memory_limit is None else "--memory-limit", plan)
        state = None
        if weights is not None:  # read and checked against the shape-only twin before the model is built
            with progress_bar(f"Reading {weights.name}") as report:
                state, notes = prepare_weights(plan, load_weights(weights, progress=report), str(weights))
            for note in notes:
                echo(f"note: {weights}: {note}", err=True)
        net = source.build(seed=seed, memory_limit=None if memory_limit is None else limit)
        if state is not None:
            net.load_state_dict(state)
        net.to(dtype).to(backend.device).train(train)
        gen = random.generator()
        arrays = files + [gen.standard_normal(spec.shape) if spec.dtype is None
                          else gen.integers(0, 2, spec.shape).astype(bool) if spec.dtype == "bool"
                          else gen.integers(0, random_high(net, spec), spec.shape).astype(spec.dtype)
                          for spec in specs_in]
        xs = [backend.asarray(a if a.dtype.kind in "iub" else a.astype(dt)) for a in arrays]
        given = call_inputs(net, *bind_call(net, xs, named, names))
        if engine == "onnxruntime":
            from nnspec.interop.to_onnx import run_onnxruntime

            outs, times = run_onnxruntime(net, xs, named=named, repeat=repeat)
            timed = _Engine(outs[0] if len(outs) == 1 else tuple(outs), times,
                            [replace(c, ms=0.0, ran_in="onnxruntime") for c in found.calls] if found is not None else [])
        else:
            with progress_bar(f"Running {model.name}") if repeat > 1 else nullcontext(no_progress) as report:
                timed = measure(net, xs, named, passes={p: False for p in disable_pass or []}, repeat=repeat,
                                trace=not quiet or profile, plan=not no_plan, names=names, progress=report)
        if timed.reason and not no_plan:
            echo(f"note: running the model's own forward{' (so no --profile)' if profile else ''}: "
                 f"{timed.reason}", err=True)
        y = timed.output
        out_shape = shapes(y)
        out_dtype = dtypes(y)
        if output is not None:
            named_out = y if isinstance(y, dict) else None  # a dict's arrays are saved under its keys
            outputs = list(y.values()) if named_out is not None else list(y) if isinstance(y, (tuple, list)) else [y]
            if not all(hasattr(v, "dtype") or isinstance(v, (int, float)) for v in outputs):
                raise NNSpecRuntimeError(f"the output {format_shape(out_shape)} is not arrays; nothing to save")
            if named_out is not None and output.suffix == ".npz":
                save_atomic(output, lambda f: numpy.savez(f, **{str(k): to_numpy(v) for k, v in named_out.items()}))
            elif output.suffix == ".npz":  # arr_0, arr_1, ... as numpy.savez names them
                save_atomic(output, lambda f: numpy.savez(f, *[to_numpy(v) for v in outputs]))
            elif len(outputs) > 1:
                raise NNSpecRuntimeError(f"the model returns {len(outputs)} arrays; save them to a .npz file, not {output.name!r}")
            else:
                save_atomic(output, lambda f: numpy.save(f, to_numpy(y)))
        rows = profile_rows(timed, matmul_peak(backend.xp)) if profile and timed.planned else None
        runs = {"median": timed.median_ms, "min": min(timed.runs_ms), "max": max(timed.runs_ms), "runs": timed.runs_ms}
        how = {"kernels": len(timed.steps), "passes": [p for p in PASSES if p not in (disable_pass or [])]} \
            if timed.planned else None
        if as_json:
            result = {"inputs": inputs_json(given), "output": {"shape": out_shape, "dtype": out_dtype},
                      "time_ms": runs, "plan": how}
            if not quiet:
                result["trace"] = [c.to_json() for c in with_subtotals(timed.calls)]
            if rows is not None:
                result["profile"] = rows
            echo(json.dumps(result, indent=2))
            return
        if not quiet:
            echo(render_table(table(timed.calls), right={4}) + "\n")
        if rows is not None:
            echo(render_table(profile_table(rows), right={2, 3, 4, 5, 6}) + "\n")
        if not quiet:
            echo(inputs_line(given))
        echo(output_line(out_shape, out_dtype))
        ran = "onnxruntime" if engine == "onnxruntime" else \
            f"plan of {len(timed.steps)} kernels" if timed.planned else "the model's own forward"
        if repeat > 1:
            echo(f"time: median {timed.median_ms:.3f} ms, min {runs['min']:.3f}, max {runs['max']:.3f} "
                 f"over {repeat} runs ({ran})")
        else:
            echo(f"time: {timed.median_ms:.3f} ms ({ran})")
        if output is not None:
            echo(f"saved to {output}")

    guard(body)


@dataclass
class _Engine:
    """What another engine's run gives ``run``'s printing: its output and times, the static trace untimed."""

    output: Any
    runs_ms: list[float]
    calls: list
    reason: str | None = None
    planned: bool = False
    steps: tuple = ()

    @property
    def median_ms(self) -> float:
        return sorted(self.runs_ms)[len(self.runs_ms) // 2]

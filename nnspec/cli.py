"""The ``nnspec`` command: a thin Typer layer over the library."""

from __future__ import annotations

import gc
import json
import math
import os
import sys
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Annotated, Any, Optional

import numpy
import typer
from typer.core import TyperGroup

from . import builder, static, vocabulary
from .errors import NNSpecError, NNSpecRuntimeError, Position, WeightsError, printable
from .inputs import bind_call, call_inputs
from .files import save_atomic
from .resources import available_memory
from .runtime import random
from .runtime.backend import get_backend, resolve_dtype, to_numpy
from .spec.schema import schema_text
from .weights import MAX_REPORTED, compare as compare_weights, count_mismatches
from .weights import load_weights, prepare as prepare_weights, for_model, save_weights
from .summary import forward_graphs, summary as make_summary
from .runtime.meta import DataDependentError
from .runtime.symbolic import Dim, parse_size
from .plan import PASSES
from .plan.timing import matmul_peak, measure, profile_rows
from .trace import format_shape, profile_table, render, shapes, table


def echo(message: str = "", err: bool = False, nl: bool = True) -> None:
    """Print a line: everything nnspec prints goes through here. Names, keys, messages and file names come from
    files that may be hostile, so control characters and bidi controls are shown as escapes (``\\x1b``), never
    sent raw to the terminal (where ESC ] 0 ; ... BEL retitles the window and U+202E reverses text). JSON output
    is already ASCII (json.dumps escapes), so this leaves it as it is."""
    typer.echo(printable(message), err=err, nl=nl)


def _render(rows: list[list[str]], right: set[int] = frozenset()) -> str:
    """``render``, with a cell that needs escapes escaped first, so that its column stays aligned."""
    text = render(rows, right)
    return text if printable(text) == text else render([[printable(c) for c in row] for row in rows], right)


class _Commands(TyperGroup):
    """nnspec's commands. A usage error is printed by Typer, not by ``echo``, and it quotes the command line (a file
    name a glob matched, say): its message is escaped here, on its way out, like everything else nnspec prints."""

    def make_context(self, *args, **kwargs):
        with _escaped_usage():
            return super().make_context(*args, **kwargs)

    def invoke(self, ctx):
        with _escaped_usage():
            return super().invoke(ctx)


@contextmanager
def _escaped_usage():
    try:
        yield
    except Exception as e:  # click's UsageError and BadParameter (newer typers vendor click: no class to name)
        if isinstance(getattr(e, "message", None), str) and hasattr(e, "format_message"):
            e.message = printable(e.message)
        raise


app = typer.Typer(
    cls=_Commands,
    help="Compile torch.nn models written in YAML or JSON, inspect them, and run them on NumPy.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


ModelArg = Annotated[Path, typer.Argument(help="Model file (.yaml, .yml or .json).", show_default=False)]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON instead of tables.")]


def _fail(message: str, code: int = 1, prefix: bool = True) -> None:
    echo(f"error: {message}" if prefix and "\n" not in message else message, err=True)
    raise typer.Exit(code)


def _guard(fn):
    """Run a command body: an NNSpecError becomes its message and exit 1, never a traceback."""
    try:
        return fn()
    except typer.Exit:
        raise
    except NNSpecError as e:  # a placed error reads as compilers print them: file:line:col: message
        _fail(str(e), prefix=e.position is None)
    except BrokenPipeError:  # the reader went away (`nnspec run ... | head`): stop quietly, as other tools do
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - interpreter exit flushes it
        raise typer.Exit(141) from None
    except MemoryError:
        _fail("out of memory: the model or its inputs need more memory than this machine has free")
    except KeyboardInterrupt:
        _fail("interrupted", 130)
    except Exception as e:  # a bug in nnspec: still one line, with a way to get the traceback
        if os.environ.get("NNSPEC_DEBUG"):
            raise
        _fail(f"internal error: {type(e).__name__}: {e} (set NNSPEC_DEBUG=1 for the traceback)")


def _parse_shape(text: str, symbolic: bool = False) -> tuple:
    """``20,16,50`` (or ``20x16x50``); with ``symbolic``, a size may be a name: ``N,3,H,W``."""
    numeric = all(p.strip().isascii() and p.strip().isdigit() for p in text.split("x"))
    parts = text.replace("x", ",").split(",") if not symbolic or numeric else text.split(",")
    shape = []
    for part in parts:  # every size must be there: "20,,50" or "20,x" is a typo, not the shape (20, 50) or (20,)
        try:
            size = parse_size(part)
        except ValueError:
            size = None
        if isinstance(size, int) or (symbolic and size is not None):
            shape.append(size)
        else:
            example = "N,3,H,W or 2,3,224,224" if symbolic else "20,16,50"
            raise typer.BadParameter(f"{text!r} is not a shape; write it as comma-separated sizes, e.g. {example}")
    if any(isinstance(s, int) and s < 0 for s in shape):
        raise typer.BadParameter(f"{text!r} is not a shape; sizes must be non-negative integers")
    return tuple(shape)


INPUT_DTYPES = ("int64", "int32", "int16", "int8", "uint8", "bool")


@dataclass(frozen=True)
class InputSpec:
    """An --input-shape: the shape, and for an integer or bool input its dtype and the range [0, high) of its
    random values (None: the model's smallest Embedding size, else 2); ``name``: the forward's input it is
    for, where given as NAME=... (None: the next input not given by name)."""

    shape: tuple
    dtype: str | None = None
    high: int | None = None
    name: str | None = None


def _input_name(text: str, option: str) -> tuple[str | None, str]:
    """``NAME=rest`` as (NAME, rest) where the text before the first '=' is an identifier, else (None, text):
    so a path such as ``./a=b.npy`` stays a path."""
    name, eq, rest = text.partition("=")
    if not eq or not name.isidentifier():
        return None, text
    if not rest:
        raise typer.BadParameter(f"{text!r}: nothing after '='; write NAME=" + ("FILE" if option == "--input"
                                 else "SHAPE, as in input_ids=int64:8,128"), param_hint=option)
    return name, rest


def _parse_input(text: str, symbolic: bool = False) -> InputSpec:
    """``2,3,224,224``, or for an integer input ``int64:8,128`` (ids in [0, high) with ``int64<50257:8,128``);
    ``NAME=`` before either gives the forward's input NAME."""
    name, text = _input_name(text, "--input-shape")
    if name is None and "=" in text:  # a shape has no '=': this was meant as NAME=SHAPE
        raise typer.BadParameter(f"{text!r}: {text.partition('=')[0]!r} is not an input name; write NAME=SHAPE, "
                                 "as in input_ids=int64:8,128", param_hint="--input-shape")
    if name is not None:
        return replace(_parse_input(text, symbolic), name=name)
    head, colon, rest = text.partition(":")
    if not colon:
        return InputSpec(_parse_shape(text, symbolic))
    name, lt, high = head.partition("<")
    if name.strip() not in INPUT_DTYPES:
        raise typer.BadParameter(f"{text!r}: {name!r} is not an input dtype; write {', '.join(INPUT_DTYPES)}, as in "
                                 "int64:8,128 (or int64<50257:8,128 for random ids in [0, 50257))")
    bound = None
    if lt:
        if not high.strip().isdigit() or int(high) < 1 or name.strip() == "bool":
            raise typer.BadParameter(f"{text!r}: the bound after '<' must be a positive integer, as in int64<1000:8,128")
        bound = int(high)
    return InputSpec(_parse_shape(rest, symbolic), name.strip(), bound)


def _random_high(model, spec: InputSpec) -> int:
    """The exclusive bound of a random integer input: as given, else the smallest Embedding's size (token ids
    any embedding of the model can look up), else 2."""
    if spec.high is not None:
        return spec.high
    sizes = [m.num_embeddings for m in model.modules() if hasattr(m, "num_embeddings")]
    return max(min(sizes), 1) if sizes else 2


def _named_args(arg: list[str] | None) -> dict[str, str]:
    named = {}
    for item in arg or []:
        name, eq, value = item.partition("=")
        if not eq or not name.isidentifier():
            raise typer.BadParameter(f"{item!r} is not name=value", param_hint="--arg")
        if name in named:
            raise typer.BadParameter(f"input {name!r} is given twice", param_hint="--arg")
        named[name] = value
    return named


def _check_names(given: list[tuple[str, str | None]]) -> None:
    """Refuse an input given twice by name, across --input-shape, --input and --arg ((option, name) pairs)."""
    seen: dict[str, str] = {}
    for option, name in given:
        if name is None:
            continue
        if name in seen:
            also = "" if seen[name] == option else f" (also with {seen[name]})"
            raise typer.BadParameter(f"input {name!r} is given twice{also}", param_hint=option)
        seen[name] = option


def _inputs_json(pairs: list[tuple[str, Any]]) -> list[dict]:
    """The forward's inputs as given: name, shape and dtype of an array, else the value (--arg)."""
    return [{"name": n, "shape": shapes(v), "dtype": str(v.dtype)} if hasattr(v, "shape") else {"name": n, "value": v}
            for n, v in pairs]


def _inputs_line(pairs: list[tuple[str, Any]]) -> str:
    """``inputs: input_ids (8, 128) int64; attention_mask (8, 128) int64``."""
    parts = [f"{n} {format_shape(shapes(v))} {v.dtype}" if hasattr(v, "shape") else f"{n} {v!r}" for n, v in pairs]
    return ("input: " if len(parts) == 1 else "inputs: ") + "; ".join(parts)


def _check_dtype(dtype: str) -> None:
    if dtype not in ("float32", "float64", "float16"):
        raise typer.BadParameter(f"{dtype!r}; choose float32, float64 or float16", param_hint="--dtype")


def _mb(nbytes: Any) -> str:
    return "?" if nbytes is None else f"{nbytes / 1e6:,.2f} MB" if isinstance(nbytes, int) else f"{nbytes} bytes"


def _count(n: Any) -> str:
    return f"{n:,}" if isinstance(n, int) else str(n)


DtypeOpt = Annotated[str, typer.Option(help="Compute dtype: float32, float64 or float16.")]
TrainOpt = Annotated[bool, typer.Option("--train/--eval", help="Mode: train uses batch statistics and dropout.")]
ArgOpt = Annotated[Optional[list[str]], typer.Option(
    "--arg", "-a", help="A non-array input of a custom forward, as name=value (a string), e.g. choice=conv.")]
SymbolicShapeOpt = Annotated[Optional[list[str]], typer.Option(
    "--input-shape", "-s", help="Shape of an input, e.g. 2,3,224,224; a size may be a name, as in N,3,H,W. "
    "An integer input (token ids) names its dtype first: int64:N,T. NAME=... is the forward's input NAME "
    "(attention_mask=int64:N,T); the others fill the inputs not given by name, in order, and an input with a "
    "default may be left out. Repeat for several inputs.")]


def _dtypes(value):
    """The dtype name of an array output, the nested names of a tuple of them, else the value's type name."""
    if hasattr(value, "dtype") and hasattr(value, "shape"):
        return str(value.dtype)
    if isinstance(value, Dim):  # a size, symbolic in static inference
        return "int"
    if isinstance(value, (tuple, list)):
        return [_dtypes(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _dtypes(v) for k, v in value.items()}
    return type(value).__name__


def _output_line(shape: Any, dtype: Any) -> str:
    """``output: shape (2, 4), dtype float32``; a dict output (a Hugging Face model's) one line per key."""
    if isinstance(shape, dict) and isinstance(dtype, dict):
        return "\n".join(f"output {k}: shape {format_shape(v)}, dtype {format_shape(dtype.get(k))}"
                         for k, v in shape.items())
    return f"output: shape {format_shape(shape)}, dtype {format_shape(dtype)}"


@app.command()
def run(
    model: ModelArg,
    input_shape: Annotated[Optional[list[str]], typer.Option(
        "--input-shape", "-s", help="Shape of a random input, e.g. 20,16,50. An integer input names its dtype "
        "first: int64:8,128 gives ids in [0, n), n the model's smallest Embedding size (int64<1000:8,128 sets n); "
        "bool:8,128 gives random booleans. NAME=... is the forward's input NAME (attention_mask=int64<2:8,128); "
        "the others fill the inputs not given by name, in order, and an input with a default may be left out. "
        "Repeat for several inputs.")] = None,
    input: Annotated[Optional[list[str]], typer.Option(
        "--input", "-i", help="A .npy file to feed instead of random data; NAME=FILE feeds the forward's input NAME "
        "(input_ids=ids.npy). Text before the first '=' is a name only where it is an identifier, so ./a=b.npy is "
        "the file a=b.npy. Repeat for several inputs; files and random inputs mix where one of the two kinds is "
        "all named.")] = None,
    output: Annotated[Optional[Path], typer.Option(
        "--output", "-o", help="Save the output to this .npy file (.npz for a tuple output, or a dict's "
        "outputs under their names).")] = None,
    weights: Annotated[Optional[Path], typer.Option(
        "--weights", "-w", help="Load the model's state from this file: .safetensors, .npz, or PyTorch's "
        ".pt/.pth (read without torch; only tensors are admitted from its pickle).")] = None,
    seed: Annotated[int, typer.Option(min=0, help="Seed for the weights, the random inputs and dropout.")] = 0,
    dtype: DtypeOpt = "float32",
    train: TrainOpt = False,
    device: Annotated[str, typer.Option(help="Where to run: cpu, or cuda[:N] where CuPy is installed.")] = "cpu",
    arg: ArgOpt = None,
    memory_limit: Annotated[Optional[float], typer.Option(
        "--memory-limit", min=0, help="Refuse to run a model that needs more than this many MB "
        "(parameters, inputs and activations at peak, found statically). Default: the memory free.")] = None,
    repeat: Annotated[int, typer.Option(
        "--repeat", "-n", min=1, help="Run this many times and report the median time and the spread "
        "(in train mode each run updates BatchNorm statistics, as that many calls would).")] = 1,
    quiet: Annotated[bool, typer.Option(
        "--quiet", "-q", help="No shape trace, and no per-kernel timing: only the output and the time.")] = False,
    profile: Annotated[bool, typer.Option(
        "--profile", help="Print the plan's kernels, slowest first, with GFLOP/s and the share of the "
        "measured matmul peak.")] = False,
    no_plan: Annotated[bool, typer.Option(
        "--no-plan", help="Run the model's own forward (module by module, hooks and all) instead of its plan.")] = False,
    disable_pass: Annotated[Optional[list[str]], typer.Option(
        "--disable-pass", help=f"Switch a pass of the plan off: {', '.join(PASSES)}. Repeat for several.")] = None,
    engine: Annotated[str, typer.Option(
        "--engine", help="What runs the model: nnspec, or onnxruntime (the model exported to ONNX for these "
        "inputs, then run by onnxruntime on the CPU; needs onnx and onnxruntime). The trace then has no times: "
        "the engine runs the graph as a whole.")] = "nnspec",
    as_json: JsonOpt = False,
) -> None:
    """Run a model on random or given inputs and print the shape trace, timed.

    The model is first checked statically (shapes, and the memory it needs against --memory-limit),
    so a mistake or a model too big for the machine fails before anything is allocated. It then
    runs as an execution plan: one flat list of kernels, with BatchNorm folded into convolutions,
    activations fused, identities dropped, memory reused and convolutions run channels-last, 3x3 ones
    by Winograd's method (see --disable-pass). The times in the trace are the plan's kernels' own.

    Examples:

      nnspec run models/seed/conv2d.yaml --input-shape 20,16,50,100

      nnspec run models/zoo/resnet18.yaml -s 8,3,224,224 --repeat 10 --quiet

      nnspec run models/zoo/resnet18.yaml -s 8,3,224,224 --profile

      nnspec run models/zoo/resnet18.yaml -s 8,3,224,224 --disable-pass winograd   # as exact as im2col

      nnspec run models/examples/transformer_classifier.yaml -s 'tokens=int64<1000:8,48'   # '<' needs quotes

      nnspec run models/zoo/resnet18.yaml -s 8,3,224,224 --engine onnxruntime --repeat 10 -q
    """
    if engine not in ("nnspec", "onnxruntime"):
        raise typer.BadParameter(f"unknown engine {engine!r}; the engines are nnspec and onnxruntime",
                                 param_hint="--engine")
    if engine == "onnxruntime" and (no_plan or profile or disable_pass or train or device != "cpu"):
        raise typer.BadParameter("--engine onnxruntime runs the exported model in eval mode on the CPU: no --no-plan, "
                                 "--profile, --disable-pass, --train or --device", param_hint="--engine")
    specs_in = [_parse_input(s) for s in input_shape or []]
    files_in = [_input_name(t, "--input") for t in input or []]
    _check_dtype(dtype)
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

    named = _named_args(arg)
    _check_names([("--input-shape", s.name) for s in specs_in] + [("--input", n) for n, _ in files_in]
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
            state, notes = prepare_weights(plan, load_weights(weights), str(weights))
            for note in notes:
                echo(f"note: {weights}: {note}", err=True)
        net = source.build(seed=seed, memory_limit=None if memory_limit is None else limit)
        if state is not None:
            net.load_state_dict(state)
        net.to(dtype).to(backend.device).train(train)
        gen = random.generator()
        arrays = files + [gen.standard_normal(spec.shape) if spec.dtype is None
                          else gen.integers(0, 2, spec.shape).astype(bool) if spec.dtype == "bool"
                          else gen.integers(0, _random_high(net, spec), spec.shape).astype(spec.dtype)
                          for spec in specs_in]
        xs = [backend.asarray(a if a.dtype.kind in "iub" else a.astype(dt)) for a in arrays]
        given = call_inputs(net, *bind_call(net, xs, named, names))
        if engine == "onnxruntime":
            from .interop.to_onnx import run_onnxruntime

            outs, times = run_onnxruntime(net, xs, named=named, repeat=repeat)
            timed = _Engine(outs[0] if len(outs) == 1 else tuple(outs), times,
                            [replace(c, ms=0.0, ran_in="onnxruntime") for c in found.calls] if found is not None else [])
        else:
            timed = measure(net, xs, named, passes={p: False for p in disable_pass or []}, repeat=repeat,
                            trace=not quiet or profile, plan=not no_plan, names=names)
        if timed.reason and not no_plan:
            echo(f"note: running the model's own forward{' (so no --profile)' if profile else ''}: "
                 f"{timed.reason}", err=True)
        y = timed.output
        out_shape = shapes(y)
        out_dtype = _dtypes(y)
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
            result = {"inputs": _inputs_json(given), "output": {"shape": out_shape, "dtype": out_dtype},
                      "time_ms": runs, "plan": how}
            if not quiet:
                result["trace"] = [c.to_json() for c in timed.calls]
            if rows is not None:
                result["profile"] = rows
            echo(json.dumps(result, indent=2))
            return
        if not quiet:
            echo(_render(table(timed.calls), right={4}) + "\n")
        if rows is not None:
            echo(_render(profile_table(rows), right={2, 3, 4, 5, 6}) + "\n")
        if not quiet:
            echo(_inputs_line(given))
        echo(_output_line(out_shape, out_dtype))
        ran = "onnxruntime" if engine == "onnxruntime" else \
            f"plan of {len(timed.steps)} kernels" if timed.planned else "the model's own forward"
        if repeat > 1:
            echo(f"time: median {timed.median_ms:.3f} ms, min {runs['min']:.3f}, max {runs['max']:.3f} "
                 f"over {repeat} runs ({ran})")
        else:
            echo(f"time: {timed.median_ms:.3f} ms ({ran})")
        if output is not None:
            echo(f"saved to {output}")

    _guard(body)


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


@app.command("compile")
def compile_(
    model: ModelArg,
    output: Annotated[Optional[Path], typer.Option(
        "--output", "-o", help="Write the graphs as JSON to this file instead of printing them as code.")] = None,
    train: Annotated[bool, typer.Option("--train/--eval", help="Which mode's graph: the mode is folded in.")] = False,
) -> None:
    """Print the compiled graph of every custom forward in a model, as code (or JSON with -o).

    Example: nnspec compile models/resnet_blocks.yaml
    """
    if output is not None and not output.resolve().parent.is_dir():
        raise typer.BadParameter(f"the folder of {str(output)!r} does not exist", param_hint="--output")

    def body() -> None:
        graphs = forward_graphs(builder.load(model), train)
        if output is not None:
            data = {"mode": "train" if train else "eval", "modules": [
                {"path": path, "name": name, "graph": g.to_json()} for path, name, g in graphs]}
            save_atomic(output, lambda f: f.write(json.dumps(data, indent=2).encode()))
            echo(f"wrote {len(graphs)} graph(s) to {output}")
            return
        if not graphs:
            echo("no custom forward in this model (its modules run their own torch forward)")
        for i, (path, name, g) in enumerate(graphs):
            echo(("\n" if i else "") + f"# {path or '(root)'}: {name}\n{g.python_code()}")

    _guard(body)


def _infer(model: Path, input_shape: list[str] | None, dtype: str, train: bool, arg: list[str] | None):
    """The shape-only model and, where input shapes are given, what static inference finds."""
    _check_dtype(dtype)
    specs_in = [_parse_input(s, symbolic=True) for s in input_shape or []]
    named = _named_args(arg)
    _check_names([("--input-shape", s.name) for s in specs_in] + [("--arg", n) for n in named])

    def body():
        net = builder.load(model, meta=True)
        net.to(dtype)
        if not specs_in:
            return net, None
        return net, static.infer(net, [spec.shape for spec in specs_in], named=named, dtype=dtype, training=train,
                                 input_dtypes=[spec.dtype for spec in specs_in], names=[s.name for s in specs_in])

    return body


def _assumption_lines(found: static.Inference) -> list[str]:
    if not found.symbols:
        return []
    given = [f"{', '.join(found.symbols)} >= 2"]  # what every symbolic size is taken to be (see symbolic.py)
    return ["", "assumes: " + "; ".join(given + found.assumptions)]


@app.command()
def validate(
    model: ModelArg,
    input_shape: SymbolicShapeOpt = None,
    dtype: DtypeOpt = "float32",
    train: TrainOpt = False,
    arg: ArgOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Check a model file without running it: the file, the model it builds, and, given input
    shapes, every layer's shapes, by static inference (nothing is computed or allocated).

    A size may be a name (N,3,H,W): it stays symbolic, the sizes computed from it are printed as
    formulas, and the conditions the checks assumed about it are listed.

    Examples:

      nnspec validate models/resnet_blocks.yaml --input-shape N,3,H,W

      nnspec validate models/examples/transformer_classifier.yaml -s tokens=int64:N,T
    """
    infer = _infer(model, input_shape, dtype, train, arg)

    def body() -> None:
        net, found = infer()
        if found is None:
            if as_json:
                echo(json.dumps({"model": str(model), "ok": True}, indent=2))
            else:
                echo(f"{model}: ok ({sum(1 for _ in net.modules())} modules); "
                     "give --input-shape to check shapes too")
            return
        if as_json:
            echo(json.dumps({
                "model": str(model), "ok": True, "inputs": _inputs_json(found.inputs),
                "trace": [c.to_json() for c in found.calls],
                "output": {"shape": found.output_shape, "dtype": _dtypes(found.output)},
                "assumptions": found.assumptions, "mult_adds": found.mult_adds,
                "memory": _memory_json(found),
            }, indent=2, default=str))
            return
        rows = [["module", "type", "input", "output", "mult-adds"]]
        for c in found.calls:
            rows.append(["  " * c.depth + c.path, c.type, "; ".join(format_shape(s) for s in c.inputs),
                         format_shape(c.output), _count(c.mult_adds) if c.mult_adds != 0 else ""])
        echo(_render(rows, right={4}))
        echo(f"\n{_inputs_line(found.inputs)}")
        echo(_output_line(found.output_shape, _dtypes(found.output)))
        echo(f"mult-adds: {_count(found.mult_adds)}; memory: {_memory_line(found)}")
        for line in _assumption_lines(found):
            echo(line)
        echo(f"\n{model}: ok")

    _guard(body)


def _memory_json(found: static.Inference) -> dict:
    return {"input_bytes": found.input_bytes, "param_bytes": found.param_bytes, "buffer_bytes": found.buffer_bytes,
            "activation_peak_bytes": found.activation_peak, "activation_total_bytes": found.activation_total,
            "total_bytes": found.total_bytes}


def _memory_line(found: static.Inference) -> str:
    if found.activation_peak is None:
        return (f"parameters {_mb(found.param_bytes)}, buffers {_mb(found.buffer_bytes)}, input {_mb(found.input_bytes)}; "
                "activations depend on the symbolic sizes")
    return (f"parameters {_mb(found.param_bytes)}, buffers {_mb(found.buffer_bytes)}, input {_mb(found.input_bytes)}, "
            f"activations {_mb(found.activation_peak)} at peak ({_mb(found.activation_total)} in all); "
            f"total {_mb(found.total_bytes)}")


@app.command()
def summary(
    model: ModelArg,
    input_shape: SymbolicShapeOpt = None,
    depth: Annotated[Optional[int], typer.Option(
        min=0, help="Show modules down to this depth; deeper ones fold into the row above.")] = None,
    keys: Annotated[Optional[bool], typer.Option(
        "--keys/--no-keys", help="List the state_dict keys (default: only without --input-shape).")] = None,
    dtype: DtypeOpt = "float32",
    train: TrainOpt = False,
    arg: ArgOpt = None,
    output_format: Annotated[str, typer.Option(
        "--format", "-f", help="table (for reading) or json (for programs).")] = "table",
    as_json: Annotated[bool, typer.Option("--json", help="Same as --format json.")] = False,
) -> None:
    """Summarise a model: without --input-shape, its module tree (torch's repr), every state_dict key
    and the parameter totals; with it, a torchinfo-style table of every layer call (output shape,
    parameters, kernel, mult-adds) and the memory of parameters, inputs and activations. Everything
    comes from static inference: nothing is run and no weights or activations are allocated.

    Examples:

      nnspec summary models/resnet_blocks.yaml --input-shape 1,3,224,224 --depth 1

      nnspec summary models/examples/transformer_classifier.yaml -s tokens=int64:8,48
    """
    if output_format not in ("table", "json"):
        raise typer.BadParameter(f"{output_format!r}; choose table or json", param_hint="--format")
    infer = _infer(model, input_shape, dtype, train, arg)

    def body() -> None:
        net, found = infer()
        info = make_summary(net)
        show_keys = keys if keys is not None else found is None
        rows = static.layer_rows(found, depth) if found is not None else None
        if as_json or output_format == "json":
            if found is not None:
                info.pop("repr")
                info["inputs"] = _inputs_json(found.inputs)
                info["layers"] = [r.to_json() for r in rows if not r.hidden]
                info["totals"]["mult_adds"] = found.mult_adds
                info["memory"] = _memory_json(found)
                info["assumptions"] = found.assumptions
            if not show_keys:
                info.pop("state_dict")
            echo(json.dumps(info, indent=2, default=str))
            return
        if rows is not None:
            echo(_layer_table(rows))
        else:
            echo(info["repr"])
        if show_keys:
            echo("")
            table = [["state_dict key", "kind", "shape", "dtype", "numel"]]
            for e in info["state_dict"]:
                if e["shape"] is None:  # a lazy module's parameter before its first call
                    table.append([e["key"], e["kind"], "uninitialized", e["dtype"], "--"])
                    continue
                table.append([e["key"], e["kind"], format_shape(tuple(e["shape"])), e["dtype"], f"{e['numel']:,}"])
            echo(_render(table, right={4}) if len(table) > 1 else "(empty state_dict)")
        t = info["totals"]
        echo(
            f"\nparameters: {t['params']:,} ({t['trainable']:,} trainable), "
            f"{t['param_bytes'] / 1e6:.2f} MB; buffers: {t['buffers']:,} elements, {t['buffer_bytes'] / 1e6:.2f} MB"
        )
        if found is not None:
            echo(f"mult-adds: {_count(found.mult_adds)}" + (f" ({found.mult_adds / 1e9:.2f} G)"
                                                           if isinstance(found.mult_adds, int) else ""))
            echo(f"memory: {_memory_line(found)}")
            for line in _assumption_lines(found):
                echo(line)

    _guard(body)


def _layer_table(rows: list[static.Row]) -> str:
    table = [["layer", "type", "output shape", "params", "kernel", "mult-adds"]]
    for r in rows:
        if r.hidden:
            continue
        params = "(shared)" if r.params is None else f"{r.params:,}" if r.params else "--"
        if r.params and not r.trainable:
            params = f"({params})"  # torchinfo's mark for parameters that are not trainable
        macs = _count(r.mult_adds) if r.mult_adds != 0 and (r.is_leaf or r.is_op) else "--"
        table.append(["  " * r.depth + r.name, r.type, format_shape(r.output), params,
                      "--" if r.kernel is None else str(r.kernel), macs])
    return _render(table, right={3, 5})


SCHEMA_PATH = Path("schemas") / "nnspec.schema.json"


@app.command()
def schema(
    output: Annotated[Optional[Path], typer.Option(
        "--output", "-o", help=f"Write the schema to this file instead of {SCHEMA_PATH}.")] = None,
    stdout: Annotated[bool, typer.Option("--stdout", help="Print the schema instead of writing a file.")] = False,
) -> None:
    """Write the JSON Schema of model files, for completion, hover text and inline errors in editors.

    Example: nnspec schema -o schemas/nnspec.schema.json
    """
    if stdout and output is not None:
        raise typer.BadParameter("give --output or --stdout, not both", param_hint="--stdout")
    if output is not None and output.is_dir():
        raise typer.BadParameter(f"{str(output)!r} is a folder; name the file to write", param_hint="--output")
    if output is not None and not output.resolve().parent.is_dir():
        raise typer.BadParameter(f"the folder of {str(output)!r} does not exist", param_hint="--output")

    def body() -> None:
        text = schema_text()
        if stdout:
            echo(text, nl=False)
            return
        path = output if output is not None else SCHEMA_PATH
        path.parent.mkdir(exist_ok=True)  # only the default's schemas/ can be missing here
        save_atomic(path, lambda f: f.write(text.encode()))
        echo(f"wrote the model-file schema to {path}")

    _guard(body)


@app.command("export")
def export(
    model: ModelArg,
    output: Annotated[Path, typer.Option("--output", "-o", help="The ONNX file to write (.onnx).")],
    input_shape: SymbolicShapeOpt = None,
    weights: Annotated[Optional[Path], typer.Option(
        "--weights", "-w", help="Load the model's state from this file first (.safetensors, .npz, .pt/.pth); "
                                "else the seeded initialisation.")] = None,
    opset: Annotated[int, typer.Option(help="The ONNX opset to write, 17 to 21.")] = 17,
    seed: Annotated[int, typer.Option(min=0, help="Seed for the weights when no --weights is given.")] = 0,
    arg: ArgOpt = None,
) -> None:
    """Write a model as an ONNX file, without torch (needs the onnx extra: pip install 'nnspec\\[onnx]').

    A size given as a name (N,3,H,W) stays symbolic in the file: the sizes the model computes from it
    are computed in the graph, so one file runs at every size. The weights are initializers named by
    their state_dict keys, and each node's doc string names the model file's line it came from. The
    model is exported in eval mode, and checked with onnx's checker before the file is written; a
    layer or op with no ONNX translation yet is an error at its line.

    Examples:

      nnspec export models/zoo/resnet18.yaml -s N,3,H,W -o resnet18.onnx -w resnet18.pth

      nnspec export models/zoo/gpt2.yaml -s int64:N,T -o gpt2.onnx
    """
    if output.suffix != ".onnx":
        raise typer.BadParameter(f"{str(output)!r} must end in .onnx", param_hint="--output")
    if not output.resolve().parent.is_dir():
        raise typer.BadParameter(f"the folder of {str(output)!r} does not exist", param_hint="--output")
    if not input_shape:
        raise typer.BadParameter("give the inputs' shapes (a size may be a name: N,3,H,W)", param_hint="--input-shape")
    specs = [_parse_input(s, symbolic=True) for s in input_shape]
    if any(s.name is not None for s in specs):
        raise typer.BadParameter("give the inputs in the forward's order, without names", param_hint="--input-shape")
    named = _named_args(arg)

    def body() -> None:
        from .interop.to_onnx import export_onnx

        export_onnx(model, [s.shape for s in specs], output, weights=weights, opset=opset, named=named or None,
                    input_dtypes=[s.dtype or "float32" for s in specs], seed=seed)
        shown = ", ".join(",".join(str(d) for d in s.shape) for s in specs)
        echo(f"wrote {output} (ONNX opset {opset}; inputs {shown})")

    _guard(body)


@app.command("import")
def import_(
    source: Annotated[str, typer.Argument(
        help="The torch module to write out: the dotted name of the function or class that makes it, called "
             "with no arguments, as package.module.name or package.module:name (torchvision.models.resnet18).")],
    output: Annotated[Path, typer.Option("--output", "-o", help="The model file to write (.yaml).")],
    weights: Annotated[Optional[Path], typer.Option(
        "--weights", "-w", help="The weights file to write, .safetensors or .npz (default: the model file's "
                                "name with .safetensors).")] = None,
    input_shape: Annotated[Optional[list[str]], typer.Option(
        "--input-shape", "-s", help="Shape of an example input, e.g. 1,3,224,224: the written model's output "
                                    "is checked against the module's on random values. Repeat for several "
                                    "inputs.")] = None,
    seed: Annotated[int, typer.Option(min=0, help="torch.manual_seed before the module is made.")] = 0,
) -> None:
    """Write a torch.nn.Module as a model file and its weights (needs torch).

    The module tree is kept as it is: torch.nn layers as entries with their arguments, containers as
    containers, other modules as user-defined modules of their class name, each forward traced with
    torch.fx and written as forward text. nnspec then builds the file and checks that its repr and
    state_dict are the module's (and, given --input-shape, its outputs). The named function is Python
    code of your environment: it runs, as `python -c` would run it.

    Examples:

      nnspec import torchvision.models.resnet18 -o resnet18.yaml -s 1,3,224,224

      nnspec import mypackage.models:Net -o net.yaml -w net.safetensors
    """
    if output.suffix not in (".yaml", ".yml", ".json"):
        raise typer.BadParameter(f"{str(output)!r} must end in .yaml, .yml or .json", param_hint="--output")
    weights = weights if weights is not None else output.with_suffix(".safetensors")
    _check_out(weights)

    def body() -> None:
        import importlib

        from .interop import ImportFromTorchError, from_torch

        try:
            import torch
        except ImportError:
            raise ImportFromTorchError("nnspec import needs torch (pip install 'nnspec[torch]')") from None
        module_name, _, attr = source.replace(":", ".").rpartition(".")
        if not module_name or not all(p.isidentifier() for p in source.replace(":", ".").split(".")):
            raise ImportFromTorchError(f"{source!r} is not a dotted name (package.module.name)")
        try:
            maker = getattr(importlib.import_module(module_name), attr)
        except (ImportError, AttributeError) as e:
            raise ImportFromTorchError(f"can't find {source}: {e}") from None
        torch.manual_seed(seed)
        module = maker().eval()
        shapes = [_parse_shape(s) for s in input_shape or []]
        inputs = tuple(torch.randn(shape) for shape in shapes)
        data = from_torch(module, inputs, path=output, weights=weights)
        echo(f"wrote {output} ({data.get('name') or data.get('type')}, {len(module.state_dict())} state entries) "
             f"and {weights}" + (f"; outputs checked on {', '.join(input_shape or [])}" if inputs else ""))

    _guard(body)


weights_app = typer.Typer(help="Make, convert and check weight files (.safetensors, .npz, PyTorch's .pt/.pth).",
                          no_args_is_help=True)
app.add_typer(weights_app, name="weights")
MAX_CHECK_ROWS = MAX_REPORTED  # rows of `weights check`'s table; --json has them all
WeightsOut = Annotated[Path, typer.Option("--output", "-o", help="The file to write: .safetensors or .npz.")]


def _check_out(path: Path) -> None:
    if path.suffix not in (".safetensors", ".npz"):
        raise typer.BadParameter(f"{str(path)!r} must end in .safetensors or .npz", param_hint="--output")
    if not path.resolve().parent.is_dir():
        raise typer.BadParameter(f"the folder of {str(path)!r} does not exist", param_hint="--output")


@weights_app.command("init")
def weights_init(model: ModelArg, output: WeightsOut, seed: Annotated[int, typer.Option(
        min=0, help="Seed of torch's default initialisation.")] = 0) -> None:
    """Write a model's freshly initialised state (torch's default init, seeded) to a weights file.

    Example: nnspec weights init models/zoo/resnet18.yaml -o resnet18.safetensors --seed 0
    """
    _check_out(output)

    def body() -> None:
        net = builder.load(model, seed=seed)
        save_weights(net, output)
        echo(f"wrote {len(net.state_dict())} arrays to {output}")

    _guard(body)


@weights_app.command("convert")
def weights_convert(source: Annotated[Path, typer.Argument(help="A .pt/.pth, .safetensors or .npz file.")],
                    output: WeightsOut) -> None:
    """Convert a weights file, PyTorch's .pt/.pth included (read without torch), to .safetensors or .npz.

    Example: nnspec weights convert resnet18.pth -o resnet18.safetensors
    """
    _check_out(output)

    def body() -> None:
        state = load_weights(source)
        save_weights(state, output)
        echo(f"wrote {len(state)} arrays to {output}")

    _guard(body)


@weights_app.command("check")
def weights_check(model: ModelArg, source: Annotated[Path, typer.Argument(help="The weights file to check.")],
                  as_json: JsonOpt = False) -> None:
    """List how a weights file disagrees with a model: missing and unexpected keys (with the nearest name),
    shapes and dtypes, after the model file's renames. The model is not allocated. Exit 1 on any mismatch.

    Example: nnspec weights check models/zoo/resnet18.yaml resnet18.pth
    """

    def body() -> None:
        net = builder.load(model, meta=True)
        state = for_model(net, load_weights(source))
        problems = compare_weights(net, state)
        if as_json:
            echo(json.dumps({"model": str(model), "weights": str(source), "ok": not problems,
                             "keys": len(state), "mismatches": [p.__dict__ for p in problems]}, indent=2))
        elif problems:  # a placed summary first, then the first rows
            where = net.__dict__.get("_spec_position") or Position(str(model))
            echo(str(WeightsError(f"{source}: {count_mismatches(problems)}: the weights do not fit the model",
                                  position=where)))
            table = [["kind", "key", "model", "weights", "hint"]]
            for p in problems[:MAX_CHECK_ROWS]:
                table.append([p.kind, p.key, p.expected or "--", p.got or "--", p.hint.removeprefix("; ")])
            echo(_render(table))
            if len(problems) > MAX_CHECK_ROWS:
                echo(f"... and {len(problems) - MAX_CHECK_ROWS:,} more (--json lists them all)")
        else:
            echo(f"{source}: all {len(state)} arrays fit {model}")
        if problems:
            raise typer.Exit(1)

    _guard(body)


@app.command()
def expand(model: ModelArg) -> None:
    """Print the model file with its blocks, $-substitutions, when: and repeat: expanded (plain YAML).

    Example: nnspec expand models/zoo/resnet18.yaml
    """

    def body() -> None:
        import yaml

        from .spec import parse, read
        from .spec.blocks import expand_blocks

        text, filename = read(model)
        data = parse(text, filename)
        builder.load(model, meta=True)  # the expanded file must be a valid model: errors show here first
        weights_options = data.get("weights") if isinstance(data, dict) else None
        expanded = expand_blocks(data, filename)
        plain = {k: v for k, v in _plain(expanded).items() if k != "blocks"} if isinstance(expanded, dict) \
            else _plain(expanded)
        if weights_options is not None and isinstance(plain, dict):
            plain["weights"] = _plain(weights_options)
        class Dumper(yaml.SafeDumper):
            pass

        def text(dumper, value: str):  # forward code as a block scalar, as it was written
            # ... but text with a control or bidi character double-quoted: the escapes echo shows (\x1b, \u202e)
            # are then YAML's own, and the output still reads back as the same text
            style = '"' if printable(value) != value else "|" if "\n" in value else None
            return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)

        Dumper.add_representer(str, text)
        echo(yaml.dump(plain, Dumper=Dumper, sort_keys=False, width=120, allow_unicode=True,
                       default_flow_style=None), nl=False)

    _guard(body)


def _plain(v: Any, key: Any = None) -> Any:
    """Expanded data (positions attached) as plain dicts and lists; a literal $ is written $$ again, so
    that the output expands to itself (forward text is never substituted, so it stays as it is)."""
    if isinstance(v, dict):
        return {k: _plain(x, k) for k, x in v.items()}
    if isinstance(v, list):
        return [_plain(x) for x in v]
    if isinstance(v, str) and key != "forward":
        return v.replace("$", "$$")
    return v


@app.command()
def info(as_json: JsonOpt = False) -> None:
    """Print the backends nnspec can run on: NumPy (BLAS, threads) and CuPy (version, CUDA runtime and
    driver, each device's name and memory), or why CuPy can't run here.

    Example: nnspec info
    """
    from . import __version__
    from .runtime.backend import describe

    found = describe()
    if as_json:
        echo(json.dumps({"nnspec": __version__, **found}, indent=2))
        return
    np_info = found["numpy"]
    echo(f"nnspec {__version__}")
    echo(f"numpy  {np_info['version']}" + (f", {np_info['blas']}" if "blas" in np_info else "")
         + "".join(f", {k}={v}" for k, v in np_info["threads"].items()))
    cp = found["cupy"]
    if "version" not in cp:
        echo(f"cupy   {cp['why']}")
        return
    echo(f"cupy   {cp['version']}" + (f", CUDA runtime {cp['cuda_runtime']}, driver {cp['cuda_driver']}"
                                      if "cuda_runtime" in cp else ""))
    for d in cp.get("devices", []):
        echo(f"  {d['device']}  {d['name']}, {d['memory_total'] / 2**30:.1f} GiB "
             f"({d['memory_free'] / 2**30:.1f} GiB free)")
    if not cp.get("available"):
        echo(f"  {cp['why']}")


@app.command()
def ops(
    term: Annotated[Optional[str], typer.Argument(
        help="Show only the entries whose name or description contains this (any case).", show_default=False)] = None,
    kind: Annotated[Optional[str], typer.Option(
        "--kind", "-k", help="Only one kind: module, function, method or operator.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """List the vocabulary: every module type a model file can use, and every function, tensor method and
    operator a custom forward can call, each with one line on what it does.

    Examples:

      nnspec ops                 # everything

      nnspec ops norm            # LayerNorm, F.layer_norm, .norm, ...

      nnspec ops --kind method   # what x.<method>(...) may be
    """
    if kind is not None and kind not in vocabulary.KINDS:
        raise typer.BadParameter(f"{kind!r}; choose {', '.join(vocabulary.KINDS)}", param_hint="--kind")
    found = vocabulary.search(term, kind)
    if as_json:
        echo(json.dumps([e.to_json() for e in found], indent=2))
        return
    if not found:
        _fail(f"nothing matches {term!r}" + (f" among the {kind}s" if kind else ""))
    titles = {"module": "module types (a model file's `type`)", "function": "functions (in a custom forward)",
              "method": "tensor methods (x.<name>(...) in a custom forward)",
              "operator": "operators (in a custom forward)"}
    first = True
    for k in vocabulary.KINDS:
        group = [e for e in found if e.kind == k]
        if not group:
            continue
        echo(("" if first else "\n") + f"{len(group)} {titles[k]}")
        first = False
        width = max(len(e.name) for e in group)
        for e in group:
            echo(f"  {e.name.ljust(width)}  {e.summary}")


def main() -> None:
    # A command builds a model's objects all at once and keeps them to the end: with the default thresholds
    # (700, 10, 10) the cycle collector re-walks them over and over (a third of `run`'s time at 100,000
    # modules). Larger ones collect as surely, a few MB later.
    gc.set_threshold(50_000, 50, 50)
    app()


if __name__ == "__main__":
    main()

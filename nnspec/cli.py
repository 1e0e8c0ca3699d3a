"""The ``nnspec`` command: a thin Typer layer over the library."""

from __future__ import annotations

import json
import math
import os
import sys
import tempfile
from pathlib import Path
from typing import Annotated, Optional

import numpy
import typer

from . import builder
from .errors import NNSpecError, NNSpecRuntimeError
from .inputs import bind
from .resources import available_memory
from .runtime import random
from .runtime.backend import get_backend, resolve_dtype, to_numpy
from .spec.schema import schema_text
from .summary import forward_graphs, summary as make_summary
from .trace import ShapeTrace, format_shape, render, shapes

app = typer.Typer(
    help="Compile torch.nn models written in YAML or JSON, inspect them, and run them on NumPy.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

ModelArg = Annotated[Path, typer.Argument(help="Model file (.yaml, .yml or .json).", show_default=False)]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON instead of tables.")]


def _fail(message: str, code: int = 1, prefix: bool = True) -> None:
    typer.echo(f"error: {message}" if prefix and "\n" not in message else message, err=True)
    raise typer.Exit(code)


def _guard(fn):
    """Run a command body: an NNSpecError becomes its message and exit 1, never a traceback."""
    try:
        return fn()
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


def _parse_shape(text: str) -> tuple[int, ...]:
    try:  # every size must be there: "20,,50" or "20,x" is a typo, not the shape (20, 50) or (20,)
        shape = tuple(int(s) for s in text.replace("x", ",").split(","))
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a shape; write it as comma-separated sizes, e.g. 20,16,50") from None
    if not shape or any(s < 0 for s in shape):
        raise typer.BadParameter(f"{text!r} is not a shape; sizes must be non-negative integers")
    return shape


def _dtypes(value):
    """The dtype name of an array output, the nested names of a tuple of them, else the value's type name."""
    if hasattr(value, "dtype") and hasattr(value, "shape"):
        return str(value.dtype)
    if isinstance(value, (tuple, list)):
        return [_dtypes(v) for v in value]
    return type(value).__name__


def _save_atomic(path: Path, write) -> None:
    """Write through a temporary file in the same folder, so a failure leaves no half-written file."""
    path = path.resolve()
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=path.suffix, dir=path.parent)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes it private; the result should read like any new file
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@app.command()
def run(
    model: ModelArg,
    input_shape: Annotated[Optional[list[str]], typer.Option(
        "--input-shape", "-s", help="Shape of a random input, e.g. 20,16,50. Repeat for several inputs.")] = None,
    input: Annotated[Optional[list[Path]], typer.Option(
        "--input", "-i", help="A .npy file to feed instead of random data. Repeat for several inputs.")] = None,
    output: Annotated[Optional[Path], typer.Option(
        "--output", "-o", help="Save the output to this .npy file (.npz for a tuple output).")] = None,
    seed: Annotated[int, typer.Option(min=0, help="Seed for the weights, the random inputs and dropout.")] = 0,
    dtype: Annotated[str, typer.Option(help="Compute dtype: float32, float64 or float16.")] = "float32",
    train: Annotated[bool, typer.Option("--train/--eval", help="Mode: train uses batch statistics and dropout.")] = False,
    device: Annotated[str, typer.Option(help="Where to run: cpu, or cuda[:N] where CuPy is installed.")] = "cpu",
    arg: Annotated[Optional[list[str]], typer.Option(
        "--arg", "-a", help="A non-array input of a custom forward, as name=value (a string), e.g. choice=conv.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Run a model on random or given inputs and print the shape trace.

    Example: nnspec run models/seed/conv2d.yaml --input-shape 20,16,50,100
    """
    shapes_in = [_parse_shape(s) for s in input_shape or []]
    if dtype not in ("float32", "float64", "float16"):
        raise typer.BadParameter(f"{dtype!r}; choose float32, float64 or float16", param_hint="--dtype")
    if not shapes_in and not input:
        raise typer.BadParameter("give --input-shape or --input", param_hint="--input-shape")
    if shapes_in and input:
        raise typer.BadParameter("give --input-shape or --input, not both", param_hint="--input")
    if output is not None and output.suffix not in (".npy", ".npz"):
        raise typer.BadParameter(f"{str(output)!r} must end in .npy or .npz", param_hint="--output")
    if output is not None and not output.resolve().parent.is_dir():
        raise typer.BadParameter(f"the folder of {str(output)!r} does not exist", param_hint="--output")

    named = {}
    for item in arg or []:
        name, eq, value = item.partition("=")
        if not eq or not name.isidentifier():
            raise typer.BadParameter(f"{item!r} is not name=value", param_hint="--arg")
        named[name] = value

    def body() -> None:
        backend = get_backend(device)
        net = builder.load(model, seed=seed)
        net.to(dtype).to(backend.device).train(train)
        dt = resolve_dtype(dtype)
        if input:
            arrays = []
            for p in input:
                try:
                    a = numpy.load(p, allow_pickle=False)
                except (OSError, ValueError) as e:
                    raise NNSpecRuntimeError(f"cannot read input {str(p)!r}: {e}") from None
                if not isinstance(a, numpy.ndarray) or a.dtype.kind not in "fiub":
                    kind = "an .npz archive" if not isinstance(a, numpy.ndarray) else f"dtype {a.dtype}"
                    raise NNSpecRuntimeError(f"input {str(p)!r} holds {kind}; give a .npy array of real numbers")
                arrays.append(a)
        else:
            need = sum(math.prod(s) for s in shapes_in) * 8  # drawn in float64, then cast
            free = available_memory()
            if free is not None and need > free:
                raise NNSpecRuntimeError(
                    f"the random inputs {', '.join(map(str, shapes_in))} need {need:,} bytes; only {free:,} are free"
                )
            gen = random.generator()
            arrays = [gen.standard_normal(s) for s in shapes_in]
        xs = [backend.asarray(a.astype(dt)) for a in arrays]  # real inputs run in the model's dtype
        call_args = bind(net, xs, named)
        with ShapeTrace(net) as trace:
            try:
                y = net(*call_args)
            except NNSpecError as e:
                call = trace.failed_at
                if call is not None:  # name the module that failed, as the trace would have shown it
                    e.path = f"{call.path} ({call.type})" + (f" {e.path}" if e.path else "")
                    if e.position is None:  # and where the model file defines it
                        e.position = trace.failed_module.__dict__.get("_spec_position")
                raise
        out_shape = shapes(y)
        out_dtype = _dtypes(y)
        if output is not None:
            outputs = list(y) if isinstance(y, (tuple, list)) else [y]
            if not all(hasattr(v, "dtype") or isinstance(v, (int, float)) for v in outputs):
                raise NNSpecRuntimeError(f"the output {format_shape(out_shape)} is not arrays; nothing to save")
            if output.suffix == ".npz":  # arr_0, arr_1, ... as numpy.savez names them
                _save_atomic(output, lambda f: numpy.savez(f, *[to_numpy(v) for v in outputs]))
            elif len(outputs) > 1:
                raise NNSpecRuntimeError(f"the model returns {len(outputs)} arrays; save them to a .npz file, not {output.name!r}")
            else:
                _save_atomic(output, lambda f: numpy.save(f, to_numpy(y)))
        if as_json:
            typer.echo(json.dumps({"trace": [c.to_json() for c in trace.calls], "output": {
                "shape": out_shape, "dtype": out_dtype}}, indent=2))
            return
        typer.echo(render(trace.table(), right={4}))
        typer.echo(f"\noutput: shape {format_shape(out_shape)}, dtype {format_shape(out_dtype)}")
        if output is not None:
            typer.echo(f"saved to {output}")

    _guard(body)


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
            _save_atomic(output, lambda f: f.write(json.dumps(data, indent=2).encode()))
            typer.echo(f"wrote {len(graphs)} graph(s) to {output}")
            return
        if not graphs:
            typer.echo("no custom forward in this model (its modules run their own torch forward)")
        for i, (path, name, g) in enumerate(graphs):
            typer.echo(("\n" if i else "") + f"# {path or '(root)'}: {name}\n{g.python_code()}")

    _guard(body)


@app.command()
def summary(
    model: ModelArg,
    seed: Annotated[int, typer.Option(min=0, help="Seed for the weights (they do not change shapes or counts).")] = 0,
    as_json: JsonOpt = False,
) -> None:
    """Print the module tree (torch's repr), every state_dict key with shape, dtype and size, and totals.

    Example: nnspec summary models/seed/state_dict.yaml
    """

    def body() -> None:
        info = make_summary(builder.load(model, seed=seed))
        if as_json:
            typer.echo(json.dumps(info, indent=2))
            return
        typer.echo(info["repr"])
        typer.echo("")
        rows = [["state_dict key", "kind", "shape", "dtype", "numel"]]
        for e in info["state_dict"]:
            rows.append([e["key"], e["kind"], format_shape(tuple(e["shape"])), e["dtype"], f"{e['numel']:,}"])
        typer.echo(render(rows, right={4}) if len(rows) > 1 else "(empty state_dict)")
        t = info["totals"]
        typer.echo(
            f"\nparameters: {t['params']:,} ({t['trainable']:,} trainable), {t['param_bytes'] / 1e6:.2f} MB; "
            f"buffers: {t['buffers']:,} elements, {t['buffer_bytes'] / 1e6:.2f} MB"
        )

    _guard(body)


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
            typer.echo(text, nl=False)
            return
        path = output if output is not None else SCHEMA_PATH
        path.parent.mkdir(exist_ok=True)  # only the default's schemas/ can be missing here
        _save_atomic(path, lambda f: f.write(text.encode()))
        typer.echo(f"wrote the model-file schema to {path}")

    _guard(body)


def main() -> None:
    app()


if __name__ == "__main__":
    main()

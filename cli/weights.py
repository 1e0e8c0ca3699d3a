"""``nnspec weights``: make, convert and check weight files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from nnspec import builder
from nnspec.errors import Position, WeightsError
from nnspec.weights import (
    MAX_REPORTED,
    count_mismatches,
    for_model,
    load_weights,
    save_weights,
)
from nnspec.weights import compare as compare_weights

from .common import JsonOpt, ModelArg, app, echo, guard, progress_bar, render_table

weights_app = typer.Typer(help="Make, convert and check weight files.\n\nThe formats are .safetensors, .npz and PyTorch's .pt/.pth (read without torch).",
                          no_args_is_help=True)
app.add_typer(weights_app, name="weights")
MAX_CHECK_ROWS = MAX_REPORTED  # rows of `weights check`'s table; --json has them all
WeightsOut = Annotated[Path, typer.Option("--output", "-o", metavar="FILE", help="The file to write: .safetensors or .npz.")]


def check_weights_out(path: Path) -> None:
    if path.suffix not in (".safetensors", ".npz"):
        raise typer.BadParameter(f"{str(path)!r} must end in .safetensors or .npz", param_hint="--output")
    if not path.resolve().parent.is_dir():
        raise typer.BadParameter(f"the folder of {str(path)!r} does not exist", param_hint="--output")


@weights_app.command("init")
def weights_init(model: ModelArg, output: WeightsOut, seed: Annotated[int, typer.Option(
        min=0, metavar="INT", help="Seed of torch's default initialisation.")] = 0) -> None:
    """Write a model's freshly initialised state to a weights file.

    The state is torch's default initialisation, seeded.

    Example:

    \b
      nnspec weights init models/zoo/resnet18.yaml -o r18.safetensors
    """
    check_weights_out(output)

    def body() -> None:
        net = builder.load(model, seed=seed)
        with progress_bar(f"Writing {output.name}") as report:
            save_weights(net, output, progress=report)
        echo(f"wrote {len(net.state_dict())} arrays to {output}")

    guard(body)


@weights_app.command("convert")
def weights_convert(source: Annotated[Path, typer.Argument(metavar="FILE", help="A .pt/.pth, .safetensors or .npz file.")],
                    output: WeightsOut) -> None:
    """Convert a weights file to .safetensors or .npz.

    PyTorch's .pt/.pth files are read without torch: only tensors are
    admitted from their pickle.

    Example:

    \b
      nnspec weights convert resnet18.pth -o resnet18.safetensors
    """
    check_weights_out(output)

    def body() -> None:
        with progress_bar(f"Converting {source.name}") as report:
            state = load_weights(source, progress=report)
            save_weights(state, output, progress=report)
        echo(f"wrote {len(state)} arrays to {output}")

    guard(body)


@weights_app.command("check")
def weights_check(model: ModelArg, source: Annotated[Path, typer.Argument(metavar="FILE", help="The weights file to check.")],
                  as_json: JsonOpt = False) -> None:
    """List how a weights file disagrees with a model.

    Missing and unexpected keys (each with the nearest name), shapes and
    dtypes, after the model file's renames. The model is not allocated. The
    exit status is 1 on any mismatch.

    Example:

    \b
      nnspec weights check models/zoo/resnet18.yaml resnet18.pth
    """

    def body() -> None:
        net = builder.load(model, meta=True)
        with progress_bar(f"Reading {source.name}") as report:
            state = for_model(net, load_weights(source, progress=report))
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
            echo(render_table(table))
            if len(problems) > MAX_CHECK_ROWS:
                echo(f"... and {len(problems) - MAX_CHECK_ROWS:,} more (--json lists them all)")
        else:
            echo(f"{source}: all {len(state)} arrays fit {model}")
        if problems:
            raise typer.Exit(1)

    guard(body)

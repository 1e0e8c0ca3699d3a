"""``nnspec graph``: a model as a picture (a page to explore, an SVG or PNG for documents)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from nnspec import viz

from .common import ModelArg, app, echo, guard, progress_bar
from .options import (
    ArgOpt,
    SymbolicShapeOpt,
    TrainOpt,
    check_names,
    named_args,
    parse_input,
)

WHAT = {"html": "a page", "svg": "an SVG", "png": "a PNG", "dot": "graphviz's text"}  # of nnspec.viz.FORMATS


@app.command()
def graph(
    model: ModelArg,
    output: Annotated[Path, typer.Option(
        "--output", "-o", metavar="FILE", help="The picture to write: .html (a page to explore), .svg (needs "
        "graphviz), .png (needs Chromium) or .dot (graphviz's text).")],
    input_shape: SymbolicShapeOpt = None,
    depth: Annotated[Optional[int], typer.Option(
        min=0, metavar="N", help="Draw modules down to this depth, deeper ones closed (a page opens them on a "
        "click). Default: as deep as keeps the picture readable.")] = None,
    train: TrainOpt = False,
    arg: ArgOpt = None,
) -> None:
    """Draw a model: its modules, its dataflow and every shape.

    Modules are frames and layers are boxes, each with its parameters and
    mult-adds; edges carry the dataflow of the forward, labelled with static
    shapes (formulas where a size is a name, N,3,H,W); hovering shows the
    model file's line. Nothing is computed or allocated. The page (.html) is
    one self-contained file: click a frame to close or open it, drag to pan,
    scroll to zoom. Without --input-shape, nnspec guesses the inputs from the
    model's first layers.

    Examples:

    \b
      nnspec graph models/zoo/resnet18.yaml -s N,3,H,W -o resnet18.html
      nnspec graph models/zoo/resnet18.yaml -s 1,3,224,224 -o resnet18.svg
      nnspec graph models/examples/gpt_block.yaml -o gpt_block.png
    """
    try:
        fmt = viz.format_of(output)
    except viz.GraphError as e:
        raise typer.BadParameter(e.message, param_hint="--output") from None
    if not output.resolve().parent.is_dir():
        raise typer.BadParameter(f"the folder of {str(output)!r} does not exist", param_hint="--output")
    specs = [parse_input(s, symbolic=True) for s in input_shape or []]
    named = named_args(arg)
    check_names([("--input-shape", s.name) for s in specs] + [("--arg", n) for n in named])

    def body() -> None:
        options = dict(depth=depth, named=named or None, training=train)
        if specs:
            options.update(dtypes=[s.dtype for s in specs], names=[s.name for s in specs])
        with progress_bar(f"Drawing {model.name}") as report:
            report("drawing in Chromium" if fmt == "png" else "laying out", 0, None)
            drawn = viz.save(output, model, [s.shape for s in specs] if specs else None, fmt=fmt, **options)
        inputs = ", ".join(f"{name} {shape}" for name, shape, _ in drawn.inputs)
        echo(f"wrote {output} ({WHAT[fmt]}: {len(drawn.boxes)} boxes in {len(drawn.clusters)} "
             f"modules, {len(drawn.edges)} edges; inputs {inputs})")

    guard(body)

"""``nnspec export`` (a model file to ONNX) and ``nnspec import`` (a torch module to a model file)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from .common import ModelArg, app, echo, guard, progress_bar
from .options import ArgOpt, SymbolicShapeOpt, named_args, parse_input, parse_shape
from .weights import check_weights_out


@app.command("export")
def export(
    model: ModelArg,
    output: Annotated[Path, typer.Option("--output", "-o", metavar="FILE", help="The ONNX file to write (.onnx).")],
    input_shape: SymbolicShapeOpt = None,
    weights: Annotated[Optional[Path], typer.Option(
        "--weights", "-w", metavar="FILE", help="Load the model's state from this file first (.safetensors, .npz, .pt/.pth); "
                                "else the seeded initialisation.")] = None,
    opset: Annotated[int, typer.Option(metavar="N", help="The ONNX opset to write, 17 to 21.")] = 17,
    seed: Annotated[int, typer.Option(min=0, metavar="INT", help="Seed for the weights when no --weights is given.")] = 0,
    arg: ArgOpt = None,
) -> None:
    """Write a model as an ONNX file, without torch.

    Needs the onnx extra: pip install 'nnspec[onnx]'. A size given as a name
    (N,3,H,W) stays symbolic in the file: the sizes the model computes from it
    are computed in the graph, so one file runs at every size. The weights are
    initializers named by their state_dict keys, and each node's doc string
    names the model file's line it came from. The model is exported in eval
    mode, and checked with onnx's checker before the file is written; a layer
    or op with no ONNX translation yet is an error at its line.

    Examples:

    \b
      nnspec export models/zoo/resnet18.yaml -s N,3,H,W -o resnet18.onnx \\
          -w resnet18.pth
      nnspec export models/zoo/gpt2.yaml -s int64:N,T -o gpt2.onnx
    """
    if output.suffix != ".onnx":
        raise typer.BadParameter(f"{str(output)!r} must end in .onnx", param_hint="--output")
    if not output.resolve().parent.is_dir():
        raise typer.BadParameter(f"the folder of {str(output)!r} does not exist", param_hint="--output")
    if not input_shape:
        raise typer.BadParameter("give the inputs' shapes (a size may be a name: N,3,H,W)", param_hint="--input-shape")
    specs = [parse_input(s, symbolic=True) for s in input_shape]
    if any(s.name is not None for s in specs):
        raise typer.BadParameter("give the inputs in the forward's order, without names", param_hint="--input-shape")
    named = named_args(arg)

    def body() -> None:
        from nnspec.interop.to_onnx import export_onnx

        with progress_bar(f"Exporting {model.name}") as report:
            export_onnx(model, [s.shape for s in specs], output, weights=weights, opset=opset, named=named or None,
                        input_dtypes=[s.dtype or "float32" for s in specs], seed=seed, progress=report)
        shown = ", ".join(",".join(str(d) for d in s.shape) for s in specs)
        echo(f"wrote {output} (ONNX opset {opset}; inputs {shown})")

    guard(body)


@app.command("import")
def import_(
    source: Annotated[str, typer.Argument(
        metavar="NAME",
        help="The torch module to write out: the dotted name of the function or class that makes it, called "
             "with no arguments, as package.module.name or package.module:name (torchvision.models.resnet18).")],
    output: Annotated[Path, typer.Option("--output", "-o", metavar="FILE", help="The model file to write (.yaml).")],
    weights: Annotated[Optional[Path], typer.Option(
        "--weights", "-w", metavar="FILE", help="The weights file to write, .safetensors or .npz (default: the model file's "
                                "name with .safetensors).")] = None,
    input_shape: Annotated[Optional[list[str]], typer.Option(
        "--input-shape", "-s", metavar="SHAPE", help="Shape of an example input, e.g. 1,3,224,224: the written model's output "
                                    "is checked against the module's on random values. Repeat for several "
                                    "inputs.")] = None,
    seed: Annotated[int, typer.Option(min=0, metavar="INT", help="torch.manual_seed before the module is made.")] = 0,
) -> None:
    """Write a torch.nn.Module as a model file and its weights.

    Needs torch. The module tree is kept as it is: torch.nn layers as entries
    with their arguments, containers as containers, other modules as
    user-defined modules of their class name, each forward traced with
    torch.fx and written as forward text. nnspec then builds the file and
    checks that its repr and state_dict are the module's (and, given
    --input-shape, its outputs). The named function is Python code of your
    environment: it runs, as `python -c` would run it.

    Examples:

    \b
      nnspec import torchvision.models.resnet18 -o resnet18.yaml \\
          -s 1,3,224,224
      nnspec import mypackage.models:Net -o net.yaml -w net.safetensors
    """
    if output.suffix not in (".yaml", ".yml", ".json"):
        raise typer.BadParameter(f"{str(output)!r} must end in .yaml, .yml or .json", param_hint="--output")
    weights = weights if weights is not None else output.with_suffix(".safetensors")
    check_weights_out(weights)

    def body() -> None:
        import importlib

        from nnspec.interop import ImportFromTorchError, from_torch

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
        shapes = [parse_shape(s) for s in input_shape or []]
        inputs = tuple(torch.randn(shape) for shape in shapes)
        data = from_torch(module, inputs, path=output, weights=weights)
        echo(f"wrote {output} ({data.get('name') or data.get('type')}, {len(module.state_dict())} state entries) "
             f"and {weights}" + (f"; outputs checked on {', '.join(input_shape or [])}" if inputs else ""))

    guard(body)

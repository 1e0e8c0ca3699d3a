"""``nnspec schema``: the JSON Schema of model files, for editors."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from nnspec.files import save_atomic
from nnspec.spec.schema import schema_text

from .common import app, echo, guard

SCHEMA_PATH = Path("schemas") / "nnspec.schema.json"


@app.command()
def schema(
    output: Annotated[Optional[Path], typer.Option(
        "--output", "-o", metavar="FILE", help=f"Write the schema to this file instead of {SCHEMA_PATH}.")] = None,
    stdout: Annotated[bool, typer.Option("--stdout", help="Print the schema instead of writing a file.")] = False,
) -> None:
    """Write the JSON Schema of model files, for editors.

    Editors use it for completion, hover text and inline errors: with the
    YAML extension of VS Code (yaml-language-server), a first line
    `# yaml-language-server: $schema=schemas/nnspec.schema.json` in a model
    file is enough.

    Example:

    \b
      nnspec schema -o schemas/nnspec.schema.json
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

    guard(body)

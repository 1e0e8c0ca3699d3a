"""Commands that look at a model without running it: ``validate``, ``summary``, ``compile`` and ``expand``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from nnspec import builder, static
from nnspec.errors import printable
from nnspec.files import save_atomic
from nnspec.summary import forward_graphs
from nnspec.summary import summary as make_summary
from nnspec.trace import format_shape, with_subtotals

from .common import JsonOpt, ModelArg, app, echo, guard, render_table
from .options import ArgOpt, DtypeOpt, SymbolicShapeOpt, TrainOpt, infer_setup
from .show import (
    assumption_lines,
    count,
    dtypes,
    inputs_json,
    inputs_line,
    layer_table,
    memory_json,
    memory_line,
    output_line,
)


@app.command("compile")
def compile_(
    model: ModelArg,
    output: Annotated[Optional[Path], typer.Option(
        "--output", "-o", metavar="FILE", help="Write the graphs as JSON to this file instead of printing them as code.")] = None,
    train: Annotated[bool, typer.Option("--train/--eval", help="Which mode's graph: the mode is folded in.")] = False,
) -> None:
    """Print the compiled graph of each custom forward, as code.

    Each user module's forward is compiled to a graph of calls (torch.fx's
    style): this prints it as Python code, or writes it as JSON with -o.

    Example:

    \b
      nnspec compile models/resnet_blocks.yaml
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

    guard(body)



@app.command()
def validate(
    model: ModelArg,
    input_shape: SymbolicShapeOpt = None,
    dtype: DtypeOpt = "float32",
    train: TrainOpt = False,
    arg: ArgOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Check a model file without running it.

    The file is read and validated, the model is built (without allocating
    its weights), and, given input shapes, every layer's shapes are found by
    static inference: nothing is computed or allocated.

    A size may be a name (N,3,H,W): it stays symbolic, the sizes computed
    from it are printed as formulas, and the conditions the checks assumed
    about it are listed.

    Examples:

    \b
      nnspec validate models/resnet_blocks.yaml --input-shape N,3,H,W
      nnspec validate models/examples/transformer_classifier.yaml \\
          -s tokens=int64:N,T
    """
    infer = infer_setup(model, input_shape, dtype, train, arg)

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
                "model": str(model), "ok": True, "inputs": inputs_json(found.inputs),
                "trace": [c.to_json() for c in with_subtotals(found.calls)],
                "output": {"shape": found.output_shape, "dtype": dtypes(found.output)},
                "assumptions": found.assumptions, "mult_adds": found.mult_adds,
                "memory": memory_json(found),
            }, indent=2, default=str))
            return
        rows = [["module", "type", "input", "output", "mult-adds"]]
        for c in with_subtotals(found.calls):
            rows.append(["  " * c.depth + c.path, c.type, "; ".join(format_shape(s) for s in c.inputs),
                         format_shape(c.output), count(c.mult_adds) if c.mult_adds != 0 else ""])
        echo(render_table(rows, right={4}))
        echo(f"\n{inputs_line(found.inputs)}")
        echo(output_line(found.output_shape, dtypes(found.output)))
        echo(f"mult-adds: {count(found.mult_adds)}; memory: {memory_line(found)}")
        for line in assumption_lines(found):
            echo(line)
        echo(f"\n{model}: ok")

    guard(body)



@app.command()
def summary(
    model: ModelArg,
    input_shape: SymbolicShapeOpt = None,
    depth: Annotated[Optional[int], typer.Option(
        min=0, metavar="N", help="Show modules down to this depth; deeper ones fold into the row above.")] = None,
    keys: Annotated[Optional[bool], typer.Option(
        "--keys/--no-keys", help="List the state_dict keys (default: only without --input-shape).")] = None,
    dtype: DtypeOpt = "float32",
    train: TrainOpt = False,
    arg: ArgOpt = None,
    output_format: Annotated[str, typer.Option(
        "--format", "-f", metavar="FORMAT", help="table (for reading) or json (for programs).")] = "table",
    as_json: Annotated[bool, typer.Option("--json", help="Same as --format json.")] = False,
) -> None:
    """Summarise a model: its module tree, or a table of every layer.

    Without --input-shape: the module tree (torch's repr), every state_dict
    key and the parameter totals. With it: a torchinfo-style table of every
    layer call (output shape, parameters, kernel, mult-adds) and the memory of
    parameters, inputs and activations. Everything comes from static
    inference: nothing is run and no weights or activations are allocated.

    Examples:

    \b
      nnspec summary models/resnet_blocks.yaml -s 1,3,224,224 --depth 1
      nnspec summary models/examples/transformer_classifier.yaml \\
          -s tokens=int64:8,48
    """
    if output_format not in ("table", "json"):
        raise typer.BadParameter(f"{output_format!r}; choose table or json", param_hint="--format")
    infer = infer_setup(model, input_shape, dtype, train, arg)

    def body() -> None:
        net, found = infer()
        info = make_summary(net)
        show_keys = keys if keys is not None else found is None
        rows = static.layer_rows(found, depth) if found is not None else None
        if as_json or output_format == "json":
            if found is not None:
                info.pop("repr")
                info["inputs"] = inputs_json(found.inputs)
                info["layers"] = [r.to_json() for r in rows if not r.hidden]
                info["totals"]["mult_adds"] = found.mult_adds
                info["memory"] = memory_json(found)
                info["assumptions"] = found.assumptions
            if not show_keys:
                info.pop("state_dict")
            echo(json.dumps(info, indent=2, default=str))
            return
        if rows is not None:
            echo(layer_table(rows))
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
            echo(render_table(table, right={4}) if len(table) > 1 else "(empty state_dict)")
        t = info["totals"]
        echo(
            f"\nparameters: {t['params']:,} ({t['trainable']:,} trainable), "
            f"{t['param_bytes'] / 1e6:.2f} MB; buffers: {t['buffers']:,} elements, {t['buffer_bytes'] / 1e6:.2f} MB"
        )
        if found is not None:
            echo(f"mult-adds: {count(found.mult_adds)}" + (f" ({found.mult_adds / 1e9:.2f} G)"
                                                           if isinstance(found.mult_adds, int) else ""))
            echo(f"memory: {memory_line(found)}")
            for line in assumption_lines(found):
                echo(line)

    guard(body)



@app.command()
def expand(model: ModelArg) -> None:
    """Print the model file with its shorthand expanded, as plain YAML.

    Blocks, $-substitutions, when: and repeat: are expanded; the result is
    itself a valid model file, which expands to itself.

    Example:

    \b
      nnspec expand models/zoo/resnet18.yaml
    """

    def body() -> None:
        import yaml

        from nnspec.spec import parse, read
        from nnspec.spec.blocks import expand_blocks

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

    guard(body)


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

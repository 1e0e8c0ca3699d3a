"""``nnspec info`` (the backends this machine can run on) and ``nnspec ops`` (the vocabulary)."""

from __future__ import annotations

import json
from typing import Annotated, Optional

import typer

from nnspec import vocabulary

from .common import JsonOpt, app, echo, fail


@app.command()
def info(as_json: JsonOpt = False) -> None:
    """Print the backends nnspec can run on here.

    NumPy (its BLAS and threads) and CuPy (its version, the CUDA runtime and
    driver, each device's name and memory), or why CuPy can't run here.

    Example:

    \b
      nnspec info --json
    """
    from nnspec import __version__
    from nnspec.runtime.backend import describe

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
        metavar="[TERM]",
        help="Show only the entries whose name or description contains this (any case).", show_default=False)] = None,
    kind: Annotated[Optional[str], typer.Option(
        "--kind", "-k", metavar="KIND", help="Only one kind: module, function, method or operator.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """List what a model file and a custom forward can use.

    Every module type a model file can use, and every function, tensor method
    and operator a custom forward can call, each with one line on what it
    does.

    Examples:

    \b
      nnspec ops                   # everything
      nnspec ops norm              # LayerNorm, F.layer_norm, .norm, ...
      nnspec ops --kind method     # what x.<method>(...) may be
    """
    if kind is not None and kind not in vocabulary.KINDS:
        raise typer.BadParameter(f"{kind!r}; choose {', '.join(vocabulary.KINDS)}", param_hint="--kind")
    found = vocabulary.search(term, kind)
    if as_json:
        echo(json.dumps([e.to_json() for e in found], indent=2))
        return
    if not found:
        fail(f"nothing matches {term!r}" + (f" among the {kind}s" if kind else ""))
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

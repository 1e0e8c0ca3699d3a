"""How the commands print what the library finds: inputs, outputs, counts, memory and layer tables."""

from __future__ import annotations

from typing import Any

from nnspec import static
from nnspec.runtime.symbolic import Dim
from nnspec.trace import format_shape, shapes

from .common import render_table


def inputs_json(pairs: list[tuple[str, Any]]) -> list[dict]:
    """The forward's inputs as given: name, shape and dtype of an array, else the value (--arg)."""
    return [{"name": n, "shape": shapes(v), "dtype": str(v.dtype)} if hasattr(v, "shape") else {"name": n, "value": v}
            for n, v in pairs]


def inputs_line(pairs: list[tuple[str, Any]]) -> str:
    """``inputs: input_ids (8, 128) int64; attention_mask (8, 128) int64``."""
    parts = [f"{n} {format_shape(shapes(v))} {v.dtype}" if hasattr(v, "shape") else f"{n} {v!r}" for n, v in pairs]
    return ("input: " if len(parts) == 1 else "inputs: ") + "; ".join(parts)



def megabytes(nbytes: Any) -> str:
    return "?" if nbytes is None else f"{nbytes / 1e6:,.2f} MB" if isinstance(nbytes, int) else f"{nbytes} bytes"


def count(n: Any) -> str:
    return f"{n:,}" if isinstance(n, int) else str(n)


def dtypes(value):
    """The dtype name of an array output, the nested names of a tuple of them, else the value's type name."""
    if hasattr(value, "dtype") and hasattr(value, "shape"):
        return str(value.dtype)
    if isinstance(value, Dim):  # a size, symbolic in static inference
        return "int"
    if isinstance(value, (tuple, list)):
        return [dtypes(v) for v in value]
    if isinstance(value, dict):
        return {str(k): dtypes(v) for k, v in value.items()}
    return type(value).__name__


def output_line(shape: Any, dtype: Any) -> str:
    """``output: shape (2, 4), dtype float32``; a dict output (a Hugging Face model's) one line per key."""
    if isinstance(shape, dict) and isinstance(dtype, dict):
        return "\n".join(f"output {k}: shape {format_shape(v)}, dtype {format_shape(dtype.get(k))}"
                         for k, v in shape.items())
    return f"output: shape {format_shape(shape)}, dtype {format_shape(dtype)}"



def assumption_lines(found: static.Inference) -> list[str]:
    """``assumes: N >= 2; H >= 7``: the conditions on symbolic sizes that the checks needed, none where none
    was (a symbolic size is at least 1, which is no assumption: see nnspec/runtime/symbolic.py)."""
    if not found.assumptions:
        return []
    return ["", "assumes: " + "; ".join(found.assumptions)]



def memory_json(found: static.Inference) -> dict:
    return {"input_bytes": found.input_bytes, "param_bytes": found.param_bytes, "buffer_bytes": found.buffer_bytes,
            "activation_peak_bytes": found.activation_peak, "activation_total_bytes": found.activation_total,
            "total_bytes": found.total_bytes}


def memory_line(found: static.Inference) -> str:
    if found.activation_peak is None:
        return (f"parameters {megabytes(found.param_bytes)}, buffers {megabytes(found.buffer_bytes)}, input {megabytes(found.input_bytes)}; "
                "activations depend on the symbolic sizes")
    return (f"parameters {megabytes(found.param_bytes)}, buffers {megabytes(found.buffer_bytes)}, input {megabytes(found.input_bytes)}, "
            f"activations {megabytes(found.activation_peak)} at peak ({megabytes(found.activation_total)} in all); "
            f"total {megabytes(found.total_bytes)}")



def layer_table(rows: list[static.Row]) -> str:
    table = [["layer", "type", "output shape", "params", "kernel", "mult-adds"]]
    for r in rows:
        if r.hidden:
            continue
        params = "(shared)" if r.params is None else f"{r.params:,}" if r.params else "--"
        if r.params and not r.trainable:
            params = f"({params})"  # torchinfo's mark for parameters that are not trainable
        macs = count(r.mult_adds) if r.mult_adds != 0 and (r.is_leaf or r.is_op) else "--"
        table.append(["  " * r.depth + r.name, r.type, format_shape(r.output), params,
                      "--" if r.kernel is None else str(r.kernel), macs])
    return render_table(table, right={3, 5})

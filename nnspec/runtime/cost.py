"""Mult-adds: what a layer call or a functional op costs, from shapes alone.

Layers count as torchinfo counts them, so that summaries compare with the
numbers people know: every ``weight`` and ``bias`` parameter contributes its
size times the batch size, and, for a convolution, times the output's spatial
size too (a BatchNorm2d over C channels is 2*C per sample; a layer without
parameters, such as ReLU or MaxPool2d, is 0); other weights and biases (an RNN's
``weight_ih_l0``) count their size times the output's first two dims. MultiheadAttention, which
torchinfo counts as nothing (it is no leaf), counts its projections and its two attention products. One deviation: a Linear or
Bilinear on an input of more than 2 dims counts every leading dim, not only
the first (torchinfo undercounts there).

Functional ops inside a custom forward, which torchinfo does not see, count
their multiply-adds: an exact count for convolutions, linear maps and matrix
products, the taps per output element for interpolation, and one per output
element for elementwise arithmetic. Shapes may be symbolic; so is the count.
"""

from __future__ import annotations

from typing import Any

from ..nn.parameter import Parameter
from .meta import prod as _prod


def _shape(v: Any) -> tuple | None:
    if isinstance(v, Parameter):
        v = v.data
    return tuple(v.shape) if hasattr(v, "shape") and hasattr(v, "dtype") else None


def module_mult_adds(module: Any, output: Any, inputs: tuple = ()) -> Any:
    """A layer call's mult-adds, by torchinfo's rule; 0 for a container or a custom forward."""
    if module.__dict__.get("_forward_program") is not None:
        return 0  # a custom forward: its ops (and the modules it calls) count for it
    name = _base_name(module)  # a renamed layer (a name-only subclass) counts as its base class
    if name == "MultiheadAttention":
        return _attention_mult_adds(module, inputs)
    if module._modules:
        return 0  # its children count for it
    out = _shape(output[0] if isinstance(output, (tuple, list)) and output else output)
    if not out:
        return 0
    total: Any = 0
    for pname, p in module._parameters.items():
        if p is None or ("weight" not in pname and "bias" not in pname):
            continue
        n = _prod(p.shape)
        if pname not in ("weight", "bias"):  # an RNN's weight_ih_l0, ...: torchinfo counts them per step
            total = total + n * _prod(out[:2])
        elif "Conv" in name:
            total = total + n * _prod(out[:1] + out[2:])
        elif name in ("Linear", "Bilinear") and len(out) > 2:
            total = total + n * _prod(out[:-1])
        else:
            total = total + n * out[0]
    return total


def _base_name(module: Any) -> str:
    from ..nn.user import base_class  # nnspec.nn imports the runtime: imported when first needed

    return base_class(module).__name__


def _attention_mult_adds(module: Any, inputs: tuple) -> Any:
    """MultiheadAttention's projections and its two attention products (torchinfo counts nothing for it: it
    has a child, out_proj, so it is no leaf, and the child is never called)."""
    shapes = [_shape(a) for a in inputs[:3]]
    if len(shapes) < 3 or any(s is None or not s for s in shapes):
        return 0
    q, k, v = shapes
    e = module.embed_dim
    rows_q, rows_k = _prod(q[:-1]), _prod(k[:-1])  # query and key positions, batch included
    seq = k[1] if module.batch_first and len(k) == 3 else k[0]  # the source length
    seq = seq + int(module.bias_k is not None) + int(module.add_zero_attn)
    # q, k and v in, and out_proj: each a matrix product, and a bias per output element where there are biases
    projections = rows_q * e * e + rows_k * (k[-1] + v[-1]) * e + rows_q * e * e
    if module.in_proj_bias is not None:
        projections = projections + (2 * rows_q + 2 * rows_k) * e
    return projections + 2 * rows_q * seq * e


_TAPS = {"nearest": 0, "nearest-exact": 0, "linear": 2, "bilinear": 4, "bicubic": 16, "trilinear": 8}
_ELEMENTWISE = {"add", "sub", "mul", "div", "truediv", "floordiv", "mod", "pow", "remainder"}
_MATMUL = {"matmul", "mm", "bmm", "dot"}
_ADD_MATMUL = {"addmm", "baddbmm"}  # input + a @ b: Hugging Face's Conv1D is torch.addmm(bias, x, weight)
_NORMS = {"batch_norm", "layer_norm", "group_norm", "instance_norm", "rms_norm"}


def op_mult_adds(target: str, args: tuple, kwargs: dict, result: Any) -> Any:
    """A functional op's mult-adds, from its arguments' and result's shapes (0 for shape-only ops)."""
    out = _shape(result)
    if out is None:
        return 0
    name = target.removeprefix("operator.").split(".")[-1]
    name = name[1:] if name.startswith("i") and name[1:] in _ELEMENTWISE | _MATMUL else name
    shapes = [_shape(a) for a in args]
    if name in _ELEMENTWISE:
        return _prod(out) if any(s is not None for s in shapes) else 0
    if name in _MATMUL or name in _ADD_MATMUL:  # addmm/baddbmm(input, a, b): the product a @ b (the add is free)
        first = name in _ADD_MATMUL
        a = shapes[1 if first else 0] if len(shapes) > first else None
        return _prod(out) * a[-1] if a else 0
    if name.startswith("conv"):
        w = _shape(args[1] if len(args) > 1 else kwargs.get("weight"))
        b = _shape(args[2] if len(args) > 2 else kwargs.get("bias"))
        per = _prod(out[:1] + out[2:])
        return _prod(w) * per + (_prod(b) * per if b else 0) if w else 0
    if name in ("linear", "bilinear"):
        weights = [s for s in shapes[1:] if s is not None]
        if name == "bilinear":
            weights = weights[1:]
        bias = kwargs.get("bias")
        if bias is not None and _shape(bias):
            weights.append(_shape(bias))
        return sum((_prod(w) for w in weights), 0) * _prod(out[:-1])
    if name == "interpolate":
        mode = kwargs.get("mode", args[3] if len(args) > 3 else "nearest")
        return _TAPS.get(mode, 0) * _prod(out)
    if name == "scaled_dot_product_attention" and len(shapes) >= 3 and all(shapes[:3]):
        q, k, v = shapes[:3]  # (..., L, E), (..., S, E), (..., S, Ev): q k^T, then the weights times v
        return _prod(q[:-1]) * k[-2] * (q[-1] + v[-1])
    if name in _NORMS:  # a scale and a shift per element
        return 2 * _prod(out)
    if name == "einsum" and args and isinstance(args[0], str):
        from .tensor_shapes import einsum_mult_adds

        return einsum_mult_adds(args[0], *args[1:])
    return 0

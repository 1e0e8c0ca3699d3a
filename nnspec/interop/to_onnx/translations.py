"""The translations of layers and ops to ONNX nodes, registered by kind (see ``graph``)."""

from __future__ import annotations

import math
from typing import Any

import numpy

from ...runtime.symbolic import is_symbolic
from .graph import _LAYERS, _OPS, V, _host, layer, op, reduce_mean, unsqueeze, weight

@layer("Conv1d", "Conv2d", "Conv3d")
def _conv(e, step, args, kwargs):
    m = e.original(step)
    x = args[0]
    n = len(m.kernel_size)
    pairs = m._reversed_padding_repeated_twice  # (left, right) per dim, last dim first
    begins = [pairs[2 * (n - 1 - i)] for i in range(n)]
    ends = [pairs[2 * (n - 1 - i) + 1] for i in range(n)]
    src = x.name
    if m.padding_mode != "zeros":
        if m.padding_mode == "circular" and e.opset < 19:
            raise e.fail("padding_mode='circular' needs opset 19 (--opset 19)")
        mode = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}[m.padding_mode]
        pads = [0, 0] + begins + [0, 0] + ends
        src = e.one("Pad", [src, e.constant(pads, numpy.int64, "pads")], mode=mode)
        begins, ends = [0] * n, [0] * n
    inputs = [src, weight(e, step, "weight")]
    if m.bias is not None:
        inputs.append(weight(e, step, "bias"))
    return e.one("Conv", inputs, kernel_shape=list(m.kernel_size), strides=list(m.stride),
                 dilations=list(m.dilation), group=m.groups, pads=begins + ends)


@layer("ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d")
def _conv_transpose(e, step, args, kwargs):
    m = e.original(step)
    if len(args) > 1 or kwargs.get("output_size") is not None:
        raise e.fail("ConvTranspose with an output_size has no ONNX translation in nnspec yet")
    n = len(m.kernel_size)
    inputs = [args[0].name, weight(e, step, "weight")]
    if m.bias is not None:
        inputs.append(weight(e, step, "bias"))
    return e.one("ConvTranspose", inputs, kernel_shape=list(m.kernel_size), strides=list(m.stride),
                 dilations=list(m.dilation), group=m.groups, pads=list(m.padding) * 2,
                 output_padding=list(m.output_padding) if any(m.output_padding) else None)


@layer("BatchNorm1d", "BatchNorm2d", "BatchNorm3d")
def _batch_norm(e, step, args, kwargs):
    m = e.original(step)
    if m.running_mean is None:
        raise e.fail("a batch norm without running statistics (track_running_stats=False) normalizes by the "
                     "batch: no ONNX translation in nnspec yet")
    c = m.num_features
    scale = weight(e, step, "weight") if m.weight is not None else e.constant(numpy.ones(c, numpy.float32))
    bias = weight(e, step, "bias") if m.bias is not None else e.constant(numpy.zeros(c, numpy.float32))
    return e.one("BatchNormalization", [args[0].name, scale, bias, weight(e, step, "running_mean"),
                                        weight(e, step, "running_var")], epsilon=float(m.eps))


@layer("Linear")
def _linear(e, step, args, kwargs):
    m = e.original(step)
    wt = e.one("Transpose", [weight(e, step, "weight")], perm=[1, 0])  # (in, out), folded by a runtime
    y = e.one("MatMul", [args[0].name, wt])
    return e.one("Add", [y, weight(e, step, "bias")]) if m.bias is not None else y


def _unary(op_name: str, **attrs: Any):
    def emit(e, step, args, kwargs):
        return e.one(op_name, [args[0].name], **attrs)
    return emit


for _kind, _op in (("ReLU", "Relu"), ("Sigmoid", "Sigmoid"), ("Tanh", "Tanh"), ("Hardswish", "HardSwish"),
                   ("Softsign", "Softsign"), ("Identity", "Identity"), ("Dropout", "Identity"),
                   ("Dropout1d", "Identity"), ("Dropout2d", "Identity"), ("Dropout3d", "Identity"),
                   ("AlphaDropout", "Identity")):
    _LAYERS[_kind] = _unary(_op)
_OPS.update({"F.relu": _unary("Relu"), "torch.relu": _unary("Relu"), "torch.sigmoid": _unary("Sigmoid"),
             "F.sigmoid": _unary("Sigmoid"), "torch.tanh": _unary("Tanh"), "F.tanh": _unary("Tanh"),
             "F.hardswish": _unary("HardSwish"), ".contiguous()": _unary("Identity"),
             "F.dropout": _unary("Identity"), "F.dropout2d": _unary("Identity")})


@layer("ReLU6")
def _relu6(e, step, args, kwargs):
    return _clip(e, args[0], 0.0, 6.0)


@op("F.relu6")
def _relu6_op(e, step, args, kwargs):
    return _clip(e, args[0], 0.0, 6.0)


@layer("Hardtanh")
def _hardtanh(e, step, args, kwargs):
    m = e.original(step)
    return _clip(e, args[0], m.min_val, m.max_val)


def _clip(e, x: V, lo: float, hi: float) -> str:
    return e.one("Clip", [x.name, e.constant(lo, x.dtype, "min"), e.constant(hi, x.dtype, "max")])


@layer("Hardsigmoid")
def _hardsigmoid(e, step, args, kwargs):
    return e.one("HardSigmoid", [args[0].name], alpha=1 / 6, beta=0.5)


@op("F.hardsigmoid")
def _hardsigmoid_op(e, step, args, kwargs):
    return e.one("HardSigmoid", [args[0].name], alpha=1 / 6, beta=0.5)


@layer("SiLU")
def _silu(e, step, args, kwargs):
    return e.one("Mul", [args[0].name, e.one("Sigmoid", [args[0].name])])


@op("F.silu")
def _silu_op(e, step, args, kwargs):
    return _silu(e, step, args, kwargs)


@layer("LeakyReLU")
def _leaky_relu(e, step, args, kwargs):
    return e.one("LeakyRelu", [args[0].name], alpha=float(e.original(step).negative_slope))


@layer("PReLU")
def _prelu(e, step, args, kwargs):
    x = args[0]
    w = _host(e.original(step).weight)
    if x.ndim >= 2 and w.size > 1:  # one slope per channel (dim 1): broadcast over the dims after it
        w = w.reshape((w.size,) + (1,) * (x.ndim - 2))
    return e.one("PRelu", [x.name, e.initializer(w, f"{step.name}.weight")])


@layer("ELU")
def _elu(e, step, args, kwargs):
    return e.one("Elu", [args[0].name], alpha=float(e.original(step).alpha))


@layer("GELU")
def _gelu(e, step, args, kwargs):
    return _gelu_of(e, args[0], e.original(step).approximate)


@op("F.gelu")
def _gelu_op(e, step, args, kwargs):
    return _gelu_of(e, args[0], kwargs.get("approximate", args[1] if len(args) > 1 else "none"))


def _gelu_of(e, x: V, approximate: str) -> str:
    if e.opset >= 20:
        return e.one("Gelu", [x.name], approximate=approximate)
    half = e.constant(0.5, x.dtype, "half")
    one = e.constant(1.0, x.dtype, "one")
    if approximate == "tanh":  # 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
        cube = e.one("Mul", [x.name, e.one("Mul", [x.name, x.name])])
        inner = e.one("Add", [x.name, e.one("Mul", [cube, e.constant(0.044715, x.dtype)])])
        t = e.one("Tanh", [e.one("Mul", [inner, e.constant(math.sqrt(2 / math.pi), x.dtype)])])
    else:  # 0.5 x (1 + erf(x / sqrt(2)))
        t = e.one("Erf", [e.one("Div", [x.name, e.constant(math.sqrt(2.0), x.dtype)])])
    return e.one("Mul", [e.one("Mul", [x.name, half]), e.one("Add", [one, t])])


def _softmax_like(op_name: str):
    def emit(e, step, args, kwargs):
        if step.module is not None:
            dim = e.original(step).dim
        else:
            dim = kwargs.get("dim", args[1] if len(args) > 1 else None)
        if dim is None:
            raise e.fail(f"{step.kind} without dim has no ONNX translation")
        return e.one(op_name, [args[0].name], axis=int(dim))
    return emit


_LAYERS.update({"Softmax": _softmax_like("Softmax"), "LogSoftmax": _softmax_like("LogSoftmax")})
_OPS.update({"F.softmax": _softmax_like("Softmax"), "F.log_softmax": _softmax_like("LogSoftmax"),
             "torch.softmax": _softmax_like("Softmax"), ".softmax()": _softmax_like("Softmax")})


def _pool_attrs(m: Any, n: int) -> dict:
    def tup(v):
        return list(v) if isinstance(v, (tuple, list)) else [v] * n
    k = tup(m.kernel_size)
    s = tup(m.stride if m.stride is not None else m.kernel_size)
    p = tup(m.padding)
    return {"kernel_shape": k, "strides": s, "pads": p + p, "ceil_mode": int(bool(m.ceil_mode))}


@layer("MaxPool1d", "MaxPool2d", "MaxPool3d")
def _max_pool(e, step, args, kwargs):
    m = e.original(step)
    if m.return_indices:
        raise e.fail("MaxPool with return_indices has no ONNX translation in nnspec yet")
    n = args[0].ndim - 2
    attrs = _pool_attrs(m, n)
    d = m.dilation
    attrs["dilations"] = list(d) if isinstance(d, (tuple, list)) else [d] * n
    return e.one("MaxPool", [args[0].name], **attrs)


@layer("AvgPool1d", "AvgPool2d", "AvgPool3d")
def _avg_pool(e, step, args, kwargs):
    m = e.original(step)
    if getattr(m, "divisor_override", None):
        raise e.fail("AvgPool with divisor_override has no ONNX translation")
    n = args[0].ndim - 2
    return e.one("AveragePool", [args[0].name], count_include_pad=int(bool(m.count_include_pad)),
                 **_pool_attrs(m, n))


def _adaptive(e, x: V, output_size: Any, mode: str) -> str:
    n = x.ndim - 2
    sizes = list(output_size) if isinstance(output_size, (tuple, list)) else [output_size] * n
    spatial = x.shape[2:]
    sizes = [s if s is not None else spatial[i] for i, s in enumerate(sizes)]
    if all(s == 1 for s in sizes):
        return e.one("GlobalAveragePool" if mode == "avg" else "GlobalMaxPool", [x.name])
    static = not any(is_symbolic(d) for d in spatial)
    if static and all(int(d) % s == 0 for d, s in zip(spatial, sizes)):
        k = [int(d) // s for d, s in zip(spatial, sizes)]
        return e.one("AveragePool" if mode == "avg" else "MaxPool", [x.name], kernel_shape=k, strides=k)
    if mode != "avg" or n > 2:
        raise e.fail(f"adaptive {mode} pooling to {tuple(sizes)} of {tuple(map(str, spatial))} (windows of unequal "
                     "sizes, or sizes known only at run time) has no ONNX translation in nnspec yet")
    # torch's windows: output i averages input [floor(i*In/Out), ceil((i+1)*In/Out)): as matrices (Out, In)
    out = x.name
    for axis, (d, o) in enumerate(zip(spatial, sizes)):
        p = _pool_matrix(e, d, o, x.dtype)
        if axis == n - 1:  # the last dim: (..., In) @ (In, Out)
            out = e.one("MatMul", [out, e.one("Transpose", [p], perm=[1, 0])])
        else:  # the one before: (Out, In) @ (..., In, W)
            out = e.one("MatMul", [p, out])
    return out


def _pool_matrix(e, d: Any, o: int, dtype: Any) -> str:
    """The (Out, In) matrix of adaptive average pooling: a constant for a known In, else computed from it."""
    if not is_symbolic(d):
        d = int(d)
        p = numpy.zeros((o, d), dtype)
        for i in range(o):
            a, b = (i * d) // o, -((-(i + 1) * d) // o)
            p[i, a:b] = 1.0 / (b - a)
        return e.constant(p, dtype, "pool")
    size = e.size(d)  # [In]
    i = e.constant(numpy.arange(o, dtype=numpy.int64).reshape(o, 1), numpy.int64, "rows")
    out_c = e.constant(numpy.int64(o))
    start = e.one("Div", [e.one("Mul", [i, size]), out_c])  # floor(i*In/Out): sizes are not negative
    i1 = e.one("Add", [i, e.constant(numpy.int64(1))])
    end = e.one("Div", [e.one("Add", [e.one("Mul", [i1, size]), e.constant(numpy.int64(o - 1))]), out_c])
    j = e.one("Range", [e.constant(numpy.int64(0)), e.one("Squeeze", [size, e.constant([0], numpy.int64, "axes")]),
                        e.constant(numpy.int64(1))])
    inside = e.one("And", [e.one("GreaterOrEqual", [j, start]), e.one("Less", [j, end])])  # (Out, In)
    to = e.onnx.helper.np_dtype_to_tensor_dtype(numpy.dtype(dtype))
    count = e.one("Cast", [e.one("Sub", [end, start])], to=to)
    return e.one("Div", [e.one("Cast", [inside], to=to), count])


@layer("AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AdaptiveAvgPool3d")
def _adaptive_avg(e, step, args, kwargs):
    return _adaptive(e, args[0], e.original(step).output_size, "avg")


@layer("AdaptiveMaxPool1d", "AdaptiveMaxPool2d", "AdaptiveMaxPool3d")
def _adaptive_max(e, step, args, kwargs):
    m = e.original(step)
    if m.return_indices:
        raise e.fail("AdaptiveMaxPool with return_indices has no ONNX translation in nnspec yet")
    return _adaptive(e, args[0], m.output_size, "max")


@op("F.adaptive_avg_pool2d", "F.adaptive_avg_pool1d", "F.adaptive_avg_pool3d")
def _adaptive_avg_op(e, step, args, kwargs):
    return _adaptive(e, args[0], kwargs.get("output_size", args[1] if len(args) > 1 else None), "avg")


def _flatten_to(e, x: V, start: int, end: int) -> str:
    nd = x.ndim
    start, end = start % nd if nd else 0, end % nd if nd else 0
    if start == 1 and end == nd - 1:
        return e.one("Flatten", [x.name], axis=1)
    # Reshape's 0 keeps the input's size there (a symbolic one needs no computing); the dims after ``end`` keep theirs
    return e.one("Reshape", [x.name, e.sizes([0] * start + [-1] + list(x.shape[end + 1:]))])


@layer("Flatten")
def _flatten_layer(e, step, args, kwargs):
    m = e.original(step)
    return _flatten_to(e, args[0], m.start_dim, m.end_dim)


@op("torch.flatten", ".flatten()")
def _flatten_op(e, step, args, kwargs):
    start = kwargs.get("start_dim", args[1] if len(args) > 1 else 0)
    end = kwargs.get("end_dim", args[2] if len(args) > 2 else -1)
    return _flatten_to(e, args[0], start, end)


@layer("Unflatten")
def _unflatten(e, step, args, kwargs):
    m = e.original(step)
    x = args[0]
    dim = m.dim % x.ndim
    shape = [0] * dim + list(m.unflattened_size) + [0] * (x.ndim - dim - 1)
    return e.one("Reshape", [x.name, e.sizes(shape)])


@op(".view()", ".reshape()", "torch.reshape")
def _reshape(e, step, args, kwargs):
    x = args[0]
    shape = args[1:] if len(args) > 1 else kwargs.get("shape", ())
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = shape[0]
    return e.one("Reshape", [x.name, e.sizes(shape)])


@op(".permute()", "torch.permute")
def _permute(e, step, args, kwargs):
    dims = args[1:] if len(args) > 1 else kwargs.get("dims", ())
    if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
        dims = dims[0]
    nd = args[0].ndim
    return e.one("Transpose", [args[0].name], perm=[int(d) % nd for d in dims])


@op(".transpose()", "torch.transpose")
def _transpose(e, step, args, kwargs):
    nd = args[0].ndim
    a, b = (int(d) % nd for d in args[1:3])
    perm = list(range(nd))
    perm[a], perm[b] = perm[b], perm[a]
    return e.one("Transpose", [args[0].name], perm=perm)


@op("torch.cat", "torch.concat")
def _cat(e, step, args, kwargs):
    xs = args[0]
    dim = kwargs.get("dim", args[1] if len(args) > 1 else 0)
    nd = xs[0].ndim
    return e.one("Concat", [x.name for x in xs], axis=int(dim) % nd)


def _operand(e, v: Any, like: V) -> str:
    if isinstance(v, V):
        return v.name
    if is_symbolic(v):
        raise e.fail("an arithmetic op on a symbolic size and a tensor has no ONNX translation in nnspec yet")
    return e.constant(v, like.dtype, "scalar")


def _binary(op_name: str):
    def emit(e, step, args, kwargs):
        a, b = args[0], args[1]
        like = a if isinstance(a, V) else b
        if not isinstance(like, V):
            raise e.fail(f"{step.kind} of two numbers has no ONNX translation")
        if kwargs.get("alpha", 1) != 1:
            raise e.fail(f"{step.kind} with alpha has no ONNX translation in nnspec yet")
        return e.one(op_name, [_operand(e, a, like), _operand(e, b, like)])
    return emit


for _name, _onnx in (("add", "Add"), ("iadd", "Add"), ("torch.add", "Add"), ("sub", "Sub"), ("isub", "Sub"),
                     ("torch.sub", "Sub"), ("mul", "Mul"), ("imul", "Mul"), ("torch.mul", "Mul"),
                     ("truediv", "Div"), ("itruediv", "Div"), ("torch.div", "Div"), ("matmul", "MatMul"),
                     ("torch.matmul", "MatMul"), (".matmul()", "MatMul"), (".mm()", "MatMul"),
                     ("torch.mm", "MatMul")):
    _OPS[_name] = _binary(_onnx)


@op(".mean()", "torch.mean")
def _mean(e, step, args, kwargs):
    x = args[0]
    dim = kwargs.get("dim", args[1] if len(args) > 1 else None)
    keep = int(bool(kwargs.get("keepdim", args[2] if len(args) > 2 else False)))
    dims = list(range(x.ndim)) if dim is None else [dim] if isinstance(dim, int) else list(dim)
    return reduce_mean(e, x.name, [int(d) % x.ndim for d in dims], keep if dim is not None else 0)


@layer("PixelShuffle")
def _pixel_shuffle(e, step, args, kwargs):
    return e.one("DepthToSpace", [args[0].name], blocksize=e.original(step).upscale_factor, mode="CRD")


@op("F.pad")
def _pad(e, step, args, kwargs):
    x = args[0]
    pad = list(kwargs.get("pad", args[1] if len(args) > 1 else ()))
    mode = kwargs.get("mode", args[2] if len(args) > 2 else "constant")
    value = kwargs.get("value", args[3] if len(args) > 3 else None)
    if mode != "constant":
        raise e.fail(f"F.pad mode={mode!r} has no ONNX translation in nnspec yet")
    nd = x.ndim
    begins, ends = [0] * nd, [0] * nd
    for i in range(len(pad) // 2):  # pairs from the last dim back
        begins[nd - 1 - i], ends[nd - 1 - i] = pad[2 * i], pad[2 * i + 1]
    inputs = [x.name, e.sizes(begins + ends)]
    if value:
        inputs.append(e.constant(value, x.dtype, "value"))
    return e.one("Pad", inputs, mode="constant")


@op("unpack")
def _unpack(e, step, args, kwargs):
    value = args[0]
    if isinstance(value, V):
        raise e.fail("unpacking a tensor has no ONNX translation in nnspec yet")
    return tuple(value)




@layer("LayerNorm")
def _layer_norm(e, step, args, kwargs):
    m = e.original(step)
    return _layer_norm_of(e, step, args[0], list(m.normalized_shape), weight(e, step, "weight"),
                          weight(e, step, "bias"), m.eps)


@op("F.layer_norm")
def _layer_norm_op(e, step, args, kwargs):
    names = ("input", "normalized_shape", "weight", "bias", "eps")
    a = dict(zip(names, args), **kwargs)
    shape = a["normalized_shape"]
    shape = [shape] if isinstance(shape, int) else list(shape)
    w, b = a.get("weight"), a.get("bias")
    return _layer_norm_of(e, step, a["input"], shape, w.name if isinstance(w, V) else None,
                          b.name if isinstance(b, V) else None, a.get("eps", 1e-5))


def _layer_norm_of(e, step, x: V, shape: list, w: str | None, b: str | None, eps: float) -> str:
    if w is None:
        w = e.constant(numpy.ones(shape, x.dtype), x.dtype, "ones")
    inputs = [x.name, w] + ([b] if b is not None else [])
    return e.one("LayerNormalization", inputs, axis=-len(shape), epsilon=float(eps))


@layer("GroupNorm")
def _group_norm(e, step, args, kwargs):
    m = e.original(step)
    x = args[0]
    g = m.num_groups
    grouped = e.one("Reshape", [x.name, e.constant([0, g, -1], numpy.int64, "shape")])
    normed = e.one("InstanceNormalization", [grouped, e.constant(numpy.ones(g, x.dtype)),
                                             e.constant(numpy.zeros(g, x.dtype))], epsilon=float(m.eps))
    y = e.one("Reshape", [normed, e.one("Shape", [x.name])])
    if m.affine:
        tail = (1,) * (x.ndim - 2)
        y = e.one("Mul", [y, e.initializer(_host(m.weight).reshape((-1,) + tail), f"{step.name}.weight")])
        y = e.one("Add", [y, e.initializer(_host(m.bias).reshape((-1,) + tail), f"{step.name}.bias")])
    return y


@layer("InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d")
def _instance_norm(e, step, args, kwargs):
    m = e.original(step)
    x = args[0]
    if m.track_running_stats:
        raise e.fail("an InstanceNorm with track_running_stats=True has no ONNX translation in nnspec yet")
    c = m.num_features
    scale = weight(e, step, "weight") if m.affine else e.constant(numpy.ones(c, x.dtype))
    bias = weight(e, step, "bias") if m.affine else e.constant(numpy.zeros(c, x.dtype))
    return e.one("InstanceNormalization", [x.name, scale, bias], epsilon=float(m.eps))


def _pad_layer(mode: str):
    def emit(e, step, args, kwargs):
        m = e.original(step)
        x = args[0]
        pad = list(m.padding)  # (left, right, top, bottom, ...) from the last dim back
        nd = x.ndim
        begins, ends = [0] * nd, [0] * nd
        for i in range(len(pad) // 2):
            begins[nd - 1 - i], ends[nd - 1 - i] = pad[2 * i], pad[2 * i + 1]
        inputs = [x.name, e.constant(begins + ends, numpy.int64, "pads")]
        if mode == "constant" and getattr(m, "value", 0):
            inputs.append(e.constant(m.value, x.dtype, "value"))
        return e.one("Pad", inputs, mode=mode)
    return emit


for _k in ("ReflectionPad1d", "ReflectionPad2d", "ReflectionPad3d"):
    _LAYERS[_k] = _pad_layer("reflect")
for _k in ("ReplicationPad1d", "ReplicationPad2d", "ReplicationPad3d"):
    _LAYERS[_k] = _pad_layer("edge")
for _k in ("ZeroPad1d", "ZeroPad2d", "ZeroPad3d", "ConstantPad1d", "ConstantPad2d", "ConstantPad3d"):
    _LAYERS[_k] = _pad_layer("constant")


@layer("Upsample", "UpsamplingNearest2d", "UpsamplingBilinear2d")
def _upsample(e, step, args, kwargs):
    m = e.original(step)
    x = args[0]
    n = x.ndim - 2
    mode, align = m.mode, m.align_corners
    if mode == "nearest":
        attrs = {"mode": "nearest", "coordinate_transformation_mode": "asymmetric", "nearest_mode": "floor"}
    elif mode in ("linear", "bilinear", "trilinear"):
        attrs = {"mode": "linear", "coordinate_transformation_mode": "align_corners" if align else
                 "pytorch_half_pixel"}
    else:
        raise e.fail(f"Upsample mode={mode!r} has no ONNX translation in nnspec yet")
    if m.size is not None:
        size = list(m.size) if isinstance(m.size, (tuple, list)) else [m.size] * n
        return e.one("Resize", [x.name, "", "", e.sizes(list(x.shape[:2]) + size)], **attrs)
    scale = list(m.scale_factor) if isinstance(m.scale_factor, (tuple, list)) else [m.scale_factor] * n
    return e.one("Resize", [x.name, "", e.constant([1.0, 1.0] + [float(v) for v in scale], numpy.float32,
                                                   "scales")], **attrs)


@layer("Bilinear")
def _bilinear(e, step, args, kwargs):
    m = e.original(step)
    y = e.one("Einsum", [args[0].name, weight(e, step, "weight"), args[1].name], equation="...i,oij,...j->...o")
    return e.one("Add", [y, weight(e, step, "bias")]) if m.bias is not None else y


@layer("Embedding")
def _embedding(e, step, args, kwargs):
    m = e.original(step)
    if m.max_norm is not None:
        raise e.fail("an Embedding with max_norm (which renormalizes its weight) has no ONNX translation")
    return e.one("Gather", [weight(e, step, "weight"), args[0].name], axis=0)


@op(".expand()", "torch.expand")
def _expand(e, step, args, kwargs):
    x = args[0]
    sizes = list(args[1:]) if len(args) > 1 else list(kwargs.get("size", ()))
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        sizes = list(sizes[0])
    lead = len(sizes) - x.ndim
    sizes = [x.shape[i - lead] if (not is_symbolic(s) and s == -1) else s for i, s in enumerate(sizes)]
    return e.one("Expand", [x.name, e.sizes(sizes)])


@op(".unsqueeze()", "torch.unsqueeze")
def _unsqueeze(e, step, args, kwargs):
    x = args[0]
    dim = kwargs.get("dim", args[1] if len(args) > 1 else 0)
    return unsqueeze(e, x.name, [int(dim) % (x.ndim + 1)])


@op(".squeeze()", "torch.squeeze")
def _squeeze(e, step, args, kwargs):
    x = args[0]
    dim = kwargs.get("dim", args[1] if len(args) > 1 else None)
    if dim is None:
        dims = [i for i, d in enumerate(x.shape) if not is_symbolic(d) and d == 1]
    else:
        dims = [int(d) % x.ndim for d in ([dim] if isinstance(dim, int) else dim)
                if not is_symbolic(x.shape[int(d) % x.ndim]) and x.shape[int(d) % x.ndim] == 1]
    return e.one("Squeeze", [x.name, e.constant(dims, numpy.int64, "axes")]) if dims else e.one("Identity", [x.name])


def _dtype_arg(args: tuple, kwargs: dict) -> Any:
    for v in list(args[1:]) + [kwargs.get("dtype")]:
        if v is not None and hasattr(v, "dtype") and not isinstance(v, V):  # nnspec's DType
            return numpy.dtype(v.dtype)
    return None


@op(".to()", ".type()")
def _to(e, step, args, kwargs):
    dtype = _dtype_arg(args, kwargs)
    x = args[0]
    if dtype is None or dtype == x.dtype:
        return e.one("Identity", [x.name])
    return e.one("Cast", [x.name], to=e.onnx.helper.np_dtype_to_tensor_dtype(dtype))


def _compare(op_name: str, negate: bool = False):
    def emit(e, step, args, kwargs):
        a, b = args[0], args[1]
        like = a if isinstance(a, V) else b
        out = e.one(op_name, [_operand(e, a, like), _operand(e, b, like)])
        return e.one("Not", [out]) if negate else out
    return emit


for _name, _onnx, _neg in (("eq", "Equal", False), ("ne", "Equal", True), ("lt", "Less", False),
                           ("le", "LessOrEqual", False), ("gt", "Greater", False),
                           ("ge", "GreaterOrEqual", False), ("torch.eq", "Equal", False)):
    _OPS[_name] = _compare(_onnx, _neg)


@op("torch.where")
def _where(e, step, args, kwargs):
    cond, a, b = args[0], args[1], args[2]
    like = a if isinstance(a, V) else b
    if not isinstance(like, V):
        raise e.fail("torch.where of two numbers has no ONNX translation in nnspec yet")
    return e.one("Where", [cond.name, _operand(e, a, like), _operand(e, b, like)])


@op(".masked_fill()")
def _masked_fill(e, step, args, kwargs):
    x, mask, value = args[0], args[1], args[2] if len(args) > 2 else kwargs.get("value")
    return e.one("Where", [mask.name, _operand(e, value, x), x.name])


@op("torch.pow", "pow", ".pow()")
def _pow(e, step, args, kwargs):
    a, b = args[0], args[1]
    like = a if isinstance(a, V) else b
    return e.one("Pow", [_operand(e, a, like), _operand(e, b, like)])


@op("torch.addmm")
def _addmm(e, step, args, kwargs):
    bias, a, b = args[0], args[1], args[2]
    if kwargs.get("beta", 1) != 1 or kwargs.get("alpha", 1) != 1:
        raise e.fail("torch.addmm with alpha or beta has no ONNX translation in nnspec yet")
    return e.one("Add", [e.one("MatMul", [a.name, b.name]), bias.name])


@op("F.linear")
def _linear_op(e, step, args, kwargs):
    a = dict(zip(("input", "weight", "bias"), args), **kwargs)
    y = e.one("MatMul", [a["input"].name, e.one("Transpose", [a["weight"].name], perm=[1, 0])])
    b = a.get("bias")
    return e.one("Add", [y, b.name]) if isinstance(b, V) else y


@op(".split()", "torch.split")
def _split(e, step, args, kwargs):
    x = args[0]
    size = kwargs.get("split_size_or_sections", kwargs.get("split_size", args[1] if len(args) > 1 else None))
    dim = int(kwargs.get("dim", args[2] if len(args) > 2 else 0)) % x.ndim
    total = x.shape[dim]
    if is_symbolic(total):
        raise e.fail("splitting a dim of symbolic size has no ONNX translation in nnspec yet")
    if isinstance(size, int):
        sizes = [size] * (int(total) // size) + ([int(total) % size] if int(total) % size else [])
    else:
        sizes = list(size)
    return tuple(e.node("Split", [x.name, e.constant(sizes, numpy.int64, "split")], n_out=len(sizes), axis=dim))


@op("torch.arange")
def _arange(e, step, args, kwargs):
    values = [v for v in args if v is not None]
    start, end, stride = (0, values[0], 1) if len(values) == 1 else (values + [1])[:3]
    dtype = _dtype_arg((None,) + tuple(args), kwargs)
    scalar = [e.one("Squeeze", [e.size(v), e.constant([0], numpy.int64, "axes")]) for v in (start, end, stride)]
    out = e.one("Range", scalar)
    if dtype is not None and dtype != numpy.int64:
        out = e.one("Cast", [out], to=e.onnx.helper.np_dtype_to_tensor_dtype(dtype))
    return out


@op("torch.zeros", "torch.ones", ".new_zeros()", ".new_ones()")
def _filled(e, step, args, kwargs):
    method = step.kind.startswith(".")
    sizes = list(args[1:] if method else args)
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        sizes = list(sizes[0])
    dtype = _dtype_arg((None,) + tuple(args), kwargs) or (args[0].dtype if method else numpy.dtype("float32"))
    value = 1 if "ones" in step.kind else 0
    tensor = e.onnx.numpy_helper.from_array(numpy.array([value], dtype=dtype), "value")
    return e.one("ConstantOfShape", [e.sizes(sizes)], value=tensor)


@op("torch.roll")
def _roll(e, step, args, kwargs):
    x = args[0]
    shifts = kwargs.get("shifts", args[1] if len(args) > 1 else None)
    dims = kwargs.get("dims", args[2] if len(args) > 2 else None)
    if dims is None:
        raise e.fail("torch.roll without dims has no ONNX translation in nnspec yet")
    shifts = [shifts] if isinstance(shifts, int) else list(shifts)
    dims = [dims] if isinstance(dims, int) else list(dims)
    out = x.name
    for shift, dim in zip(shifts, dims):
        dim = int(dim) % x.ndim
        size = x.shape[dim]
        k = int(shift) % int(size) if not is_symbolic(size) else int(shift)
        if not k:
            continue
        # rolled by k: the last k, then the rest (counted from the end, so no size is needed: |k| < the size)
        cut = e.constant([-k], numpy.int64)  # k > 0: x[-k:], x[:-k]; k < 0: x[-k:], x[:-k] with -k > 0
        axis = e.constant([dim], numpy.int64, "axes")
        tail = e.one("Slice", [out, cut, e.constant([_INT64_MAX], numpy.int64), axis])
        head = e.one("Slice", [out, e.constant([0], numpy.int64), cut, axis])
        out = e.one("Concat", [tail, head], axis=dim)
    return out


_INT64_MAX, _INT64_MIN = 2**63 - 1, -(2**63)


def _index(e, x: V, index: Any) -> str:
    """Basic indexing (ints, slices, None, ...): one Slice, then a Gather per int, then the new dims."""
    items = list(index) if isinstance(index, tuple) else [index]
    tensors = [k for k, i in enumerate(items) if isinstance(i, V)]
    if len(tensors) == 1 and all(i == slice(None) for k, i in enumerate(items) if k != tensors[0]) \
            and items[tensors[0]].dtype.kind in "iu":  # table[index]: a Gather along that dim
        return e.one("Gather", [x.name, items[tensors[0]].name], axis=tensors[0])
    if tensors or any(isinstance(i, list) for i in items):
        raise e.fail("indexing a tensor by a mask, a list or several tensors has no ONNX translation in nnspec yet")
    consumed = sum(1 for i in items if i is not None and i is not Ellipsis)
    if Ellipsis in items:
        k = items.index(Ellipsis)
        items = items[:k] + [slice(None)] * (x.ndim - consumed) + items[k + 1:]
    starts, ends, axes, steps, ints = [], [], [], [], []
    axis = 0
    kept: list = []  # what each result dim comes from: a slice, or None (a new dim)
    for item in items:
        if item is None:
            kept.append(None)
            continue
        if isinstance(item, slice):
            if not (item.start is None and item.stop is None and item.step in (None, 1)):
                step = 1 if item.step is None else item.step
                starts.append(item.start if item.start is not None else (0 if step > 0 else -1))
                ends.append(item.stop if item.stop is not None else (_INT64_MAX if step > 0 else _INT64_MIN))
                axes.append(axis)
                steps.append(step)
            kept.append(slice(None))
        else:
            ints.append((axis, item))
        axis += 1
    out = x.name
    if axes:
        out = e.one("Slice", [out, e.sizes(starts), e.sizes(ends), e.constant(axes, numpy.int64, "axes"),
                              e.constant(steps, numpy.int64, "steps")])
    for ax, i in reversed(ints):
        idx = e.one("Squeeze", [e.size(i), e.constant([0], numpy.int64, "axes")]) if is_symbolic(i) else \
            e.constant(numpy.int64(i), numpy.int64, "index")
        out = e.one("Gather", [out, idx], axis=ax)
    new = [k for k, item in enumerate(kept) if item is None]
    return unsqueeze(e, out, new) if new else out


@op("getitem")
def _getitem_op(e, step, args, kwargs):
    obj, index = args[0], args[1]
    if not isinstance(obj, V):  # a tuple's item (a layer's (output, weights)): the graph has nothing to do
        return obj[index]
    return _index(e, obj, index)


# ---------------------------------------------------------------------- attention and transformer layers
def _param(e, m: Any, path: str, name: str) -> str:
    return e.initializer(getattr(m, name), f"{path}.{name}" if path not in ("", "(root)") else name)


def _linear_of(e, m: Any, path: str, x: str) -> str:
    y = e.one("MatMul", [x, e.one("Transpose", [_param(e, m, path, "weight")], perm=[1, 0])])
    return e.one("Add", [y, _param(e, m, path, "bias")]) if m.bias is not None else y


def _rows(e, w: str, start: int, stop: int) -> str:
    """Rows start:stop of an (R, C) initializer (a runtime folds it)."""
    return e.one("Slice", [w, e.constant([start], numpy.int64), e.constant([stop], numpy.int64),
                           e.constant([0], numpy.int64, "axes")])


def _mask_bias(e, mask: V, dtype: Any) -> str:
    """An attention mask as what is added to the scores: a bool one is -inf where True, a float one itself."""
    if mask.dtype == numpy.bool_:
        return e.one("Where", [mask.name, e.constant(-numpy.inf, dtype, "ninf"), e.constant(0.0, dtype, "zero")])
    return mask.name if mask.dtype == dtype else e.one("Cast", [mask.name],
                                                         to=e.onnx.helper.np_dtype_to_tensor_dtype(dtype))


def _attention(e, m: Any, path: str, q: V, k: V, v: V, attn_mask: Any = None, key_padding_mask: Any = None,
               need_weights: bool = False, average: bool = True) -> tuple:
    """MultiheadAttention in eval mode: (output, weights or None), as torch's multi_head_attention_forward."""
    if m.bias_k is not None or m.add_zero_attn:
        raise e.fail("a MultiheadAttention with add_bias_kv or add_zero_attn has no ONNX translation in nnspec yet")
    dtype, emb, heads = q.dtype, m.embed_dim, m.num_heads
    hd = emb // heads
    names = [q.name, k.name, v.name]
    if not m.batch_first:  # (L, N, E) -> (N, L, E)
        names = [e.one("Transpose", [n], perm=[1, 0, 2]) for n in names]
    if m._qkv_same_embed_dim:
        w = _param(e, m, path, "in_proj_weight")
        ws = [_rows(e, w, i * emb, (i + 1) * emb) for i in range(3)]
    else:
        ws = [_param(e, m, path, f"{c}_proj_weight") for c in "qkv"]
    b = _param(e, m, path, "in_proj_bias") if m.in_proj_bias is not None else None
    projected = []
    for i, (x, wi) in enumerate(zip(names, ws)):
        y = e.one("MatMul", [x, e.one("Transpose", [wi], perm=[1, 0])])
        if b is not None:
            y = e.one("Add", [y, _rows(e, b, i * emb, (i + 1) * emb)])
        heads_first = e.one("Reshape", [y, e.constant([0, 0, heads, hd], numpy.int64, "shape")])
        projected.append(e.one("Transpose", [heads_first], perm=[0, 2, 1, 3]))  # (N, H, L, D)
    qh, kh, vh = projected
    scores = e.one("MatMul", [qh, e.one("Transpose", [kh], perm=[0, 1, 3, 2])])
    scores = e.one("Mul", [scores, e.constant(1.0 / math.sqrt(hd), dtype, "scale")])
    if isinstance(attn_mask, V):
        bias = _mask_bias(e, attn_mask, dtype)
        if attn_mask.ndim == 3:  # (N*H, L, S) -> (N, H, L, S)
            bias = e.one("Reshape", [bias, e.constant([-1, heads, 0, 0], numpy.int64, "shape")])
        scores = e.one("Add", [scores, bias])
    if isinstance(key_padding_mask, V):  # (N, S) -> (N, 1, 1, S)
        scores = e.one("Add", [scores, unsqueeze(e, _mask_bias(e, key_padding_mask, dtype), [1, 2])])
    weights = e.one("Softmax", [scores], axis=-1)
    out = e.one("MatMul", [weights, vh])  # (N, H, L, D)
    out = e.one("Reshape", [e.one("Transpose", [out], perm=[0, 2, 1, 3]),
                            e.constant([0, 0, emb], numpy.int64, "shape")])
    out = _linear_of(e, m.out_proj, f"{path}.out_proj" if path not in ("", "(root)") else "out_proj", out)
    if not m.batch_first:
        out = e.one("Transpose", [out], perm=[1, 0, 2])
    if not need_weights:
        return out, None
    return out, (reduce_mean(e, weights, [1], 0) if average else weights)


@layer("MultiheadAttention")
def _mha(e, step, args, kwargs):
    m = e.original(step)
    names = ("query", "key", "value", "key_padding_mask", "need_weights", "attn_mask", "average_attn_weights",
             "is_causal")
    a = {"need_weights": True, "average_attn_weights": True, **dict(zip(names, args)), **kwargs}
    return _attention(e, m, step.name, a["query"], a["key"], a["value"], a.get("attn_mask"),
                      a.get("key_padding_mask"), bool(a["need_weights"]), bool(a["average_attn_weights"]))


def _activation_of(e, layer: Any, x: str, dtype: Any) -> str:
    act = layer.activation
    name = act if isinstance(act, str) else getattr(act, "__name__", type(act).__name__)
    name = name.lower()
    if name == "relu":
        return e.one("Relu", [x])
    if name == "gelu":
        return _gelu_of(e, V(x, (), dtype), getattr(act, "approximate", "none"))
    raise e.fail(f"a transformer layer's activation {name!r} has no ONNX translation in nnspec yet")


def _encoder_layer(e, m: Any, path: str, x: V, mask: Any, padding: Any) -> str:
    def sub(name: str) -> str:
        return f"{path}.{name}" if path not in ("", "(root)") else name

    def norm(which: str, y: str) -> str:
        ln = getattr(m, which)
        inputs = [y, _param(e, ln, sub(which), "weight")] + \
            ([_param(e, ln, sub(which), "bias")] if ln.bias is not None else [])
        return e.one("LayerNormalization", inputs, axis=-len(ln.normalized_shape), epsilon=float(ln.eps))

    def attention(y: str) -> str:
        yv = V(y, x.shape, x.dtype)
        return _attention(e, m.self_attn, sub("self_attn"), yv, yv, yv, mask, padding)[0]

    def feed_forward(y: str) -> str:
        h = _activation_of(e, m, _linear_of(e, m.linear1, sub("linear1"), y), x.dtype)
        return _linear_of(e, m.linear2, sub("linear2"), h)

    y = x.name
    if m.norm_first:
        y = e.one("Add", [y, attention(norm("norm1", y))])
        return e.one("Add", [y, feed_forward(norm("norm2", y))])
    y = norm("norm1", e.one("Add", [y, attention(y)]))
    return norm("norm2", e.one("Add", [y, feed_forward(y)]))


@layer("TransformerEncoderLayer")
def _encoder_layer_step(e, step, args, kwargs):
    a = dict(zip(("src", "src_mask", "src_key_padding_mask", "is_causal"), args), **kwargs)
    return _encoder_layer(e, e.original(step), step.name, a["src"], a.get("src_mask"),
                          a.get("src_key_padding_mask"))


@layer("TransformerEncoder")
def _encoder(e, step, args, kwargs):
    m = e.original(step)
    a = dict(zip(("src", "mask", "src_key_padding_mask", "is_causal"), args), **kwargs)
    x = a["src"]
    for i, lay in enumerate(m.layers):
        x = V(_encoder_layer(e, lay, f"{step.name}.layers.{i}", x, a.get("mask"), a.get("src_key_padding_mask")),
              x.shape, x.dtype)
    if m.norm is not None:
        ln = m.norm
        path = f"{step.name}.norm"
        inputs = [x.name, _param(e, ln, path, "weight")] + ([_param(e, ln, path, "bias")] if ln.bias is not None
                                                           else [])
        return e.one("LayerNormalization", inputs, axis=-len(ln.normalized_shape), epsilon=float(ln.eps))
    return x.name


# ---------------------------------------------------------------------- recurrent layers
# torch's gate order (rows of weight_ih / weight_hh) -> ONNX's: LSTM i f g o -> i o f c; GRU r z n -> z r h
_GATES = {"LSTM": (0, 3, 1, 2), "GRU": (1, 0, 2), "RNN": (0,)}


def _gates(e, w: str, order: tuple, hidden: int) -> str:
    """A (G*H, ...) weight or (G*H,) bias with its gate blocks in ONNX's order: slices and a Concat (folded)."""
    if order == (0,):
        return w
    return e.one("Concat", [_rows(e, w, g * hidden, (g + 1) * hidden) for g in order], axis=0)


@layer("LSTM", "GRU", "RNN")
def _rnn(e, step, args, kwargs):
    m = e.original(step)
    kind = step.kind
    if getattr(m, "proj_size", 0):
        raise e.fail("an LSTM with proj_size has no ONNX translation in nnspec yet")
    x = args[0]
    hx = args[1] if len(args) > 1 else kwargs.get("hx")
    hidden, dirs, order = m.hidden_size, 2 if m.bidirectional else 1, _GATES[kind]
    unbatched = x.ndim == 2
    y = x.name
    if unbatched:
        y = unsqueeze(e, y, [1])
    elif m.batch_first:
        y = e.one("Transpose", [y], perm=[1, 0, 2])  # (L, N, H_in)
    h0 = c0 = None
    if hx is not None:
        h_given, c_given = (hx if kind == "LSTM" else (hx, None))
        h0 = unsqueeze(e, h_given.name, [1]) if unbatched else h_given.name
        c0 = (unsqueeze(e, c_given.name, [1]) if unbatched else c_given.name) if c_given is not None else None
    hs, cs = [], []
    attrs = {"hidden_size": hidden, "direction": "bidirectional" if dirs == 2 else "forward"}
    if kind == "GRU":
        attrs["linear_before_reset"] = 1
    if kind == "RNN":
        attrs["activations"] = ["Relu" if m.nonlinearity == "relu" else "Tanh"] * dirs
    for layer_i in range(m.num_layers):
        ws, rs, bs = [], [], []
        for d in range(dirs):
            suffix = f"_l{layer_i}" + ("_reverse" if d else "")

            def p(name: str) -> str:
                return e.initializer(getattr(m, name + suffix), f"{step.name}.{name}{suffix}")

            ws.append(unsqueeze(e, _gates(e, p("weight_ih"), order, hidden), [0]))
            rs.append(unsqueeze(e, _gates(e, p("weight_hh"), order, hidden), [0]))
            if m.bias:
                bs.append(unsqueeze(e, e.one("Concat", [_gates(e, p("bias_ih"), order, hidden),
                                                        _gates(e, p("bias_hh"), order, hidden)], axis=0), [0]))
        w = ws[0] if dirs == 1 else e.one("Concat", ws, axis=0)
        r = rs[0] if dirs == 1 else e.one("Concat", rs, axis=0)
        b = "" if not bs else bs[0] if dirs == 1 else e.one("Concat", bs, axis=0)
        inputs = [y, w, r, b, ""]
        if h0 is not None:
            start = e.constant([layer_i * dirs], numpy.int64)
            stop = e.constant([(layer_i + 1) * dirs], numpy.int64)
            axes0 = e.constant([0], numpy.int64, "axes")
            inputs.append(e.one("Slice", [h0, start, stop, axes0]))
            if kind == "LSTM":
                inputs.append(e.one("Slice", [c0, start, stop, axes0]) if c0 is not None else "")
        while inputs and inputs[-1] == "":
            inputs.pop()
        outs = e.node(kind, inputs, n_out=3 if kind == "LSTM" else 2, **attrs)
        seq = e.one("Transpose", [outs[0]], perm=[0, 2, 1, 3])  # (L, D, N, H) -> (L, N, D, H)
        y = e.one("Reshape", [seq, e.constant([0, 0, -1], numpy.int64, "shape")])
        hs.append(outs[1])
        if kind == "LSTM":
            cs.append(outs[2])
    h_n = hs[0] if len(hs) == 1 else e.one("Concat", hs, axis=0)
    c_n = (cs[0] if len(cs) == 1 else e.one("Concat", cs, axis=0)) if cs else None
    if unbatched:
        axes1 = e.constant([1], numpy.int64, "axes")
        y = e.one("Squeeze", [y, axes1])
        h_n = e.one("Squeeze", [h_n, axes1])
        c_n = e.one("Squeeze", [c_n, axes1]) if c_n is not None else None
    elif m.batch_first:
        y = e.one("Transpose", [y], perm=[1, 0, 2])
    return (y, (h_n, c_n)) if kind == "LSTM" else (y, h_n)


@op("setitem")
def _setitem(e, step, args, kwargs):
    """``x[index] = value`` for slices (step 1) of any size and a number or a tensor broadcast to the whole:
    x where the region's mask (a Range per indexed dim, compared with its bounds) is false, the value where
    it is true."""
    x, index, value = args[0], args[1], args[2]
    items = list(index) if isinstance(index, tuple) else [index]
    if Ellipsis in items:
        k = items.index(Ellipsis)
        items = items[:k] + [slice(None)] * (x.ndim - len(items) + 1) + items[k + 1:]
    if any(not isinstance(i, slice) or i.step not in (None, 1) for i in items):
        raise e.fail("writing into a tensor by an index other than slices of step 1 has no ONNX translation in "
                     "nnspec yet")
    if isinstance(value, V) and value.shape != x.shape:
        raise e.fail("writing a tensor into part of another has no ONNX translation in nnspec yet")
    mask = None
    for axis, item in enumerate(items):
        if item.start is None and item.stop is None:
            continue
        size = e.one("Squeeze", [e.size(x.shape[axis]), e.constant([0], numpy.int64, "axes")])
        pos = e.one("Range", [e.constant(numpy.int64(0)), size, e.constant(numpy.int64(1))])
        inside = None
        for bound, op_name in ((item.start, "GreaterOrEqual"), (item.stop, "Less")):
            if bound is None:
                continue
            if is_symbolic(bound):  # a size (never negative)
                b = e.one("Squeeze", [e.size(bound), e.constant([0], numpy.int64, "axes")])
            elif bound < 0:  # counted from the end
                b = e.one("Add", [size, e.constant(numpy.int64(bound))])
            else:
                b = e.constant(numpy.int64(bound))
            test = e.one(op_name, [pos, b])
            inside = test if inside is None else e.one("And", [inside, test])
        shaped = e.one("Reshape", [inside, e.constant([-1] + [1] * (x.ndim - axis - 1), numpy.int64, "shape")])
        mask = shaped if mask is None else e.one("And", [mask, shaped])
    new = value.name if isinstance(value, V) else e.constant(value, x.dtype, "value")
    out = new if mask is None else e.one("Where", [mask, new, x.name])
    e.values[step.mutates] = V(out, x.shape, x.dtype)
    return None

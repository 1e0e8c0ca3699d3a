"""torch as the oracle: build the torch twin of a validated nnspec spec.

nnspec's type and argument names are torch's, so a layer's twin is
``getattr(torch.nn, spec.type)(**spec.kwargs())``; containers and user-defined
modules are rebuilt with the same registries, in the same order.
"""

from __future__ import annotations

import math
import textwrap

import torch
from torch import nn as tnn
from torch.nn.parameter import is_lazy

from nnspec.spec import models as S

DTYPES = {"float16": torch.float16, "float32": torch.float32, "float64": torch.float64, "int64": torch.int64,
          "bool": torch.bool}


def build(spec, parent: tnn.Module | None = None) -> tnn.Module:
    if isinstance(spec, S.ShareSpec):
        return parent.get_submodule(spec.share)
    if isinstance(spec, S.LayerSpec):
        kwargs = layer_kwargs(spec)
        for name in spec.module_fields:  # a module argument (TransformerEncoder's encoder_layer): built first
            if kwargs[name] is not None:
                kwargs[name] = build(kwargs[name], parent)
        return subclassed(spec.subclass(), getattr(tnn, spec.type), kwargs)
    if isinstance(spec, S.SequentialSpec):
        seq = subclassed(spec.subclass(), tnn.Sequential)
        items = spec.modules.items() if isinstance(spec.modules, dict) else enumerate(spec.modules)
        for key, child in items:
            seq.add_module(str(key), build(child, seq))
        return seq
    if isinstance(spec, S.ModuleListSpec):
        ml = subclassed(spec.subclass(), tnn.ModuleList)
        children = spec.modules if spec.modules is not None else [spec.module] * spec.repeat
        for child in children:
            ml.append(build(child, ml))
        return ml
    if isinstance(spec, S.ModuleDictSpec):
        md = subclassed(spec.subclass(), tnn.ModuleDict)
        for key, child in spec.modules.items():
            md[key] = build(child, md)
        return md
    if isinstance(spec, S.ParameterListSpec):
        items = spec.parameters if spec.parameters is not None else [spec.parameter] * spec.repeat
        return tnn.ParameterList([parameter(p) for p in items])
    if isinstance(spec, S.ParameterDictSpec):
        return tnn.ParameterDict({k: parameter(p) for k, p in spec.parameters.items()})
    if isinstance(spec, S.UserModuleSpec):
        body = {"forward": torch_forward(spec.forward, spec.inputs)} if spec.forward is not None else {}
        m = type(spec.name, (tnn.Module,), body)()
        for k, p in spec.parameters.items():
            m.register_parameter(k, parameter(p))
        fixed = set()
        for k, b in spec.buffers.items():
            value = structured(b)
            if value is not None:  # a causal mask or position ids: their values are the model's, never randomized
                fixed.add(k)
            m.register_buffer(k, value if value is not None else torch.zeros(b.shape, dtype=DTYPES[b.dtype]),
                              persistent=b.persistent)
        m._nnspec_fixed_buffers = fixed
        for k, value in spec.attributes.items():
            setattr(m, k, tuple(value) if isinstance(value, list) else value)
        for k, child in spec.modules.items():
            if child is None:
                setattr(m, k, None)
            else:
                m.add_module(k, build(child, m))
        return m
    raise TypeError(f"no torch twin for {type(spec).__name__}")


def subclassed(sub: S.Subclass, base: type, kwargs: dict | None = None) -> tnn.Module:
    """``base(**kwargs)``, or where the file subclasses it, an instance of the class a torch user would have
    written: ``class <sub.name>(base)`` with the file's forward (run by Python) and its attributes."""
    if sub.forward is None and sub.name == base.__name__:
        return base(**(kwargs or {}))
    body = {"forward": torch_forward(sub.forward, sub.inputs)} if sub.forward is not None else {}
    m = type(sub.name, (base,), body)(**(kwargs or {}))
    for k, value in sub.attributes.items():
        setattr(m, k, tuple(value) if isinstance(value, list) else value)
    return m


def layer_kwargs(spec: S.LayerSpec) -> dict:
    """A layer's arguments for torch: fractional pooling's _random_samples and a loss weight, which a file writes
    as a list (or a number), are float32 tensors there; LinearCrossEntropyLoss's options are torch's
    LinearCrossEntropyOptions."""
    kwargs = spec.kwargs()
    for k, v in kwargs.items():
        if k == "_random_samples" and v is not None:  # fractional pooling's samples: torch takes a tensor
            kwargs[k] = torch.tensor(v, dtype=torch.float32)
        elif k in ("weight", "pos_weight") and v is not None:
            kwargs[k] = torch.tensor(v, dtype=torch.float32)
        elif k == "options" and v is not None:
            fields = v.model_dump()
            fields["acc_dtype"] = getattr(torch, fields["acc_dtype"]) if fields["acc_dtype"] else None
            kwargs[k] = tnn.LinearCrossEntropyOptions(**fields)
    return kwargs


def torch_forward(text: str, inputs: list[str] | None):
    """The forward function a torch user would have written: the model file's text, run by Python.

    Only the tests do this, with their own model files: nnspec itself never executes forward text.
    """
    code = textwrap.dedent(text)
    if not code.lstrip().startswith("def "):
        code = f"def forward(self, {', '.join(inputs or ['x'])}):\n" + textwrap.indent(code, "    ")
    namespace = {"F": tnn.functional, "torch": torch, "nn": tnn, "Tensor": torch.Tensor, "math": math}
    exec(code, namespace)  # noqa: S102 - the oracle side of a test
    return namespace["forward"]


def structured(b: S.BufferSpec):
    """A buffer's value where its init is a tril, triu, arange or relative position index (as torch code makes
    it), else None."""
    shape, dtype = tuple(b.shape), DTYPES[b.dtype]
    if isinstance(b.init, (S.TrilInit, S.TriuInit)):
        ones = torch.ones(shape[-2:])
        tri = torch.tril(ones, b.init.tril.diagonal) if isinstance(b.init, S.TrilInit) else \
            torch.triu(ones, b.init.triu.diagonal)
        return tri.expand(shape).to(dtype).clone()
    if isinstance(b.init, S.ArangeInit):
        a = b.init.arange
        return (a.start + a.step * torch.arange(shape[-1])).expand(shape).to(dtype).clone()
    if isinstance(b.init, S.RelativePositionIndexInit):  # torchvision's define_relative_position_index
        wh, ww = b.init.relative_position_index.window_size
        coords = torch.stack(torch.meshgrid(torch.arange(wh), torch.arange(ww), indexing="ij"))  # 2, Wh, Ww
        coords_flatten = torch.flatten(coords, 1)  # 2, Wh*Ww
        relative_coords = (coords_flatten[:, :, None] - coords_flatten[:, None, :]).permute(1, 2, 0).contiguous()
        relative_coords[:, :, 0] += wh - 1
        relative_coords[:, :, 1] += ww - 1
        relative_coords[:, :, 0] *= 2 * ww - 1
        return relative_coords.sum(-1).reshape(shape).to(dtype)
    return None


def parameter(p: S.ParameterSpec) -> tnn.Parameter:
    return tnn.Parameter(torch.randn(p.shape, dtype=DTYPES[p.dtype]), requires_grad=p.requires_grad)


def randomize_(m: tnn.Module, seed: int) -> None:
    """Non-trivial biases, affine parameters and running statistics, so eval-mode BatchNorm and PReLU
    are really tested; weight matrices keep torch's default init."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in m.parameters():
            if is_lazy(p) or p.ndim >= 2:  # weight matrices keep torch's init: deep models stay at realistic scales
                continue  # (a lazy module's parameters are made, and initialised by torch, in its first call)
            p.copy_(torch.randn(p.shape, generator=g, dtype=torch.float64) * 0.5)
        fixed = {f"{path}.{k}" if path else k for path, mod in m.named_modules()
                 for k in getattr(mod, "_nnspec_fixed_buffers", ())}
        for name, b in m.named_buffers():
            if name in fixed or name.endswith("_random_samples"):  # a mask or ids; fractional pooling's samples
                continue
            if b.is_floating_point():
                b.copy_(torch.rand(b.shape, generator=g, dtype=torch.float64) + 0.5)
            elif name.endswith("num_batches_tracked"):
                b.fill_(3)

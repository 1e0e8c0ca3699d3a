"""PyTorch's own conformance corpus (``torch.testing._internal.common_modules.module_db``) against nnspec.

For every sample of every module type in module_db (torch 2.13.0), in eval mode and, where torch says
train and eval differ, in train mode too:

1. the constructor call is written as a model file, as a user would write it: ``{Type: [args], kwarg: v}``
   (tuples as lists; a tensor argument as a nested list; a module argument, such as TransformerEncoder's
   ``encoder_layer``, as the nested model file of that module). A sample whose constructor takes something
   a file cannot hold (a callable, a dtype other than float32) is counted as not writable, with the reason;
2. nnspec builds it, and its repr, state_dict keys, order and shapes must equal torch's;
3. torch's state_dict is loaded into it, the same inputs go through both, and every output (tuples, dicts
   and None included) and the state after the call must be within 1e-4 (float32). Where torch draws random
   numbers (dropout in train mode), a second torch run with another seed shows it, and the outputs are then
   compared by shape, dtype and statistics.

Run it as a script for a per-type table (``python tests/module_db.py [--types A,B] [--show-failures]``);
tests/test_module_db.py runs it in the suite (CI) and prints the table, and ``--write-golden`` writes the
torch-free subset (tests/golden/module_db/subset.npz) that the default run checks without torch.
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import json
import math
import sys
import traceback
import warnings
import zlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

TESTS = Path(__file__).resolve().parent
sys.path.insert(0, str(TESTS))
GOLDEN_MODULE_DB = TESTS / "golden" / "module_db" / "subset.npz"  # its own folder: make_golden.py sweeps stale *.npz
TOL = dict(rtol=1e-4, atol=1e-4)
RESULTS: list = []  # the outcomes of a pytest session's live run, for the table conftest.py prints


class NotWritable(Exception):
    """The sample's constructor takes something a model file cannot hold."""


@dataclass
class Outcome:
    type: str
    index: int  # the sample's place among its type's samples
    training: bool
    desc: str
    status: str  # "pass", "fail", "not writable"
    detail: str = ""
    random: bool = False
    model: dict | None = None


@dataclass
class Sample:
    type: str
    index: int
    training: bool
    desc: str
    ctor_args: tuple
    ctor_kwargs: dict
    fwd_args: tuple
    fwd_kwargs: dict
    module_cls: Any = field(repr=False, default=None)


def samples(types: set[str] | None = None):
    """Every module_db sample, as (module type, index, training, ...), eval first."""
    import torch
    from torch.testing._internal.common_modules import module_db

    for info in module_db:
        name = info.module_cls.__name__
        if types and name not in types:
            continue
        for training in (False, True) if info.train_and_eval_differ else (False,):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                found = info.module_inputs_func(info, device="cpu", dtype=torch.float32, requires_grad=False,
                                                training=training)
            for i, s in enumerate(found):
                ci, fi = s.constructor_input, s.forward_input
                yield Sample(name, i, training, s.desc or "", tuple(ci.args), dict(ci.kwargs), tuple(fi.args),
                             dict(fi.kwargs), info.module_cls)


# --------------------------------------------------------------------------- torch call -> model file


def _value(v: Any) -> Any:
    """A constructor argument as a model file holds it."""
    import torch

    if isinstance(v, torch.nn.Module):
        return module_file(v)
    if isinstance(v, torch.Tensor):
        return v.detach().cpu().tolist()
    if isinstance(v, torch.dtype):
        if v is torch.float32:
            return None  # the default: left out by the caller
        raise NotWritable(f"dtype={v}")
    if isinstance(v, torch.Size):
        return list(v)
    if isinstance(v, (tuple, list)):
        return [_value(x) for x in v]
    if isinstance(v, dict):
        return {k: _value(x) for k, x in v.items()}
    if dataclasses.is_dataclass(v) and not isinstance(v, type):  # LinearCrossEntropyOptions: its fields, by name
        return {f.name: str(x).removeprefix("torch.") if isinstance(x, torch.dtype) else _value(x)
                for f in dataclasses.fields(v) for x in [getattr(v, f.name)]}
    if v is torch.nn.functional.relu or v is torch.nn.functional.gelu:
        return v.__name__  # a transformer layer's activation: torch takes F.relu and "relu" alike
    if callable(v):
        raise NotWritable(f"a callable ({getattr(v, '__name__', type(v).__name__)})")
    if isinstance(v, float) and not math.isfinite(v):
        raise NotWritable(f"a non-finite float {v}")
    return v


def call_file(type_name: str, args: tuple, kwargs: dict) -> dict:
    """``{Type: [args...], kwarg: value}``: the torch call ``Type(*args, **kwargs)`` as a model file."""
    import torch

    kwargs = dict(kwargs)
    if kwargs.get("device") in ("cpu", None) or str(kwargs.get("device")) == "cpu":
        kwargs.pop("device", None)  # factory kwargs at their defaults say nothing
    if kwargs.get("dtype", torch.float32) is torch.float32:
        kwargs.pop("dtype", None)
    out: dict = {type_name: [_value(a) for a in args]} if args else {"type": type_name}
    for k, v in kwargs.items():
        out[k] = _value(v)
    return out


_MODULE_ARGS = {  # a torch module given as a constructor argument -> its own constructor call, read back
    "TransformerEncoderLayer": lambda m: ((), dict(
        d_model=m.self_attn.embed_dim, nhead=m.self_attn.num_heads, dim_feedforward=m.linear1.out_features,
        dropout=m.dropout.p, activation=_activation_name(m), layer_norm_eps=m.norm1.eps,
        batch_first=m.self_attn.batch_first, norm_first=m.norm_first, bias=m.linear1.bias is not None)),
    "TransformerDecoderLayer": lambda m: ((), dict(
        d_model=m.self_attn.embed_dim, nhead=m.self_attn.num_heads, dim_feedforward=m.linear1.out_features,
        dropout=m.dropout.p, activation=_activation_name(m), layer_norm_eps=m.norm1.eps,
        batch_first=m.self_attn.batch_first, norm_first=m.norm_first, bias=m.linear1.bias is not None)),
    "LayerNorm": lambda m: ((list(m.normalized_shape),), dict(eps=m.eps, elementwise_affine=m.elementwise_affine,
                                                             bias=m.bias is not None)),
}


def _activation_name(layer) -> str:
    import torch

    act = layer.activation
    if act is torch.nn.functional.relu or isinstance(act, torch.nn.ReLU):
        return "relu"
    if act is torch.nn.functional.gelu or isinstance(act, torch.nn.GELU):
        return "gelu"
    raise NotWritable(f"activation {act!r}")


def module_file(m) -> dict:
    name = type(m).__name__
    if name not in _MODULE_ARGS:
        raise NotWritable(f"a {name} module as an argument")
    args, kwargs = _MODULE_ARGS[name](m)
    return call_file(name, args, kwargs)


# --------------------------------------------------------------------------- running one sample


def _to_numpy(v: Any) -> Any:
    import torch

    if isinstance(v, torch.Tensor):
        return v.detach().cpu().clone().numpy()
    if isinstance(v, tuple) and hasattr(v, "_fields"):
        return tuple(_to_numpy(x) for x in v)
    if isinstance(v, (tuple, list)):
        return type(v)(_to_numpy(x) for x in v)
    if isinstance(v, dict):
        return {k: _to_numpy(x) for k, x in v.items()}
    return v


def _seeded(seed: int):
    import torch

    torch.manual_seed(seed)
    return torch


def _compare(got: Any, want: Any, where: str, random: bool) -> None:
    if isinstance(want, np.ndarray):
        got = np.asarray(got) if hasattr(got, "shape") else got
        assert isinstance(got, np.ndarray), f"{where}: expected an array, got {type(got).__name__}"
        assert got.shape == want.shape, f"{where}: shape {got.shape}, torch {want.shape}"
        assert got.dtype == want.dtype, f"{where}: dtype {got.dtype}, torch {want.dtype}"
        if random:
            _same_statistics(got, want, where)
        elif want.dtype.kind in "fc":
            np.testing.assert_allclose(got, want, err_msg=where, equal_nan=True, **TOL)
        else:
            np.testing.assert_array_equal(got, want, err_msg=where)
    elif isinstance(want, (tuple, list)):
        assert isinstance(got, (tuple, list)) and len(got) == len(want), \
            f"{where}: {type(got).__name__} of {len(got) if isinstance(got, (tuple, list)) else '?'}, " \
            f"torch {type(want).__name__} of {len(want)}"
        for i, (g, w) in enumerate(zip(got, want)):
            _compare(g, w, f"{where}[{i}]", random)
    elif isinstance(want, dict):
        assert isinstance(got, dict) and list(got) == list(want), f"{where}: keys {list(got)}, torch {list(want)}"
        for k in want:
            _compare(got[k], want[k], f"{where}[{k!r}]", random)
    else:
        assert got == want or (got is None and want is None), f"{where}: {got!r}, torch {want!r}"


def _same_statistics(got: np.ndarray, want: np.ndarray, where: str) -> None:
    """Random outputs (dropout in train mode): finite where torch's are, and mean and spread alike."""
    if want.dtype.kind != "f" or want.size < 2:
        return
    assert np.isfinite(got).all() == np.isfinite(want).all(), f"{where}: non-finite values where torch has none"
    g, w = got.astype(np.float64), want.astype(np.float64)
    scale = max(w.std(), g.std(), 1e-6)
    assert abs(g.mean() - w.mean()) <= 6 * scale / math.sqrt(min(g.size, 10_000)) + 0.25 * scale, \
        f"{where}: mean {g.mean():.4g}, torch {w.mean():.4g} (random output)"
    assert 0.5 * w.std() - 1e-6 <= g.std() <= 2 * w.std() + 1e-6, \
        f"{where}: spread {g.std():.4g}, torch {w.std():.4g} (random output)"


def _torch_forward(sample: Sample, module, seed: int):
    torch = _seeded(seed)
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return module(*sample.fwd_args, **sample.fwd_kwargs)


@dataclass
class TorchRun:
    module: Any  # torch's module after the call
    repr_before: str
    state: dict  # its state_dict before the call (a lazy module's: once its first call has made its parameters)
    output: Any
    random: bool
    lazy: bool


def torch_run(sample: Sample) -> TorchRun:
    """The sample through torch, from a seed of its own; a second run from another seed tells whether the
    output is random (dropout in train mode)."""
    import torch

    seed = zlib.crc32(f"{sample.type}/{sample.index}/{sample.training}".encode())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _seeded(seed)
        m = sample.module_cls(*sample.ctor_args, **sample.ctor_kwargs)
    m.to(torch.float32)  # as torch's test_modules does (m.to(dtype)): FractionalMaxPool's float64 _random_samples
    m.train(sample.training)
    before = repr(m)
    lazy = any(isinstance(p, torch.nn.parameter.UninitializedParameter) for p in m.parameters())
    if lazy:  # its parameters are made in its first call; a convolution has no state that the call changes
        output = _to_numpy(_torch_forward(sample, m, seed))
        state = {k: _to_numpy(v) for k, v in m.state_dict().items()}
        return TorchRun(m, before, state, output, False, True)
    state = {k: _to_numpy(v) for k, v in m.state_dict().items()}
    twin = copy.deepcopy(m)
    output = _to_numpy(_torch_forward(sample, m, seed))
    again = _to_numpy(_torch_forward(sample, twin, seed + 1))
    try:
        _compare(again, output, "output", random=False)
        random = False
    except AssertionError:
        random = True
    return TorchRun(m, before, state, output, random, False)


def run(sample: Sample) -> Outcome:
    """One sample through torch and nnspec (see the module's docstring)."""
    import nnspec

    out = Outcome(sample.type, sample.index, sample.training, sample.desc, "fail")
    try:
        model = call_file(sample.type, sample.ctor_args, sample.ctor_kwargs)
    except NotWritable as e:
        out.status, out.detail = "not writable", str(e)
        return out
    out.model = model
    try:
        theirs = torch_run(sample)
        out.random = theirs.random
        try:
            ours = nnspec.from_dict(copy.deepcopy(model), seed=0)
        except nnspec.NNSpecError as e:
            out.detail = f"build: {e}"
            return out
        ours.train(sample.training)
        assert repr(ours) == theirs.repr_before, f"repr:\n{ours!r}\n--- torch:\n{theirs.repr_before}"
        if not theirs.lazy:
            _same_state_layout(ours, theirs.module)
        else:  # torch's first call made the parameters (in_channels from the input): nnspec's does, then torch's load
            ours(*_to_numpy(sample.fwd_args), **_to_numpy(sample.fwd_kwargs))  # (loaded first, torch keeps 0 there)
        ours.load_state_dict(theirs.state)
        ours.train(sample.training)
        got = ours(*_to_numpy(sample.fwd_args), **_to_numpy(sample.fwd_kwargs))
        if theirs.lazy:
            assert repr(ours) == repr(theirs.module), \
                f"repr after the first call:\n{ours!r}\n--- torch:\n{theirs.module!r}"
            _same_state_layout(ours, theirs.module)
        _compare(_to_numpy_nnspec(got), theirs.output, "output", theirs.random)
        if not theirs.random:
            after = {k: _to_numpy(v) for k, v in theirs.module.state_dict().items()}
            for k, v in ours.state_dict().items():
                _compare(_to_numpy_nnspec(v), after[k], f"state {k} after the call", False)
        out.status = "pass"
    except AssertionError as e:
        out.detail = str(e)
    except nnspec.NNSpecError as e:
        out.detail = f"{type(e).__name__}: {e}"
    except Exception as e:  # noqa: BLE001 - a crash inside nnspec is a failure to report, not to stop on
        out.detail = f"crash: {type(e).__name__}: {e}\n{traceback.format_exc(limit=-3)}"
    return out


def _to_numpy_nnspec(v: Any) -> Any:
    from nnspec.runtime.backend import to_numpy

    if hasattr(v, "shape") and hasattr(v, "dtype"):
        return to_numpy(v)
    if isinstance(v, tuple) and hasattr(v, "_fields"):
        return tuple(_to_numpy_nnspec(x) for x in v)
    if isinstance(v, (tuple, list)):
        return type(v)(_to_numpy_nnspec(x) for x in v)
    if isinstance(v, dict):
        return {k: _to_numpy_nnspec(x) for k, x in v.items()}
    return v


def _same_state_layout(ours, theirs) -> None:
    mine = [(k, tuple(v.shape), str(v.dtype)) for k, v in ours.state_dict().items()]
    torch_ = [(k, tuple(v.shape), str(v.dtype).removeprefix("torch.")) for k, v in theirs.state_dict().items()]
    assert mine == torch_, f"state_dict layout:\n{mine}\n--- torch:\n{torch_}"


# --------------------------------------------------------------------------- the table


def table(outcomes: list[Outcome]) -> str:
    """Per type: samples, not writable, passed, failed (and how many were compared as random)."""
    by_type: dict[str, Counter] = {}
    for o in outcomes:
        c = by_type.setdefault(o.type, Counter())
        c["samples"] += 1
        c[o.status] += 1
        c["random"] += o.random and o.status == "pass"
    rows = [("type", "samples", "not writable", "passed", "failed", "random")]
    for name in sorted(by_type):
        c = by_type[name]
        rows.append((name, c["samples"], c["not writable"], c["pass"], c["fail"], c["random"]))
    total = Counter()
    for c in by_type.values():
        total.update(c)
    rows.append((f"{len(by_type)} types", total["samples"], total["not writable"], total["pass"], total["fail"],
                 total["random"]))
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(str(v).ljust(w) if i == 0 else str(v).rjust(w) for i, (v, w) in enumerate(zip(r, widths)))
             for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    lines.insert(len(lines) - 1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def run_all(types: set[str] | None = None) -> list[Outcome]:
    return [run(s) for s in samples(types)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--types", help="comma-separated module types (default: all of module_db)")
    parser.add_argument("--show-failures", action="store_true", help="print each failure's reason")
    parser.add_argument("--write-golden", action="store_true", help=f"write {GOLDEN_MODULE_DB.relative_to(TESTS.parent)}")
    a = parser.parse_args()
    types = set(a.types.split(",")) if a.types else None
    outcomes = run_all(types)
    if a.show_failures:
        for o in outcomes:
            if o.status == "fail":
                print(f"--- {o.type}[{o.index}] {'train' if o.training else 'eval'} {o.desc}: {o.detail}\n")
    print(table(outcomes))
    if a.write_golden:
        write_golden(outcomes)


# --------------------------------------------------------------------------- the torch-free subset

GOLDEN_PER_TYPE = 2  # samples per type in the golden subset (the smallest that pass, eval and train)
GOLDEN_MAX_ELEMENTS = 20_000


def write_golden(outcomes: list[Outcome]) -> None:
    """For each type, up to GOLDEN_PER_TYPE passing, non-random samples, small ones first: the model file,
    torch's state_dict, the inputs and torch's outputs, flattened into one npz (no pickles)."""
    import torch  # noqa: F401 - the samples are rebuilt with torch

    chosen: dict[str, list[Sample]] = {}
    passing = {(o.type, o.index, o.training) for o in outcomes if o.status == "pass" and not o.random}
    for s in samples({o.type for o in outcomes}):
        if (s.type, s.index, s.training) not in passing:
            continue
        arrays = [a for a in _leaves(_to_numpy((s.fwd_args, s.fwd_kwargs))) if isinstance(a, np.ndarray)]
        if sum(a.size for a in arrays) > GOLDEN_MAX_ELEMENTS:
            continue
        chosen.setdefault(s.type, []).append(s)
    entries: dict[str, np.ndarray] = {}
    index = []
    for name in sorted(chosen):
        for k, s in enumerate(chosen[name][:GOLDEN_PER_TYPE]):
            key = f"{name}/{k}"
            theirs = torch_run(s)
            args, kwargs = _to_numpy(s.fwd_args), _to_numpy(s.fwd_kwargs)
            record = {"model": call_file(s.type, s.ctor_args, s.ctor_kwargs), "training": s.training,
                      "desc": s.desc, "repr": repr(theirs.module), "args": _encode(args, entries, f"{key}/args"),
                      "kwargs": _encode(kwargs, entries, f"{key}/kwargs"),
                      "output": _encode(theirs.output, entries, f"{key}/output"),
                      "state": {k2: _encode(v, entries, f"{key}/state/{k2}") for k2, v in theirs.state.items()}}
            index.append((key, record))
    entries["index"] = np.array(json.dumps(dict(index)))
    GOLDEN_MODULE_DB.parent.mkdir(exist_ok=True)
    np.savez_compressed(GOLDEN_MODULE_DB, **entries)
    print(f"wrote {len(index)} samples of {len(chosen)} types to {GOLDEN_MODULE_DB}")


def _leaves(v: Any):
    if isinstance(v, (tuple, list)):
        for x in v:
            yield from _leaves(x)
    elif isinstance(v, dict):
        for x in v.values():
            yield from _leaves(x)
    else:
        yield v


def _encode(v: Any, entries: dict, key: str) -> Any:
    """A JSON-able description of ``v``, its arrays stored in ``entries`` under keys from ``key``."""
    if isinstance(v, np.ndarray):
        entries[key] = v
        return {"array": key}
    if isinstance(v, tuple):
        return {"tuple": [_encode(x, entries, f"{key}/{i}") for i, x in enumerate(v)]}
    if isinstance(v, list):
        return {"list": [_encode(x, entries, f"{key}/{i}") for i, x in enumerate(v)]}
    if isinstance(v, dict):
        return {"dict": {k: _encode(x, entries, f"{key}/{k}") for k, x in v.items()}}
    return {"value": v}


def decode(v: dict, entries: Any) -> Any:
    if "array" in v:
        return entries[v["array"]]
    if "tuple" in v:
        return tuple(decode(x, entries) for x in v["tuple"])
    if "list" in v:
        return [decode(x, entries) for x in v["list"]]
    if "dict" in v:
        return {k: decode(x, entries) for k, x in v["dict"].items()}
    return v["value"]


def load_golden() -> tuple[dict, Any]:
    z = np.load(GOLDEN_MODULE_DB, allow_pickle=False)
    return json.loads(str(z["index"])), z


def check_golden(record: dict, entries: Any) -> None:
    """One golden sample through nnspec: repr, state layout, outputs within 1e-4."""
    import nnspec
    from nnspec.nn.lazy import first_call_pending

    ours = nnspec.from_dict(copy.deepcopy(record["model"]), seed=0)
    ours.train(record["training"])
    state = {k: decode(v, entries) for k, v in record["state"].items()}
    if first_call_pending(ours):  # a lazy module: its first call makes its parameters, as torch's did
        ours(*decode(record["args"], entries), **decode(record["kwargs"], entries))
    ours.load_state_dict(state)
    ours.train(record["training"])
    got = ours(*decode(record["args"], entries), **decode(record["kwargs"], entries))
    assert repr(ours) == record["repr"], f"repr:\n{ours!r}\n--- torch:\n{record['repr']}"
    assert list(ours.state_dict()) == list(state)
    _compare(_to_numpy_nnspec(got), decode(record["output"], entries), "output", random=False)


if __name__ == "__main__":
    main()

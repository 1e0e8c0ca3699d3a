"""Passes over a recorded Program. Each one can be switched off on its own (``nnspec.compile(...,
passes={"fold_batchnorm": False})``); tests check every one against the plan without it and against torch.

- ``drop_identity``: Identity, and Dropout in eval mode, return their input: their steps go.
- ``fold_batchnorm``: in eval mode, a BatchNorm right after a convolution (or a Linear with a 2-d
  output) is folded into that layer's weight and bias.
- ``fuse_residual``: ``out += identity`` right after a convolution is done in its kernel.
- ``fuse_activation``: a ReLU or ReLU6 (layer or function), or F.hardtanh, right after a convolution or Linear is applied in
  place to that kernel's output, with its bias.
- ``fold_constants``: an op whose inputs are all parameters, buffers or constants (and that nothing
  writes into) is computed once, when the plan is made.
- ``lower_kernels``: a layer whose forward reaches one kernel (convolution, linear, pooling,
  activations) calls it directly, its arguments normalised and checked when the plan was made.
- ``channels_last``: batched 2-d convolutions write channels-last (NHWC) outputs, which the next
  convolution multiplies as they lie, through the elementwise ops, pools and BatchNorms that keep a
  layout. Each runs one of ``conv_nhwc``'s methods (im2col or depthwise here: results as exact as the
  NCHW kernels'). A layout is never seen from outside: a ``to_nchw`` copy goes before the first step
  that needs NCHW (a view, the forward's result), unless something writes into that memory from there
  on (a copy would not see it): that convolution then stays NCHW.
- ``winograd``: channels-last 3x3 stride-1 convolutions use Winograd's F(4x4, 3x3) or F(2x2, 3x3),
  faster and about 10x less exact in float32 (relative errors about 1e-5); switch it off for results
  as im2col's.
- ``fuse_pool``: a channels-last convolution whose output only a MaxPool2d reads (a ResNet's stem) runs
  with the pool one image at a time: the batch's convolution output is never made whole.
- ``fuse_separable``: a channels-last depthwise convolution with the 1x1 convolutions before and after it
  (an inverted residual's expand and project, either may be missing) runs as one kernel on blocks of
  rows (``conv_nhwc.separable``): the expanded channels never leave the cache; the results are those of
  the layers one after the other, to rounding.
- ``reuse_memory``: each slot is dropped after its last use, so the memory live at once is the
  largest live set, and convolution and linear kernels write into arrays the plan hands out again.

"Right after" means the only use of the layer's output, which is not the forward's result and is
not written into in place.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterator
from typing import Any

from ..runtime import functional as F
from ..runtime.backend import get_array_module
from ..runtime.kernels import conv_nhwc
from .kernels import (Activation, EvalBatchNorm, Fused, FusedConv, FusedConvPool, FusedLinear, FusedSeparable, Pool,
                      folded_params)
from .lower import lower
from .record import Program, Ref, Step, bound_arguments, refs_in, resolve, substitute

PASSES: dict[str, Callable[[Program], None]] = {}


def register(fn: Callable[[Program], None]) -> Callable[[Program], None]:
    PASSES[fn.__name__] = fn
    return fn


def _users(program: Program) -> dict[int, list[Step | None]]:
    """slot -> the steps that read it (None for the forward's result)."""
    users: dict[int, list[Step | None]] = {}
    for step in program.steps:
        for s in step.refs():
            users.setdefault(s, []).append(step)
    for s in refs_in(program.output):
        users.setdefault(s, []).append(None)
    return users


class _Uses:
    """What the fusing passes ask of a program: who reads a slot, and which slots are viewed (a fusion
    must not change what a view sees)."""

    def __init__(self, program: Program):
        self.program = program
        self.users = _users(program)
        self.viewed = {program.root(s) for s in program.views}

    def sole_reader(self, step: Step) -> Step | None:
        """The step that is the only use of ``step``'s single output, where that output stays inside the
        plan and nothing views it. That step may write into it (ReLU(inplace=True), +=); any other step
        that writes into the same array reads it through that step's result, so it runs after it."""
        out = _single_output(step)
        if out is None or out in self.viewed:
            return None
        readers = self.users.get(out, [])
        return readers[0] if len(readers) == 1 and readers[0] is not None else None

    def follower(self, step: Step) -> Step | None:
        """The sole reader of ``step``'s output, where that output is the only array it takes."""
        nxt = self.sole_reader(step)
        return nxt if nxt is not None and _only_input(nxt) == _single_output(step) else None


def _mutated_roots(program: Program) -> set[int]:
    return set(_writers(program))


def _writers(program: Program) -> dict[int, list[Step]]:
    """root slot -> the steps that write into it in place."""
    writers: dict[int, list[Step]] = {}
    for s in program.steps:
        if s.mutates is not None:
            writers.setdefault(program.root(s.mutates), []).append(s)
    return writers


def _bound(step: Step) -> dict[str, Any]:
    """An op step's arguments by name (its function's signature)."""
    return bound_arguments(step.fn, step.args, step.kwargs)


def _only_input(step: Step) -> int | None:
    """The slot of the one array a step takes (its first argument, nothing else given as an array)."""
    if step.args and isinstance(step.args[0], Ref) and len(list(step.refs())) == 1:
        return step.args[0].slot
    return None


def _single_output(step: Step) -> int | None:
    return step.out.slot if isinstance(step.out, Ref) else None


_DROPOUT_OPS = {"F.dropout", "F.dropout2d", "torch.nn.functional.dropout", "torch.nn.functional.dropout2d"}


@register
def drop_identity(program: Program) -> None:
    kept: list[Step] = []
    mapping: dict[int, int] = {}
    for step in program.steps:
        step.args, step.kwargs = substitute(step.args, mapping), substitute(step.kwargs, mapping)
        src, dst = _only_input(step), _single_output(step)
        drop = src is not None and dst is not None and step.mutates is None and (
            (step.module is not None and step.kind == "Identity")
            or (step.module is not None and "Dropout" in step.kind and not step.module.training)
            or (step.module is None and step.kind in _DROPOUT_OPS and _bound(step).get("training", True) is False)
        )
        if drop:
            mapping[dst] = src
            continue
        kept.append(step)
    program.output = substitute(program.output, mapping)
    program.steps = kept


def _merge(program: Program, step: Step, nxt: Step, fn: Any, kind: str) -> None:
    """Replace ``step`` by ``fn`` on its input, doing ``nxt``'s work too; ``nxt`` goes."""
    step.fn, step.kind = fn, kind  # its arguments stay: the input, and a residual where fuse_residual added one
    step.out = nxt.out
    step.calls = step.calls + nxt.calls
    step.mult_adds += nxt.mult_adds
    step.pure = step.pure and nxt.pure
    nxt.dropped = True  # removed when the pass ends (_compact): removing it now would re-scan the list per merge


def _lowered(step: Step) -> Fused | None:
    """A conv or linear layer's step as a fused kernel (the one it already is, where it is one)."""
    if isinstance(step.fn, Fused):
        return step.fn
    if step.module is None or step.kwargs or len(step.args) != 1:
        return None
    if step.kind in ("Conv1d", "Conv2d", "Conv3d"):
        return FusedConv(step.module)
    if step.kind == "Linear":
        return FusedLinear(step.module)
    return None


def _with_followers(program: Program) -> Iterator[tuple[Step, Step]]:
    """Each step (still in the program) whose output's only use is the next step to look at: the pairs a
    fusing pass may merge (merging removes the follower, which is then skipped)."""
    uses = _Uses(program)
    for step in list(program.steps):
        nxt = uses.follower(step) if not step.dropped else None
        if nxt is not None:
            yield step, nxt
    _compact(program)


def _compact(program: Program) -> None:
    """Remove the steps a pass merged into others."""
    program.steps = [s for s in program.steps if not s.dropped]


@register
def fold_batchnorm(program: Program) -> None:
    for step, nxt in _with_followers(program):
        kernel = _lowered(step) if step.kind in ("Conv1d", "Conv2d", "Conv3d", "Linear") else None
        if kernel is not None and kernel.folded is None and nxt.module is not None \
                and nxt.kind.startswith("BatchNorm") and not nxt.module.training \
                and nxt.module.running_mean is not None and _foldable_shape(program, step, kernel):
            weight, bias = kernel.params()
            kernel.folded = folded_params(weight, bias, nxt.module)
            _merge(program, step, nxt, kernel, f"{step.kind}+{nxt.kind}")


def _foldable_shape(program: Program, step: Step, kernel: Fused) -> bool:
    """BatchNorm normalises dim 1, which must be the layer's output channels: a Linear's output must be
    2-d, a convolution's batched (an unbatched Conv1d's (C, L) output is BatchNorm1d's (N, C)). float16
    weights are not folded: rounding W * scale to float16 would move results the layer computes in float32."""
    shape, dtype = program.shapes[_single_output(step)]
    channels_first = len(shape) == 2 if isinstance(kernel, FusedLinear) else len(shape) == kernel.nd + 2
    return channels_first and str(dtype) in ("float32", "float64")


@register
def fuse_residual(program: Program) -> None:
    """A convolution whose output's only use is ``out += identity`` (or ``out + identity``, ``identity +
    out``), the identity an array of the same shape and dtype: the add runs in the convolution's kernel, on
    each part of its output as soon as it is written (a residual block's second convolution)."""
    uses = _Uses(program)
    steps = program.steps
    at_of = {id(step): i for i, step in enumerate(steps)}  # positions stay put: a merged step's place is None
    writes = _Writes(program)
    for at, step in enumerate(list(steps)):
        if steps[at] is not step or step.kind not in ("Conv1d", "Conv2d", "Conv3d") \
                and not (isinstance(step.fn, FusedConv) and step.kind.startswith("Conv")):
            continue
        nxt = uses.sole_reader(step)
        kernel = _lowered(step)
        out = _single_output(step)
        if nxt is None or not isinstance(kernel, FusedConv) or kernel.residual or kernel.act is not None \
                or nxt.module is not None or nxt.kind not in ("iadd", "add") or nxt.kwargs or len(nxt.args) != 2:
            continue
        first, other = nxt.args
        if nxt.kind == "add" and other == Ref(out) and first != Ref(out):  # identity + conv: the same sum
            first, other = other, first
        if first != Ref(out) or not isinstance(other, Ref) or program.root(other.slot) == program.root(out) \
                or program.shapes[other.slot] != program.shapes[out]:
            continue
        # the identity may be made after the convolution (a downsample): the merged step runs where the
        # add ran, so nothing in between may write into the convolution's input
        to = at_of[id(nxt)]
        if steps[to] is not nxt or writes.between(program.root(step.args[0].slot), at, to):  # (nxt merged already)
            continue
        kernel.residual = True
        step.fn, step.kind = kernel, f"{step.kind}+{nxt.kind}"
        step.args, step.kwargs = (step.args[0], other), {}
        step.out = nxt.out
        step.calls = step.calls + nxt.calls
        step.mult_adds += nxt.mult_adds
        writes.moved(nxt, step, at, to)
        steps[to], steps[at] = step, None
        at_of[id(step)] = to
    program.steps = [s for s in steps if s is not None]


class _Writes:
    """Where in a list of steps each root slot is written into in place, kept as the list is rewritten
    (a step moved, one dropped), so that asking whether anything between two places writes into a root
    costs a binary search, not a scan of the steps between."""

    def __init__(self, program: Program):
        self.program = program
        self.at: dict[int, list[int]] = {}  # root -> the sorted positions of the steps writing into it
        for i, s in enumerate(program.steps):
            if s.mutates is not None:
                self.at.setdefault(program.root(s.mutates), []).append(i)

    def between(self, root: int, start: int, end: int) -> bool:
        """Whether a step strictly between positions ``start`` and ``end`` writes into ``root``."""
        places = self.at.get(root, [])
        i = bisect.bisect_right(places, start)
        return i < len(places) and places[i] < end

    def moved(self, old: Step, new: Step, start: int, end: int) -> None:
        """``new`` (at ``start``) now stands at ``end`` in ``old``'s place; ``start`` is empty."""
        for step, place in ((old, end), (new, start)):
            if step.mutates is not None:
                places = self.at[self.program.root(step.mutates)]
                del places[bisect.bisect_left(places, place)]
        if new.mutates is not None:
            bisect.insort(self.at.setdefault(self.program.root(new.mutates), []), end)


_ACTIVATION_OPS = {
    "F.relu": "relu", "torch.relu": "relu", "torch.nn.functional.relu": "relu", ".relu()": "relu",
    "F.relu6": "relu6", "torch.nn.functional.relu6": "relu6",
    "F.hardtanh": "hardtanh", "torch.nn.functional.hardtanh": "hardtanh",
    "torch.tanh": "tanh", "F.tanh": "tanh", "torch.nn.functional.tanh": "tanh", ".tanh()": "tanh",
}


def _activation(step: Step) -> Activation | None:
    if step.module is not None:
        if step.kind == "ReLU":
            return Activation("relu")
        if step.kind == "ReLU6":
            return Activation("relu6", 0.0, 6.0)
        if step.kind == "Tanh":
            return Activation("tanh", None, None)
        return None
    name = _ACTIVATION_OPS.get(step.kind)
    if name == "tanh":
        return Activation("tanh", None, None)
    if name == "relu":
        return Activation("relu")
    if name == "relu6":
        return Activation("relu6", 0.0, 6.0)
    if name == "hardtanh":
        args = _bound(step)
        low, high = args.get("min_val", -1.0), args.get("max_val", 1.0)
        if isinstance(low, (int, float)) and isinstance(high, (int, float)):
            return Activation("hardtanh", low, high)
    return None


@register
def fuse_activation(program: Program) -> None:
    for step, nxt in _with_followers(program):
        kernel = _lowered(step)
        act = _activation(nxt)
        if kernel is not None and kernel.act is None and act is not None:
            kernel.act = act
            _merge(program, step, nxt, kernel, f"{step.kind}+{nxt.kind}")


@register
def fold_constants(program: Program) -> None:
    values: dict[int, Any] = {s: read() for s, read in program.state.items()}
    values.update(program.constants)
    mutated = _mutated_roots(program)
    leaving = {program.root(s) for s in refs_in(program.output)}
    kept: list[Step] = []
    for step in program.steps:
        reads = list(step.refs())
        outs = list(step.outputs())
        if (step.pure and step.mutates is None and outs and all(s in values for s in reads)
                and not any(program.root(s) in mutated for s in reads + outs)
                and not any(program.root(s) in leaving for s in outs)):
            result = step.fn(*resolve(step.args, values), **resolve(step.kwargs, values))
            _assign(step.out, result, values)
            for s in outs:
                program.constants[s] = _read_only(values[s])
            continue
        kept.append(step)
    program.steps = kept


def _read_only(value: Any) -> Any:
    """A folded constant is never written into (the pass made sure of that from what it recorded); a
    NumPy array is marked so, so that a write through an alias the recording did not see fails loudly
    instead of changing the constant for every later run."""
    flags = getattr(value, "flags", None)
    if flags is not None and hasattr(flags, "writeable"):
        try:
            flags.writeable = False
        except ValueError:
            pass
    return value


@register
def lower_kernels(program: Program) -> None:
    """Layers whose forward only reaches one kernel call that kernel directly (see ``lower``)."""
    for step in program.steps:
        if step.module is not None and not isinstance(step.fn, Fused) and step.fn == step.module.forward:
            src = _only_input(step)
            kernel = lower(step, len(program.shapes[src][0]), program.shapes[src][1]) if src is not None else None
            if kernel is not None:
                step.fn, step.args = kernel, (step.args[0],)


# a network whose 2-d convolutions do fewer mult-adds in all stays NCHW (unless a method is forced): the
# per-call work of channels-last (padding into the new layout, the strided views) costs more than it saves
# there. Measured on 2 cores: LeNet-5 at batch 8 (2.8 M mult-adds). A small layer inside a larger network
# runs channels-last with the rest: NCHW kernels on a channels-last input are slower still (MobileNetV2's
# 7x7 depthwise layers: 4.7 ms against 0.5)
CHANNELS_LAST_MIN_MULT_ADDS = 1 << 24

# steps that read a channels-last array as the NCHW array it is, without a view of it, and may give a
# channels-last result (elementwise ops, pools, BatchNorm, concatenation): a layout passes through them
_LAYOUT_KEEPING_LAYERS = {
    "ReLU", "ReLU6", "Tanh", "Sigmoid", "SiLU", "Hardswish", "Hardsigmoid", "GELU", "LeakyReLU", "ELU", "Mish",
    "Hardtanh", "BatchNorm2d", "MaxPool2d", "AvgPool2d", "Identity", "Dropout", "Dropout2d",
}
_LAYOUT_KEEPING_OPS = {
    "add", "iadd", "mul", "imul", "sub", "isub", "truediv", "itruediv",
    "F.relu", "torch.relu", ".relu()", "torch.nn.functional.relu", "F.relu6", "F.hardtanh", "F.silu", "F.gelu",
    "F.hardswish", "F.hardsigmoid", "F.sigmoid", "torch.sigmoid", ".sigmoid()", "F.max_pool2d", "F.avg_pool2d",
    "torch.cat", "torch.concat",
}
# steps that read one and give a C-contiguous result
_LAYOUT_ENDING = {"AdaptiveAvgPool2d", "F.adaptive_avg_pool2d", "torch.nn.functional.adaptive_avg_pool2d"}


def _keeps_layout(step: Step) -> bool:
    """Whether ``step`` passes a channels-last input on as it is (else it reads a copy to NCHW)."""
    return step.kind in _LAYOUT_KEEPING_OPS or (step.module is not None and step.kind in _LAYOUT_KEEPING_LAYERS)


def _reads_any_layout(step: Step) -> bool:
    """Whether ``step`` reads a channels-last input as it lies: a convolution, a layout-keeping step, or one
    whose result is C-contiguous whatever its input's layout."""
    return isinstance(step.fn, FusedConv) or step.kind in _LAYOUT_ENDING or _keeps_layout(step)


def _conv2d_kernel(program: Program, step: Step) -> FusedConv | None:
    """The fused kernel of a batched floating-point Conv2d's step (made now where it has none yet)."""
    if not step.kind.startswith("Conv2d"):
        return None
    kernel = _lowered(step)
    out = _single_output(step)
    if not isinstance(kernel, FusedConv) or out is None or kernel.nd != 2:
        return None
    shape, dtype = program.shapes[out]
    if len(shape) != 4 or str(dtype) not in ("float16", "float32", "float64"):
        return None
    if step.fn is not kernel:
        step.fn, step.args, step.kwargs = kernel, (step.args[0],), {}
    return kernel


def _method(kernel: FusedConv, program: Program, exact: bool) -> str | None:
    w = kernel.weight.data
    args = (tuple(w.shape), kernel.stride, kernel.dilation, kernel.groups)
    forced = program.conv_method
    if forced is not None:
        if forced == "nchw":
            return None
        if conv_nhwc.applicable(forced, *args):
            return forced
    return conv_nhwc.choose(*args, kernel.size, exact=exact)


@register
def channels_last(program: Program) -> None:
    convs: dict[int, tuple[Step, FusedConv, str]] = {}  # id(step) -> (step, its kernel, its method)
    for step in program.steps:
        kernel = _conv2d_kernel(program, step)
        if kernel is not None:
            kernel.size = tuple(program.shapes[_single_output(step)][0][2:])
            method = _method(kernel, program, exact=True)
            if method is not None:
                convs[id(step)] = (step, kernel, method)
    work = sum(step.mult_adds for step, _, _ in convs.values())
    if work < CHANNELS_LAST_MIN_MULT_ADDS and program.conv_method is None:
        return  # a small network: the NCHW kernels
    place = {id(step): i for i, step in enumerate(program.steps)}
    last_write: dict[int, int] = {}  # root -> the place of the last step writing into it in place
    for root, writers in _writers(program).items():
        last_write[root] = max(place[id(w)] for w in writers)
    while True:
        taint, needs = _channels_last_slots(program, convs)
        # a slot read by a step that needs NCHW is copied to NCHW just before it, where nothing writes
        # into that memory afterwards (the copy would not see it); else its convolutions stay NCHW
        bad: set[int] = set()
        for slot, at in needs.items():
            if last_write.get(program.root(slot), -1) >= at:  # (the step needing NCHW may be the writer)
                bad |= taint[slot]
        if not bad:
            break
        for i in bad:
            convs.pop(i, None)
    for _, kernel, method in convs.values():
        kernel.method = method
    _convert_to_nchw(program, needs)


def _channels_last_slots(program: Program, convs: dict) -> tuple[dict[int, set[int]], dict[int, int]]:
    """(slot -> the convolutions whose channels-last output it may be, slot -> the place of the first step
    that needs it NCHW, len(steps) for the forward's result)."""
    taint: dict[int, set[int]] = {}
    needs: dict[int, int] = {}
    for at, step in enumerate(program.steps):
        reads = step.refs()
        came = set().union(*(taint.get(s, ()) for s in reads))
        if id(step) in convs:
            for s in step.outputs():
                taint[s] = {id(step)}
        elif not came or isinstance(step.fn, FusedConv) or step.kind in _LAYOUT_ENDING:
            continue
        elif _keeps_layout(step):
            for s in step.outputs():
                taint[s] = came
        else:
            for s in reads:
                if s in taint:
                    needs.setdefault(s, at)
    for s in refs_in(program.output):
        if s in taint:
            needs.setdefault(s, len(program.steps))
    return taint, needs


def to_nchw(x: Any) -> Any:
    """A C-contiguous (NCHW) copy of a channels-last array (the array itself where it is one already)."""
    return get_array_module(x).ascontiguousarray(x)


def _convert_to_nchw(program: Program, needs: dict[int, int]) -> None:
    """A ``to_nchw`` step before the first step that needs each slot NCHW; it and every later reader but
    the convolutions and layout-keeping steps (and the forward's result) read the copy."""
    copies: dict[int, int] = {}
    before: dict[int, list[Step]] = {}
    for slot, at in needs.items():
        new = program.slots
        program.slots += 1
        program.shapes.append(program.shapes[slot])
        copies[slot] = new
        first = program.steps[at] if at < len(program.steps) else None
        step = Step(to_nchw, (Ref(slot),), {}, Ref(new), name=first.name if first else "(output)", kind="to_nchw",
                    position=first.position if first else None)
        before.setdefault(at, []).append(step)
    steps: list[Step] = []
    for at, step in enumerate(program.steps):
        steps.extend(before.get(at, ()))
        if not _reads_any_layout(step):
            mapping = {s: copies[s] for s in step.refs() if s in copies and needs[s] <= at}
            if mapping:
                step.args, step.kwargs = substitute(step.args, mapping), substitute(step.kwargs, mapping)
        steps.append(step)
    steps.extend(before.get(len(program.steps), ()))
    program.output = substitute(program.output, copies)
    program.steps = steps


@register
def winograd(program: Program) -> None:
    """Channels-last convolutions whose measured best method is Winograd's take it (see conv_nhwc.choose)."""
    for step in program.steps:
        kernel = step.fn
        if isinstance(kernel, FusedConv) and kernel.method is not None:
            kernel.method = _method(kernel, program, exact=False)


@register
def fuse_pool(program: Program) -> None:
    """A channels-last convolution whose output only a MaxPool2d layer reads (a ResNet's stem) runs with it,
    one image at a time (``FusedConvPool``): the batch's convolution output is never made whole."""
    for step, nxt in _with_followers(program):
        kernel = step.fn
        m = nxt.module
        if isinstance(kernel, FusedConv) and kernel.method is not None and not kernel.residual \
                and nxt.kind == "MaxPool2d" and m is not None and not m.return_indices:
            args = F.pool_args(m.kernel_size, m.stride, m.padding, m.dilation, 2) + (m.ceil_mode,)
            _merge(program, step, nxt, FusedConvPool(kernel, args), f"{step.kind}+{nxt.kind}")


def _pointwise(step: Step | None) -> FusedConv | None:
    """The kernel of a channels-last 1x1 stride-1 unpadded convolution of one group (im2col reads it as a
    matmul), where ``step`` is one."""
    kernel = None if step is None else step.fn
    if isinstance(kernel, FusedConv) and kernel.method == "im2col" and kernel.shape[2:] == (1, 1) \
            and kernel.stride == (1, 1) and kernel.groups == 1 and not any(p for pair in kernel.pads for p in pair):
        return kernel
    return None


@register
def fuse_separable(program: Program) -> None:
    """A channels-last depthwise convolution (zero padding, float32 or float64) with the 1x1 convolution
    whose output only it reads, and the 1x1 convolution that alone reads its own output (an inverted
    residual's expand, depthwise and project; at least one of the two), run as one kernel on blocks of
    rows, the expanded channels never leaving the cache (``conv_nhwc.separable``). The merged step runs
    where the last of them ran, so nothing in between may write into the first one's input."""
    uses = _Uses(program)
    steps = program.steps
    at_of = {id(step): i for i, step in enumerate(steps)}
    producer = {s: step for step in steps for s in step.outputs()}
    writes = _Writes(program)
    for step in list(steps):
        dw = step.fn
        out = _single_output(step)
        if not isinstance(dw, FusedConv) or dw.method != "depthwise" or dw.residual or dw.mode != "constant" \
                or out is None or str(program.shapes[out][1]) not in ("float32", "float64"):
            continue
        before = producer.get(step.args[0].slot)
        expand = _pointwise(before)
        if expand is not None and (expand.residual or uses.follower(before) is not step):
            expand = None
        after = uses.sole_reader(step)
        project = _pointwise(after)
        if project is not None and after.args[0] != Ref(out):
            project = None
        if expand is not None and steps[at_of[id(before)]] is not before:
            expand = None  # a 1x1 convolution between two depthwise ones is the first's project, not both
        last = after if project is not None else step
        end = at_of[id(last)]
        if expand is not None and writes.between(program.root(before.args[0].slot), at_of[id(before)], end):
            expand = None  # the merged step would read the expand's input after it was written into
        if expand is None and (project is None or writes.between(program.root(step.args[0].slot),
                                                                 at_of[id(step)], end)):
            continue
        members = [before] * (expand is not None) + [step] + [after] * (project is not None)
        fused = Step(FusedSeparable(expand, dw, project), (members[0].args[0],) + tuple(last.args[1:]), {}, last.out,
                     name=_common_name([s.name for s in members]), kind=" > ".join(s.kind for s in members),
                     module=step.module, call=step.call, calls=[c for s in members for c in s.calls],
                     mult_adds=sum(s.mult_adds for s in members), position=step.position)
        for s in members:
            steps[at_of[id(s)]] = None
        steps[end] = fused
        at_of[id(fused)] = end
    program.steps = [s for s in steps if s is not None]


def _common_name(names: list[str]) -> str:
    """The module path the names share ("features.2.conv" of "features.2.conv.0.0" and "features.2.conv.2")."""
    parts = [n.split(".") for n in names]
    common = []
    for items in zip(*parts):
        if len(set(items)) > 1:
            break
        common.append(items[0])
    return ".".join(common) or names[0]


@register
def reuse_memory(program: Program) -> None:
    """Marks slots to drop after their last use (``program.frees``) and gives the plan's convolution and
    linear kernels a pool to write into, except where their output leaves the plan."""
    leaving = {program.root(s) for s in refs_in(program.output)}
    pool = Pool(program.xp)
    for step in program.steps:
        kernel = _lowered(step)
        if kernel is not None and step.fn is not kernel:
            step.fn, step.args, step.kwargs = kernel, (step.args[0],), {}
        if isinstance(step.fn, (Fused, EvalBatchNorm)):
            step.fn.pool = pool
            step.fn.fresh = any(program.root(s) in leaving for s in step.outputs())
    program.pool = pool
    program.frees = liveness(program)


def liveness(program: Program) -> list[list[int]]:
    """For each step, the slots read or made there for the last time (never the forward's result)."""
    last: dict[int, int] = {}
    for i, step in enumerate(program.steps):
        for s in list(step.refs()) + list(step.outputs()):
            last[s] = i
    keep = set(refs_in(program.output))
    frees: list[list[int]] = [[] for _ in program.steps]
    for s, i in last.items():
        if s not in keep:
            frees[i].append(s)
    return frees


def _assign(out: Any, result: Any, env: Any) -> None:
    if isinstance(out, Ref):
        env[out.slot] = result
    elif isinstance(out, dict):
        for k, v in out.items():
            _assign(v, result[k], env)
    elif isinstance(out, (tuple, list)):
        for o, r in zip(out, result):
            _assign(o, r, env)


"""Every stage grows no worse than n log n with the size of a model, asserted as operation counts (no timing:
bench/scale.py times the same stages at 1k, 10k and 100k modules).

Each stage runs under a profile hook that counts the Python and C function calls made, on a model of N and
of 10 N modules; n log n allows 10 x log(10 N) / log(N) as many (13x from 1k to 10k), quadratic work gives
100x. The calls a stage makes are deterministic, so the check is too; C functions that scan a whole list
(``in``, ``list.index``, ``list.remove``) count once however long the list, so the passes are also run on
step lists that refuse those scans."""

from __future__ import annotations

import math
import sys
from collections.abc import Callable

import numpy as np
import pytest

import nnspec
from nnspec import builder, static
from nnspec.plan.passes import PASSES
from nnspec.plan.plan import Plan, timed_calls
from nnspec.spec import parse
from nnspec.summary import summary

SMALL = 150
SLACK = 1.5  # over n log n: the counts of a stage are not exactly proportional at these sizes


def _sequential(modules: int) -> str:
    return "type: Sequential\nmodules:\n" + "  - {Linear: [4, 4]}\n  - ReLU\n" * ((modules - 1) // 2)


def _residual(modules: int) -> str:
    """Blocks of a convolution and BatchNorm whose output is added to the block's input in a custom forward
    (fold_batchnorm and fuse_residual find work in each), and an in-place op chain (x += 1)."""
    block = ("  - name: Block\n    inputs: [x]\n    modules:\n      conv: {Conv2d: [2, 2, 1], bias: false}\n"
             "      bn: {BatchNorm2d: [2]}\n    forward: |\n      y = self.bn(self.conv(x))\n      y += x\n"
             "      y += 1\n      return y.relu()\n")
    return "type: Sequential\nmodules:\n" + block * ((modules - 1) // 3)


def _forward(modules: int) -> str:
    return ("name: Deep\ninputs: [x]\nmodules:\n  layers:\n    ModuleList:\n"
            + "      - {Linear: [4, 4]}\n" * (modules - 2)
            + "forward: |\n  for layer in self.layers:\n      x = torch.relu(layer(x))\n  return x\n")


MODELS = {"sequential": (_sequential, (2, 4)), "residual": (_residual, (1, 2, 3, 3)), "forward": (_forward, (2, 4))}


def _calls(fn: Callable[[], object]) -> tuple[int, object]:
    """How many Python and C function calls ``fn`` makes (with everything it calls), and its result."""
    count = 0

    def hook(frame, event, arg):
        nonlocal count
        if event == "call" or event == "c_call":
            count += 1

    sys.setprofile(hook)
    try:
        result = fn()
    finally:
        sys.setprofile(None)
    return count, result


def _stages(text: str, shape: tuple) -> dict[str, int]:
    counts: dict[str, int] = {}

    def count(stage: str, fn: Callable[[], object]) -> object:
        n, result = _calls(fn)
        counts[stage] = n
        return result

    source = count("parse and validate", lambda: builder.Source(parse(text, "m.yaml"), "m.yaml", text))
    meta = count("build", lambda: source.build(meta=True))
    found = count("infer", lambda: static.infer(meta, [shape]))
    net = source.build(seed=0).eval()
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    compiled = count("plan", lambda: Plan(net).compiled([x]))
    _, times = count("run", lambda: compiled.run([x], profile=True))
    count("trace", lambda: timed_calls(compiled, times))
    count("summary", lambda: (summary(net), static.layer_rows(found)))
    return counts


@pytest.mark.parametrize("kind", MODELS)
def test_every_stage_grows_no_worse_than_n_log_n(kind):
    make, shape = MODELS[kind]
    small, large = _stages(make(SMALL), shape), _stages(make(10 * SMALL), shape)
    bound = 10 * math.log(10 * SMALL) / math.log(SMALL) * SLACK
    ratios = {stage: large[stage] / small[stage] for stage in small}
    assert all(r < bound for r in ratios.values()), \
        f"stages growing faster than n log n (bound {bound:.1f}x): " + \
        ", ".join(f"{s} {r:.1f}x" for s, r in ratios.items() if r >= bound)


class _NoScans(list):
    """A step list whose whole-list scans fail: a pass that looks a step up in the list per step is quadratic."""

    def _refuse(self, *args):
        raise AssertionError("a pass scanned the whole step list for one step")

    __contains__ = index = remove = count = _refuse


def test_the_passes_never_scan_the_step_list_per_step():
    model = nnspec.loads(_residual(40), filename="m.yaml").eval()
    plan = Plan(model, passes={name: False for name in PASSES})
    program = plan.compiled([np.ones((1, 2, 3, 3), np.float32)]).program
    merged = 0
    for name, run in PASSES.items():
        before = len(program.steps)
        program.steps = _NoScans(program.steps)
        run(program)
        merged += before - len(program.steps)
    assert merged >= 2 * 13  # each block's BatchNorm folded and its residual add fused: the passes did their work


def test_a_long_chain_of_in_place_ops_finds_its_root_in_one_step():
    """``y += 1`` repeated: each result is the same array; its slot's root is stored one step away, not as a
    chain to follow back through every earlier slot."""
    body = "y = x * 1\n" + "y += 1\n" * 500 + "return y"
    text = "name: M\ninputs: [x]\nforward: |\n" + "".join(f"  {line}\n" for line in body.splitlines())
    program = Plan(nnspec.loads(text)).compiled([np.ones((2, 3), np.float32)]).program
    assert all(program.roots[program.roots[s]] == program.roots[s] for s in program.roots)


def _deep(depth: int, leaves: int = 300) -> str:
    """``leaves`` Linear layers inside ``depth`` nested Sequentials (written inline: YAML nests 64 deep at most)."""
    inner = "{type: Sequential, modules: [" + ", ".join(["{Linear: [4, 4]}"] * leaves) + "]}"
    for _ in range(depth):
        inner = "{type: Sequential, modules: [" + inner + "]}"
    return inner + "\n"


def test_no_stage_grows_with_depth_times_size():
    """Walking every record's (or module's) subtree costs size x depth: 25 levels over 5 must not cost 5x."""
    shallow, deep = _stages(_deep(5), (2, 4)), _stages(_deep(25), (2, 4))
    ratios = {stage: deep[stage] / shallow[stage] for stage in shallow}
    assert all(r < 1.5 for r in ratios.values()), ratios


def test_summary_rows_count_each_parameter_where_torchinfo_does_with_sharing():
    """Tied weights and a module called in two places: each row's parameters are those of its module that no
    module called inside it holds (the definition, computed the slow way here)."""
    from nnspec.nn import Linear, Module, ReLU, Sequential

    class Tied(Module):
        def __init__(self):
            super().__init__()
            self.a, self.b = Linear(4, 4), Linear(4, 4)
            self.b.weight = self.a.weight
            self.seq = Sequential(self.a, ReLU(), Sequential(self.b, self.a))
            self.unused = Linear(4, 4)
            self.unused.bias = self.a.bias

        def forward(self, x):
            return self.seq(x) + self.b(x)

    found = static.infer(Tied(), [(2, 4)])
    inside = static._Inside(found.calls, found.modules)
    ends = static.call_ends(found.calls)
    for i, module in enumerate(found.modules):
        if module is None:
            continue
        inner = {id(p) for j in range(i + 1, ends[i]) if found.modules[j] is not None
                 for p in found.modules[j].parameters()}
        assert inside.own_parameters(i) == [p for p in module.parameters() if id(p) not in inner]
    rows = static.layer_rows(found)
    assert sum(r.params or 0 for r in rows) == sum(p.numel() for p in Tied().parameters())


def test_copies_past_the_module_cap_are_refused_before_any_is_built():
    """10,000 lists of 10,000 layers: refused at the outer repeat, having built nothing inside it."""
    from nnspec.nn import ReLU

    built = 0
    original = ReLU.__init__

    def counting(self, *args, **kwargs):
        nonlocal built
        built += 1
        original(self, *args, **kwargs)

    text = "type: ModuleList\nrepeat: 10000\nmodule:\n  type: ModuleList\n  repeat: 10000\n  module: ReLU\n"
    ReLU.__init__ = counting
    try:
        with pytest.raises(nnspec.NNSpecError) as e:
            nnspec.loads(text, filename="m.yaml", meta=True)
    finally:
        ReLU.__init__ = original
    assert str(e.value) == ("m.yaml:2:9: repeat: the model has more than 50,000 modules "
                            "(10,000 copies of 10,001 modules), nnspec's cap, so that validate and run stay under 30 s")
    assert built == 0

"""Running a model for the CLI: through its plan (or its own forward), timed from the plan's kernels."""

from __future__ import annotations

import contextlib
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ..errors import NNSpecError
from ..nn import Module
from ..progress import Progress, quiet
from ..runtime.backend import get_array_module, synchronize
from ..trace import Call, ShapeTrace
from .plan import Plan, timed_calls
from .record import PlanError, Step


@dataclass
class Timed:
    """What ``measure`` found: the last run's output, the shape trace with each record's time (medians
    over the runs), each run's wall time, and per step of the plan its median time."""

    output: Any
    calls: list[Call]
    runs_ms: list[float]
    steps: list[Step] = field(default_factory=list)
    step_ms: list[float] = field(default_factory=list)
    planned: bool = True
    reason: str = ""  # why the model's own forward ran instead of a plan

    @property
    def median_ms(self) -> float:
        return statistics.median(self.runs_ms)


def measure(model: Module, inputs: Sequence[Any], named: dict | None = None, *, passes: dict | None = None,
            repeat: int = 1, trace: bool = True, plan: bool = True, names: Sequence[str | None] | None = None,
            progress: Progress | None = None) -> Timed:
    """Run ``model`` on ``inputs`` ``repeat`` times. With ``plan``, through ``nnspec.compile`` (falling back
    to the forward, with the reason, where the forward cannot be planned); timing each kernel only
    where ``trace`` is set, so that without it the runs carry no per-kernel overhead. ``progress`` hears
    ``("planning", 0, None)``, then ``("running", runs done, repeat)`` before the first run and after each."""
    progress = progress or quiet
    if plan:
        progress("planning", 0, None)
        p = Plan(model, passes, named, names)
        try:
            compiled = p.compiled(inputs)
        except PlanError as e:
            timed = _eager(model, inputs, named, names, repeat, trace, progress)
            timed.reason = str(e)
            return timed
        runs, per_step, out = [], [], None
        for i in range(repeat):
            progress("running", i, repeat)
            start = time.perf_counter()
            out, times = compiled.run(inputs, profile=trace)
            synchronize(compiled.program.xp)
            runs.append((time.perf_counter() - start) * 1e3)
            if times is not None:
                per_step.append(times)
        progress("running", repeat, repeat)
        step_ms = [statistics.median(t) for t in zip(*per_step)] if trace else []
        calls = timed_calls(compiled, step_ms) if trace else []
        return Timed(out, calls, runs, compiled.program.steps, step_ms)
    timed = _eager(model, inputs, named, names, repeat, trace, progress)
    timed.reason = "--no-plan"
    return timed


def _eager(model: Module, inputs: Sequence[Any], named: dict | None, names: Sequence[str | None] | None,
           repeat: int, trace: bool = True, progress: Progress = quiet) -> Timed:
    """The model's own forward, ``repeat`` times: under the shape trace's hooks where ``trace`` is set."""
    from ..inputs import bind_call

    args, kwargs = bind_call(model, list(inputs), named, names)
    runs, traces, out = [], [], None
    for i in range(repeat):
        progress("running", i, repeat)
        with ShapeTrace(model, kwargs) if trace else contextlib.nullcontext() as recording:
            start = time.perf_counter()
            try:
                out = model(*args, **kwargs)
            except NNSpecError as e:
                raise (recording.place(e) if recording is not None else e) from None
            synchronize(get_array_module(*[a for a in [*args, *kwargs.values()] if hasattr(a, "shape")]))
            runs.append((time.perf_counter() - start) * 1e3)
        if recording is not None:
            traces.append(recording.calls)
    progress("running", repeat, repeat)
    calls = traces[-1] if traces else []
    for i, c in enumerate(calls):
        c.ms = statistics.median(t[i].ms for t in traces)
    return Timed(out, calls, runs, planned=False)


def matmul_peak(xp: Any, n: int = 1024) -> float:
    """The GFLOP/s of an n x n float32 matmul on this array module: the best of five."""
    a = xp.ones((n, n), dtype=xp.float32)
    b = xp.ones((n, n), dtype=xp.float32)
    out = xp.empty((n, n), dtype=xp.float32)
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        xp.matmul(a, b, out=out)
        synchronize(xp)
        best = min(best, time.perf_counter() - start)
    return 2 * n**3 / best / 1e9


def profile_rows(timed: Timed, peak: float) -> list[dict]:
    """One row per kernel of the plan, slowest first: time, share, mult-adds, GFLOP/s, % of the matmul peak;
    a channels-last convolution's kind names its method ("Conv2d+BatchNorm2d+ReLU (winograd4)")."""
    total = sum(timed.step_ms) or 1.0
    rows = []
    for step, ms in zip(timed.steps, timed.step_ms):
        gflops = 2 * step.mult_adds / (ms * 1e6) if ms > 0 and step.mult_adds else 0.0
        method = getattr(step.fn, "method", None)  # a convolution's, where it runs channels-last
        kind = f"{step.kind} ({method})" if method else step.kind
        rows.append({"kernel": step.name, "kind": kind, "ms": ms, "share": ms / total,
                     "mult_adds": step.mult_adds, "gflops": gflops, "of_peak": gflops / peak if peak else 0.0})
    rows.sort(key=lambda r: -r["ms"])
    return rows

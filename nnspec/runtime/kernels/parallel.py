"""Splitting a kernel's work over the batch across threads, for the NumPy kernels that use one core.

NumPy's matmul runs on BLAS's threads, but its elementwise loops (a running max over strided views,
a depthwise multiply-add) run on one core; they release the GIL, so halves of the batch on two
threads take about half the time (measured on 2 cores: ResNet's stem max pool at batch 8, 13.7 ms on
one thread, 7.0 on two). Other array modules (CuPy) parallelise themselves: there the work runs once.

The thread count is ``NNSPEC_NUM_THREADS``, else ``OMP_NUM_THREADS``, else the cores this process may
use. Work under ``MIN_ELEMENTS`` output elements is not split (a thread hand-off costs tens of us).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

MIN_ELEMENTS = 1 << 18

_executor: ThreadPoolExecutor | None = None


def _forget_executor() -> None:
    """In a forked child the executor's threads are gone: start a new one on first use."""
    global _executor
    _executor = None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_executor)


def threads() -> int:
    for var in ("NNSPEC_NUM_THREADS", "OMP_NUM_THREADS"):
        value = os.environ.get(var, "")
        if value.isdigit() and int(value) > 0:
            return int(value)
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def over_batch(xp: Any, n: int, elements: int, part: Callable[[slice], None]) -> None:
    """Call ``part(batch_slice)`` for slices covering ``range(n)``: in parallel where NumPy computes, the
    batch has more than one item and the work has at least ``MIN_ELEMENTS`` elements; else once."""
    global _executor
    k = min(threads(), n) if getattr(xp, "__name__", "") == "numpy" and elements >= MIN_ELEMENTS else 1
    if k <= 1:
        part(slice(0, n))
        return
    if _executor is None:
        _executor = ThreadPoolExecutor(max_workers=max(threads() - 1, 1), thread_name_prefix="nnspec")
    bounds = [n * i // k for i in range(k + 1)]
    futures = [_executor.submit(part, slice(bounds[i], bounds[i + 1])) for i in range(1, k)]
    part(slice(bounds[0], bounds[1]))
    for f in futures:
        f.result()

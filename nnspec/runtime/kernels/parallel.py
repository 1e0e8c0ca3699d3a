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
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ..backend import get_array_module

MIN_ELEMENTS = 1 << 18

_PREFIX = "nnspec-worker"

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
    if k <= 1 or threading.current_thread().name.startswith(_PREFIX):  # (a part splitting again runs whole)
        part(slice(0, n))
        return
    if _executor is None:
        _executor = ThreadPoolExecutor(max_workers=max(threads() - 1, 1), thread_name_prefix=_PREFIX)
    bounds = [n * i // k for i in range(k + 1)]
    futures = [_executor.submit(part, slice(bounds[i], bounds[i + 1])) for i in range(1, k)]
    part(slice(bounds[0], bounds[1]))
    for f in futures:
        f.result()


class _Blas:
    """The BLAS libraries NumPy loaded, through threadpoolctl's controller (found once; setting a
    library's thread count then costs about 1 us, where ``threadpool_limits`` scans for the libraries at
    every call, about 0.24 ms). Nested and concurrent users share one count of how many are inside."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.inside = 0
        self.saved: list[tuple[Any, int]] = []
        self._libs: list[Any] | None = None

    def libs(self) -> list[Any]:
        if self._libs is None:
            from threadpoolctl import ThreadpoolController

            self._libs = list(ThreadpoolController().select(user_api="blas").lib_controllers)
        return self._libs

    @property
    def active(self) -> bool:
        """Whether some thread is inside: BLAS is single-threaded, and kernels split their work themselves."""
        return self.inside > 0

    def __enter__(self) -> None:
        with self.lock:
            if self.inside == 0:
                self.saved = [(lib, lib.get_num_threads()) for lib in self.libs()]
                for lib, _ in self.saved:
                    lib.set_num_threads(1)
            self.inside += 1

    def __exit__(self, *exc: Any) -> None:
        with self.lock:
            self.inside -= 1
            if self.inside == 0:
                for lib, count in self.saved:
                    lib.set_num_threads(count)


single_threaded_blas = _Blas()


def split_matmul(a: Any, b: Any, out: Any) -> Any:
    """``matmul(a, b, out=out)`` for 2-d ``a`` (M, K), ``b`` (K, N) and a C-contiguous ``out`` (M, N): while
    BLAS is single-threaded (``single_threaded_blas``) and NumPy computes, its rows (or, for a few rows,
    its columns) split over threads; else one call."""
    xp = get_array_module(a)
    k = threads() if single_threaded_blas.active and getattr(xp, "__name__", "") == "numpy" else 1
    m, n = out.shape
    if k <= 1 or m * n * a.shape[1] < MIN_ELEMENTS * 16:
        return xp.matmul(a, b, out=out)
    if m >= 4 * k:
        over_batch(xp, m, MIN_ELEMENTS, lambda rows: xp.matmul(a[rows], b, out=out[rows]))
    else:  # a column block of out is a strided view BLAS writes as it is (its leading dimension n)
        over_batch(xp, n, MIN_ELEMENTS, lambda cols: xp.matmul(a, b[:, cols], out=out[:, cols]))
    return out


def over_batch_blas(xp: Any, n: int, part: Callable[[slice], None]) -> None:
    """``part(batch_slice)`` over slices of ``range(n)`` on nnspec's threads, each calling BLAS
    single-threaded (matmuls on a part of the batch each, no BLAS threads waiting on each other); once,
    on BLAS's own threads, where the array module is not NumPy or the batch is one item."""
    k = min(threads(), n) if getattr(xp, "__name__", "") == "numpy" else 1
    if k <= 1:
        part(slice(0, n))
        return
    with single_threaded_blas:
        over_batch(xp, n, MIN_ELEMENTS, part)

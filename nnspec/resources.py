"""Bounds on what a model may allocate: a model file is untrusted, and a typo in a shape is common."""

from __future__ import annotations

import math
import os
from pathlib import Path
from contextlib import AbstractContextManager
from contextvars import ContextVar

import numpy

from .errors import CompileError
from .scoped import scoped

MAX_MODULES = 50_000  # ResNet-50 has about 150, a 100-layer transformer about 2,000
# Why the cap is where it is, said wherever a model passes it. On a 2-core machine a 50,000-module model takes
# about 10 s to validate and 20 s to run (a custom forward over every layer is the slowest kind); 100,000 took
# 27 s to run as a Sequential and 42 s with a custom forward, over the 30 s that issue 13 allows.
MODULES_WHY = "nnspec's cap, so that validate and run stay under 30 s"


CGROUP_ROOT = Path("/sys/fs/cgroup")  # where cgroup v2's files, or v1's memory/ folder, are mounted
PROC_SELF = Path("/proc/self")  # this process's cgroup and status files
_UNLIMITED = 1 << 62  # cgroup v1 writes "no limit" as a number near 2**63


def _read_int(path: Path) -> int | None:
    """The number in a one-line file (a cgroup's limit or usage); None if it is missing, "max" or unlimited."""
    try:
        text = path.read_text().strip()
    except (OSError, UnicodeDecodeError):
        return None
    if not text.isdigit():  # "max": no limit
        return None
    value = int(text)
    return value if value < _UNLIMITED else None


def _cgroup_dirs(root: Path, proc: Path) -> list[tuple[Path, str, str]]:
    """(folder, limit file, usage file) of this process's memory cgroup and each of its parents, v2 and v1."""
    try:
        lines = (proc / "cgroup").read_text().splitlines()
    except (OSError, UnicodeDecodeError):
        lines = []
    found = []
    for line in lines:
        _, controllers, rel = (line.split(":", 2) + ["", ""])[:3]
        if controllers == "":  # v2: "0::/path"
            base, files = root, ("memory.max", "memory.current")
        elif "memory" in controllers.split(","):  # v1: "4:memory:/path"
            base, files = root / "memory", ("memory.limit_in_bytes", "memory.usage_in_bytes")
        else:
            continue
        parts = [p for p in rel.strip().split("/") if p and p not in (".", "..")]
        for depth in range(len(parts), -1, -1):  # a parent's limit binds its children too
            found.append((base.joinpath(*parts[:depth]), *files))
    return found


def _reclaimable(folder: Path) -> int:
    """Bytes of the cgroup's usage that are file cache the kernel drops under pressure (memory.stat's
    inactive_file, v2, or total_inactive_file, v1): a cgroup that has read many files is not full."""
    try:
        for line in (folder / "memory.stat").read_text().splitlines():
            name, _, value = line.partition(" ")
            if name in ("inactive_file", "total_inactive_file") and value.strip().isdigit():
                return int(value)
    except (OSError, UnicodeDecodeError):
        pass
    return 0


def cgroup_free(root: Path | None = None, proc: Path | None = None) -> int | None:
    """Bytes this process's cgroup (v2 memory.max - memory.current, v1 memory.limit_in_bytes - usage, the usage
    less its inactive file cache) still allows, the least over the cgroup and its parents; None where no limit
    is set or none can be read."""
    root, proc = root or CGROUP_ROOT, proc or PROC_SELF
    free = None
    for folder, limit_file, usage_file in _cgroup_dirs(root, proc):
        limit = _read_int(folder / limit_file)
        if limit is None:
            continue
        used = (_read_int(folder / usage_file) or 0) - _reclaimable(folder)
        left = max(0, limit - max(0, used))
        free = left if free is None else min(free, left)
    return free


def _status_bytes(field: str, proc: Path) -> int:
    """A size from /proc/self/status ("VmSize:  3896 kB"), in bytes; 0 where it can't be read."""
    try:
        for line in (proc / "status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    except (OSError, UnicodeDecodeError, ValueError, IndexError):
        pass
    return 0


def _getrlimit(which: int) -> tuple[int, int]:
    import resource

    return resource.getrlimit(which)


def rlimit_free(proc: Path | None = None) -> int | None:
    """Bytes the process may still map under RLIMIT_AS (less its address space now, VmSize) and RLIMIT_DATA
    (less its data now, VmData), the lesser; None where neither is set."""
    proc = proc or PROC_SELF
    try:
        import resource
    except ImportError:  # not a Unix
        return None
    free = None
    for which, field in ((resource.RLIMIT_AS, "VmSize"), (getattr(resource, "RLIMIT_DATA", None), "VmData")):
        if which is None:
            continue
        try:
            soft = _getrlimit(which)[0]
        except (ValueError, OSError):
            continue
        if soft == resource.RLIM_INFINITY or soft < 0:
            continue
        left = max(0, soft - _status_bytes(field, proc))
        free = left if free is None else min(free, left)
    return free


def physical_free() -> int | None:
    """Bytes of physical memory free now, where the OS says (Linux and most Unixes)."""
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def available_memory() -> int | None:
    """Bytes this process may still allocate: the least of the physical memory free, what RLIMIT_AS and
    RLIMIT_DATA leave (less what the process already uses) and what its cgroup's limit leaves (v1 or v2).
    None where none of them can be read."""
    known = [v for v in (physical_free(), rlimit_free(), cgroup_free()) if v is not None]
    return min(known) if known else None


class Budget:
    """Bytes the state of one model may take, counted as it is allocated."""

    def __init__(self, limit: int | None, what: str = "the memory free"):
        self.limit = limit
        self.what = what
        self.used = 0
        self.modules = 0  # modules a constructor made itself (a TransformerEncoder's copies of its layer)

    def take(self, nbytes: int, what: str) -> None:
        self.used += nbytes
        if self.limit is not None and self.used > self.limit:
            raise CompileError(
                f"with {what}, the model's parameters and buffers need {self.used:,} bytes; "
                f"the limit is {self.limit:,} bytes ({self.what})"
            )


_budget: ContextVar[Budget | None] = ContextVar("nnspec_budget", default=None)


def take_modules(n: int, what: str) -> None:
    """Count modules a constructor makes by copying (a TransformerEncoder's num_layers copies of its layer, which
    may itself hold copies) against MAX_MODULES, for the model being built: nested copies multiply."""
    b = _budget.get()
    total = n + (b.modules if b is not None else 0)
    if b is not None:
        b.modules = total
    if total > MAX_MODULES:
        raise CompileError(f"{what} make the model more than {MAX_MODULES:,} modules ({MODULES_WHY})")
_meta: ContextVar[bool] = ContextVar("nnspec_meta_state", default=False)


def shape_only(enabled: bool = True) -> AbstractContextManager[bool]:
    """Model state made inside the block is shape-only (MetaArray): counted, never allocated."""
    return scoped(_meta, enabled)


def budget(limit: int | None = None) -> AbstractContextManager[Budget]:
    """Count every allocation of model state inside the block against one limit (default: free memory)."""
    if limit is None:
        return scoped(_budget, Budget(available_memory()))
    return scoped(_budget, Budget(limit, "the memory limit"))


def empty(shape: tuple[int, ...], dtype=numpy.float32) -> numpy.ndarray:
    """An uninitialised host array for model state, refused before allocation if it cannot fit
    (inside ``shape_only()``, a MetaArray of that shape, counted against the budget all the same)."""
    shape = tuple(int(s) for s in shape)
    if any(s < 0 for s in shape):
        raise CompileError(f"shape {list(shape)} has a negative size")
    itemsize = numpy.dtype(dtype).itemsize
    if math.prod(s for s in shape if s) * itemsize >= 2**62:  # numpy refuses it even when another size is 0
        raise CompileError(f"shape {list(shape)} is larger than any array can be")
    nbytes = math.prod(shape) * itemsize
    what = f"an array of shape {list(shape)}"
    b = _budget.get()
    if b is None:
        b = Budget(available_memory())
    b.take(nbytes, what)
    if _meta.get():
        from .runtime.meta import MetaArray

        return MetaArray(shape, dtype)
    return numpy.empty(shape, dtype=dtype)

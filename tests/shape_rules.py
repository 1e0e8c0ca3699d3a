"""The shape-rule test's tools, shared by tests/runtime/test_shape_rules*.py (one file per op family).

``agree(fn, *specs)`` calls an op on NumPy arrays (the kernel runs) and on shape-only MetaArrays (the
op's checks run, then its shape rule gives the result): the outcomes must be the same. ``covers(...)``
records the ops a file tests; test_shape_rules.py checks that every op a forward can call is covered.
"""

from __future__ import annotations

import numpy as np

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from nnspec.errors import NNSpecError
from nnspec.runtime.meta import MetaArray

SETTINGS = settings(max_examples=100, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])

size = st.integers(1, 5)


def shape(min_dims=1, max_dims=4, min_size=1, max_size=5):
    return st.lists(st.integers(min_size, max_size), min_size=min_dims, max_size=max_dims).map(tuple)


def _arrays(specs, meta: bool):
    out = []
    for s in specs:
        if isinstance(s, tuple) and len(s) == 2 and isinstance(s[0], tuple):  # (shape, dtype)
            shp, dt = s
        else:
            shp, dt = s, "float32"
        if shp is None:
            out.append(None)
        elif meta:
            out.append(MetaArray(shp, dt))
        else:
            rng = np.random.default_rng(0)
            a = rng.standard_normal(shp) if np.dtype(dt).kind == "f" else rng.integers(1, 4, shp)
            out.append(a.astype(dt))
    return out


def _outcome(fn, specs, meta: bool):
    try:
        y = fn(*_arrays(specs, meta))
    except NNSpecError as e:
        return ("error", type(e).__name__, str(e))
    return ("ok", _describe(y))


def _describe(y):
    if isinstance(y, (tuple, list)):
        return [_describe(v) for v in y]
    if hasattr(y, "shape") and hasattr(y, "dtype"):
        return (tuple(int(s) for s in y.shape), str(y.dtype))
    return repr(y)


def agree(fn, *specs):
    """The op on real arrays and on MetaArrays: the same result shapes and dtypes, or the same error."""
    real = _outcome(fn, specs, meta=False)
    meta = _outcome(fn, specs, meta=True)
    assert meta == real
    return real


COVERED: set = set()


def covers(*fns):
    COVERED.update(fns)

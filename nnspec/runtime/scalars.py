"""Python arithmetic on plain values (shape sizes, tuples, strings), bounded.

Forwards do arithmetic on sizes (``x.size(0) * 2``), tuples (``x.shape[:2] + (-1,)``)
and constants folded at compile time. A model file is untrusted, so that arithmetic
may not grow without limit: ints stay under MAX_INT_BITS bits and sequences under
MAX_SEQ items, checked before the work is done where it can be.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..errors import NNSpecRuntimeError

MAX_INT_BITS = 4096
MAX_SEQ = 10_000
ERRORS = (ArithmeticError, TypeError, IndexError, KeyError, ValueError)  # what Python arithmetic raises


def _seq(v: Any) -> bool:
    return isinstance(v, (list, tuple, str, range))


def _too_big(op: str, what: str) -> NNSpecRuntimeError:
    return NNSpecRuntimeError(f"{op}: the result would be too large ({what})")


def checked(op: str, fn: Callable, *values: Any) -> Any:
    """``fn(*values)`` on plain values, refused before it can explode; Python's errors become nnspec's."""
    if len(values) == 2:
        a, b = values
        if op == "pow" and isinstance(a, int) and isinstance(b, int) and abs(a) > 1 and \
                b * a.bit_length() > MAX_INT_BITS:
            raise _too_big(op, f"{a} ** {b} has more than {MAX_INT_BITS} bits")
        if op == "mul" and (_seq(a) and isinstance(b, int) or _seq(b) and isinstance(a, int)):
            seq, n = (a, b) if _seq(a) else (b, a)
            if len(seq) * n > MAX_SEQ:
                raise _too_big(op, f"more than {MAX_SEQ:,} items")
        if op == "add" and _seq(a) and _seq(b) and len(a) + len(b) > MAX_SEQ:
            raise _too_big(op, f"more than {MAX_SEQ:,} items")
    try:
        result = fn(*values)
    except ERRORS as e:
        raise NNSpecRuntimeError(f"{op}: {type(e).__name__}: {e}") from None
    if isinstance(result, int) and result.bit_length() > MAX_INT_BITS:
        raise _too_big(op, f"an integer of more than {MAX_INT_BITS} bits")
    if _seq(result) and len(result) > MAX_SEQ:
        raise _too_big(op, f"more than {MAX_SEQ:,} items")
    return result

"""Python arithmetic on plain values (shape sizes, tuples, strings), bounded.

Forwards do arithmetic on sizes (``x.size(0) * 2``), tuples (``x.shape[:2] + (-1,)``)
and constants folded at compile time. A model file is untrusted, so that arithmetic
may not grow without limit: ints stay under MAX_INT_BITS bits and sequences under
MAX_SEQ items, checked before the work is done where it can be.
"""

from __future__ import annotations

import re
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
        if op == "mod" and isinstance(a, str):
            _check_format(op, a, b)
        if op == "round" and _int(a) and _int(b) and b < -(abs(a).bit_length() // 3 + 2):
            return 0  # |a| < 10**-b / 2: what Python gives, without making 10**-b first (a hang for -10**8)
    try:
        result = fn(*values)
    except ERRORS as e:
        raise NNSpecRuntimeError(f"{op}: {type(e).__name__}: {e}") from None
    if isinstance(result, int) and result.bit_length() > MAX_INT_BITS:
        raise _too_big(op, f"an integer of more than {MAX_INT_BITS} bits")
    if _seq(result) and len(result) > MAX_SEQ:
        raise _too_big(op, f"more than {MAX_SEQ:,} items")
    return result


def _int(v: Any) -> bool:
    return isinstance(v, int)  # bool included, as Python's arithmetic takes it


# a printf-style conversion's width and precision: '%-08.3f', '%*d', '%(name)10s'
_CONVERSION = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d*))?")


def _check_format(op: str, fmt: str, args: Any) -> None:
    """``fmt % args`` refused before it is made where a width or precision (written, or ``*`` taken from args)
    would make more than MAX_SEQ characters: ``'%01000000000d' % 1`` is a 1 GB string."""
    values = args if isinstance(args, tuple) else (args,)
    for match in _CONVERSION.finditer(fmt.replace("%%", "")):
        for part in match.groups():
            if part == "*":  # its number is one of the arguments: any of them may be it
                big = any(isinstance(v, int) and abs(v) > MAX_SEQ for v in values)
            else:
                big = bool(part) and (len(part) > 6 or int(part) > MAX_SEQ)
            if big:
                raise _too_big(op, f"a width or precision of more than {MAX_SEQ:,} characters")

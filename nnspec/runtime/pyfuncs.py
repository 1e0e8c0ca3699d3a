"""Python's ``math`` functions and a few builtins (int, float, len, min, max, ...) on the values a forward
computes when it runs: sizes from ``x.size(-1)`` (symbolic ``Dim``s in static inference), floats, tuples,
and one-element arrays. ``math.sqrt(k.size(-1))`` is a plain float at run time and a ``SymbolicFloat``
in static inference, whose value only the run knows. Results are bounded as the compiler's folding is.
"""

from __future__ import annotations

import builtins
import math
from collections.abc import Callable
from typing import Any

from ..errors import NNSpecRuntimeError
from ..nn.parameter import Parameter
from .meta import DataDependentError, is_meta
from .scalars import MAX_INT_BITS, MAX_SEQ, checked
from .symbolic import Dim, SymbolicFloat, SymbolicValueError


def _is_array(v: Any) -> bool:
    return isinstance(v, Parameter) or (not isinstance(v, (bool, int, float)) and hasattr(v, "shape")
                                        and hasattr(v, "dtype"))


def _data(v: Any) -> Any:
    return v.data if isinstance(v, Parameter) else v


def _scalar(op: str, v: Any) -> Any:
    """A number from ``v``: a Python number or size as it is, a one-element array as its value."""
    if isinstance(v, (bool, int, float, Dim, SymbolicFloat)):
        return v
    if _is_array(v):
        x = _data(v)
        if is_meta(x):
            raise DataDependentError(f"{op}: the value of an array, which static inference does not know")
        if int(x.size) != 1:
            raise NNSpecRuntimeError(f"{op}: only one element tensors can be converted to Python scalars")
        return x.reshape(()).item()
    if hasattr(v, "item") and hasattr(v, "dtype"):  # a NumPy scalar
        return v.item()
    raise NNSpecRuntimeError(f"{op}: must be real number, not {type(v).__name__}")


def _symbolic(v: Any) -> bool:
    return isinstance(v, (Dim, SymbolicFloat))


def _float_function(name: str, fn: Callable, nargs: int = 1) -> Callable:
    def apply(*args):
        if len(args) != nargs:
            raise NNSpecRuntimeError(f"math.{name}() takes exactly {nargs} argument(s) ({len(args)} given)")
        values = [_scalar(f"math.{name}", a) for a in args]
        if any(_symbolic(v) for v in values):
            return SymbolicFloat(f"{name}({', '.join(str(v) for v in values)})")
        return checked(f"math.{name}", fn, *values)

    apply.__name__ = apply.__qualname__ = name
    apply.__doc__ = f"math.{name}: a float; symbolic in static inference where an argument is a symbolic size."
    return apply


def _int_function(name: str, fn: Callable) -> Callable:
    """math.floor/ceil/trunc: an int (a size stays itself; a symbolic float has no known value)."""
    def apply(x):
        v = _scalar(f"math.{name}", x)
        if isinstance(v, Dim):
            return v
        if isinstance(v, SymbolicFloat):
            raise SymbolicValueError(f"math.{name}({v}): the value depends on symbolic sizes; give the sizes as "
                                     "numbers")
        return checked(f"math.{name}", fn, v)

    apply.__name__ = apply.__qualname__ = name
    apply.__doc__ = f"math.{name}: an int."
    return apply


def _log(x, base=None):
    """math.log(x, base=e): a float; symbolic in static inference where an argument is a symbolic size."""
    values = [_scalar("math.log", v) for v in ((x,) if base is None else (x, base))]
    if any(_symbolic(v) for v in values):
        return SymbolicFloat(f"log({', '.join(str(v) for v in values)})")
    return checked("math.log", math.log, *values)


def _predicate(name: str, fn: Callable) -> Callable:
    def apply(x):
        """A predicate of a number (a size is finite)."""
        v = _scalar(f"math.{name}", x)
        if isinstance(v, Dim):
            return name == "isfinite"
        if isinstance(v, SymbolicFloat):
            raise SymbolicValueError(f"math.{name}({v}): the value depends on symbolic sizes")
        return checked(f"math.{name}", fn, v)

    apply.__name__ = apply.__qualname__ = name
    return apply


def _prod(iterable, *, start=1):
    """math.prod, each partial product bounded (a size's product of a shape's dims)."""
    items = _items("math.prod", iterable)
    total: Any = start
    for v in items:
        v = _scalar("math.prod", v)
        total = total * v
        if isinstance(total, int) and total.bit_length() > MAX_INT_BITS:
            raise NNSpecRuntimeError(f"math.prod: the result would be too large (more than {MAX_INT_BITS} bits)")
    return total


def _int_pair(name: str, fn: Callable) -> Callable:
    def apply(*args):
        """An integer function of ints (their values needed: a symbolic size is refused)."""
        values = [_scalar(f"math.{name}", a) for a in args]
        if any(_symbolic(v) for v in values):
            raise SymbolicValueError(f"math.{name}: its value depends on symbolic sizes; give the sizes as numbers")
        return checked(f"math.{name}", fn, *values)

    apply.__name__ = apply.__qualname__ = name
    return apply


MATH_FUNCTIONS: dict[str, Callable] = {
    **{name: _float_function(name, getattr(math, name)) for name in (
        "sqrt", "exp", "expm1", "log2", "log10", "log1p", "sin", "cos", "tan", "asin", "acos", "atan", "sinh",
        "cosh", "tanh", "erf", "erfc", "fabs", "radians", "degrees", "gamma", "lgamma")},
    **{name: _float_function(name, getattr(math, name), 2) for name in ("pow", "atan2", "hypot", "copysign", "fmod")},
    "log": _log,
    **{name: _int_function(name, getattr(math, name)) for name in ("floor", "ceil", "trunc")},
    **{name: _predicate(name, getattr(math, name)) for name in ("isfinite", "isinf", "isnan")},
    "prod": _prod,
    **{name: _int_pair(name, getattr(math, name)) for name in ("gcd", "lcm", "isqrt")},
}
MATH_CONSTANTS: dict[str, float] = {"pi": math.pi, "e": math.e, "tau": math.tau, "inf": math.inf, "nan": math.nan}


# --------------------------------------------------------------------------- builtins


def _items(op: str, value: Any) -> list:
    if isinstance(value, (tuple, list, range)):
        if len(value) > MAX_SEQ:
            raise NNSpecRuntimeError(f"{op}: more than {MAX_SEQ:,} items")
        return list(value)
    if _is_array(value):
        x = _data(value)
        if x.ndim == 0:
            raise NNSpecRuntimeError(f"{op}: iteration over a 0-d tensor")
        n = x.shape[0]
        if isinstance(n, Dim):
            int(n)  # SymbolicValueError: how many items depends on a symbolic size
        if n > MAX_SEQ:
            raise NNSpecRuntimeError(f"{op}: more than {MAX_SEQ:,} items")
        return [x[i] for i in range(n)]
    raise NNSpecRuntimeError(f"{op}: '{type(value).__name__}' object is not iterable")


def int_(x=0):
    """int(x): a size stays itself; a one-element array gives its value."""
    if isinstance(x, str):
        return checked("int", builtins.int, x)
    v = _scalar("int", x)
    if isinstance(v, Dim):
        return v
    if isinstance(v, SymbolicFloat):
        raise SymbolicValueError(f"int({v}): the value depends on symbolic sizes; give the sizes as numbers")
    return checked("int", builtins.int, v)


def float_(x=0.0):
    """float(x): a symbolic size gives a symbolic float; a one-element array gives its value."""
    if isinstance(x, str):
        return checked("float", builtins.float, x)
    v = _scalar("float", x)
    if isinstance(v, Dim):
        return SymbolicFloat(str(v))
    return v if isinstance(v, SymbolicFloat) else checked("float", builtins.float, v)


def bool_(x=False):
    """bool(x): a number's truth, or a one-element array's."""
    if isinstance(x, (tuple, list, str)):
        return builtins.bool(x)
    v = _scalar("bool", x)
    return builtins.bool(v)


def len_(obj):
    """len(obj): a tuple's or list's length, or an array's first dim (a size, symbolic in static inference)."""
    if isinstance(obj, (tuple, list, str)):
        return builtins.len(obj)
    if _is_array(obj):
        x = _data(obj)
        if x.ndim == 0:
            raise NNSpecRuntimeError("len() of a 0-d tensor")
        s = x.shape[0]
        return s if isinstance(s, Dim) else builtins.int(s)
    raise NNSpecRuntimeError(f"len(): object of type '{type(obj).__name__}' has no len()")


def _extreme(name: str, pick: Callable) -> Callable:
    def apply(*args):
        items = _items(name, args[0]) if builtins.len(args) == 1 else list(args)
        if not items:
            raise NNSpecRuntimeError(f"{name}() arg is an empty sequence")
        values = [_scalar(name, v) for v in items]
        best = values[0]
        for v in values[1:]:
            best = pick(best, v)
        return best

    apply.__name__ = apply.__qualname__ = f"{name}_"
    apply.__doc__ = f"{name}() of numbers and sizes (comparisons of symbolic sizes are decided as shape checks are)."
    return apply


max_ = _extreme("max", lambda a, b: b if b > a else a)
min_ = _extreme("min", lambda a, b: b if b < a else a)


def abs_(x):
    """abs(x) of a number or size."""
    v = _scalar("abs", x)
    if isinstance(v, SymbolicFloat):
        raise SymbolicValueError(f"abs({v}): the value depends on symbolic sizes")
    return v if v >= 0 else -v


def round_(number, ndigits=None):
    """round(number, ndigits=None), halves to even (a size stays itself unless ndigits < 0)."""
    v = _scalar("round", number)
    if isinstance(v, Dim) and (ndigits is None or isinstance(ndigits, int) and ndigits >= 0):
        return v
    if isinstance(v, (Dim, SymbolicFloat)):  # round(N, -1) is N rounded to tens: a value only the run knows
        raise SymbolicValueError(f"round({v}): the value depends on symbolic sizes")
    return checked("round", builtins.round, v, ndigits) if ndigits is not None else checked("round", builtins.round, v)


def tuple_(iterable=()):
    """tuple(iterable): of a tuple or list, or of an array along its first dim (each item a view)."""
    return builtins.tuple(_items("tuple", iterable))


def list_(iterable=()):
    """list(iterable): of a tuple or list, or of an array along its first dim (each item a view)."""
    return _items("list", iterable)


BUILTIN_FUNCTIONS: dict[str, Callable] = {"int": int_, "float": float_, "bool": bool_, "len": len_, "max": max_,
                                          "min": min_, "abs": abs_, "round": round_, "tuple": tuple_, "list": list_}

__all__ = ["BUILTIN_FUNCTIONS", "MATH_CONSTANTS", "MATH_FUNCTIONS"]

"""Symbolic sizes: ``N``, ``H`` and the formulas layers make of them.

``nnspec validate --input-shape N,3,H,W`` propagates shapes whose sizes are
expressions such as ``(H - 1)//2 + 1``. A :class:`Dim` is one such expression,
kept in a canonical form, so two branches that compute the same size from the
same input compare equal by structure: an integer polynomial whose atoms are
symbols and floor divisions of polynomials (the remainder of a division is
reduced so that ``(2*H + 3)//2`` becomes ``H + 1``). Arithmetic that cancels
every symbol gives back a plain ``int``, so a ``Dim`` is never a constant.

Shape checks compare sizes (``if size < kernel: raise ...``). A symbolic
size is at least 1: a batch of one is a batch (a size of 0 is given as the
number 0). A comparison that holds for every such value of the symbols is
decided at once. One that depends on them is decided on each symbol's *hint*,
a large value that divides by every power of two up to 2**16 (what a real
input would be), and the assumption is recorded in the active
:func:`assumptions` log, so that ``validate`` can print the conditions the
model needs (``H >= 32``).

An op whose result changes where a size is 1 asks so in a comparison, as its
rule does for numbers: ``squeeze`` compares each dim with 1, BatchNorm in
training mode refuses one value per channel (``n <= 1``), a forward branches
on ``x.size(0) == 1``. The hint is never 1, so that comparison is decided as
the size were more, and the assumption is recorded in its solved form:
``N != 1`` and ``1 < N`` both read ``N >= 2``, which later decisions then use.
Broadcasting needs no such assumption: where a symbolic size broadcasts
against 1 or against itself, the result is the same formula whether or not
it is 1.
"""

from __future__ import annotations

import math
import numbers
import operator
import zlib
from collections.abc import Callable
from fractions import Fraction
from contextlib import AbstractContextManager
from contextvars import ContextVar
from typing import Any, Union

from ..errors import ShapeError
from ..scoped import scoped

# A polynomial: ((monomial, coefficient), ...) sorted; a monomial is a sorted tuple of atoms; the
# constant term has the empty monomial. An atom is ("sym", name) or ("floor", numerator, divisor),
# where numerator is a polynomial and divisor a positive int or a polynomial.
Poly = tuple
_HINT_UNIT = 2**16
LEAST = 1  # the least value of a symbolic size (N = 1 is a batch of one); an assumption may raise it (H >= 32)
MAX_FLOAT_TEXT = 10_000


class Dim:
    """A symbolic integer size; behaves as an int in arithmetic, comparisons and formatting."""

    __slots__ = ("poly",)

    def __init__(self, poly: Poly):
        self.poly = poly

    # -- construction
    @staticmethod
    def symbol(name: str) -> Dim:
        if not name.isidentifier():
            raise ValueError(f"a symbolic size must be a name, got {name!r}")
        return Dim((((("sym", name),), 1),))

    # -- arithmetic
    def __add__(self, other: Any) -> DimLike:
        return _make(_add(self.poly, _poly(other)))

    __radd__ = __add__

    def __sub__(self, other: Any) -> DimLike:
        return _make(_add(self.poly, _scale(_poly(other), -1)))

    def __rsub__(self, other: Any) -> DimLike:
        return _make(_add(_poly(other), _scale(self.poly, -1)))

    def __mul__(self, other: Any) -> DimLike:
        return _make(_mul(self.poly, _poly(other)))

    __rmul__ = __mul__

    def __neg__(self) -> DimLike:
        return _make(_scale(self.poly, -1))

    def __pos__(self) -> Dim:
        return self

    def __floordiv__(self, other: Any) -> DimLike:
        return _make(_floordiv(self.poly, _poly(other)))

    def __rfloordiv__(self, other: Any) -> DimLike:
        return _make(_floordiv(_poly(other), self.poly))

    def __mod__(self, other: Any) -> DimLike:
        return self - (self // other) * other

    def __rmod__(self, other: Any) -> DimLike:
        return other - (other // self) * self

    def __truediv__(self, other: Any) -> SymbolicFloat:
        return SymbolicFloat(f"{_paren(self)} / {_paren(other)}")

    def __rtruediv__(self, other: Any) -> SymbolicFloat:
        return SymbolicFloat(f"{_paren(other)} / {_paren(self)}")

    def __pow__(self, other: Any) -> DimLike | SymbolicFloat:
        if isinstance(other, int) and not isinstance(other, bool) and 0 <= other <= 64:
            result: DimLike = 1
            for _ in range(other):
                result = result * self
            return result
        if isinstance(other, (int, float, Dim, SymbolicFloat)) and not isinstance(other, bool):
            return SymbolicFloat(f"{_paren(self)} ** {_paren(other)}")
        return NotImplemented

    def __rpow__(self, other: Any) -> SymbolicFloat:
        if isinstance(other, (int, float)) and not isinstance(other, bool):
            return SymbolicFloat(f"{_paren(other)} ** {_paren(self)}")
        return NotImplemented

    # -- comparisons: decided for every value >= 1 of the symbols, else on the hints (recorded as an assumption)
    def __eq__(self, other: Any) -> bool:
        if not _is_int(other):
            return NotImplemented
        return _decide_eq(self, other)

    def __ne__(self, other: Any) -> bool:
        if not _is_int(other):
            return NotImplemented
        return not _decide_eq(self, other)

    def __lt__(self, other: Any) -> bool:
        return _decide_lt(self, other) if _is_int(other) else NotImplemented

    def __gt__(self, other: Any) -> bool:
        return _decide_lt(other, self) if _is_int(other) else NotImplemented

    def __le__(self, other: Any) -> bool:
        return not _decide_lt(other, self) if _is_int(other) else NotImplemented

    def __ge__(self, other: Any) -> bool:
        return not _decide_lt(self, other) if _is_int(other) else NotImplemented

    def __bool__(self) -> bool:
        return not _decide_eq(self, 0)

    def __hash__(self) -> int:
        return hash(self.poly)

    # -- no static value
    def __index__(self) -> int:
        raise SymbolicValueError(f"the size {self} is symbolic; this needs a number (give one in --input-shape)")

    __int__ = __index__

    def __float__(self) -> float:
        raise SymbolicValueError(f"the size {self} is symbolic; this needs a number (give one in --input-shape)")

    # -- formatting
    def __str__(self) -> str:
        return _format(self.poly)

    def __repr__(self) -> str:  # as it reads in a message: (H + 1)//2, not Dim(...)
        return str(self)

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)

    @property
    def symbols(self) -> set[str]:
        return _symbols(self.poly)

    @property
    def hint(self) -> int:
        return _eval(self.poly, _hint)

    def evaluate(self, values: dict[str, int]) -> int:
        """The size for concrete values of its symbols."""
        return _eval(self.poly, lambda name: values[name])


DimLike = Union[int, Dim]


class SymbolicValueError(ShapeError):
    """An op needs the number a symbolic size stands for (a Python float of it, a data-dependent choice)."""


class SymbolicFloat:
    """A float made from symbolic sizes (``x.size(-1) ** 0.5``): its value is unknown, but its type is known,
    which is all an op on arrays needs (scaling by it changes values, not shapes). Any use that needs
    the number (a size, a comparison) is a SymbolicValueError."""

    __slots__ = ("text",)

    def __init__(self, text: str):
        if len(text) > MAX_FLOAT_TEXT:  # f = f * f + f in a loop doubles the formula at each step
            raise SymbolicValueError(f"a symbolic float's formula grew past {MAX_FLOAT_TEXT:,} characters; give the "
                                     "sizes as numbers")
        self.text = text

    def _op(self, other: Any, fmt: str) -> SymbolicFloat:
        if isinstance(other, (int, float, Dim, SymbolicFloat)) and not isinstance(other, bool):
            return SymbolicFloat(fmt.format(a=_paren(self), b=_paren(other)))
        return NotImplemented

    def __add__(self, o): return self._op(o, "{a} + {b}")
    def __radd__(self, o): return self._op(o, "{b} + {a}")
    def __sub__(self, o): return self._op(o, "{a} - {b}")
    def __rsub__(self, o): return self._op(o, "{b} - {a}")
    def __mul__(self, o): return self._op(o, "{a} * {b}")
    def __rmul__(self, o): return self._op(o, "{b} * {a}")
    def __truediv__(self, o): return self._op(o, "{a} / {b}")
    def __rtruediv__(self, o): return self._op(o, "{b} / {a}")
    def __pow__(self, o): return self._op(o, "{a} ** {b}")
    def __rpow__(self, o): return self._op(o, "{b} ** {a}")
    def __neg__(self): return SymbolicFloat(f"-{_paren(self)}")
    def __pos__(self): return self

    def _no_value(self, *_: Any) -> Any:
        raise SymbolicValueError(f"the value of {self.text} depends on symbolic sizes; this needs a number "
                                 "(give the sizes in --input-shape)")

    __float__ = __int__ = __index__ = __bool__ = __floordiv__ = __rfloordiv__ = __mod__ = __rmod__ = _no_value
    __lt__ = __le__ = __gt__ = __ge__ = _no_value
    __hash__ = None  # type: ignore[assignment]

    def __eq__(self, other: Any) -> bool:
        return self._no_value()

    def __str__(self) -> str:
        return self.text

    __repr__ = __str__


def _paren(v: Any) -> str:
    text = str(v)
    return text if text.replace("_", "").isalnum() or text.replace(".", "").isdigit() else f"({text})"


def is_symbolic(value: Any) -> bool:
    return isinstance(value, Dim)


def is_one(size: Any) -> bool:
    """Whether a size is the number 1, as a broadcast asks: a symbolic size is not asked (which would assume it is
    not 1, N >= 2). Broadcast against 1 or against itself, a symbolic size gives the same formula whether it is 1
    or not; against another size the two must be equal, which the hints decide (and a broadcast that works only
    where N is 1, (N, 4) with (3, 4), fails as it does for every N but 1 and 3)."""
    return not is_symbolic(size) and size == 1


def _is_int(v: Any) -> bool:
    return isinstance(v, (Dim, numbers.Integral))


# --------------------------------------------------------------------------- polynomials


def _poly(v: Any) -> Poly:
    if isinstance(v, Dim):
        return v.poly
    if isinstance(v, bool) or not hasattr(v, "__index__"):
        raise TypeError(f"unsupported operand for a symbolic size: {type(v).__name__}")
    n = operator.index(v)
    return (((), n),) if n else ()


def _normal(terms: dict) -> Poly:
    return tuple(sorted(((m, c) for m, c in terms.items() if c), key=lambda t: _key(t[0])))


def _key(monomial: tuple) -> tuple:
    # higher degree first; among equals, plain symbols before floor divisions
    return (-len(monomial), sum(a[0] == "floor" for a in monomial), repr(monomial))


def _add(a: Poly, b: Poly) -> Poly:
    terms = dict(a)
    for m, c in b:
        terms[m] = terms.get(m, 0) + c
    return _normal(terms)


def _scale(a: Poly, k: int) -> Poly:
    return _normal({m: c * k for m, c in a})


def _mul(a: Poly, b: Poly) -> Poly:
    terms: dict = {}
    for ma, ca in a:
        for mb, cb in b:
            m = tuple(sorted(ma + mb, key=repr))
            terms[m] = terms.get(m, 0) + ca * cb
    return _normal(terms)


def _constant(a: Poly) -> int | None:
    if not a:
        return 0
    if len(a) == 1 and a[0][0] == ():
        return a[0][1]
    return None


def _floordiv(a: Poly, b: Poly) -> Poly:
    d = _constant(b)
    if d == 0:
        raise ZeroDivisionError("integer division or modulo by zero")
    if d is None:
        return _floordiv_poly(a, b)
    if d < 0:
        a, d = _scale(a, -1), -d
    a, d = _merge_nested(a, d)
    # a = d*q + r with every coefficient of r in [0, d): floor(a/d) = q + floor(r/d)
    q = _normal({m: c // d for m, c in a})
    r = _normal({m: c % d for m, c in a})
    rc = _constant(r)
    if rc is not None:
        return _add(q, _poly(rc // d))
    g = math.gcd(d, *(c for _, c in r))  # floor(g*x / (g*d)) = floor(x/d)
    atom = ("floor", _scale_exact(r, g), d // g)
    return _add(q, (((atom,), 1),))


def _merge_nested(a: Poly, d: int) -> tuple[Poly, int]:
    """(P//m + Q)//d is (P + m*Q)//(m*d) for integer-valued Q: one division instead of two."""
    floors = [(m, c) for m, c in a if len(m) == 1 and m[0][0] == "floor" and isinstance(m[0][2], int)]
    if len(floors) != 1 or floors[0][1] != 1:
        return a, d
    (atom,), _ = floors[0]
    rest = _add(a, (((atom,), -1),))
    if any(at[0] == "floor" for m, _ in rest for at in m):
        return a, d
    return _add(atom[1], _scale(rest, atom[2])), atom[2] * d


def _scale_exact(a: Poly, g: int) -> Poly:
    return _normal({m: c // g for m, c in a})


def _floordiv_poly(a: Poly, b: Poly) -> Poly:
    """a // b for a symbolic b: exact where b is one monomial dividing every term, else an atom."""
    if len(b) == 1:
        (mb, cb), = b
        out = {}
        for m, c in a:
            rest = list(m)
            try:
                for atom in mb:
                    rest.remove(atom)
            except ValueError:
                break
            if c % cb:
                break
            out[tuple(rest)] = c // cb
        else:
            return _normal(out)
    return ((((("floor", a, b),)), 1),)


MAX_TERMS = 256  # a symbolic size with more terms is refused: a forward's arithmetic must not explode
MAX_COEFFICIENT_BITS = 4096
MAX_DEGREE = 64
MAX_ATOMS = 4096  # symbols and divisions, those nested in divisions counted each time they occur


def _make(p: Poly) -> DimLike:
    c = _constant(p)
    if c is not None:
        return c
    if len(p) > MAX_TERMS or any(abs(k).bit_length() > MAX_COEFFICIENT_BITS or len(m) > MAX_DEGREE for m, k in p) \
            or _atoms_past(p, MAX_ATOMS):
        raise SymbolicValueError(f"a symbolic size grew past {MAX_TERMS} terms, degree {MAX_DEGREE}, "
                                 f"{MAX_COEFFICIENT_BITS}-bit coefficients or {MAX_ATOMS} atoms; give the sizes as "
                                 "numbers")
    return Dim(p)


def _atoms_past(p: Poly, limit: int) -> bool:
    """Whether ``p`` holds more than ``limit`` atoms, nested ones counted each time they occur (walked only that
    far): ``n = n // 2 + n`` in a loop doubles a size's formula at each step while its terms stay few."""
    count, stack = 0, [p]
    while stack:
        for m, _ in stack.pop():
            for atom in m:
                count += 1
                if count > limit:
                    return True
                if atom[0] == "floor":
                    stack.append(atom[1])
                    if not isinstance(atom[2], int):
                        stack.append(atom[2])
    return False


# --------------------------------------------------------------------------- values and bounds


def _hint(name: str) -> int:
    # distinct, large, and divisible by 2**16: what a real size would be, so checks take the valid path
    return _HINT_UNIT * (3 + 2 * (zlib.crc32(name.encode()) % 997))


def _eval(p: Poly, value) -> int:
    total = 0
    for m, c in p:
        prod = c
        for atom in m:
            prod *= _eval_atom(atom, value)
        total += prod
    return total


def _eval_atom(atom: tuple, value) -> int:
    if atom[0] == "sym":
        return value(atom[1])
    num = _eval(atom[1], value)
    den = atom[2] if isinstance(atom[2], int) else _eval(atom[2], value)
    return num // den


def _low(p: Poly) -> Fraction | None:
    """A lower bound of the polynomial over every value of its symbols from their least (1, or more where an
    assumption raised it) up (None where none is known).

    Floor divisions by an int are relaxed first (P//d is at least (P - d + 1)/d and at most P/d), so that
    L + 1 - 2*(L//2) is seen to be at least 1. A negative term is then covered by a positive one it
    divides (3*H*N*W - N is at least (3*2*2 - 1)*N); if one is left over, no bound is known."""
    direct = _low_direct(p)
    relaxed = _low_relaxed(p)
    if direct is None or relaxed is None:
        return relaxed if direct is None else direct
    return max(direct, relaxed)


def _low_direct(p: Poly) -> Fraction | None:
    """The bound term by term, where every coefficient is positive: each atom at its least (a symbol at 1,
    P//d at floor(least P / d)), which is exact for the small sizes the relaxation is loose at."""
    total = Fraction(0)
    for m, c in p:
        if c < 0 and m:
            return None
        lo = _low_floor_product(m)
        if lo is None or lo < 0:
            return None
        total += c * lo
    return total


def _low_relaxed(p: Poly) -> Fraction | None:
    terms = _relax(p)
    if terms is None:
        return None
    for m, c in sorted(terms.items(), key=lambda t: -len(t[0])):
        if c >= 0 or not m:
            continue
        for big in sorted((b for b in terms if len(b) > len(m) and terms[b] > 0 and _divides(m, b)), key=len):
            scale = _least(_rest(big, m))  # big >= scale * m for every value of the symbols
            take = min(terms[big], -c / scale)
            terms[big] -= take
            c += take * scale
            if c >= 0:
                break
        if c < 0:
            return None
        terms[m] = c
    total = Fraction(0)
    for m, c in terms.items():
        total += c * _least(m)  # every coefficient is now >= 0: the least value is at the symbols' least
    return total


def _least(m: tuple) -> Fraction:
    """The least value of a monomial of symbols: each at its least (1, or more where assumed)."""
    total = Fraction(1)
    for atom in m:
        total *= _symbol_low(atom[1])
    return total


def _rest(big: tuple, small: tuple) -> tuple:
    rest = list(big)
    for atom in small:
        rest.remove(atom)
    return tuple(rest)


def _symbol_low(name: str) -> int:
    """A symbol's least value: 1, or more where an assumption recorded so (N >= 2, H >= 32)."""
    log = _log.get()
    return max(LEAST, log.bounds.get(name, LEAST)) if log is not None else LEAST


def _divides(small: tuple, big: tuple) -> bool:
    rest = list(big)
    try:
        for atom in small:
            rest.remove(atom)
    except ValueError:
        return False
    return True


def _relax(p: Poly, upper: bool = False) -> dict | None:
    """A polynomial in the symbols alone (Fraction coefficients) that is at most ``p`` (at least ``p``
    with ``upper``) for every value of the symbols from their least: each floor division by an int is
    replaced by a bound of it, P//d between (P - d + 1)/d and P/d. None where no such bound is simple."""
    terms: dict = {}
    for m, c in p:
        floors = [a for a in m if a[0] == "floor"]
        if not floors:
            terms[m] = terms.get(m, 0) + Fraction(c)
            continue
        if len(m) != 1 or not isinstance(floors[0][2], int):
            lo = _low_floor_product(m)  # only a lower bound is known for such a term
            if lo is None or upper or c < 0:
                return None
            terms[()] = terms.get((), 0) + c * lo
            continue
        (_, num, d), = floors
        # c * (P//d): from below, P//d >= (P - d + 1)/d when c > 0 and P//d <= P/d when c < 0 (and the
        # reverse from above); P itself is bounded the same way, from the side c's sign calls for
        low_side = (c > 0) != upper
        inner = _relax(num, upper=not low_side)
        if inner is None:
            return None
        for mm, cc in inner.items():
            terms[mm] = terms.get(mm, 0) + c * cc / d
        if low_side:
            terms[()] = terms.get((), 0) - c * Fraction(d - 1, d)
    return terms


def _low_floor_product(m: tuple) -> Fraction | None:
    """A lower bound of a product with floor divisions in it (each factor bounded on its own)."""
    total = Fraction(1)
    for atom in m:
        if atom[0] == "sym":
            total *= _symbol_low(atom[1])
            continue
        lo = _low(atom[1])
        if lo is None or lo < 0:
            return None
        if isinstance(atom[2], int):
            total *= lo // atom[2]
        elif (_low(atom[2]) or 0) >= 1:
            total *= 0  # an upper bound of the divisor is unknown
        else:
            return None
    return total


def _symbols(p: Poly) -> set[str]:
    out: set[str] = set()
    for m, _ in p:
        for atom in m:
            if atom[0] == "sym":
                out.add(atom[1])
            else:
                out |= _symbols(atom[1])
                if not isinstance(atom[2], int):
                    out |= _symbols(atom[2])
    return out


# --------------------------------------------------------------------------- decisions and assumptions

MAX_PRUNING_CHECKS = 2_000  # implications _Log.needed tries in all; past them, the rest are kept as they are

class _Log(list):
    """The assumptions made, in order; ``bounds`` keeps each symbol's least value they imply, so that a
    later decision uses them (after assuming H >= 32, H//32 != 0 needs no assumption of its own)."""

    def __init__(self) -> None:
        super().__init__()
        self.bounds: dict[str, int] = {}
        self.at_least: dict[str, tuple[Poly, Poly]] = {}  # an assumption ``P >= Q`` that is no symbol's bound
        self.seen: set[str] = set()  # the texts in the list, for a constant-time "already assumed?"

    def needed(self) -> list[str]:
        """The assumptions, less those that others imply: the symbols' bounds as they are at the end (train-mode
        BatchNorm after VGG's first conv assumes H*N*W >= 2, which H >= 32, assumed at its last pool, gives), and
        a stronger condition of the same form (each BatchNorm of ResNet assumes its size is at least 2,
        ((H + 1)//2)*((W + 1)//2)*N >= 2 at the first, ((H + 31)//32)*((W + 31)//32)*N >= 2 at the last, and
        the last implies the others)."""
        kept: list[str] = []
        budget = MAX_PRUNING_CHECKS  # a forward of many asserts (a hostile file's) is listed, not pruned for hours
        with scoped(_log, self):
            for text in reversed(self):  # a later condition is the stronger one, as sizes shrink through a model
                pair = self.at_least.get(text)
                if pair is not None and budget > 0:
                    others = [k for k in kept if k in self.at_least][:budget]
                    budget -= 1 + len(others)
                    if (_at_least_value(_add(pair[0], _scale(pair[1], -1)), 0)
                            or any(_implies(self.at_least[k], pair) for k in others)):
                        continue
                kept.append(text)
        return kept[::-1]


_log: ContextVar[_Log | None] = ContextVar("nnspec_assumptions", default=None)


def assumptions() -> AbstractContextManager[_Log]:
    """Collect, in order and once each, the conditions on symbols that shape checks inside assumed (a list;
    its ``needed()`` drops those that later ones imply)."""
    return scoped(_log, _Log())


def decide_whether_one(test: Callable[[], Any]) -> bool | None:
    """The truth of a forward's ``if`` on symbolic sizes (``test`` computes its value) where it asks no more than
    whether a size is 1 (``if x.size(0) == 1:``, ``if N > 1:``): decided as the size's hint says, that it is
    more, and that recorded (N >= 2). None, with nothing recorded, for a test that needs more of the sizes
    (``if H >= 7:``, ``N == 2``: give the sizes as numbers), or where no assumptions are being collected (a
    graph for export, where nothing would say which branch was taken)."""
    log = _log.get()
    if log is None:
        return None
    start, bounds = len(log), dict(log.bounds)
    try:
        value = test()
        truth = bool(value) if isinstance(value, (bool, int, Dim)) else None
    except SymbolicValueError:
        truth = None
    made = log[start:]
    if truth is not None and all(t.endswith(" >= 2") for t in made):
        return truth
    del log[start:]
    log.bounds = bounds
    for t in made:
        log.at_least.pop(t, None)
        log.seen.discard(t)
    return None


def _assume(text: str, at_least: tuple[Poly, Poly] | None = None) -> None:
    """Record ``text``; ``at_least``: (P, Q) where it says ``P >= Q`` (see _Log.needed)."""
    log = _log.get()
    if log is not None and text not in log.seen:
        log.append(text)
        log.seen.add(text)
        if at_least is not None:
            log.at_least[text] = at_least


def _decide_eq(a: DimLike, b: DimLike) -> bool:
    diff = _add(_poly(a), _scale(_poly(b), -1))
    if not diff:
        return True
    if _at_least_value(diff, 1) or _at_least_value(_scale(diff, -1), 1):
        return False
    result = _eval(diff, _hint) == 0
    _record(a, "==" if result else "!=", b)
    return result


def _decide_lt(a: DimLike, b: DimLike) -> bool:
    diff = _add(_poly(b), _scale(_poly(a), -1))  # a < b  <=>  b - a >= 1
    if _at_least_value(diff, 1):
        return True
    if _at_least_value(_scale(diff, -1), 0):
        return False
    result = _eval(diff, _hint) >= 1
    _record(a, "<" if result else ">=", b)
    return result


def assume_at_most(a: DimLike, b: DimLike) -> bool:
    """Whether ``a <= b``: decided where it holds or fails for every value of the symbols, else assumed to hold
    (and recorded): a slice's bound is taken to be within the dim it slices (``bias[:, :T]`` of a dim of 16
    needs T <= 16, not a T larger than any real input's)."""
    diff = _add(_poly(b), _scale(_poly(a), -1))
    if _at_least_value(diff, 0):
        return True
    if _at_least_value(_scale(diff, -1), 1):
        return False
    _record(a, "<=", b)
    return True


def assume_holds(a: DimLike, op: str, b: DimLike) -> bool:
    """Whether ``a op b`` (op: eq, ne, lt, le, gt, ge) holds for sizes: decided where it holds or fails for every
    value of the symbols, else assumed to hold (and recorded): what a forward asserts about its input's sizes."""
    if op in ("gt", "ge"):
        a, b, op = b, a, {"gt": "lt", "ge": "le"}[op]
    diff = _add(_poly(b), _scale(_poly(a), -1))  # b - a
    if op == "le":
        proven, refuted = _at_least_value(diff, 0), _at_least_value(_scale(diff, -1), 1)
    elif op == "lt":
        proven, refuted = _at_least_value(diff, 1), _at_least_value(_scale(diff, -1), 0)
    elif op == "eq":
        proven, refuted = not diff, _at_least_value(diff, 1) or _at_least_value(_scale(diff, -1), 1)
    else:
        proven, refuted = _at_least_value(diff, 1) or _at_least_value(_scale(diff, -1), 1), not diff
    if proven or refuted:
        return proven
    _record(a, dict(le="<=", lt="<", eq="==", ne="!=")[op], b)
    return True


def _record(a: DimLike, op: str, b: DimLike) -> None:
    """Record the assumption ``a op b`` (op: ==, !=, <, <=, >=) in the active log.

    Where it says that one symbol is at least a number, it is recorded as that bound, which later decisions
    use: ``1 < N``, ``N >= 2`` and, as N is at least 1, ``N != 1`` all read ``N >= 2``; (H - 1)//4 + 1 >= 2
    reads ``H >= 5``. A bound the symbol's least value already gives is no assumption. A number below a size
    reads as the size's least value, ``1 < H*N*W`` and (as every size is at least 1) ``H*N*W != 1`` as
    ``H*N*W >= 2``; the rest are recorded as written."""
    pair = _as_at_least(_poly(a), op, _poly(b))
    if pair is not None:
        solved = _solve(*pair)
        if solved is not None:
            text = _bound(*solved)
            if text is not None:
                _assume(text)
            return
        # 1 < N*H*W and, as N*H*W is at least 1, N*H*W != 1 read N*H*W >= 2 (but H % 3 != 0 stays so)
        if op == ">=" or (op in ("<", "<=") and not is_symbolic(a)) or (op == "!=" and _constant(pair[1]) == 2):
            _assume(f"{_fmt(_make(pair[0]))} >= {_fmt(_make(pair[1]))}", pair)
            return
    _assume(f"{_fmt(a)} {op} {_fmt(b)}")


def _as_at_least(a: Poly, op: str, b: Poly) -> tuple[Poly, Poly] | None:
    """``a op b`` as ``x >= y`` (x, y) where it is one for integer sizes: a < b is b >= a + 1, a <= b is b >= a,
    and a != b is a >= b + 1 where a >= b holds for every value of the symbols (and b >= a + 1 where b >= a
    does). None for the rest (a == b; a != b between sizes either of which may be the larger)."""
    one = _poly(1)
    if op == ">=":
        return a, b
    if op == "<=":
        return b, a
    if op == "<":
        return b, _add(a, one)
    if op == "!=":
        diff = _add(a, _scale(b, -1))
        if _at_least_value(diff, 0):
            return a, _add(b, one)
        if _at_least_value(_scale(diff, -1), 0):
            return b, _add(a, one)
    return None


def _solve(a: Poly, b: Poly) -> tuple[str, int] | None:
    """``a >= b`` as one symbol's least value (name, bound) where it is one: (H - 1)//4 + 1 >= 2 is ("H", 5),
    1 >= 2 - N is ("N", 1). None where more than one term is left, or the symbol's coefficient is negative."""
    p, c = _add(a, _scale(b, -1)), 0  # p >= c
    while True:
        const = dict(p).get((), 0)
        rest = _add(p, _poly(-const))
        c -= const
        if len(rest) != 1:
            return None
        (m, k), = rest
        if len(m) == 1 and m[0][0] == "floor" and k == 1 and isinstance(m[0][2], int):
            p, c = m[0][1], c * m[0][2]  # P//d >= c  <=>  P >= c*d
            continue
        if len(m) == 1 and m[0][0] == "sym" and k > 0:
            return m[0][1], -(-c // k)
        return None


def _bound(name: str, least: int) -> str | None:
    """The assumption ``name >= least``, kept as the symbol's least value for later decisions; None where its
    least value (1, or an earlier assumption's) already gives it."""
    if least <= _symbol_low(name):
        return None
    log = _log.get()
    if log is not None:
        log.bounds[name] = least
    return f"{name} >= {least}"


def _implies(given: tuple[Poly, Poly] | None, pair: tuple[Poly, Poly]) -> bool:
    """Whether ``given`` (P2 >= Q2) implies ``pair`` (P >= Q): P >= P2 and Q2 >= Q for every value of the symbols,
    where P and P2 are products, compared factor by factor (P2's each at most one of P's, the rest of P at least 1):
    ((H + 1)//2)*N >= ((H + 31)//32)*N."""
    if given is None:
        return False
    (big, low), (small, high) = pair, given
    if not _at_least_value(_add(high, _scale(low, -1)), 0) or len(big) != 1 or len(small) != 1:
        return False
    (mb, cb), (ms, cs) = big[0], small[0]
    if not 0 < cs <= cb:
        return False
    rest = list(mb)
    for atom in ms:
        if not _at_least_value((((atom,), 1),), 0):
            return False
        for i, other in enumerate(rest):
            if _at_least_value(_add((((other,), 1),), (((atom,), -1),)), 0):
                del rest[i]
                break
        else:
            return False
    return all(_at_least_value((((atom,), 1),), 1) for atom in rest)


def _at_least_value(p: Poly, value: int) -> bool:
    """Whether ``p >= value`` for every value of its symbols (from their least up), as far as the lower bound
    shows. A size is an integer, so a bound of -1/2 shows it is at least 0: (H + 1)//2 - (H + 31)//32 is."""
    lo = _low(p)
    return lo is not None and math.ceil(lo) >= value


def _fmt(v: DimLike) -> str:
    return str(v)


# --------------------------------------------------------------------------- printing


def _format(p: Poly) -> str:
    if not p:
        return "0"
    out = ""
    for i, (m, c) in enumerate(p):
        body = "*".join(_format_atom(a, len(m) > 1 or c != 1) for a in m)
        mag = abs(c)
        if not m:
            text = str(mag)
        elif mag == 1:
            text = body
        else:
            text = f"{mag}*{body}"
        if i == 0:
            out = text if c > 0 else f"-{text}"
        else:
            out += f" + {text}" if c > 0 else f" - {text}"
    return out


def _format_atom(atom: tuple, in_product: bool) -> str:
    if atom[0] == "sym":
        return atom[1]
    num = _format(atom[1])
    if not _is_name(atom[1]):
        num = f"({num})"
    den = str(atom[2]) if isinstance(atom[2], int) else _format(atom[2])
    if not isinstance(atom[2], int) and not _is_name(atom[2]):
        den = f"({den})"
    text = f"{num}//{den}"
    return f"({text})" if in_product else text


def _is_name(p: Poly) -> bool:
    """Whether the polynomial is one symbol alone (which needs no parentheses around it)."""
    return len(p) == 1 and p[0][1] == 1 and len(p[0][0]) == 1 and p[0][0][0][0] == "sym"


def parse_size(text: str) -> DimLike:
    """One size of ``--input-shape``: ASCII digits (an int, maybe negative: the caller bounds it), or a name
    (``N``, ``H``) for a symbolic size; anything else is a ValueError."""
    text = text.strip()
    if text.isascii() and text.lstrip("-").isdigit():
        return int(text)
    if text.isascii() and text.isidentifier():
        return Dim.symbol(text)
    raise ValueError(f"{text!r} is neither a size nor a name")

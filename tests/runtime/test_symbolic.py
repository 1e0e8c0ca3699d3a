"""Symbolic sizes: arithmetic that equals integer arithmetic, canonical forms, decisions and assumptions."""

from __future__ import annotations

import operator

import pytest

from hypothesis import given, settings
from hypothesis import strategies as st

from nnspec.runtime.symbolic import Dim, SymbolicValueError, assumptions, parse_size

H, W, N = Dim.symbol("H"), Dim.symbol("W"), Dim.symbol("N")

# an expression tree over H and W: ("leaf", name | int) or (op, left, right); divisors are positive ints
leaf = st.one_of(st.sampled_from(["H", "W"]), st.integers(-5, 9)).map(lambda v: ("leaf", v))
tree = st.recursive(leaf, lambda t: st.one_of(
    st.tuples(st.sampled_from(["add", "sub", "mul"]), t, t),
    st.tuples(st.sampled_from(["floordiv", "mod"]), t, st.integers(1, 6).map(lambda v: ("leaf", v))),
), max_leaves=8)
OPS = {"add": operator.add, "sub": operator.sub, "mul": operator.mul, "floordiv": operator.floordiv,
       "mod": operator.mod}


def build(t, env):
    if t[0] == "leaf":
        return env.get(t[1], t[1]) if isinstance(t[1], str) else t[1]
    return OPS[t[0]](build(t[1], env), build(t[2], env))


@settings(max_examples=400, deadline=None, derandomize=True, database=None)
@given(tree, st.integers(1, 60), st.integers(1, 60))
def test_symbolic_arithmetic_is_integer_arithmetic(t, h, w):
    symbolic = build(t, {"H": H, "W": W})
    expected = build(t, {"H": h, "W": w})
    value = symbolic if isinstance(symbolic, int) else symbolic.evaluate({"H": h, "W": w})
    assert value == expected
    if isinstance(symbolic, Dim):  # the printed formula is Python for the same number
        assert eval(str(symbolic), {"__builtins__": {}}, {"H": h, "W": w}) == expected  # noqa: S307 - our own text
        for k in (-3, 0, 1, 2, 5):  # a decision made without an assumption holds for every size >= 1
            with assumptions() as log:
                ge, eq = symbolic >= k, symbolic == k
            if not log:
                assert (ge, eq) == (expected >= k, expected == k)


def test_equal_formulas_are_equal_by_structure():
    conv7 = (H + 2 * 3 - 7) // 2 + 1  # torchvision's stem
    assert str(conv7) == "(H + 1)//2"
    main = (conv7 + 2 - 3) // 2 + 1  # a 3x3 stride-2 conv, padding 1
    skip = (conv7 - 1) // 2 + 1  # the 1x1 stride-2 downsample
    assert main == skip and hash(main) == hash(skip) and str(main) == "(H + 3)//4"
    assert (2 * H + 3) // 2 == H + 1 and (H * W) // W == H and H - H == 0 and isinstance(H - H, int)
    assert (H // 2) // 2 == H // 4 and str(H % 4) == "H - 4*(H//4)"


def test_decisions_that_hold_for_every_size_assume_nothing():
    with assumptions() as log:
        assert H + 6 >= 7 and H != 0 and H >= 1 and (H + 1) // 2 >= 1 and not (H < 1) and H * W >= W
        assert (H + 1) // 2 >= (H + 31) // 32 and H - H // 2 >= 1  # sizes are integers: a bound of -1/2 is 0
    assert log == []  # a symbolic size is at least 1


def test_a_size_that_must_not_be_1_is_assumed_to_be_more():
    with assumptions() as log:
        assert H != 1  # decided on the hint, recorded in its solved form
        assert H > 1 and not (H < 2) and H // 2 != 0  # the same condition: nothing more
        assert (W == 1) is False
        T = Dim.symbol("T")
        assert N * T > 1 and N * T * H > 1  # a product is assumed as it is (the second follows from H >= 2)
    assert log == ["H >= 2", "W >= 2", "N*T >= 2"]
    assert log.needed() == log


def test_an_assumption_that_later_ones_imply_is_not_needed():
    with assumptions() as log:
        assert N * ((H + 1) // 2) > 1  # train-mode BatchNorm after a stride-2 stem
        assert N * ((H + 31) // 32) > 1  # ... and after the last stage: this one implies the first
        assert H * W * N > 1
        assert (W - 1) // 32 + 1 >= 2  # W >= 33: then H*N*W >= 2 holds whatever H and N are
    assert log == ["((H + 1)//2)*N >= 2", "((H + 31)//32)*N >= 2", "H*N*W >= 2", "W >= 33"]
    assert log.needed() == ["((H + 31)//32)*N >= 2", "W >= 33"]


def test_decisions_that_depend_on_the_sizes_are_recorded():
    with assumptions() as log:
        assert (H - 1) // 4 + 1 >= 2  # decided on the hint (a large size)
        assert H >= 5  # the same condition, said once
        assert H // 2 * 2 == H  # the hint is even
        assert H != W  # different names are different sizes
    assert log == ["H >= 5", "2*(H//2) == H", "H != W"]


def test_a_symbolic_size_has_no_number():
    for fn in (int, float, lambda d: range(d), lambda d: int(d / 2), lambda d: (d ** 0.5) < 3):
        with pytest.raises(SymbolicValueError, match="symbolic"):
            fn(H)


def test_a_float_of_sizes_is_symbolic_and_only_good_for_scaling():
    scale = 1 / W ** 0.5  # attention's scaling: a float whose value static inference does not need
    assert str(scale) == "1 / (W ** 0.5)" and str(H ** 2) == "H*H"
    with pytest.raises(SymbolicValueError, match="depends on symbolic sizes"):
        H * 2 // scale


def test_a_size_that_grows_without_bound_is_refused():
    n = H
    with pytest.raises(SymbolicValueError, match="grew past 256 terms, degree 64"):
        for _ in range(20):
            n = (n + 1) * (n + 1)


def test_formulas_print_as_python_for_the_same_number():
    assert str((3 * H * N * W) // (2 * W)) == "(3*H*N*W)//(2*W)"
    assert str((H - 2) // (H // 4)) == "(H - 2)//(H//4)"


def test_parse_size():
    assert parse_size("224") == 224 and parse_size(" N ") == N
    with pytest.raises(ValueError):
        parse_size("H+1")


def test_an_assumed_bound_decides_what_follows_from_it():
    with assumptions() as log:
        assert (H - 1) // 32 + 1 >= 2  # assumes H >= 33
        assert H // 32 != 0 and H >= 20 and (H + 1) // 2 > 10  # all follow from H >= 33: nothing more
    assert log == ["H >= 33"]


def test_pruning_the_assumptions_is_bounded(monkeypatch):
    """A forward of many asserts that imply nothing of each other (a hostile file's) is listed whole, and the
    implications tried to prune it stay under MAX_PRUNING_CHECKS (they grew with the square of the count)."""
    import nnspec
    import nnspec.runtime.symbolic as symbolic

    calls = []
    real = symbolic._implies
    monkeypatch.setattr(symbolic, "_implies", lambda given, pair: calls.append(1) or real(given, pair))
    lines = "\n".join(f"      assert x.size(0) // {i} * x.size(1) >= 2, 'no'" for i in range(401, 1, -1))
    model = nnspec.loads(f"name: M\nforward: |\n  def forward(self, x):\n{lines}\n      return x\n", meta=True)
    found = nnspec.static.infer(model, [(parse_size("N"), parse_size("H"))])
    assert len(found.assumptions) == 400
    assert len(calls) <= symbolic.MAX_PRUNING_CHECKS

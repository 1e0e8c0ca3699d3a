"""The tools of the registry parity test (tests/runtime/test_tensor_ops.py): one Case per call, compared with
torch's. Each op family may keep its cases in tests/runtime/op_cases_<family>.py, as dicts NN_CASES (F.<name>),
TORCH_CASES (torch.<name>) and METHOD_CASES (Tensor.<name>), built with these tools; the test merges them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

_R = np.random.default_rng(20240613)


def rnd(*shape, dtype=np.float32):
    return _R.standard_normal(shape).astype(dtype)


def ints(*values, dtype=np.int64):
    return np.array(values, dtype=dtype)


class DT:
    """A dtype argument: its name for nnspec, torch.<name> for torch."""

    def __init__(self, name: str):
        self.name = name


class P:
    """A Parameter on nnspec's side, a tensor on torch's."""

    def __init__(self, a):
        self.a = a


@dataclass
class Case:
    args: tuple
    kwargs: dict = field(default_factory=dict)
    raises: type | None = None  # the nnspec error expected (torch must raise too)
    same_message: bool = False  # nnspec's message contains the first line of torch's
    tol: float = 1e-4
    check: Callable | None = None  # a custom comparison for random ops: check(got, want)


def c(*args, **kwargs) -> Case:
    return Case(args, kwargs)


def c_tol(tol, *args, **kwargs) -> Case:
    return Case(args, kwargs, tol=tol)


def err(exc, *args, **kwargs) -> Case:
    return Case(args, kwargs, raises=exc)


def err_msg(exc, *args, **kwargs) -> Case:
    return Case(args, kwargs, raises=exc, same_message=True)


def checked(check, *args, **kwargs) -> Case:
    return Case(args, kwargs, check=check)

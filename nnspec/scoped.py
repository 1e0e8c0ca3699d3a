"""``scoped``: a context variable set for the length of a ``with`` block."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TypeVar

T = TypeVar("T")


@contextmanager
def scoped(var: ContextVar, value: T) -> Iterator[T]:
    """Set ``var`` to ``value`` inside the block (yielding the value), and back after it, even on error."""
    token = var.set(value)
    try:
        yield value
    finally:
        var.reset(token)

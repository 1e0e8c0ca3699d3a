"""How long work reports how far it has got, for a progress bar the caller draws (the ``nnspec`` command draws
one on a terminal; the library draws nothing).

A ``Progress`` is called as ``progress(stage, done, total)``: ``stage`` a word for what is being done
("reading", "writing", "running", "translating", ...), ``done`` out of ``total`` units of it (bytes, arrays,
runs, steps), ``total`` None where it is not known. It is called at the start of a stage (done 0) and as the
work goes on, often enough to move a bar and rarely enough to cost nothing next to the work.
"""

from __future__ import annotations

from collections.abc import Callable

Progress = Callable[[str, int, "int | None"], None]


def quiet(stage: str, done: int, total: int | None) -> None:
    """The progress of a caller that asked for none."""

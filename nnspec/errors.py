"""One error family for everything a model file or a call can get wrong.

Every subclass carries where the mistake is (file, line, column) and what it
concerns (a dotted path into the model), so the CLI can print one clear line and
the Python API can inspect the same fields.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

# What must never reach a terminal raw from a file, a key or a file name: C0 controls but tab and newline (ESC
# starts the sequences that retitle a window, clear the screen or fake a line), DEL, C1 controls and the bidi
# controls (U+202E makes text read backwards). As the body of a regex class: Python, JSON Schema (ECMA-262) and
# pydantic's Rust regexes all read \uXXXX alike.
CONTROL_CHARS = r"\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
# ... and lone surrogates: a file name's undecodable bytes, which no terminal encoding can write
_UNSAFE = re.compile(rf"[{CONTROL_CHARS}\ud800-\udfff]")


def printable(text: str) -> str:
    """``text`` safe for a terminal: each control character and bidi control shown as its Python escape
    (``\\x1b``, ``\\u202e``), everything else (tabs and newlines included) as it is. Idempotent, so text
    escaped once may be escaped again at the output."""
    return _UNSAFE.sub(lambda m: repr(m.group())[1:-1], text)


@dataclass(frozen=True)
class Position:
    """A place in a model file; line and column are 1-based, as editors count."""

    file: str | None = None
    line: int | None = None
    col: int | None = None

    def __str__(self) -> str:
        # a file's own name may carry escapes too (m\x1b]0;title\x07.yaml): ``file`` keeps it, its text escapes it
        parts = [printable(self.file or "<string>")]
        if self.line is not None:
            parts.append(str(self.line))
            if self.col is not None:
                parts.append(str(self.col))
        return ":".join(parts)


class NNSpecError(Exception):
    """Base of every error nnspec raises on purpose."""

    kind = "error"

    def __init__(self, message: str, *, path: str | None = None, position: Position | None = None):
        super().__init__(message)
        self.message = message
        self.path = path
        self.position = position

    def __str__(self) -> str:
        # the text is for people, so it is escaped for a terminal: the dotted path holds the file's own keys, and
        # a message may quote them; the fields keep them as they are, for programs
        prefix = f"{self.position}: " if self.position is not None else ""
        where = f"{self.path}: " if self.path else ""
        return printable(f"{prefix}{where}{self.message}")


class SpecError(NNSpecError):
    """The model file is malformed: bad YAML, unknown type, bad argument."""

    kind = "spec error"


class CompileError(NNSpecError):
    """The spec is valid but cannot be built into a Module tree."""

    kind = "compile error"


class ShapeError(NNSpecError):
    """An input does not fit the layer it is fed to."""

    kind = "shape error"


class WeightsError(NNSpecError):
    """A state_dict does not fit the model (torch's load_state_dict errors)."""

    kind = "weights error"


class NNSpecRuntimeError(NNSpecError):
    """A failure while running a model that is not a shape problem."""

    kind = "runtime error"


class _Several:
    """Several independent errors reported together, one per line; the first gives the fields."""

    def __init__(self, errors: list[NNSpecError]):
        self.errors = list(errors)
        first = self.errors[0]
        super().__init__(first.message, path=first.path, position=first.position)

    def __str__(self) -> str:
        return "\n".join(str(e) for e in self.errors)


class SpecErrors(_Several, SpecError):
    """Several independent spec errors, reported together, one per line."""


class WeightsErrors(_Several, WeightsError):
    """Several mismatches between a weights file and a model, one per line."""


class CompileErrors(_Several, CompileError):
    """Several independent compile errors (a file's forwards and functions), reported together, one per line:
    ``errors`` lists the first MAX_LISTED and a count of the rest, ``collected`` holds them all."""

    def __init__(self, errors: list[NNSpecError], collected: list[NNSpecError] | None = None):
        super().__init__(errors)
        self.collected = list(collected) if collected is not None else list(errors)


class Consequence(CompileError):
    """A compile error that only follows from others reported with it (a forward calling a helper whose def has a
    mistake): left out of a report that has them."""


MAX_LISTED = 20  # errors of one run listed one per line; past them, a count
MAX_COLLECTED = 1_000  # errors one run collects before it stops looking for more
MAX_COLLECTED_BYTES = 1 << 20  # ... or the characters of their messages: a thousand long messages are not kept


class ErrorLog:
    """Independent compile errors collected while a file is compiled, to be raised together (``error``).

    Each mistake is listed once: the same message at the same place (a loop unrolled, a helper inlined from two
    forwards) is one mistake. They are listed in file order, the first MAX_LISTED of them, then a count of the
    rest. A hostile file can't make the report large: past MAX_COLLECTED errors, ``full`` tells the compiler to
    stop looking.
    """

    def __init__(self, errors: list[CompileError] | tuple = ()):
        self.errors: list[CompileError] = []
        self.consequence: Consequence | None = None  # raised only where there is nothing else to report
        self._seen: set[tuple] = set()
        self._chars = 0  # of the messages kept
        for e in errors:
            self.add(e)

    def add(self, error: CompileError, place: Callable[[CompileError], CompileError] | None = None) -> None:
        """Record ``error`` (each of them, for a CompileErrors), unless it was recorded already, it is a
        Consequence, or the log is full. ``place``, where given, places an error that has no line."""
        for e in getattr(error, "collected", None) or getattr(error, "errors", None) or [error]:
            if isinstance(e, Consequence):
                self.consequence = e
                continue
            if place is not None and (e.position is None or e.position.line is None):
                e = place(e)
            where = e.position or Position()
            key = (where.file, where.line, where.col, e.message)
            if key not in self._seen and not self.full:
                self._seen.add(key)
                self.errors.append(e)
                self._chars += len(e.message)

    @property
    def full(self) -> bool:
        return len(self.errors) >= MAX_COLLECTED or self._chars >= MAX_COLLECTED_BYTES

    def __bool__(self) -> bool:
        return bool(self.errors) or self.consequence is not None

    def error(self) -> CompileError:
        """The errors as one exception: the error itself where there is one, else a CompileErrors."""
        if not self.errors and self.consequence is not None:
            return self.consequence
        errors = sorted(self.errors, key=lambda e: (e.position.line or 0, e.position.col or 0) if e.position
                        else (0, 0))
        if len(errors) == 1:
            return errors[0]
        listed = errors[:MAX_LISTED]
        if len(errors) > MAX_LISTED:  # a count of the rest, placed in the file (at the next one's line)
            more, after = len(errors) - MAX_LISTED, errors[MAX_LISTED].position or Position()
            text = f"... and {more:,} more error{'s' * (more != 1)}"
            text += f", the next at line {after.line}" if after.line is not None else ""
            text += f" (looking stopped at {MAX_COLLECTED:,})" if self.full else ""
            listed.append(CompileError(text, position=Position(after.file)))
        return CompileErrors(listed, errors)

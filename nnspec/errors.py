"""One error family for everything a model file or a call can get wrong.

Every subclass carries where the mistake is (file, line, column) and what it
concerns (a dotted path into the model), so the CLI can print one clear line and
the Python API can inspect the same fields.
"""

from __future__ import annotations

import re
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

"""Where a forward's text sits in its model file, so errors count lines and columns in the file."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field

from ..errors import Position


@dataclass(frozen=True)
class ForwardSource:
    """The forward code (dedented) and the file position of its first line and indentation."""

    code: str
    filename: str = "<string>"
    line: int | None = None  # file line (1-based) of the code's first line
    col: int = 0  # file columns before the code's own column 0

    exact: bool = True  # False: escapes in a quoted string shift lines, so only the value's start is known
    _positions: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def position(self, lineno: int, col_offset: int) -> Position:
        """The file position of an ``ast`` location inside the code (lineno 1-based, col_offset in UTF-8 bytes)."""
        key = (lineno, col_offset)
        if key not in self._positions:  # an unrolled loop asks for the same few places, node after node
            self._positions[key] = self._position(lineno, col_offset)
        return self._positions[key]

    def _position(self, lineno: int, col_offset: int) -> Position:
        if self.line is None:
            return Position(self.filename)
        if not self.exact:
            return Position(self.filename, self.line, self.col + 1)
        lines = self.code.splitlines()
        text = lines[lineno - 1] if 0 < lineno <= len(lines) else ""
        chars = len(text.encode("utf-8")[:col_offset].decode("utf-8", errors="ignore"))
        return Position(self.filename, self.line + lineno - 1, self.col + chars + 1)

    @classmethod
    def locate(cls, text: str, file_text: str | list[str] | None, filename: str,
               where: Position | None) -> ForwardSource:
        """Find the code of a ``forward:`` value whose YAML value starts at ``where``. ``file_text`` may be
        given as its lines (``str.splitlines``), split once for a file of many forwards."""
        code = textwrap.dedent(text)
        removed = _common_indent(text)
        if file_text is None or where is None or where.line is None:
            return cls(code, filename)
        lines = file_text if isinstance(file_text, list) else file_text.splitlines()
        row = lines[where.line - 1] if where.line - 1 < len(lines) else ""
        start = row[(where.col or 1) - 1:(where.col or 1)]
        if start in ("|", ">"):  # a block scalar: the code starts on the next line, at the block's indent
            first = next((lines[i] for i in range(where.line, len(lines)) if lines[i].strip()), None)
            indent = len(first) - len(first.lstrip(" ")) if first is not None else 0
            return cls(code, filename, where.line + 1, indent + removed)
        quote = 1 if start in ("'", '"') else 0
        return cls(code, filename, where.line, (where.col or 1) - 1 + quote + removed, exact="\n" not in text)


def _common_indent(text: str) -> int:
    widths = [len(ln) - len(ln.lstrip(" ")) for ln in text.splitlines() if ln.strip()]
    return min(widths) if widths else 0


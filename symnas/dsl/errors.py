"""The DSL's error type: every problem in a space file is reported as ``file:line:col`` + the line + a caret + a hint.

Example::

    try:
        symnas.dsl.loads("x = int(5, 1)", filename="hp.sns")
    except DSLError as e:
        print(e)        # hp.sns:1:5: int: low > high (5 > 1) ... (the line, a caret, a hint)
"""
from __future__ import annotations

from typing import Optional

from symnas.errors import SymnasError

__all__ = ["DSLError", "Source"]


class Source:
    """A DSL text with its file name, to point at places in it."""

    __slots__ = ("text", "filename", "lines")

    def __init__(self, text: str, filename: str = "<string>") -> None:
        self.text = text
        self.filename = filename
        self.lines = text.splitlines()

    def error(self, message: str, line: Optional[int] = None, col: Optional[int] = None,
              hint: str = "") -> "DSLError":
        """A :class:`DSLError` at ``line:col`` (1-based) of this source."""
        return DSLError(message, self.filename, line, col, self.lines[line - 1] if line and 0 < line <= len(
            self.lines) else None, hint)


class DSLError(SymnasError, ValueError):
    """A malformed search-space file. Attributes ``filename``, ``line``, ``col`` (1-based), ``hint``."""

    def __init__(self, message: str, filename: str = "<string>", line: Optional[int] = None,
                 col: Optional[int] = None, source_line: Optional[str] = None, hint: str = "") -> None:
        self.message, self.filename, self.line, self.col = message, filename, line, col
        self.source_line, self.hint = source_line, hint
        super().__init__(self._format())

    def _format(self) -> str:
        where = self.filename + (f":{self.line}" if self.line else "") + (f":{self.col}" if self.col else "")
        out = f"{where}: {self.message}"
        if self.source_line is not None:
            shown = self.source_line.expandtabs(1)
            if len(shown) > 200:
                start = max(0, (self.col or 1) - 100)
                shown, caret = shown[start:start + 200], (self.col or 1) - start
            else:
                caret = self.col or 1
            out += f"\n    {shown}\n    {' ' * (max(caret, 1) - 1)}^"
        if self.hint:
            out += f"\n  hint: {self.hint}"
        return out

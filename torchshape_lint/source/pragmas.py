"""`# torchshape: input=(N, C, H, W)` comments: the input shape of the model defined just below."""

from __future__ import annotations

import ast
import io
import re
import tokenize
from dataclasses import dataclass, field
from typing import Any

from torchshape_lint.source.reader import PRAGMA, Span

INPUT = re.compile(r"^input\s*=\s*(?P<shape>.+?)\s*$")


def input_pragma(text: str) -> tuple | None:
    """The shape a pragma gives, or None when it is not a well-formed input pragma."""
    return read_input_pragma(text)[0]


def read_input_pragma(text: str) -> tuple[tuple | None, str | None]:
    """(shape, None) for a well-formed input pragma; else (None, what is wrong with it)."""
    match = INPUT.match(text)
    if not match:
        return None, "the only pragma is `input=(N, C, H, W)`"
    written = match.group("shape")
    try:
        value = ast.literal_eval(written)
    except (ValueError, SyntaxError, MemoryError, RecursionError, TypeError):
        return None, f"{written} is not a tuple of integers"
    if isinstance(value, int) and not isinstance(value, bool):
        value = (value,)
    if not isinstance(value, (tuple, list)) or not value:
        return None, f"{written} is not a tuple of integers"
    for dim in value:
        if not isinstance(dim, int) or isinstance(dim, bool):
            return None, f"{dim!r} in {written} is not an integer"
        if dim < 1:
            return None, f"{dim} in {written} is not a size (each dimension is at least 1)"
    return tuple(value), None


@dataclass(frozen=True)
class PragmaPlace:
    """Where a pragma comment is; stands in for the (unit, node) a violation points at, as a comment has no node."""

    source: Any = field(compare=False, repr=False)  # the SourceFile, as a unit has it
    line: int
    column: int
    end_column: int

    @classmethod
    def of(cls, source: Any, line: int) -> "PragmaPlace":
        text = source.line(line)
        match = PRAGMA.search(text)
        return cls(source, line, match.start() if match else 0, len(text.rstrip("\r\n")))

    def span(self, node: object = None) -> Span:
        return Span(self.line, self.column, self.line, self.end_column)


def comment_lines(text: str) -> set:
    """Lines where `# torchshape:` is a comment, not text inside a string (a docstring that shows a pragma)."""
    lines = set()
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type == tokenize.COMMENT and PRAGMA.match(token.string):
                lines.add(token.start[0])
    except (tokenize.TokenError, SyntaxError, ValueError):
        pass
    return lines

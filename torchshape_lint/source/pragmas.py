"""`# torchshape: input=(N, C, H, W)` comments: the input of the model defined just below — one shape, or one per
forward argument (`input=[(1, 100), (1, 10)]`) — and the keyword arguments to build its class with
(`kwargs={"num_classes": 10}`).

A pragma stands alone on the line directly above a top-level class, function or assignment (or above the
`class`/`def` line under its decorators) and is about what that statement builds. Anywhere else it applies to
nothing, and is reported at its own line rather than silently ignored.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from dataclasses import dataclass, field
from typing import Any, Iterator

from torchshape_lint.source.reader import PRAGMA, Span

# `# torchshape input=(...)`: meant as a pragma, but without the colon it is not one
NEAR_MISS = re.compile(r"#\s*torchshape(?!\s*:)[\s=;,.-]*(input|kwargs)\s*=")
TARGETS = (ast.ClassDef, ast.FunctionDef, ast.Assign, ast.AnnAssign)  # what a pragma may stand above
FORM = "`input=(N, C, H, W)`, `input=[(N, C, H, W), (N, D)]` (one shape per forward argument), `kwargs={...}`"


@dataclass(frozen=True)
class PragmaInput:
    """What a pragma gives a model: the shape of each tensor its forward takes (none: not said), and the keyword
    arguments to build its class with (`kwargs={"num_classes": 10}`, for a class no file of the project builds)."""

    shapes: tuple = ()
    kwargs: dict = field(default_factory=dict, hash=False)


def input_pragma(text: str) -> tuple | None:
    """The first input's shape a pragma gives, or None when it gives none or is not well-formed."""
    given = read_pragma(text)[0]
    return given.shapes[0] if given is not None and given.shapes else None


def read_pragma(text: str) -> tuple[PragmaInput | None, str | None]:
    """(what it gives, None) for a well-formed pragma; else (None, what is wrong with it). A pragma is written as
    keyword arguments are: `input=(1, 3, 32, 32) kwargs={"num_classes": 10}` (a comma between them is allowed)."""
    parts = _keywords(text)
    if parts is None:
        return None, f"a pragma is {FORM}"
    shapes: tuple = ()
    kwargs: dict = {}
    for key, written in parts:
        try:
            value = ast.literal_eval(written)
        except (ValueError, SyntaxError, MemoryError, RecursionError, TypeError):
            return None, f"{written} is not a literal" if key == "kwargs" else f"{written} is not a tuple of integers"
        if key == "input":
            several = isinstance(value, list) and value and all(isinstance(v, tuple) for v in value)
            for shape in value if several else [value]:
                shape, problem = _shape(shape, written)
                if problem is not None:
                    return None, problem
                shapes += (shape,)
        elif not isinstance(value, dict) or not all(isinstance(k, str) and k.isidentifier() for k in value):
            return None, f"{written} is not a dict of keyword arguments (`kwargs={{\"num_classes\": 10}}`)"
        else:
            kwargs = value
    return PragmaInput(shapes, kwargs), None


def _keywords(text: str) -> list | None:
    """[(key, its value as written)] of a pragma's `key=value` parts, each key once; None when it is not that."""
    source = f"_({text.replace(') kwargs=', '), kwargs=')})"  # the space-separated form reads as keywords
    try:
        call = ast.parse(source, mode="eval").body
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return None
    if not isinstance(call, ast.Call) or call.args or not call.keywords:
        return None
    keys = [keyword.arg for keyword in call.keywords]
    if any(key not in ("input", "kwargs") for key in keys) or len(set(keys)) != len(keys):
        return None
    return [(keyword.arg, ast.get_source_segment(source, keyword.value)) for keyword in call.keywords]


def _shape(value: object, written: str) -> tuple[tuple | None, str | None]:
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
        match = PRAGMA.search(text) or NEAR_MISS.search(text)
        return cls(source, line, match.start() if match else 0, len(text.rstrip("\r\n")))

    def span(self, node: object = None) -> Span:
        return Span(self.line, self.column, self.line, self.end_column)


def comments(source: Any) -> dict:
    """`# torchshape...` comments by line (not text inside a string, such as a docstring that shows a
    pragma): (the comment, whether it stands alone on its line).

    Only the text that holds such a line is tokenized: a line outside every top-level statement alone (it can only
    be a comment), else the lines of the statement around it, which starts a line at column 0 and so tokenizes on
    its own. A 10 000-line `nn.Sequential` with a pragma above it costs one line, not the file."""
    wanted = [number for number, line in enumerate(source.lines, start=1) if "torchshape" in line]
    if not wanted:
        return {}
    statements = source.statements()
    pieces: dict = {}  # first line → last line of each piece of text to tokenize
    for number in wanted:
        around = next((top for top in statements if top.start <= number <= top.node.end_lineno), None)
        first, last = (around.start, around.node.end_lineno) if around is not None else (number, number)
        pieces[first] = max(last, pieces.get(first, last))
    found = {}
    for first, last in pieces.items():
        text = "".join(source.lines[first - 1:last])
        try:
            for token in tokenize.generate_tokens(io.StringIO(text).readline):
                if token.type == tokenize.COMMENT and (PRAGMA.match(token.string) or NEAR_MISS.match(token.string)):
                    found[first + token.start[0] - 1] = (token.string, not token.line[:token.start[1]].strip())
        except (tokenize.TokenError, SyntaxError, ValueError):
            pass
    return found


def pragma_lines(node: ast.stmt) -> set:
    """The lines a pragma about this statement may stand on: directly above it, decorators included, or
    between its decorators and its `class`/`def` line."""
    first = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
    return {first - 1, node.lineno - 1}


class Pragmas:
    """A file's pragmas: the input each statement's pragma gives, and the pragmas that cannot be used."""

    def __init__(self, source: Any) -> None:
        self.lines = source.lines  # not the file itself, which keeps this reading: no cycle to collect
        written = source.pragmas()
        near = "torchshape" in source.text and any(NEAR_MISS.search(line) for line in source.lines)
        self.comments = comments(source) if written or near else {}
        self.written = {line: p for line, p in written.items() if line in self.comments}
        self.targets = {line: top for top in source.statements() if isinstance(top.node, TARGETS)
                        for line in pragma_lines(top.node)} if self.comments else {}

    @classmethod
    def of(cls, source: Any) -> "Pragmas":
        """One reading per file, kept by the file (a process-wide table keyed by the file would keep every file read
        alive, as the reading holds its file): a class's pragma is looked up by every build of it, from any file."""
        if source.pragma_reading is None:
            source.pragma_reading = cls(source)
        return source.pragma_reading

    def input_above(self, node: ast.stmt) -> PragmaInput | None:
        """What a well-placed, well-formed pragma above this top-level statement gives."""
        for line in sorted(pragma_lines(node)):
            pragma = self.written.get(line)
            if pragma is not None and self.comments[line][1] and line in self.targets:
                given = read_pragma(pragma.text)[0]
                if given is not None:
                    return given
        return None

    def problems(self) -> Iterator[tuple[int, str, str, str]]:
        """(line, comment, violation kind, what is wrong) for each pragma that cannot be used as written."""
        for line, (comment, alone) in sorted(self.comments.items()):
            pragma = self.written.get(line)
            if pragma is None:
                yield line, comment, "bad-pragma", "a pragma needs a colon after `torchshape`: " \
                                                   "`# torchshape: input=(...)`"
                continue
            problem = read_pragma(pragma.text)[1]
            if problem is not None:
                yield line, comment, "bad-pragma", problem
            elif not alone:
                yield line, comment, "misplaced-pragma", (
                    "it shares its line with code; a pragma stands alone on the line directly above the class, "
                    "function or assignment it is about")
            elif line not in self.targets:
                yield line, comment, "misplaced-pragma", self.why_nothing_below(line)

    def why_nothing_below(self, line: int) -> str:
        below = line + 1
        while below <= len(self.lines) and not self.lines[below - 1].strip():
            below += 1
        if below > line + 1 and below - 1 in self.targets:
            return (f"a blank line separates it from line {below}; a pragma is about the statement on the very "
                    "next line")
        return "it is not directly above a class, a function or an assignment at the top level of the file"

"""A source file as the analysis reads it.

Python's `ast` (which flake8 hands over for free) gives the map of top-level statements; libcst parses
a statement only when the evaluator needs it, so a file pays for libcst only where models are built.
Positions are computed only for the nodes a finding points at.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from dataclasses import dataclass
from typing import Any

MAX_UNIT_CHARS = 200_000  # about 4 000 lines of model code: larger statements are data, not models
# What reading a source as Python raises: a syntax error or a bad encoding declaration (SyntaxError), bytes that
# are not text in its encoding or NUL bytes (ValueError), nesting deeper than the parser holds (RecursionError,
# MemoryError).
UNREADABLE = (SyntaxError, ValueError, RecursionError, MemoryError)
PRAGMA = re.compile(r"#\s*torchshape:\s*(?P<body>.*)$")


@dataclass(frozen=True)
class Span:
    line: int  # 1-based
    column: int  # 0-based
    end_line: int
    end_column: int


@dataclass
class Pragma:
    line: int
    text: str


class Unit:
    """One top-level statement (or a group sharing lines), parsed by libcst on first use."""

    def __init__(self, source: "SourceFile", start: int, end: int) -> None:
        self.source, self.start, self.end = source, start, end
        self._module = None
        self._positions = None

    @property
    def module(self):
        """The libcst module of this statement; an empty one for a statement too large to be worth reading
        (a literal of 100 000 items), whose names then stay unknown."""
        if self._module is None:
            import libcst  # only files that build models pay for libcst

            text = "".join(self.source.lines[self.start - 1: self.end])
            self._module = libcst.parse_module(text if len(text) <= MAX_UNIT_CHARS else "")
        return self._module

    def span(self, node: Any) -> Span:
        if self._positions is None:
            from libcst.metadata import MetadataWrapper, PositionProvider

            wrapper = MetadataWrapper(self.module, unsafe_skip_copy=True)
            self._positions = wrapper.resolve(PositionProvider)
        where = self._positions[node]
        offset = self.start - 1
        return Span(where.start.line + offset, where.start.column, where.end.line + offset, where.end.column)

    def code(self, node: Any) -> str:
        return self.module.code_for_node(node)


@dataclass
class TopLevel:
    node: ast.stmt
    unit: Unit


class SourceFile:
    def __init__(self, text: str, path: str = "<string>", tree: ast.Module | None = None) -> None:
        self.text = text
        self.path = path
        self.lines = text.splitlines(keepends=True)
        self.tree = tree if tree is not None else ast.parse(text)
        self._statements: list[TopLevel] | None = None
        self._generators: frozenset | None = None

    @classmethod
    def from_bytes(cls, data: bytes, path: str) -> "SourceFile":
        """The file's text in its declared encoding, parsed; raises one of UNREADABLE when it is not Python."""
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        return cls(data.decode(encoding), path)

    def statements(self) -> list[TopLevel]:
        """Top-level statements in order, each with the unit that holds it."""
        if self._statements is None:
            result: list[TopLevel] = []
            last: Unit | None = None
            for node in self.tree.body:
                start = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
                end = node.end_lineno or node.lineno
                if last is not None and start <= last.end:  # statements sharing a line share a unit
                    last.end = max(last.end, end)
                    result.append(TopLevel(node, last))
                    continue
                last = Unit(self, start, end)
                result.append(TopLevel(node, last))
            self._statements = result
        return self._statements

    def generators(self) -> frozenset:
        """(class name or "", function name) of the top-level functions and methods that yield, read from
        the ast: calling one only creates a generator, so its body must not be run as a call."""
        if self._generators is None:
            found = set()
            for node in self.tree.body if "yield" in self.text else ():
                owner, functions = ("", [node]) if not isinstance(node, ast.ClassDef) else (node.name, node.body)
                for function in functions:
                    if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)) and _yields(function):
                        found.add((owner, function.name))
            self._generators = frozenset(found)
        return self._generators

    def pragmas(self) -> dict[int, Pragma]:
        """`# torchshape: ...` comments by line number (cheap: a substring test first)."""
        found = {}
        if "torchshape:" not in self.text:
            return found
        for number, line in enumerate(self.lines, start=1):
            if "torchshape:" in line:
                match = PRAGMA.search(line)
                if match:
                    found[number] = Pragma(number, match.group("body").strip())
        return found

    def line(self, number: int) -> str:
        return self.lines[number - 1] if 0 < number <= len(self.lines) else ""


def _yields(function: ast.AST) -> bool:
    todo = list(function.body)
    while todo:
        node = todo.pop()
        if isinstance(node, (ast.Yield, ast.YieldFrom)):
            return True
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            todo.extend(ast.iter_child_nodes(node))
    return False


def imports_torch(tree: ast.Module) -> bool:
    """The cheap pre-filter: only a file that imports torch can build a model."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import) and any(a.name.split(".")[0] == "torch" for a in node.names):
            return True
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "torch" and not node.level:
            return True
    return False

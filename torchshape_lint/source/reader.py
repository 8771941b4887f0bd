"""A source file as the analysis reads it: its text, its lines and its `ast` tree (flake8's own, when it hands
one over; else parsed once here), with the positions of the nodes a finding points at.

`ast` counts a column in UTF-8 bytes; flake8, editors and SARIF count characters: `span` converts, and only for
the nodes a finding or a step points at.
"""

from __future__ import annotations

import ast
import gc
import io
import re
import tokenize
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Iterator

# What reading a source as Python raises: a syntax error or a bad encoding declaration (SyntaxError), bytes that
# are not text in its encoding or NUL bytes (ValueError), nesting deeper than the parser holds (RecursionError,
# MemoryError).
UNREADABLE = (SyntaxError, ValueError, RecursionError, MemoryError)
PRAGMA = re.compile(r"#\s*torchshape:\s*(?P<body>.*)$")
LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")  # lines as Python's tokenizer ends them (not at \f)


@contextmanager
def without_cyclic_gc() -> Iterator[None]:
    """Parsing and evaluating make many objects and few cycles; Python's cyclic collector, run as they go, walks
    every tree node made so far each time (up to a third of the time, and more on a large file). The host's
    setting comes back after."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


FULL_COLLECTIONS_SPACED = 10  # times as many young collections between two full ones as the host had


def rarer_full_collections() -> None:
    """Called once per process, when the run's project is made: the modules it reads are kept for every later file
    of the run (a heap as large as the project's parse trees, for as long as the process lives), and each of the
    host's full collections walks all of it to free nothing there (flake8 over torchvision's models: six of them,
    0.7 s, half of the plugin's time). Young collections, which free what dies young, run as before; garbage that
    outlived two of them waits ten times longer."""
    young, middle, full = gc.get_threshold()
    if full:  # 0: the host turned full collections off itself
        gc.set_threshold(young, middle, full * FULL_COLLECTIONS_SPACED)


@dataclass(frozen=True)
class Span:
    line: int  # 1-based
    column: int  # 0-based, in characters
    end_line: int
    end_column: int


@dataclass
class Pragma:
    line: int
    text: str


@dataclass
class TopLevel:
    node: ast.stmt
    start: int  # its first line, decorators included


class SourceFile:
    def __init__(self, text: str, path: str = "<string>", tree: ast.Module | None = None) -> None:
        self.text = text
        self.path = path
        self.lines = LINE.findall(text)
        if tree is None:
            with without_cyclic_gc():
                tree = ast.parse(text)
        self.tree = tree
        self._generators: frozenset | None = None
        self.pragma_reading: Any = None  # source.pragmas.Pragmas.of's reading of this file

    @classmethod
    def from_bytes(cls, data: bytes, path: str) -> "SourceFile":
        """The file's text in its declared encoding, parsed; raises one of UNREADABLE when it is not Python."""
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        return cls(data.decode(encoding), path)

    @property
    def source(self) -> "SourceFile":
        """The file a place is in. A place is where a violation points: this file with a node, or a PragmaPlace."""
        return self

    def span(self, node: ast.AST) -> Span:
        return Span(node.lineno, self.column(node.lineno, node.col_offset),
                    node.end_lineno or node.lineno, self.column(node.end_lineno or node.lineno, node.end_col_offset))

    def column(self, line: int, offset: int) -> int:
        """The character column of a UTF-8 byte offset in a line."""
        text = self.line(line)
        return offset if text.isascii() else len(text.encode("utf-8")[:offset].decode("utf-8", "replace"))

    def statements(self) -> list[TopLevel]:
        """Top-level statements in order, each with its first line."""
        return [TopLevel(node, min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])]))
                for node in self.tree.body]

    def generators(self) -> frozenset:
        """(class name or "", function name) of the top-level functions and methods that yield: calling one
        only creates a generator, so its body must not be run as a call."""
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
            todo.extend(child_nodes(node))
    return False


def holds_any(node: ast.AST, ids: set) -> bool:
    """Whether the node, or one inside it, is one of the nodes whose ids are given."""
    todo = [node] if ids else []
    while todo:
        node = todo.pop()
        if id(node) in ids:
            return True
        todo.extend(child_nodes(node))
    return False


def child_nodes(node: ast.AST) -> list:
    """`ast.iter_child_nodes` in the same order, as a list: half as costly as its generator of generators, on the
    paths that walk whole classes and bodies."""
    found = []
    for name in node._fields:
        value = getattr(node, name, None)
        if value.__class__ is list:
            for item in value:
                if isinstance(item, ast.AST):
                    found.append(item)
        elif isinstance(value, ast.AST):
            found.append(value)
    return found


def imports_torch(tree: ast.Module) -> bool:
    """The cheap pre-filter: only a file that imports torch can build a model."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import) and any(a.name.split(".")[0] == "torch" for a in node.names):
            return True
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "torch" and not node.level:
            return True
    return False


def may_build_models(text: str) -> bool:
    """The cheap pre-filter on the text: a file that names torch, or takes names from another module wholesale
    (`from .parts import *`, whose names may be torch's)."""
    return "torch" in text or "import *" in text


def star_imports(tree: ast.Module) -> bool:
    """`from module import *` at the top level of a file with code of its own (not only imports, a docstring and
    `__all__`, as a package's `__init__.py` re-exports): the names a model there uses may all come from there."""
    star = any(isinstance(node, ast.ImportFrom) and any(a.name == "*" for a in node.names) for node in tree.body)
    return star and any(not _re_exports(node) for node in tree.body)


def _re_exports(node: ast.stmt) -> bool:
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return True
    if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
        return True
    targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(
        node, (ast.AugAssign, ast.AnnAssign)) else []
    return bool(targets) and all(isinstance(t, ast.Name) and t.id == "__all__" for t in targets)

"""The user's project as one run sees it: the modules its files import (`from .blocks import ConvBlock`,
`from models import *`), each read, parsed and run once, and which file looked for which.

Only files found beside the importing file (relative imports, or absolute ones under its folder or the few
above it) are read; anything else stays an External name. A file's result depends only on the files it read:
every place a lookup looked is remembered per importing file (`files_read`), so that a cached result is stale
when one of them changes, appears or disappears; and each checked file may use at most MAX_MODULES_PER_FILE
modules, counted whether this run read them for it or for an earlier file, so the order files are checked in
changes nothing. A star import does not run its module: the names it binds are read from the module's source (and
those of the modules it star-imports in turn), and each runs the module when first used (`exported_names`), so
`from models import *` of a package re-exporting twenty model files uses only those the file's names come from.
"""

from __future__ import annotations

import ast
import os
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Callable

MAX_LOADED = 64  # modules kept per run (a flake8 worker checks many files)
MAX_MODULES_PER_FILE = 12  # modules one checked file may use: a file importing half a framework stays cheap
SEARCH_UP = 3  # folders above the importing file searched for an absolute import's package
# packages never read from source, even when a folder of that name is found (a file checked inside site-packages
# finds the installed ones): the library overlays know what they mean (NumPy: evaluate/numpy_library.py)
OUTSIDE = frozenset({"torch", "torchvision", "numpy", "typing", "collections", "functools", "math", "dataclasses", "os",
                     "sys"})
MAX_DIGESTS = 10_000  # file versions whose digest a process keeps
MAX_STAR_FILES = 256  # sources one star import's names may be read from (a package of packages re-exporting all)


@dataclass(frozen=True)
class ProjectFile:
    """A project file an analysis depended on, with the digest of its content then (None: it did not exist)."""

    path: str
    digest: str | None

    def unchanged(self) -> bool:
        return file_digest(self.path) == self.digest


class Project:
    """The modules read for one run (by the command line, the language server, a flake8 process): what running
    each one bound, keyed by its path and modification time, and the import graph."""

    def __init__(self) -> None:
        self.loaded: "OrderedDict[tuple, Any]" = OrderedDict()
        # importer's absolute path → every candidate file its imports looked for, found or not
        self.looked_up: dict = {}
        self.loading: set = set()
        self.used_by_file: set = set()  # the modules the file being checked has used so far
        self.exports: dict = {}  # (path, modification time) → the names `from it import *` binds (None: not known)

    def begin_file(self) -> None:
        """Start counting the modules the next checked file uses."""
        self.used_by_file = set()

    def module_file(self, importer: str, module: str) -> str | None:
        """The file a module name refers to, seen from the importing file; None when it is not in the project."""
        name = module.lstrip(".")
        level = len(module) - len(name)
        parts = name.split(".") if name else []
        here = os.path.dirname(os.path.abspath(importer))
        if level:
            for _ in range(level - 1):
                here = os.path.dirname(here)
            bases = [here]
        elif not parts or parts[0] in OUTSIDE:
            return None
        else:
            bases = [here]
            for _ in range(SEARCH_UP):
                here = os.path.dirname(here)
                bases.append(here)
        looked = self.looked_up.setdefault(os.path.abspath(importer), set())
        for base in bases:
            path = os.path.join(base, *parts)
            for candidate in (path + ".py", os.path.join(path, "__init__.py")):
                looked.add(candidate)
                if os.path.isfile(candidate):
                    return candidate
        return None

    def files_read(self, path: str) -> list:
        """The project files the analysis of `path` depended on, as ProjectFiles: each file its imports looked
        for, and, transitively, each file those modules' imports looked for."""
        seen: set = set()
        todo = [os.path.abspath(path)]
        while todo:
            for candidate in self.looked_up.get(todo.pop(), ()):
                if candidate not in seen:
                    seen.add(candidate)
                    todo.append(candidate)
        return [ProjectFile(candidate, file_digest(candidate)) for candidate in sorted(seen)]

    def exported_names(self, path: str) -> frozenset | None:
        """The names `from module import *` binds, for the module at `path`, read from its source without running
        it: its `__all__` when that is a literal list or tuple, else the names its top level binds that do not start
        with `_` — definitions, assignments, imports, and the names of the project's modules it star-imports in
        turn (of a module outside the project, none: the evaluator does not read those either). None when the
        source alone cannot tell: an `__all__` computed or changed otherwise, too many modules to read."""
        return self._exported(path, set())

    def _exported(self, path: str, reading: set) -> frozenset | None:
        try:
            key = (os.path.abspath(path), os.path.getmtime(path))
        except OSError:
            return frozenset()
        if key in self.exports:
            return self.exports[key]
        if key in reading:  # a circular star import: what the module has bound so far, here nothing more
            return frozenset()
        if len(reading) >= MAX_STAR_FILES:
            return None
        reading.add(key)
        try:
            with open(path, "rb") as handle:
                tree = ast.parse(handle.read())
        except (OSError, SyntaxError, ValueError, RecursionError, MemoryError):
            names: frozenset | None = frozenset()  # a module that does not read binds nothing (run_imported_module)
        else:
            names = self._names_of(path, tree, reading)
        self.exports[key] = names
        return names

    def _names_of(self, path: str, tree: ast.Module, reading: set) -> frozenset | None:
        declared, names = top_level_names(tree.body)
        if "__all__" in names:  # bound or changed otherwise than as a literal: only running the module tells
            return None
        if declared is not None:
            return frozenset(declared)
        exported = {name for name in names if not name.startswith("_")}
        for module in star_imports(tree.body):
            target = self.module_file(path, module)
            if target is None:
                continue
            found = self._exported(target, reading)
            if found is None:
                return None
            exported |= found
        return frozenset(exported)

    def load(self, path: str, run: Callable[[str], Any]) -> Any:
        """What `run(path)` gave for the module at `path` (the interpreter that ran it), run once per run while the
        file is unchanged; None for a circular import, or once the checked file has used enough modules."""
        try:
            key = (os.path.abspath(path), os.path.getmtime(path))
        except OSError:
            return None
        if key in self.loading or (key not in self.used_by_file and len(self.used_by_file) >= MAX_MODULES_PER_FILE):
            return None
        self.used_by_file.add(key)
        if key in self.loaded:
            self.loaded.move_to_end(key)
            return self.loaded[key]
        self.loading.add(key)
        try:
            interpreter = run(path)
        finally:
            self.loading.discard(key)
        self.loaded[key] = interpreter
        if len(self.loaded) > MAX_LOADED:
            self.loaded.popitem(last=False)
        return interpreter


def top_level_names(body: list) -> tuple[list | None, set]:
    """(the names a literal `__all__` lists, None where it has none; every other name the statements bind at the
    top level, the branches of an `if`, `try`, `with` or loop included, `__all__` itself where it is not such a
    literal). A star import binds what its module exports: see `star_imports`."""
    declared: list | None = None
    names: set = set()
    for stmt in body:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(stmt.name)
        elif isinstance(stmt, ast.Import):
            names.update((alias.asname or alias.name).split(".")[0] for alias in stmt.names)
        elif isinstance(stmt, ast.ImportFrom):
            names.update(alias.asname or alias.name for alias in stmt.names if alias.name != "*")
        elif isinstance(stmt, (ast.Assign, ast.AnnAssign, ast.AugAssign)) and stmt.value is not None:
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            bound = {node.id for target in targets for node in ast.walk(target)
                     if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store)}
            listed = literal_names(stmt.value) if bound == {"__all__"} and stmt.value is not None else None
            if listed is not None and isinstance(stmt, ast.Assign):
                declared = listed
            elif listed is not None and isinstance(stmt, ast.AugAssign) and declared is not None:
                declared = declared + listed
            else:
                names |= bound
        elif isinstance(stmt, (ast.For, ast.AsyncFor)):
            names.update(node.id for node in ast.walk(stmt.target) if isinstance(node, ast.Name))
        if isinstance(stmt, (ast.With, ast.AsyncWith)):
            names.update(node.id for item in stmt.items if item.optional_vars is not None
                         for node in ast.walk(item.optional_vars) if isinstance(node, ast.Name))
        if isinstance(stmt, ast.Expr) and any(isinstance(node, ast.Name) and node.id == "__all__"
                                              for node in ast.walk(stmt)):
            names.add("__all__")  # `__all__.extend(...)`: changed otherwise than by a literal
        for block in nested_blocks(stmt):
            inner_declared, inner = top_level_names(block)
            names |= inner | ({"__all__"} if inner_declared is not None else set())
    return declared, names


def nested_blocks(stmt: ast.stmt) -> list:
    """The statement lists of a compound statement that run in the module's own scope (not a def's or a class's)."""
    if isinstance(stmt, (ast.If, ast.For, ast.AsyncFor, ast.While)):
        return [stmt.body, stmt.orelse]
    if isinstance(stmt, (ast.With, ast.AsyncWith)):
        return [stmt.body]
    if isinstance(stmt, ast.Try) or type(stmt).__name__ == "TryStar":
        return [stmt.body, stmt.orelse, stmt.finalbody] + [handler.body for handler in stmt.handlers]
    if type(stmt).__name__ == "Match":
        return [case.body for case in stmt.cases]
    return []


def star_imports(body: list) -> list:
    """The modules the statements star-import (`from .resnet import *` → `.resnet`), branches included."""
    found = []
    for stmt in body:
        if isinstance(stmt, ast.ImportFrom) and any(alias.name == "*" for alias in stmt.names):
            found.append("." * stmt.level + (stmt.module or ""))
        for block in nested_blocks(stmt):
            found.extend(star_imports(block))
    return found


def literal_names(value: ast.expr) -> list | None:
    """The strings of a literal list or tuple of strings (`["ResNet18", "ResNet34"]`), else None."""
    if isinstance(value, (ast.List, ast.Tuple)) and all(
            isinstance(item, ast.Constant) and isinstance(item.value, str) for item in value.elts):
        return [item.value for item in value.elts]
    return None


def file_digest(path: str) -> str | None:
    """The digest of a file's content (None: it cannot be read), read once per version of the file, known by its
    modification time and size as Project.loaded knows a module's: every file of a package asks for those of the
    same few modules it imports, when its result is stored and again when a later run reads it back."""
    try:
        stat = os.stat(path)
    except OSError:
        return None
    key = (path, stat.st_mtime_ns, stat.st_size)
    if key not in DIGESTS:
        if len(DIGESTS) >= MAX_DIGESTS:  # a language server's process sees ever more versions
            DIGESTS.clear()
        DIGESTS[key] = _read_digest(path)
    return DIGESTS[key]


def _read_digest(path: str) -> str | None:
    import hashlib  # here: most runs read no sibling module, and a start without bytecode compiles it

    try:
        with open(path, "rb") as handle:
            return hashlib.sha256(handle.read()).hexdigest()
    except OSError:
        return None


DIGESTS: dict = {}  # (path, modification time, size) → the digest of that version

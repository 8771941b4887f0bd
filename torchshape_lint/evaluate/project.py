"""The user's project as one run sees it: the modules its files import (`from .blocks import ConvBlock`,
`from models import *`), each read, parsed and run once, and which file looked for which.

Only files found beside the importing file (relative imports, or absolute ones under its folder or the few
above it) are read; anything else stays an External name. A file's result depends only on the files it read:
every place a lookup looked is remembered per importing file (`files_read`), so that a cached result is stale
when one of them changes, appears or disappears; and each checked file may use at most MAX_MODULES_PER_FILE
modules, counted whether this run read them for it or for an earlier file, so the order files are checked in
changes nothing.
"""

from __future__ import annotations

import hashlib
import os
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Callable

MAX_LOADED = 64  # modules kept per run (a flake8 worker checks many files)
MAX_MODULES_PER_FILE = 12  # modules one checked file may use: a file importing half a framework stays cheap
SEARCH_UP = 3  # folders above the importing file searched for an absolute import's package
OUTSIDE = frozenset({"torch", "torchvision", "typing", "collections", "functools", "math", "dataclasses", "os", "sys"})


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


def file_digest(path: str) -> str | None:
    try:
        with open(path, "rb") as handle:
            return hashlib.sha256(handle.read()).hexdigest()
    except OSError:
        return None

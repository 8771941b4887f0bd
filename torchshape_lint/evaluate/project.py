"""Modules of the user's own project that a file imports (`from .blocks import ConvBlock`): read and run on
first use, so that a block class defined in a sibling file is the same class here.

Only files found beside the importing file (relative imports, or absolute ones under its folder or the few
above it) are read; anything else stays an External name. What those files prove wrong is reported when
they are checked themselves: findings are kept to the file being checked.

Every place a lookup looked is remembered per importing file, so that a result can name all the files it
depended on (`files_read`): a cached result is stale when one of them changes, appears or disappears.
"""

from __future__ import annotations

import hashlib
import os
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Callable

MAX_LOADED = 64  # modules kept per process (a flake8 worker checks many files)
MAX_NEW_PER_FILE = 12  # modules read for one checked file: a file importing half a framework stays cheap
SEARCH_UP = 3  # folders above the importing file searched for an absolute import's package
OUTSIDE = frozenset({"torch", "torchvision", "typing", "collections", "functools", "math", "dataclasses", "os", "sys"})

_loaded: "OrderedDict[tuple, Any]" = OrderedDict()
# importer's absolute path → every candidate file its imports looked for, found or not. Kept for the whole
# process, as the loaded modules are: a module loaded for one checked file serves the next ones too.
_looked_up: dict = {}
_loading: set = set()
_new_this_file = 0


def begin_file() -> None:
    """Start the count of modules read for the next checked file."""
    global _new_this_file
    _new_this_file = 0


def module_file(importer: str, module: str) -> str | None:
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
    looked = _looked_up.setdefault(os.path.abspath(importer), set())
    for base in bases:
        path = os.path.join(base, *parts)
        for candidate in (path + ".py", os.path.join(path, "__init__.py")):
            looked.add(candidate)
            if os.path.isfile(candidate):
                return candidate
    return None


@dataclass(frozen=True)
class ProjectFile:
    """A project file an analysis depended on, with the digest of its content then (None: it did not exist)."""

    path: str
    digest: str | None

    def unchanged(self) -> bool:
        return file_digest(self.path) == self.digest


def files_read(path: str) -> list:
    """The project files the analysis of `path` depended on, as ProjectFiles: each file its imports looked for,
    and, transitively, each file those modules' imports looked for."""
    seen: set = set()
    todo = [os.path.abspath(path)]
    while todo:
        for candidate in _looked_up.get(todo.pop(), ()):
            if candidate not in seen:
                seen.add(candidate)
                todo.append(candidate)
    return [ProjectFile(candidate, file_digest(candidate)) for candidate in sorted(seen)]


def file_digest(path: str) -> str | None:
    try:
        with open(path, "rb") as handle:
            return hashlib.sha256(handle.read()).hexdigest()
    except OSError:
        return None


def load(path: str, run: Callable[[str], Any]) -> Any:
    """What `run(path)` gave for the module at `path` (the interpreter that ran it), read once per process while
    the file is unchanged; None for a circular import, or when enough modules were read for this file."""
    try:
        key = (os.path.abspath(path), os.path.getmtime(path))
    except OSError:
        return None
    if key in _loaded:
        _loaded.move_to_end(key)
        return _loaded[key]
    global _new_this_file
    if key in _loading or _new_this_file >= MAX_NEW_PER_FILE:  # a circular import, or enough read already
        return None
    _new_this_file += 1
    _loading.add(key)
    try:
        interpreter = run(path)
    finally:
        _loading.discard(key)
    _loaded[key] = interpreter
    if len(_loaded) > MAX_LOADED:
        _loaded.popitem(last=False)
    return interpreter

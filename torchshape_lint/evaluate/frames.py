"""The evaluator's bounds, and the state of a running evaluation: scopes, frames, how a block ended."""

from __future__ import annotations

import ast
from itertools import count
from typing import Any

from torchshape_lint.evaluate.python_library import builtin
from torchshape_lint.evaluate.values import Function

MAX_STEPS = 500_000  # a build; a 20 000-entry cfg through make_layers takes 400 000
MAX_DEPTH = 40
# MAX_ITEMS, the items of a list or tuple, is values.py's: the library's builtins are bounded by it too
MAX_INT_BITS = 4096

# What an Abort says when one of the bounds above ended an evaluation, not the code (a `raise` on a known path);
# `file step budget` and `nesting too deep` (Python's own recursion limit) are said of a whole build or file.
BOUND_REASONS = ("step budget", "depth bound", "size bound", "loop bound", "nesting too deep")

OPAQUE_KWARGS = "\0opaque"  # a `**kwargs` whose contents are unknown: every unnamed parameter is unknown


class YieldReached(Exception):
    """A `yield` ran: the function was a generator, which a call does not run."""


class Abort(Exception):
    """The evaluation of this model ends: a budget ran out, or the code raises on a known path. `where`: the file
    and line of the innermost statement it ended in (set by the statement that saw it first)."""

    where: "tuple[Any, int] | None" = None


class Flow:
    """How a block ended, when not by running off its end."""

    BREAK, CONTINUE, RETURN = "break", "continue", "return"

    def __init__(self, kind: str, value: Any = None) -> None:
        self.kind, self.value = kind, value


class Lazy:
    """A value worked out on first use."""

    def resolve(self) -> Any:
        raise NotImplementedError


def resolved(value: Any) -> Any:
    return value.resolve() if isinstance(value, Lazy) else value


NO_NAMES: frozenset = frozenset()
SCOPES_MADE = count()  # numbers the scopes in the order they are made: one made before a construction is outside it


class Scope:
    def __init__(self, parent: "Scope | None" = None) -> None:
        self.vars: dict[str, Any] = {}
        self.parent = parent
        self.globals_: frozenset[str] = NO_NAMES  # those a `global` statement declared (a set of their own then)
        self.version = 0  # of a file's global names: bumped by each assignment (see evaluate/memo.py); every write of
        # a file's globals goes through `assign`, so that the memo and visible_ints see each change
        self.int_names: tuple | None = None  # (version, the names holding ints then): torch_modules.visible_ints
        self.made = next(SCOPES_MADE)

    def lookup(self, name: str) -> Any:
        scope = self
        while scope is not None:
            if name in scope.vars:
                return scope.vars[name]
            scope = scope.parent
        return builtin(name)

    def root(self) -> "Scope":
        scope = self
        while scope.parent is not None:
            scope = scope.parent
        return scope

    def assign(self, name: str, value: Any) -> None:
        scope = self.root() if name in self.globals_ else self
        scope.vars[name] = value
        if scope.parent is None:
            scope.version += 1


class Frame:
    """One running function (or module or class body): its scope, its file, and whether a return may have
    happened on an unknown path."""

    def __init__(self, scope: Scope, source: Any, function: Function | None = None) -> None:
        self.scope, self.source, self.function = scope, source, function
        self.maybe_returned = False


def dispatch(mixin: type, prefix: str) -> dict:
    """ast node class → the method for it (`expr_Call`, `stmt_If`, …), looked up once."""
    return {getattr(ast, name[len(prefix):]): method for name, method in vars(mixin).items()
            if name.startswith(prefix) and hasattr(ast, name[len(prefix):])}

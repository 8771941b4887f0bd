"""The write analysis: what a block of code may write, read from its syntax alone.

Where the evaluator cannot decide a branch or a loop, whatever the block may write becomes unknown ("havoc");
this module says what that is: names, attributes of objects, and lists, dicts and containers changed through
items or methods.
"""

from __future__ import annotations

import ast
import weakref
from typing import Any

from torchshape_lint.source.imports import import_bindings
from torchshape_lint.source.reader import child_nodes

MUTATING_METHODS = frozenset(
    "append extend insert pop remove clear update setdefault add_module register_module popitem sort reverse "
    "add discard __setitem__ __delitem__".split())

# The memoised facts, as a loop's body is asked again and again: those of a statement by the statement, those of a
# function's body by the function. Held as long as the tree is, and no longer: the modules a run's project keeps are
# read for every checked file that reaches them, and a checked file's tree goes when flake8 is done with it.
_FACTS: "weakref.WeakKeyDictionary[ast.AST, WriteCollector]" = weakref.WeakKeyDictionary()
_BODY_FACTS: "weakref.WeakKeyDictionary[ast.AST, WriteCollector]" = weakref.WeakKeyDictionary()


def writes_of(node: ast.AST) -> "WriteCollector":
    """What a statement may write."""
    return _memoised(_FACTS, node, node)


def body_writes(function: ast.FunctionDef | ast.AsyncFunctionDef) -> "WriteCollector":
    """What a function's body may write: its locals among them (its parameters, and what it assigns that
    `declared` does not name), which its caller tells apart from what it writes outside itself."""
    return _memoised(_BODY_FACTS, function, function.body)


def _memoised(facts: weakref.WeakKeyDictionary, key: ast.AST, code: ast.AST | list) -> "WriteCollector":
    found = facts.get(key)
    if found is None:
        found = facts[key] = WriteCollector()
        found.walk(code)
    return found


def assigned_names(node: ast.stmt) -> set:
    """Every name a statement binds anywhere inside it (a top-level statement whose evaluation stopped)."""
    names = set()
    todo = [node]
    while todo:  # ast.walk, in another order (a set holds what is found) and at half the cost
        sub = todo.pop()
        if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store):
            names.add(sub.id)
        elif isinstance(sub, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in sub.names)
        todo.extend(child_nodes(sub))
    return names


def target_names(node: ast.Assign | ast.AnnAssign) -> set:
    """The names an assignment's targets bind: `assigned_names` without walking its value, which may be a
    10 000-layer `nn.Sequential` (a walrus in the value binds one too, but this is asked of what the targets hold)."""
    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
    return set().union(*map(assigned_names, targets))


def method_chain(name: str, value: ast.expr) -> frozenset | None:
    """The names of the calls when `value` is a chain of calls on `name` itself: its methods (`name.cuda()`,
    `name.to(device).eval()`) or functions given it first (`torch.nn.DataParallel(name)`); else None. Whether they
    give back the module they are called on is the evaluator's to know."""
    called = _calls_on(name, value)
    return called if called else None


def _calls_on(name: str, value: ast.expr) -> frozenset | None:
    if isinstance(value, ast.Name):
        return frozenset() if value.id == name else None
    if not isinstance(value, ast.Call):
        return None
    if isinstance(value.func, ast.Attribute):
        inner = _calls_on(name, value.func.value)
        if inner is not None:
            return inner | {value.func.attr}
    callee = value.func.attr if isinstance(value.func, ast.Attribute) else getattr(value.func, "id", None)
    inner = _calls_on(name, value.args[0]) if value.args and callee else None
    return inner | {callee} if inner is not None else None


class WriteCollector:
    """What a block may write: names, object attributes, and containers changed through methods or items."""

    def __init__(self) -> None:
        self.names: set = set()
        self.attributes: list = []  # (object node, attribute name)
        self.mutated: list = []  # nodes of objects changed in place
        self.calls: list = []  # (receiver node or None, method name, argument nodes)
        self.returns = False
        self.declared: set = set()  # names a `global` or `nonlocal` statement declared: written outside
        # name → the methods of its writes when each is `name = name.cuda()` (a chain of calls on itself), else None
        self.rebinds: dict = {}

    def walk(self, node: ast.AST | list) -> None:
        """Call `visit_<Node>` where it exists (False: skip the children), and descend."""
        todo = list(node) if isinstance(node, list) else [node]
        while todo:
            node = todo.pop()
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                for name in import_bindings(node):
                    self.bind_other(name)
                continue
            method = getattr(self, "visit_" + type(node).__name__, None)
            if method is not None and method(node) is False:
                continue
            todo.extend(child_nodes(node))

    def bind_other(self, name: str) -> None:
        """A write of `name` that is not a rebinding to the module it holds."""
        self.names.add(name)
        self.rebinds[name] = None

    def target(self, node: Any) -> None:
        if isinstance(node, ast.Name):
            self.bind_other(node.id)
        elif isinstance(node, (ast.Tuple, ast.List)):
            for element in node.elts:
                self.target(element)
        elif isinstance(node, ast.Starred):
            self.target(node.value)
        elif isinstance(node, ast.Attribute):
            self.attributes.append((node.value, node.attr))
        elif isinstance(node, ast.Subscript):
            self.mutated.append(node.value)

    def visit_Assign(self, node: ast.Assign) -> None:
        chain = method_chain(node.targets[0].id, node.value) if len(node.targets) == 1 and isinstance(
            node.targets[0], ast.Name) else None
        if chain is not None:
            name = node.targets[0].id
            self.names.add(name)
            if name not in self.rebinds or self.rebinds[name] is not None:
                self.rebinds[name] = self.rebinds.get(name, frozenset()) | chain
            return
        for target in node.targets:
            self.target(target)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        self.target(node.target)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        self.target(node.target)
        if isinstance(node.target, (ast.Name, ast.Attribute)):
            self.mutated.append(node.target)

    def visit_For(self, node: ast.For | ast.AsyncFor | ast.comprehension) -> None:
        self.target(node.target)

    visit_AsyncFor = visit_comprehension = visit_NamedExpr = visit_For

    def visit_withitem(self, node: ast.withitem) -> None:
        if node.optional_vars is not None:
            self.target(node.optional_vars)

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> None:
        if node.name:
            self.bind_other(node.name)

    def visit_Delete(self, node: ast.Delete) -> None:
        for target in node.targets:
            self.target(target)

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> bool:
        self.bind_other(node.name)
        return False

    visit_AsyncFunctionDef = visit_ClassDef = visit_FunctionDef

    def visit_Global(self, node: ast.Global | ast.Nonlocal) -> None:
        self.declared.update(node.names)

    visit_Nonlocal = visit_Global

    def visit_Return(self, node: ast.Return) -> None:
        self.returns = True

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        receiver, name = (func.value, func.attr) if isinstance(func, ast.Attribute) else (
            None, func.id if isinstance(func, ast.Name) else "")
        values = [a.value if isinstance(a, ast.Starred) else a for a in node.args] + [k.value for k in node.keywords]
        self.calls.append((receiver, name, [v for v in values if isinstance(v, (ast.Name, ast.Attribute))]))

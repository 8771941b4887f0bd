"""The bounded evaluator: runs a file's module body, builders, `__init__` and `forward` on abstract values,
on the file's `ast` tree.

It follows what it can know — literals, arithmetic, names, containers, loops over known lists, branches
on known conditions, calls of the file's own functions and classes, layer constructors, tensors as
shapes — and turns everything else into UNKNOWN. Where a branch or loop cannot be decided, whatever it
may write becomes UNKNOWN (see `Statements.havoc`). Work is bounded by steps, call depth and sizes, so no
input can hang it; running out ends the evaluation of that model without findings.

The Interpreter is put together from one mixin per concern: expressions, statements, calls, objects.
"""

from __future__ import annotations

import ast
import os
from typing import Any

from torchshape_lint.evaluate.calls import Calls
from torchshape_lint.evaluate.expressions import Expressions
from torchshape_lint.evaluate.frames import MAX_STEPS, Abort, Frame, Lazy, Scope, resolved
from torchshape_lint.evaluate.memo import Memo
from torchshape_lint.evaluate.objects import Objects
from torchshape_lint.evaluate.project import Project
from torchshape_lint.evaluate.statements import Statements
from torchshape_lint.evaluate.values import ClassV, External, Function, ListV, ProjectModule
from torchshape_lint.shapes import violations
from torchshape_lint.source.reader import UNREADABLE, SourceFile
from torchshape_lint.source.writes import assigned_names, target_names
from torchshape_lint.unknown import UNKNOWN

MODULE_STEPS = 50_000  # evaluation steps for running an imported module's top level


class CallSiteCollector(violations.Collector):
    """A build's collector that also keeps, for each violation, the calls in progress when it was found: a layer
    of another file is reported in this one at the call here that led to it (see analyze._finding)."""

    def __init__(self, calls: list) -> None:
        super().__init__()
        self.calls = calls
        self.reached_from: dict = {}  # id of a violation → the (place, node) of each call in progress, outermost first

    def report(self, violation: violations.Violation) -> None:
        super().report(violation)
        self.reached_from[id(violation)] = tuple(self.calls)


class Interpreter(Statements, Expressions, Calls, Objects):
    def __init__(self, source: SourceFile, project: Project | None = None, module_name: str = "__main__",
                 max_steps: int = MAX_STEPS) -> None:
        self.source = source
        self.project = project if project is not None else Project()
        self.max_steps = max_steps
        self.globals = Scope()
        self.globals.vars["__name__"] = module_name
        self.steps = 0
        self.depth = 0
        self.calls: list = []  # (place, node) of each call in progress, outermost first (Calls.call)
        self.check = self.collector()
        self.frames: list[Frame] = []
        self.used_with_input: set = set()  # classes and containers the file itself runs on a concrete input
        self.memo = Memo()  # module applications, across the file's builds
        self.call_scope = self.globals  # the scope of the call being made: a layer built there records its names
        self.assigned: dict = {}  # id of a top-level assignment → the values it bound, as they were right after it
        self.usages: list = []  # (model, its tensors, call) where the file's top-level code runs a model on tensors
        self.loops: list = []  # the share of the steps of each `for` loop running, innermost last (LoopShare)
        self.streams_run: set = set()  # (build, loop, its kinds) once run: every epoch's pass over a loader is alike

    def release(self) -> None:
        """Drop the file's names and memo once its builds are done: they hold the cycles (a function and the scope
        it was defined in, a lazy import and its importer) that would leave the whole evaluation to the cyclic
        collector rather than to reference counting."""
        self.globals.vars.clear()
        self.memo.built.clear()

    def collector(self) -> CallSiteCollector:
        """A fresh collector for the next build."""
        return CallSiteCollector(self.calls)

    def tick(self, steps: int = 1) -> None:
        self.steps += steps
        if self.steps > self.max_steps:
            raise Abort("step budget")

    def run_module(self) -> None:
        """Bind the file's top-level names: classes lazily (their bodies run on first use), other statements
        by running them."""
        frame = Frame(self.globals, self.source)
        for node in self.source.tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                self.globals.assign(node.name, Function(node, self.source, self.globals, node.name))
            elif isinstance(node, ast.ClassDef):
                self.globals.assign(node.name, self.declare_class(node))
            else:
                try:
                    self.exec_statement(node, frame)
                except Abort:
                    for name in assigned_names(node):  # a new version: no memoised construction read them
                        self.globals.assign(name, UNKNOWN)
                if isinstance(node, (ast.Assign, ast.AnnAssign)):  # a later `model = model.cuda()` rebinds the name
                    self.assigned[id(node)] = {name: self.globals.vars.get(name) for name in target_names(node)}

    def declare_class(self, node: ast.ClassDef) -> ClassV:
        bases = [self.resolve_ast_name(b) for b in node.bases]
        members = set()
        for stmt in node.body:  # a method binds its own name in the class, not what its body assigns
            is_definition = isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
            members.update([stmt.name] if is_definition else assigned_names(stmt))
        decorators = [self.resolve_ast_name(d.func if isinstance(d, ast.Call) else d) for d in node.decorator_list]
        return ClassV(node.name, node, self.source, self.globals, bases, {}, frozenset(members), decorators=decorators)

    def resolve_ast_name(self, node: ast.expr) -> Any:
        """A base class or decorator as written (`nn.Module`, `Block`), resolved before the class body runs."""
        if isinstance(node, ast.Name):
            return resolved(self.globals.lookup(node.id))
        if isinstance(node, ast.Attribute):
            base = self.resolve_ast_name(node.value)
            return External(f"{base.name}.{node.attr}") if isinstance(base, External) else UNKNOWN
        return UNKNOWN

    def imported(self, module: str, name: str, qualified: str) -> "LazyImport":
        return LazyImport(self, module, name, qualified)

    def module_import(self, module: str) -> "LazyModule":
        return LazyModule(self, module)

    def project_module(self, module: str) -> "Interpreter | None":
        """The interpreter that ran a module of the project (its globals are the module's names), or None."""
        path = self.project.module_file(self.source.path, module)
        return self.project.load(path, lambda path: run_imported_module(path, self.project)) if path else None

    def star_imported(self, module: str) -> dict:
        """The names `from module import *` binds: its `__all__`, else its names without a leading underscore;
        none for a module outside the project. Each reads its value from the module when first used, so the
        module runs only if one is (Project.exported_names); one whose names its source does not tell runs now."""
        path = self.project.module_file(self.source.path, module)
        if path is None:
            return {}
        names = self.project.exported_names(path)
        if names is not None:
            qualified = module if module.endswith(".") else module + "."
            return {name: self.imported(module, name, qualified + name) for name in sorted(names)}
        loaded = self.project_module(module)
        if loaded is None:
            return {}
        names = resolved(loaded.globals.vars.get("__all__"))
        if isinstance(names, (ListV, tuple)) and all(isinstance(n, str) for n in names):
            return {name: loaded.globals.vars[name] for name in names if name in loaded.globals.vars}
        return {name: value for name, value in loaded.globals.vars.items() if not name.startswith("_")}


class LazyImport(Lazy):
    """`from .blocks import ConvBlock`: the value in the project's module, or an External name."""

    def __init__(self, importer: Interpreter, module: str, name: str, qualified: str) -> None:
        self.importer, self.module, self.name, self.qualified = importer, module, name, qualified
        self.value: Any = None

    def resolve(self) -> Any:
        if self.value is None:
            self.value = External(self.qualified)
            loaded = self.importer.project_module(self.module)
            if loaded is not None and self.name in loaded.globals.vars:
                self.value = resolved(loaded.globals.vars[self.name])
        return self.value


class LazyModule(Lazy):
    """`import models`: the project's module, or an External name."""

    def __init__(self, importer: Interpreter, module: str) -> None:
        self.importer, self.module = importer, module
        self.value: Any = None

    def resolve(self) -> Any:
        if self.value is None:
            loaded = self.importer.project_module(self.module)
            self.value = ProjectModule(self.module, loaded.globals, self.importer) if loaded is not None else \
                External(self.module)
        return self.value


def run_imported_module(path: str, project: Project) -> Interpreter | None:
    """The interpreter that ran a module of the project (its globals are the module's names), or None."""
    try:
        with open(path, "rb") as handle:
            source = SourceFile.from_bytes(handle.read(), path)
    except (OSError, *UNREADABLE):
        return None
    interpreter = Interpreter(source, project, os.path.splitext(os.path.basename(path))[0], MODULE_STEPS)
    try:
        interpreter.run_module()
    except (Abort, RecursionError):
        return None
    return interpreter

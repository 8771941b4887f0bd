"""The bounded evaluator: runs a file's module body, builders, `__init__` and `forward` on abstract values.

It follows what it can know — literals, arithmetic, names, containers, loops over known lists, branches
on known conditions, calls of the file's own functions and classes, layer constructors, tensors as
shapes — and turns everything else into UNKNOWN. Where a branch or loop cannot be decided, whatever it
may write becomes UNKNOWN (see `havoc`). Work is bounded by steps, call depth and sizes, so no input
can hang it; running out ends the evaluation of that model without findings.
"""

from __future__ import annotations

import ast
import dataclasses
import operator
from functools import lru_cache
from typing import Any

import libcst as cst

from torchshape_lint.evaluate import library, project
from torchshape_lint.evaluate.values import (
    PLAIN, BoundMethod, ClassV, Container, DictV, External, Function, Instance, ListV, Super, is_hashable, is_plain,
    readable,
)
from torchshape_lint.shapes import dims
from torchshape_lint.shapes.layers import Layer
from torchshape_lint.shapes.tensor import Tensor
from torchshape_lint.shapes.violations import Collector
from torchshape_lint.source.imports import import_bindings
from torchshape_lint.source.reader import SourceFile
from torchshape_lint.unknown import UNKNOWN

MAX_STEPS = 400_000
MAX_DEPTH = 40
MAX_ITEMS = 100_000
MAX_INT_BITS = 4096


class YieldReached(Exception):
    """A `yield` ran: the function was a generator, which a call does not run."""


class Abort(Exception):
    """The evaluation of this model ends: a budget ran out, or the code raises on a known path."""


class Flow:
    """How a block ended, when not by running off its end."""

    BREAK, CONTINUE = "break", "continue"

    def __init__(self, kind: str, value: Any = None) -> None:
        self.kind, self.value = kind, value


class Scope:
    def __init__(self, parent: "Scope | None" = None) -> None:
        self.vars: dict[str, Any] = {}
        self.parent = parent
        self.globals_: set[str] = set()

    def lookup(self, name: str) -> Any:
        scope = self
        while scope is not None:
            if name in scope.vars:
                return scope.vars[name]
            scope = scope.parent
        return library.builtin(name)

    def root(self) -> "Scope":
        scope = self
        while scope.parent is not None:
            scope = scope.parent
        return scope

    def assign(self, name: str, value: Any) -> None:
        (self.root() if name in self.globals_ else self).vars[name] = value


class Frame:
    """One running function: its scope, and whether a return may have happened on an unknown path."""

    def __init__(self, scope: Scope, unit: Any, function: Function | None = None) -> None:
        self.scope, self.unit, self.function = scope, unit, function
        self.maybe_returned = False


BINARY = {
    cst.Add: operator.add, cst.Subtract: operator.sub, cst.Multiply: operator.mul, cst.Divide: operator.truediv,
    cst.FloorDivide: operator.floordiv, cst.Modulo: operator.mod, cst.Power: operator.pow,
    cst.LeftShift: operator.lshift, cst.RightShift: operator.rshift, cst.BitAnd: operator.and_,
    cst.BitOr: operator.or_, cst.BitXor: operator.xor, cst.MatrixMultiply: operator.matmul,
}
AUGMENTED = {
    cst.AddAssign: cst.Add, cst.SubtractAssign: cst.Subtract, cst.MultiplyAssign: cst.Multiply,
    cst.DivideAssign: cst.Divide, cst.FloorDivideAssign: cst.FloorDivide, cst.ModuloAssign: cst.Modulo,
    cst.PowerAssign: cst.Power, cst.LeftShiftAssign: cst.LeftShift, cst.RightShiftAssign: cst.RightShift,
    cst.BitAndAssign: cst.BitAnd, cst.BitOrAssign: cst.BitOr, cst.BitXorAssign: cst.BitXor,
    cst.MatrixMultiplyAssign: cst.MatrixMultiply,
}
COMPARE = {
    cst.Equal: operator.eq, cst.NotEqual: operator.ne, cst.LessThan: operator.lt, cst.LessThanEqual: operator.le,
    cst.GreaterThan: operator.gt, cst.GreaterThanEqual: operator.ge,
}
CONSTANTS = {"True": True, "False": False, "None": None}


class Interpreter:
    def __init__(self, source: SourceFile, module_name: str = "__main__", max_steps: int = MAX_STEPS) -> None:
        self.source = source
        self.max_steps = max_steps
        self.globals = Scope()
        self.globals.vars["__name__"] = module_name
        self.steps = 0
        self.depth = 0
        self.check = Collector()
        self.frames: list[Frame] = []
        self.call_scope = self.globals  # the scope of the call being made: a layer built there records its names
        self.used_with_input: set = set()  # classes and containers the file itself runs on a concrete input
        self.assigned: dict = {}  # id of a top-level assignment → the values it bound, as they were right after it
        self.usages: list = []  # (model, input, call) where the file's top-level code runs a model on a tensor

    # ---- budget ---------------------------------------------------------------------------------------

    def tick(self) -> None:
        self.steps += 1
        if self.steps > self.max_steps:
            raise Abort("step budget")

    # ---- the module -----------------------------------------------------------------------------------

    def run_module(self) -> None:
        """Bind the file's top-level names: definitions lazily, other statements by running them."""
        done = set()
        for top in self.source.statements():
            node = top.node
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                self.globals.vars[node.name] = LazyFunction(self, top)
            elif isinstance(node, ast.ClassDef):
                self.globals.vars[node.name] = self.declare_class(top)
            elif id(top.unit) not in done:
                done.add(id(top.unit))
                try:
                    statements = top.unit.module.body
                except Exception:  # libcst cannot parse what ast could: the names it binds are unknown
                    statements = ()
                if not statements:
                    for name in assigned_names_ast(node):
                        self.globals.vars[name] = UNKNOWN
                    continue
                frame = Frame(self.globals, top.unit)
                try:
                    self.exec_block(statements, frame)
                except Abort:
                    for name in assigned_names_ast(node):
                        self.globals.vars[name] = UNKNOWN
                if isinstance(node, (ast.Assign, ast.AnnAssign)):  # a later `model = model.cuda()` rebinds the name
                    self.assigned[id(node)] = {name: self.globals.vars.get(name) for name in assigned_names_ast(node)}

    def declare_class(self, top: Any) -> ClassV:
        node: ast.ClassDef = top.node
        bases = [self.resolve_ast_name(b) for b in node.bases]
        members = set()
        for stmt in node.body:
            members.update(assigned_names_ast(stmt))
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                members.add(stmt.name)
        decorators = [self.resolve_ast_name(d.func if isinstance(d, ast.Call) else d) for d in node.decorator_list]
        return ClassV(node.name, None, top.unit, self.globals, bases, {}, frozenset(members), decorators=decorators)

    def resolve_ast_name(self, node: ast.expr) -> Any:
        """A base class as written (`nn.Module`, `Block`), resolved without parsing the class."""
        if isinstance(node, ast.Name):
            value = self.globals.lookup(node.id)
            return value.resolve() if isinstance(value, Lazy) else value
        if isinstance(node, ast.Attribute):
            base = self.resolve_ast_name(node.value)
            return External(f"{base.name}.{node.attr}") if isinstance(base, External) else UNKNOWN
        return UNKNOWN

    def ready(self, cls: ClassV) -> ClassV:
        """Run a class body on first use: methods become Functions, assignments class attributes."""
        if cls.ready:
            return cls
        cls.ready = True
        node = next((s for s in cls.unit.module.body if isinstance(s, cst.ClassDef) and s.name.value == cls.name), None)
        if node is None:
            return cls
        cls.node = node
        scope = Scope(cls.scope)
        frame = Frame(scope, cls.unit)
        try:
            for stmt in node.body.body:
                if isinstance(stmt, cst.FunctionDef):
                    scope.vars[stmt.name.value] = method_of(cls, stmt, cls.unit, cls.scope)
                else:
                    self.exec_statement(stmt, frame)
        except Abort:
            pass
        cls.attrs.update(scope.vars)
        return cls

    # ---- statements -----------------------------------------------------------------------------------

    def exec_block(self, statements: Any, frame: Frame) -> Flow | None:
        for stmt in statements:
            flow = self.exec_statement(stmt, frame)
            if flow is not None:
                return flow
        return None

    def exec_body(self, body: Any, frame: Frame) -> Flow | None:
        return self.exec_block(body.body, frame)

    def exec_statement(self, stmt: Any, frame: Frame) -> Flow | None:
        self.tick()
        if isinstance(stmt, cst.SimpleStatementLine):
            return self.exec_block(stmt.body, frame)
        method = STATEMENTS.get(type(stmt))
        if method is None:
            self.havoc(stmt, frame)
            return None
        return method(self, stmt, frame)

    def stmt_Expr(self, stmt: cst.Expr, frame: Frame) -> None:
        self.eval(stmt.value, frame)

    def stmt_Pass(self, stmt: Any, frame: Frame) -> None:
        return None

    stmt_Assert = stmt_Pass
    stmt_Nonlocal = stmt_Pass

    def stmt_Global(self, stmt: cst.Global, frame: Frame) -> None:
        frame.scope.globals_.update(n.name.value for n in stmt.names)

    def stmt_Break(self, stmt: Any, frame: Frame) -> Flow:
        return Flow(Flow.BREAK)

    def stmt_Continue(self, stmt: Any, frame: Frame) -> Flow:
        return Flow(Flow.CONTINUE)

    def stmt_Return(self, stmt: cst.Return, frame: Frame) -> Flow:
        return Flow("return", self.eval(stmt.value, frame) if stmt.value is not None else None)

    def stmt_Raise(self, stmt: Any, frame: Frame) -> None:
        raise Abort("raises")

    def stmt_Import(self, stmt: Any, frame: Frame) -> None:
        for local, qualified in import_bindings(stmt).items():
            frame.scope.assign(local, External(qualified))

    def stmt_ImportFrom(self, stmt: cst.ImportFrom, frame: Frame) -> None:
        """Names from the project's own modules resolve to their values there, on first use."""
        for local, qualified in import_bindings(stmt).items():
            module, _, name = qualified.rpartition(".")
            frame.scope.assign(local, LazyImport(self.source.path, module, name, qualified))

    def stmt_Del(self, stmt: cst.Del, frame: Frame) -> None:
        self.havoc(stmt, frame)

    def stmt_Assign(self, stmt: cst.Assign, frame: Frame) -> None:
        value = self.eval(stmt.value, frame)
        for target in stmt.targets:
            self.bind(target.target, value, frame)

    def stmt_AnnAssign(self, stmt: cst.AnnAssign, frame: Frame) -> None:
        if stmt.value is not None:
            self.bind(stmt.target, self.eval(stmt.value, frame), frame)

    def stmt_AugAssign(self, stmt: cst.AugAssign, frame: Frame) -> None:
        current = self.eval(stmt.target, frame)
        value = self.eval(stmt.value, frame)
        op = AUGMENTED.get(type(stmt.operator))
        if op is cst.Add and isinstance(current, ListV):  # `layers += [...]` extends the same list
            items = self.iterate(value)
            if items is UNKNOWN or current.opaque:
                current.opaque = True
            else:
                self.grow(current, items)
            return
        self.bind(stmt.target, self.binary(op, current, value) if op else UNKNOWN, frame)

    def stmt_If(self, stmt: cst.If, frame: Frame) -> Flow | None:
        test = self.truth(self.eval(stmt.test, frame))
        if test is UNKNOWN:
            self.havoc(stmt, frame)
            return None
        if test:
            return self.exec_body(stmt.body, frame)
        if isinstance(stmt.orelse, cst.If):
            return self.stmt_If(stmt.orelse, frame)
        if isinstance(stmt.orelse, cst.Else):
            return self.exec_body(stmt.orelse.body, frame)
        return None

    def stmt_For(self, stmt: cst.For, frame: Frame) -> Flow | None:
        items = self.iterate(self.eval(stmt.iter, frame))
        if items is UNKNOWN:
            self.havoc(stmt, frame)
            return None
        for item in items:
            self.bind(stmt.target, item, frame)
            flow = self.exec_body(stmt.body, frame)
            if flow is not None and flow.kind == Flow.BREAK:
                return None
            if flow is not None and flow.kind != Flow.CONTINUE:
                return flow
        if stmt.orelse is not None:
            return self.exec_body(stmt.orelse.body, frame)
        return None

    def stmt_While(self, stmt: cst.While, frame: Frame) -> Flow | None:
        for _ in range(MAX_ITEMS):
            test = self.truth(self.eval(stmt.test, frame))
            if test is UNKNOWN:
                self.havoc(stmt, frame)
                return None
            if not test:
                return self.exec_body(stmt.orelse.body, frame) if stmt.orelse is not None else None
            flow = self.exec_body(stmt.body, frame)
            if flow is not None and flow.kind == Flow.BREAK:
                return None
            if flow is not None and flow.kind != Flow.CONTINUE:
                return flow
        raise Abort("loop bound")

    def stmt_With(self, stmt: cst.With, frame: Frame) -> Flow | None:
        for item in stmt.items:
            self.eval(item.item, frame)
            if item.asname is not None:
                self.bind(item.asname.name, UNKNOWN, frame)
        return self.exec_body(stmt.body, frame)

    def stmt_Try(self, stmt: cst.Try, frame: Frame) -> Flow | None:
        # An exception handler may run instead of any part of the body: what the handlers write is unknown.
        for handler in stmt.handlers:
            self.havoc(handler, frame)
        flow = self.exec_body(stmt.body, frame)
        if flow is None and stmt.orelse is not None:
            flow = self.exec_body(stmt.orelse.body, frame)
        if stmt.finalbody is not None:
            final = self.exec_body(stmt.finalbody.body, frame)
            flow = final or flow
        return flow

    def stmt_FunctionDef(self, stmt: cst.FunctionDef, frame: Frame) -> None:
        frame.scope.assign(stmt.name.value, Function(stmt, frame.unit, frame.scope, stmt.name.value))

    def stmt_ClassDef(self, stmt: cst.ClassDef, frame: Frame) -> None:
        bases = [self.eval(arg.value, frame) for arg in stmt.bases if not arg.keyword]
        decorators = [self.eval(d.decorator.func if isinstance(d.decorator, cst.Call) else d.decorator, frame)
                      for d in stmt.decorators]
        cls = ClassV(stmt.name.value, stmt, frame.unit, frame.scope, bases, decorators=decorators)
        scope = Scope(frame.scope)
        inner = Frame(scope, frame.unit)
        for item in stmt.body.body:
            if isinstance(item, cst.FunctionDef):
                scope.vars[item.name.value] = method_of(cls, item, frame.unit, frame.scope)
            else:
                self.exec_statement(item, inner)
        cls.attrs.update(scope.vars)
        cls.ready = True
        frame.scope.assign(stmt.name.value, cls)

    # ---- binding and havoc ----------------------------------------------------------------------------

    def bind(self, target: Any, value: Any, frame: Frame) -> None:
        if isinstance(target, cst.Name):
            frame.scope.assign(target.value, value)
        elif isinstance(target, (cst.Tuple, cst.List)):
            self.unpack(target.elements, value, frame)
        elif isinstance(target, cst.Attribute):
            self.set_attribute(self.eval(target.value, frame), target.attr.value, value)
        elif isinstance(target, cst.Subscript):
            self.set_item(self.eval(target.value, frame), target, value, frame)
        elif isinstance(target, cst.StarredElement):
            self.bind(target.value, value, frame)

    def unpack(self, elements: Any, value: Any, frame: Frame) -> None:
        items = self.iterate(value)
        starred = [i for i, e in enumerate(elements) if isinstance(e, cst.StarredElement)]
        if items is UNKNOWN or (not starred and len(items) != len(elements)) or (starred and len(items) < len(elements) - 1):
            for element in elements:
                self.bind(element.value, UNKNOWN, frame)
            return
        if starred:
            s = starred[0]
            tail = len(elements) - s - 1
            parts = list(items[:s]) + [ListV(items[s: len(items) - tail])] + list(items[len(items) - tail:])
        else:
            parts = list(items)
        for element, item in zip(elements, parts):
            self.bind(element.value, item, frame)

    def set_attribute(self, obj: Any, name: str, value: Any) -> None:
        if isinstance(obj, Instance):
            obj.attrs[name] = value
        elif isinstance(obj, ClassV):
            obj.attrs[name] = value

    def set_item(self, obj: Any, target: cst.Subscript, value: Any, frame: Frame) -> None:
        key = self.subscript_key(target, frame)
        if isinstance(obj, DictV) and not obj.opaque:
            if key is UNKNOWN or not is_hashable(key):
                obj.opaque = True
            else:
                obj[key] = value
        elif isinstance(obj, ListV) and not obj.opaque:
            if isinstance(key, int) and -len(obj) <= key < len(obj):
                obj[key] = value
            else:
                obj.opaque = True
        elif isinstance(obj, Container):
            obj.opaque = True

    def havoc(self, node: Any, frame: Frame) -> None:
        """Whatever `node` may write becomes unknown: it runs on a path the evaluator cannot decide."""
        collector = writes_of(node)
        for name in collector.names:
            frame.scope.assign(name, UNKNOWN)
        for base, attr in collector.attributes:
            obj = self.quiet_eval(base, frame)
            if isinstance(obj, Instance):
                obj.attrs[attr] = UNKNOWN
        for base in collector.mutated:
            obj = self.quiet_eval(base, frame)
            if isinstance(obj, (ListV, DictV, Container)):
                obj.opaque = True
        for receiver, name, arguments in collector.calls:
            for argument in arguments:
                value = self.quiet_eval(argument, frame)
                if isinstance(value, (ListV, DictV)):
                    value.opaque = True
            obj = self.quiet_eval(receiver, frame) if receiver is not None else UNKNOWN
            if name in MUTATING_METHODS and isinstance(obj, (ListV, DictV, Container)):
                obj.opaque = True
            elif isinstance(obj, Instance):
                method = self.find_method(obj.cls, name)
                for attr in self_writes(method) if method is not None else ():
                    obj.attrs[attr] = UNKNOWN
        if collector.returns:
            frame.maybe_returned = True

    def quiet_eval(self, node: Any, frame: Frame) -> Any:
        """Evaluate a plain name or attribute chain without calls (for havoc)."""
        if isinstance(node, cst.Name):
            value = frame.scope.lookup(node.value)
            return value.resolve() if isinstance(value, Lazy) else value
        if isinstance(node, cst.Attribute):
            return self.get_attribute(self.quiet_eval(node.value, frame), node.attr.value)
        return UNKNOWN

    # ---- expressions ----------------------------------------------------------------------------------

    def eval(self, node: Any, frame: Frame) -> Any:
        self.steps += 1
        if self.steps > self.max_steps:
            raise Abort("step budget")
        method = EXPRESSIONS.get(type(node))
        return UNKNOWN if method is None else method(self, node, frame)

    def expr_Name(self, node: cst.Name, frame: Frame) -> Any:
        if node.value in CONSTANTS:
            return CONSTANTS[node.value]
        value = frame.scope.lookup(node.value)
        return value.resolve() if isinstance(value, Lazy) else value

    def expr_Integer(self, node: cst.Integer, frame: Frame) -> Any:
        return int(node.value.replace("_", ""), 0)  # libcst's evaluated_value compiles each literal

    def expr_Float(self, node: cst.Float, frame: Frame) -> Any:
        return float(node.value.replace("_", ""))

    def expr_SimpleString(self, node: cst.SimpleString, frame: Frame) -> Any:
        text, prefix = node.value, node.prefix.lower()
        if "\\" not in text and prefix in ("", "r", "u"):  # libcst's evaluated_value compiles each literal
            quote = 3 if text[len(prefix):].startswith(("\"\"\"", "\'\'\'")) else 1
            return text[len(prefix) + quote: len(text) - quote]
        try:
            return node.evaluated_value
        except Exception:
            return UNKNOWN

    def expr_ConcatenatedString(self, node: cst.ConcatenatedString, frame: Frame) -> Any:
        left, right = self.eval(node.left, frame), self.eval(node.right, frame)
        return left + right if isinstance(left, str) and isinstance(right, str) else UNKNOWN

    def expr_FormattedString(self, node: cst.FormattedString, frame: Frame) -> Any:
        text = []
        for part in node.parts:
            if isinstance(part, cst.FormattedStringText):
                text.append(part.value)
                continue
            value = self.eval(part.expression, frame)
            if not isinstance(value, (int, str)) or part.format_spec or part.conversion:
                return UNKNOWN
            text.append(str(value))
        return "".join(text)

    def expr_Ellipsis(self, node: Any, frame: Frame) -> Any:
        return Ellipsis

    def expr_Tuple(self, node: cst.Tuple, frame: Frame) -> Any:
        items = self.elements(node.elements, frame)
        return UNKNOWN if items is UNKNOWN else tuple(items)

    def expr_List(self, node: cst.List, frame: Frame) -> Any:
        items = self.elements(node.elements, frame)
        return UNKNOWN if items is UNKNOWN else ListV(items)

    def expr_Set(self, node: cst.Set, frame: Frame) -> Any:
        items = self.elements(node.elements, frame)
        if items is UNKNOWN or not all(is_hashable(i) for i in items):
            return UNKNOWN
        return set(items)

    def elements(self, elements: Any, frame: Frame) -> Any:
        items: list = []
        for element in elements:
            value = self.eval(element.value, frame)
            if isinstance(element, cst.StarredElement):
                spread = self.iterate(value)
                if spread is UNKNOWN:
                    return UNKNOWN
                self.grow(items, spread)
            else:
                items.append(value)
        return items

    def expr_Dict(self, node: cst.Dict, frame: Frame) -> Any:
        result = DictV()
        for element in node.elements:
            if isinstance(element, cst.StarredDictElement):
                other = readable(self.eval(element.value, frame))
                if not isinstance(other, dict):
                    return UNKNOWN
                result.update(other)
                continue
            key = self.eval(element.key, frame)
            if key is UNKNOWN or not is_hashable(key):
                return UNKNOWN
            result[key] = self.eval(element.value, frame)
        return result

    def expr_Attribute(self, node: cst.Attribute, frame: Frame) -> Any:
        return self.get_attribute(self.eval(node.value, frame), node.attr.value, node, frame)

    def expr_Subscript(self, node: cst.Subscript, frame: Frame) -> Any:
        return self.get_item(self.eval(node.value, frame), self.subscript_key(node, frame))

    def subscript_key(self, node: cst.Subscript, frame: Frame) -> Any:
        keys = []
        for element in node.slice:
            part = element.slice
            if isinstance(part, cst.Index):
                keys.append(self.eval(part.value, frame))
            else:
                bounds = [self.eval(b, frame) if b is not None else None for b in (part.lower, part.upper, part.step)]
                keys.append(UNKNOWN if any(b is UNKNOWN for b in bounds) else slice(*bounds))
        return keys[0] if len(keys) == 1 else tuple(keys)

    def expr_BinaryOperation(self, node: cst.BinaryOperation, frame: Frame) -> Any:
        return self.binary(type(node.operator), self.eval(node.left, frame), self.eval(node.right, frame), node, frame)

    def expr_UnaryOperation(self, node: cst.UnaryOperation, frame: Frame) -> Any:
        value = self.eval(node.expression, frame)
        if isinstance(node.operator, cst.Not):
            truth = self.truth(value)
            return UNKNOWN if truth is UNKNOWN else not truth
        if isinstance(value, Tensor):
            return value
        if isinstance(value, (int, float)):
            if isinstance(node.operator, cst.Minus):
                return -value
            if isinstance(node.operator, cst.Plus):
                return +value
            if isinstance(node.operator, cst.BitInvert) and isinstance(value, int):
                return ~value
        return UNKNOWN

    def expr_BooleanOperation(self, node: cst.BooleanOperation, frame: Frame) -> Any:
        left = self.eval(node.left, frame)
        truth = self.truth(left)
        if truth is UNKNOWN:
            return UNKNOWN
        if isinstance(node.operator, cst.And):
            return self.eval(node.right, frame) if truth else left
        return left if truth else self.eval(node.right, frame)

    def expr_Comparison(self, node: cst.Comparison, frame: Frame) -> Any:
        left = self.eval(node.left, frame)
        result: Any = True
        for target in node.comparisons:
            right = self.eval(target.comparator, frame)
            outcome = self.compare(target.operator, left, right)
            if outcome is UNKNOWN:
                result = UNKNOWN
            elif outcome is False:
                return False
            left = right
        return result

    def compare(self, op: Any, left: Any, right: Any) -> Any:
        left, right = readable(left), readable(right)
        if isinstance(op, (cst.Is, cst.IsNot)):
            if left is UNKNOWN or right is UNKNOWN:
                return UNKNOWN
            if right is None or left is None or isinstance(left, bool) or isinstance(right, bool):
                same = left is right
            elif isinstance(left, PLAIN) or isinstance(right, PLAIN):
                return UNKNOWN
            else:
                same = left is right
            return same if isinstance(op, cst.Is) else not same
        if isinstance(op, (cst.In, cst.NotIn)):
            container = right
            if isinstance(container, (ListV, tuple, set, DictV, str)) and is_plain(left) and all(
                    is_plain(v) for v in container):
                found = left in container
                return found if isinstance(op, cst.In) else not found
            return UNKNOWN
        fn = COMPARE.get(type(op))
        if fn is not None and is_plain(left) and is_plain(right):
            try:
                return fn(left, right)
            except TypeError:
                return UNKNOWN
        return UNKNOWN

    def expr_IfExp(self, node: cst.IfExp, frame: Frame) -> Any:
        truth = self.truth(self.eval(node.test, frame))
        if truth is UNKNOWN:
            return UNKNOWN
        return self.eval(node.body if truth else node.orelse, frame)

    def expr_NamedExpr(self, node: cst.NamedExpr, frame: Frame) -> Any:
        value = self.eval(node.value, frame)
        self.bind(node.target, value, frame)
        return value

    def expr_Yield(self, node: Any, frame: Frame) -> Any:
        raise YieldReached()

    def expr_Lambda(self, node: cst.Lambda, frame: Frame) -> Any:
        return Function(node, frame.unit, frame.scope, "<lambda>")

    def expr_ListComp(self, node: Any, frame: Frame) -> Any:
        items = self.comprehension(node, frame, lambda f: self.eval(node.elt, f))
        return UNKNOWN if items is UNKNOWN else ListV(items)

    def expr_GeneratorExp(self, node: Any, frame: Frame) -> Any:
        items = self.comprehension(node, frame, lambda f: self.eval(node.elt, f))
        return UNKNOWN if items is UNKNOWN else tuple(items)

    def expr_SetComp(self, node: Any, frame: Frame) -> Any:
        items = self.comprehension(node, frame, lambda f: self.eval(node.elt, f))
        return UNKNOWN if items is UNKNOWN or not all(is_hashable(i) for i in items) else set(items)

    def expr_DictComp(self, node: cst.DictComp, frame: Frame) -> Any:
        pairs = self.comprehension(node, frame, lambda f: (self.eval(node.key, f), self.eval(node.value, f)))
        if pairs is UNKNOWN or not all(is_hashable(k) for k, _ in pairs):
            return UNKNOWN
        return DictV(pairs)

    def comprehension(self, node: Any, frame: Frame, produce: Any) -> Any:
        inner = Frame(Scope(frame.scope), frame.unit, frame.function)
        results: list = []

        def run(clause: cst.CompFor) -> bool:
            items = self.iterate(self.eval(clause.iter, inner))
            if items is UNKNOWN:
                return False
            for item in items:
                self.bind(clause.target, item, inner)
                keep = True
                for condition in clause.ifs:
                    truth = self.truth(self.eval(condition.test, inner))
                    if truth is UNKNOWN:
                        return False
                    keep = keep and truth
                if not keep:
                    continue
                if clause.inner_for_in is not None:
                    if not run(clause.inner_for_in):
                        return False
                else:
                    results.append(produce(inner))
                    if len(results) > MAX_ITEMS:
                        raise Abort("size bound")
            return True

        return results if run(node.for_in) else UNKNOWN

    def expr_Call(self, node: cst.Call, frame: Frame) -> Any:
        func = self.eval(node.func, frame)
        args: list = []
        kwargs: dict = {}
        for arg in node.args:
            value = self.eval(arg.value, frame)
            if arg.star == "*":
                spread = self.iterate(value)
                if spread is UNKNOWN:
                    return self.call_unknown([value], {})
                args.extend(spread)
            elif arg.star == "**":
                mapping = readable(value)
                if not isinstance(mapping, dict) or not all(isinstance(k, str) for k in mapping):
                    kwargs[OPAQUE_KWARGS] = True
                    continue
                kwargs.update(mapping)
            elif arg.keyword is not None:
                kwargs[arg.keyword.value] = value
            else:
                args.append(value)
        self.call_scope = frame.scope
        return self.call(func, args, kwargs, (frame.unit, node))

    # ---- calls ----------------------------------------------------------------------------------------

    def call(self, func: Any, args: list, kwargs: dict, where: Any) -> Any:
        if isinstance(func, Function):
            return self.call_function(func, args, kwargs)
        if isinstance(func, BoundMethod):
            return self.call_function(func.function, [func.receiver] + list(args), kwargs)
        if isinstance(func, ClassV):
            return self.instantiate(func, args, kwargs, where)
        if isinstance(func, (Layer, Container, Instance)):
            if not self.frames and len(args) == 1 and isinstance(args[0], Tensor) and not args[0].pending:
                self.usages.append((func, args[0], where))  # confirm builds it again, never running the script
            return self.apply_module(func, args, kwargs, where)
        if isinstance(func, (External, library.Builtin, library.Method, library.Partial)):
            if OPAQUE_KWARGS in kwargs:
                return self.call_unknown(args, kwargs)
            return library.call(self, func, args, kwargs, where)
        return self.call_unknown(args, kwargs)

    def call_unknown(self, args: list, kwargs: dict) -> Any:
        """Code the evaluator does not follow may change lists and dicts it is given (modules it is not
        taken to restructure: `_log_api_usage_once(self)`, `nn.init.*(m.weight)`)."""
        for value in list(args) + list(kwargs.values()):
            if isinstance(value, (ListV, DictV)):
                value.opaque = True
        return UNKNOWN

    def call_function(self, func: Function, args: list, kwargs: dict) -> Any:
        if self.depth >= MAX_DEPTH:
            raise Abort("depth bound")
        scope = Scope(func.scope)
        if not self.bind_parameters(func, scope, args, kwargs):
            return self.call_unknown(args, kwargs)
        frame = Frame(scope, func.unit, func)
        self.depth += 1
        self.frames.append(frame)
        try:
            if isinstance(func.node, cst.Lambda):
                return self.eval(func.node.body, frame)
            owner = func.owner.name if func.owner is not None else ""
            if func.node.asynchronous is not None or (owner, func.name) in func.unit.source.generators():
                return UNKNOWN
            try:
                flow = self.exec_body(func.node.body, frame)
            except YieldReached:  # a nested generator function: not worth a walk of every function's body
                return UNKNOWN
        finally:
            self.depth -= 1
            self.frames.pop()
        if frame.maybe_returned:
            return UNKNOWN
        return flow.value if flow is not None and flow.kind == "return" else None

    def bind_parameters(self, func: Function, scope: Scope, args: list, kwargs: dict) -> bool:
        params: cst.Parameters = func.node.params
        positional = list(params.posonly_params) + list(params.params)
        opaque = kwargs.pop(OPAQUE_KWARGS, False)
        kwargs = dict(kwargs)
        for i, param in enumerate(positional):
            name = param.name.value
            if i < len(args):
                if name in kwargs and param not in params.posonly_params:
                    return False
                scope.vars[name] = args[i]
            elif name in kwargs:
                scope.vars[name] = kwargs.pop(name)
            elif opaque:
                scope.vars[name] = UNKNOWN
            elif param.default is not None:
                scope.vars[name] = self.default(param, func)
            else:
                return False
        extra = list(args[len(positional):])
        star = params.star_arg
        if isinstance(star, cst.Param):
            scope.vars[star.name.value] = tuple(extra)
        elif extra:
            return False
        for param in params.kwonly_params:
            name = param.name.value
            if name in kwargs:
                scope.vars[name] = kwargs.pop(name)
            elif opaque:
                scope.vars[name] = UNKNOWN
            elif param.default is not None:
                scope.vars[name] = self.default(param, func)
            else:
                return False
        if params.star_kwarg is not None:
            rest = DictV(kwargs)
            rest.opaque = bool(opaque)
            scope.vars[params.star_kwarg.name.value] = rest
        elif kwargs:
            return False
        return True

    def default(self, param: cst.Param, func: Function) -> Any:
        return self.eval(param.default, Frame(func.scope, func.unit))

    def instantiate(self, cls: ClassV, args: list, kwargs: dict, where: Any) -> Any:
        self.ready(cls)
        instance = Instance(cls, where=where, built_with=(tuple(args), dict(kwargs)))
        init = self.find_method(cls, "__init__")
        if init is not None:
            self.call_function(init, [instance] + list(args), kwargs)
        elif cls.is_dataclass() and not cls.bases:
            self.init_dataclass(cls, instance, args, kwargs)
        elif cls.external_bases() and not cls.is_module() or cls.decorators:
            instance.opaque = True  # a NamedTuple, an Enum, a decorated class: its fields come from code not followed
        else:
            container = library.container_from_base(self, cls, args, kwargs, where)
            if container is not None:
                instance.attrs["__container__"] = container
        return instance

    def init_dataclass(self, cls: ClassV, instance: Instance, args: list, kwargs: dict) -> None:
        """@dataclass's generated __init__: the annotated fields in order, each from the call or its default."""
        fields = [stmt.body[0].target.value for stmt in cls.node.body.body
                  if isinstance(stmt, cst.SimpleStatementLine) and isinstance(stmt.body[0], cst.AnnAssign)
                  and isinstance(stmt.body[0].target, cst.Name)] if cls.node is not None else []
        if len(args) > len(fields) or any(k not in fields for k in kwargs) or OPAQUE_KWARGS in kwargs:
            instance.opaque = True
            return
        for i, name in enumerate(fields):
            if i < len(args):
                instance.attrs[name] = args[i]
            elif name in kwargs:
                instance.attrs[name] = kwargs[name]
            else:
                instance.attrs[name] = cls.attrs.get(name, UNKNOWN)

    def current_function(self) -> Function | None:
        return self.frames[-1].function if self.frames else None

    def current_self(self) -> Any:
        """The first argument of the running method (for a bare `super()`)."""
        function = self.current_function()
        if function is None or isinstance(function.node, cst.Lambda) or not function.node.params.params:
            return None
        return self.frames[-1].scope.vars.get(function.node.params.params[0].name.value)

    def apply_model(self, model: Any, x: Tensor) -> Any:
        """Run a model on its input; a forward's other required arguments are unknown."""
        if isinstance(model, Instance) and model.cls.is_module():
            forward = self.find_method(model.cls, "forward")
            if forward is not None and isinstance(forward.node, cst.FunctionDef):
                params = forward.node.params
                required = [p for p in list(params.posonly_params) + list(params.params) if p.default is None]
                extra = [UNKNOWN] * max(len(required) - 2, 0)
                return self.call_function(forward, [model, x] + extra, {})
        return self.apply_module(model, [x], {}, None)

    def find_method(self, cls: ClassV, name: str) -> Function | None:
        for klass in cls.mro():
            self.ready(klass)
            value = klass.attrs.get(name)
            if isinstance(value, Function):
                return value
        return None

    def apply_module(self, module: Any, args: list, kwargs: dict, where: Any) -> Any:
        """`module(x)`: a layer's shape function, a container's children in turn, or an instance's forward."""
        if args and isinstance(args[0], Tensor) and not args[0].pending:
            self.used_with_input.add(id(module.cls) if isinstance(module, Instance) else id(module))
        if isinstance(module, Instance):
            if module.opaque:
                return UNKNOWN
            forward = self.find_method(module.cls, "forward") if module.cls.is_module() else self.find_method(
                module.cls, "__call__")
            if forward is not None:
                return self.call_function(forward, [module] + list(args), kwargs)
            container = module.attrs.get("__container__")
            return self.apply_module(container, args, kwargs, where) if container is not None else UNKNOWN
        if len(args) != 1 or kwargs:
            return UNKNOWN
        x = args[0]
        if isinstance(module, Layer):
            if isinstance(x, Tensor):
                return module(x, self.check)
            self.check.layers_unknown += 1  # reached, but what arrives is unknown: counted for coverage
            return UNKNOWN
        if isinstance(module, Container):
            if module.kind != "Sequential" or module.opaque:
                return UNKNOWN
            for child in module.modules():
                if not isinstance(x, Tensor):
                    return UNKNOWN
                x = self.apply_module(child, [x], {}, where) if child is not UNKNOWN else UNKNOWN
            return x
        return UNKNOWN

    # ---- attributes and items -------------------------------------------------------------------------

    def get_attribute(self, obj: Any, name: str, node: Any = None, frame: Frame | None = None) -> Any:
        obj = readable(obj)
        if isinstance(obj, External):
            return External(f"{obj.name}.{name}")
        if isinstance(obj, Instance):
            if name in obj.attrs:
                return obj.attrs[name]
            if obj.opaque:
                return UNKNOWN
            value = self.class_attribute(obj.cls, name)
            if isinstance(value, Function):
                return self.method_for(value, obj)
            if value is not UNKNOWN:
                return value
            container = obj.attrs.get("__container__")
            if container is not None:
                return library.method(container, name)
            return library.method(obj, name)
        if isinstance(obj, ClassV):
            value = self.class_attribute(obj, name)
            if isinstance(value, Function) and value.kind == "class":
                return BoundMethod(value, obj)
            return value
        if isinstance(obj, Super):
            for klass in obj.cls.mro()[1:]:
                value = self.ready(klass).attrs.get(name)
                if isinstance(value, Function):
                    return BoundMethod(value, obj.receiver)
            return library.method(obj, name)
        if isinstance(obj, Tensor):
            return library.tensor_attribute(obj, name, (frame.unit, node) if frame else None)
        if isinstance(obj, Layer):
            if name in obj.args:
                return obj.args[name]
            return library.method(obj, name)
        if obj is UNKNOWN:
            return UNKNOWN
        return library.method(obj, name)

    def method_for(self, function: Function, instance: Instance) -> Any:
        """A method read from an instance, as its decorator makes it."""
        if function.kind == "static":
            return function
        if function.kind == "class":
            return BoundMethod(function, instance.cls)
        if function.kind == "property":
            return self.call_function(function, [instance], {})
        return BoundMethod(function, instance)

    def class_attribute(self, cls: ClassV, name: str) -> Any:
        for klass in cls.mro():
            if klass.ready or name in klass.member_names:
                self.ready(klass)
                if name in klass.attrs:
                    return klass.attrs[name]
        return library.inherited_attribute(cls, name)

    def get_item(self, obj: Any, key: Any) -> Any:
        obj = readable(obj)
        if key is UNKNOWN or obj is UNKNOWN:
            return UNKNOWN
        if isinstance(obj, Tensor):
            return library.tensor_index(obj, key)
        if isinstance(obj, Container):
            return library.container_item(obj, key)
        if isinstance(obj, Instance) and "__container__" in obj.attrs:
            return library.container_item(obj.attrs["__container__"], key)
        if isinstance(obj, (ListV, tuple, str)):
            if isinstance(key, slice):
                if any(b is not None and not isinstance(b, int) for b in (key.start, key.stop, key.step)):
                    return UNKNOWN
                part = obj[key]
                return ListV(part) if isinstance(obj, ListV) else part
            if isinstance(key, int) and -len(obj) <= key < len(obj):
                return obj[key]
            return UNKNOWN
        if isinstance(obj, dict):
            if is_hashable(key) and key in obj:
                return obj[key]
            return UNKNOWN
        return UNKNOWN

    # ---- helpers --------------------------------------------------------------------------------------

    def iterate(self, value: Any) -> Any:
        """The items of a known iterable, or UNKNOWN."""
        value = readable(value)
        if isinstance(value, (ListV, tuple, list)):
            return list(value)
        if isinstance(value, (str, set, frozenset)):
            return list(value) if not isinstance(value, set) or all(is_plain(v) for v in value) else UNKNOWN
        if isinstance(value, dict):
            return list(value.keys())
        if isinstance(value, Container) and not value.opaque:
            return value.modules() if value.kind != "ModuleDict" else [k for k, _ in value.children]
        if isinstance(value, Instance) and "__container__" in value.attrs:
            return self.iterate(value.attrs["__container__"])
        return UNKNOWN

    def grow(self, items: list, more: list) -> None:
        if len(items) + len(more) > MAX_ITEMS:
            raise Abort("size bound")
        items.extend(more)

    def truth(self, value: Any) -> Any:
        value = readable(value)
        if value is UNKNOWN or isinstance(value, (Tensor, External)):
            return UNKNOWN
        if isinstance(value, Container):
            return bool(value.children) if not value.opaque else UNKNOWN
        if isinstance(value, Instance):
            return UNKNOWN if self.find_method(value.cls, "__len__") or self.find_method(value.cls, "__bool__") else True
        if isinstance(value, (Layer, Function, BoundMethod, ClassV)):
            return True
        if isinstance(value, (ListV, tuple, DictV, str, int, float, bool, type(None), set)):
            return bool(value)
        return UNKNOWN

    def binary(self, op: Any, left: Any, right: Any, node: Any = None, frame: Frame | None = None) -> Any:
        left, right = readable(left), readable(right)
        if left is UNKNOWN or right is UNKNOWN or op is None:
            return UNKNOWN
        if isinstance(left, Tensor) or isinstance(right, Tensor):
            return library.tensor_binary(op, left, right)
        if isinstance(left, dims.Sym) or isinstance(right, dims.Sym):
            return symbolic_arithmetic(op, left, right)
        if isinstance(left, ListV) and isinstance(right, (ListV, list)) and op is cst.Add:
            if len(left) + len(right) > MAX_ITEMS:
                raise Abort("size bound")
            return ListV(list(left) + list(right))
        if op is cst.Multiply and (isinstance(left, (ListV, tuple, str)) or isinstance(right, (ListV, tuple, str))):
            sequence, count = (left, right) if isinstance(left, (ListV, tuple, str)) else (right, left)
            if not isinstance(count, int) or len(sequence) * max(count, 0) > MAX_ITEMS:
                return UNKNOWN
            result = sequence * count
            return ListV(result) if isinstance(sequence, ListV) else result
        if not (is_plain(left) and is_plain(right)) and not (isinstance(left, tuple) and isinstance(right, tuple)):
            return UNKNOWN
        if op is cst.Power and isinstance(right, int) and isinstance(left, int) and (
                right < 0 or right * max(abs(left), 2).bit_length() > MAX_INT_BITS):
            return UNKNOWN
        if op is cst.LeftShift and isinstance(right, int) and right > MAX_INT_BITS:
            return UNKNOWN
        try:
            result = BINARY[op](left, right)
        except Exception:
            return UNKNOWN
        if isinstance(result, int) and result.bit_length() > MAX_INT_BITS:
            return UNKNOWN
        if isinstance(result, (tuple, str)) and len(result) > MAX_ITEMS:
            return UNKNOWN
        return result


METHOD_KINDS = {"staticmethod": "static", "classmethod": "class", "property": "property",
                "cached_property": "property"}


def method_of(cls: ClassV, node: cst.FunctionDef, unit: Any, scope: Any) -> Function:
    """A method of a class body; @staticmethod, @classmethod and @property change how it binds."""
    kind = "method"
    for decorator in node.decorators:
        name = decorator.decorator
        name = name.attr.value if isinstance(name, cst.Attribute) else name.value if isinstance(name, cst.Name) else ""
        kind = METHOD_KINDS.get(name, kind)
    return Function(node, unit, scope, node.name.value, cls, kind)


def _dispatch(prefix: str) -> dict:
    """libcst node class → the Interpreter method for it (`expr_Name`, `stmt_If`, …), looked up once."""
    return {getattr(cst, name[len(prefix):]): method for name, method in vars(Interpreter).items()
            if name.startswith(prefix) and hasattr(cst, name[len(prefix):])}


EXPRESSIONS = _dispatch("expr_")
STATEMENTS = _dispatch("stmt_")

OPAQUE_KWARGS = "\0opaque"  # a `**kwargs` whose contents are unknown: every unnamed parameter is unknown


def symbolic_arithmetic(op: Any, left: Any, right: Any) -> Any:
    if op is cst.Multiply and all(isinstance(v, (int, dims.Sym)) and not isinstance(v, bool) for v in (left, right)):
        return dims.multiply(left, right)
    if op is cst.FloorDivide and isinstance(right, int) and not isinstance(right, bool):
        return dims.divide(left, right)
    return UNKNOWN


def assigned_names_ast(node: ast.stmt) -> set:
    names = set()
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store):
            names.add(sub.id)
        elif isinstance(sub, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in sub.names)
    return names


SYNTAX_CACHES: list = []


def forget_syntax() -> None:
    """Drop the memoised facts of a finished file (their nodes are kept alive by the caches)."""
    for cache in SYNTAX_CACHES:
        cache.clear()


def syntactic(fn):
    """Memoise a syntactic fact about a libcst node: nodes are immutable, and walking them is costly."""
    cache: dict = {}
    SYNTAX_CACHES.append(cache)

    def cached(node: Any) -> Any:
        key = id(node)
        if key not in cache:
            cache[key] = (node, fn(node))  # holding the node keeps its id from being reused
        return cache[key][1]

    return cached


@syntactic
def writes_of(node: Any) -> "WriteCollector":
    collector = WriteCollector()
    walk(node, collector)
    return collector


FORMATTING = ("whitespace", "lpar", "rpar", "comma", "semicolon", "leading_lines", "newline", "indent", "header",
              "footer", "lines_after", "equal", "dot", "colon", "operator", "asynchronous", "star")


@lru_cache(maxsize=None)
def _child_fields(kind: type) -> tuple:
    return tuple(f.name for f in dataclasses.fields(kind) if not any(word in f.name for word in FORMATTING))


def walk(node: Any, visitor: Any) -> None:
    """Visit a libcst tree without libcst's visitor machinery, which rebuilds every node it passes: call
    `visitor.visit_<Node>` where it exists (False: skip the children), and descend."""
    todo = [node]
    while todo:
        node = todo.pop()
        method = getattr(visitor, "visit_" + type(node).__name__, None)
        if method is not None and method(node) is False:
            continue
        for name in _child_fields(type(node)):
            value = getattr(node, name)
            if isinstance(value, cst.CSTNode):
                todo.append(value)
            elif isinstance(value, (list, tuple)):
                todo.extend(v for v in value if isinstance(v, cst.CSTNode))


MUTATING_METHODS = frozenset(
    "append extend insert pop remove clear update setdefault add_module register_module popitem sort reverse "
    "add discard __setitem__ __delitem__".split())


class WriteCollector:
    """What a block may write: names, object attributes, and containers changed through methods or items."""

    def __init__(self) -> None:
        self.names: set = set()
        self.attributes: list = []
        self.mutated: list = []
        self.calls: list = []  # (receiver node or None, method name, argument nodes)
        self.returns = False

    def target(self, node: Any) -> None:
        if isinstance(node, cst.Name):
            self.names.add(node.value)
        elif isinstance(node, (cst.Tuple, cst.List)):
            for element in node.elements:
                self.target(element.value)
        elif isinstance(node, cst.StarredElement):
            self.target(node.value)
        elif isinstance(node, cst.Attribute):
            self.attributes.append((node.value, node.attr.value))
        elif isinstance(node, cst.Subscript):
            self.mutated.append(node.value)

    def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
        self.target(node.target)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self.target(node.target)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self.target(node.target)
        if isinstance(node.target, (cst.Name, cst.Attribute)):
            self.mutated.append(node.target)

    def visit_For(self, node: cst.For) -> None:
        self.target(node.target)

    def visit_CompFor(self, node: cst.CompFor) -> None:
        self.target(node.target)

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        self.target(node.target)

    def visit_AsName(self, node: cst.AsName) -> None:
        self.target(node.name)

    def visit_Del(self, node: cst.Del) -> None:
        self.target(node.target)

    def visit_Import(self, node: cst.Import) -> None:
        self.names.update(import_bindings(node))

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        self.names.update(import_bindings(node))

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        self.names.add(node.name.value)
        return False

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        self.names.add(node.name.value)
        return False

    def visit_Return(self, node: cst.Return) -> None:
        self.returns = True

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        receiver, name = (func.value, func.attr.value) if isinstance(func, cst.Attribute) else (None, "")
        arguments = [arg.value for arg in node.args if isinstance(arg.value, (cst.Name, cst.Attribute))]
        self.calls.append((receiver, name, arguments))


def self_writes(method: Function) -> set:
    """Attributes a method assigns on its first parameter (`self.inplanes = ...`), read syntactically."""
    params = method.node.params.params if isinstance(method.node, cst.FunctionDef) else ()
    if not params:
        return set()
    collector = writes_of(method.node.body)
    me = params[0].name.value
    return {attr for base, attr in collector.attributes if isinstance(base, cst.Name) and base.value == me}


class Lazy:
    """A value worked out on first use."""

    def resolve(self) -> Any:
        raise NotImplementedError


class LazyImport(Lazy):
    """`from .blocks import ConvBlock`: the value in the project's module, or an External name."""

    def __init__(self, importer: str, module: str, name: str, qualified: str) -> None:
        self.importer, self.module, self.name, self.qualified = importer, module, name, qualified
        self.value: Any = None

    def resolve(self) -> Any:
        if self.value is None:
            self.value = External(self.qualified)
            path = project.module_file(self.importer, self.module)
            loaded = project.load(path) if path is not None else None
            if loaded is not None and self.name in loaded.globals.vars:
                found = loaded.globals.vars[self.name]
                self.value = found.resolve() if isinstance(found, Lazy) else found
        return self.value


class LazyFunction(Lazy):
    """A top-level function, parsed by libcst the first time something calls or reads it."""

    def __init__(self, interpreter: Interpreter, top: Any) -> None:
        self.interpreter, self.top = interpreter, top
        self.function: Function | None = None

    def resolve(self) -> Any:
        if self.function is None:
            node = next((s for s in self.top.unit.module.body
                         if isinstance(s, cst.FunctionDef) and s.name.value == self.top.node.name), None)
            if node is None:
                return UNKNOWN
            self.function = Function(node, self.top.unit, self.interpreter.globals, node.name.value)
        return self.function

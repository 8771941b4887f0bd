"""Statements: assignment and binding, branches and loops on known values, definitions, imports; and the
havoc of what a block the evaluator cannot decide may write."""

from __future__ import annotations

import ast
from typing import Any

from torchshape_lint.evaluate.frames import Abort, Flow, Frame, Scope, dispatch, resolved
from torchshape_lint.evaluate.argparse_library import ArgumentParser
from torchshape_lint.evaluate.torch_library import MODULE_PRESERVING
from torchshape_lint.evaluate.tensor_methods import PendingSizes
from torchshape_lint.evaluate.tensor_op_table import CONVERSIONS
from torchshape_lint.evaluate.torch_modules import container_method
from torchshape_lint.evaluate.values import (
    MAX_ITEMS, AttrDict, ClassV, Container, DictV, Function, Instance, ListV, Stream, is_hashable, is_module_value,
    readable,
)
from torchshape_lint.shapes.layer_spec import SHAPE_NEUTRAL_ATTRIBUTES, Layer
from torchshape_lint.shapes.tensor import Tensor
from torchshape_lint.source.imports import import_bindings
from torchshape_lint.source.writes import MUTATING_METHODS, body_writes, writes_of
from torchshape_lint.unknown import UNKNOWN

METHOD_KINDS = {"staticmethod": "static", "classmethod": "class", "property": "property",
                "cached_property": "property"}
FUNCTION_DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef)
SUBMODULE_ITERATORS = frozenset({"modules", "named_modules", "children", "named_children"})
UNDECIDED = {  # why a statement's writes became unknown, by its kind
    ast.If: "its condition is not known", ast.While: "its condition is not known",
    ast.For: "what it loops over is not known", ast.ExceptHandler: "an exception handler may run instead",
    ast.Delete: "it deletes names",
}


class Statements:
    """The statement half of the Interpreter (a mixin: it calls the other halves through `self`)."""

    def exec_block(self, statements: list, frame: Frame) -> Flow | None:
        for stmt in statements:
            flow = self.exec_statement(stmt, frame)
            if flow is not None:
                return flow
        return None

    def exec_statement(self, stmt: ast.stmt, frame: Frame) -> Flow | None:
        try:
            self.steps += 1  # Interpreter.tick, here without the call
            if self.steps > self.max_steps:
                raise Abort("step budget")
            method = STATEMENTS.get(stmt.__class__)
            if method is None:
                self.havoc(stmt, frame)
                return None
            return method(self, stmt, frame)
        except Abort as stop:
            if stop.where is None:  # where the evaluation stopped, for --verbose
                stop.where = (frame.source, stmt.lineno)
            raise

    def stmt_Expr(self, stmt: ast.Expr, frame: Frame) -> None:
        self.eval(stmt.value, frame)

    def stmt_Pass(self, stmt: Any, frame: Frame) -> None:
        return None

    stmt_Assert = stmt_Pass
    stmt_Nonlocal = stmt_Pass

    def stmt_Global(self, stmt: ast.Global, frame: Frame) -> None:
        frame.scope.globals_ = frame.scope.globals_ | frozenset(stmt.names)

    def stmt_Break(self, stmt: Any, frame: Frame) -> Flow:
        return Flow(Flow.BREAK)

    def stmt_Continue(self, stmt: Any, frame: Frame) -> Flow:
        return Flow(Flow.CONTINUE)

    def stmt_Return(self, stmt: ast.Return, frame: Frame) -> Flow:
        return Flow(Flow.RETURN, self.eval(stmt.value, frame) if stmt.value is not None else None)

    def stmt_Raise(self, stmt: Any, frame: Frame) -> None:
        raise Abort("raises")

    def stmt_Import(self, stmt: ast.Import, frame: Frame) -> None:
        """`import models`: a module of the project, read on first use; anything else an External name."""
        for local, qualified in import_bindings(stmt).items():
            frame.scope.assign(local, self.module_import(qualified))

    def stmt_ImportFrom(self, stmt: ast.ImportFrom, frame: Frame) -> None:
        """Names from the project's own modules resolve to their values there, on first use; `*` binds them all
        at once."""
        if any(alias.name == "*" for alias in stmt.names):
            for local, value in self.star_imported("." * stmt.level + (stmt.module or "")).items():
                frame.scope.assign(local, value)
            return
        for local, qualified in import_bindings(stmt).items():
            module, _, name = qualified.rpartition(".")
            frame.scope.assign(local, self.imported(module, name, qualified))

    def stmt_Delete(self, stmt: ast.Delete, frame: Frame) -> None:
        self.havoc(stmt, frame)

    def stmt_Assign(self, stmt: ast.Assign, frame: Frame) -> None:
        value = self.eval(stmt.value, frame)
        for target in stmt.targets:
            self.bind(target, value, frame)

    def stmt_AnnAssign(self, stmt: ast.AnnAssign, frame: Frame) -> None:
        if stmt.value is not None:
            self.bind(stmt.target, self.eval(stmt.value, frame), frame)

    def stmt_AugAssign(self, stmt: ast.AugAssign, frame: Frame) -> None:
        current = self.eval(stmt.target, frame)
        value = self.eval(stmt.value, frame)
        op = type(stmt.op)
        if op is ast.Add and isinstance(current, ListV):  # `layers += [...]` extends the same list
            items = self.iterate(value)
            if items is UNKNOWN or current.opaque:
                current.opaque = True
            else:
                self.grow(current, items)
            return
        self.bind(stmt.target, self.binary(op, current, value, (frame.source, stmt), in_place=True), frame)

    def stmt_If(self, stmt: ast.If, frame: Frame) -> Flow | None:
        test = self.truth(self.eval(stmt.test, frame))
        if test is UNKNOWN:
            self.havoc(stmt, frame)
            return None
        return self.exec_block(stmt.body if test else stmt.orelse, frame)

    def stmt_For(self, stmt: ast.For, frame: Frame) -> Flow | None:
        iterable = self.eval(stmt.iter, frame)
        if isinstance(readable(iterable), Stream):
            return self.run_on_each_kind(stmt, readable(iterable), frame)
        items = self.iterate(iterable)
        if items is UNKNOWN:
            self.change_submodules(stmt, frame)
            return self.run_unknown_times(stmt, frame)
        share = LoopShare(self, len(items))
        self.loops.append(share)
        try:
            for done, item in enumerate(items):
                if share.would_exceed(self, done):
                    raise LoopStopped
                self.bind(stmt.target, item, frame)
                flow = self.exec_block(stmt.body, frame)
                if flow is not None and flow.kind == Flow.BREAK:
                    return None
                if flow is not None and flow.kind != Flow.CONTINUE:
                    return flow
        except LoopStopped:
            return self.stop_loop(stmt, share, frame)
        except Abort as stop:
            if not share.ran_out(self, stop):
                raise
            return self.stop_loop(stmt, share, frame)
        finally:
            share.leave(self)
        return self.exec_block(stmt.orelse, frame)

    def stop_loop(self, stmt: ast.For, share: "LoopShare", frame: Frame) -> None:
        """A loop past its share of the steps stops where it is, and the evaluation goes on after it: whatever the
        loop (its passes run and the ones left) may write is unknown, as for a loop over what is not known."""
        share.leave(self, stopped=True)
        if self.check.loop_stopped is None:
            self.check.loop_stopped = (frame.source, stmt)
        self.havoc(stmt, frame, "it would run past its share of the step budget (stopped there)")

    def change_submodules(self, stmt: ast.For, frame: Frame) -> None:
        """`for m in model.modules(): m.stride = (1, 1)`, a loop not followed over a module's submodules that sets
        their attributes: every layer under that module may have changed, as far as the evaluator knows."""
        call = stmt.iter
        if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and
                call.func.attr in SUBMODULE_ITERATORS):
            return
        names = {n.id for n in ast.walk(stmt.target) if isinstance(n, ast.Name)}
        if not any(isinstance(base, ast.Name) and base.id in names and attr not in SHAPE_NEUTRAL_ATTRIBUTES
                   for base, attr in writes_of(stmt).attributes):
            return
        todo, seen = [self.quiet_eval(call.func.value, frame)], set()
        while todo:
            module = readable(todo.pop())
            if id(module) in seen:
                continue
            seen.add(id(module))
            if isinstance(module, Layer):
                module.changed = True
            elif isinstance(module, Container):
                todo.extend(module.modules())
            elif isinstance(module, Instance):
                todo.extend(v for v in module.attrs.values() if is_module_value(readable(v)))

    def run_unknown_times(self, stmt: ast.For, frame: Frame) -> None:
        """`for i, (imgs, _) in enumerate(loader):` over what is not known: the body runs once (once per build:
        `for epoch in range(200)` around it adds nothing), on unknown items, from what any earlier pass may have
        written, which is unknown; it may also not run at all, so what it writes is unknown after the loop."""
        self.havoc(stmt, frame)
        run = (self.check, id(stmt), None)  # the build's collector itself: its id is never reused
        if run not in self.streams_run:
            self.streams_run.add(run)
            self.bind(stmt.target, UNKNOWN, frame)
            self.exec_block(stmt.body, frame)
            self.havoc(stmt, frame)
        return None

    def run_on_each_kind(self, stmt: ast.For, stream: Stream, frame: Frame) -> None:
        """`for images, labels in loader:` runs an unknown number of times: the body runs once on each kind of item
        (the full batch, the last one), each time from what any earlier pass may have written, which is unknown.
        A loop that runs to its end leaves what its last pass, on the last kind, wrote: the code after it
        (`images.reshape(images.size(0), 1, 28, 28)`) sees the last batch."""
        # A loop that may stop early (`if i == 10: break`) is not proven to reach its later kinds (the last batch).
        to_the_end = not may_leave(stmt.body)
        kinds = stream.kinds if to_the_end else stream.kinds[:1]
        run = (self.check, id(stmt), stream.signature())  # the build's collector itself: its id is never reused
        if run in self.streams_run:  # `for epoch in range(200)` around it: the same passes again, nothing new
            kinds = ()
        self.streams_run.add(run)
        why = "a loader's loop runs an unknown number of times (its body was checked on each kind of batch)"
        for kind in kinds:
            self.havoc(stmt, frame, why)
            self.bind(stmt.target, kind, frame)
            flow = self.exec_block(stmt.body, frame)
            if flow is not None and flow.kind != Flow.CONTINUE:
                to_the_end = False
                break
        if not (to_the_end and kinds):
            self.havoc(stmt, frame, why)
        return None

    def stmt_While(self, stmt: ast.While, frame: Frame) -> Flow | None:
        for _ in range(MAX_ITEMS):
            test = self.truth(self.eval(stmt.test, frame))
            if test is UNKNOWN:
                self.havoc(stmt, frame)
                return None
            if not test:
                return self.exec_block(stmt.orelse, frame)
            flow = self.exec_block(stmt.body, frame)
            if flow is not None and flow.kind == Flow.BREAK:
                return None
            if flow is not None and flow.kind != Flow.CONTINUE:
                return flow
        raise Abort("loop bound")

    def stmt_With(self, stmt: ast.With, frame: Frame) -> Flow | None:
        for item in stmt.items:
            self.eval(item.context_expr, frame)
            if item.optional_vars is not None:
                self.bind(item.optional_vars, UNKNOWN, frame)
        return self.exec_block(stmt.body, frame)

    def stmt_Try(self, stmt: ast.Try, frame: Frame) -> Flow | None:
        # An exception handler may run instead of any part of the body: what the handlers write is unknown.
        for handler in stmt.handlers:
            self.havoc(handler, frame)
        flow = self.exec_block(stmt.body, frame)
        if flow is None:
            flow = self.exec_block(stmt.orelse, frame)
        final = self.exec_block(stmt.finalbody, frame)
        return final or flow

    def stmt_FunctionDef(self, stmt: ast.FunctionDef, frame: Frame) -> None:
        frame.scope.assign(stmt.name, Function(stmt, frame.source, frame.scope, stmt.name))

    stmt_AsyncFunctionDef = stmt_FunctionDef

    def stmt_ClassDef(self, stmt: ast.ClassDef, frame: Frame) -> None:
        bases = [self.eval(base, frame) for base in stmt.bases]
        decorators = [self.eval(d.func if isinstance(d, ast.Call) else d, frame) for d in stmt.decorator_list]
        cls = ClassV(stmt.name, stmt, frame.source, frame.scope, bases, decorators=decorators)
        self.run_class_body(cls, Frame(Scope(frame.scope), frame.source))
        cls.ready = True
        frame.scope.assign(stmt.name, cls)

    def run_class_body(self, cls: ClassV, frame: Frame) -> None:
        """Methods become Functions, other statements run; what the body binds becomes the class's attributes."""
        for stmt in cls.node.body:
            if isinstance(stmt, FUNCTION_DEFINITIONS):
                frame.scope.vars[stmt.name] = method_of(cls, stmt)
            else:
                self.exec_statement(stmt, frame)
        cls.attrs.update(frame.scope.vars)

    # ---- binding and havoc ----------------------------------------------------------------------------

    def bind(self, target: Any, value: Any, frame: Frame) -> None:
        if isinstance(target, ast.Name):
            frame.scope.assign(target.id, value)
        elif isinstance(target, (ast.Tuple, ast.List)):
            self.unpack(target.elts, value, frame)
        elif isinstance(target, ast.Attribute):
            self.set_attribute(self.eval(target.value, frame), target.attr, value)
        elif isinstance(target, ast.Subscript):
            self.set_item(self.eval(target.value, frame), target, value, frame)
        elif isinstance(target, ast.Starred):
            self.bind(target.value, value, frame)

    def unpack(self, elements: list, value: Any, frame: Frame) -> None:
        starred = [i for i, e in enumerate(elements) if isinstance(e, ast.Starred)]
        value = readable(value)
        if isinstance(value, PendingSizes) and not starred:  # `b, c, l = x.shape` succeeds where the rank is 3
            items = value.unpacked(len(elements))
        else:
            items = self.iterate(value)
        fits = items is not UNKNOWN and (len(items) >= len(elements) - 1 if starred else len(items) == len(elements))
        if not fits:
            for element in elements:
                self.bind(element, UNKNOWN, frame)
            return
        if starred:
            s = starred[0]
            tail = len(elements) - s - 1
            parts = list(items[:s]) + [ListV(items[s: len(items) - tail])] + list(items[len(items) - tail:])
        else:
            parts = list(items)
        for element, item in zip(elements, parts):
            self.bind(element, item, frame)

    def set_attribute(self, obj: Any, name: str, value: Any) -> None:
        if isinstance(obj, AttrDict) and not obj.opaque:  # `opt.cuda = torch.cuda.is_available()`
            obj[name] = value
        if isinstance(obj, (Instance, ClassV)):
            obj.attrs[name] = value
        if isinstance(obj, Instance):
            obj.maybe_set.discard(name)
        if isinstance(obj, ClassV):  # what its instances read changed (in this file or another): as if a global had
            self.globals.version += 1
        if isinstance(obj, Layer) and name not in SHAPE_NEUTRAL_ATTRIBUTES:  # `model.conv1.stride = (1, 1)`
            obj.changed = True
        if isinstance(obj, Container) and not obj.opaque:  # `setattr(seq, name, nn.Identity())`: torch registers it
            if is_module_value(value):
                container_method(self, obj, "add_module", [name, value], {}, None)
            elif value is UNKNOWN:
                obj.opaque = True

    def set_item(self, obj: Any, target: ast.Subscript, value: Any, frame: Frame) -> None:
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

    def havoc(self, node: Any, frame: Frame, why: str | None = None) -> None:
        """Whatever `node` may write becomes unknown: it runs on a path the evaluator cannot decide (`why`: the
        reason --verbose and explain give, else the one its kind has)."""
        collector = writes_of(node)
        # each write is looked up again every time: counted as evaluation steps, so the step budget bounds it too
        self.tick(len(collector.names) + len(collector.attributes) + len(collector.mutated) + len(collector.calls))
        lost = []
        for name in sorted(collector.names):
            methods = collector.rebinds.get(name)
            if methods is not None and methods <= MODULE_PRESERVING and \
                    is_module_value(resolved(frame.scope.lookup(name))):
                continue  # `if use_gpu: model = model.cuda()`: the same module either way
            held = frame.scope.vars.get(name)
            if methods is not None and methods <= CONVERSIONS and isinstance(held, Tensor):
                continue  # `if use_cuda: x = x.cuda()`: a tensor of the same shape either way
            lost += [name] * isinstance(held, Tensor)
            frame.scope.assign(name, UNKNOWN)
        if lost and self.check.lost is None:
            self.check.lost = ((frame.source, node), lost, why or UNDECIDED.get(type(node), "it is not followed"))
        self.forget_object_writes(collector, lambda node: self.quiet_eval(node, frame), set())
        if collector.returns:
            frame.maybe_returned = True

    def forget_object_writes(self, facts: Any, held_by: Any, seen: set) -> None:
        """What code not followed may write to objects becomes unknown: their attributes, containers changed in place,
        what it hands to calls, and what the functions and methods it calls write outside themselves (`facts`: its
        write analysis; `held_by`: what a name or attribute chain of that code holds)."""
        for base, attr in facts.attributes:
            obj = held_by(base)
            if isinstance(obj, Instance):
                obj.attrs[attr] = UNKNOWN
                obj.maybe_set.add(attr)  # set there, or deleted: whether it exists is not known either
            elif isinstance(obj, AttrDict) and not obj.opaque:
                obj[attr] = UNKNOWN
            elif isinstance(obj, (Layer, Container, ClassV)):  # a class's: what its instances read (a new version)
                self.set_attribute(obj, attr, UNKNOWN)
        for base in facts.mutated:
            obj = held_by(base)
            if isinstance(obj, (ListV, DictV, Container)):
                obj.opaque = True
        for receiver, name, arguments in facts.calls:
            if receiver is None and name == "setattr" and arguments:  # an attribute not known, as `setattr` makes it
                target = held_by(arguments[0])
                if isinstance(target, (Layer, Container)):
                    self.set_attribute(target, "\0", UNKNOWN)
                elif isinstance(target, Instance):
                    target.opaque = True
            for argument in arguments:
                value = held_by(argument)
                if isinstance(value, (ListV, DictV)):
                    value.opaque = True
                elif isinstance(value, Instance):
                    value.handed_out = True
            if receiver is None:
                if name:  # `add_block(8)`: a function of the file, whose writes outside itself count too
                    self.forget_callee_writes(held_by(ast.Name(id=name)), None, seen)
                continue
            obj = held_by(receiver)
            if name in MUTATING_METHODS and isinstance(obj, (ListV, DictV, Container)) or isinstance(
                    obj, ArgumentParser):
                obj.opaque = True
            elif isinstance(obj, Instance):  # `self.grow()`: what the method writes on `self`, and outside
                self.forget_callee_writes(self.find_method(obj.cls, name), obj, seen)

    def forget_callee_writes(self, function: Any, receiver: Any, seen: set) -> None:
        """What a function called by code not followed may write outside itself (on `receiver`, its `self`, for a
        method) becomes unknown: what its free names hold, the globals it declares, and so on through the functions it
        calls (each once)."""
        node = function.node if isinstance(function, Function) else None
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) or id(node) in seen:
            return
        seen.add(id(node))
        facts = body_writes(node)
        self.tick(len(facts.attributes) + len(facts.mutated) + len(facts.calls) + len(facts.declared))
        parameters = [a.arg for a in node.args.posonlyargs + node.args.args + node.args.kwonlyargs]
        parameters += [a.arg for a in (node.args.vararg, node.args.kwarg) if a is not None]
        local = (facts.names | set(parameters)) - facts.declared
        me = parameters[0] if receiver is not None and parameters else None

        def held_by(value: Any) -> Any:  # what a name or attribute chain of the body holds, if not the body's own
            if isinstance(value, ast.Name):
                return receiver if value.id == me else UNKNOWN if value.id in local else resolved(
                    function.scope.lookup(value.id))
            if isinstance(value, ast.Attribute):
                return self.get_attribute(held_by(value.value), value.attr)
            return UNKNOWN

        for name in facts.declared & facts.names:
            scope = function.scope
            while scope is not None and name not in scope.vars:
                scope = scope.parent
            (scope or function.scope.root()).assign(name, UNKNOWN)
        self.forget_object_writes(facts, held_by, seen)

    def quiet_eval(self, node: Any, frame: Frame) -> Any:
        """Evaluate a plain name or attribute chain without calls (for havoc)."""
        if isinstance(node, ast.Name):
            return resolved(frame.scope.lookup(node.id))
        if isinstance(node, ast.Attribute):
            return self.get_attribute(self.quiet_eval(node.value, frame), node.attr)
        return UNKNOWN


class LoopStopped(Exception):
    """A loop's passes so far say the ones left would run past its share of the steps (LoopShare.would_exceed)."""


LOOP_SHARE = 7 / 8  # of the steps a loop may take, what it may spend: the rest is kept for the code after it


class LoopShare:
    """The steps a `for` loop over known items may spend: a share of what is left to it — of the build, or, nested,
    of one pass of the loop around it (that loop's share divided among its passes left). A loop that would run past
    it (its passes so far, projected over the ones left) or runs out of it is stopped (`Statements.stop_loop`), so
    that a data-generating loop of 1000 × 18 passes does not end the whole build. `unseen`: the steps that loops
    nested in it and stopped would have spent at least (their shares), which its projection counts as spent."""

    def __init__(self, interp: Any, passes: int) -> None:
        self.start, self.passes, self.done, self.unseen = interp.steps, passes, 0, 0
        self.outer_limit = interp.max_steps
        available = interp.loops[-1].per_pass(interp) if interp.loops else interp.max_steps - interp.steps
        self.limit = min(self.outer_limit, interp.steps + int(available * LOOP_SHARE))
        interp.max_steps = self.limit  # the evaluation's own bound while the loop runs: running out stops the loop

    def spent(self, interp: Any) -> int:
        return interp.steps - self.start + self.unseen

    def would_exceed(self, interp: Any, done: int) -> bool:
        self.done = done
        return done > 0 and self.start + self.spent(interp) * self.passes // done > self.limit

    def per_pass(self, interp: Any) -> int:
        """What the pass now running may spend: the share left, divided among the passes left."""
        return max(0, self.limit - self.start - self.spent(interp)) // max(1, self.passes - self.done)

    def ran_out(self, interp: Any, stop: Abort) -> bool:
        """Whether an Abort is this loop's share running out (not the build's budget, nor another bound)."""
        return str(stop) == "step budget" and self.limit < self.outer_limit and interp.steps > self.limit

    def leave(self, interp: Any, stopped: bool = False) -> None:
        """The loop ends (once: a stopped loop leaves before its havoc); the loop around it counts what this one
        would have spent at least: all its share where it was stopped."""
        if not (interp.loops and interp.loops[-1] is self):
            return
        interp.loops.pop()
        interp.max_steps = self.outer_limit
        if interp.loops:
            interp.loops[-1].unseen += max(0, self.limit - interp.steps) if stopped else self.unseen


def may_leave(body: list) -> bool:
    """Whether a loop's body holds a `break` of its own, or a `return` (nested loops and functions aside)."""
    todo = list(body)
    while todo:
        node = todo.pop()
        if isinstance(node, (ast.Break, ast.Return)):
            return True
        if not isinstance(node, (ast.For, ast.AsyncFor, ast.While, *FUNCTION_DEFINITIONS, ast.ClassDef, ast.Lambda)):
            todo.extend(ast.iter_child_nodes(node))
        elif isinstance(node, (ast.For, ast.AsyncFor, ast.While)):
            todo.extend(node.orelse)  # a nested loop's else clause breaks out of this one
            todo.extend(n for n in ast.walk(node) if isinstance(n, ast.Return))
    return False


def method_of(cls: ClassV, node: ast.FunctionDef | ast.AsyncFunctionDef) -> Function:
    """A method of a class body; @staticmethod, @classmethod and @property change how it binds."""
    kind = "method"
    for decorator in node.decorator_list:
        name = decorator.attr if isinstance(decorator, ast.Attribute) else \
            decorator.id if isinstance(decorator, ast.Name) else ""
        kind = METHOD_KINDS.get(name, kind)
    return Function(node, cls.source, cls.scope, node.name, cls, kind)


STATEMENTS = dispatch(Statements, "stmt_")

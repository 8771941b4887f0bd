"""Calls: the file's own functions and classes (parameters bound as Python binds them), modules applied to
tensors, and everything else handed to the library of known names."""

from __future__ import annotations

import ast
from typing import Any

from torchshape_lint.evaluate import library
from torchshape_lint.evaluate.frames import (
    MAX_DEPTH, OPAQUE_KWARGS, Abort, Flow, Frame, Scope, YieldReached,
)
from torchshape_lint.evaluate.python_library import Builtin, Method, Partial
from torchshape_lint.evaluate.torch_modules import container_from_base
from torchshape_lint.evaluate.values import (
    BoundMethod, ClassV, Container, DictV, External, Function, Instance, ListV,
)
from torchshape_lint.shapes.feature_layers import RECURRENT, check_initial_state
from torchshape_lint.shapes.layer_spec import Layer
from torchshape_lint.shapes.tensor import Tensor
from torchshape_lint.unknown import UNKNOWN


class Calls:
    """The call half of the Interpreter (a mixin: it calls the other halves through `self`)."""

    def call(self, func: Any, args: list, kwargs: dict, where: Any) -> Any:
        if where is not None:
            self.calls.append(where)  # for a violation found inside: the call that led there (Collector.reached_from)
        try:
            # the kinds in the order calls most often are of them (library names first: every layer built is one)
            if isinstance(func, (External, Builtin, Method, Partial)):
                if OPAQUE_KWARGS in kwargs:
                    return self.call_unknown(args, kwargs)
                if func.__class__ is External:
                    return library.call_external(self, func.name, args, kwargs, where)
                return library.call(self, func, args, kwargs, where)
            if isinstance(func, (Layer, Container, Instance)):
                if not self.frames and args and not kwargs and all(
                        isinstance(x, Tensor) and not x.pending for x in args):
                    self.usages.append((func, tuple(args), where))  # confirm builds it again, never running the script
                    if self.check.model_input is None:  # the script's build ran on what its first model is given
                        self.check.model_input, self.check.input_at = args[0], len(self.check.applications)
                return self.apply_module(func, args, kwargs, where)
            if isinstance(func, ClassV):
                return self.instantiate(func, args, kwargs, where)
            if isinstance(func, Function):
                return self.once(func, args, kwargs, lambda: self.call_function(func, args, kwargs))[0]
            if isinstance(func, BoundMethod):
                return self.call_function(func.function, [func.receiver] + list(args), kwargs)
            return self.call_unknown(args, kwargs)
        finally:
            if where is not None:
                self.calls.pop()

    def call_unknown(self, args: list, kwargs: dict) -> Any:
        """Code the evaluator does not follow may change lists and dicts it is given (modules it is not
        taken to restructure: `_log_api_usage_once(self)`, `nn.init.*(m.weight)`), and set attributes on instances."""
        for value in list(args) + list(kwargs.values()):
            if isinstance(value, (ListV, DictV)):
                value.opaque = True
            elif isinstance(value, Instance):
                value.handed_out = True
        return UNKNOWN

    def call_function(self, func: Function, args: list, kwargs: dict) -> Any:
        if self.depth >= MAX_DEPTH:
            raise Abort("depth bound")
        scope = Scope(func.scope)
        if not self.bind_parameters(func, scope, args, kwargs):
            return self.call_unknown(args, kwargs)
        frame = Frame(scope, func.source, func)
        self.depth += 1
        self.frames.append(frame)
        try:
            if isinstance(func.node, ast.Lambda):
                try:
                    return self.eval(func.node.body, frame)
                except YieldReached:  # `(lambda: (yield))()` makes a generator
                    return UNKNOWN
            owner = func.owner.name if func.owner is not None else ""
            if isinstance(func.node, ast.AsyncFunctionDef) or (owner, func.name) in func.source.generators():
                return UNKNOWN
            try:
                flow = self.exec_block(func.node.body, frame)
            except YieldReached:  # a nested generator function: not worth a walk of every function's body
                return UNKNOWN
        finally:
            self.depth -= 1
            self.frames.pop()
        if frame.maybe_returned:
            return UNKNOWN
        return flow.value if flow is not None and flow.kind == Flow.RETURN else None

    def bind_parameters(self, func: Function, scope: Scope, args: list, kwargs: dict) -> bool:
        params: ast.arguments = func.node.args
        positional = func.positional
        opaque = kwargs.pop(OPAQUE_KWARGS, False)
        kwargs = dict(kwargs)
        for i, (param, default) in enumerate(positional):
            name = param.arg
            if i < len(args):
                if name in kwargs and i >= len(params.posonlyargs):
                    return False
                scope.vars[name] = args[i]
            elif not self.bind_by_name(func, scope, kwargs, opaque, name, default):
                return False
        extra = list(args[len(positional):])
        if params.vararg is not None:
            scope.vars[params.vararg.arg] = tuple(extra)
        elif extra:
            return False
        for param, default in zip(params.kwonlyargs, params.kw_defaults):
            if not self.bind_by_name(func, scope, kwargs, opaque, param.arg, default):
                return False
        if params.kwarg is not None:
            rest = DictV(kwargs)
            rest.opaque = bool(opaque)
            scope.vars[params.kwarg.arg] = rest
        elif kwargs:
            return False
        return True

    def bind_by_name(self, func: Function, scope: Scope, kwargs: dict, opaque: Any, name: str,
                     default: ast.expr | None) -> bool:
        """A parameter no positional argument filled: by keyword, else unknown (under opaque keywords), else its
        default; False where the call cannot bind (Python would raise)."""
        if name in kwargs:
            scope.vars[name] = kwargs.pop(name)
        elif opaque:
            scope.vars[name] = UNKNOWN
        elif default is not None:
            scope.vars[name] = self.default(default, func)
        else:
            return False
        return True

    def default(self, default: ast.expr, func: Function) -> Any:
        # in a scope of its own, as a call's: what it reads of the definition's scope is read from outside (Memo.read)
        return self.eval(default, Frame(Scope(func.scope), func.source))

    def instantiate(self, cls: ClassV, args: list, kwargs: dict, where: Any) -> Any:
        self.ready(cls)
        init = self.find_method(cls, "__init__")
        if init is not None:
            instance, replayed = self.once(cls, args, kwargs, lambda: self.construct(cls, init, args, kwargs, where))
            if replayed:
                instance.where, instance.built_with = where, (tuple(args), dict(kwargs))
            return instance
        instance = Instance(cls, where=where, built_with=(tuple(args), dict(kwargs)))
        if cls.is_dataclass() and not cls.bases:
            self.init_dataclass(cls, instance, args, kwargs)
        elif cls.external_bases and not cls.is_module() or cls.decorators:
            instance.opaque = True  # a NamedTuple, an Enum, a decorated class: its fields come from code not followed
        else:
            container = container_from_base(self, cls, args, kwargs, where)
            if container is not None:
                instance.attrs["__container__"] = container
        return instance

    def once(self, callee: ClassV | Function, args: list, kwargs: dict, run: Any) -> tuple[Any, bool]:
        """What `run()`, the call of a class or function of the project, gives; or, for one called before with the
        same arguments, a copy of what it gave then (evaluate/memo.py); and whether it is that copy."""
        key = self.memo.key(callee, args, kwargs, self.globals.version)
        found = self.memo.find(key, self)
        if found is not None:
            return self.memo.replay(found, key, self), True
        return (run() if key is None else self.memo.record(key, self, run)), False

    def construct(self, cls: ClassV, init: Function, args: list, kwargs: dict, where: Any) -> Instance:
        instance = Instance(cls, where=where, built_with=(tuple(args), dict(kwargs)))
        self.call_function(init, [instance] + list(args), kwargs)
        return instance

    def init_dataclass(self, cls: ClassV, instance: Instance, args: list, kwargs: dict) -> None:
        """@dataclass's generated __init__: the annotated fields in order, each from the call or its default."""
        fields = [stmt.target.id for stmt in cls.node.body
                  if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name)]
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
        if function is None or isinstance(function.node, ast.Lambda) or not function.node.args.args:
            return None
        return self.frames[-1].scope.vars.get(function.node.args.args[0].arg)

    def apply_model(self, model: Any, x: Tensor, *others: Tensor) -> Any:
        """Run a model on its input (and the tensors given for its forward's next arguments); a forward's other
        required arguments are unknown."""
        if isinstance(model, Instance) and model.cls.is_module():
            forward = self.find_method(model.cls, "forward")
            if forward is not None and isinstance(forward.node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                parameters = forward.positional
                required = [p for p, default in parameters if default is None]
                given = [x, *others][:max(len(parameters) - 1, 1)]
                extra = [UNKNOWN] * max(len(required) - 1 - len(given), 0)
                return self.call_function(forward, [model, *given] + extra, {})
        return self.apply_module(model, [x], {}, None)

    def find_method(self, cls: ClassV, name: str) -> Function | None:
        for klass in cls.mro:
            self.ready(klass)
            value = klass.attrs.get(name)
            if isinstance(value, Function):
                return value
        return None

    def apply_module(self, module: Any, args: list, kwargs: dict, where: Any) -> Any:
        """`module(x)`: a layer's shape function, a container's children in turn, or an instance's forward."""
        if args and isinstance(args[0], Tensor) and not args[0].pending:
            self.used_with_input.add(id(module.cls) if isinstance(module, Instance) else id(module))
        if isinstance(module, Layer):  # first: the most common call, a layer on one tensor
            if module.changed:
                return UNKNOWN
            if len(args) > 1 or kwargs:
                return self.apply_layer_with_more(module, args, kwargs, where)
            if args and isinstance(args[0], Tensor):
                return module(args[0], self.check, where)
            if args:
                self.check.layers_unknown += 1  # reached, but what arrives is unknown: counted for coverage
            return UNKNOWN
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
        if isinstance(module, Container):
            if module.kind != "Sequential" or module.opaque:
                return UNKNOWN
            for child in module.modules():
                if not isinstance(x, Tensor):
                    return UNKNOWN
                x = self.apply_module(child, [x], {}, where) if child is not UNKNOWN else UNKNOWN
            return x
        return UNKNOWN

    def apply_layer_with_more(self, layer: Layer, args: list, kwargs: dict, where: Any) -> Any:
        """A layer whose forward takes more than the input: an RNN's initial state, checked at this call
        (`self.lstm(x, (h0, c0))`); a MaxUnpool's indices and output_size."""
        if layer.spec.name in RECURRENT and (len(args) == 2 and not kwargs or len(args) == 1 and set(kwargs) == {"hx"}):
            check_initial_state(layer, args[0], args[1] if len(args) == 2 else kwargs["hx"], self.check, where)
            return layer(args[0], self.check, where)
        if layer.spec.name.startswith("MaxUnpool") and len(args) in (2, 3) and set(kwargs) <= {"output_size"}:
            output_size = args[2] if len(args) == 3 else kwargs.get("output_size")
            return layer(args[0], self.check, where, output_size=output_size)
        return UNKNOWN

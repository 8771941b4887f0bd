"""Where models get built in a file, and running each build on its input."""

from __future__ import annotations

import ast
from typing import Any, Iterator

from torchshape_lint.evaluate.frames import Abort, positional_parameters
from torchshape_lint.evaluate.interpreter import Interpreter
from torchshape_lint.evaluate.values import ClassV, Function, is_module_value
from torchshape_lint.shapes.tensor import model_input
from torchshape_lint.shapes.violations import Collector, Violation
from torchshape_lint.source.pragmas import PragmaPlace, comment_lines, input_pragma, read_input_pragma
from torchshape_lint.source.reader import SourceFile

# Beyond this many evaluation steps in one file, the remaining builds are skipped (and counted).
FILE_STEP_BUDGET = 3_000_000


class Builds:
    def __init__(self, source: SourceFile, input_shape: tuple | None) -> None:
        self.source = source
        self.input_shape = input_shape
        self.interp = Interpreter(source)
        self.skipped: list = []
        self.pragmas = source.pragmas()

    def run(self) -> Iterator[tuple[str, Collector, str, bool]]:
        """(build name, what its evaluation collected, origin, whether it built a module) for each build;
        a function that runs on its defaults but returns no model still counts, for the usage inside it."""
        interp = self.interp
        interp.check = Collector()
        self.report_bad_pragmas(interp.check)
        interp.run_module()  # module-level code, usage included
        yield "<module>", interp.check, "usage", False
        spent = interp.steps
        for name, top, make in self.candidates():
            if spent > FILE_STEP_BUDGET:
                self.skipped.append((name, "file step budget"))
                continue
            interp.steps = 0
            interp.check = Collector()
            is_model = top.node.__class__ is ast.ClassDef  # an nn.Module class is a model even if its build stops
            try:
                model = make()
                is_model = is_model or is_module_value(model)
                if is_model:
                    interp.apply_model(model, self.input_for(top, self.used_in_file(model)))
            except Abort as stop:
                self.skipped.append((name, str(stop)))
            spent += interp.steps
            yield name, interp.check, "model", is_model

    def report_bad_pragmas(self, check: Collector) -> None:
        """A malformed pragma is ignored for the input, and reported at its own line."""
        bad = {line: problem for line, pragma in self.pragmas.items()
               if (problem := read_input_pragma(pragma.text)[1]) is not None}
        comments = comment_lines(self.source.text) if bad else set()
        for line, problem in bad.items():
            pragma = self.pragmas[line]
            if line in comments:
                place = PragmaPlace.of(self.source, pragma.line)
                check.report(Violation("bad-pragma", (place, None), "pragma",
                                       detail={"text": pragma.text, "problem": problem}))

    def candidates(self) -> Iterator[tuple[str, Any, Any]]:
        """(name, top-level statement, a thunk that builds the model) for each place a model is built."""
        interp = self.interp
        for top in self.source.statements():
            node = top.node
            if isinstance(node, ast.ClassDef):
                cls = interp.globals.vars.get(node.name)
                if isinstance(cls, ClassV) and cls.is_module():
                    yield node.name, top, lambda cls=cls: self.build_class(cls)
            elif isinstance(node, ast.FunctionDef) and self.runs_on_defaults(node):
                function = interp.globals.vars.get(node.name)
                if isinstance(function, Function):
                    yield f"{node.name}()", top, lambda f=function: self.call_builder(f)
            elif isinstance(node, (ast.Assign, ast.AnnAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    if isinstance(target, ast.Name) and is_module_value(interp.globals.vars.get(target.id)):
                        yield target.id, top, lambda name=target.id: interp.globals.vars.get(name)

    @staticmethod
    def runs_on_defaults(node: ast.FunctionDef) -> bool:
        args = node.args
        positional = args.posonlyargs + args.args
        return len(args.defaults) == len(positional) and all(d is not None for d in args.kw_defaults)

    def build_class(self, cls: ClassV) -> Any:
        interp = self.interp
        init = interp.find_method(cls, "__init__")
        if init is not None and not self.callable_without_arguments(init):
            return None
        return interp.instantiate(cls, [], {}, None)

    def callable_without_arguments(self, init: Function) -> bool:
        return all(default is not None for _, default in positional_parameters(init.node)[1:]) and all(
            default is not None for default in init.node.args.kw_defaults)

    def call_builder(self, function: Function) -> Any:
        return self.interp.call_function(function, [], {})

    def used_in_file(self, model: Any) -> bool:
        key = id(model.cls) if hasattr(model, "cls") else id(model)
        return key in self.interp.used_with_input

    def input_for(self, top: Any, used: bool):
        """A pragma just above the statement (or its decorators); else, unless the file runs the model on an
        input of its own (usage wins over the default), the run-wide default; else symbolic sizes."""
        node = top.node
        lines = {top.start - 1, node.lineno - 1}
        for line in sorted(lines):
            pragma = self.pragmas.get(line)
            if pragma is not None:
                shape = input_pragma(pragma.text)
                if shape is not None:
                    return model_input(shape, exact=True, origin="pragma")
        if self.input_shape is not None and not used:
            return model_input(tuple(self.input_shape), exact=False, origin="option")
        return model_input()

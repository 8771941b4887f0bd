"""Where models get built in a file, and running each build on its input."""

from __future__ import annotations

import ast
from dataclasses import replace
from typing import Any, Iterator

from torchshape_lint.checks.finding import shown_path
from torchshape_lint.evaluate.frames import Abort
from torchshape_lint.evaluate.interpreter import Interpreter
from torchshape_lint.evaluate.project import Project
from torchshape_lint.evaluate.values import ClassV, Function, Instance, is_module_value
from torchshape_lint.shapes import dims
from torchshape_lint.shapes.tensor import Tensor, concrete_input, model_input, readings, show_shape
from torchshape_lint.shapes.violations import PRAGMA_PROBLEMS, Collector, Reading, ReadingRun, Violation, key
from torchshape_lint.source.pragmas import PragmaInput, PragmaPlace, Pragmas, pragma_lines
from torchshape_lint.source.reader import SourceFile, holds_any
from torchshape_lint.source.writes import assigned_names

# Beyond this many evaluation steps in one file, the remaining builds are skipped (and counted).
FILE_STEP_BUDGET = 3_000_000


class Builds:
    def __init__(self, source: SourceFile, input_shape: tuple | None, project: Project | None = None) -> None:
        self.source = source
        self.input_shape = input_shape
        self.interp = Interpreter(source, project)
        self.skipped: list = []
        # build name → the constructor parameters it was built on as symbolic sizes (build_on_parameters)
        self.on_parameters: dict = {}
        self.pragmas = Pragmas.of(source)

    def run(self) -> Iterator[tuple[str, Collector, str, bool, int]]:
        """(build name, what its evaluation collected, origin, whether it built a module, the line of the statement
        that defines it, 0 for `<module>`) for each build;
        a function that runs on its defaults but returns no model still counts, for the usage inside it."""
        interp = self.interp
        interp.check = interp.collector()
        self.report_pragma_problems(interp.check)
        interp.run_module()  # module-level code, usage included
        yield "<module>", interp.check, "usage", False, 0
        spent = interp.steps
        applied = self.applied_calls(interp.check)
        needing = []  # (name, statement, class) of each class whose constructor needs arguments
        for name, top, make in self.candidates():
            if spent > FILE_STEP_BUDGET:
                self.skipped.append((name, "file step budget"))
                continue
            interp.steps = 0
            interp.check = interp.collector()
            is_model = top.node.__class__ is ast.ClassDef  # an nn.Module class is a model even if its build stops
            # what this build reaches in another file of the project is reported here at the innermost call of
            # this file that led there, this statement when no call of it did (analyze._finding)
            interp.calls.append((self.source, top.node))
            try:
                model = make()
                if model is NEEDS_ARGUMENTS:  # built by builders and usages (in any file), each a build of its own
                    needing.append((name, top, interp.globals.vars.get(name)))
                    continue
                is_model = is_model or is_module_value(model)
                if is_model:
                    self.apply(model, self.inputs_for(top, model))
            except Abort as stop:
                self.skipped.append((name, self.stop_reason(stop)))
            finally:
                interp.calls.pop()
            spent += interp.steps
            applied |= self.applied_calls(interp.check)
            yield name, interp.check, "model", is_model, top.node.lineno
        for name, top, cls in needing:
            # a class no build of the file ran: built on its own, each size parameter any positive int, so that
            # what its layers declare is checked against what its other layers give, for every value
            if spent > FILE_STEP_BUDGET or holds_any(top.node, applied):
                self.skipped.append((name, "its constructor needs arguments"))
                continue
            interp.steps = 0
            interp.check = interp.collector()
            interp.calls.append((self.source, top.node))
            try:
                self.apply(self.build_on_parameters(cls, name), [model_input()])
            except Abort as stop:  # on values it may never be given (FasterRCNN raises without `num_classes`)
                self.skipped.append((name, f"its constructor needs arguments (on symbolic sizes it "
                                           f"{self.stop_reason(stop)})"))
                continue
            finally:
                interp.calls.pop()
                spent += interp.steps
            yield name, interp.check, "symbolic", True, top.node.lineno

    def applied_calls(self, check: Collector) -> set:
        """The constructor calls of this file whose layers a build applied, by identity."""
        return {id(app.where[1]) for app in check.applications
                if app.where is not None and app.where[0].source is self.source}

    def apply(self, model: Any, inputs: list) -> None:
        """Run the model on its inputs; for a pragma's shape of rank 3 or less, which may be a batch as written or one
        sample with the batch left out (the first layer that reads a rank tells which; a Flatten, an add, a view
        do not), also on each reading, for what holds under both (`common_to_readings`)."""
        interp = self.interp
        interp.check.model_input, interp.check.input_at = inputs[0], len(interp.check.applications)
        interp.apply_model(model, *inputs)
        either = readings(inputs[0]) if len(inputs) == 1 else ()
        if not either:
            return
        found, used = interp.check, set(interp.used_with_input)
        runs = []
        try:
            for reading in either:
                interp.check = interp.collector()
                interp.apply_model(model, reading)
                runs.append(interp.check)
        except Abort:  # a reading that cannot be followed to the end proves nothing
            runs = []
        finally:
            interp.check = found
            interp.used_with_input &= used  # the readings are not the file running the model on an input
        if runs:
            common_to_readings(found, runs, inputs[0].hint)
            found.readings = reading_runs(runs)

    def stop_reason(self, stop: Abort) -> str:
        """Why a build stopped, and where: `stops at resnet.py:88: raises`."""
        if stop.where is None:
            return str(stop)
        source, line = stop.where
        path = self.source.path if source is self.source else shown_path(source.path)
        return f"stops at {path}:{line}: {stop}"

    def report_pragma_problems(self, check: Collector) -> None:
        """A pragma that cannot be read, or stands where it applies to nothing, is reported at its own line
        (and the model below is analysed as if it had none)."""
        problems = list(self.pragmas.problems())
        for top in self.source.statements() if self.pragmas.comments else ():
            node = top.node
            if isinstance(node, ast.FunctionDef) and not self.runs_on_defaults(node) and \
                    self.pragmas.input_above(node) is not None:
                line = next(line for line in sorted(pragma_lines(node)) if line in self.pragmas.written)
                problems.append((line, self.pragmas.comments[line][0], "misplaced-pragma", (
                    f"{node.name}() needs arguments, so it builds nothing on its own; put the pragma above the "
                    "class it builds")))
        for line, comment, kind, problem in sorted(problems):
            check.report(PRAGMA_PROBLEMS[kind]((PragmaPlace.of(self.source, line), None), "pragma", comment=comment,
                                               problem=problem))

    def candidates(self) -> Iterator[tuple[str, Any, Any]]:
        """(name, top-level statement, a thunk that builds the model) for each place a model is built."""
        interp = self.interp
        for top in self.source.statements():
            node = top.node
            if isinstance(node, ast.ClassDef):
                cls = interp.globals.vars.get(node.name)
                if isinstance(cls, ClassV) and cls.is_module():
                    yield node.name, top, lambda cls=cls: self.build_class(cls)
            elif isinstance(node, ast.FunctionDef):
                function = interp.globals.vars.get(node.name)
                if self.runs_on_defaults(node) and isinstance(function, Function):
                    yield f"{node.name}()", top, lambda f=function: self.call_builder(f)
            elif isinstance(node, (ast.Assign, ast.AnnAssign)):
                bound = interp.assigned.get(id(node), interp.globals.vars)  # the value this statement assigned
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    if isinstance(target, ast.Name) and is_module_value(bound.get(target.id)):
                        yield target.id, top, lambda value=bound.get(target.id): value
            else:  # `if __name__ == "__main__": model = ResNet1D(in_channels=1, ...)`: a module built there, where
                # that is the only build of its class (one that builds alone is a candidate of its own) or its pragma
                # says the input
                for name in sorted(assigned_names(node)):
                    value = interp.globals.vars.get(name)
                    if isinstance(value, Instance) and is_module_value(value) and (
                            self.class_pragma(value.cls) is not None or not self.builds_alone(value.cls)):
                        yield name, top, lambda value=value: value

    @staticmethod
    def runs_on_defaults(node: ast.FunctionDef) -> bool:
        args = node.args
        positional = args.posonlyargs + args.args
        return len(args.defaults) == len(positional) and all(d is not None for d in args.kw_defaults)

    def build_class(self, cls: ClassV) -> Any:
        """The class built on its own: with no arguments, or with its pragma's `kwargs`."""
        interp = self.interp
        given = self.class_pragma(cls)
        kwargs = dict(given.kwargs) if given is not None else {}
        init = interp.find_method(cls, "__init__")
        if init is not None and not kwargs and not self.callable_without_arguments(init):
            return NEEDS_ARGUMENTS
        return interp.instantiate(cls, [], kwargs, None)

    def build_on_parameters(self, cls: ClassV, name: str) -> Any:
        """The class built with each required parameter a symbolic size of its own name (`planes`): one used as
        anything else (a block class, a list, a branch's condition) makes what depends on it unknown."""
        init = self.interp.find_method(cls, "__init__")
        required = [arg.arg for arg, default in init.positional[1:] if default is None]
        keywords = [arg.arg for arg, default in zip(init.node.args.kwonlyargs, init.node.args.kw_defaults)
                    if default is None]
        self.on_parameters[name] = tuple(required + keywords)
        return self.interp.instantiate(cls, [dims.parameter(arg) for arg in required],
                                       {arg: dims.parameter(arg) for arg in keywords}, None)

    def builds_alone(self, cls: ClassV) -> bool:
        """A class of this file that `build_class` builds with no arguments."""
        if cls.source is not self.source:
            return False
        init = self.interp.find_method(cls, "__init__")
        return init is None or self.callable_without_arguments(init)

    def callable_without_arguments(self, init: Function) -> bool:
        return all(default is not None for _, default in init.positional[1:]) and all(
            default is not None for default in init.node.args.kw_defaults)

    def call_builder(self, function: Function) -> Any:
        return self.interp.call_function(function, [], {})

    def used_in_file(self, model: Any) -> bool:
        key = id(model.cls) if hasattr(model, "cls") else id(model)
        return key in self.interp.used_with_input

    def inputs_for(self, top: Any, model: Any = None, used: bool | None = None) -> list[Tensor]:
        """The tensor for each input of the model's forward that is said: a pragma just above the statement (or
        its decorators); else one above the class of the model it built, which is about every build of that class;
        else, unless the file runs the model on an input of its own (usage wins over the default), the run-wide
        default for the first; else symbolic sizes for the first."""
        given = self.pragmas.input_above(top.node)
        if (given is None or not given.shapes) and isinstance(model, Instance):
            given = self.class_pragma(model.cls)
        if given is not None and len(given.shapes) == 1:
            return [model_input(given.shapes[0], exact=True, origin="pragma")]
        if given is not None and given.shapes:  # one per argument, each as written: no first layer reads them all
            return [concrete_input(shape, "pragma") for shape in given.shapes]
        if self.input_shape is not None and not (self.used_in_file(model) if used is None else used):
            return [model_input(tuple(self.input_shape), exact=False, origin="option")]
        return [model_input()]

    def input_for(self, top: Any, model: Any = None, used: bool | None = None) -> Tensor:
        """The model's first input (see inputs_for)."""
        return self.inputs_for(top, model, used)[0]

    @staticmethod
    def class_pragma(cls: ClassV) -> PragmaInput | None:
        """What the pragma above a class's definition gives, in whichever file of the project it is."""
        return Pragmas.of(cls.source).input_above(cls.node) if cls.node in cls.source.tree.body else None


RANK_KINDS = ("input-rank", "dim-out-of-range")  # what PyTorch raises for a tensor's rank alone


def rank_refused(run: Collector, other: Collector) -> Violation | None:
    """The first violation of `run` about its tensor's rank at a place where `other` has none: a layer or op that
    reads a known rank is there, and it is not this reading's."""
    places = {key(v.where) for v in other.violations}
    return next((v for v in run.violations if v.kind in RANK_KINDS and key(v.where) not in places), None)


def reading_runs(runs: list) -> list[ReadingRun]:
    """The runs of a pragma's two readings (the batch as written, one sample), each with the line where an op that
    reads a known rank refuses it while the other reading's run goes on there."""
    refused = rank_refused(runs[0], runs[1]), rank_refused(runs[1], runs[0])
    return [ReadingRun(which, run, getattr(refusal.where[1], "lineno", None) if refusal is not None else None)
            for which, run, refusal in zip(("batch", "sample"), runs, refused)]


def common_to_readings(found: Collector, runs: list, written: tuple) -> None:
    """Add to `found` (the run on the undecided input) what holds whichever reading the pragma meant, where `found`
    decided nothing. Where a layer or op that reads a known rank refuses one reading only (a `permute(2, 0, 1)`, an
    LSTM), as the first layer that reads a rank does for a pending input, the other is the input: its violations
    (unless `found` went on under the refused one). Else each violation of the first reading's run that the
    second's has too, of the same kind at the same place: its message keeps the numbers of the shape as written
    and says what the other reading gets; it suggests no number, as none is right under both."""
    as_written, as_sample = runs
    # a place the undecided run decided is left as it is (no second finding there; no suggestion from its checks)
    known = {key(v.where) for v in found.violations} | {key(c.where) for c in found.checks}
    refused = rank_refused(as_written, as_sample), rank_refused(as_sample, as_written)
    chosen = []  # (a violation, the run it is from, what the message says of the reading, its suggestion)
    if (refused[0] is None) != (refused[1] is None):
        run, refusal = (as_sample, refused[0]) if refused[0] is not None else (as_written, refused[1])
        if key(refusal.where) in known:
            return
        said = Reading("sample" if run is as_sample else "batch", show_shape(written),
                       line=getattr(refusal.where[1], "lineno", None))
        chosen = [(violation, run, said, violation.suggestion) for violation in run.violations]
    else:
        others = {(v.kind, key(v.where)): v for v in as_sample.violations}
        for violation in as_written.violations:
            other = others.get((violation.kind, key(violation.where)))
            if other is not None:
                said = Reading("either", show_shape(written),
                               instead=other.arriving if other.arriving != violation.arriving else None)
                chosen.append((violation, as_written, said, None))
    for violation, run, said, suggestion in chosen:
        place = key(violation.where)
        if place in known:
            continue
        known.add(place)
        # a copy: the memo replays the same violation into every build that applies the module to that input
        added = replace(violation, suggestion=suggestion, reading=said)
        found.violations.append(added)
        found.reached_from[id(added)] = run.reached_from.get(id(violation), ())
        found.layers_checked += any(key(c.where) == place for c in run.checks)


NEEDS_ARGUMENTS = object()  # a class whose constructor has required parameters: not a model on its own

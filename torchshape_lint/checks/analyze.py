"""One file's analysis: find where models get built, evaluate each build on its input, collect findings.

Models come from: module-level code as it runs (including usage such as `model(torch.randn(...))`),
module-level names bound to modules, functions that run on their defaults (builders such as
torchvision's `vgg16()`), and `nn.Module` classes whose constructor needs no arguments. Each build is
run on its input: a pragma's shape, else the run-wide default, else symbolic sizes.
"""

from __future__ import annotations

import ast
import os
import re
from dataclasses import dataclass, field
from typing import Any

from torchshape_lint.checks.finding import Finding, shown_path
from torchshape_lint.shapes import dims
from torchshape_lint.checks.rules import rule_for
from torchshape_lint.shapes.violations import InternalError, UnreadableFile
from torchshape_lint.source.reader import (
    UNREADABLE, SourceFile, imports_torch, may_build_models, star_imports, without_cyclic_gc,
)


@dataclass
class Check:
    """A declared size compared with what arrives, kept for --verbose."""

    model: str
    label: str
    where: Any = field(repr=False)
    declared: Any
    arriving: str
    agrees: bool
    fits: str = ""  # agreeing on symbolic sizes: the input sizes that give the declared size (dims.fitting_sizes)
    path: str = ""  # the file of the layer: this one, or (as a message shows it) another that a build here reached

    @property
    def line(self) -> int:
        """Computed on demand, as positions are computed only for what is shown."""
        place, node = self.where
        return place.span(node).line


@dataclass
class Step:
    """One layer or op of a build, with its static shapes (None where unknown) — for explain, confirm and the editor.
    Its place is the op's own call, or with `by_layer` the call that built the layer (Application.by_layer);
    `path`, the file that holds it."""

    path: str
    line: int
    column: int
    end_line: int
    end_column: int
    label: str
    before: tuple | None
    after: tuple | None
    formulas: tuple = ()  # TraceStep.formulas: one per spatial size the step changed
    layer: Any = field(default=None, repr=False)  # the layers.Layer applied (its place, its parameters)
    # where a layer was applied (`x = self.conv1(x)`) when that is not where it was built: its file and Span
    call_path: str = ""
    call: Any = None

    @property
    def by_layer(self) -> bool:
        return self.layer is not None

    @property
    def formula(self) -> str:
        return "; ".join(self.formulas)


@dataclass
class Build:
    """One place a model was built and run: its name, where its input came from, and every step."""

    name: str
    origin: str
    input: tuple | None
    applications: list = field(default_factory=list, repr=False)
    is_model: bool = False  # the build made a module (not `<module>`, nor a function that only uses one)
    line: int = 0  # the line of the statement that defines it (its class, builder or assignment); 0 for `<module>`
    stop: str = ""  # where and why its tensors stopped being followed (explain's last row, --verbose)
    stop_line: int = 0  # that place's line; 0 where the evaluation ended (the reason is then in Report.skipped)
    # where a bound of the analysis stopped one of its loops, the evaluation going on after it (the run summary's):
    # `a loop stops at util.py:331: loop bound`
    loop_stop: str = ""
    # a class no build of the file makes, built on its own: its constructor's parameters, each any positive int
    parameters: tuple = ()
    # a pragma's shape of rank 3 or less, which the first layer did not settle, run as a batch and as one sample:
    # the Build of each reading (explain shows them in place of this one); `reading` says which one a Build is
    readings: list = field(default_factory=list, repr=False)
    reading: str = ""
    found_at: set = field(default_factory=set, repr=False)  # a reading's Build: the (line, column) of its violations

    @property
    def steps(self) -> list:
        """Each layer or op with its position and static shapes (positions computed on demand)."""
        return [_step(app) for app in self.applications if app.where is not None]

    def steps_at(self, line: int, column: int) -> list:
        """The steps at one place: only the applications on that line have their position computed."""
        return [step for step in (_step(app) for app in self.applications
                                  if app.where is not None and getattr(app.where[1], "lineno", line) == line)
                if step.line == line and step.column == column]


@dataclass
class Report:
    path: str
    findings: list = field(default_factory=list)
    models: list = field(default_factory=list)
    builds: list = field(default_factory=list)
    checks: list = field(default_factory=list)
    layers_checked: int = 0
    layers_unknown: int = 0
    skipped: list = field(default_factory=list)  # (model, reason)
    checked_models: list = field(default_factory=list)  # the Builds that count as models (see _checked_models)
    stopped: list = field(default_factory=list)  # those whose evaluation stopped (the reason is in skipped)
    symbolic_only: list = field(default_factory=list)  # the others that no concrete input reached
    read: list = field(default_factory=list)  # project.ProjectFile: each project file the analysis looked for
    # Findings at layers of other files of the project that this file's builds reached (their `input_from` names the
    # call here): the command line reports each in its own file when it checks that file too (frontends/runner.py).
    elsewhere: list = field(default_factory=list)
    # site_key of each layer or op in another file that a build here ran on a concrete input: a model of that file
    # checked there on symbolic sizes only was checked on a concrete input after all (frontends/runner.py)
    reached_elsewhere: list = field(default_factory=list)


def analyze_source(text: str, path: str = "<string>", tree: ast.Module | None = None,
                   input_shape: tuple | None = None, project: Any = None) -> Report:
    """Analyse one file, reading the modules it imports through `project` (evaluate.project.Project: the run's;
    None, a fresh one). Never raises: an internal error becomes a TSL900 finding."""
    report = Report(path)
    try:
        if not may_build_models(text):
            return report
        try:
            source = SourceFile(text, path, tree)
        except UNREADABLE:  # not Python: flake8 reports E999 itself, the command line TSL906 (unreadable_file)
            return report
        own_torch = imports_torch(source.tree)
        if not own_torch and not star_imports(source.tree):
            return report
        from torchshape_lint.evaluate.project import Project

        project = project if project is not None else Project()
        if not own_torch and not _stars_name_torch(source.path, source.tree, project):
            report.read = project.files_read(source.path)  # the result holds while those modules do not name torch
            return report
        _analyze(source, input_shape, report, project)
    except RecursionError:
        report.skipped.append(("<file>", "nesting too deep"))
    except Exception as error:  # a linter never crashes its host: one diagnostic instead
        import traceback  # only here: a clean run need not compile it

        detail = f"{type(error).__name__}: {error}".splitlines()[0][:200]
        report.findings = [Finding("TSL900", "internal-error", path, 1, 0, 1, 0,
                                   rule_for(InternalError).message(InternalError(detail)),
                                   trace=traceback.format_exc().splitlines()[-6:])]
    return report


def unreadable_file(path: str, error: BaseException) -> Finding:
    """TSL906 for a file that cannot be read as Python (`error`: an OSError or one of reader.UNREADABLE), at the
    place Python names: a syntax error's line and column, the line of a byte that is not text, else line 1."""
    line, column, reason = 1, 0, str(error)
    if isinstance(error, SyntaxError):
        line, column, reason = error.lineno or 1, max((error.offset or 1) - 1, 0), error.msg
    elif isinstance(error, UnicodeDecodeError):
        line = error.object[:error.start].count(b"\n") + 1
    elif isinstance(error, OSError):
        reason = error.strerror or reason
    elif isinstance(error, (RecursionError, MemoryError)):  # what CPython's parser raises on deep nesting
        reason = "nested too deeply for Python's parser"
    detail = f"{type(error).__name__}: {reason}" if reason else type(error).__name__
    return Finding("TSL906", "unreadable-file", path, line, column, line, column,
                   rule_for(UnreadableFile).message(UnreadableFile(detail)))


STAR_IMPORT = re.compile(r"^from\s+(\.*[\w.]*)\s+import\s+\*", re.MULTILINE)
STAR_DEPTH = 3  # `from .parts import *` whose parts.py has `from .layers import *`, ...


def _stars_name_torch(path: str, tree: ast.Module, project: Any) -> bool:
    """Whether a module that a file without torch of its own star-imports, from the project, names torch (itself, or
    one it star-imports in turn): only then can the names it brings build models. The standard library's packages
    re-export their parts this way too (asyncio's `from .base_events import *`): those are not analysed."""
    todo = [(path, "." * node.level + (node.module or "")) for node in tree.body
            if isinstance(node, ast.ImportFrom) and any(alias.name == "*" for alias in node.names)]
    seen: set = set()
    for _ in range(STAR_DEPTH):
        found = []
        for importer, module in todo:
            target = project.module_file(importer, module)
            if target is None or target in seen:
                continue
            seen.add(target)
            try:
                with open(target, encoding="utf-8", errors="replace") as handle:
                    text = handle.read()
            except OSError:
                continue
            if "torch" in text:
                return True
            found.extend((target, star) for star in STAR_IMPORT.findall(text))
        todo = found
    return False


def _analyze(source: SourceFile, input_shape: tuple | None, report: Report, project: Any) -> None:
    project.begin_file()
    try:
        with without_cyclic_gc():
            _collect(source, input_shape, report, project)
    finally:
        report.read = project.files_read(source.path)


def _collect(source: SourceFile, input_shape: tuple | None, report: Report, project: Any) -> None:
    from torchshape_lint.checks.models import Builds

    from torchshape_lint.shapes.violations import in_users_terms, key as place_key

    builds = Builds(source, input_shape, project)
    found: dict = {}
    elsewhere: dict = {}
    ran = list(builds.run())
    in_users_terms([collector for _, collector, _, _, _ in ran])  # suggestions that hold for every build
    for model, collector, origin, is_model, line in ran:
        report.models.append(model)
        report.builds.append(_build(model, collector, is_model, line))
        report.builds[-1].parameters = builds.on_parameters.get(model, ())
        report.layers_checked += collector.layers_checked
        report.layers_unknown += collector.layers_unknown
        for check in collector.checks:
            fits = dims.fitting_sizes(check.arriving, check.declared) if check.agrees else ""
            layer_file = check.where[0].source
            report.checks.append(Check(model, check.label, check.where, check.declared, str(check.arriving),
                                       check.agrees, fits,
                                       source.path if layer_file is source else shown_path(layer_file.path)))
        reported: set = set()
        for violation in collector.violations:
            # one build reaching a mistake on several inputs (a usage, then a loader's batches) reports it once
            mistake = (violation.kind, place_key(violation.where), violation.label, str(violation.declared),
                       str(violation.arriving))
            if mistake in reported:
                continue
            reported.add(mistake)
            for finding in _findings(source, violation, model, origin, collector):
                place = elsewhere if finding.path != source.path else found
                key = (finding.path, finding.code, finding.line, finding.column, finding.message, finding.layer_at)
                if key in place:
                    if model not in place[key].models:
                        place[key].models.append(model)
                    continue
                place[key] = finding
    report.skipped.extend(builds.skipped)
    report.checked_models = _checked_models(report.builds)
    report.stopped = [build for build in report.checked_models if build.name in dict(builds.skipped)]
    for build in report.stopped:
        build.stop = build.stop or f"the evaluation ended: {dict(builds.skipped)[build.name]}"
    # a build a loop bound stopped in is named with that bound (its input may have reached no layer because of it)
    report.symbolic_only = _symbolic_only([build for build in report.checked_models
                                           if build not in report.stopped and not build.loop_stop], report.builds)
    report.findings = sorted(_prefer_concrete(found.values()), key=lambda f: (f.line, f.column, f.code))
    report.elsewhere = _prefer_concrete(elsewhere.values())
    report.reached_elsewhere = sorted({site_key(app.where) for build in report.builds if build.origin != "symbolic"
                                       for app in build.applications
                                       if app.where is not None and app.where[0].source is not source})
    builds.interp.release()



def _prefer_concrete(findings: Any) -> list:
    """Where a concrete input and symbolic sizes prove the same problem at one place, show the concrete one; a
    problem at a layer of another file too, wherever in this file each build reached it from (the model built at
    one line on symbolic sizes, run on a concrete input at the next)."""
    findings = list(findings)
    concrete = {(f.path, f.code, f.line, f.column) for f in findings if f.origin != "symbolic"}
    concrete |= {(f.code, f.layer_at) for f in findings if f.origin != "symbolic" and f.layer_at}
    return [f for f in findings if f.origin != "symbolic" or (f.path, f.code, f.line, f.column) not in concrete
            and (f.code, f.layer_at) not in concrete]


def site_key(where: Any) -> str:
    """A layer's or op's place as it reads the same in every process: `absolute path:line:column`."""
    place, node = where
    span = place.span(node)
    return f"{os.path.abspath(place.source.path)}:{span.line}:{span.column}"


def _sites(build: Build) -> set:
    """The layers and ops a build applied, by the identity of the call that made each."""
    return {id(app.where[1]) for app in build.applications if app.where is not None}


def _checked_models(builds: list) -> list:
    """The builds that made a module, and the runs that made none but applied layers no such build made
    (`make(8)(torch.zeros(1, 3, 8, 8))` at module level, a model imported from a sibling module run in `main()`)."""
    made = set().union(*(_sites(build) for build in builds if build.is_model))
    return [build for build in builds if build.is_model or _sites(build) - made]


def _symbolic_only(models: list, builds: list) -> list:
    """The models checked on symbolic sizes only: their own input is symbolic, and no build on a concrete input
    (the file's usage, a builder, a pragma) applied any of their layers."""
    reached = set().union(*(_sites(build) for build in builds if build.origin != "symbolic"))
    return [build for build in models if build.origin == "symbolic" and not _sites(build) & reached]


def _build(model: str, collector: Any, is_model: bool, line: int = 0) -> Build:
    from torchshape_lint.shapes.tensor import Tensor

    # the first application on the model's input (one its constructor made before, on a tensor of its own, says
    # nothing of the input): the build's input is the shape that reached it
    ran = collector.applications[collector.input_at:]
    first = ran[0] if ran else None
    before = first.before if first is not None else None
    shape = _shape(before)
    if shape is None and first is not None and isinstance(first.after, Tensor) and first.after.history:
        shape = first.after.first_step.before  # a pending input takes its shape in the first layer that reads it
    # an op that joins its inputs (`torch.cat((z, labels), -1)`) records none before it: its output says the origin
    read = before if isinstance(before, Tensor) else first.after if first is not None else collector.model_input
    build = Build(model, getattr(read, "origin", "symbolic"), shape, collector.applications, is_model, line)
    if collector.loop_stopped is not None:
        place, node = collector.loop_stopped
        build.loop_stop = f"a loop stops at {shown_path(place.source.path)}:{place.span(node).line}: loop bound"
    if collector.lost is not None:
        (place, node), names, why = collector.lost
        build.stop_line = place.span(node).line
        kind = STATEMENT_KINDS.get(type(node).__name__, "statement")
        build.stop = f"{', '.join(names)} not known past the {kind} at line {build.stop_line}: {why}"
    for reading in collector.readings:
        shown = _build(model, reading.run, is_model, line)
        shown.reading = reading.which
        shown.found_at = {(span.line, span.column) for span in (place.span(node) for place, node in
                                                                 (v.where for v in reading.run.violations))}
        if reading.refused_at is not None and not shown.stop:
            other = "one sample with the batch left out" if reading.which == "batch" else "a batch, as written"
            shown.stop = f"line {reading.refused_at} cannot read the rank of this reading: the shape is {other}"
        build.readings.append(shown)
    return build


STATEMENT_KINDS = {"If": "`if`", "For": "`for` loop", "While": "`while` loop", "ExceptHandler": "`except`",
                   "Delete": "`del`"}


def _shape(x: Any) -> tuple | None:
    from torchshape_lint.shapes.tensor import Tensor

    return tuple(x.shape) if isinstance(x, Tensor) and x.shape is not None else None


def _step(app: Any) -> Step:
    from torchshape_lint.shapes.tensor import Tensor

    place, node = app.where
    span = place.span(node)
    # A layer that returns a tuple (an RNN's output and hidden state) is shown by its first tensor, its output,
    # as torch's forward hooks and torchinfo show it.
    after = app.after[0] if isinstance(app.after, tuple) and app.after else app.after
    made = app.before.steps_made if isinstance(app.before, Tensor) else 0
    added = isinstance(after, Tensor) and after.steps_made > made  # pass-through layers add no step
    formulas = after.last_step.formulas if added else ()
    call_path, call = "", None
    if app.call_site is not None:
        call_place, call_node = app.call_site
        call_path, call = call_place.source.path, call_place.span(call_node)
    return Step(place.source.path, span.line, span.column, span.end_line, span.end_column, app.label,
                _shape(app.before), _shape(after), formulas, app.layer, call_path, call)


def _findings(source: SourceFile, violation: Any, model: str, origin: str, collector: Any) -> list:
    """The findings a violation makes: one at its place in this file; for a place in another file of the project,
    one at the innermost call of this file that led there and one at the place itself (Report.elsewhere), unless
    that other file proves it on its own (the same build: a class of it built with no arguments, on no input)."""
    rule = rule_for(violation)
    if violation.where is None:
        return []
    place, node = violation.where
    span = place.span(node)
    from torchshape_lint.checks.derivation import trace_lines
    from torchshape_lint.evaluate.values import defaults_in

    trace = trace_lines(violation.tensor) if violation.tensor is not None else []
    origin = getattr(violation.tensor, "origin", origin) if violation.tensor is not None else origin
    # a declared size from a command-line default is the default's to change: --fix writes no number over it
    suggestion = None if defaults_in(violation.declared) else violation.suggestion
    at_layer = Finding(rule.code, rule.name, place.source.path, span.line, span.column, span.end_line, span.end_column,
                       rule.text(violation), suggestion, trace, [model], origin)
    if place.source is source:
        return [at_layer]
    calls = [call for call in getattr(collector, "reached_from", {}).get(id(violation), ()) if call[0] is source]
    if not calls:
        return []
    call = _call_of(calls[-1][1])
    concrete = violation.tensor is not None and getattr(violation.tensor, "origin", "symbolic") != "symbolic"
    if not concrete and isinstance(call, ast.Call) and not (call.args or call.keywords):
        return []  # its own file builds it just so (a block of statements, `if __name__ == "__main__":`, may not)
    here = source.span(call)
    at_call = Finding(rule.code, rule.name, source.path, here.line, here.column, here.end_line, here.end_column,
                      rule.text(violation), None, trace, [model], origin,
                      layer_at=f"{shown_path(place.source.path)}:{span.line}")
    at_layer.input_from = f"{shown_path(source.path)}:{here.line}"
    return [at_call, at_layer]


def _call_of(node: ast.AST) -> ast.AST:
    """A call in progress, or the statement a build started from: the call it makes (`net = ResNet18(10)`)."""
    value = getattr(node, "value", None)
    return value if isinstance(node, ast.stmt) and isinstance(value, ast.Call) else node

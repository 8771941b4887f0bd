"""Confirm mode: run each model the static pass analysed in PyTorch, in a child process, and compare.

Every layer's real shapes are compared with the static ones at the same line:column. A static finding gets
its verdict (`[confirmed on meta]`, `[not reproduced on cpu]`: Finding.verdicts, shown after its message);
shapes PyTorch contradicts are TSL901, a PyTorch error the static pass did not predict TSL902, and a model
that could not be tried at all (import error, exception while building, time limit, memory) TSL903.
The linter process never imports torch: the user's code runs only in `confirm_worker`.
"""

from __future__ import annotations

import atexit
import importlib.util
import json
import os
import select
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, replace
from typing import Any

from torchshape_lint.checks.finding import Finding, Verdict
from torchshape_lint.confirm import ConfirmError
from torchshape_lint.checks.rules import rule_for
from torchshape_lint.shapes import dims, layers
from torchshape_lint.shapes.tensor import materialize, settle
from torchshape_lint.shapes.violations import ConfirmFailed, ConfirmMismatch, ConfirmRuntimeError

DEFAULT_TIMEOUT = 60.0  # seconds for one build: importing the file, building the model and running it
STARTUP_TIMEOUT = 120.0  # importing torch in the child
INSTALL_HINT = "pip install 'torchshape-lint[confirm]'"
# Rules whose problem PyTorch may let pass without raising: torch doing what the static pass says reproduces it.
SILENT_RULES = {"view-size"}

@dataclass
class BuildResult:
    """One build's confirmation, for --verbose: how many layers agree, or why it was not tried."""

    name: str
    device: str = ""
    compared: int = 0
    agreeing: int = 0
    unknown: int = 0  # static steps with no shape to compare
    seconds: float = 0.0
    note: str = ""  # why it was not run
    failure: str = ""  # why it stopped

    def line(self) -> str:
        if self.note:
            return f"confirm {self.name}: {self.note}"
        if self.failure:
            return f"confirm {self.name} on {self.device}: {self.failure}; {self.agreeing}/{self.compared} layers agree"
        return (f"confirm {self.name} on {self.device}: {self.agreeing}/{self.compared} layers agree "
                f"({self.unknown} unknown statically), {self.seconds:.3f} s")


def confirm_report(report: Any, text: str, device: str | None = None, timeout: float | None = None,
                   input_shape: tuple | None = None) -> list[BuildResult]:
    """Run the report's builds in PyTorch; put verdicts into its findings and add TSL901-903 findings.
    `device` None: CUDA when available, else CPU. Raises ConfirmError when confirming cannot run at all."""
    plans, results, added = plan(report, text, input_shape), [], {}
    verdicts: dict = {(f.line, f.column, f.code): {} for f in report.findings}
    chosen = session().device(device) if any(p.inputs is not None for p in plans) else ""
    for p in plans:
        own = [f for f in findings_of(report, p.build.name) if p.sites is None or (f.line, f.column) in p.sites]
        if p.inputs is None:
            results.append(BuildResult(p.label, note=p.reason))
            for finding in own:
                verdicts[(finding.line, finding.column, finding.code)][p.label] = ("not confirmed", p.reason)
            continue
        request = {"path": report.path, "device": chosen, "build": p.label, "inputs": p.inputs,
                   "first": p.first, "recipe": p.recipe}
        reply = session().ask(request, DEFAULT_TIMEOUT if timeout is None else timeout)
        if reply.get("note"):  # the worker did not run it (its forward takes more tensors than there are shapes)
            results.append(BuildResult(p.label, chosen, note=reply["note"]))
            for finding in own:
                verdicts[(finding.line, finding.column, finding.code)][p.label] = ("not confirmed", reply["note"])
            continue
        result = BuildResult(p.label, chosen, seconds=reply.get("seconds", 0.0))
        judge(report, p, reply, chosen, own, verdicts, added, result)
        results.append(result)
    apply_verdicts(report, verdicts, chosen)
    report.findings = sorted(report.findings + list(added.values()), key=lambda f: (f.line, f.column, f.code))
    return results


# ---- what to run -------------------------------------------------------------------------------------------


@dataclass
class Plan:
    build: Any
    inputs: list | None = None  # a shape per tensor its forward is given; None in the first: the first layer's channels
    first: list | None = None  # [line, column] of the first step, whose layer gives those channels
    recipe: dict | None = None  # how the worker builds the model (see `recipe_of`)
    reason: str = ""  # why it is not run
    sites: set | None = None  # for one usage of `<module>`: the positions it reaches, whose findings it judges
    name: str = ""  # what the verdicts and --verbose call it, when not the build's own name

    @property
    def label(self) -> str:
        return self.name or self.build.name


def plan(report: Any, text: str, input_shape: tuple | None) -> list[Plan]:
    """Each build with an input to run it on, and each model the file's own top-level code runs (its
    `__main__` block included, which never runs itself: a training script must not train, nor download).
    A build with symbolic sizes and no finding is left out quietly; with a finding, it says why."""
    from torchshape_lint.checks.models import Builds
    from torchshape_lint.source.reader import SourceFile

    if not report.builds:  # not a model file
        return []
    builds = Builds(SourceFile(text, report.path), input_shape)
    builds.interp.run_module()  # the static run as the analysis made it: the values its builds and usages hold
    plans = []
    for build in report.builds:
        if build.name == "<module>":
            plans.extend(usage_plans(report, builds) if build.steps else [])
            continue
        if not build.is_model:  # `main()`, `_test()`: functions that use a model, not models
            continue
        inputs, recipe = input_of(build, builds), build_recipe(build.name, builds)
        if inputs is not None and recipe is not None:
            first = [build.steps[0].line, build.steps[0].column] if build.steps else None
            plans.append(Plan(build, inputs, first, recipe))
        elif findings_of(report, build.name):
            why = "no input to confirm with (give one with a pragma or --input-shape)" if inputs is None else \
                "it is built from values confirm cannot build again without running the file's `__main__` code"
            plans.append(Plan(build, reason=why))
    return plans


def usage_plans(report: Any, builds: Any) -> list[Plan]:
    """One plan per model the file's top-level code runs on tensors: the model built again as the static run
    built it, fed zeros of the shapes that reached it; it judges the findings at the positions it reaches."""
    from torchshape_lint.checks.analyze import _build
    from torchshape_lint.evaluate.interpreter import Abort
    from torchshape_lint.shapes.violations import Collector

    interp, plans = builds.interp, []
    for model, tensors, where in interp.usages:
        interp.check, interp.steps = Collector(), 0
        try:
            interp.apply_module(model, list(tensors), {}, where)
        except Abort:
            continue
        build = _build("<module>", interp.check, True)
        name = f"<module> line {where[0].span(where[1]).line}"
        # the steps it reaches, and the calls its findings sit at that are not steps (an LSTM's state: TSL011)
        sites = {(step.line, step.column) for step in build.steps} | {
            (span.line, span.column) for span in (v.where[0].span(v.where[1]) for v in interp.check.violations)}
        recipe = recipe_of(model, builds)
        inputs = concrete_shapes(tensors)
        if inputs is not None and recipe is not None:
            first = [build.steps[0].line, build.steps[0].column] if build.steps else None
            plans.append(Plan(build, inputs, first, recipe, sites=sites, name=name))
        elif any((f.line, f.column) in sites for f in findings_of(report, "<module>")):
            why = ("the input that reaches it is not known" if inputs is None else
                   "it is built from values confirm cannot build again without running the file's `__main__` code")
            plans.append(Plan(build, reason=why, sites=sites, name=name))
    return plans


def build_recipe(name: str, builds: Any) -> dict | None:
    """A builder is called on its defaults, a class with no arguments; a name bound by the file's top-level
    code is its model as the static run built it."""
    from torchshape_lint.evaluate.values import ClassV

    function = name.removesuffix("()")
    if function != name or isinstance(builds.interp.globals.vars.get(name), ClassV):
        return {"name": function, "call": True, "args": [], "kwargs": {}}
    return recipe_of(builds.interp.globals.vars.get(name), builds)


def recipe_of(model: Any, builds: Any) -> dict | None:
    """How the worker builds a model again after importing the file (as a module, never as `__main__`): a class
    the import defines, called with the plain arguments the static run saw; else a name the import binds to
    it. None when neither can: the model is built only by the `__main__` block, from values not plain."""
    from torchshape_lint.evaluate.frames import OPAQUE_KWARGS
    from torchshape_lint.evaluate.values import Instance, is_plain

    interp, on_import = builds.interp, names_on_import(builds.source)
    if isinstance(model, Instance) and model.built_with is not None:
        args, kwargs = model.built_with
        cls = model.cls
        if cls.name in on_import and interp.globals.vars.get(cls.name) is cls and all(
                is_plain(v) for v in list(args) + list(kwargs.values())) and OPAQUE_KWARGS not in kwargs:
            return {"name": cls.name, "call": True, "args": list(args), "kwargs": kwargs}
    name = next((n for n in sorted(on_import) if interp.globals.vars.get(n) is model), None)
    return {"name": name, "call": False, "args": [], "kwargs": {}} if name is not None else None


def names_on_import(source: Any) -> set:
    """The names the file's top-level code binds when it is imported: all but those of its `__main__` block."""
    import ast

    from torchshape_lint.source.writes import assigned_names

    names = set()
    for top in source.statements():
        node = top.node
        if isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            names.add(node.name)
        elif not is_main_guard(node):
            names.update(assigned_names(node))
    return names


def is_main_guard(node: Any) -> bool:
    import ast

    test = node.test if isinstance(node, ast.If) else None
    return isinstance(test, ast.Compare) and any(
        isinstance(side, ast.Constant) and side.value == "__main__" for side in [test.left] + test.comparators)


def concrete_shapes(tensors: Any) -> list | None:
    """Each tensor's shape as a list, when every one is known to the last size; else None."""
    shapes = [t.shape for t in tensors]
    return [list(s) for s in shapes] if all(
        s is not None and all(isinstance(d, int) for d in s) for s in shapes) else None


def input_of(build: Any, builds: Any) -> list | None:
    """The concrete inputs the static pass ran the build on, one shape per forward argument: a pragma's shapes
    as written where it gives several; else the one input as the first layer read it: a pragma's batch left
    out becomes 1; a run-wide default's channels are left to the first layer (None). A build the static pass
    could not finish (its constructor raises, a loop it does not bound) still runs on its pragma's shape."""
    from torchshape_lint.evaluate.values import Instance

    top = next((t for t in builds.source.statements() if defines(t.node, build.name.removesuffix("()"))), None)
    used = build.origin not in ("option", "symbolic")
    if top is not None:
        model = builds.interp.globals.vars.get(build.name)
        given = builds.inputs_for(top, model if isinstance(model, Instance) else None, used=used)
        if len(given) > 1:  # the first layer reads only one of them: the pragma says every shape
            return concrete_shapes(given)
    if build.input is not None:
        return [list(build.input)] if all(isinstance(d, int) for d in build.input) else None
    if top is None:
        return None
    pending = builds.input_for(top, used=used)
    first = build.steps[0].after if build.steps else None
    settled = settle(pending)
    if settled.pending and first is not None and 3 <= len(first) <= 5:  # a conv, pool or norm fixed the rank
        settled = materialize(pending, len(first) - 2, None)
    elif settled.pending and pending.exact and build.steps and build.steps[0].label == "Linear":
        return [list(pending.hint)]  # a Linear reads any rank: the pragma's shape as written
    if settled is None or settled.pending or settled.shape is None or settled.origin == "symbolic":
        return None
    shape = [1 if d == dims.symbol("N") else d for d in settled.shape]
    return [shape] if all(d is None or isinstance(d, int) for d in shape) else None


def defines(node: Any, name: str) -> bool:
    import ast

    if isinstance(node, (ast.ClassDef, ast.FunctionDef)):
        return node.name == name
    targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
    return any(isinstance(t, ast.Name) and t.id == name for t in targets)


def findings_of(report: Any, name: str) -> list:
    return [f for f in report.findings if name in f.models]


# ---- comparing ---------------------------------------------------------------------------------------------


def judge(report: Any, p: Plan, reply: dict, device: str, own: list, verdicts: dict, added: dict,
          result: BuildResult) -> None:
    """Compare one build's real calls with its static steps; verdicts for its findings; new findings."""
    name, failure = p.label, reply.get("failure")
    if failure:
        result.failure = f"stopped at line {failure['line']}: {failure['message']}" if failure["line"] else failure["message"]
    real = defaultdict(list)
    for line, column, label, before, after in reply.get("calls", []):
        real[(line, column)].append((label, before, after))
    reproduced = set()
    for (line, column), steps, calls in matched(p.build.steps, real):
        for step, (label, before, after) in zip(steps, calls):
            outcome = [agree(step.before, before), agree(step.after, after)]
            if None in outcome and not any(outcome):
                continue
            result.compared += 1
            if False in outcome:
                add(added, report, ConfirmMismatch(device, step.label, f"{show(step.before)} → {show(step.after)}",
                                                   f"{show(before)} → {show(after)}"), line, column, name)
            else:
                result.agreeing += 1
                reproduced.add((line, column))
    result.unknown = sum(1 for s in p.build.steps if s.before is None and s.after is None)
    failed_at = (failure["line"], failure["column"]) if failure and failure.get("line") else None
    # a layer that raised is where its problem is about, and the call that applied it where a finding about the
    # call's other arguments sits (TSL011: `self.lstm(x, (h0, c0))`)
    raised_at = {failed_at, tuple(failure["call"]) if failure.get("call") else None} - {None} if failure else set()
    for finding in own:
        key, where = (finding.line, finding.column, finding.code), (finding.line, finding.column)
        if where in raised_at or finding.name in SILENT_RULES and where in reproduced:
            verdicts[key][name] = ("confirmed", "")
        elif failure and failure["unavailable"]:
            verdicts[key][name] = ("not confirmed", failure["message"])
        elif failure and where not in real:
            verdicts[key][name] = ("not confirmed", f"PyTorch stopped before it (line {failure['line']})")
        else:
            verdicts[key][name] = ("not reproduced", META_CHECKS_LESS if device == "meta" else "")
    if failure and not raised_at & {(f.line, f.column) for f in own}:
        unexpected(report, p, failure, device, added)


# torch's meta kernels check less than the CPU's for some ops (a transposed conv's input channels, in torch 2.14)
META_CHECKS_LESS = "the meta device does not check everything the CPU does (try --device cpu)"


def matched(steps: list, real: dict) -> list:
    """(position, static steps, real calls) per position and operation, paired in order — only where the
    static pass saw as many calls of that operation there as PyTorch made: a call the static pass could not
    follow (an unknown input, an undecided branch) would otherwise pair every later call with the wrong one."""
    by_site = defaultdict(lambda: defaultdict(list))
    for step in steps:
        by_site[(step.line, step.column)][op_key(step.label)].append(step)
    out = []
    for site, groups in by_site.items():
        calls = defaultdict(list)
        for call in real.get(site, []):
            calls[op_key(call[0])].append(call)
        for key, group in groups.items():
            if len(calls[key]) == len(group):
                out.append((site, group, calls[key]))
    return out


def op_key(label: str) -> str:
    """`MaxPool2d`, `F.max_pool2d`, `_max_pool2d` → `maxpool2d`; `.view`, `torch.flatten` → `view`, `flatten`;
    `F.interpolate` and `nn.Upsample` are one operation."""
    key = op_name(label)
    return OP_ALIASES.get(key, key)


def op_name(label: str) -> str:
    return label.rsplit(".", 1)[-1].replace("_", "").lower().removesuffix("withindices")


# the names of one op in the layer table (shapes/layers.py: functional spellings and aliases) → the op's own
OP_ALIASES = {op_name(alias): op_name(name) for alias, name in layers.aliases().items()}


def agree(static: tuple | None, real: list | None) -> bool | None:
    """None: nothing to compare; every known static size must be PyTorch's."""
    if static is None or real is None:
        return None
    return len(static) == len(real) and all(s == r for s, r in zip(static, real) if isinstance(s, int))


def show(shape: Any) -> str:
    return "?" if shape is None else "(" + ", ".join(dims.show(d) if not isinstance(d, int) else str(d)
                                                      for d in shape) + ")"


def unexpected(report: Any, p: Plan, failure: dict, device: str, added: dict) -> None:
    """A failure no static finding predicted: at a layer or while running, a runtime error (TSL902);
    while importing or building, or not the model's fault, the model could not be tried (TSL903)."""
    line, column = failure.get("line"), failure.get("column")
    if line is None:
        line, column = definition_line(report, p.build.name), 0
    runtime = not failure["unavailable"] and (failure["at_layer"] or failure["phase"] == "run")
    problem = (ConfirmRuntimeError if runtime else ConfirmFailed)(
        device, failure.get("label") or "", failure["message"], failure["phase"], failure["raised"])
    add(added, report, problem, line, column or 0, p.build.name)


def definition_line(report: Any, name: str) -> int:
    import ast

    try:
        with open(report.path, "rb") as handle:
            tree = ast.parse(handle.read())
    except (OSError, SyntaxError, ValueError):
        return 1
    return next((node.lineno for node in tree.body if defines(node, name.removesuffix("()"))), 1)


def add(added: dict, report: Any, problem: Any, line: int, column: int, model: str) -> None:
    rule = rule_for(problem)
    message = rule.message(problem)
    key = (rule.code, line, column, message)
    if key in added:
        added[key].models.append(model)
        return
    added[key] = Finding(rule.code, rule.name, report.path, line, column, line, column, message, models=[model],
                         origin="confirm")


def apply_verdicts(report: Any, verdicts: dict, device: str) -> None:
    """`[confirmed on meta]`, `[not reproduced on cpu]`; per build where the builds differ."""
    findings = []
    for finding in report.findings:
        per_build = verdicts.get((finding.line, finding.column, finding.code), {})
        if not per_build:
            findings.append(finding)
            continue
        kinds, whys = {v for v, _ in per_build.values()}, {why for _, why in per_build.values()}
        if len(kinds) == 1 and kinds != {"not confirmed"}:
            said = [Verdict(kinds.pop(), device, why=whys.pop() if len(whys) == 1 else "")]
        else:
            parts = defaultdict(list)
            for name, (kind, why) in per_build.items():
                parts[(kind, why)].append(name)
            said = [Verdict(kind, device, tuple(names) if len(per_build) > 1 else (), why)
                    for (kind, why), names in parts.items()]
        findings.append(replace(finding, verdicts=said))
    report.findings = findings


# ---- the child process -------------------------------------------------------------------------------------


class Worker:
    """The child process that runs the user's code, restarted after a hang or a crash. One per run (and per
    flake8 process), reused across files: torch is imported once."""

    def __init__(self) -> None:
        self.process: subprocess.Popen | None = None
        self.cuda = False
        self.buffer = b""

    def device(self, wanted: str | None) -> str:
        self.start()
        if wanted == "cuda" and not self.cuda:
            raise ConfirmError("--device cuda: CUDA is not available here (use --device cpu or meta)")
        return wanted or ("cuda" if self.cuda else "cpu")

    def start(self) -> None:
        if self.process is not None and self.process.poll() is None:
            return
        if importlib.util.find_spec("torch") is None:
            raise ConfirmError(f"confirm mode needs torch: {INSTALL_HINT}")
        self.errors = tempfile.TemporaryFile()
        self.process = subprocess.Popen([sys.executable, "-m", "torchshape_lint.confirm.worker"],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.errors,
                                        start_new_session=True)
        self.buffer = b""
        try:
            ready = self.read(time.monotonic() + STARTUP_TIMEOUT)
        except (TimeoutError, EOFError) as error:
            self.close()
            raise ConfirmError(f"confirm mode could not start its worker: {error}") from None
        if ready.get("event") == "no-torch":
            self.close()
            raise ConfirmError(f"confirm mode needs torch ({ready['error']}): {INSTALL_HINT}")
        self.cuda = ready.get("cuda", False)

    def ask(self, request: dict, timeout: float) -> dict:
        """The worker's reply for one build; a time limit or a crash becomes a failed reply and a new worker."""
        self.start()
        loaded = False
        try:
            self.process.stdin.write((json.dumps(request) + "\n").encode())
            self.process.stdin.flush()
            deadline = time.monotonic() + timeout
            while True:
                message = self.read(deadline)
                if message.get("event") == "loaded":
                    loaded = True
                elif "build" in message:
                    return message
        except TimeoutError:
            self.close()
            what = f"building and running {request['build']}" if loaded else "importing the file"
            return failed(f"{what} took longer than {timeout:g} s (stopped)")
        except (EOFError, BrokenPipeError, OSError):
            code = self.process.wait()
            tail = self.stderr_tail()
            self.close()
            signal = f"signal {-code}" + (", out of memory?" if code == -9 else "") if code < 0 else f"exit {code}"
            return failed(f"the confirm worker process ended ({signal}){': ' + tail if tail else ''}")

    def read(self, deadline: float) -> dict:
        fd = self.process.stdout.fileno()
        while b"\n" not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no answer in time")
            if select.select([fd], [], [], left)[0]:
                chunk = os.read(fd, 1 << 16)
                if not chunk:
                    raise EOFError("the worker ended")
                self.buffer += chunk
        line, _, self.buffer = self.buffer.partition(b"\n")
        return json.loads(line)

    def stderr_tail(self) -> str:
        self.errors.seek(0)
        lines = self.errors.read().decode(errors="replace").strip().splitlines()
        return lines[-1][:200] if lines else ""

    def close(self) -> None:
        if self.process is not None:
            if self.process.poll() is None:
                self.process.kill()
            self.process.wait()
            for stream in (self.process.stdin, self.process.stdout):
                stream.close()
            self.process = None


def failed(message: str) -> dict:
    return {"status": "failed", "calls": [], "failure": {
        "phase": "run", "at_layer": False, "line": None, "column": None, "label": None, "message": message,
        "unavailable": True, "raised": False}}


def confirm_in_flake8(report: Any, text: str, settings: Any) -> None:
    """flake8 gets no traceback: when confirming cannot run at all, the file gets one TSL903 finding."""
    try:
        confirm_report(report, text, settings.device, settings.confirm_timeout, settings.input_shape_for(report.path))
    except Exception as error:  # ConfirmError, or a bug here: the findings of the static pass stay
        added: dict = {}
        add(added, report, "confirm-failed", 1, 0, "<file>", {"device": settings.device or "", "phase": "run",
                                                              "label": "", "message": str(error), "raised": False})
        report.findings = report.findings + list(added.values())


_WORKER: Worker | None = None


def session() -> Worker:
    global _WORKER
    if _WORKER is None:
        _WORKER = Worker()
        atexit.register(_WORKER.close)
    return _WORKER

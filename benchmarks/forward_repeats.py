#!/usr/bin/env python3
"""How many forward() evaluations on torchvision's installed models/ repeat one already made, and what they cost: the
ceiling of what memoising forwards could save (issue 12). The plugin runs as in benchmarks/plugin_cpu.py (one pass,
its result cache off), with the evaluator's calls wrapped to count:

    python benchmarks/forward_repeats.py

A forward repeats when a module built by the memo (evaluate/memo.py: the same class, arguments and globals) is applied
again in the same file's interpreter to arguments that are the same abstract values (tensors equal but for their trace,
plain numbers, strings, None). An upper bound: it does not check that the module or what its forward reads is unchanged
since. Steps are the evaluator's (`Interpreter.steps`), counted for the outermost repeat only (a repeat inside one is
in its count); CPU is `time.process_time` over those repeats, wrappers included.
"""

from __future__ import annotations

import ast
import collections
import importlib.util
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from torchshape_lint.evaluate import calls, interpreter, memo  # noqa: E402
from torchshape_lint.evaluate.values import Instance  # noqa: E402
from torchshape_lint.frontends.flake8_plugin import TorchShapePlugin  # noqa: E402
from torchshape_lint.shapes.tensor import Tensor  # noqa: E402

counts: collections.Counter = collections.Counter()
by_file: collections.Counter = collections.Counter()
construction_of: dict = {}  # id of a module the memo built or rebuilt → its construction key (Key.value)
kept_alive: list = []  # those modules, so that no id is reused


def abstract(value: object) -> object:
    """A hashable value equal for two arguments a forward cannot tell apart (memo.Unkeyable otherwise)."""
    if isinstance(value, Tensor):
        return "tensor", tuple(sorted((k, repr(v)) for k, v in value.__dict__.items() if k != "history"))
    if isinstance(value, tuple):
        return ("tuple",) + tuple(abstract(v) for v in value)
    return memo.immutable(value)


def recording(method, key_at: int):
    """`method` of the memo, noting each instance it gives by its key (the argument at `key_at`)."""
    def wrapper(self, *arguments):
        value = method(self, *arguments)
        if isinstance(value, Instance):
            construction_of[id(value)] = arguments[key_at].value
            kept_alive.append(value)
        return value
    return wrapper


def main() -> None:
    spec = importlib.util.find_spec("torchvision")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("forward_repeats: torchvision is not installed")
    memo.Memo.record = recording(memo.Memo.record, 0)  # (key, interp, run)
    memo.Memo.replay = recording(memo.Memo.replay, 1)  # (found, key, interp)
    seen: set = set()
    inside_repeat = [0]
    current_file = [""]
    apply_module = calls.Calls.apply_module

    def counting_apply_module(self, module, args, kwargs, where):
        if not isinstance(module, Instance) or module.opaque:
            return apply_module(self, module, args, kwargs, where)
        counts["forwards of the file's modules"] += 1
        construction = construction_of.get(id(module))
        if construction is None:
            counts["of a module the memo did not build"] += 1
            return apply_module(self, module, args, kwargs, where)
        try:
            key = (id(self), construction, tuple(map(abstract, args)),
                   tuple(sorted((k, abstract(v)) for k, v in kwargs.items())))
        except memo.Unkeyable:
            counts["of arguments not keyable"] += 1
            return apply_module(self, module, args, kwargs, where)
        if key not in seen:
            seen.add(key)
            counts["first evaluations"] += 1
            return apply_module(self, module, args, kwargs, where)
        counts["repeats"] += 1
        outermost = not inside_repeat[0]
        inside_repeat[0] += 1
        steps, cpu, marks = self.steps, time.process_time(), memo.Marks(self.check, self)
        try:
            return apply_module(self, module, args, kwargs, where)
        finally:
            inside_repeat[0] -= 1
            if outermost:
                counts["outermost repeats"] += 1
                counts["steps in the outermost repeats"] += self.steps - steps
                counts["CPU µs in the outermost repeats"] += round((time.process_time() - cpu) * 1e6)
                violations, checks, applications, _, _ = marks.added()
                counts["violations they recorded"] += len(violations)
                counts["decided checks they recorded"] += len(checks)
                counts["layer applications they recorded"] += len(applications)
                by_file[current_file[0]] += self.steps - steps

    calls.Calls.apply_module = counting_apply_module
    all_steps = [0]

    def steps_get(self):
        return self.__dict__.get("_steps", 0)

    def steps_set(self, value):  # every build resets the count: only what it adds is summed
        all_steps[0] += max(value - self.__dict__.get("_steps", 0), 0)
        self.__dict__["_steps"] = value

    interpreter.Interpreter.steps = property(steps_get, steps_set)
    TorchShapePlugin.settings = type(TorchShapePlugin.settings)(no_cache=True)
    TorchShapePlugin.project = None
    start = time.process_time()
    findings = 0
    for path in sorted((Path(spec.submodule_search_locations[0]) / "models").rglob("*.py")):
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        current_file[0] = path.name
        findings += len(list(TorchShapePlugin(ast.parse("".join(lines)), str(path), lines).run()))
    print(f"{findings} findings, {all_steps[0]:,} evaluation steps, {time.process_time() - start:.2f} s CPU")
    for name, count in counts.items():
        print(f"{name}: {count:,}")
    print("steps in the outermost repeats by file:", ", ".join(f"{f} {n:,}" for f, n in by_file.most_common(8)))


if __name__ == "__main__":
    main()

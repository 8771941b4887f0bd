"""Memoised evaluation, once per file: constructing a class of the file with the same immutable arguments, and
applying a module of the file in the same state to a tensor known the same way.

torchvision's resnet.py builds ten networks of the same blocks; within one, ResNet-101's third stage builds and
applies 22 identical Bottlenecks. Each key holds the version of the file's global names (any assignment to one, or
to a class attribute, makes a new version). Construction: the class and its arguments (numbers, strings, None,
classes, functions, imported names; never a list or a module, whose identity the instance could keep); a later
call gets a fresh copy of the instance as it was built. Application: the module's whole state (its class, every
attribute, every layer with its arguments and constructor call, recursively) and what arrives (shape and how it is
known). A replay records what evaluating again would: the same violations (construction) or decided checks, layer
applications and counts, and the same steps on the output's trace. An evaluation is kept only when that holds:
the state it made or read is one a key captures, the globals did not change under it, and an application
reported no violation, left the module as it was and returned a tensor derived from its input.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from torchshape_lint.evaluate.python_library import Builtin
from torchshape_lint.evaluate.values import PLAIN, ClassV, Container, DictV, External, Function, Instance, ListV
from torchshape_lint.shapes.layers import Layer
from torchshape_lint.shapes.tensor import MAX_TRACE, Tensor
from torchshape_lint.unknown import Unknown


class Unkeyable(Exception):
    """A value whose state a key cannot capture (a bound method, a partial, …): that module is not memoised."""


def fingerprint(value: Any) -> Any:
    """A hashable value equal for two values the evaluator cannot tell apart."""
    if isinstance(value, PLAIN):
        return type(value), value  # True and 1 are not the same argument
    if isinstance(value, (Unknown, External, Builtin, Function, ClassV)):
        return value  # one object each (an identity holds it alive in the key)
    if isinstance(value, tuple):
        return ("tuple",) + tuple(fingerprint(v) for v in value)
    if isinstance(value, ListV):
        return ("list", value.opaque) + tuple(fingerprint(v) for v in value)
    if isinstance(value, DictV):
        return ("dict", value.opaque) + tuple((fingerprint(k), fingerprint(v)) for k, v in value.items())
    if isinstance(value, Layer):
        return ("layer", value.spec.name, value.where) + tuple((k, fingerprint(v)) for k, v in value.args.items())
    if isinstance(value, Container):
        return ("container", value.kind, value.opaque, value.where) + tuple(
            (name, fingerprint(child)) for name, child in value.children)
    if isinstance(value, Instance):
        return ("instance", value.cls, value.opaque) + tuple((k, fingerprint(v)) for k, v in value.attrs.items())
    if isinstance(value, Tensor):
        return ("tensor",) + arriving(value)
    raise Unkeyable()


def immutable(value: Any) -> Any:
    """The fingerprint of an argument no code can change (else Unkeyable)."""
    if isinstance(value, tuple):
        return ("tuple",) + tuple(immutable(v) for v in value)
    if isinstance(value, PLAIN + (Unknown, External, Builtin, Function, ClassV)):
        return fingerprint(value)
    raise Unkeyable()


def duplicate(value: Any, copies: dict) -> Any:
    """A copy of a built module's mutable parts (instances, containers, lists, dicts), sharing what does not change
    (layers, tensors, names) and keeping which parts were one object."""
    if not isinstance(value, (Instance, Container, ListV, DictV, tuple)):
        return value
    if id(value) in copies:
        return copies[id(value)]
    if isinstance(value, tuple):
        return tuple(duplicate(v, copies) for v in value)
    if isinstance(value, Instance):
        copy = copies[id(value)] = Instance(value.cls, opaque=value.opaque, where=value.where,
                                            built_with=value.built_with)
        copy.attrs = {k: duplicate(v, copies) for k, v in value.attrs.items()}
    elif isinstance(value, Container):
        copy = copies[id(value)] = Container(value.kind, [], value.where, value.opaque)
        copy.children = [(name, duplicate(child, copies)) for name, child in value.children]
    else:
        copy = copies[id(value)] = type(value)()
        copy.opaque = value.opaque
        if isinstance(value, ListV):
            copy.extend(duplicate(v, copies) for v in value)
        else:
            copy.update((k, duplicate(v, copies)) for k, v in value.items())
    return copy


def arriving(x: Tensor) -> tuple:
    """What of a tensor a module's evaluation can read: everything but the trace of how it was made."""
    return x.shape, x.last, x.flat_parts, x.pending, x.hint, x.exact, x.origin


@dataclass
class Built:
    instance: Instance  # a copy of the instance as its constructor left it
    violations: list
    checks: list
    applications: list
    layers_checked: int
    layers_unknown: int


@dataclass
class Recorded:
    before: Tensor
    after: Tensor
    checks: list
    applications: list
    layers_checked: int
    layers_unknown: int
    used: set


class Marks:
    """Where a collector stood before an evaluation, to take what the evaluation added."""

    def __init__(self, check: Any) -> None:
        self.check = check
        self.violations, self.checks, self.applications = len(check.violations), len(check.checks), len(
            check.applications)
        self.layers_checked, self.layers_unknown = check.layers_checked, check.layers_unknown

    def added(self) -> tuple:
        check = self.check
        return (check.violations[self.violations:], check.checks[self.checks:], check.applications[self.applications:],
                check.layers_checked - self.layers_checked, check.layers_unknown - self.layers_unknown)


def replay_events(check: Any, violations: list, checks: list, applications: list, layers_checked: int,
                  layers_unknown: int) -> None:
    check.violations.extend(violations)
    check.checks.extend(checks)
    check.applications.extend(applications)
    check.layers_checked += layers_checked
    check.layers_unknown += layers_unknown


class Memo:
    def __init__(self) -> None:
        self.recorded: dict = {}
        self.built: dict = {}

    def construction_key(self, cls: ClassV, args: list, kwargs: dict, version: int) -> tuple | None:
        try:
            return cls, immutable(tuple(args)), tuple(sorted((k, immutable(v)) for k, v in kwargs.items())), version
        except Unkeyable:
            return None

    def rebuilt(self, key: tuple, where: Any, interp: Any) -> Instance | None:
        found = self.built.get(key)
        if found is None:
            return None
        replay_events(interp.check, found.violations, found.checks, found.applications, found.layers_checked,
                      found.layers_unknown)
        instance = duplicate(found.instance, {})
        instance.where = where
        return instance

    def construct(self, key: tuple, interp: Any, run: Any) -> Instance:
        """`run()` constructs the instance; a copy of it is kept when the key captures the state it built."""
        marks = Marks(interp.check)
        instance = run()
        if marks.check is not interp.check or interp.globals.version != key[-1]:
            return instance
        try:
            fingerprint(instance)
        except Unkeyable:  # it holds something a copy could not reproduce (a bound method, a partial, …)
            return instance
        self.built[key] = Built(duplicate(instance, {}), *marks.added())
        return instance

    def key(self, module: Instance, x: Tensor, version: int) -> tuple | None:
        try:
            return fingerprint(module), arriving(x), version
        except Unkeyable:
            return None

    def replay(self, key: tuple, x: Tensor, interp: Any) -> Tensor | None:
        found = self.recorded.get(key)
        if found is None:
            return None
        replay_events(interp.check, [], found.checks, found.applications, found.layers_checked, found.layers_unknown)
        interp.used_with_input.update(found.used)
        steps = found.after.trace[len(found.before.trace):]
        trace, dropped = x.trace + steps, x.dropped
        if len(trace) > MAX_TRACE:  # as Tensor.then keeps a long trace: its first step and the latest ones
            trace, dropped = trace[:1] + trace[-(MAX_TRACE - 1):], dropped + len(trace) - MAX_TRACE
        return replace(found.after, trace=trace, dropped=dropped)

    def evaluate(self, key: tuple, module: Instance, x: Tensor, interp: Any, run: Any) -> Any:
        """`run()` applies the module; kept for replay when that is exactly repeatable (see the module's doc)."""
        marks = Marks(interp.check)
        used = set(interp.used_with_input)
        out = run()
        if marks.check is not interp.check or not isinstance(out, Tensor):
            return out
        violations, checks, applications, layers_checked, layers_unknown = marks.added()
        if violations or out.dropped != x.dropped or out.trace[:len(x.trace)] != x.trace or self.key(
                module, x, interp.globals.version) != key:
            return out  # not derived from the input, its trace cut, or the module's state or the globals changed
        self.recorded[key] = Recorded(x, out, checks, applications, layers_checked, layers_unknown,
                                      interp.used_with_input - used)
        return out

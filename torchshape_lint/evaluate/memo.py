"""Memoised module applications: a module of the file in the same state, applied to a tensor of the same shape,
is evaluated once per file, and every later application replays what the first recorded.

torchvision's resnet.py builds ten networks of the same blocks; within one, ResNet-101's third stage applies 22
identical Bottlenecks to the same shape. The key is the module's whole state (its class, every attribute, every
layer with its arguments and constructor call, recursively), what arrives (shape and how it is known) and the
version of the file's global names; an application is kept only when it reported no violation, left the module's
state as it was and returned a tensor derived from its input, so that a replay is exactly what evaluating again
would record: the same decided checks, layer applications and counts, and the same steps on the output's trace.
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


def arriving(x: Tensor) -> tuple:
    """What of a tensor a module's evaluation can read: everything but the trace of how it was made."""
    return x.shape, x.last, x.flat_parts, x.pending, x.hint, x.exact, x.origin


@dataclass
class Recorded:
    before: Tensor
    after: Tensor
    checks: list
    applications: list
    layers_checked: int
    layers_unknown: int
    used: set


class Memo:
    def __init__(self) -> None:
        self.recorded: dict = {}

    def key(self, module: Instance, x: Tensor, version: int) -> tuple | None:
        try:
            return fingerprint(module), arriving(x), version
        except Unkeyable:
            return None

    def replay(self, key: tuple, x: Tensor, interp: Any) -> Tensor | None:
        found = self.recorded.get(key)
        if found is None:
            return None
        check = interp.check
        check.checks.extend(found.checks)
        check.applications.extend(found.applications)
        check.layers_checked += found.layers_checked
        check.layers_unknown += found.layers_unknown
        interp.used_with_input.update(found.used)
        steps = found.after.trace[len(found.before.trace):]
        trace, dropped = x.trace + steps, x.dropped
        if len(trace) > MAX_TRACE:  # as Tensor.then keeps a long trace: its first step and the latest ones
            trace, dropped = trace[:1] + trace[-(MAX_TRACE - 1):], dropped + len(trace) - MAX_TRACE
        return replace(found.after, trace=trace, dropped=dropped)

    def evaluate(self, key: tuple, module: Instance, x: Tensor, interp: Any, run: Any) -> Any:
        """`run()` applies the module; kept for replay when that is exactly repeatable (see the module's doc)."""
        check = interp.check
        marks = (len(check.violations), len(check.checks), len(check.applications), check.layers_checked,
                 check.layers_unknown)
        used = set(interp.used_with_input)
        out = run()
        if check is not interp.check or len(check.violations) != marks[0] or not isinstance(out, Tensor):
            return out
        if out.dropped != x.dropped or out.trace[:len(x.trace)] != x.trace or self.key(
                module, x, interp.globals.version) != key:
            return out  # not derived from the input, its trace cut, or the module's state or the globals changed
        self.recorded[key] = Recorded(x, out, check.checks[marks[1]:], check.applications[marks[2]:],
                                      check.layers_checked - marks[3], check.layers_unknown - marks[4],
                                      interp.used_with_input - used)
        return out

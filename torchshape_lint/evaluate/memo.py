"""Memoised calls, once per file: a class or function of the project called with the same arguments is evaluated
once.

torchvision's resnet.py builds ten networks of the same blocks; within one, ResNet-101's third stage builds 22
identical Bottlenecks; MobileNet's and EfficientNet's `_make_divisible(v, 8)` runs for every block's width. The key
is the class or function, its arguments (numbers, strings, None, classes, functions, imported names, partials of
those; lists of them by content; never a module, whose state a caller could change) and the version of the file's
global names (any assignment to one, or to a class attribute, makes a new version). A later call gets a fresh copy
of what the first gave (an instance as it was built, a function's result), with layers of its own, holding the
caller's own lists where the first held its argument lists (`cfg`, `shift_size=[0, 3]`), and replays what the call
recorded: its violations (each reported from this call), decided checks, layer applications and counts, and the
build's flags it set (failed, tensors lost, a loop stopped; how they stood before is part of the key: `standing`).
A call is kept only when the value it gave is one a copy reproduces (see `duplicate`) and is not a network of
thousands of parts (MAX_KEPT_PARTS; nor is a list of thousands of items part of a key), it applied no layer (tensor
ops, which name none, are replayed) and ran no module on an input, it left its argument lists as they were, it read
from outside itself no value code may change in place (a global instance, dict or list: `changeable`) and no name of
an enclosing call (which it may bind again), and the globals did not change under it; the names it read of other
modules are replayed only while their versions are as it read them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from torchshape_lint.evaluate.frames import SCOPES_MADE
from torchshape_lint.evaluate.python_library import Builtin, Method, Partial
from torchshape_lint.evaluate.values import (
    PLAIN, BoundMethod, ClassV, Container, DictV, External, Function, Instance, ListV, Sourced,
)
from torchshape_lint.shapes.layer_spec import Layer
from torchshape_lint.shapes.tensor import Tensor
from torchshape_lint.unknown import Unknown


class Unkeyable(Exception):
    """A value whose state a copy cannot reproduce (a bound method, a partial, …), or one too large to be worth
    keeping (MAX_KEPT_PARTS, MAX_KEYED_ITEMS): that call is not kept."""


# The calls worth keeping build blocks a network repeats (torchvision's repeated ones hold under 200 parts); a value
# of more parts is a network itself, which a file builds once per configuration (none of torchvision's was met
# twice), and copying it to keep costs time and memory in proportion (a 20 000-entry cfg: two copies of 40 000
# layers). Likewise a list argument longer than MAX_KEYED_ITEMS is keyed by no call: it is data, keyed three times
# per call for nothing.
MAX_KEPT_PARTS = 1000
MAX_KEYED_ITEMS = 1000


# The arguments a key holds as they are: one object each (an identity holds it alive in the key).
BY_IDENTITY = (Unknown, External, Builtin, Function, ClassV)


def immutable(value: Any, lists: list | None = None) -> Any:
    """A hashable value equal for two arguments the evaluator cannot tell apart, of an argument no code can change
    (else Unkeyable). `lists`: where lists are keyed too, by their content, each appended as it is met (one met
    again is keyed by its place there: `f(a, a)` is not `f(a, b)`); None: a list is Unkeyable."""
    if isinstance(value, tuple):
        return ("tuple",) + tuple(immutable(v, lists) for v in value)
    if value.__class__ is Sourced:  # a size the command line's defaults made: a finding names them
        return Sourced, int(value), value.sources
    if isinstance(value, PLAIN):
        return type(value), value  # True and 1 are not the same argument
    if isinstance(value, BY_IDENTITY):
        return value
    if value.__class__ is Partial:  # `partial(nn.LayerNorm, eps=1e-6)`, one object passed to every block
        immutable((value.func, value.args, tuple(value.kwargs.values())))
        return value
    if value.__class__ is ListV and not value.opaque and lists is not None and len(value) <= MAX_KEYED_ITEMS:
        for place, met in enumerate(lists):
            if met is value:
                return ("same list", place)
        lists.append(value)
        return ("list",) + tuple(immutable(v, lists) for v in value)
    raise Unkeyable()


# What a call may read from outside itself that other code can change after it (`cfg.width = 32`): a call that read
# one is not kept.
CHANGEABLE = (Instance, Container, Layer, list, dict, set, BoundMethod, Method)  # ListV and DictV among them


def changeable(value: Any) -> bool:
    if isinstance(value, tuple):
        return any(changeable(v) for v in value)
    if value.__class__ is Partial:
        return changeable((value.func, *value.args, *value.kwargs.values()))
    return isinstance(value, CHANGEABLE)


def duplicate(value: Any, copies: dict, keeping: bool = False) -> Any:
    """A copy of a built module's parts (instances, containers, layers, lists, dicts), sharing what does not change
    (tensors, names) and keeping which parts were one object: each built module has layers of its own, as explain's
    parameter counts and the editor's hover tell layers apart. `keeping`: the copy the memo keeps, Unkeyable where
    the value holds one a copy would not reproduce (a bound method, a partial, …)."""
    if type(value) in ATOMS or not isinstance(value, PARTS):
        if keeping and type(value) not in ATOMS and not isinstance(value, SHARED):
            immutable(value)  # a partial of plain values is shared as it is, like they are
        return value
    if id(value) in copies:
        return copies[id(value)]
    if keeping and len(copies) >= MAX_KEPT_PARTS:
        raise Unkeyable()
    if isinstance(value, tuple):  # `kernel_size=(3, 3)`: a tuple of atoms is shared as they are
        return value if ATOMS.issuperset(map(type, value)) else tuple(duplicate(v, copies, keeping) for v in value)
    # the copies are made by `shallow_copy` (a dataclass's __init__, or dataclasses.replace, costs far more), each
    # mutable field made anew
    if isinstance(value, Layer):
        copy = copies[id(value)] = shallow_copy(value)
        # most arguments are numbers, shared as they are (no code changes a layer's arguments in place: they are
        # shared when all are), tested here rather than by a call each
        if not ATOMS.issuperset(map(type, value.args.values())):
            copy.args = {k: v if type(v) in ATOMS else duplicate(v, copies, keeping) for k, v in value.args.items()}
    elif isinstance(value, Instance):
        copy = copies[id(value)] = shallow_copy(value)
        copy.maybe_set = set(value.maybe_set)
        copy.attrs = {k: v if type(v) in ATOMS else duplicate(v, copies, keeping) for k, v in value.attrs.items()}
    elif isinstance(value, Container):
        copy = copies[id(value)] = shallow_copy(value)
        copy.children = [(name, duplicate(child, copies, keeping)) for name, child in value.children]
    else:
        copy = copies[id(value)] = type(value)()
        copy.opaque = value.opaque
        if isinstance(value, ListV):
            copy.extend(duplicate(v, copies, keeping) for v in value)
        else:
            if keeping:  # a key is kept as it is: one a copy cannot reproduce is refused too
                for key in value:
                    duplicate(key, {}, keeping)
            copy.update((k, duplicate(v, copies, keeping)) for k, v in value.items())
    return copy


PARTS = (Instance, Container, Layer, ListV, DictV, tuple)  # what `duplicate` copies
SHARED = PLAIN + BY_IDENTITY + (Tensor,)  # what a kept copy shares with the instance as it was built


# The values `duplicate` meets most (a layer's arguments), by exact type: shared as they are, like every value that
# is not a part of a module.
ATOMS = frozenset({int, float, bool, str, type(None), Sourced, Unknown, Tensor})


def shallow_copy(value: Any) -> Any:
    """A new object of the same class with the same attributes (those of a dataclass: its fields)."""
    copy = object.__new__(type(value))
    copy.__dict__.update(value.__dict__)
    return copy


@dataclass
class Key:
    """A call's key, and the argument lists it holds by content (in the order `immutable` met them)."""

    value: tuple
    lists: list

    @property
    def version(self) -> int:
        return self.value[-1]


@dataclass
class Built:
    value: Any  # a copy of what the call gave: the instance as its constructor left it, the function's result
    lists: list  # for each argument list of its key, the copy of it the value holds, or None
    # id of each violation it found → the calls it had made then (inside the constructor call): a layer of another
    # file is reported at the innermost call of the checked file that led there (Collector.reached_from)
    reached_within: dict
    outcome: tuple  # the build's flags after it (Marks.outcome)
    modules: dict  # the global names of other modules it read (their Scope) → their version then
    violations: list
    checks: list
    applications: list
    layers_checked: int
    layers_unknown: int


def standing(check: Any) -> tuple:
    """What an evaluation's record depends on in its build's collector: whether the build failed already (a layer
    PyTorch cannot build is reported only until one is), and whether tensors were lost or a loop stopped already
    (only the first place of each is kept)."""
    return check.build_failed, check.lost is None, check.loop_stopped is None


class Marks:
    """Where a collector stood before an evaluation, to take what the evaluation added, and how many modules the
    file had run on an input and data loaders it had run (an evaluation that adds one is not kept: a replay would
    not add it)."""

    def __init__(self, check: Any, interp: Any) -> None:
        self.check = check
        self.runs = len(interp.used_with_input), len(interp.streams_run)
        self.violations, self.checks, self.applications = len(check.violations), len(check.checks), len(
            check.applications)
        self.layers_checked, self.layers_unknown = check.layers_checked, check.layers_unknown
        self.standing = standing(check)

    def ran_more(self, interp: Any) -> bool:
        return self.runs != (len(interp.used_with_input), len(interp.streams_run))

    def outcome(self) -> tuple:
        return self.check.build_failed, self.check.lost, self.check.loop_stopped

    def added(self) -> tuple:
        check = self.check
        return (check.violations[self.violations:], check.checks[self.checks:], check.applications[self.applications:],
                check.layers_checked - self.layers_checked, check.layers_unknown - self.layers_unknown)


def replay_events(check: Any, violations: list, checks: list, applications: list, layers_checked: int,
                  layers_unknown: int, reached: dict) -> None:
    """Add what a call recorded to `check`; `reached`: where each violation was found from, for this call."""
    reached_from = getattr(check, "reached_from", None)
    if reached_from is not None:
        for violation in violations:  # the first place a build met it stays, as when each is evaluated
            reached_from.setdefault(id(violation), reached[id(violation)])
    check.violations.extend(violations)
    check.checks.extend(checks)
    check.applications.extend(applications)
    check.layers_checked += layers_checked
    check.layers_unknown += layers_unknown


def replay_outcome(check: Any, outcome: tuple) -> None:
    """Set the build's flags as the call set them (its key holds how they stood before: `standing`); the
    first place tensors were lost or a loop stopped stays where the build had one."""
    failed, lost, loop_stopped = outcome
    check.build_failed = check.build_failed or failed
    if check.lost is None:
        check.lost = lost
    if check.loop_stopped is None:
        check.loop_stopped = loop_stopped


class Recording:
    """A call in progress whose value's copy may be kept."""

    __slots__ = ("first_scope", "modules")

    def __init__(self) -> None:
        self.first_scope = next(SCOPES_MADE)  # the scopes it makes are numbered from here: those before are outside it
        self.modules: dict = {}  # the global names of other modules it read (their Scope) → their version then

    def read_modules(self, modules: dict) -> None:
        for scope, version in modules.items():
            self.modules.setdefault(scope, version)


class Memo:
    def __init__(self) -> None:
        self.built: dict = {}
        self.started: list[Recording] = []  # innermost last
        self.outside_reads = 0  # what makes them not kept (`read`)

    def read(self, value: Any, scope: Any = None) -> None:
        """A value read, while calls are recorded, from outside them: a class's attributes, a module's names
        (`scope`: their Scope) or an enclosing call's. One whose state code may change in place makes them not kept;
        so does any name of an enclosing call, which it may bind again (no version says so); another module's names
        are recorded with their version, which a replay must find unchanged."""
        if changeable(value) or scope is not None and scope.parent is not None:
            self.outside_reads += 1
        elif scope is not None:
            self.started[-1].read_modules({scope: scope.version})

    def current(self, modules: dict) -> bool:
        return all(scope.version == version for scope, version in modules.items())

    def key(self, callee: ClassV | Function, args: list, kwargs: dict, version: int) -> Key | None:
        lists: list = []
        try:
            return Key((callee, immutable(tuple(args), lists), tuple(sorted(
                (k, immutable(v, lists)) for k, v in kwargs.items())), version), lists)
        except Unkeyable:
            return None

    def find(self, key: Key | None, interp: Any) -> Built | None:
        """The record of a call made before with this key, as the build stands now, while what it read is current."""
        found = self.built.get((key.value, standing(interp.check))) if key is not None else None
        return found if found is not None and self.current(found.modules) else None

    def replay(self, found: Built, key: Key, interp: Any) -> Any:
        """What the call gave, copied, with what it recorded added to the build."""
        if self.started:  # a call in progress that replays this one read what it read
            self.started[-1].read_modules(found.modules)
        replay_outcome(interp.check, found.outcome)
        calls = tuple(interp.calls)  # the call's own included, as when it was made
        reached = {key: calls + within for key, within in found.reached_within.items()}
        replay_events(interp.check, found.violations, found.checks, found.applications, found.layers_checked,
                      found.layers_unknown, reached)
        # where the first call's value held its argument lists, this one holds the caller's (same content, by the key)
        copies = {id(kept): given for kept, given in zip(found.lists, key.lists) if kept is not None}
        return duplicate(found.value, copies)

    def record(self, key: Key, interp: Any, run: Any) -> Any:
        """`run()` makes the call; a copy of what it gave is kept when the key captures the state it built."""
        marks = Marks(interp.check, interp)
        depth = len(interp.calls)
        contents = [immutable(argument, []) for argument in key.lists]
        reads = self.outside_reads
        self.started.append(Recording())
        try:
            value = run()
        finally:
            modules = self.started.pop().modules
            if self.started:  # what it read, the call it is part of read too
                self.started[-1].read_modules(modules)
        if marks.check is not interp.check or interp.globals.version != key.version or self.outside_reads != reads \
                or not self.current(modules) or marks.ran_more(interp):
            return value
        added = marks.added()
        if any(application.layer is not None for application in added[2]):
            return value  # it applied a layer (a trial forward): its record names this value's, not a copy's
        copies: dict = {}
        try:
            if any(immutable(argument, []) != before for argument, before in zip(key.lists, contents)):
                return value  # it changed an argument list: a later caller's would not be
            kept = duplicate(value, copies, keeping=True)
        except Unkeyable:  # it holds something a copy could not reproduce (a bound method, …), or put it in a list
            return value
        reached_from = getattr(interp.check, "reached_from", {})
        reached_within = {id(violation): reached_from.get(id(violation), ())[depth:] for violation in added[0]}
        self.built[key.value, marks.standing] = Built(kept, [copies.get(id(given)) for given in key.lists],
                                                      reached_within, marks.outcome(), modules, *added)
        return value

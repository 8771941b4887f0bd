"""The rules: one module per code, each a `Rule` with its docs, examples and message.

A rule turns the problems of one kind (a `shapes.violations.Problem` subclass whose `kind` is the rule's
kebab-case `name`) into findings: it formats their typed fields into the message. Rules register themselves by
subclassing `Rule`; adding one means adding one module here (and its problem's dataclass).
"""

from __future__ import annotations

from typing import ClassVar

from torchshape_lint.evaluate.values import defaults_in
from torchshape_lint.shapes import dims
from torchshape_lint.shapes.violations import Problem, Violation


class Rule:
    """Base class. The subclass's docstring says what it finds."""

    code: ClassVar[str]
    name: ClassVar[str]
    summary: ClassVar[str]  # one line
    why: ClassVar[str]
    fix: ClassVar[str]
    fix_safety: ClassVar[str] = "No automatic fix."
    bad: ClassVar[str]  # an example the rule flags
    good: ClassVar[str]  # the same example, right

    def message(self, violation: Problem) -> str:
        raise NotImplementedError

    def text(self, violation: Violation) -> str:
        """The message, and the command-line defaults its sizes came from: the user may run the script with others;
        for a pragma's shape that may be a batch or one sample (checks/models.py), that it is wrong either way."""
        message = self.message(violation) + either_reading(violation) + for_every_parameter(violation)
        defaults = assumed_defaults(violation)
        if not defaults:
            return message
        said = ", ".join(map(str, defaults))
        return f"{message} (with the default{'s' if len(defaults) > 1 else ''} {said})"

    @staticmethod
    def use(violation: Violation) -> str:
        """The suggestion as the message ends with it: `; use 16 * 4 * 4`, or a name of the user's that holds the
        size in every build, with its value in this one: `; use planes (32 here)`; a number that holds for this
        build only says so: `; use 32 here (other uses of this line get 16, 64)`."""
        suggestion = violation.suggestion
        if not suggestion:
            return ""
        if suggestion.name:
            return f"; use {suggestion} ({violation.arriving} here)"
        if suggestion.others:
            others = ", ".join(map(str, suggestion.others))
            return f"; use {suggestion} here (other uses of this line get {others})"
        return f"; use {suggestion}"


def either_reading(violation: Problem) -> str:
    """For a pragma's shape of rank 3 or less (a batch as written, or one sample with the batch left out): which
    reading the finding holds under, ` (either reading of input=(3, 8, 10) fails here: ...)`."""
    reading = getattr(violation, "reading", None)
    if reading is None:
        return ""
    written = reading.written
    sample = f"(N, {written[1:]}"
    if reading.which == "either":
        instead = reading.instead
        also = f", with {dims.show(instead)} in place of {dims.show(violation.arriving)}" if instead is not None else ""
        return f" (either reading of input={written} fails here: a batch as written, and one sample {sample}{also})"
    at = f"line {reading.line}" if reading.line is not None else "a layer"
    if reading.which == "batch":
        return f" (input={written} read as a batch, as written: {at} cannot read the rank of one sample {sample})"
    return f" (input={written} read as one sample {sample}: {at} cannot read its rank as a batch)"


def for_every_parameter(violation: Problem) -> str:
    """For a class built on its own (checks/models.py), the constructor parameters its sizes are functions of:
    ` (for every value of its parameters `in_planes`, `planes`)`."""
    tensor = getattr(violation, "tensor", None)
    shape = getattr(tensor, "shape", None) or ()
    names = dims.parameters_in(getattr(violation, "declared", None), getattr(violation, "arriving", None), *shape)
    return f" (for every value of its parameters {', '.join(f'`{name}`' for name in names)})" if names else ""


def assumed_defaults(violation: Violation) -> tuple:
    """The command-line defaults (values.CommandLineDefault) in what a violation compares: the declared and arriving
    sizes, and the shapes the tensor went through, but for their batch dimension (no check here depends on it but
    those about the batch, whose messages say it)."""
    sizes = [violation.declared, violation.arriving]
    tensor = violation.tensor
    shapes = [tensor.shape] + [shape for step in tensor.trace for shape in (step.before, step.after)] \
        if tensor is not None else []
    sizes.extend(tuple(shape[1:]) if len(shape) > 1 else shape for shape in shapes if shape is not None)
    return defaults_in(sizes)


def all_rules() -> dict[str, Rule]:
    """Every rule by its name (the violation kind it reports), loaded once."""
    global _RULES
    if _RULES is None:
        import importlib
        import pkgutil  # here: a run without findings needs no rule, nor this import

        for module in pkgutil.iter_modules(__path__):
            importlib.import_module(f"{__name__}.{module.name}")
        _RULES = {cls.name: cls() for cls in _subclasses(Rule)}
    return _RULES


def _subclasses(cls: type) -> list:
    found = []
    for sub in cls.__subclasses__():
        found.append(sub)
        found.extend(_subclasses(sub))
    return found


def rule_for(problem: Problem | type) -> Rule:
    """The rule that reports a problem (or a kind of problem): each kind has one (tests/test_layer_registry.py checks it)."""
    return all_rules()[problem.kind]


def by_code() -> dict[str, Rule]:
    return {rule.code: rule for rule in all_rules().values()}


_RULES: dict | None = None

"""The rules: one module per code, each a `Rule` with its docs, examples and message.

A rule turns the violations of one kind (its kebab-case `name`) into findings. Rules register
themselves by subclassing `Rule`; adding one means adding one module here.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import ClassVar

from torchshape_lint.shapes.violations import Violation


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

    def message(self, violation: Violation) -> str:
        raise NotImplementedError


def all_rules() -> dict[str, Rule]:
    """Every rule by its name (the violation kind it reports), loaded once."""
    global _RULES
    if _RULES is None:
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


def by_code() -> dict[str, Rule]:
    return {rule.code: rule for rule in all_rules().values()}


_RULES: dict | None = None

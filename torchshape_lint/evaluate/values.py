"""The evaluator's values beside plain Python ones (int, float, bool, str, None, tuple).

Lists, dicts and instances are mutable and can be made opaque ("havoc") when code the evaluator does
not follow may have changed them; reading an opaque value gives UNKNOWN.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from torchshape_lint.unknown import UNKNOWN, Unknown


class ListV(list):
    opaque = False


class DictV(dict):
    opaque = False


def readable(value: Any) -> Any:
    """The value, or UNKNOWN where code the evaluator did not follow may have changed it."""
    return UNKNOWN if getattr(value, "opaque", False) is True else value


@dataclass(frozen=True)
class External:
    """Something imported that the evaluator knows only by name: `torch.nn`, `torch.nn.Conv2d`, `math.floor`."""

    name: str


@dataclass(eq=False)
class ProjectModule:
    """`import models`: a module of the user's project, its top-level names read as attributes (`models.ResNet18`)."""

    name: str
    names: Any = field(repr=False)  # the Scope its top level bound
    importer: Any = field(repr=False)  # the Interpreter whose import bound it: reads its submodules (`models.resnet`)


@dataclass(eq=False)
class Function:
    node: Any = field(repr=False)  # ast FunctionDef, AsyncFunctionDef or Lambda
    source: Any = field(repr=False)  # the SourceFile it is in
    scope: Any = field(repr=False)  # the Scope it was defined in (globals, or an enclosing function's locals)
    name: str
    owner: Any = field(default=None, repr=False)  # the ClassV it was defined in, for super()
    kind: str = "function"  # or, in a class body: method, static, class, property


@dataclass(eq=False)
class BoundMethod:
    function: Function
    receiver: Any


@dataclass(eq=False)
class ClassV:
    name: str
    node: Any = field(repr=False)  # ast ClassDef; its body runs on first use
    source: Any = field(repr=False)
    scope: Any = field(repr=False)
    bases: list = field(default_factory=list)
    attrs: dict = field(default_factory=dict)
    member_names: frozenset = frozenset()  # names the class body binds, read before running it
    ready: bool = False
    decorators: list = field(default_factory=list)  # the decorators' values, e.g. External("dataclasses.dataclass")

    def is_dataclass(self) -> bool:
        return len(self.decorators) == 1 and isinstance(self.decorators[0], External) and \
            self.decorators[0].name in ("dataclasses.dataclass", "dataclass")

    def mro(self) -> list:
        order, todo = [], [self]
        while todo:
            cls = todo.pop(0)
            if isinstance(cls, ClassV) and cls not in order:
                order.append(cls)
                todo.extend(cls.bases)
        return order

    def external_bases(self) -> list:
        return [b for c in self.mro() for b in c.bases if not isinstance(b, ClassV)]

    def is_module(self) -> bool:
        """Derives from torch.nn.Module (directly, or through classes of the same file)."""
        return any(isinstance(b, External) and b.name.startswith("torch.nn.") for b in self.external_bases())


@dataclass(eq=False)
class Instance:
    cls: ClassV
    attrs: dict = field(default_factory=dict)
    opaque: bool = False
    where: Any = field(default=None, repr=False)
    built_with: tuple | None = field(default=None, repr=False)  # (args, kwargs) of its constructor call


@dataclass(eq=False)
class Container:
    """nn.Sequential / nn.ModuleList / nn.ModuleDict: named children in order."""

    kind: str
    children: list  # [(name, module)]
    where: Any = field(default=None, repr=False)
    opaque: bool = False

    def modules(self) -> list:
        return [m for _, m in self.children]


@dataclass(eq=False)
class Super:
    cls: ClassV
    receiver: Any


PLAIN = (int, float, bool, str, type(None))


def is_plain(value: Any) -> bool:
    """A Python value the evaluator knows exactly (numbers, strings, None, tuples of them)."""
    if isinstance(value, PLAIN):
        return True
    if isinstance(value, tuple):
        return all(is_plain(v) for v in value)
    return False


def is_hashable(value: Any) -> bool:
    return is_plain(value) or isinstance(value, (External, ClassV, Function))


def is_module_value(value: Any) -> bool:
    from torchshape_lint.shapes.layers import Layer

    if isinstance(value, (Layer, Container)):
        return True
    return isinstance(value, Instance) and value.cls.is_module()


__all__ = ["UNKNOWN", "Unknown", "ListV", "DictV", "External", "Function", "BoundMethod", "ClassV", "Instance",
           "Container", "Super", "ProjectModule", "readable", "is_module_value", "is_plain", "is_hashable"]

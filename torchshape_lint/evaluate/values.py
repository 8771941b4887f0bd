"""The evaluator's values beside plain Python ones (int, float, bool, str, None, tuple).

Lists, dicts and instances are mutable and can be made opaque ("havoc") when code the evaluator does
not follow may have changed them; reading an opaque value gives UNKNOWN.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from torchshape_lint.unknown import UNKNOWN, Unknown


class ListV(list):
    opaque = False


class DictV(dict):
    opaque = False


class AttrDict(DictV):
    """A mapping whose keys are also read and written as attributes: EasyDict (`cfg.MODEL.WIDTH`, `cfg["MODEL"]`)."""


class Namespace(AttrDict):
    """What argparse and `types.SimpleNamespace` make (`opt.img_size`). Its keys are its `vars()`, which is the same
    dict: it is read by key too, which only code Python rejects (`opt["img_size"]`) does."""


@dataclass(frozen=True)
class CommandLineDefault:
    """A value the script's command line gives when it is run without that option: the user may run it with another."""

    option: str  # as the script declares it: "--img_size"
    value: Any

    def __str__(self) -> str:
        return f"`{self.option} {self.value}`"


@dataclass(frozen=True)
class LastBatch:
    """The size of a data loader's last batch: what is left of the dataset after its full batches."""

    dataset: str  # "MNIST(train=True)"
    length: int
    batch_size: int


class Sourced(int):
    """An int that says where it came from (CommandLineDefault, LastBatch), so a finding can say what it assumed.
    It is an int everywhere else; arithmetic keeps the command-line defaults it was made from (see `carry`)."""

    sources: tuple

    def __new__(cls, value: int, sources: tuple = ()) -> "Sourced":
        made = int.__new__(cls, value)
        made.sources = tuple(sources)
        return made

    def __reduce__(self) -> tuple:  # processes (-j) exchange shapes holding it
        return Sourced, (int(self), self.sources)


def defaults_in(value: Any) -> tuple:
    """The command-line defaults a value (an int, or tuples and lists of them) was made from, each once, in order."""
    found: dict = {}
    _collect_defaults(value, found)
    return tuple(found)


def _collect_defaults(item: Any, found: dict) -> None:
    # a function of its own, not a closure: a recursive closure is a reference cycle, left to the cyclic collector
    if isinstance(item, (tuple, list)):
        for part in item:
            _collect_defaults(part, found)
    elif isinstance(item, Sourced):
        found.update((source, None) for source in item.sources if isinstance(source, CommandLineDefault))


def carry(result: Any, *operands: Any) -> Any:
    """`result`, computed from `operands`, keeping the command-line defaults they were made from."""
    if result.__class__ is not int and (not isinstance(result, int) or isinstance(result, bool)):
        return result
    if all(operand.__class__ in UNSOURCED for operand in operands):  # the arithmetic of plain numbers, most of it
        return result
    defaults = defaults_in(list(operands))
    return Sourced(result, defaults) if defaults else result


UNSOURCED = frozenset({int, float, bool, str, type(None)})  # exact types that hold no command-line default


def readable(value: Any) -> Any:
    """The value, or UNKNOWN where code the evaluator did not follow may have changed it."""
    return UNKNOWN if getattr(value, "opaque", False) is True else value


@dataclass(frozen=True)
class External:
    """Something imported that the evaluator knows only by name: `torch.nn`, `torch.nn.Conv2d`, `math.floor`."""

    name: str


def external_attribute(owner: External, name: str) -> External:
    """`torch.nn` . `Conv2d`: one External per dotted name (a value, equal to any other of its name), made once."""
    key = (owner.name, name)
    found = EXTERNAL_ATTRIBUTES.get(key)
    if found is None:
        if len(EXTERNAL_ATTRIBUTES) > MAX_EXTERNAL_ATTRIBUTES:  # a long-lived language server reads ever more code
            EXTERNAL_ATTRIBUTES.clear()
        found = EXTERNAL_ATTRIBUTES[key] = External(f"{owner.name}.{name}")
    return found


EXTERNAL_ATTRIBUTES: dict = {}
MAX_EXTERNAL_ATTRIBUTES = 100_000


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

    @cached_property
    def positional(self) -> tuple:
        """((ast.arg, its default expression or None), ...) of the parameters that can be passed by position: read
        once per definition, as every call of it binds them."""
        args = self.node.args
        positional = args.posonlyargs + args.args
        return tuple(zip(positional, [None] * (len(positional) - len(args.defaults)) + list(args.defaults)))


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

    # A class's bases are fixed by its class statement, so what follows from them is worked out once (attribute
    # lookups and module checks ask for it at every call of a method).

    @cached_property
    def mro(self) -> list:
        """The classes of the file it derives from, itself first (not to be changed: it is kept)."""
        order, todo = [], [self]
        while todo:
            cls = todo.pop(0)
            if isinstance(cls, ClassV) and cls not in order:
                order.append(cls)
                todo.extend(cls.bases)
        return order

    @cached_property
    def external_bases(self) -> list:
        """The bases from outside the file, of it and of the classes it derives from (not to be changed)."""
        return [b for c in self.mro for b in c.bases if not isinstance(b, ClassV)]

    def is_module(self) -> bool:
        """Derives from torch.nn.Module (directly, or through classes of the same file)."""
        return any(isinstance(b, External) and b.name.startswith("torch.nn.") for b in self.external_bases)


@dataclass(eq=False)
class Instance:
    cls: ClassV
    attrs: dict = field(default_factory=dict)
    opaque: bool = False
    where: Any = field(default=None, repr=False)
    built_with: tuple | None = field(default=None, repr=False)  # (args, kwargs) of its constructor call
    # which attributes it has, where that is not known: those a path not followed may have set, and whether code not
    # followed held the instance (and so may have set any); `hasattr` decides only outside both
    maybe_set: set = field(default_factory=set, repr=False)
    handed_out: bool = False


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
class Stream:
    """An iterable the evaluator does not unroll (a data loader's batches, a dataset's samples): its length is not
    followed, only the kinds of item it yields, each once (a loader's full batch, then its smaller last one)."""

    kinds: tuple

    def signature(self) -> tuple:
        """What the kinds are, as far as a loop over them can tell: their tensors' shapes, the rest by identity."""
        def of(item: Any) -> Any:
            if isinstance(item, (tuple, list)):
                return tuple(of(part) for part in item)
            shape = getattr(item, "shape", None)
            return ("tensor", tuple(map(str, shape))) if isinstance(shape, tuple) else id(item)

        return of(self.kinds)


@dataclass(eq=False)
class Super:
    cls: ClassV
    receiver: Any


MAX_ITEMS = 100_000  # of a list, tuple or string the evaluator makes: past it, the value is not known
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
    from torchshape_lint.shapes.layer_spec import Layer

    if isinstance(value, (Layer, Container)):
        return True
    return isinstance(value, Instance) and value.cls.is_module()


__all__ = ["UNKNOWN", "Unknown", "ListV", "DictV", "AttrDict", "Namespace", "CommandLineDefault", "LastBatch",
           "Sourced", "defaults_in", "carry", "Stream", "External", "external_attribute", "Function", "BoundMethod", "ClassV", "Instance",
           "Container", "Super", "ProjectModule", "readable", "is_module_value", "is_plain", "is_hashable"]

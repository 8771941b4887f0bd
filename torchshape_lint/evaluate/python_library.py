"""What the evaluator knows of Python itself: builtins, the methods of lists, dicts and strings, and a few names
of the standard library (math, functools.partial, collections.OrderedDict, typing.cast)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from torchshape_lint.evaluate.values import (
    ClassV, Container, DictV, External, Instance, ListV, Super, is_hashable, readable,
)
from torchshape_lint.shapes import dims, layers
from torchshape_lint.shapes.tensor import Tensor
from torchshape_lint.unknown import UNKNOWN


@dataclass(frozen=True)
class Builtin:
    name: str


@dataclass(eq=False)
class Method:
    receiver: Any
    name: str


@dataclass(eq=False)
class Partial:
    func: Any
    args: tuple
    kwargs: dict


BUILTIN_NAMES = frozenset(
    "len range int float bool str list tuple dict set min max sum abs round enumerate zip reversed sorted "
    "isinstance issubclass hasattr getattr setattr print super any all divmod pow object repr".split())


def builtin(name: str) -> Any:
    return Builtin(name) if name in BUILTIN_NAMES else UNKNOWN


def method(receiver: Any, name: str) -> Any:
    return Method(receiver, name)


def int_like(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


# ---- builtins ---------------------------------------------------------------------------------------


def _len(interp, args, kwargs, where):
    value = readable(args[0]) if len(args) == 1 else UNKNOWN
    if isinstance(value, (ListV, tuple, str, dict, set)):
        return len(value)
    if isinstance(value, Container) and not value.opaque:
        return len(value.children)
    return UNKNOWN


def _range(interp, args, kwargs, where):
    if kwargs or not args or not all(int_like(a) for a in args) or (len(args) == 3 and args[2] == 0):
        return UNKNOWN
    result = range(*args)
    if (result.stop - result.start) // result.step > 100_000:  # not len(): a range past sys.maxsize has none
        return UNKNOWN
    return tuple(result)


def _convert(kind):
    def convert(interp, args, kwargs, where):
        if kwargs or len(args) > 1:
            return UNKNOWN
        if not args:
            return kind()
        value = readable(args[0])
        if isinstance(value, dims.Sym) and kind is int:
            return value
        if kind in (int, float, bool, str) and isinstance(value, (int, float, bool, str)):
            try:
                return kind(value)
            except (TypeError, ValueError, OverflowError):
                return UNKNOWN
        items = interp.iterate(value)
        if items is UNKNOWN:
            return UNKNOWN
        if kind is list:
            return ListV(items)
        if kind is tuple:
            return tuple(items)
        return UNKNOWN

    return convert


def _dict(interp, args, kwargs, where):
    result = DictV()
    if args:
        source = readable(args[0])
        if isinstance(source, dict):
            result.update(source)
        else:
            pairs = interp.iterate(source)
            if pairs is UNKNOWN:
                return UNKNOWN
            for pair in pairs:
                pair = interp.iterate(pair)
                if pair is UNKNOWN or len(pair) != 2 or not is_hashable(pair[0]):
                    return UNKNOWN
                result[pair[0]] = pair[1]
    result.update(kwargs)
    return result


def _numeric(fn):
    def apply(interp, args, kwargs, where):
        if kwargs:
            return UNKNOWN
        values = args
        if len(args) == 1:
            values = interp.iterate(args[0])
            if values is UNKNOWN:
                return UNKNOWN
        if not values or not all(isinstance(v, (int, float)) for v in values):
            return UNKNOWN
        return fn(values)

    return apply


def _abs(interp, args, kwargs, where):
    return abs(args[0]) if len(args) == 1 and isinstance(args[0], (int, float)) else UNKNOWN


def _round(interp, args, kwargs, where):
    if 1 <= len(args) <= 2 and isinstance(args[0], (int, float)) and all(int_like(a) for a in args[1:]):
        return round(*args)
    return UNKNOWN


def _enumerate(interp, args, kwargs, where):
    items = interp.iterate(args[0]) if args else UNKNOWN
    start = args[1] if len(args) > 1 else kwargs.get("start", 0)
    if items is UNKNOWN or not int_like(start):
        return UNKNOWN
    return tuple((start + i, v) for i, v in enumerate(items))


def _zip(interp, args, kwargs, where):
    lists = [interp.iterate(a) for a in args]
    if any(items is UNKNOWN for items in lists) or kwargs:
        return UNKNOWN
    return tuple(zip(*lists))


def _reversed(interp, args, kwargs, where):
    items = interp.iterate(args[0]) if len(args) == 1 else UNKNOWN
    return UNKNOWN if items is UNKNOWN else tuple(reversed(items))


def _sorted(interp, args, kwargs, where):
    items = interp.iterate(args[0]) if len(args) == 1 and not kwargs else UNKNOWN
    if items is UNKNOWN or not all(isinstance(v, (int, float, str)) for v in items):
        return UNKNOWN
    try:
        return ListV(sorted(items))
    except TypeError:
        return UNKNOWN


def _isinstance(interp, args, kwargs, where):
    if len(args) != 2:
        return UNKNOWN
    value, kinds = readable(args[0]), args[1]
    kinds = kinds if isinstance(kinds, tuple) else (kinds,)
    answers = [instance_of(value, kind) for kind in kinds]
    if any(a is True for a in answers):
        return True
    return False if all(a is False for a in answers) else UNKNOWN


PYTHON_TYPES = {"int": int, "float": float, "bool": bool, "str": str, "list": ListV, "tuple": tuple, "dict": dict}


def instance_of(value: Any, kind: Any) -> Any:
    if value is UNKNOWN:
        return UNKNOWN
    if isinstance(kind, Builtin) and kind.name in PYTHON_TYPES:
        if isinstance(value, (int, float, bool, str, ListV, tuple, dict, type(None))):
            return isinstance(value, PYTHON_TYPES[kind.name])
        return False if isinstance(value, (layers.Layer, Container, Instance, Tensor)) else UNKNOWN
    if isinstance(kind, ClassV):
        if isinstance(value, Instance):
            return kind in value.cls.mro() or (UNKNOWN if value.cls.external_bases() else False)
        return False if isinstance(value, (int, float, bool, str, ListV, tuple, dict, type(None))) else UNKNOWN
    if isinstance(kind, External) and kind.name.startswith("torch.nn.") and isinstance(value, layers.Layer):
        leaf = kind.name.split(".")[-1]
        return value.spec.name == leaf or (False if layers.spec_for(leaf) else UNKNOWN)
    return UNKNOWN


def _hasattr(interp, args, kwargs, where):
    if len(args) != 2 or not isinstance(args[1], str):
        return UNKNOWN
    obj = readable(args[0])
    if isinstance(obj, Instance) and args[1] in obj.attrs:
        return True
    return UNKNOWN


def _getattr(interp, args, kwargs, where):
    if len(args) not in (2, 3) or not isinstance(args[1], str):
        return UNKNOWN
    value = interp.get_attribute(args[0], args[1])
    if value is UNKNOWN and len(args) == 3 and isinstance(readable(args[0]), Instance) and not args[0].opaque \
            and args[1] not in args[0].attrs and interp.class_attribute(args[0].cls, args[1]) is UNKNOWN \
            and not args[0].cls.external_bases():
        return args[2]
    return value


def _setattr(interp, args, kwargs, where):
    if len(args) == 3 and isinstance(args[1], str):
        interp.set_attribute(args[0], args[1], args[2])
    elif len(args) == 3 and isinstance(args[0], Instance):
        args[0].opaque = True
    return None


def _super(interp, args, kwargs, where):
    frame_function = interp.current_function()
    if len(args) == 2 and isinstance(args[0], ClassV):
        return Super(args[0], args[1])
    if not args and frame_function is not None and frame_function.owner is not None and \
            interp.current_self() is not None:
        return Super(frame_function.owner, interp.current_self())
    return UNKNOWN


def _print(interp, args, kwargs, where):
    return None


BUILTINS = {
    "len": _len, "range": _range, "int": _convert(int), "float": _convert(float), "bool": _convert(bool),
    "str": _convert(str), "list": _convert(list), "tuple": _convert(tuple), "dict": _dict,
    "min": _numeric(min), "max": _numeric(max), "sum": _numeric(sum), "abs": _abs, "round": _round,
    "enumerate": _enumerate, "zip": _zip, "reversed": _reversed, "sorted": _sorted, "isinstance": _isinstance,
    "hasattr": _hasattr, "getattr": _getattr, "setattr": _setattr, "super": _super, "print": _print,
}


STRING_METHODS = frozenset("format join lower upper replace strip split startswith endswith".split())


def string_method(interp, text: str, name, args, kwargs):
    if name in STRING_METHODS and all(isinstance(a, (str, int, float)) for a in args) and not kwargs:
        try:
            return getattr(text, name)(*args)
        except (TypeError, ValueError, IndexError, KeyError):
            return UNKNOWN
    return interp.call_unknown(args, kwargs)


def list_method(interp, items: ListV, name, args, kwargs):
    if items.opaque:
        return interp.call_unknown(args, kwargs)
    if name == "append" and len(args) == 1:
        interp.grow(items, [args[0]])
        return None
    if name == "extend" and len(args) == 1:
        more = interp.iterate(args[0])
        if more is UNKNOWN:
            items.opaque = True
        else:
            interp.grow(items, more)
        return None
    if name == "insert" and len(args) == 2 and int_like(args[0]):
        items.insert(args[0], args[1])
        return None
    if name == "pop" and len(args) <= 1 and (not args or int_like(args[0])) and items:
        return items.pop(*args)
    if name == "copy" and not args:
        return ListV(items)
    items.opaque = True
    return UNKNOWN


def dict_method(interp, mapping: DictV, name, args, kwargs):
    if mapping.opaque:
        return interp.call_unknown(args, kwargs)
    if name == "get" and 1 <= len(args) <= 2 and is_hashable(args[0]):
        return mapping.get(args[0], args[1] if len(args) == 2 else None)
    if name == "items":
        return tuple(mapping.items())
    if name == "keys":
        return tuple(mapping.keys())
    if name == "values":
        return tuple(mapping.values())
    if name == "copy":
        return DictV(mapping)
    if name == "pop" and 1 <= len(args) <= 2 and is_hashable(args[0]):
        if args[0] in mapping:
            return mapping.pop(args[0])
        return args[1] if len(args) == 2 else UNKNOWN
    if name == "setdefault" and 1 <= len(args) <= 2 and is_hashable(args[0]):
        return mapping.setdefault(args[0], args[1] if len(args) == 2 else None)
    if name == "update" and len(args) <= 1:
        source = readable(args[0]) if args else {}
        if not isinstance(source, dict):
            mapping.opaque = True
            return None
        mapping.update(source)
        mapping.update(kwargs)
        return None
    mapping.opaque = True
    return UNKNOWN


def _math(fn, defined=lambda number: True):
    def apply(interp, args, kwargs, where):
        known = len(args) == 1 and isinstance(args[0], (int, float)) and defined(args[0])
        return fn(args[0]) if known else UNKNOWN

    return apply


def _cast(interp, args, kwargs, where):
    return args[1] if len(args) == 2 else UNKNOWN


def _partial(interp, args, kwargs, where):
    return Partial(args[0], tuple(args[1:]), kwargs) if args else UNKNOWN


PYTHON_EXTERNALS = {
    "typing.cast": _cast,
    "collections.OrderedDict": _dict,
    "functools.partial": _partial,
    "math.floor": _math(math.floor),
    "math.ceil": _math(math.ceil),
    "math.sqrt": _math(math.sqrt, lambda number: number >= 0),
    "math.prod": _numeric(math.prod),
}

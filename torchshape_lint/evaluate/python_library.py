"""What the evaluator knows of Python itself: builtins, the methods of lists, dicts and strings, and a few names
of the standard library (math, functools.partial, collections.OrderedDict, typing.cast), and the places scripts
take their sizes from: namespaces and attribute dicts (SimpleNamespace, EasyDict); argparse's command line is
argparse_library's."""

from __future__ import annotations

import collections.abc
import math
import numbers
from dataclasses import dataclass
from typing import Any

from torchshape_lint.evaluate.values import (
    MAX_ITEMS, AttrDict, ClassV, Container, DictV, External, Instance, ListV, Namespace, Sourced, Stream, Super, carry,
    is_hashable, readable,
)
from torchshape_lint.shapes import dims, layers
from torchshape_lint.shapes.layer_spec import Layer
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
    "isinstance issubclass hasattr getattr setattr print super any all divmod pow object repr vars iter next".split())


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
    if (result.stop - result.start) // result.step > MAX_ITEMS:  # not len(): a range past sys.maxsize has none
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
            # int() of a constructor's parameter says it may be a float (`int(64 * ratio)`): not a size then
            return UNKNOWN if dims.parameters_in(value) else value
        if kind in (int, float, bool, str) and isinstance(value, (int, float, bool, str)):
            try:
                return carry(kind(value), value)
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
        return carry(fn(values), values)

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
    if args and isinstance(readable(args[0]), Stream):  # enumerate(loader): its kinds of batch, at indexes not followed
        return Stream(tuple((UNKNOWN, kind) for kind in readable(args[0]).kinds))
    if items is UNKNOWN or not int_like(start):
        return UNKNOWN
    return tuple((start + i, v) for i, v in enumerate(items))


def _zip(interp, args, kwargs, where):
    lists = [interp.iterate(a) for a in args]
    if any(items is UNKNOWN for items in lists) or kwargs:
        return UNKNOWN
    return tuple(zip(*lists))


def _repeat(interp, args, kwargs, where):
    """itertools.repeat(x, n), as zip gives its pairs: the same object n times (`to_2tuple`'s `tuple(repeat(x, 2))`);
    without n, endless: not known."""
    if len(args) == 2 and not kwargs:
        times = args[1]
    elif len(args) == 1 and set(kwargs) == {"times"}:
        times = kwargs["times"]
    else:
        return UNKNOWN
    if not int_like(times) or times > MAX_ITEMS:
        return UNKNOWN
    return (args[0],) * max(times, 0)


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
# The standard library's abstract classes (`to_2tuple`'s `isinstance(x, collections.abc.Iterable)`, `numbers.Integral`):
# of a plain value, whose Python type is its own, Python's answer; of anything else (a tensor, a user's class, which
# may define `__iter__`) not known.
STANDARD_ABCS = {f"{module.__name__}.{name}": getattr(module, name) for module in (collections.abc, numbers)
                 for name in module.__all__}
PLAIN_TYPES = frozenset({int, float, bool, str, type(None), tuple, ListV, DictV, set, Sourced})


def instance_of(value: Any, kind: Any) -> Any:
    if value is UNKNOWN:
        return UNKNOWN
    if isinstance(kind, Builtin) and kind.name in PYTHON_TYPES:
        if isinstance(value, (int, float, bool, str, ListV, tuple, dict, type(None))):
            return isinstance(value, PYTHON_TYPES[kind.name])
        return False if isinstance(value, (Layer, Container, Instance, Tensor)) else UNKNOWN
    if isinstance(kind, ClassV):
        if isinstance(value, Instance):
            return kind in value.cls.mro or (UNKNOWN if value.cls.external_bases else False)
        return False if isinstance(value, (int, float, bool, str, ListV, tuple, dict, type(None))) else UNKNOWN
    if isinstance(kind, External) and kind.name in STANDARD_ABCS:  # `isinstance(x, collections.abc.Iterable)`
        return isinstance(value, STANDARD_ABCS[kind.name]) if type(value) in PLAIN_TYPES else UNKNOWN
    if isinstance(kind, External) and kind.name.startswith("torch.nn.") and isinstance(value, Layer):
        leaf = kind.name.split(".")[-1]
        return value.spec.name == leaf or (False if layers.spec_for(leaf) else UNKNOWN)
    return UNKNOWN


def _hasattr(interp, args, kwargs, where):
    if len(args) != 2 or not isinstance(args[1], str):
        return UNKNOWN
    return interp.has_attribute(args[0], args[1])


def _getattr(interp, args, kwargs, where):
    if len(args) not in (2, 3) or not isinstance(args[1], str):
        return UNKNOWN
    if len(args) == 3 and isinstance(readable(args[0]), Instance):
        present = interp.has_attribute(args[0], args[1])
        if present is not True:  # the default where the attribute is surely absent; unknown where it may be
            return args[2] if present is False else UNKNOWN
    return interp.get_attribute(args[0], args[1])


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


def _vars(interp, args, kwargs, where):
    """vars(opt): the namespace's own dict (changes to it are changes to the namespace)."""
    value = readable(args[0]) if len(args) == 1 and not kwargs else UNKNOWN
    return value if isinstance(value, Namespace) else UNKNOWN


def _iter(interp, args, kwargs, where):
    value = readable(args[0]) if len(args) == 1 and not kwargs else UNKNOWN
    return value if isinstance(value, Stream) else UNKNOWN


def _next(interp, args, kwargs, where):
    """next(iter(loader)): its first batch."""
    value = readable(args[0]) if 1 <= len(args) <= 2 and not kwargs else UNKNOWN
    return value.kinds[0] if isinstance(value, Stream) and value.kinds else UNKNOWN


BUILTINS = {
    "len": _len, "range": _range, "int": _convert(int), "float": _convert(float), "bool": _convert(bool),
    "str": _convert(str), "list": _convert(list), "tuple": _convert(tuple), "dict": _dict,
    "min": _numeric(min), "max": _numeric(max), "sum": _numeric(sum), "abs": _abs, "round": _round,
    "enumerate": _enumerate, "zip": _zip, "reversed": _reversed, "sorted": _sorted, "isinstance": _isinstance,
    "hasattr": _hasattr, "getattr": _getattr, "setattr": _setattr, "super": _super, "print": _print,
    "vars": _vars, "iter": _iter, "next": _next,
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


DICT_METHODS = frozenset("get items keys values copy pop setdefault update".split())  # those dict_method follows


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


# ---- namespaces and attribute dicts --------------------------------------------------------------------


def _namespace(interp, args, kwargs, where):
    """argparse.Namespace(a=1), types.SimpleNamespace(a=1) or SimpleNamespace(mapping) (Python 3.13)."""
    source = readable(args[0]) if len(args) == 1 else {} if not args else UNKNOWN
    if not isinstance(source, dict):
        return UNKNOWN
    return Namespace({**source, **kwargs})


def _easydict(interp, args, kwargs, where):
    """EasyDict(d, **kw), yacs' CfgNode(d), OmegaConf.create(d): a dict read also by attribute; the dicts inside it
    (in lists and tuples too) are converted alike, as their constructors do."""
    source = readable(args[0]) if len(args) == 1 else {} if not args else UNKNOWN
    if not isinstance(source, dict):
        return UNKNOWN
    return _attribute_dicts({**source, **kwargs})


def _attribute_dicts(value: Any) -> Any:
    value = readable(value)
    if isinstance(value, dict):
        return AttrDict({k: _attribute_dicts(v) for k, v in value.items()})
    if isinstance(value, (ListV, tuple)):
        items = [_attribute_dicts(v) for v in value]
        return ListV(items) if isinstance(value, ListV) else tuple(items)
    return value


MATH_CONSTANTS = {"math.pi": math.pi, "math.e": math.e, "math.tau": math.tau, "math.inf": math.inf}

PYTHON_EXTERNALS = {
    "typing.cast": _cast,
    "collections.OrderedDict": _dict,
    "functools.partial": _partial,
    "itertools.repeat": _repeat,
    "math.floor": _math(math.floor),
    "math.ceil": _math(math.ceil),
    "math.sqrt": _math(math.sqrt, lambda number: number >= 0),
    "math.prod": _numeric(math.prod),
    "numpy.prod": _numeric(math.prod),  # GAN scripts' `int(np.prod(img_shape))`
    "argparse.Namespace": _namespace,
    "types.SimpleNamespace": _namespace,
    "easydict.EasyDict": _easydict,
    "yacs.config.CfgNode": _easydict,  # a dict read by attribute too, nested dicts converted, as EasyDict
    "omegaconf.OmegaConf.create": _easydict,
}

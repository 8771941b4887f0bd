"""What the evaluator knows of Python itself: builtins, the methods of lists, dicts and strings, and a few names
of the standard library (math, functools.partial, collections.OrderedDict, typing.cast), and the places scripts
take their sizes from: argparse's command line, namespaces and attribute dicts (SimpleNamespace, EasyDict)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from torchshape_lint.evaluate.values import (
    AttrDict, ClassV, CommandLineDefault, Container, DictV, External, Instance, ListV, Namespace, Sourced, Stream,
    Super, carry, is_hashable, is_plain, readable,
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
        return False if isinstance(value, (Layer, Container, Instance, Tensor)) else UNKNOWN
    if isinstance(kind, ClassV):
        if isinstance(value, Instance):
            return kind in value.cls.mro or (UNKNOWN if value.cls.external_bases else False)
        return False if isinstance(value, (int, float, bool, str, ListV, tuple, dict, type(None))) else UNKNOWN
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


# ---- argparse: a script's command line, as it is when the script runs without options ----------------------


@dataclass
class Option:
    """One `add_argument`: where its value goes, how it is written, what it is without the option."""

    dest: str
    flags: tuple  # ("-n", "--n_epochs"); () for a positional argument
    default: Any
    kind: Any  # the `type=` converter: Builtin("int"), Builtin("float"), Builtin("str"), None (str) or UNKNOWN
    action: str = "store"
    nargs: Any = None
    const: Any = None
    choices: Any = None
    required: bool = False

    @property
    def shown(self) -> str:
        """How the user writes it: the longest flag (`--img_size`), or a positional's name."""
        return max(self.flags, key=len) if self.flags else self.dest


@dataclass(eq=False)
class ArgumentParser:
    """`argparse.ArgumentParser()`, its argument groups included (they add to the parser itself)."""

    options: list = field(default_factory=list)
    defaults: dict = field(default_factory=dict)  # set_defaults(...)
    opaque: bool = False  # an option the evaluator could not read: what parsing gives is unknown


ACTIONS = {"store", "store_true", "store_false", "store_const", "count", "append", "help", "version"}
CONVERTERS = {"int": int, "float": float, "str": str}


def _argument_parser(interp, args, kwargs, where):
    return ArgumentParser()


def parser_method(interp, parser: ArgumentParser, name, args, kwargs):
    if name == "add_argument":
        option = _option(args, kwargs)
        if option is None:
            parser.opaque = True
        elif option.action not in ("help", "version"):
            parser.options.append(option)
        return UNKNOWN  # the Action object: nothing a size is read from
    if name in ("add_argument_group", "add_mutually_exclusive_group"):
        return parser
    if name == "set_defaults" and not args:
        parser.defaults.update(kwargs)
        return None
    if name in ("parse_args", "parse_known_args"):
        tokens = args[0] if args else kwargs.get("args")
        if len(args) > 1 or set(kwargs) - {"args"}:
            return UNKNOWN
        parsed = _parse(parser, tokens, known_only=name == "parse_known_args")
        if parsed is UNKNOWN:
            return UNKNOWN
        namespace, extra = parsed
        return namespace if name == "parse_args" else (namespace, extra)
    parser.opaque = True  # add_subparsers, parse_intermixed_args, ...: what parsing gives is no longer known
    return interp.call_unknown(args, kwargs)


def _option(args: list, kwargs: dict) -> Option | None:
    if not args or not all(isinstance(a, str) for a in args):
        return None
    flags = tuple(a for a in args if a.startswith("-"))
    if flags and len(flags) != len(args) or not flags and len(args) != 1:
        return None
    action = kwargs.get("action", "store")
    if action not in ACTIONS:
        return None
    long_flags = [f for f in flags if f.startswith("--")]
    dest = kwargs.get("dest") or (long_flags[0] if long_flags else flags[0] if flags else args[0]).lstrip("-")
    if not isinstance(dest, str):
        return None
    dest = dest.replace("-", "_") if flags and "dest" not in kwargs else dest
    kind = kwargs.get("type")
    if kind is not None and not (isinstance(kind, Builtin) and kind.name in CONVERTERS):
        kind = UNKNOWN
    implied = {"store_true": False, "store_false": True}.get(action)
    default = kwargs.get("default", implied)
    if isinstance(default, str) and kind is not None and action == "store":  # argparse converts a string default
        default = _converted(kind, default)
    required = kwargs.get("required", not flags and kwargs.get("nargs") not in ("?", "*"))
    return Option(dest, flags, default, kind, action, kwargs.get("nargs"), kwargs.get("const"), kwargs.get("choices"),
                  required is True)


def _converted(kind: Any, text: str) -> Any:
    if kind is UNKNOWN:
        return UNKNOWN
    try:
        return CONVERTERS[kind.name](text) if kind is not None else text
    except ValueError:
        return UNKNOWN


def _parse(parser: ArgumentParser, tokens: Any, known_only: bool) -> Any:
    """(namespace, extra tokens) as argparse parses `tokens`; None parses the script's own command line, taken to
    be empty: every value is then its default, and says so (a finding built on it says what it assumed)."""
    if parser.opaque:
        return UNKNOWN
    given = None if tokens is None else readable(tokens)
    if given is not None and not (isinstance(given, (ListV, tuple)) and all(isinstance(t, str) for t in given)):
        return UNKNOWN
    values: dict = {}
    for option in parser.options:
        default = parser.defaults.get(option.dest, option.default)
        if given is None and int_like(default) and option.action == "store":
            default = Sourced(default, (CommandLineDefault(option.shown, default),))
        values.setdefault(option.dest, default)
    extra = ListV()
    if given is not None:
        if _read_tokens(parser, list(given), values, extra) is UNKNOWN or extra and not known_only:
            return UNKNOWN  # argparse exits with a usage error
    elif any(option.required for option in parser.options):
        return UNKNOWN  # run without options, the script stops with a usage error
    namespace = Namespace(values)
    namespace.update({k: v for k, v in parser.defaults.items() if k not in namespace})
    return namespace, extra


def _read_tokens(parser: ArgumentParser, tokens: list, values: dict, extra: list) -> Any:
    positionals = [o for o in parser.options if not o.flags]
    seen: set = set()
    while tokens:
        token = tokens.pop(0)
        if not token.startswith("-") or token == "-":
            if not positionals:
                extra.append(token)
                continue
            option = positionals.pop(0)
            tokens.insert(0, token)
        else:
            flag, _, attached = token.partition("=") if token.startswith("--") else (token, "", "")
            option = _option_for(parser, flag)
            if option is None:
                extra.append(token)
                continue
            if attached or "=" in token:
                tokens.insert(0, attached)
        value = _take(option, tokens, values.get(option.dest))
        if value is UNKNOWN:
            return UNKNOWN
        values[option.dest] = value
        seen.add(option.dest)
    if any(o.required and o.dest not in seen for o in parser.options):
        return UNKNOWN
    return None


def _option_for(parser: ArgumentParser, flag: str) -> Option | None:
    """The option a flag names: exactly, or (argparse's allow_abbrev) a unique prefix of a long flag."""
    exact = [o for o in parser.options if flag in o.flags]
    if exact:
        return exact[0]
    prefixed = [o for o in parser.options if flag.startswith("--") and any(f.startswith(flag) for f in o.flags)]
    return prefixed[0] if len(prefixed) == 1 else None


def _take(option: Option, tokens: list, current: Any) -> Any:
    """The option's value after it consumed its tokens from the front of `tokens`."""
    if option.action in ("store_true", "store_false"):
        return option.action == "store_true"
    if option.action == "store_const":
        return option.const
    if option.action == "count":
        return (current if int_like(current) else 0) + 1
    nargs = option.nargs
    if nargs is None or nargs == "?":
        if not tokens or tokens[0].startswith("-") and tokens[0] != "-":
            return option.const if nargs == "?" else UNKNOWN
        value = _checked(option, tokens.pop(0))
        if option.action == "append":
            return UNKNOWN if value is UNKNOWN else ListV(list(current) if isinstance(current, ListV) else []) + [value]
        return value
    if option.action != "store" or not (int_like(nargs) or nargs in ("+", "*")):
        return UNKNOWN
    count = nargs if int_like(nargs) else next((i for i, t in enumerate(tokens) if t.startswith("-")), len(tokens))
    if len(tokens) < count or nargs == "+" and count == 0:
        return UNKNOWN
    items = [_checked(option, tokens.pop(0)) for _ in range(count)]
    return UNKNOWN if UNKNOWN in items else ListV(items)


def _checked(option: Option, text: str) -> Any:
    value = _converted(option.kind, text)
    choices = readable(option.choices)
    if value is not UNKNOWN and choices is not None and (
            not isinstance(choices, (ListV, tuple)) or not all(is_plain(c) for c in choices) or value not in choices):
        return UNKNOWN
    return value


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
    "math.floor": _math(math.floor),
    "math.ceil": _math(math.ceil),
    "math.sqrt": _math(math.sqrt, lambda number: number >= 0),
    "math.prod": _numeric(math.prod),
    "numpy.prod": _numeric(math.prod),  # GAN scripts' `int(np.prod(img_shape))`
    "argparse.ArgumentParser": _argument_parser,
    "argparse.Namespace": _namespace,
    "types.SimpleNamespace": _namespace,
    "easydict.EasyDict": _easydict,
    "yacs.config.CfgNode": _easydict,  # a dict read by attribute too, nested dicts converted, as EasyDict
    "omegaconf.OmegaConf.create": _easydict,
}

"""What the evaluator knows of argparse: a script's command line, as it is when the script runs without options (a
size read from an option's default is a Sourced int that names the option)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from torchshape_lint.evaluate.python_library import Builtin, int_like
from torchshape_lint.evaluate.values import CommandLineDefault, ListV, Namespace, Sourced, is_plain, readable
from torchshape_lint.unknown import UNKNOWN


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


ARGPARSE_EXTERNALS = {"argparse.ArgumentParser": _argument_parser}

"""What a layer is: its registration (`LayerSpec`: signature, shape function, spellings, parameter count), a layer
built by the code under analysis (`Layer`: the spec, its bound arguments, where it was built), binding constructor
arguments as Python does, the checks of arguments every layer shares, and the shape pieces the layers' shape
functions share (an N-d layer's input and output, the channels check)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cached_property
from types import FunctionType
from typing import Any, Callable

from torchshape_lint.shapes import dims
from torchshape_lint.shapes.tensor import Tensor, materialize, settle
from torchshape_lint.shapes.violations import (
    ChannelMismatch, Collector, InputRank, LayerArguments, OutputTooSmall, Suggestion,
)
from torchshape_lint.unknown import UNKNOWN, Unknown


REQUIRED = object()


def no_parameters(args: dict) -> int:
    """Activations, pools, reshapes and padding hold no parameters."""
    return 0


@dataclass(frozen=True, eq=False)  # one registration per op: compared and hashed as one object (per_arguments keys)
class LayerSpec:
    name: str
    params: tuple  # ((name, default), ...) in PyTorch's order; None: any arguments (shape-preserving layers)
    shape: Callable[["Layer", Tensor, Collector], Any]
    # what PyTorch rejects in the arguments whatever the input, by the layer's own rules: a function of the spec and
    # the arguments alone (make_layer reuses what it gives for the same arguments)
    validate: Callable[["Layer"], list] | None = None
    declares: str | None = None  # the argument that states the size of the input it expects
    spatial: int = 0  # N for layers that read (N, C, *N sizes) and so fix a pending input's rank themselves
    integers: tuple = ()  # the arguments PyTorch needs as ints (or tuples of ints) to build the layer's tensors
    # rank of the input → the index of the dimension `declares` states (channels, features); None: not one dim
    declared_dim: Callable[[int], int] | None = None
    # bound arguments → how many numbers its parameters hold (`sum(p.numel() for p in layer.parameters())`), UNKNOWN
    # where an argument is unknown; buffers such as BatchNorm's running statistics are not parameters
    parameters: Callable[[dict], Any] = no_parameters
    # its torch.nn.functional spellings, each (name, the parameters after the input in its positional order): the
    # call builds this layer and applies it at once (tests/test_layer_registry.py checks each against torch's)
    functional: tuple = ()
    spatial_step: bool = False  # changes the spatial sizes: a derivation shows it in its chain (`32x32 → 16x16`)
    aliases: tuple = ()  # other names PyTorch's own calls of this op show under, that confirm mode matches it by
    # its spellings as a function (F.relu, torch.relu) or tensor method (x.relu_()) that keep the input's shape
    # whatever their arguments: the evaluator passes the tensor through, with no step of its own
    same_shape_spellings: tuple = ()

    # what `bind` reads of `params` for every layer built, worked out once
    @cached_property
    def parameter_names(self) -> tuple:
        return tuple(name for name, _ in self.params)

    @cached_property
    def parameter_set(self) -> frozenset:
        return frozenset(self.parameter_names)


# a layer's attributes whose change after it is built leaves the shapes it makes as they were (`m.inplace = True`)
SHAPE_NEUTRAL_ATTRIBUTES = frozenset({"inplace", "momentum", "eps", "p", "negative_slope"})


@dataclass(eq=False)
class Layer:
    """A layer built by the code under analysis: its spec, bound arguments and constructor call."""

    spec: LayerSpec
    args: dict
    where: Any = field(default=None, repr=False)
    names: dict = field(default_factory=dict, repr=False)  # the plain-int names visible at the constructor call
    written: str | None = None  # a layer no module was built for: `F.conv2d(in_channels=3 from weight (16, 3, 3, 3))`
    # the mode it runs in: a module as built here is in eval mode (as confirm runs it); a functional dropout runs as
    # its `training` argument says (True by default)
    training: Any = False
    changed: bool = False  # code set one of its attributes after it was built (`conv.stride = 1`): what it does is
    # not known, as torch's forward reads its attributes

    def label(self) -> str:
        if self.written is not None:
            return self.written
        declares = self.spec.declares
        shown = f"{declares}={self.args[declares]!r}" if declares in self.args else ""
        return f"{self.spec.name}({shown})"

    def __call__(self, x: Tensor, check: Collector, call_site: Any = None, **forward_args: Any) -> Any:
        """`call_site`: the call that applies the layer (`self.conv1(x)`), where it is not the one that built it;
        `forward_args`: what its forward takes besides the input (a MaxUnpool's output_size)."""
        if not isinstance(x, Tensor) or self.changed:
            return UNKNOWN
        if not self.spec.spatial:
            x = settle(x)
        out = self.spec.shape(self, x, check, **forward_args)
        check.applied(self.where, self.spec.name, as_read(x, out, self.where), out, layer=self, call_site=call_site)
        return out

    def parameters(self) -> Any:
        """How many numbers the layer's parameters hold, as torch counts them; UNKNOWN where an argument is."""
        return self.spec.parameters(self.args)


def as_read(x: Tensor, out: Any, where: Any) -> Tensor:
    """The input as the layer read it: a pending model input of an exact shape (pragma, usage) has the shape the layer
    gave it, in its own step. Other pending inputs take their channels from the layer: assumed, not read."""
    step = out.last_step if x.pending and x.exact and isinstance(out, Tensor) else None
    if step is not None and step.where == where and step.before is not None:
        return replace(x, shape=step.before, pending=False, hint=None)
    return x


def validate(layer: Layer, check: Collector) -> None:
    """Report what PyTorch rejects in a layer's arguments whatever the input."""
    report_problems(layer, argument_problems(layer), check)


def argument_problems(layer: Layer) -> tuple:
    """What PyTorch rejects in a layer's arguments whatever the input, from its spec and arguments alone: (the first
    argument it needs as an int that is a float, as (name, value), where the layer holds tensors sized by its
    arguments, else None; the problems of the layer's own rules)."""
    floats = [(name, layer.args[name]) for name in layer.spec.integers if is_float(layer.args[name])]
    stated = tuple(layer.spec.validate(layer)) if layer.spec.validate is not None else ()
    return (floats[0] if floats and has_channel_state(layer) else None), stated


def report_problems(layer: Layer, problems: tuple, check: Collector) -> None:
    """Report a layer's argument_problems (those found for another layer of the same arguments too) at its call."""
    float_argument, stated = problems
    if float_argument is not None and not check.build_failed:
        # PyTorch stops at this layer: those built after it (often from the same computed size) are never reached
        check.build_failed = True
        name, value = float_argument
        check.report(LayerArguments(layer.where, layer.spec.name, None, None, value, problem=(
            f"{name}={value!r} is a float: building the layer raises TypeError, PyTorch needs an "
            "int here (write // rather than /, or int(...))")))
    for problem in stated:
        check.report(replace(problem, where=layer.where))


def is_float(value: Any) -> bool:
    return isinstance(value, float) or isinstance(value, (tuple, list)) and any(isinstance(v, float) for v in value)


STATE_FLAGS = ("affine", "track_running_stats", "elementwise_affine")


def has_channel_state(layer: Layer) -> bool:
    """Whether the layer holds tensors sized by its arguments: always, except a norm layer without affine
    parameters and running statistics, which then takes any channel count."""
    flags = [layer.args[name] for name in STATE_FLAGS if name in layer.args]
    return not flags or any(flag is True for flag in flags)


def bind(spec: LayerSpec, args: tuple, kwargs: dict) -> dict | None:
    """Bind constructor arguments as Python does; None when they cannot bind (PyTorch would raise)."""
    if spec.params is None:
        return {}
    names = spec.parameter_names
    if len(args) > len(names) or not kwargs.keys() <= spec.parameter_set:
        return None
    bound = dict(zip(names, args))
    for key, value in kwargs.items():
        if key in bound:
            return None
        bound[key] = value
    for name, default in spec.params:
        if name not in bound:
            if default is REQUIRED:
                return None
            bound[name] = default
    return bound


def as_int(value: Any) -> Any:
    return value if isinstance(value, int) and not isinstance(value, bool) else UNKNOWN


def as_size(value: Any) -> Any:
    """A channel or feature count: an int, or a symbolic one (a constructor's `planes`, built on its own)."""
    return value if isinstance(value, dims.Sym) else as_int(value)


def ntuple(value: Any, n: int) -> tuple:
    """kernel_size=3 → (3, 3); (3, 5) stays; anything unknown → unknown entries."""
    if isinstance(value, (tuple, list)):
        if len(value) == n:
            return tuple(as_int(v) for v in value)
        return (UNKNOWN,) * n
    return (as_int(value),) * n


def per_arguments(make: Callable) -> Callable:
    """`make(*arguments)` worked out once per arguments where all are plain values (`plain_kinds`), told apart by their
    exact types (True is not 1, nor 3.0 3); worked out each time otherwise. The 20 000 `nn.Conv2d(in_channels,
    v, kernel_size=3, padding=1)` of a long cfg share their bound arguments and their formulas. What it gives must not
    be changed by its callers."""
    made: dict = {}

    def once(*arguments: Any) -> Any:
        try:
            key = arguments, plain_kinds(arguments)  # the values, and their exact types: True == 1, yet not here
        except NotPlain:
            return make(*arguments)
        found = made.get(key, made)  # the dict itself: no value made, hashing the key once
        if found is made:
            if len(made) >= MAX_ARGUMENT_SETS:  # an editor's server runs for days
                made.clear()
            found = made[key] = make(*arguments)
        return found

    return once


MAX_ARGUMENT_SETS = 4096


class NotPlain(Exception):
    """A value per_arguments does not key on: one code may change (a list, an instance), or that holds the user's
    code alive (a class of theirs)."""


def plain_kinds(values: tuple) -> tuple:
    """The exact type of each of `values`, a tuple's as the types of its parts; NotPlain where one is not plain."""
    kinds = []
    for value in values:
        kind = value.__class__
        if kind in PLAIN_PARTS:
            kinds.append(kind)
        elif kind is tuple:
            kinds.append(plain_kinds(value))
        else:
            raise NotPlain()
    return tuple(kinds)


# immutable, never opaque, and holding none of the code under analysis: numbers, strings, None, the unknown value,
# the project's own functions (PyTorch's formulas) and layer registrations
PLAIN_PARTS = frozenset({int, float, bool, str, type(None), Unknown, FunctionType, LayerSpec})


def known(*values: Any) -> bool:
    return UNKNOWN not in values  # Unknown's one instance, equal to no other value


def spatial_input(layer: Layer, x: Tensor, check: Collector, nd: int, channels: Any) -> Tensor | None:
    """The tensor an N-d layer reads, with its rank checked: (N, C, *spatial) or unbatched (C, *spatial)."""
    if x.pending:
        settled = materialize(x, nd, channels)
        if settled is None:
            check.report(InputRank(layer.where, layer.spec.name, x, f"{nd + 1}-D or {nd + 2}-D", len(x.hint),
                                   origin=x.origin))
            return None
        x = settled
    if x.shape is None:
        return None
    if len(x.shape) not in (nd + 1, nd + 2):
        check.report(InputRank(layer.where, layer.spec.name, x, f"{nd + 1}-D or {nd + 2}-D", len(x.shape)))
        return None
    return x


def spatial_output(layer: Layer, x: Tensor, check: Collector, nd: int, channels: Any,
                   size_fns: list, formula_text: list) -> Any:
    """Apply one size function per spatial dimension; report sizes that PyTorch rejects."""
    lead = x.shape[: len(x.shape) - nd - 1]
    sizes, shown = [], []
    for dim, fn, text in zip(x.shape[-nd:], size_fns, formula_text):
        out = dims.apply_formula(dim, fn, layer.spec.name) if fn is not None else UNKNOWN
        if isinstance(out, int):
            if out < 1:
                check.report(OutputTooSmall(layer.where, layer.spec.name, x, None, out, size=dim,
                                            formula=text.format(L=dim)))
                return UNKNOWN
            if isinstance(dim, int):
                shown.append((text, dim, out))
        sizes.append(out)
    return x.then(layer.spec.name, layer.where, lead + (channels,) + tuple(sizes), sized_formulas=tuple(shown))


def channel_check(layer: Layer, x: Tensor, check: Collector, declared: Any) -> None:
    """The declared channels against the dimension of `x` they state; the suggestion is the arriving count."""
    if known(declared):
        arriving = x.shape[layer.spec.declared_dim(len(x.shape))]
        check.size(ChannelMismatch, layer.where, layer.label(), x, declared, arriving,
                   suggestion=Suggestion((arriving,)) if isinstance(arriving, int) else None, names=layer.names)

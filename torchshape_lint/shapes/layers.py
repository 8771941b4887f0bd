"""The table of `torch.nn` layers: each one's signature (as its `__init__` in PyTorch) and shape function, its
`torch.nn.functional` spellings (`F.max_pool2d` with its positional order; for a layer that keeps the shape, its
function and tensor-method spellings: `F.relu`, `x.relu_()`), whether a derivation shows it as a spatial step, and
the other names confirm mode matches PyTorch's calls of it by.

Adding a layer touches one entry here (and its test). Shape functions take the bound arguments and the arriving
tensor, report what they prove wrong to the collector, and return the output tensor, or UNKNOWN when
it cannot be known. After a mismatch they go on as if the layer were fixed the way the finding says: a
norm layer passes its input's shape through, a Linear or Conv gives its declared output. So one mistake
gives one finding, and does not hide the next.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cached_property, partial
from typing import Any, Callable

from torchshape_lint.shapes import dims, formulas
from torchshape_lint.shapes.tensor import Tensor, as_written, materialize, settle, show_shape
from torchshape_lint.shapes.violations import (
    ChannelMismatch, Collector, InputRank, LayerArguments, LinearInFeatures, OutputTooSmall, RecurrentState,
    Suggestion, TooFewValues,
)
from torchshape_lint.unknown import UNKNOWN, Unknown

REQUIRED = object()
FACTORY = ("device", None), ("dtype", None)
NORM_BIAS = (("bias", True),)  # keyword-only after the factory arguments in BatchNorm, InstanceNorm, GroupNorm


def no_parameters(args: dict) -> int:
    """Activations, pools, reshapes and padding hold no parameters."""
    return 0


@dataclass(frozen=True)
class LayerSpec:
    name: str
    params: tuple  # ((name, default), ...) in PyTorch's order; None: any arguments (shape-preserving layers)
    shape: Callable[["Layer", Tensor, Collector], Any]
    validate: Callable[["Layer", Collector], None] | None = None
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
    if x.pending and x.exact and isinstance(out, Tensor) and out.trace and out.trace[-1].where == where \
            and out.trace[-1].before is not None:
        return replace(x, shape=out.trace[-1].before, pending=False, hint=None)
    return x


def validate(layer: Layer, check: Collector) -> None:
    """What PyTorch rejects in a layer's arguments whatever the input: a float where it needs an int, then the
    layer's own rules."""
    floats = [(name, layer.args[name]) for name in layer.spec.integers if is_float(layer.args[name])]
    if floats and has_channel_state(layer) and not check.build_failed:
        # PyTorch stops at this layer: those built after it (often from the same computed size) are never reached
        check.build_failed = True
        name, value = floats[0]
        check.report(LayerArguments(layer.where, layer.spec.name, None, None, value, problem=(
            f"{name}={value!r} is a float: building the layer raises TypeError, PyTorch needs an "
            "int here (write // rather than /, or int(...))")))
    if layer.spec.validate is not None:
        layer.spec.validate(layer, check)


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


# ---- argument helpers -------------------------------------------------------------------------------


def as_int(value: Any) -> Any:
    return value if isinstance(value, int) and not isinstance(value, bool) else UNKNOWN


def ntuple(value: Any, n: int) -> tuple:
    """kernel_size=3 → (3, 3); (3, 5) stays; anything unknown → unknown entries."""
    if isinstance(value, (tuple, list)):
        if len(value) == n:
            return tuple(as_int(v) for v in value)
        return (UNKNOWN,) * n
    return (as_int(value),) * n


def known(*values: Any) -> bool:
    return UNKNOWN not in values  # Unknown's one instance, equal to no other value


def fmt(values: tuple) -> str:
    return str(values[0]) if len(set(map(repr, values))) == 1 else str(tuple(values))


# ---- shared shape pieces ----------------------------------------------------------------------------


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
    sizes = []
    for dim, fn, text in zip(x.shape[-nd:], size_fns, formula_text):
        out = dims.apply_formula(dim, fn, layer.spec.name) if fn is not None else UNKNOWN
        if isinstance(out, int) and out < 1:
            check.report(OutputTooSmall(layer.where, layer.spec.name, x, None, out, size=dim,
                                        formula=text.format(L=dim)))
            return UNKNOWN
        sizes.append(out)
    shape = lead + (channels,) + tuple(sizes)
    shown = tuple(text.format(L=d) + f" = {o}" for d, o, text in zip(x.shape[-nd:], sizes, formula_text)
                  if isinstance(d, int) and isinstance(o, int))
    return x.then(layer.spec.name, layer.where, shape, formulas=shown)


def channel_check(layer: Layer, x: Tensor, check: Collector, declared: Any) -> None:
    """The declared channels against the dimension of `x` they state; the suggestion is the arriving count."""
    if known(declared):
        arriving = x.shape[layer.spec.declared_dim(len(x.shape))]
        check.size(ChannelMismatch, layer.where, layer.label(), x, declared, arriving,
                   suggestion=Suggestion((arriving,)) if isinstance(arriving, int) else None, names=layer.names)


# ---- convolutions -----------------------------------------------------------------------------------


def conv_shape(nd: int, transposed: bool):
    def shape(layer: Layer, x: Tensor, check: Collector) -> Any:
        a = layer.args
        in_channels, out_channels = as_int(a["in_channels"]), as_int(a["out_channels"])
        x = spatial_input(layer, x, check, nd, in_channels)
        if x is None:
            return UNKNOWN
        channel_check(layer, x, check, in_channels)
        kernel, stride, dilation = (ntuple(a[k], nd) for k in ("kernel_size", "stride", "dilation"))
        padding = a["padding"]
        fns, texts = [], []
        for i in range(nd):
            k, s, d = kernel[i], stride[i], dilation[i]
            if transposed:
                p, op = ntuple(padding, nd)[i], ntuple(a["output_padding"], nd)[i]
                ok = known(k, s, d, p, op)
                fns.append(partial(formulas.conv_transpose, kernel=k, stride=s, padding=p, dilation=d,
                                   output_padding=op) if ok else None)
                texts.append(f"({{L}} - 1)*{s} - 2*{p} + {d}*({k}-1) + {op} + 1")
            elif padding == "same":
                fns.append(lambda size: size)
                texts.append("{L} (padding='same')")
            else:
                p = 0 if padding == "valid" else ntuple(padding, nd)[i]
                ok = known(k, s, d, p) and s > 0  # torch rejects a stride of 0 itself
                fns.append(partial(formulas.conv, kernel=k, stride=s, padding=p, dilation=d) if ok else None)
                texts.append(f"floor(({{L}} + 2*{p} - {d}*({k}-1) - 1) / {s}) + 1")
        return spatial_output(layer, x, check, nd, out_channels, fns, texts)

    return shape


def conv_validate(layer: Layer, check: Collector) -> None:
    a = layer.args
    groups, cin, cout = as_int(a["groups"]), as_int(a.get("in_channels")), as_int(a["out_channels"])
    for name, value in (("in_channels", cin), ("out_channels", cout)):
        if known(groups, value) and groups > 0 and value % groups:
            check.report(LayerArguments(layer.where, layer.spec.name, None, groups, value,
                                        problem=f"{name}={value} is not divisible by groups={groups}"))
    strides = a["stride"] if isinstance(a["stride"], (tuple, list)) else (a["stride"],)
    if a["padding"] == "same" and any(known(s) and s != 1 for s in strides):
        check.report(LayerArguments(layer.where, layer.spec.name,
                                    problem="padding='same' is not supported for strided convolutions"))


def conv_params(transposed: bool) -> tuple:
    head = (("in_channels", REQUIRED), ("out_channels", REQUIRED), ("kernel_size", REQUIRED),
            ("stride", 1), ("padding", 0))
    if transposed:
        return head + (("output_padding", 0), ("groups", 1), ("bias", True), ("dilation", 1),
                       ("padding_mode", "zeros")) + FACTORY
    return head + (("dilation", 1), ("groups", 1), ("bias", True), ("padding_mode", "zeros")) + FACTORY


# ---- pooling ----------------------------------------------------------------------------------------


def pool_shape(nd: int, dilated: bool):
    def shape(layer: Layer, x: Tensor, check: Collector) -> Any:
        a = layer.args
        x = spatial_input(layer, x, check, nd, UNKNOWN)
        if x is None:
            return UNKNOWN
        kernel = ntuple(a["kernel_size"], nd)
        stride = kernel if a["stride"] is None or a["stride"] == [] or a["stride"] == () else ntuple(a["stride"], nd)
        padding = ntuple(a["padding"], nd)
        dilation = ntuple(a["dilation"], nd) if dilated else (1,) * nd
        ceil_mode = a["ceil_mode"]
        fns, texts = [], []
        for k, s, p, d in zip(kernel, stride, padding, dilation):
            ok = known(k, s, p, d, ceil_mode) and isinstance(ceil_mode, bool) and s > 0  # torch rejects stride 0
            rounding = "ceil" if ceil_mode is True else "floor"
            texts.append(f"{rounding}(({{L}} + 2*{p} - {d}*({k}-1) - 1) / {s}) + 1")
            if nd == 3 and not dilated:  # avg_pool3d also needs an input at least as large as the kernel
                fns.append(partial(formulas.avg_pool3d, kernel=k, stride=s, padding=p, ceil_mode=ceil_mode)
                           if ok else None)
                texts[-1] += f" if {{L}} >= {k} else 0"
                continue
            fns.append(partial(formulas.pool, kernel=k, stride=s, padding=p, dilation=d, ceil_mode=ceil_mode)
                       if ok else None)
        channels = x.shape[len(x.shape) - nd - 1]
        return spatial_output(layer, x, check, nd, channels, fns, texts)

    return shape


def with_indices(shape: Callable) -> Callable:
    """A max pool with return_indices=True gives (output, indices), the indices of the output's shape."""
    def indexed(layer: Layer, x: Tensor, check: Collector) -> Any:
        out, wanted = shape(layer, x, check), layer.args["return_indices"]
        if wanted is False:
            return out
        return (out, out) if wanted is True and isinstance(out, Tensor) else UNKNOWN

    return indexed


def unpool_shape(nd: int):
    """MaxUnpool: (L - 1)s - 2p + k per spatial dimension (stride defaulting to kernel_size), or the output_size its
    forward is given (the last nd entries), which torch takes only strictly within a stride of that size."""
    def shape(layer: Layer, x: Tensor, check: Collector, output_size: Any = None) -> Any:
        a = layer.args
        x = spatial_input(layer, x, check, nd, UNKNOWN)
        if x is None:
            return UNKNOWN
        kernel = ntuple(a["kernel_size"], nd)
        stride = kernel if a["stride"] is None else ntuple(a["stride"], nd)
        padding = ntuple(a["padding"], nd)
        fns = [partial(formulas.unpool, kernel=k, stride=s, padding=p) if known(k, s, p) else None
               for k, s, p in zip(kernel, stride, padding)]
        texts = [f"({{L}} - 1)*{s} - 2*{p} + {k}" for k, s, p in zip(kernel, stride, padding)]
        channels = x.shape[len(x.shape) - nd - 1]
        out = spatial_output(layer, x, check, nd, channels, fns, texts)
        if output_size is None or not isinstance(out, Tensor):
            return out
        wanted = tuple(output_size) if isinstance(output_size, (tuple, list)) else ()
        wanted = wanted[2:] if len(wanted) == nd + 2 else wanted
        default = tuple(out.shape[-nd:])
        if len(wanted) != nd or not all(isinstance(v, int) for v in default + wanted + tuple(stride)):
            return UNKNOWN
        if not all(d - s < w < d + s for d, w, s in zip(default, wanted, stride)):  # torch raises ValueError
            return UNKNOWN
        return x.then(layer.spec.name, layer.where, out.shape[:-nd] + wanted)

    return shape


def pool_validate(nd: int):
    def validate(layer: Layer, check: Collector) -> None:
        kernel, padding = ntuple(layer.args["kernel_size"], nd), ntuple(layer.args["padding"], nd)
        for k, p in zip(kernel, padding):
            if known(k, p) and p > k // 2:
                check.report(LayerArguments(layer.where, layer.spec.name,
                                            problem=f"padding={p} is more than half of kernel_size={k}"))
                return

    return validate


def adaptive_shape(nd: int, average: bool):
    def shape(layer: Layer, x: Tensor, check: Collector) -> Any:
        size = layer.args["output_size"]
        wanted = tuple(size) if isinstance(size, (tuple, list)) else (size,) * nd
        if len(wanted) != nd:
            return UNKNOWN
        if (average and nd > 1 and not x.pending and x.shape is not None
                and len(x.shape) >= nd + isinstance(size, (tuple, list))  # a tuple needs one more dim, as nn.functional
                and all((d if w is None else w) == 1 for w, d in zip(wanted, x.shape[-nd:]))):
            # ATen takes adaptive_avg_pool{2,3}d to size 1 as a mean over the last dims: any rank works
            return x.then(layer.spec.name, layer.where, x.shape[: len(x.shape) - nd] + (1,) * nd)
        x = spatial_input(layer, x, check, nd, UNKNOWN)
        if x is None:
            return UNKNOWN
        spatial = tuple(d if w is None else as_int(w) for w, d in zip(wanted, x.shape[-nd:]))
        channels = x.shape[len(x.shape) - nd - 1]
        return x.then(layer.spec.name, layer.where, x.shape[: len(x.shape) - nd - 1] + (channels,) + spatial)

    return shape


# ---- normalization ----------------------------------------------------------------------------------


def batch_norm_shape(nd: int):
    """BatchNorm1d takes (N, C) or (N, C, L); 2d takes (N, C, H, W); 3d (N, C, D, H, W); channels at 1."""
    ranks = {1: (2, 3), 2: (4,), 3: (5,)}[nd]

    def shape(layer: Layer, x: Tensor, check: Collector) -> Any:
        declared = as_int(layer.args["num_features"])
        if x.pending and (nd > 1 or x.exact):
            x = (materialize(x, nd, declared) if nd > 1 else as_written(x, ranks)) or UNKNOWN
            if x is UNKNOWN:
                return UNKNOWN
        if x.shape is None:
            return x if not x.pending else UNKNOWN
        if len(x.shape) not in ranks:
            check.report(InputRank(layer.where, layer.spec.name, x, " or ".join(f"{r}-D" for r in ranks),
                                   len(x.shape)))
            return UNKNOWN
        if not has_channel_state(layer):
            return x.then(layer.spec.name, layer.where, x.shape)
        channel_check(layer, x, check, declared)
        return x.then(layer.spec.name, layer.where, x.shape)

    return shape


def instance_norm_shape(nd: int):
    """InstanceNorm checks its channels only when it has per-channel parameters (affine or running stats)."""
    def shape(layer: Layer, x: Tensor, check: Collector) -> Any:
        a = layer.args
        x = spatial_input(layer, x, check, nd, as_int(a["num_features"]))
        if x is None:
            return UNKNOWN
        if has_channel_state(layer):
            channel_check(layer, x, check, as_int(a["num_features"]))
        # PyTorch normalizes by the input's own statistics in training, and in eval mode too unless the layer
        # tracks running statistics (eval is the mode confirm runs)
        batched = x.shape if len(x.shape) == nd + 2 else (1,) + x.shape  # as PyTorch's message shows it
        if a["track_running_stats"] is False and one_spatial_value(x, batched, layer.spec.name, layer.where, check):
            return UNKNOWN
        return x.then(layer.spec.name, layer.where, x.shape)

    return shape


def one_spatial_value(x: Tensor, batched: tuple, label: str, where: Any, check: Collector) -> bool:
    """Instance statistics over `batched` (N, C, *spatial) with a single spatial element: reported in PyTorch's
    words. Shared by InstanceNorm and F.instance_norm."""
    spatial = batched[2:]
    if not spatial or not all(isinstance(d, int) for d in spatial) or dims.product(spatial) != 1:
        return False
    check.report(TooFewValues(where, label, x, problem=(
        f"Expected more than 1 spatial element when training, got input size {show_shape(batched)}"
        " (without running statistics it raises in eval mode too)")))
    return True


def group_norm_shape(layer: Layer, x: Tensor, check: Collector) -> Any:
    if x.shape is None:
        return x if not x.pending else UNKNOWN
    if len(x.shape) < 2:
        return UNKNOWN
    if not has_channel_state(layer):  # the channels need only split into the groups
        groups = as_int(layer.args["num_groups"])
        if isinstance(x.shape[1], int) and known(groups) and groups > 0 and x.shape[1] % groups:
            return UNKNOWN
        return x.then(layer.spec.name, layer.where, x.shape)
    channel_check(layer, x, check, as_int(layer.args["num_channels"]))
    return x.then(layer.spec.name, layer.where, x.shape)


def group_norm_validate(layer: Layer, check: Collector) -> None:
    groups, channels = as_int(layer.args["num_groups"]), as_int(layer.args["num_channels"])
    if known(groups, channels) and groups > 0 and channels % groups:
        check.report(LayerArguments(layer.where, layer.spec.name, None, groups, channels,
                                    problem=f"num_channels={channels} is not divisible by num_groups={groups}"))


def layer_norm_shape(layer: Layer, x: Tensor, check: Collector) -> Any:
    normalized = layer.args["normalized_shape"]
    normalized = tuple(normalized) if isinstance(normalized, (tuple, list)) else (normalized,)
    normalized = tuple(as_int(n) for n in normalized)
    if x.shape is None:
        if len(normalized) == 1 and known(normalized[0]) and not x.pending:
            check.size(ChannelMismatch, layer.where, layer.label(), x, normalized[0], x.last)
        return x
    if len(x.shape) < len(normalized):
        return UNKNOWN
    for declared, dim in zip(normalized, x.shape[-len(normalized):]):
        if known(declared):
            check.size(ChannelMismatch, layer.where, layer.label(), x, declared, dim)
    return x.then(layer.spec.name, layer.where, x.shape)


# ---- linear, flatten, embedding ---------------------------------------------------------------------


def linear_shape(layer: Layer, x: Tensor, check: Collector) -> Any:
    declared, out = as_int(layer.args["in_features"]), as_int(layer.args["out_features"])
    if x.pending and x.exact and x.hint:  # a Linear reads any rank: a pragma's or usage's shape as written
        x = as_written(x)
    if x.pending:  # the model's input: the first Linear defines what it takes
        return x.then(layer.spec.name, layer.where, None, last=out)
    if x.shape is not None and not x.shape:
        return UNKNOWN
    arriving = x.last_dim()
    if known(declared):
        check.size(LinearInFeatures, layer.where, layer.label(), x, declared, arriving,
                   suggestion=suggest_features(x), names=layer.names)
    if x.shape is None:
        return x.then(layer.spec.name, layer.where, None, last=out)
    return x.then(layer.spec.name, layer.where, x.shape[:-1] + (out,))


def suggest_features(x: Tensor) -> Suggestion | None:
    """The right in_features as an expression in the user's terms: channels * height * width."""
    arriving = x.last_dim()
    if not isinstance(arriving, int):
        return None
    if x.flat_parts and len(x.flat_parts) > 1 and all(isinstance(d, int) for d in x.flat_parts):
        return Suggestion(tuple(x.flat_parts))
    return Suggestion((arriving,))


def lazy_linear_shape(layer: Layer, x: Tensor, check: Collector) -> Any:
    out = as_int(layer.args["out_features"])
    if x.shape is None:
        return x.then(layer.spec.name, layer.where, None, last=out) if not x.pending else UNKNOWN
    return x.then(layer.spec.name, layer.where, x.shape[:-1] + (out,)) if x.shape else UNKNOWN


def flatten(x: Tensor, start: Any, end: Any, label: str, where: Any, check: Collector) -> Any:
    """torch.flatten / nn.Flatten / x.flatten: multiply dims start..end into one (a scalar flattens as rank 1)."""
    if x.shape is None or not known(start, end) or not isinstance(start, int) or not isinstance(end, int):
        return UNKNOWN
    rank = len(x.shape)
    wrapped = check.wrap_dims(where, label, x, (start, end), rank)
    if wrapped is None:
        return UNKNOWN
    first, last = wrapped
    if first > last:
        check.dim_problem(where, label, x, "flatten() has invalid args: start_dim cannot come after end_dim")
        return UNKNOWN
    if rank == 0:
        return x.then(label, where, (1,))
    parts = x.shape[first: last + 1]
    shape = x.shape[:first] + (dims.product(parts),) + x.shape[last + 1:]
    return x.then(label, where, shape, flat_parts=tuple(parts) if last == rank - 1 else None)


def flatten_shape(layer: Layer, x: Tensor, check: Collector) -> Any:
    return flatten(x, layer.args["start_dim"], layer.args["end_dim"], "Flatten", layer.where, check)


def unflatten_shape(layer: Layer, x: Tensor, check: Collector) -> Any:
    dim, sizes = as_int(layer.args["dim"]), layer.args["unflattened_size"]
    if x.shape is None or not known(dim) or not isinstance(sizes, (tuple, list)) or not x.shape:
        return UNKNOWN
    wrapped = check.wrap_dims(layer.where, "Unflatten", x, (dim,), len(x.shape))
    if wrapped is None:
        return UNKNOWN
    dim, = wrapped
    sizes = tuple(as_int(s) for s in sizes)
    if sizes.count(-1) == 1 and all(known(s) for s in sizes):
        rest = dims.product(s for s in sizes if s != -1)
        sizes = tuple(dims.divide(x.shape[dim], rest) if s == -1 else s for s in sizes)
    elif isinstance(x.shape[dim], int) and all(isinstance(s, int) for s in sizes):
        if x.shape[dim] != dims.product(sizes):
            return UNKNOWN  # PyTorch raises: the sizes do not multiply to the dimension
    return x.then("Unflatten", layer.where, x.shape[:dim] + sizes + x.shape[dim + 1:])


def softmax(x: Tensor, dim: Any, label: str, where: Any, check: Collector) -> Any:
    """softmax / log_softmax / softmin along `dim` (None: PyTorch picks one): the shape stays."""
    if x.shape is not None and isinstance(dim, int) and not isinstance(dim, bool):
        if check.wrap_dims(where, label, x, (dim,), len(x.shape)) is None:
            return UNKNOWN
    return x


def softmax_shape(layer: Layer, x: Tensor, check: Collector) -> Any:
    return softmax(x, layer.args["dim"], f"{layer.spec.name}(dim={layer.args['dim']!r})", layer.where, check)


def embedding_shape(layer: Layer, x: Tensor, check: Collector) -> Any:
    width = as_int(layer.args["embedding_dim"])
    if x.pending or x.shape is None:
        return x.then(layer.spec.name, layer.where, None, last=width)
    return x.then(layer.spec.name, layer.where, x.shape + (width,))


RECURRENT = ("RNN", "GRU", "LSTM")


def recurrent_shape(layer: Layer, x: Tensor, check: Collector) -> Any:
    """RNN/LSTM/GRU: (L, N, input_size) or batch_first (N, L, input_size) or unbatched (L, input_size) →
    the same with D * hidden (proj_size for an LSTM that has one), and the final state `h_n` (an LSTM's `(h_n, c_n)`),
    shaped as `recurrent_states` says."""
    a = layer.args
    declared, hidden = as_int(a["input_size"]), as_int(a.get("proj_size", 0) or a["hidden_size"])
    directions = 2 if a["bidirectional"] is True else 1 if a["bidirectional"] is False else UNKNOWN
    width = dims.multiply(directions, hidden) if known(directions, hidden) else UNKNOWN
    if x.pending or x.shape is None:
        if not x.pending and known(declared):
            check.size(ChannelMismatch, layer.where, layer.label(), x, declared, x.last)
        return (x.then(layer.spec.name, layer.where, None, last=width), UNKNOWN)
    if len(x.shape) not in (2, 3):
        check.report(InputRank(layer.where, layer.spec.name, x, "2-D or 3-D", len(x.shape)))
        return UNKNOWN
    if known(declared):
        check.size(ChannelMismatch, layer.where, layer.label(), x, declared, x.shape[-1])
    states = recurrent_states(layer, x)
    finals = UNKNOWN if states is None else tuple(x.then(f"{layer.spec.name} state", layer.where, shape)
                                                  for shape in states)
    final = finals[0] if isinstance(finals, tuple) and len(finals) == 1 else finals
    return (x.then(layer.spec.name, layer.where, x.shape[:-1] + (width,)), final)


def recurrent_states(layer: Layer, x: Tensor) -> tuple | None:
    """The shapes of the state an RNN/GRU (h,) or an LSTM (h, c) takes and gives for input x, as torch's
    `check_forward_args` wants them: (num_layers * D, N, H_out), unbatched (num_layers * D, H_out), with H_out the
    LSTM's proj_size where it has one (c keeps hidden_size); None where an argument is not known."""
    a = layer.args
    directions = 2 if a["bidirectional"] is True else 1 if a["bidirectional"] is False else UNKNOWN
    stacked, hidden, projected = as_int(a["num_layers"]), as_int(a["hidden_size"]), as_int(a.get("proj_size", 0))
    if not known(directions, stacked, hidden, projected) or x.shape is None or len(x.shape) not in (2, 3):
        return None
    lead: tuple = (stacked * directions,)
    if len(x.shape) == 3:
        if not isinstance(a["batch_first"], bool):
            return None
        lead += (x.shape[0] if a["batch_first"] else x.shape[1],)
    return (lead + (projected or hidden,),) + ((lead + (hidden,),) if layer.spec.name == "LSTM" else ())


def check_initial_state(layer: Layer, x: Tensor, state: Any, check: Collector, call_site: Any) -> None:
    """`self.lstm(x, (h0, c0))`, `self.gru(x, h0)`: the state's rank must be the input's, then its shape what
    `recurrent_states` says; reported as torch words it, at the call that passes the state."""
    if not isinstance(x, Tensor):
        return
    expected = recurrent_states(layer, settle(x))
    given = tuple(state) if layer.spec.name == "LSTM" and isinstance(state, (tuple, list)) else (state,)
    if expected is None or not isinstance(given, tuple) or len(given) != len(expected) or not all(
            isinstance(t, Tensor) and settle(t).shape is not None for t in given):
        return
    shapes = [settle(t).shape for t in given]
    names = "hx and cx" if len(shapes) == 2 else "hx"
    rank = len(expected[0])
    if any(len(shape) != rank for shape in shapes):
        got = ", ".join(f"{len(shape)}-D" for shape in shapes)
        problem = (f"For {'batched' if rank == 3 else 'unbatched'} {rank}-D input, {names} should also be {rank}-D "
                   f"but got {f'({got}) tensors' if len(shapes) == 2 else f'{got} tensor'}")
        check.report(RecurrentState(call_site, layer.spec.name, given[0], problem=problem))
        return
    for i, (shape, wanted) in enumerate(zip(shapes, expected)):
        if any(dims.can_equal(d, w) is False for d, w in zip(shape, wanted)):
            which = f"hidden[{i}]" if len(shapes) == 2 else "hidden"
            if rank == 2:  # torch compares an unbatched state after giving it a batch of 1
                wanted, shape = wanted[:1] + (1,) + wanted[1:], shape[:1] + (1,) + shape[1:]
            problem = f"Expected {which} size {show_shape(wanted)}, got [{show_shape(shape)[1:-1]}]"
            check.report(RecurrentState(call_site, layer.spec.name, given[i], wanted, shape, problem=problem))
            return


def same_shape(layer: Layer, x: Tensor, check: Collector) -> Any:
    return x


def dropout1d_shape(layer: Layer, x: Tensor, check: Collector) -> Any:
    """Dropout1d (and F.dropout1d) raises on any rank but (N, C, L) and (C, L), in eval mode too. Dropout3d only
    warns on another rank (torch 2.14); Dropout2d: dropout2d_shape."""
    if x.pending and x.exact and x.hint:  # a pragma's or usage's shape as written
        x = as_written(x)
    if x.shape is not None and len(x.shape) not in (2, 3):
        check.report(InputRank(layer.where, layer.spec.name, x, "2-D or 3-D", len(x.shape)))
        return UNKNOWN
    return x


def dropout2d_shape(layer: Layer, x: Tensor, check: Collector) -> Any:
    """Dropout2d raises on a 1-D input in training only ("Feature dropout requires at least 2 dimensions"): as
    `F.dropout2d(x)` runs by default; any other rank only warns (torch 2.14). A pending input stays as it is: `(36,)`
    may be one sample of a batch."""
    if layer.training is True and x.shape is not None and len(x.shape) < 2:
        check.report(InputRank(layer.where, layer.spec.name, x, "2-D or higher (it runs in training)", len(x.shape)))
        return UNKNOWN
    return x


# ---- resampling and padding -------------------------------------------------------------------------


def upsample_shape(layer: Layer, x: Tensor, check: Collector) -> Any:
    if x.pending or x.shape is None or len(x.shape) < 3:
        return UNKNOWN
    nd = len(x.shape) - 2
    size, factor = layer.args["size"], layer.args["scale_factor"]
    if size is not None:
        wanted = tuple(size) if isinstance(size, (tuple, list)) else (size,) * nd
        if len(wanted) != nd:
            return UNKNOWN
        return x.then(layer.spec.name, layer.where, x.shape[:2] + tuple(as_int(w) for w in wanted))
    factors = tuple(factor) if isinstance(factor, (tuple, list)) else (factor,) * nd
    if len(factors) != nd or not all(isinstance(f, (int, float)) and not isinstance(f, bool) and f > 0 for f in factors):
        return UNKNOWN
    spatial = tuple(dims.apply_formula(d, partial(formulas.scale, factor=f), layer.spec.name)
                    for d, f in zip(x.shape[2:], factors))
    for d, f, out in zip(x.shape[2:], factors, spatial):
        if isinstance(out, int) and out < 1:  # PyTorch: "Input and output sizes should be greater than 0"
            check.report(OutputTooSmall(layer.where, layer.spec.name, x, None, out, size=d,
                                        formula=f"floor({d} * {f})"))
            return UNKNOWN
    return x.then(layer.spec.name, layer.where, x.shape[:2] + spatial)


def padding_shape(nd: int, constant: bool):
    """Constant (and zero) padding takes any rank from nd up; reflection, replication and circular take
    (C, *nd sizes) or (N, C, *nd sizes)."""
    def shape(layer: Layer, x: Tensor, check: Collector) -> Any:
        if x.shape is None or (len(x.shape) < nd if constant else len(x.shape) not in (nd + 1, nd + 2)):
            return UNKNOWN
        amount = layer.args["padding"]
        amounts = tuple(as_int(v) for v in amount) if isinstance(amount, (tuple, list)) else (as_int(amount),) * (2 * nd)
        if len(amounts) != 2 * nd or not known(*amounts):
            return UNKNOWN
        return pad_last_dims(x, amounts, layer.spec.name, layer.where, check)

    return shape


def pad_last_dims(x: Tensor, amounts: tuple, label: str, where: Any, check: Collector) -> Any:
    """Pad the last len(amounts) / 2 dimensions; PyTorch's padding tuples run from the last dimension backwards:
    (left, right, top, bottom, ...). Shared by the padding layers and F.pad; an UNKNOWN amount makes its dim
    unknown."""
    shape = list(x.shape)
    for i in range(len(amounts) // 2):
        index = len(shape) - 1 - i
        size, before, after = shape[index], amounts[2 * i], amounts[2 * i + 1]
        if isinstance(before, Unknown) or isinstance(after, Unknown):
            shape[index] = UNKNOWN
            continue
        cropped = -min(before, 0) - min(after, 0)  # PyTorch crops by negative padding first, to 0 at most
        if isinstance(size, int) and size < cropped:
            check.report(OutputTooSmall(where, label, x, None, size - cropped, size=size,
                                        formula=f"{size} - {cropped}"))
            return UNKNOWN
        shape[index] = dims.apply_formula(size, partial(formulas.pad, before=before, after=after), label)
    return x.then(label, where, tuple(shape))


def pixel_shuffle_shape(down: bool):
    def shape(layer: Layer, x: Tensor, check: Collector) -> Any:
        factor = as_int(layer.args["downscale_factor" if down else "upscale_factor"])
        if x.shape is None or len(x.shape) < 3 or not known(factor) or factor < 1:
            return UNKNOWN
        c, h, w = x.shape[-3:]
        if down:
            c = dims.multiply(c, factor * factor)
            h, w = dims.divide(h, factor), dims.divide(w, factor)
        else:
            c = dims.divide(c, factor * factor)
            grow = partial(formulas.multiply_by, factor=factor)
            h, w = (dims.apply_formula(d, grow, layer.spec.name) for d in (h, w))
        return x.then(layer.spec.name, layer.where, x.shape[:-3] + (c, h, w))

    return shape


# ---- parameter counts -------------------------------------------------------------------------------
# Each as the layer's __init__ in PyTorch allocates its nn.Parameters (weights, then biases where asked for).


def flag(value: Any) -> Any:
    """A bool argument (bias, affine) as 1 or 0, UNKNOWN when it is not a known bool."""
    return int(value) if isinstance(value, bool) else UNKNOWN


def count(*factors: Any) -> Any:
    """The product of known ints, else UNKNOWN."""
    factors = tuple(as_int(f) for f in factors)
    return dims.product(factors) if known(*factors) else UNKNOWN


def conv_parameters(nd: int, transposed: bool):
    """weight (out, in/groups, *kernel), transposed (in, out/groups, *kernel); bias (out,)."""
    def parameters(a: dict) -> Any:
        cin, cout, groups = as_int(a["in_channels"]), as_int(a["out_channels"]), as_int(a["groups"])
        kernel = ntuple(a["kernel_size"], nd)
        if not known(cin, cout, groups, *kernel) or groups < 1 or cin % groups or cout % groups:
            return UNKNOWN  # PyTorch raises on channels that do not split into the groups
        weight = count(cin, cout // groups, *kernel) if transposed else count(cout, cin // groups, *kernel)
        return total(weight, count(cout, flag(a["bias"])))

    return parameters


def total(*counts: Any) -> Any:
    return sum(counts) if known(*counts) else UNKNOWN


def linear_parameters(a: dict) -> Any:
    """weight (out, in), bias (out,)."""
    return total(count(a["out_features"], a["in_features"]), count(a["out_features"], flag(a["bias"])))


def norm_parameters(channels: str, affine: str):
    """BatchNorm, InstanceNorm, GroupNorm: with affine, a weight and (unless bias=False) a bias per channel."""
    def parameters(a: dict) -> Any:
        return count(a[channels], flag(a[affine]), total(1, flag(a["bias"])))

    return parameters


def layer_norm_parameters(a: dict) -> Any:
    """With elementwise_affine, a weight and (unless bias=False) a bias of normalized_shape each."""
    normalized = a["normalized_shape"]
    sizes = tuple(normalized) if isinstance(normalized, (tuple, list)) else (normalized,)
    return count(*sizes, flag(a["elementwise_affine"]), total(1, flag(a["bias"])))


def embedding_parameters(a: dict) -> Any:
    return count(a["num_embeddings"], a["embedding_dim"])  # a given _weight must have this shape


def recurrent_parameters(gates: int):
    """Per layer and direction: weight_ih (gates*H, input), weight_hh (gates*H, P), two biases (gates*H,), and
    with proj_size an LSTM's weight_hr (P, H), where P is proj_size or else H; a layer after the first reads D*P."""
    def parameters(a: dict) -> Any:
        hidden, layers = as_int(a["hidden_size"]), as_int(a["num_layers"])
        projected, directions = as_int(a.get("proj_size", 0)), total(1, flag(a["bidirectional"]))
        biases = flag(a["bias"])
        if not known(hidden, layers, projected, directions, biases, as_int(a["input_size"])) or layers < 1 \
                or 0 < hidden <= projected:
            return UNKNOWN  # PyTorch raises: proj_size has to be smaller than hidden_size
        width = projected or hidden
        per_direction = [gates * hidden * (reads + width + 2 * biases) + projected * hidden
                         for reads in [a["input_size"]] + [directions * width] * (layers - 1)]
        return directions * sum(per_direction)

    return parameters


def unknown_parameters(args: dict) -> Any:
    """A layer whose arguments are not bound (PReLU's num_parameters) or not sized until its first call (Lazy*)."""
    return UNKNOWN


# ---- the table --------------------------------------------------------------------------------------

# The layers that keep their input's shape, each with its spellings as a function or tensor method (F.relu,
# torch.relu, x.relu_()): those keep the shape too, and show no step (LayerSpec.same_shape_spellings).
ELEMENTWISE = {
    "Identity": (), "ReLU": ("relu", "relu_"), "ReLU6": ("relu6",), "LeakyReLU": ("leaky_relu", "leaky_relu_"),
    "PReLU": (), "RReLU": (), "ELU": ("elu", "elu_"), "SELU": ("selu",), "CELU": ("celu",), "GELU": ("gelu",),
    "SiLU": ("silu",), "Mish": ("mish",), "Sigmoid": ("sigmoid", "sigmoid_"), "Tanh": ("tanh", "tanh_"),
    "Softmax2d": (), "Softplus": ("softplus",), "Softsign": ("softsign",), "Softshrink": ("softshrink",),
    "Hardshrink": ("hardshrink",), "Tanhshrink": ("tanhshrink",), "Hardswish": ("hardswish",),
    "Hardsigmoid": ("hardsigmoid",), "Hardtanh": ("hardtanh",), "LogSigmoid": ("logsigmoid",), "Threshold": (),
    "LocalResponseNorm": ("local_response_norm",),
}
# Dropout1d's and Dropout2d's functional spellings check the rank as the layer does (`functional`), the others keep
# the shape
DROPOUTS = {"Dropout": ("dropout",), "Dropout1d": (), "Dropout2d": (), "Dropout3d": ("dropout3d",),
            "AlphaDropout": ("alpha_dropout",), "FeatureAlphaDropout": ("feature_alpha_dropout",)}
RANK_CHECKED_DROPOUTS = {"Dropout1d": dropout1d_shape, "Dropout2d": dropout2d_shape}


def spatial_channels(nd: int, rank: int) -> int:
    """The channels of (N, C, *nd sizes) or unbatched (C, *nd sizes)."""
    return rank - nd - 1


def second(rank: int) -> int:
    """The channels of (N, C, ...): BatchNorm and GroupNorm read no unbatched input."""
    return 1


def last(rank: int) -> int:
    return rank - 1


def _build_table() -> dict:
    table = {}

    def add(name: str, params: Any, shape: Callable, validate: Callable | None = None, declares: str | None = None,
            spatial: int = 0, integers: tuple = (), declared_dim: Callable[[int], int] | None = None,
            parameters: Callable[[dict], Any] = no_parameters, functional: tuple = (), spatial_step: bool = False,
            aliases: tuple = (), same_shape_spellings: tuple = ()):
        table[name] = LayerSpec(name, params, shape, validate, declares, spatial, integers, declared_dim, parameters,
                                functional, spatial_step, aliases, same_shape_spellings)

    conv_integers = ("in_channels", "out_channels", "kernel_size", "groups")

    for nd in (1, 2, 3):
        channels = partial(spatial_channels, nd)
        add(f"Conv{nd}d", conv_params(False), conv_shape(nd, False), conv_validate, "in_channels", spatial=nd,
            integers=conv_integers, declared_dim=channels, parameters=conv_parameters(nd, False), spatial_step=True)
        add(f"ConvTranspose{nd}d", conv_params(True), conv_shape(nd, True), conv_validate, "in_channels", spatial=nd,
            integers=conv_integers, declared_dim=channels, parameters=conv_parameters(nd, True), spatial_step=True)
        add(f"MaxPool{nd}d", (("kernel_size", REQUIRED), ("stride", None), ("padding", 0), ("dilation", 1),
                              ("return_indices", False), ("ceil_mode", False)), with_indices(pool_shape(nd, True)),
            pool_validate(nd), spatial=nd, spatial_step=True,
            functional=((f"max_pool{nd}d", ("kernel_size", "stride", "padding", "dilation", "ceil_mode",
                                            "return_indices")),))
        add(f"MaxUnpool{nd}d", (("kernel_size", REQUIRED), ("stride", None), ("padding", 0)), unpool_shape(nd),
            spatial=nd, spatial_step=True)
        avg = (("kernel_size", REQUIRED), ("stride", None), ("padding", 0), ("ceil_mode", False),
               ("count_include_pad", True)) + ((("divisor_override", None),) if nd > 1 else ())
        add(f"AvgPool{nd}d", avg, pool_shape(nd, False), pool_validate(nd), spatial=nd, spatial_step=True,
            functional=((f"avg_pool{nd}d", tuple(name for name, _ in avg)),))
        add(f"AdaptiveAvgPool{nd}d", (("output_size", REQUIRED),), adaptive_shape(nd, True), spatial=nd,
            spatial_step=True, functional=((f"adaptive_avg_pool{nd}d", ("output_size",)),))
        add(f"AdaptiveMaxPool{nd}d", (("output_size", REQUIRED), ("return_indices", False)),
            with_indices(adaptive_shape(nd, False)), spatial=nd, spatial_step=True,
            functional=((f"adaptive_max_pool{nd}d", ("output_size", "return_indices")),))
        add(f"BatchNorm{nd}d", (("num_features", REQUIRED), ("eps", 1e-5), ("momentum", 0.1), ("affine", True),
                                ("track_running_stats", True)) + FACTORY + NORM_BIAS, batch_norm_shape(nd),
            declares="num_features", spatial=nd, integers=("num_features",), declared_dim=second,
            parameters=norm_parameters("num_features", "affine"))
        add(f"InstanceNorm{nd}d", (("num_features", REQUIRED), ("eps", 1e-5), ("momentum", 0.1), ("affine", False),
                                   ("track_running_stats", False)) + FACTORY + NORM_BIAS, instance_norm_shape(nd),
            declares="num_features", spatial=nd, integers=("num_features",), declared_dim=channels,
            parameters=norm_parameters("num_features", "affine"))
        for kind in ("Reflection", "Replication", "Circular", "Zero"):
            if kind == "Zero" and nd == 1:
                continue
            add(f"{kind}Pad{nd}d", (("padding", REQUIRED),), padding_shape(nd, kind == "Zero"), spatial_step=True)
        add(f"ConstantPad{nd}d", (("padding", REQUIRED), ("value", REQUIRED)), padding_shape(nd, True),
            spatial_step=True)
    add("ZeroPad1d", (("padding", REQUIRED),), padding_shape(1, True), spatial_step=True)
    add("Linear", (("in_features", REQUIRED), ("out_features", REQUIRED), ("bias", True)) + FACTORY, linear_shape,
        declares="in_features", integers=("in_features", "out_features"), declared_dim=last,
        parameters=linear_parameters)
    add("LazyLinear", (("out_features", REQUIRED), ("bias", True)) + FACTORY, lazy_linear_shape,
        parameters=unknown_parameters)
    add("GroupNorm", (("num_groups", REQUIRED), ("num_channels", REQUIRED), ("eps", 1e-5), ("affine", True)) + FACTORY
        + NORM_BIAS, group_norm_shape, group_norm_validate, "num_channels", integers=("num_channels",),
        declared_dim=second, parameters=norm_parameters("num_channels", "affine"))
    add("LayerNorm", (("normalized_shape", REQUIRED), ("eps", 1e-5), ("elementwise_affine", True), ("bias", True))
        + FACTORY, layer_norm_shape, declares="normalized_shape", integers=("normalized_shape",),
        parameters=layer_norm_parameters)
    add("Flatten", (("start_dim", 1), ("end_dim", -1)), flatten_shape)
    add("Unflatten", (("dim", REQUIRED), ("unflattened_size", REQUIRED)), unflatten_shape)
    add("Embedding", (("num_embeddings", REQUIRED), ("embedding_dim", REQUIRED), ("padding_idx", None),
                      ("max_norm", None), ("norm_type", 2.0), ("scale_grad_by_freq", False), ("sparse", False),
                      ("_weight", None), ("_freeze", False)) + FACTORY, embedding_shape,
        integers=("num_embeddings", "embedding_dim"), parameters=embedding_parameters)
    upsample = (("size", None), ("scale_factor", None), ("mode", "nearest"), ("align_corners", None),
                ("recompute_scale_factor", None))
    add("Upsample", upsample, upsample_shape, spatial_step=True,
        functional=(("interpolate", ("size", "scale_factor", "mode", "align_corners", "recompute_scale_factor",
                                     "antialias")),
                    ("upsample", ("size", "scale_factor", "mode", "align_corners"))),
        aliases=("upsample_nearest2d", "UpsamplingNearest2d", "UpsamplingBilinear2d"))
    add("UpsamplingNearest2d", (("size", None), ("scale_factor", None)), upsample_shape, spatial_step=True)
    add("UpsamplingBilinear2d", (("size", None), ("scale_factor", None)), upsample_shape, spatial_step=True)
    recurrent = (("input_size", REQUIRED), ("hidden_size", REQUIRED), ("num_layers", 1))
    recurrent_tail = (("bias", True), ("batch_first", False), ("dropout", 0.0), ("bidirectional", False))
    recurrent_integers = ("input_size", "hidden_size")
    add("RNN", recurrent + (("nonlinearity", "tanh"),) + recurrent_tail + FACTORY, recurrent_shape,
        declares="input_size", integers=recurrent_integers, parameters=recurrent_parameters(gates=1))
    add("GRU", recurrent + recurrent_tail + FACTORY, recurrent_shape, declares="input_size",
        integers=recurrent_integers, parameters=recurrent_parameters(gates=3))
    add("LSTM", recurrent + recurrent_tail + (("proj_size", 0),) + FACTORY, recurrent_shape, declares="input_size",
        integers=recurrent_integers, parameters=recurrent_parameters(gates=4))
    add("PixelShuffle", (("upscale_factor", REQUIRED),), pixel_shuffle_shape(False), spatial_step=True,
        functional=(("pixel_shuffle", ("upscale_factor",)),))
    add("PixelUnshuffle", (("downscale_factor", REQUIRED),), pixel_shuffle_shape(True), spatial_step=True,
        functional=(("pixel_unshuffle", ("downscale_factor",)),))
    for name in ("Softmax", "Softmin", "LogSoftmax"):
        add(name, (("dim", None),), softmax_shape)
    for name, spellings in DROPOUTS.items():  # bound, since forward() reads `self.dropout.p`
        checked = RANK_CHECKED_DROPOUTS.get(name)
        add(name, (("p", 0.5), ("inplace", False)), checked or same_shape,
            functional=((name.lower(), ("p", "training", "inplace")),) if checked else (),
            same_shape_spellings=spellings)
    for name, spellings in ELEMENTWISE.items():
        add(name, None, same_shape, parameters=unknown_parameters if name == "PReLU" else no_parameters,
            same_shape_spellings=spellings)
    return table


LAYERS = _build_table()
# F.x → (the layer it builds and applies, the parameters after the input in F.x's positional order)
FUNCTIONAL = {name: (spec, params) for spec in LAYERS.values() for name, params in spec.functional}
# F.relu, torch.relu, x.relu_(): the shape-keeping spellings of the layers that keep the shape
SAME_SHAPE_SPELLINGS = frozenset(name for spec in LAYERS.values() for name in spec.same_shape_spellings)
# F.pad changes the spatial sizes as the padding layers do (it shares their shape function) but builds none
SPATIAL_FUNCTIONS = frozenset({"pad"})


def spec_for(name: str) -> LayerSpec | None:
    return LAYERS.get(name)


def spatial_step(label: str) -> bool:
    """Whether a trace step of this label (a layer's name, an op's) changes the spatial sizes of what it reads."""
    spec = LAYERS.get(label)
    return spec.spatial_step if spec is not None else label in SPATIAL_FUNCTIONS


def aliases() -> dict:
    """Each name PyTorch's calls of a registered op may show under (its functional spellings, its aliases) → the
    op's own name."""
    return {alias: spec.name for spec in LAYERS.values()
            for alias in (*(name for name, _ in spec.functional), *spec.aliases)}

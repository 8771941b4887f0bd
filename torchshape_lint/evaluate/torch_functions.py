"""What the evaluator knows of `torch.*` functions and `torch.nn.functional`: the functional spellings of layers
(built and applied at the call), functions with explicit weights (F.linear, F.conv2d), F.max_unpool2d, and the
torch and F functions that spell registered tensor ops (tensor_op_table: F.softmax, F.pad, torch.cat, ...) and
factories (tensor_factories)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from torchshape_lint.evaluate.python_library import int_like
from torchshape_lint.evaluate.tensor_factories import (
    TENSOR_FACTORIES, sized_by_numbers, sizes_as_arguments, tensor_factory, tensor_from_data,
)
from torchshape_lint.evaluate.tensor_op_table import (
    ABSENT, FUNCTIONAL, NOT_FOLLOWED, TORCH, OpCall, apply, bind as bind_call, registered,
)
from torchshape_lint.shapes import layers
from torchshape_lint.shapes.layer_spec import Layer, bind, validate
from torchshape_lint.shapes.parameter_counts import unknown_parameters
from torchshape_lint.shapes.tensor import Tensor, concrete_input, settle, show_shape
from torchshape_lint.unknown import UNKNOWN


def functional(interp: Any, name: str, args: list, kwargs: dict, where: Any) -> Any:
    x = args[0] if args else kwargs.get("input", UNKNOWN)
    if not isinstance(x, Tensor):
        return UNKNOWN
    op = registered(FUNCTIONAL, name)
    if op is not None:
        out = apply(interp, op, OpCall(op, name, FUNCTIONAL, where), args, kwargs)
        return UNKNOWN if out is NOT_FOLLOWED else out
    if name == "linear" or name in WEIGHTED_CONVS:
        return functional_with_weight(interp, name, x, args, kwargs, where)
    if name in layers.FUNCTIONAL:  # F.max_pool2d(x, 2): the layer it spells, built and applied at the call
        spec, params = layers.FUNCTIONAL[name]
        supplied = bind_call(as_given(("input",) + params), args, kwargs)
        if supplied is None:
            return UNKNOWN
        del supplied["input"]
        bound = bind(spec, (), {k: v for k, v in supplied.items() if k in dict(spec.params or ())})
        if bound is None:
            return UNKNOWN
        layer = Layer(spec, bound, where)
        if "training" in params:  # F.dropout*'s default is True
            layer.training = supplied.get("training", True)
        validate(layer, interp.check)
        return layer(x, interp.check)
    if name.startswith("max_unpool") and name[-2:] in ("1d", "2d", "3d"):
        return functional_unpool(interp, name, x, args, kwargs, where)
    return UNKNOWN


def as_given(names: tuple) -> tuple:
    """Parameters none of which has a default of its own: those left out are the layer's to fill in."""
    return tuple((name, ABSENT) for name in names)


WEIGHTED_CONVS = {f"conv{nd}d": nd for nd in (1, 2, 3)}

CONV_PARAMS = ("input", "weight", "bias", "stride", "padding", "dilation", "groups")

WEIGHTED_PARAMS = {"linear": ("input", "weight", "bias"), **dict.fromkeys(WEIGHTED_CONVS, CONV_PARAMS)}


def functional_with_weight(interp: Any, name: str, x: Tensor, args: list, kwargs: dict, where: Any) -> Any:
    """F.linear(input, weight, bias) and F.conv2d(input, weight, bias, stride, padding, dilation, groups) with a
    weight of known shape: the layer that weight makes, applied at the call. F.linear's weight (out, in) declares
    in_features = in; a conv's (out, in / groups, *kernel) declares in_channels = in / groups * groups. Its weight
    belongs to the caller (a module's nn.Parameter, or a local tensor): the layer counts no parameters of its own."""
    bound = bind_call(as_given(WEIGHTED_PARAMS[name]), args, kwargs)
    if bound is None:
        return UNKNOWN
    weight = bound.get("weight")
    shape = settle(weight).shape if isinstance(weight, Tensor) else None
    wanted_rank = 2 if name == "linear" else WEIGHTED_CONVS[name] + 2
    groups = bound.get("groups", 1)
    if shape is None or len(shape) != wanted_rank or not all(int_like(d) and d > 0 for d in shape) \
            or not int_like(groups) or groups < 1:
        return UNKNOWN
    has_bias = bound.get("bias") is not None
    if name == "linear":
        spec = layers.spec_for("Linear")
        supplied = {"in_features": shape[1], "out_features": shape[0], "bias": has_bias}
    else:
        spec = layers.spec_for(f"Conv{WEIGHTED_CONVS[name]}d")
        supplied = {"in_channels": shape[1] * groups, "out_channels": shape[0], "kernel_size": tuple(shape[2:]),
                    "groups": groups, "bias": has_bias,
                    **{k: bound[k] for k in ("stride", "padding", "dilation") if k in bound}}
    layer_args = bind(spec, (), supplied)
    if layer_args is None:
        return UNKNOWN
    written = f"F.{name}({spec.declares}={layer_args[spec.declares]} from weight {show_shape(shape)})"
    layer = Layer(replace(spec, parameters=unknown_parameters), layer_args, where, written=written)
    validate(layer, interp.check)
    return layer(x, interp.check)


def functional_unpool(interp: Any, name: str, x: Tensor, args: list, kwargs: dict, where: Any) -> Any:
    """F.max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None): as nn.MaxUnpool2d."""
    bound = bind_call(as_given(("input", "indices", "kernel_size", "stride", "padding", "output_size")), args, kwargs)
    if bound is None:
        return UNKNOWN
    spec = layers.spec_for(f"MaxUnpool{name[-2:]}")
    layer_args = bind(spec, (), {k: bound[k] for k in ("kernel_size", "stride", "padding") if k in bound})
    if layer_args is None:
        return UNKNOWN
    return Layer(spec, layer_args, where)(x, interp.check, output_size=bound.get("output_size"))


# torch's legacy tensor types: constructors as torch.Tensor is (sizes, or data), on either device
LEGACY_TENSOR_TYPES = frozenset("FloatTensor DoubleTensor HalfTensor BFloat16Tensor LongTensor IntTensor ShortTensor "
                                "CharTensor ByteTensor BoolTensor".split())


def canonical_name(name: str) -> str:
    """`torch.cuda.FloatTensor` → `torch.FloatTensor`: the same constructor, as far as shapes go."""
    if not name.startswith("torch.cuda."):  # every external call asks: the common answer costs no split
        return name
    parts = name.split(".")
    if len(parts) == 3 and parts[:2] == ["torch", "cuda"] and parts[2] in LEGACY_TENSOR_TYPES:
        return f"torch.{parts[2]}"
    return name


def torch_function(interp: Any, name: str, args: list, kwargs: dict, where: Any) -> Any:
    if name in LEGACY_TENSOR_TYPES:
        name = "Tensor"
    if name == "from_numpy" and len(args) == 1 and isinstance(args[0], Tensor):
        return args[0]
    if name in TENSOR_FACTORIES or name == "Tensor" and sizes_as_arguments(args):
        return tensor_factory(name, args, kwargs)
    if name in ("tensor", "as_tensor", "Tensor"):
        return tensor_from_data(args)
    if name in ("arange", "linspace", "logspace", "eye"):
        shape = sized_by_numbers(name, args, kwargs)
        return UNKNOWN if shape is None else concrete_input(shape, "usage")
    op = registered(TORCH, name)
    if op is not None:
        out = apply(interp, op, OpCall(op, name, TORCH, where), args, kwargs)
        if out is not NOT_FOLLOWED:
            return out
    if name == "Size" and len(args) == 1:
        items = interp.iterate(args[0])
        return UNKNOWN if items is UNKNOWN else tuple(items)
    return interp.call_unknown(args, kwargs)

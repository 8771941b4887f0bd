"""What the evaluator knows of `torch.*` functions and `torch.nn.functional`: the functional spellings of layers
(built and applied at the call), functions with explicit weights (F.linear, F.conv2d), F.pad, and the torch
functions that spell tensor ops (tensor_ops) and factories (tensor_factories)."""

from __future__ import annotations

from dataclasses import replace
from functools import partial
from typing import Any

from torchshape_lint.evaluate.python_library import int_like
from torchshape_lint.evaluate.tensor_factories import (
    LIKE_FACTORIES, TENSOR_FACTORIES, sized_by_numbers, sizes_as_arguments, tensor_factory, tensor_from_data,
)
from torchshape_lint.evaluate.tensor_ops import (
    ELEMENTWISE, PIECES, PRODUCTS, REDUCTIONS, REORDERING, SAME_SHAPE, SOFTMAXES, VALUES_AND_INDICES, concatenate,
    einsum, elementwise_function, matrix_product, pieces, reduce, reorder, reshape, values_and_indices,
)
from torchshape_lint.evaluate.values import ListV
from torchshape_lint.shapes import layers
from torchshape_lint.shapes.feature_layers import flatten, one_spatial_value, softmax
from torchshape_lint.shapes.layer_spec import Layer, bind, validate
from torchshape_lint.shapes.parameter_counts import unknown_parameters
from torchshape_lint.shapes.spatial_layers import pad_last_dims
from torchshape_lint.shapes.tensor import Tensor, concrete_input, defer, settle, show_shape
from torchshape_lint.unknown import UNKNOWN


def functional(interp: Any, name: str, args: list, kwargs: dict, where: Any) -> Any:
    x = args[0] if args else kwargs.get("input", UNKNOWN)
    if not isinstance(x, Tensor):
        return UNKNOWN
    if name in SAME_SHAPE:
        return settle(x)
    if name in SOFTMAXES:
        return softmax(settle(x), args[1] if len(args) > 1 else kwargs.get("dim"), f"F.{name}", where,
                              interp.check)
    if name == "instance_norm":
        return functional_instance_norm(interp, settle(x), args, kwargs, where)
    if name == "linear" or name in WEIGHTED_CONVS:
        return functional_with_weight(interp, name, x, args, kwargs, where)
    if name in layers.FUNCTIONAL:  # F.max_pool2d(x, 2): the layer it spells, built and applied at the call
        spec, params = layers.FUNCTIONAL[name]
        positional = dict(zip(params, args[1:]))
        if len(args) - 1 > len(params) or any(k in positional for k in kwargs):
            return UNKNOWN
        supplied = {**positional, **{k: v for k, v in kwargs.items() if k != "input"}}
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
    if name == "pad":
        return functional_pad(interp, x, args[1] if len(args) > 1 else kwargs.get("pad", UNKNOWN), where)
    return UNKNOWN


WEIGHTED_CONVS = {f"conv{nd}d": nd for nd in (1, 2, 3)}

CONV_PARAMS = ("input", "weight", "bias", "stride", "padding", "dilation", "groups")

WEIGHTED_PARAMS = {"linear": ("input", "weight", "bias"), **dict.fromkeys(WEIGHTED_CONVS, CONV_PARAMS)}


def functional_with_weight(interp: Any, name: str, x: Tensor, args: list, kwargs: dict, where: Any) -> Any:
    """F.linear(input, weight, bias) and F.conv2d(input, weight, bias, stride, padding, dilation, groups) with a
    weight of known shape: the layer that weight makes, applied at the call. F.linear's weight (out, in) declares
    in_features = in; a conv's (out, in / groups, *kernel) declares in_channels = in / groups * groups. Its weight
    belongs to the caller (a module's nn.Parameter, or a local tensor): the layer counts no parameters of its own."""
    params = WEIGHTED_PARAMS[name]
    bound = dict(zip(params, args))
    if len(args) > len(params) or any(k in bound or k not in params for k in kwargs):
        return UNKNOWN
    bound.update(kwargs)
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


def functional_instance_norm(interp: Any, x: Tensor, args: list, kwargs: dict, where: Any) -> Any:
    """F.instance_norm(input, running_mean, running_var, weight, bias, use_input_stats=True, ...): the shape stays;
    with the input's own statistics (the default, in any mode) a single spatial element raises."""
    use_input_stats = args[5] if len(args) > 5 else kwargs.get("use_input_stats", True)
    if x.shape is not None and len(x.shape) >= 3 and use_input_stats is True \
            and one_spatial_value(x, x.shape, "F.instance_norm", where, interp.check):
        return UNKNOWN
    return x


def functional_unpool(interp: Any, name: str, x: Tensor, args: list, kwargs: dict, where: Any) -> Any:
    """F.max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None): as nn.MaxUnpool2d."""
    params = ("input", "indices", "kernel_size", "stride", "padding", "output_size")
    bound = dict(zip(params, args))
    if len(args) > len(params) or any(k in bound or k not in params for k in kwargs):
        return UNKNOWN
    bound.update(kwargs)
    spec = layers.spec_for(f"MaxUnpool{name[-2:]}")
    layer_args = bind(spec, (), {k: bound[k] for k in ("kernel_size", "stride", "padding") if k in bound})
    if layer_args is None:
        return UNKNOWN
    return Layer(spec, layer_args, where)(x, interp.check, output_size=bound.get("output_size"))


def functional_pad(interp: Any, x: Tensor, amounts: Any, where: Any) -> Any:
    x = settle(x)
    if x.pending and isinstance(amounts, (tuple, ListV)) and amounts and not len(amounts) % 2 \
            and not (x.exact and x.hint is not None and len(amounts) // 2 > len(x.hint)):
        # the model's input before a layer fixed its rank: F.pad pads its last sizes whatever the rank
        return defer(x, partial(functional_pad, interp, amounts=amounts, where=where))
    if x.shape is None or not isinstance(amounts, (tuple, ListV)) or len(amounts) % 2 or \
            len(amounts) // 2 > len(x.shape):
        return UNKNOWN
    # an amount computed from the input's size (a "same" padding written by hand) is often unknown: the dims it
    # pads become unknown, the others (the batch, the channels) stay
    out = pad_last_dims(x, tuple(a if int_like(a) else UNKNOWN for a in amounts), "pad", where, interp.check)
    interp.check.applied(where, "pad", x, out)
    return out


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
    if name in LIKE_FACTORIES and args and isinstance(args[0], Tensor):
        return settle(args[0])
    if name == "flatten" and args and isinstance(args[0], Tensor):
        start = args[1] if len(args) > 1 else kwargs.get("start_dim", 0)
        end = args[2] if len(args) > 2 else kwargs.get("end_dim", -1)
        out = flatten(settle(args[0]), start, end, "torch.flatten", where, interp.check)
        interp.check.applied(where, "torch.flatten", args[0], out)
        return out
    if name in ("cat", "concat", "concatenate", "stack") and args:
        out = concatenate(interp, args[0], args[1] if len(args) > 1 else kwargs.get("dim", 0), where,
                          stack=name == "stack")
        interp.check.applied(where, f"torch.{name}", None, out)
        return out
    if name in REDUCTIONS and args and isinstance(args[0], Tensor):
        return reduce(interp, settle(args[0]), name, args[1] if len(args) > 1 else kwargs.get("dim"),
                      args[2] if len(args) > 2 else kwargs.get("keepdim", False), where)
    if name in SOFTMAXES and args and isinstance(args[0], Tensor):
        return softmax(settle(args[0]), args[1] if len(args) > 1 else kwargs.get("dim"), f"torch.{name}",
                              where, interp.check)
    if name in VALUES_AND_INDICES and args and isinstance(args[0], Tensor):
        return values_and_indices(interp, settle(args[0]), name, args[1:], kwargs, where)
    if name in REORDERING and args and isinstance(args[0], Tensor):
        out = reorder(interp, settle(args[0]), name, args[1:], kwargs, where)
        interp.check.applied(where, f"torch.{name}", args[0], out)
        return out
    if name in SAME_SHAPE and args and isinstance(args[0], Tensor):
        return settle(args[0])
    if name in ("reshape",) and args and isinstance(args[0], Tensor):
        return reshape(interp, settle(args[0]), args[1:], where, "reshape")
    if name in PIECES and args and isinstance(args[0], Tensor):
        return pieces(interp, args[0], name, args[1:], kwargs, where)
    if name in ELEMENTWISE or name == "where":
        return elementwise_function(interp, name, args, kwargs, where)
    if name in PRODUCTS and not kwargs:
        return matrix_product(interp, f"torch.{name}(a, b)", name, args, where)
    if name == "einsum" and args and not kwargs:
        return einsum(interp, args, where)
    if name == "Size" and len(args) == 1:
        items = interp.iterate(args[0])
        return UNKNOWN if items is UNKNOWN else tuple(items)
    return interp.call_unknown(args, kwargs)

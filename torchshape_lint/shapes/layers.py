"""The table of `torch.nn` layers, one registration per op: each one's signature (as its `__init__` in PyTorch) and
shape function (spatial_layers.py, feature_layers.py), its parameter count (parameter_counts.py), its
`torch.nn.functional` spellings (`F.max_pool2d` with its positional order; for a layer that keeps the shape, its
function and tensor-method spellings: `F.relu`, `x.relu_()`), whether a derivation shows it as a spatial step, and
the other names confirm mode matches PyTorch's calls of it by. What a registration holds: layer_spec.py.

Adding a layer touches one entry here (and its test). Shape functions take the bound arguments and the arriving
tensor, report what they prove wrong to the collector, and return the output tensor, or UNKNOWN when
it cannot be known. After a mismatch they go on as if the layer were fixed the way the finding says: a
norm layer passes its input's shape through, a Linear or Conv gives its declared output. So one mistake
gives one finding, and does not hide the next.
"""

from __future__ import annotations

from functools import partial
from typing import Any, Callable

from torchshape_lint.shapes.feature_layers import (
    batch_norm_shape, dropout1d_shape, dropout2d_shape, embedding_shape, flatten_shape, group_norm_shape,
    group_norm_validate, instance_norm_shape, layer_norm_shape, lazy_linear_shape, linear_shape, recurrent_shape,
    same_shape, softmax_shape, unflatten_shape,
)
from torchshape_lint.shapes.layer_spec import REQUIRED, LayerSpec, no_parameters
from torchshape_lint.shapes.parameter_counts import (
    conv_parameters, embedding_parameters, layer_norm_parameters, linear_parameters, norm_parameters,
    recurrent_parameters, unknown_parameters,
)
from torchshape_lint.shapes.spatial_layers import (
    adaptive_shape, conv_shape, conv_validate, padding_shape, pixel_shuffle_shape, pool_shape, pool_validate,
    unpool_shape, upsample_shape, with_indices,
)

FACTORY = ("device", None), ("dtype", None)

NORM_BIAS = (("bias", True),)  # keyword-only after the factory arguments in BatchNorm, InstanceNorm, GroupNorm


def conv_params(transposed: bool) -> tuple:
    head = (("in_channels", REQUIRED), ("out_channels", REQUIRED), ("kernel_size", REQUIRED),
            ("stride", 1), ("padding", 0))
    if transposed:
        return head + (("output_padding", 0), ("groups", 1), ("bias", True), ("dilation", 1),
                       ("padding_mode", "zeros")) + FACTORY
    return head + (("dilation", 1), ("groups", 1), ("bias", True), ("padding_mode", "zeros")) + FACTORY


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

"""A layer's arguments read back as attributes (`self.conv.out_channels`, `self.dropout.p`), as PyTorch stores them:
a conv keeps kernel_size, stride, padding and dilation as tuples, a pool keeps what it was given (stride defaulting to
kernel_size), an RNN keeps dropout as a float, `bias` is a parameter (None where `bias=False`). What is not listed
here, or not stored as given, is UNKNOWN: forward() branches on these values, so a wrong one would be a wrong path."""

from __future__ import annotations

from typing import Any

from torchshape_lint.shapes.layer_spec import Layer
from torchshape_lint.shapes.layers import DROPOUTS
from torchshape_lint.unknown import UNKNOWN

CONV_TUPLES = ("kernel_size", "stride", "padding", "dilation", "output_padding")
STORED_AS_GIVEN = {
    "Conv": ("in_channels", "out_channels", "groups", "padding_mode"),
    "MaxPool": ("kernel_size", "padding", "dilation", "return_indices", "ceil_mode"),
    "AvgPool": ("kernel_size", "padding", "ceil_mode", "count_include_pad"),
    "AdaptiveAvgPool": ("output_size",),
    "AdaptiveMaxPool": ("output_size", "return_indices"),
    "BatchNorm": ("num_features", "eps", "momentum", "affine", "track_running_stats"),
    "InstanceNorm": ("num_features", "eps", "momentum", "affine", "track_running_stats"),
    "GroupNorm": ("num_groups", "num_channels", "eps", "affine"),
    "LayerNorm": ("eps", "elementwise_affine"),
    "Linear": ("in_features", "out_features"),
    "Recurrent": ("input_size", "hidden_size", "num_layers", "bias", "batch_first", "bidirectional", "proj_size"),
    "Dropout": ("p", "inplace"),
    "Embedding": ("num_embeddings", "embedding_dim"),
    "Flatten": ("start_dim", "end_dim"),
    "Unflatten": ("dim", "unflattened_size"),
    "Softmax": ("dim",),
    "Upsample": ("size", "mode", "align_corners"),
    "PixelShuffle": ("upscale_factor",),
    "PixelUnshuffle": ("downscale_factor",),
}


def family(name: str) -> str:
    if name.startswith(("Conv", "ConvTranspose")) and name[-2:] in ("1d", "2d", "3d"):
        return "Conv"
    if name in ("RNN", "LSTM", "GRU"):
        return "Recurrent"
    if name in DROPOUTS:
        return "Dropout"
    if name in ("Softmax", "Softmin", "LogSoftmax"):
        return "Softmax"
    return name[:-2] if name[-2:] in ("1d", "2d", "3d") else name


def layer_attribute(layer: Layer, name: str) -> Any:
    """What `layer.<name>` holds in torch, or UNKNOWN."""
    kind, args = family(layer.spec.name), layer.args
    value = args.get(name, UNKNOWN) if not layer.changed else UNKNOWN
    if value is UNKNOWN:
        return UNKNOWN
    if kind == "Conv" and name in CONV_TUPLES:
        return as_tuple(value, int(layer.spec.name[-2]))
    if layer.spec.name == "AvgPool1d" and name in ("kernel_size", "stride", "padding"):  # the one pool that converts
        return as_tuple(args["kernel_size"] if value is None else value, 1)
    if name in STORED_AS_GIVEN.get(kind, ()):
        return value
    if kind in ("MaxPool", "AvgPool") and name == "stride":
        return args["kernel_size"] if value is None else value
    if kind in ("Conv", "Linear") and name == "bias":
        return None if value is False else UNKNOWN  # else a parameter tensor
    if kind == "Recurrent" and name == "dropout":
        return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else UNKNOWN
    if kind == "Upsample" and name == "scale_factor":  # torch keeps `float(s) if s else None`
        if isinstance(value, (tuple, list)) and value and all(isinstance(v, (int, float)) for v in value):
            return tuple(float(v) for v in value)
        if value is None or isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value) if value else None
        return UNKNOWN
    if kind == "LayerNorm" and name == "normalized_shape":
        return as_tuple(value, 1)
    return UNKNOWN


def as_tuple(value: Any, n: int) -> Any:
    """PyTorch's `_ntuple`: an int repeated n times, a tuple or list as a tuple; a string (padding="same") as given."""
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return (value,) * n
    if isinstance(value, (tuple, list)):
        return tuple(value)
    return UNKNOWN

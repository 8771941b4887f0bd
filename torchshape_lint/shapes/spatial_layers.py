"""The shape functions of the layers that change spatial sizes: convolutions, pools (max, average, adaptive, unpool),
upsampling, padding, pixel shuffle; each with PyTorch's formula (shapes/formulas.py) per spatial dimension."""

from __future__ import annotations

from functools import partial
from typing import Any, Callable

from torchshape_lint.shapes import dims, formulas
from torchshape_lint.shapes.layer_spec import (
    Layer, as_int, as_size, channel_check, known, ntuple, per_arguments, spatial_input, spatial_output,
)
from torchshape_lint.shapes.tensor import Tensor, defer
from torchshape_lint.shapes.violations import Collector, LayerArguments, OutputTooSmall
from torchshape_lint.unknown import UNKNOWN, Unknown


def conv_shape(nd: int, transposed: bool):
    def shape(layer: Layer, x: Tensor, check: Collector) -> Any:
        a = layer.args
        in_channels, out_channels = as_size(a["in_channels"]), as_size(a["out_channels"])
        x = spatial_input(layer, x, check, nd, in_channels)
        if x is None:
            return UNKNOWN
        channel_check(layer, x, check, in_channels)
        formula = formulas.conv_transpose if transposed else formulas.conv  # looked up here: a test may replace it
        size_fns, texts = conv_formulas(nd, transposed, formula, a["kernel_size"], a["stride"], a["dilation"],
                                        a["padding"], a.get("output_padding"))
        return spatial_output(layer, x, check, nd, out_channels, size_fns, texts)

    return shape


@per_arguments
def conv_formulas(nd: int, transposed: bool, formula: Callable, kernel_size: Any, stride: Any, dilation: Any,
                  padding: Any, output_padding: Any) -> tuple:
    """A convolution's size function (`formula` with its arguments) and formula text for each spatial dimension
    (None where an argument is not known)."""
    kernel, stride, dilation = (ntuple(v, nd) for v in (kernel_size, stride, dilation))
    fns, texts = [], []
    for i in range(nd):
        k, s, d = kernel[i], stride[i], dilation[i]
        if transposed:
            p, op = ntuple(padding, nd)[i], ntuple(output_padding, nd)[i]
            ok = known(k, s, d, p, op)
            fns.append(partial(formula, kernel=k, stride=s, padding=p, dilation=d, output_padding=op) if ok else None)
            texts.append(f"({{L}} - 1)*{s} - 2*{p} + {d}*({k}-1) + {op} + 1")
        elif padding == "same":
            fns.append(same_size)
            texts.append("{L} (padding='same')")
        else:
            p = 0 if padding == "valid" else ntuple(padding, nd)[i]
            ok = known(k, s, d, p) and s > 0  # torch rejects a stride of 0 itself
            fns.append(partial(formula, kernel=k, stride=s, padding=p, dilation=d) if ok else None)
            texts.append(f"floor(({{L}} + 2*{p} - {d}*({k}-1) - 1) / {s}) + 1")
    return tuple(fns), tuple(texts)


def same_size(size: int) -> int:
    return size


def conv_validate(layer: Layer) -> list:
    a = layer.args
    problems = []
    groups, cin, cout = as_int(a["groups"]), as_int(a.get("in_channels")), as_int(a["out_channels"])
    for name, value in (("in_channels", cin), ("out_channels", cout)):
        if known(groups, value) and groups > 0 and value % groups:
            problems.append(LayerArguments(layer.where, layer.spec.name, None, groups, value,
                                           problem=f"{name}={value} is not divisible by groups={groups}"))
    strides = a["stride"] if isinstance(a["stride"], (tuple, list)) else (a["stride"],)
    if a["padding"] == "same" and any(known(s) and s != 1 for s in strides):
        problems.append(LayerArguments(layer.where, layer.spec.name,
                                       problem="padding='same' is not supported for strided convolutions"))
    return problems


def pool_shape(nd: int, dilated: bool):
    def shape(layer: Layer, x: Tensor, check: Collector) -> Any:
        a = layer.args
        x = spatial_input(layer, x, check, nd, UNKNOWN)
        if x is None:
            return UNKNOWN
        formula = formulas.avg_pool3d if nd == 3 and not dilated else formulas.pool  # looked up here, as for convs
        size_fns, texts = pool_formulas(nd, dilated, formula, a["kernel_size"], a["stride"], a["padding"],
                                        a["dilation"] if dilated else 1, a["ceil_mode"])
        channels = x.shape[len(x.shape) - nd - 1]
        return spatial_output(layer, x, check, nd, channels, size_fns, texts)

    return shape


@per_arguments
def pool_formulas(nd: int, dilated: bool, formula: Callable, kernel_size: Any, stride: Any, padding: Any,
                  dilation: Any, ceil_mode: Any) -> tuple:
    """A pool's size function (`formula` with its arguments) and formula text for each spatial dimension (None where
    an argument is not known)."""
    kernel = ntuple(kernel_size, nd)
    stride = kernel if stride is None or stride == [] or stride == () else ntuple(stride, nd)
    fns, texts = [], []
    for k, s, p, d in zip(kernel, stride, ntuple(padding, nd), ntuple(dilation, nd)):
        ok = known(k, s, p, d, ceil_mode) and isinstance(ceil_mode, bool) and s > 0  # torch rejects stride 0
        rounding = "ceil" if ceil_mode is True else "floor"
        texts.append(f"{rounding}(({{L}} + 2*{p} - {d}*({k}-1) - 1) / {s}) + 1")
        if nd == 3 and not dilated:  # avg_pool3d also needs an input at least as large as the kernel
            fns.append(partial(formula, kernel=k, stride=s, padding=p, ceil_mode=ceil_mode) if ok else None)
            texts[-1] += f" if {{L}} >= {k} else 0"
            continue
        fns.append(partial(formula, kernel=k, stride=s, padding=p, dilation=d, ceil_mode=ceil_mode) if ok else None)
    return tuple(fns), tuple(texts)


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
    def validate(layer: Layer) -> list:
        kernel, padding = ntuple(layer.args["kernel_size"], nd), ntuple(layer.args["padding"], nd)
        for k, p in zip(kernel, padding):
            if known(k, p) and p > k // 2:
                return [LayerArguments(layer.where, layer.spec.name,
                                       problem=f"padding={p} is more than half of kernel_size={k}")]
        return []

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
        if x.pending and not (x.exact and x.hint is not None and len(x.hint) < nd):
            # the model's input before a layer fixed its rank (a generator's first ReflectionPad2d): padded as
            # the layer that fixes it reads it, as F.pad is
            return defer(x, partial(shape, layer, check=check))
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

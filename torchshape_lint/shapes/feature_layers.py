"""The shape functions of the layers that keep spatial sizes and read or change the features: normalization (batch,
instance, group, layer), linear and embedding, flatten and unflatten, softmax, recurrent layers (and their states),
dropout, and the layers that keep the shape."""

from __future__ import annotations

from typing import Any

from torchshape_lint.shapes import dims
from torchshape_lint.shapes.layer_spec import (
    Layer, as_int, as_size, channel_check, has_channel_state, known, spatial_input,
)
from torchshape_lint.shapes.tensor import Tensor, as_written, flattened, materialize, settle, show_shape
from torchshape_lint.shapes.violations import (
    ChannelMismatch, Collector, InputRank, LayerArguments, LinearInFeatures, RecurrentState, Suggestion, TooFewValues,
)
from torchshape_lint.unknown import UNKNOWN


def batch_norm_shape(nd: int):
    """BatchNorm1d takes (N, C) or (N, C, L); 2d takes (N, C, H, W); 3d (N, C, D, H, W); channels at 1."""
    ranks = {1: (2, 3), 2: (4,), 3: (5,)}[nd]

    def shape(layer: Layer, x: Tensor, check: Collector) -> Any:
        declared = as_size(layer.args["num_features"])
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
        x = spatial_input(layer, x, check, nd, as_size(a["num_features"]))
        if x is None:
            return UNKNOWN
        if has_channel_state(layer):
            channel_check(layer, x, check, as_size(a["num_features"]))
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
    channel_check(layer, x, check, as_size(layer.args["num_channels"]))
    return x.then(layer.spec.name, layer.where, x.shape)


def group_norm_validate(layer: Layer) -> list:
    groups, channels = as_int(layer.args["num_groups"]), as_int(layer.args["num_channels"])
    if known(groups, channels) and groups > 0 and channels % groups:
        return [LayerArguments(layer.where, layer.spec.name, None, groups, channels,
                               problem=f"num_channels={channels} is not divisible by num_groups={groups}")]
    return []


def layer_norm_shape(layer: Layer, x: Tensor, check: Collector) -> Any:
    normalized = layer.args["normalized_shape"]
    normalized = tuple(normalized) if isinstance(normalized, (tuple, list)) else (normalized,)
    normalized = tuple(as_size(n) for n in normalized)
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


def linear_shape(layer: Layer, x: Tensor, check: Collector) -> Any:
    declared, out = as_size(layer.args["in_features"]), as_size(layer.args["out_features"])
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
    out = as_size(layer.args["out_features"])
    if x.shape is None:
        return x.then(layer.spec.name, layer.where, None, last=out) if not x.pending else UNKNOWN
    return x.then(layer.spec.name, layer.where, x.shape[:-1] + (out,)) if x.shape else UNKNOWN


def flatten(x: Tensor, start: Any, end: Any, label: str, where: Any, check: Collector) -> Any:
    """torch.flatten / nn.Flatten / x.flatten: multiply dims start..end into one (a scalar flattens as rank 1)."""
    if (start, end) == (1, -1) and (whole := flattened(x)) is not None:  # the model's input of symbolic sizes: (N, F)
        return x.then(label, where, whole.shape)
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
    width = as_size(layer.args["embedding_dim"])
    if x.pending or x.shape is None:
        return x.then(layer.spec.name, layer.where, None, last=width)
    return x.then(layer.spec.name, layer.where, x.shape + (width,))


RECURRENT = ("RNN", "GRU", "LSTM")


def recurrent_shape(layer: Layer, x: Tensor, check: Collector) -> Any:
    """RNN/LSTM/GRU: (L, N, input_size) or batch_first (N, L, input_size) or unbatched (L, input_size) →
    the same with D * hidden (proj_size for an LSTM that has one), and the final state `h_n` (an LSTM's `(h_n, c_n)`),
    shaped as `recurrent_states` says."""
    a = layer.args
    declared, hidden = as_size(a["input_size"]), as_size(a.get("proj_size", 0) or a["hidden_size"])
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

"""How many numbers a layer's parameters hold, from its bound arguments: each as the layer's __init__ in PyTorch
allocates its nn.Parameters (weights, then biases where asked for); UNKNOWN where an argument is not known."""

from __future__ import annotations

from typing import Any

from torchshape_lint.shapes import dims
from torchshape_lint.shapes.layer_spec import as_int, known, ntuple
from torchshape_lint.unknown import UNKNOWN


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

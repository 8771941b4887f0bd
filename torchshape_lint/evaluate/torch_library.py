"""What the evaluator knows of PyTorch beyond its layers, functions and tensors: what wraps a module or a tensor
(`nn.Parameter`, `Variable`, `weight_norm`, `spectral_norm`, `DataParallel`), torchinfo's and torchsummary's
`summary`; and the table of PyTorch's names the library dispatch looks up first."""

from __future__ import annotations

from dataclasses import replace

from torchshape_lint.evaluate.python_library import int_like
from torchshape_lint.evaluate.torch_modules import SELF_RETURNING_METHODS, weights_verify
from torchshape_lint.evaluate.values import Container, Instance, ListV
from torchshape_lint.shapes.layer_spec import Layer
from torchshape_lint.shapes.parameter_counts import unknown_parameters
from torchshape_lint.shapes.tensor import Tensor
from torchshape_lint.unknown import UNKNOWN


def _summary(interp, args, kwargs, where):
    """torchinfo.summary(model, (1, 3, 32, 32)) / torchsummary.summary(model, (3, 32, 32)): a usage input."""
    from torchshape_lint.shapes.tensor import model_input

    size = args[1] if len(args) > 1 else kwargs.get("input_size")
    if args and isinstance(size, (tuple, ListV)) and size and all(int_like(d) and d > 0 for d in size):
        interp.apply_model(args[0], model_input(tuple(size), exact=True, origin="usage"))
    return UNKNOWN


def _summary_on_tensors(interp, args, kwargs, where):
    """torchsummaryX.summary(model, torch.zeros(1, 1, 3000), *more): runs `model(x, *more)` on the tensors given,
    as a call of the model there would (a usage: the input is the tensor's shape, taken as it is)."""
    if len(args) >= 2 and not kwargs and all(isinstance(t, Tensor) for t in args[1:]):
        interp.apply_model(args[0], *args[1:])
    return UNKNOWN


def reparametrized(interp, args, kwargs, where):
    """weight_norm(nn.Conv1d(...)): the layer keeps its shape rule; its weight becomes a magnitude and a direction,
    so the number of its parameters is no longer the plain layer's."""
    module = args[0] if args else kwargs.get("module", UNKNOWN)
    if isinstance(module, Layer):
        return replace(module, spec=replace(module.spec, parameters=unknown_parameters))
    return module if isinstance(module, (Container, Instance)) else interp.call_unknown(args, kwargs)


def spectrally_normed(interp, args, kwargs, where):
    """spectral_norm: the layer as it was (its weight is divided by a norm kept in buffers, not parameters)."""
    module = args[0] if args else kwargs.get("module", UNKNOWN)
    return module if isinstance(module, (Layer, Container, Instance)) else interp.call_unknown(args, kwargs)


# Modules that run the module they wrap (on several devices): shapes are the wrapped module's
MODULE_WRAPPERS = frozenset({"DataParallel", "DistributedDataParallel"})

# What a module may be given to and still be the same module, as far as shapes go
MODULE_PRESERVING = SELF_RETURNING_METHODS | MODULE_WRAPPERS


def wrapped_module(interp, args, kwargs, where):
    """torch.nn.DataParallel(net): runs `net` on each device's share of the batch, with its shapes."""
    module = args[0] if args else kwargs.get("module", UNKNOWN)
    return module if isinstance(module, (Layer, Container, Instance)) else interp.call_unknown(args, kwargs)


def variable(interp, args, kwargs, where):
    """torch.autograd.Variable(x, requires_grad=...): the tensor itself."""
    return args[0] if len(args) == 1 and isinstance(args[0], Tensor) else interp.call_unknown(args, kwargs)


def parameter(interp, args, kwargs, where):
    """nn.Parameter(torch.randn(16, 3, 3, 3)): the tensor it wraps, with its shape; a step of its own, so that a
    message says the weight came from there, not from an input."""
    data = args[0] if args else kwargs.get("data", UNKNOWN)
    if not isinstance(data, Tensor):
        return interp.call_unknown(args, kwargs)
    return data.then("nn.Parameter", where, data.shape) if data.shape is not None else data


TORCH_EXTERNALS = {
    "torchinfo.summary": _summary, "torchsummary.summary": _summary, "torchsummaryX.summary": _summary_on_tensors,
    "torch.autograd.Variable": variable, "torch.autograd.variable.Variable": variable,
    "torch.nn.Parameter": parameter, "torch.nn.parameter.Parameter": parameter,
    **{f"torch.nn.utils.{path}weight_norm": reparametrized for path in ("", "parametrizations.", "weight_norm.")},
    **{f"torch.nn.utils.{path}spectral_norm": spectrally_normed
       for path in ("", "parametrizations.", "spectral_norm.")},
    **{f"torch.nn.{path}{wrapper}": wrapped_module for wrapper in MODULE_WRAPPERS
       for path in ("", "parallel.", "parallel.data_parallel.", "parallel.distributed.")},
}

TORCH_BUILTINS = {"weights_verify": weights_verify}

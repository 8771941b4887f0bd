"""What the evaluator knows of code outside the file, dispatched: Python's builtins and a few standard names
(python_library; argparse_library: a script's command line), PyTorch (torch_modules: nn modules and containers;
torch_functions: torch.* and F.*; tensor_methods: a tensor's attributes and methods; torch_library: wrappers and the
table of PyTorch's names), the data it is fed (torchvision_library). Anything not there is UNKNOWN.
"""

from __future__ import annotations

from typing import Any, Callable

from torchshape_lint.evaluate.argparse_library import ARGPARSE_EXTERNALS, ArgumentParser, parser_method
from torchshape_lint.evaluate.numpy_library import ARRAY_METHODS, NUMPY_EXTERNALS, array_method
from torchshape_lint.evaluate.python_library import (
    BUILTINS as PYTHON_BUILTINS, PYTHON_EXTERNALS, Builtin, Method, Partial, dict_method, list_method, string_method,
)
from torchshape_lint.evaluate.tensor_methods import tensor_method
from torchshape_lint.evaluate.torch_functions import canonical_name, functional, torch_function
from torchshape_lint.evaluate.torch_library import TORCH_BUILTINS, TORCH_EXTERNALS
from torchshape_lint.evaluate.torch_modules import (
    container_method, instance_method, layer_method, make_container, make_layer, super_call,
)
from torchshape_lint.evaluate.torchvision_library import TORCHVISION_EXTERNALS
from torchshape_lint.evaluate.values import Container, DictV, External, Instance, ListV, Super, readable
from torchshape_lint.shapes import layers
from torchshape_lint.shapes.layer_spec import Layer
from torchshape_lint.shapes.tensor import Tensor
from torchshape_lint.unknown import Unknown

BUILTINS = {**PYTHON_BUILTINS, **TORCH_BUILTINS}
EXTERNALS = {**PYTHON_EXTERNALS, **ARGPARSE_EXTERNALS, **TORCH_EXTERNALS, **TORCHVISION_EXTERNALS, **NUMPY_EXTERNALS}


def call(interp: Any, func: Any, args: list, kwargs: dict, where: Any) -> Any:
    if isinstance(func, Builtin):
        handler = BUILTINS.get(func.name)
        return handler(interp, args, kwargs, where) if handler else interp.call_unknown(args, kwargs)
    if isinstance(func, Method):
        return call_method(interp, func.receiver, func.name, args, kwargs, where)
    if isinstance(func, Partial):
        return interp.call(func.func, list(func.args) + list(args), {**func.kwargs, **kwargs}, where)
    return call_external(interp, func.name, args, kwargs, where)


def call_external(interp: Any, name: str, args: list, kwargs: dict, where: Any) -> Any:
    handler = HANDLERS.get(name)
    if handler is None:
        handler = HANDLERS[name] = handler_for(name)
    return handler(interp, args, kwargs, where)


HANDLERS: dict = {}  # an external name → what calling it does (every layer constructor call asks: worked out once)


def handler_for(name: str) -> Callable[[Any, list, dict, Any], Any]:
    name = canonical_name(name)
    if name in EXTERNALS:
        return EXTERNALS[name]
    parts = name.split(".")
    leaf = parts[-1]
    if name.startswith("torch.nn.") and not name.startswith(("torch.nn.functional.", "torch.nn.init.")):
        if leaf in ("Sequential", "ModuleList", "ModuleDict"):
            return lambda interp, args, kwargs, where: make_container(interp, leaf, args, kwargs, where)
        spec = layers.spec_for(leaf)
        if spec is not None:
            return lambda interp, args, kwargs, where: make_layer(interp, spec, args, kwargs, where)
        return call_unknown
    if name.startswith("torch.nn.functional."):
        return lambda interp, args, kwargs, where: functional(interp, leaf, args, kwargs, where)
    if name.startswith("torch.") and len(parts) == 2:
        return lambda interp, args, kwargs, where: torch_function(interp, leaf, args, kwargs, where)
    return call_unknown


def call_unknown(interp: Any, args: list, kwargs: dict, where: Any) -> Any:
    return interp.call_unknown(args, kwargs)


def same_value(a: Any, b: Any) -> bool:
    """Whether two values are one as far as shapes go: equal plain values, one object, or names of one thing
    (`torch.cuda.FloatTensor` and `torch.FloatTensor` make tensors of the same shape)."""
    if isinstance(a, External) and isinstance(b, External):
        return canonical_name(a.name) == canonical_name(b.name)
    if isinstance(a, Unknown) or isinstance(b, Unknown):
        return False
    return a is b or (type(a) is type(b) and isinstance(a, (int, float, str, bool, type(None), tuple)) and a == b)


def call_method(interp: Any, receiver: Any, name: str, args: list, kwargs: dict, where: Any) -> Any:
    if isinstance(receiver, Super):
        return super_call(interp, receiver, name, args, kwargs, where)
    if isinstance(receiver, Tensor):
        if name in ARRAY_METHODS:  # `x.astype(np.float32)`: an array's
            return array_method(interp, receiver, name, args, kwargs)
        return tensor_method(interp, receiver, name, args, kwargs, where)
    if isinstance(receiver, ListV):
        return list_method(interp, receiver, name, args, kwargs)
    if isinstance(receiver, DictV):
        return dict_method(interp, receiver, name, args, kwargs)
    if isinstance(receiver, Container):
        return container_method(interp, receiver, name, args, kwargs, where)
    if isinstance(receiver, Layer):
        return layer_method(interp, receiver, name, args, kwargs, where)
    if isinstance(receiver, ArgumentParser):
        return parser_method(interp, receiver, name, args, kwargs)
    if isinstance(receiver, Instance):
        return instance_method(interp, receiver, name, args, kwargs, where)
    if isinstance(readable(receiver), str):
        return string_method(interp, readable(receiver), name, args, kwargs)
    return interp.call_unknown(args, kwargs)

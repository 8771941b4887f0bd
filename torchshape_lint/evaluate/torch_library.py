"""What the evaluator knows of PyTorch: `torch.nn` layers and containers, `torch.nn.functional`, `torch.*`
functions, tensor attributes, methods and indexing, and the methods of modules (containers, the file's own
nn.Module subclasses and their library bases)."""

from __future__ import annotations

import ast
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

from torchshape_lint.evaluate.python_library import Builtin, Method, int_like
from torchshape_lint.evaluate.torchvision_library import last_batch_violation
from torchshape_lint.evaluate.values import ClassV, Container, External, Instance, ListV, Sourced, Super, readable
from torchshape_lint.shapes import dims, factories, layers, merges, products
from torchshape_lint.shapes.tensor import Tensor, as_written, concrete_input, defer, flattened, settle, show_shape
from torchshape_lint.shapes.violations import MatmulMismatch, MergeMismatch, Suggestion, ViewSize
from torchshape_lint.source.writes import MUTATING_METHODS
from torchshape_lint.unknown import UNKNOWN


def make_layer(interp: Any, spec: layers.LayerSpec, args: list, kwargs: dict, where: Any) -> Any:
    bound = layers.bind(spec, tuple(args), kwargs)
    if bound is None:
        return UNKNOWN
    layer = layers.Layer(spec, {k: readable(v) for k, v in bound.items()}, where, visible_ints(interp.call_scope))
    layers.validate(layer, interp.check)
    return layer


def visible_ints(scope: Any) -> dict:
    """The names holding a plain int where a layer is built (inner scopes shadow outer ones), in the order they
    were bound: suggestions can then say `planes` rather than a number right for one build only. (By the value's
    exact type, as `int_like` decides for every value the evaluator makes: it runs for every layer over every name
    of every enclosing scope, the file's globals included.)"""
    names: dict = {}
    while scope is not None:
        for name, value in scope.vars.items():
            if type(value) in INT_TYPES:
                names.setdefault(name, value)
        scope = scope.parent
    return names


INT_TYPES = frozenset({int, Sourced})  # not bool; Sourced: an int made from a command-line default


def make_container(interp: Any, kind: str, args: list, kwargs: dict, where: Any) -> Any:
    if kwargs or len(args) > 1 and kind != "Sequential":
        return UNKNOWN
    container = Container(kind, [], where)
    if kind == "Sequential" and len(args) == 1 and isinstance(readable(args[0]), dict):
        args = [readable(args[0])]
    elif kind == "Sequential":
        container.children = [(str(i), m) for i, m in enumerate(args)]
        return container
    if not args:
        return container
    source = readable(args[0])
    if isinstance(source, dict):
        container.children = [(str(k), v) for k, v in source.items()]
        return container
    items = interp.iterate(source)
    if items is UNKNOWN:
        container.opaque = True
    elif kind == "ModuleDict":
        pairs = [interp.iterate(p) for p in items]
        if any(p is UNKNOWN or len(p) != 2 for p in pairs):
            container.opaque = True
        else:
            container.children = [(str(k), v) for k, v in pairs]
    else:
        container.children = [(str(i), m) for i, m in enumerate(items)]
    return container


def container_from_base(interp: Any, cls: ClassV, args: list, kwargs: dict, where: Any) -> Any:
    """A class that subclasses nn.Sequential without its own __init__ is built like one."""
    for base in cls.external_bases():
        if isinstance(base, External) and base.name.split(".")[-1] in ("Sequential", "ModuleList", "ModuleDict"):
            return make_container(interp, base.name.split(".")[-1], args, kwargs, where)
    return None


def container_item(container: Container, key: Any) -> Any:
    if container.opaque:
        return UNKNOWN
    if isinstance(key, str):
        return next((m for name, m in container.children if name == key), UNKNOWN)
    if isinstance(key, slice):
        if any(b is not None and not int_like(b) for b in (key.start, key.stop, key.step)):
            return UNKNOWN
        return Container(container.kind, container.children[key], container.where)
    if int_like(key) and -len(container.children) <= key < len(container.children):
        return container.children[key][1]
    return UNKNOWN


# ---- methods of modules ----------------------------------------------------------------------------

# A module's methods that return the module itself, whatever their arguments (`model.to(device)`, `model.cuda()`).
SELF_RETURNING_METHODS = frozenset(
    "to cuda cpu train eval float double half bfloat16 requires_grad_ share_memory".split())


def layer_method(interp, layer: layers.Layer, name, args, kwargs, where):
    if name in SELF_RETURNING_METHODS:
        return layer
    if name == "forward":
        return interp.apply_module(layer, args, kwargs, where)
    return interp.call_unknown(args, kwargs)


def container_method(interp, container: Container, name, args, kwargs, where):
    if container.opaque:
        return interp.call_unknown(args, kwargs)
    if name == "append" and len(args) == 1:
        container.children.append((str(len(container.children)), args[0]))
        return container
    if name == "extend" and len(args) == 1:
        more = interp.iterate(args[0])
        if more is UNKNOWN:
            container.opaque = True
        else:
            container.children.extend((str(len(container.children) + i), m) for i, m in enumerate(more))
        return container
    if name == "insert" and len(args) == 2 and int_like(args[0]):
        container.children.insert(args[0], (str(args[0]), args[1]))
        container.children = [(str(i), m) if n.isdigit() else (n, m) for i, (n, m) in enumerate(container.children)]
        return None
    if name in ("add_module", "register_module") and len(args) == 2 and isinstance(args[0], str):
        names = [n for n, _ in container.children]  # a name it has already is replaced in place, as torch's dict does
        if args[0] in names:
            container.children[names.index(args[0])] = (args[0], args[1])
        else:
            container.children.append((args[0], args[1]))
        return None
    if name == "forward" and container.kind == "Sequential":
        return interp.apply_module(container, args, kwargs, where)
    if container.kind == "ModuleDict" and name in ("items", "keys", "values"):
        if name == "items":
            return tuple(container.children)
        return tuple(n for n, _ in container.children) if name == "keys" else tuple(container.modules())
    if name in SELF_RETURNING_METHODS:
        switch_mode(container, name, args, kwargs)
        return container
    if name in MUTATING_METHODS:  # `pop`, `update`, an `add_module` under a name not known: its children are not known
        container.opaque = True
    return interp.call_unknown(args, kwargs)


# the public attributes of torch.nn.Module (torch 2.14: `dir(nn.Module)` and an instance's own): `hasattr(self, name)`
# for any other name on a module of the file is decided by what its own code set
MODULE_ATTRIBUTES = frozenset(
    "T_destination add_module apply bfloat16 buffers call_super_init children compile cpu cuda double dump_patches "
    "eval extra_repr float forward get_buffer get_extra_state get_parameter get_submodule half ipu load_state_dict "
    "modules mtia named_buffers named_children named_modules named_parameters parameters register_backward_hook "
    "register_buffer register_forward_hook register_forward_pre_hook register_full_backward_hook "
    "register_full_backward_pre_hook register_load_state_dict_post_hook register_load_state_dict_pre_hook "
    "register_module register_parameter register_state_dict_post_hook register_state_dict_pre_hook requires_grad_ "
    "set_extra_state set_submodule share_memory state_dict to to_empty train training type xpu zero_grad".split())
REGISTRATIONS = ("add_module", "register_module", "register_buffer", "register_parameter")


def instance_method(interp, instance: Instance, name, args, kwargs, where):
    if name in REGISTRATIONS:  # `self.register_buffer("mask", m)` makes an attribute, as `self.mask = m` would
        if args and isinstance(args[0], str):
            interp.set_attribute(instance, args[0], args[1] if len(args) > 1 else UNKNOWN)
        else:
            instance.handed_out = True
        return None
    if name == "forward" and instance.cls.is_module():
        return interp.apply_module(instance, args, kwargs, where)
    if name == "__setattr__" and len(args) == 2 and not kwargs and isinstance(args[0], str):
        interp.set_attribute(instance, args[0], args[1])  # what `self.name = value` calls
        return None
    if name in ("__getattr__", "get_submodule") and len(args) == 1 and not kwargs and isinstance(args[0], str) \
            and "." not in args[0] and instance.cls.is_module():
        # nn.Module's own lookup finds what was registered (a submodule), never a plain attribute: that one raises
        found = instance.attrs.get(args[0], UNKNOWN)
        module = isinstance(found, (layers.Layer, Container)) or isinstance(found, Instance) and found.cls.is_module()
        return found if module else UNKNOWN
    if name in SELF_RETURNING_METHODS and instance.cls.is_module():
        switch_mode(instance, name, args, kwargs)
        return instance
    return interp.call_unknown(args, kwargs)


def switch_mode(module: Any, name: str, args: list, kwargs: dict) -> None:
    """`model.train()`, `model.train(False)`, `model.eval()` set the mode; a mode not known makes it unknown."""
    if name in ("train", "eval"):
        mode = (args[0] if args else kwargs.get("mode", True)) if name == "train" else False
        set_training(module, mode if isinstance(mode, bool) else UNKNOWN, set())


def set_training(module: Any, mode: Any, seen: set) -> None:
    """`model.train()` / `model.eval()`: `training` of the module and every module under it."""
    if id(module) in seen:
        return
    seen.add(id(module))
    children = []
    if isinstance(module, Instance) and module.cls.is_module():
        module.attrs["training"] = mode
        children = list(module.attrs.values())
    elif isinstance(module, Container):
        children = module.modules()
    for child in children:
        if isinstance(child, (Instance, Container)):
            set_training(child, mode, seen)


def inherited_attribute(cls: ClassV, name: str) -> Any:
    """What a class of the file inherits from a known library base: torchvision's `WeightsEnum.verify`
    returns None for None, which is how builders such as `vgg16(weights=None)` start."""
    for base in cls.external_bases():
        if isinstance(base, External) and base.name.split(".")[-1] == "WeightsEnum" and name == "verify":
            return Builtin("weights_verify")
    if name == "training" and cls.is_module():
        return False  # evaluated in eval mode, as confirm runs the model: `if self.training and ...` is not taken
    return UNKNOWN


def is_autograd_function(cls: ClassV) -> bool:
    """A class deriving torch.autograd.Function: called through `.apply`, which runs its forward."""
    return any(isinstance(b, External) and b.name in ("torch.autograd.Function", "torch.autograd.function.Function")
               for b in cls.external_bases())


def weights_verify(interp, args, kwargs, where):
    return None if args and args[-1] is None else UNKNOWN


def super_call(interp, sup: Super, name, args, kwargs, where):
    """A method of a library base: `super().__init__(...)` of torch.nn.Module does nothing the analysis
    needs; of nn.Sequential it takes the children."""
    if name == "__init__":
        container = container_from_base(interp, sup.cls, args, kwargs, where)
        if container is not None and isinstance(sup.receiver, Instance):
            sup.receiver.attrs["__container__"] = container
        return None
    return interp.call_unknown(args, kwargs)


# ---- torch and torch.nn.functional ------------------------------------------------------------------

RESHAPING_METHODS = frozenset("view reshape flatten unsqueeze squeeze permute transpose mean sum amax amin".split())
TENSOR_FACTORIES = frozenset("randn rand zeros ones empty randint full".split())
# torch.zeros_like(x) and the others: a new tensor of x's shape
LIKE_FACTORIES = frozenset("zeros_like ones_like empty_like rand_like randn_like randint_like full_like".split())
# x.new_zeros(2, 3), x.new_full((2, 3), 0.5): a new tensor of the sizes given, as torch.zeros / torch.full
NEW_FACTORIES = {"new_zeros": "zeros", "new_ones": "ones", "new_empty": "empty", "new_full": "full"}
# functions and tensor methods that keep the shape: the layers' own spellings (F.relu: shapes/layers.py), and
# others, with no layer of that name or whose layer checks what these do not (F.batch_norm's channels)
SAME_SHAPE = layers.SAME_SHAPE_SPELLINGS | frozenset(
    "normalize batch_norm group_norm layer_norm exp log abs sqrt rsqrt neg sign sin cos clamp clip "
    "contiguous float double half bfloat16 long int bool detach clone cpu cuda to type_as requires_grad_ "
    "exp_ zero_ fill_ clamp_ masked_fill".split())

SOFTMAXES = frozenset("softmax log_softmax softmin".split())


def functional(interp: Any, name: str, args: list, kwargs: dict, where: Any) -> Any:
    x = args[0] if args else kwargs.get("input", UNKNOWN)
    if not isinstance(x, Tensor):
        return UNKNOWN
    if name in SAME_SHAPE:
        return settle(x)
    if name in SOFTMAXES:
        return layers.softmax(settle(x), args[1] if len(args) > 1 else kwargs.get("dim"), f"F.{name}", where,
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
        bound = layers.bind(spec, (), {k: v for k, v in supplied.items() if k in dict(spec.params or ())})
        if bound is None:
            return UNKNOWN
        layer = layers.Layer(spec, bound, where)
        if "training" in params:  # F.dropout*'s default is True
            layer.training = supplied.get("training", True)
        layers.validate(layer, interp.check)
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
    layer_args = layers.bind(spec, (), supplied)
    if layer_args is None:
        return UNKNOWN
    written = f"F.{name}({spec.declares}={layer_args[spec.declares]} from weight {show_shape(shape)})"
    layer = layers.Layer(replace(spec, parameters=layers.unknown_parameters), layer_args, where, written=written)
    layers.validate(layer, interp.check)
    return layer(x, interp.check)


def functional_instance_norm(interp: Any, x: Tensor, args: list, kwargs: dict, where: Any) -> Any:
    """F.instance_norm(input, running_mean, running_var, weight, bias, use_input_stats=True, ...): the shape stays;
    with the input's own statistics (the default, in any mode) a single spatial element raises."""
    use_input_stats = args[5] if len(args) > 5 else kwargs.get("use_input_stats", True)
    if x.shape is not None and len(x.shape) >= 3 and use_input_stats is True \
            and layers.one_spatial_value(x, x.shape, "F.instance_norm", where, interp.check):
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
    layer_args = layers.bind(spec, (), {k: bound[k] for k in ("kernel_size", "stride", "padding") if k in bound})
    if layer_args is None:
        return UNKNOWN
    return layers.Layer(spec, layer_args, where)(x, interp.check, output_size=bound.get("output_size"))


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
    out = layers.pad_last_dims(x, tuple(a if int_like(a) else UNKNOWN for a in amounts), "pad", where, interp.check)
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
    if name in TENSOR_FACTORIES or name == "Tensor" and args and all(int_like(a) for a in args):
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
        out = layers.flatten(settle(args[0]), start, end, "torch.flatten", where, interp.check)
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
        return layers.softmax(settle(args[0]), args[1] if len(args) > 1 else kwargs.get("dim"), f"torch.{name}",
                              where, interp.check)
    if name in REORDERING and args and isinstance(args[0], Tensor) and not kwargs:
        out = reorder(interp, settle(args[0]), name, args[1:], where)
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


def sized_by_numbers(name: str, args: list, kwargs: dict) -> tuple | None:
    """torch.arange(end) / arange(start, end, step=1), linspace(start, end, steps), logspace(start, end, steps),
    eye(n, m=None): the shape (shapes/factories.py), None where it is not known or PyTorch raises."""
    params = {"arange": ("start", "end", "step"), "linspace": ("start", "end", "steps"),
              "logspace": ("start", "end", "steps"), "eye": ("n", "m")}[name]
    if name == "arange" and len(args) == 1:
        args = [0] + list(args)  # arange(end) counts from 0
    positional = dict(zip(params, args))
    if len(args) > len(params) or any(k in positional for k in kwargs):
        return None
    bound = {**positional, **{k: v for k, v in kwargs.items() if k in params}}  # dtype, device: no shape
    if name == "arange":
        return factories.arange(bound.get("start", 0), bound.get("end"), bound.get("step", 1))
    if name == "eye":
        return factories.eye(bound.get("n"), bound.get("m"))
    return factories.spaced(bound.get("steps"))


def tensor_from_data(args: list) -> Any:
    """torch.tensor([[3.0], [4.0]]) / torch.as_tensor(data) / torch.Tensor(data): the nesting of the data gives the
    shape (a usage input, as torch.randn's); a ragged or unknown one gives UNKNOWN."""
    shape = data_shape(args[0], 0) if len(args) == 1 else UNKNOWN
    return UNKNOWN if shape is UNKNOWN else concrete_input(shape, "usage")


def data_shape(data: Any, depth: int) -> Any:
    data = readable(data)
    if isinstance(data, (int, float, bool)):
        return ()
    if isinstance(data, Tensor):  # a NumPy array (numpy_library), or a tensor: torch.tensor copies its shape
        settled = settle(data)
        known = settled.shape is not None and not settled.pending and all(isinstance(d, int) for d in settled.shape)
        return tuple(settled.shape) if known else UNKNOWN
    if not isinstance(data, (ListV, tuple)) or depth > MAX_DATA_NESTING:
        return UNKNOWN
    inner = {data_shape(item, depth + 1) for item in data}
    if len(inner) > 1 or UNKNOWN in inner:
        return UNKNOWN
    return (len(data),) + (inner.pop() if inner else ())


MAX_DATA_NESTING = 32  # a list that holds itself has no shape


def tensor_factory(name: str, args: list, kwargs: dict) -> Any:
    """torch.randn(1, 3, 32, 32) / torch.zeros((1, 3, 32, 32)) / torch.ones(size=(...)): a usage input; in a
    forward(), sizes read from its input (`torch.zeros(x.size(0), 10)`) may be symbolic."""
    sizes = args
    if name == "randint":
        sizes = [kwargs["size"]] if "size" in kwargs else args[-1:] if len(args) >= 2 else []
    elif name == "full":
        sizes = args[:1] if args else [kwargs.get("size", UNKNOWN)]
    elif not sizes and "size" in kwargs:
        sizes = [kwargs["size"]]
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, ListV)):
        sizes = list(sizes[0])
    if not sizes or not all(int_like(s) and s >= 0 or isinstance(s, dims.Sym) for s in sizes):
        return UNKNOWN
    return concrete_input(tuple(sizes), "usage")


def concatenate(interp: Any, tensors: Any, dim: Any, where: Any, stack: bool = False) -> Any:
    """torch.cat (sizes add up along `dim`) and torch.stack (a new dimension at `dim`, as long as the list): the
    shapes must fit (merges.cat, merges.stack), else a violation and an unknown result."""
    items = interp.iterate(tensors)
    if items is UNKNOWN or not items or not int_like(dim) or not all(isinstance(t, Tensor) for t in items):
        return UNKNOWN
    items = [as_operand(t) for t in items]
    # PyTorch skips 1-D empty tensors in a cat (a legacy rule): not decided here
    if any(t.shape is None or t.shape == (0,) for t in items):
        return UNKNOWN
    rank = len(items[0].shape)
    if rank == 0 and not stack:  # PyTorch: zero-dimensional tensors cannot be concatenated
        return UNKNOWN
    label = "torch.stack" if stack else "torch.cat"
    wrapped = interp.check.wrap_dims(where, label, items[0], (dim,), rank + stack)
    if wrapped is None:
        return UNKNOWN
    merge = merges.stack if stack else merges.cat
    shape, problem = merge([t.shape for t in items], wrapped[0])
    if problem is not None:
        operands = [(f"tensor {i}", t) for i, t in enumerate(items)]
        interp.check.report(MergeMismatch(where, label, items[0], problem=problem, operands=tuple(operands)))
        return UNKNOWN
    return items[0].then(label, where, shape)


def as_operand(x: Tensor) -> Tensor:
    """A tensor as an op that reads any rank takes it (a merge, an index, a split): a model's input of an exact shape
    (pragma, usage) is the shape as written, as the pragma says; any other pending input stays pending."""
    return as_written(x) if x.pending and x.exact and x.hint is not None else settle(x)


# ---- tensors ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PendingSizes:
    """`x.shape` / `x.size()` of a model's input that no layer has given a rank yet. Of an exact shape, `(1, 3000)`
    may be one sample or a batch (`settle`), so only the sizes counted from the end are known, the same for both;
    of symbolic sizes, only the batch, as a symbolic input is taken batched."""

    written: tuple  # the shape as the pragma or usage gives it
    batch: Any = UNKNOWN

    def item(self, key: Any) -> Any:
        if int_like(key) and -len(self.written) <= key < 0 and int_like(self.written[key]):
            return self.written[key]
        return self.batch if int_like(key) and key == 0 else UNKNOWN


def pending_sizes(x: Tensor) -> Any:
    """The sizes of a pending input that both readings of its exact shape agree on, or its batch where its sizes
    are symbolic; UNKNOWN for any other."""
    if x.pending and x.hint is None and not x.deferred:
        return PendingSizes((), dims.symbol("N"))
    return PendingSizes(tuple(x.hint)) if x.pending and x.exact and x.hint and not x.deferred else UNKNOWN


def tensor_attribute(x: Tensor, name: str, where: Any) -> Any:
    if name == "shape":
        x = settle(x)
        return tuple(x.shape) if x.shape is not None else pending_sizes(x)
    if name == "ndim":
        x = settle(x)
        return len(x.shape) if x.shape is not None else UNKNOWN
    if name in ("T", "mT", "data", "real"):
        return UNKNOWN if name != "data" else x
    return Method(x, name)


def tensor_index(x: Tensor, key: Any, where: Any = None) -> Any:
    """Basic indexing: an int drops its dimension, a slice keeps it with the length Python's slice gives (bounds
    clamped, as PyTorch clamps them), `None` inserts a 1, `...` stands for the dimensions no other part names.
    Anything else (a tensor or a list as index, a step below 1, an int out of a known size) is unknown."""
    x = as_operand(x)
    keys = key if isinstance(key, tuple) else (key,)
    if x.shape is None or sum(k is Ellipsis for k in keys) > 1:
        return UNKNOWN
    named = sum(1 for k in keys if k is not None and k is not Ellipsis)
    if named > len(x.shape):
        return UNKNOWN
    if Ellipsis not in keys:
        keys = keys + (Ellipsis,)
    shape, position = [], 0
    for k in keys:
        if k is Ellipsis:
            skipped = len(x.shape) - named
            shape.extend(x.shape[position:position + skipped])
            position += skipped
        elif k is None:
            shape.append(1)
        elif int_like(k):
            size = x.shape[position]
            if isinstance(size, int) and not -size <= k < size:  # PyTorch raises IndexError
                return UNKNOWN
            position += 1
        elif isinstance(k, slice):
            length = sliced_length(x.shape[position], k)
            if length is None:
                return UNKNOWN
            shape.append(length)
            position += 1
        else:
            return UNKNOWN
    return x.then("index", where, tuple(shape))


def sliced_length(size: Any, part: slice) -> Any:
    """The length of `size` items sliced by `part`; None where PyTorch raises (a step below 1) or it is not known."""
    if any(b is not None and not int_like(b) for b in (part.start, part.stop, part.step)):
        return UNKNOWN if part.step is None or int_like(part.step) and part.step > 0 else None
    if part.step is not None and part.step < 1:
        return None
    if part.start is None and part.stop is None and part.step in (None, 1):
        return size
    return len(range(*part.indices(size))) if isinstance(size, int) else UNKNOWN


PIECES = {"narrow": ("dim", "start", "length"), "split": ("split_size_or_sections", "dim"),
          "chunk": ("chunks", "dim"), "unbind": ("dim",)}


def pieces(interp: Any, x: Tensor, name: str, args: list, kwargs: dict, where: Any) -> Any:
    """narrow(dim, start, length), split(size or sizes, dim=0), chunk(chunks, dim=0), unbind(dim=0), as methods and
    as torch functions: a tensor, or a tuple of them, with PyTorch's lengths along `dim` (chunk: pieces of
    ceil(size / chunks), so possibly fewer than asked). Where PyTorch raises or a size is not known: unknown."""
    x = as_operand(x)
    params = PIECES[name]
    bound = dict(zip(params, args), **kwargs)
    if len(args) > len(params) or set(bound) - set(params) or x.shape is None or not x.shape:
        return UNKNOWN
    dim = bound.get("dim", 0)
    if not int_like(dim):
        return UNKNOWN
    wrapped = interp.check.wrap_dims(where, f"{name}(dim={dim})", x, (dim,), len(x.shape))
    if wrapped is None:
        return UNKNOWN
    dim, = wrapped
    size = x.shape[dim]
    lengths = piece_lengths(name, size, bound)
    if lengths is None:
        return UNKNOWN
    if name == "unbind":
        return tuple(x.then(name, where, x.shape[:dim] + x.shape[dim + 1:]) for _ in lengths)
    parts = tuple(x.then(name, where, x.shape[:dim] + (length,) + x.shape[dim + 1:]) for length in lengths)
    return parts[0] if name == "narrow" else parts


def piece_lengths(name: str, size: Any, bound: dict) -> list | None:
    """The lengths along the dim of each piece; None where PyTorch raises or they are not known."""
    if name == "narrow":
        start, length = bound.get("start"), bound.get("length")
        if not isinstance(size, int) or not int_like(start) or not int_like(length) or length < 0:
            return None
        start = start + size if start < 0 else start
        return [length] if 0 <= start and start + length <= size else None
    if not isinstance(size, int) or size < 1 or size > MAX_PIECES:
        return None
    if name == "unbind":
        return [1] * size
    if name == "chunk":
        chunks = bound.get("chunks")
        if not int_like(chunks) or chunks < 1:
            return None
        step = -(-size // chunks)
        return [min(step, size - start) for start in range(0, size, step)]
    sections = bound.get("split_size_or_sections")
    if int_like(sections) and sections > 0:
        return [min(sections, size - start) for start in range(0, size, sections)]
    if isinstance(sections, (tuple, ListV)) and all(int_like(n) and n >= 0 for n in sections) \
            and sum(sections) == size:
        return list(sections)
    return None


MAX_PIECES = 4096  # a tensor unbound or split into more pieces than this is not followed


def size_of(interp: Any, x: Tensor, args: list, where: Any) -> Any:
    x = settle(x)
    if x.shape is None:
        sizes = pending_sizes(x)
        if not args or sizes is UNKNOWN:
            return sizes
        return sizes.item(args[0]) if len(args) == 1 else UNKNOWN
    if not args:
        return tuple(x.shape)
    if len(args) == 1 and int_like(args[0]) and x.shape:  # a scalar has no size to give, whatever the dim
        wrapped = interp.check.wrap_dims(where, f"size({args[0]})", x, args, len(x.shape))
        return x.shape[wrapped[0]] if wrapped is not None else UNKNOWN
    return UNKNOWN


# in-place methods that change the shape of the tensor they are called on: the name bound to it sees the new shape
# (not explain steps: what torch's hooks see as their input is the tensor already changed)
IN_PLACE_RESHAPES = frozenset("unsqueeze_ squeeze_ transpose_ t_ swapaxes_ swapdims_ resize_ resize_as_ "
                              "as_strided_ set_".split())


def tensor_method(interp: Any, x: Tensor, name: str, args: list, kwargs: dict, where: Any) -> Any:
    if name in SAME_SHAPE or name == "type" and (args or kwargs):  # x.type(Tensor) casts; x.type() names the type
        return x
    if name in IN_PLACE_RESHAPES:
        return reorder(interp, settle(x), name[:-1], args, where) if name[:-1] in REORDERING and not kwargs else UNKNOWN
    if name == "size":
        return size_of(interp, x, args, where) if not kwargs else UNKNOWN
    if name == "dim" and not args:
        x = settle(x)
        return len(x.shape) if x.shape is not None else UNKNOWN
    if name == "numel" and not args:
        x = settle(x)
        return dims.product(x.shape) if x.shape is not None else UNKNOWN
    if name in ("view", "reshape") and not kwargs:
        return reshape(interp, settle(x), args, where, name)
    if name in NEW_FACTORIES:
        return tensor_factory(NEW_FACTORIES[name], args, {k: v for k, v in kwargs.items() if k == "size"})
    if name == "new_tensor" and len(args) == 1:
        return tensor_from_data(args)
    if name in ("view_as", "reshape_as", "expand_as") and len(args) == 1 and not kwargs:
        return shaped_as(interp, settle(x), args[0], name, where)
    if name == "flatten":
        start = args[0] if args else kwargs.get("start_dim", 0)
        end = args[1] if len(args) > 1 else kwargs.get("end_dim", -1)
        return layers.flatten(settle(x), start, end, "flatten", where, interp.check)
    if name in REDUCTIONS:
        return reduce(interp, settle(x), name, args[0] if args else kwargs.get("dim"),
                      args[1] if len(args) > 1 else kwargs.get("keepdim", False), where)
    if name in SOFTMAXES:
        return layers.softmax(settle(x), args[0] if args else kwargs.get("dim"), name, where, interp.check)
    if name in REORDERING and not kwargs:
        return reorder(interp, settle(x), name, args, where)
    if name in ELEMENTWISE or name in IN_PLACE:
        return elementwise_method(interp, x, name, args, kwargs, where)
    if name in PRODUCTS and not kwargs:
        return matrix_product(interp, f"a.{name}(b)", name, [x] + list(args), where)
    if name in PIECES:
        return pieces(interp, x, name, args, kwargs, where)
    return UNKNOWN


def reshape(interp: Any, x: Tensor, args: list, where: Any, label: str) -> Any:
    """view / reshape: exact when the sizes are known; a wrong hard-coded feature count is a violation."""
    sizes = list(args[0]) if len(args) == 1 and isinstance(args[0], (tuple, ListV)) else list(args)
    smaller_last_batch = last_batch_violation(x, sizes, label, where)
    if smaller_last_batch is not None:
        interp.check.report(smaller_last_batch)
        return UNKNOWN
    if len(sizes) == 2 and sizes[0] == dims.symbol("N") and int_like(sizes[1]) and sizes[1] == -1 \
            and flattened(x) is not None:  # img.view(img.size(0), -1) of a model's input of symbolic sizes
        return x.then(label, where, flattened(x).shape)
    if x.shape is None or not sizes or not all(
            isinstance(s, (int, dims.Sym)) and not isinstance(s, bool) for s in sizes):
        if sizes and all(int_like(s) for s in sizes) and sizes.count(-1) == 0:
            return Tensor(shape=tuple(sizes), trace=x.trace, origin=x.origin)
        if len(sizes) > 1 and sizes[0] == -1 and all(int_like(s) and s > 0 for s in sizes[1:]):
            # x.view(-1, 1, 28, 28) on an input of unknown shape: whatever the batch, the rest is as written
            return x.then(label, where, (dims.symbol("N"),) + tuple(sizes[1:]))
        if len(sizes) > 1 and any(int_like(s) and s > 0 for s in sizes):
            # out.view(out.shape[0], 128, 8, 8) where the batch is not known: if the view succeeds, the tensor has
            # the sizes given (each argument an int, a -1 inferred), so those that are known are known
            return x.then(label, where, tuple(s if int_like(s) and s >= 0 or isinstance(s, dims.Sym) else UNKNOWN
                                              for s in sizes))
        return UNKNOWN
    total = dims.product(x.shape)
    wildcard = [i for i, s in enumerate(sizes) if isinstance(s, int) and s == -1]
    if len(wildcard) > 1:
        return UNKNOWN
    known_sizes = [s for s in sizes if not (isinstance(s, int) and s == -1)]
    rest = dims.product(known_sizes)
    if wildcard == [0] and len(x.shape) >= 2 and len(sizes) >= 2 and isinstance(rest, int):
        # x.view(-1, 400): the -1 is meant as the batch, unless the sizes after it are the tensor's own
        # trailing dimensions (merging leading ones: (B, T, 5).view(-1, 5)) or divide one sample evenly
        # (a deliberate split). Otherwise one sample's size is wrong: it fails or silently re-batches.
        per_sample = dims.product(x.shape[1:])
        suffixes = [dims.product(x.shape[k:]) for k in range(1, len(x.shape))]
        merges_leading = any(dims.can_equal(s, rest) is not False for s in suffixes)
        # a 0 among the sizes leaves nothing for the -1 to be: PyTorch raises whatever the tensor
        if not merges_leading and isinstance(per_sample, int) and (not rest or per_sample % rest and rest % per_sample):
            interp.check.report(ViewSize(where, f"{label}(-1, {', '.join(map(str, sizes[1:]))})", x, rest,
                                         per_sample, suggest_view(x, sizes), sizes=tuple(sizes)))
            return UNKNOWN
    if wildcard:
        inferred = dims.divide(total, rest)
        if isinstance(total, int) and isinstance(rest, int) and rest and total % rest:
            interp.check.report(ViewSize(where, f"{label}{tuple(sizes)}", x, rest, total, sizes=tuple(sizes)))
            return UNKNOWN
        shape = tuple(inferred if i == wildcard[0] else s for i, s in enumerate(sizes))
    else:
        if isinstance(total, int) and isinstance(rest, int) and total != rest:
            interp.check.report(ViewSize(where, f"{label}{tuple(sizes)}", x, rest, total, sizes=tuple(sizes),
                                         whole=True))
            return UNKNOWN
        shape = tuple(sizes)
    parts = tuple(x.shape[1:]) if len(shape) == 2 and shape[1] == dims.product(x.shape[1:]) else None
    return x.then(label, where, shape, flat_parts=parts)


def shaped_as(interp: Any, x: Tensor, other: Any, name: str, where: Any) -> Any:
    """x.view_as(y) / x.reshape_as(y): x viewed with y's sizes (its count checked as view's); x.expand_as(y): y's
    shape, where x's sizes (aligned from the right) are y's or 1."""
    if not isinstance(other, Tensor) or settle(other).shape is None:
        return UNKNOWN
    target = settle(other).shape
    if name != "expand_as":
        return reshape(interp, x, [tuple(target)], where, name[:-3])
    if x.shape is None or len(x.shape) > len(target) or not all(
            d == t or d == 1 for d, t in zip(reversed(x.shape), reversed(target))):
        return UNKNOWN
    return x.then(name, where, tuple(target))


def suggest_view(x: Tensor, sizes: list) -> Suggestion | None:
    per_sample = x.shape[1:]
    if len(sizes) == 2 and all(isinstance(d, int) for d in per_sample):
        return Suggestion(tuple(per_sample))
    return None


REDUCTIONS = frozenset("mean sum amax amin prod std var logsumexp".split())


def reduce(interp: Any, x: Tensor, name: str, dim: Any, keepdim: Any, where: Any) -> Any:
    """x.mean(dim=(2, 3)), torch.sum(x, 1, keepdim=True): the reduced dimensions go (or become 1)."""
    if x.shape is None or dim is None or not isinstance(keepdim, bool):
        return UNKNOWN
    rank = len(x.shape)
    wanted = tuple(dim) if isinstance(dim, (tuple, ListV)) else (dim,)
    if not wanted or not all(int_like(d) for d in wanted):
        return UNKNOWN
    label = f"{name}({dim if isinstance(dim, int) else tuple(wanted)})"
    reduced = interp.check.wrap_dims(where, label, x, wanted, rank)
    if reduced is None:
        return UNKNOWN
    if len(set(reduced)) != len(reduced):
        twice = next(i for i in reduced if reduced.count(i) > 1)
        interp.check.dim_problem(where, label, x, f"dim {twice} appears multiple times in the list of dims")
        return UNKNOWN
    shape = tuple(1 if i in reduced else d for i, d in enumerate(x.shape) if keepdim or i not in reduced)
    return x.then(name, where, shape)


REORDERING = frozenset("unsqueeze squeeze permute transpose".split())


def reorder(interp: Any, x: Tensor, name: str, args: list, where: Any) -> Any:
    """unsqueeze, squeeze, permute (dims as arguments or one tuple), transpose; dims wrapped as PyTorch wraps them."""
    if name == "permute" and len(args) == 1 and isinstance(args[0], (tuple, ListV)):
        args = list(args[0])
    if x.shape is None or not all(int_like(a) for a in args):
        return UNKNOWN
    shape, rank, check = list(x.shape), len(x.shape), interp.check
    label = f"{name}({', '.join(map(str, args))})"
    if name == "unsqueeze" and len(args) == 1:
        wrapped = check.wrap_dims(where, label, x, args, rank + 1)
        if wrapped is None:
            return UNKNOWN
        shape.insert(wrapped[0], 1)
    elif name == "squeeze" and len(args) <= 1:
        if not args:
            if any(not isinstance(d, int) for d in shape):
                return UNKNOWN
            shape = [d for d in shape if d != 1]
        else:
            wrapped = check.wrap_dims(where, label, x, args, rank)
            if wrapped is None:
                return UNKNOWN
            if shape and shape[wrapped[0]] == 1:
                del shape[wrapped[0]]
            elif shape and not isinstance(shape[wrapped[0]], int):
                return UNKNOWN
    elif name == "permute":
        if len(args) != rank:
            check.dim_problem(where, label, x, "number of dimensions in the tensor input does not match the length "
                              f"of the desired ordering of dimensions i.e. input.dim() = {rank} is not equal to "
                              f"len(dims) = {len(args)}")
            return UNKNOWN
        wrapped = check.wrap_dims(where, label, x, args, rank)
        if wrapped is None:
            return UNKNOWN
        if len(set(wrapped)) != rank:
            check.dim_problem(where, label, x, "permute(): duplicate dims are not allowed.")
            return UNKNOWN
        shape = [x.shape[i] for i in wrapped]
    elif name == "transpose" and len(args) == 2:
        wrapped = check.wrap_dims(where, label, x, args, rank)
        if wrapped is None:
            return UNKNOWN
        if shape:
            i, j = wrapped
            shape[i], shape[j] = shape[j], shape[i]
    else:
        return UNKNOWN
    return x.then(name, where, tuple(shape))


OPERATORS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//", ast.Mod: "%",
             ast.Pow: "**", ast.BitAnd: "&", ast.BitOr: "|", ast.BitXor: "^"}


def tensor_binary(interp: Any, op: Any, left: Any, right: Any, where: Any, in_place: bool = False) -> Any:
    """`a + b` and the other element-wise operators, with broadcasting; `a += b` on a tensor is in place."""
    if op is ast.MatMult:  # `a @= b` too: a tensor has no in-place matmul, so Python binds a to a @ b
        return matrix_product(interp, "a @= b" if in_place else "a @ b", "matmul", [left, right], where)
    if op not in OPERATORS:
        return UNKNOWN
    symbol = OPERATORS[op] + ("=" if in_place else "")
    return elementwise(interp, f"a {symbol} b", [left, right], ("a", "b"), where,
                       in_place=in_place and isinstance(left, Tensor))


ELEMENTWISE = frozenset("add sub subtract mul multiply div divide true_divide maximum minimum".split())
IN_PLACE = frozenset("add_ sub_ mul_ div_".split())


def elementwise_function(interp: Any, name: str, args: list, kwargs: dict, where: Any) -> Any:
    """torch.add(a, b), torch.mul(input=a, other=b), ... and torch.where(condition, input, other)."""
    names = ("condition", "input", "other") if name == "where" else ("input", "other")
    operands = list(args) + [kwargs[n] for n in names[len(args):] if n in kwargs]
    if len(operands) != len(names) or any(k not in names + ("alpha", "rounding_mode") for k in kwargs):
        return UNKNOWN
    label = f"torch.{name}({', '.join(names)})" if name == "where" else f"torch.{name}(a, b)"
    return elementwise(interp, label, operands, names if name == "where" else ("a", "b"), where)


def elementwise_method(interp: Any, x: Tensor, name: str, args: list, kwargs: dict, where: Any) -> Any:
    """x.add(y), x.mul_(y), ...: the tensor is the first operand; in place for the methods ending in `_`."""
    other = args[0] if len(args) == 1 else kwargs.get("other", UNKNOWN) if not args else UNKNOWN
    if any(k not in ("other", "alpha", "rounding_mode") for k in kwargs):
        return UNKNOWN
    return elementwise(interp, f"a.{name}(b)", [x, other], ("a", "b"), where, in_place=name in IN_PLACE)


def elementwise(interp: Any, label: str, operands: list, names: tuple, where: Any, in_place: bool = False) -> Any:
    """Operands broadcast together (merges.broadcast); a Python number has no shape of its own. A proven mismatch is
    reported, and the result is unknown: PyTorch raises there."""
    if any(not isinstance(v, (int, float, Tensor)) for v in operands):
        # in place, the tensor keeps its shape whatever the other operand (`x.mul_(self.scale)`)
        return operands[0] if in_place and isinstance(operands[0], Tensor) else UNKNOWN
    given = [v for v in operands if isinstance(v, Tensor)]
    if len(given) == 1:
        return given[0]  # a tensor with numbers: its shape, and still a model's input where it was one
    tensors = [(n, as_operand(v)) for n, v in zip(names, operands) if isinstance(v, Tensor)]
    if any(t.shape is None for _, t in tensors):
        return operands[0] if in_place else UNKNOWN
    shapes = [as_operand(v).shape if isinstance(v, Tensor) else () for v in operands]
    if in_place:
        shape, problem = merges.broadcast_into(shapes[0], shapes[1])
    else:
        shape, problem = merges.broadcast_all(shapes)
    return combined(interp, MergeMismatch, label, tensors, shape, problem, where)


PRODUCTS = {"matmul": products.matmul, "mm": products.mm, "bmm": products.bmm, "mv": products.mv,
            "dot": products.dot}


def matrix_product(interp: Any, label: str, name: str, operands: list, where: Any) -> Any:
    """`a @ b`, torch.matmul(a, b), a.mm(b), torch.bmm(a, b), ...: the product's shape (shapes/products.py); sizes
    that cannot be multiplied are reported, and the result is unknown: PyTorch raises there."""
    if len(operands) != 2 or not all(isinstance(t, Tensor) for t in operands):
        return UNKNOWN
    a, b = (as_operand(t) for t in operands)
    if a.shape is None or b.shape is None:
        return UNKNOWN
    shape, problem = PRODUCTS[name](a.shape, b.shape)
    return combined(interp, MatmulMismatch, label, [("a", a), ("b", b)], shape, problem, where)


def einsum(interp: Any, args: list, where: Any) -> Any:
    """torch.einsum("bij,bjk->bik", a, b), with the operands in one list, or in the sublist form
    torch.einsum(a, [0, 1], b, [1, 2], [0, 2])."""
    if isinstance(args[0], str):
        equation, operands = args[0], list(args[1:])
        if len(operands) == 1 and isinstance(operands[0], (tuple, ListV)):
            operands = list(operands[0])
    else:
        operands, sublists = list(args[0::2]), list(args[1::2])
        output = operands.pop() if len(args) % 2 and len(args) > 1 else None
        if not all(isinstance(s, (tuple, ListV)) for s in sublists + ([output] if output is not None else [])):
            return UNKNOWN
        equation = products.sublist_equation([list(s) for s in sublists],
                                             list(output) if output is not None else None)
        if equation is None or len(operands) != len(sublists):
            return UNKNOWN
    if not operands or not all(isinstance(t, Tensor) for t in operands):
        return UNKNOWN
    tensors = [as_operand(t) for t in operands]
    if any(t.shape is None for t in tensors):
        return UNKNOWN
    shape, problem = products.einsum(equation, [t.shape for t in tensors])
    if shape is None and problem is None:
        return UNKNOWN
    return combined(interp, MatmulMismatch, f"torch.einsum({equation!r})",
                    [(f"operand {i}", t) for i, t in enumerate(tensors)], shape, problem, where)


def combined(interp: Any, kind: type, label: str, operands: list, shape: Any, problem: Any, where: Any) -> Any:
    """The result of an op over named operands (a merge, a product): the shape, or where `problem` says PyTorch
    raises, a violation of class `kind` naming each operand and an unknown result."""
    first = operands[0][1]
    if problem is not None:
        interp.check.report(kind(where, label, first, problem=problem, operands=tuple(operands)))
    out = UNKNOWN if problem is not None else first.then(label, where, shape)
    interp.check.applied(where, label, first, out)  # applied even where it breaks: explain's row, confirm's site
    return out


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
    if isinstance(module, layers.Layer):
        return replace(module, spec=replace(module.spec, parameters=layers.unknown_parameters))
    return module if isinstance(module, (Container, Instance)) else interp.call_unknown(args, kwargs)


def spectrally_normed(interp, args, kwargs, where):
    """spectral_norm: the layer as it was (its weight is divided by a norm kept in buffers, not parameters)."""
    module = args[0] if args else kwargs.get("module", UNKNOWN)
    return module if isinstance(module, (layers.Layer, Container, Instance)) else interp.call_unknown(args, kwargs)


# Modules that run the module they wrap (on several devices): shapes are the wrapped module's
MODULE_WRAPPERS = frozenset({"DataParallel", "DistributedDataParallel"})
# What a module may be given to and still be the same module, as far as shapes go
MODULE_PRESERVING = SELF_RETURNING_METHODS | MODULE_WRAPPERS


def wrapped_module(interp, args, kwargs, where):
    """torch.nn.DataParallel(net): runs `net` on each device's share of the batch, with its shapes."""
    module = args[0] if args else kwargs.get("module", UNKNOWN)
    return module if isinstance(module, (layers.Layer, Container, Instance)) else interp.call_unknown(args, kwargs)


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

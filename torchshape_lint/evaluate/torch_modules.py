"""What the evaluator knows of torch.nn modules: layers and containers built (nn.Sequential, ModuleList,
ModuleDict), and the methods of modules (containers, layers, the file's own nn.Module subclasses and their library
bases)."""

from __future__ import annotations

from typing import Any

from torchshape_lint.evaluate.python_library import Builtin, int_like
from torchshape_lint.evaluate.values import ClassV, Container, External, Instance, Sourced, Super, readable
from torchshape_lint.shapes.layer_spec import (
    Layer, LayerSpec, argument_problems, bind, per_arguments, report_problems,
)
from torchshape_lint.source.writes import MUTATING_METHODS
from torchshape_lint.unknown import UNKNOWN


def make_layer(interp: Any, spec: LayerSpec, args: list, kwargs: dict, where: Any) -> Any:
    made = constructed(spec, tuple(args), tuple(kwargs.items()))
    if made is None:
        return UNKNOWN
    arguments, problems = made
    layer = Layer(spec, arguments, where, visible_ints(interp.call_scope))
    report_problems(layer, problems, interp.check)
    return layer


@per_arguments
def constructed(spec: LayerSpec, args: tuple, keywords: tuple) -> tuple | None:
    """A constructor call's bound arguments and what PyTorch rejects in them (layer_spec.argument_problems); None
    where they do not bind. Layers built with the same plain arguments share the arguments dict, as no code changes a
    layer's arguments in place."""
    bound = bind(spec, args, dict(keywords))
    if bound is None:
        return None
    # readable(v) of each argument, without a call each: every layer built passes here, with ten arguments or so
    arguments = {k: UNKNOWN if getattr(v, "opaque", False) is True else v for k, v in bound.items()}
    return arguments, argument_problems(Layer(spec, arguments))


def visible_ints(scope: Any) -> dict:
    """The names holding a plain int where a layer is built (inner scopes shadow outer ones), in the order they
    were bound: suggestions can then say `planes` rather than a number right for one build only. (By the value's
    exact type, as `int_like` decides for every value the evaluator makes: it runs for every layer over every name
    of every enclosing scope; those of the file's globals are read once per version of them.)"""
    names: dict = {}
    while scope.parent is not None:
        for name, value in scope.vars.items():
            if type(value) in INT_TYPES:
                names.setdefault(name, value)
        scope = scope.parent
    if scope.int_names is None or scope.int_names[0] != scope.version:
        scope.int_names = (scope.version, {name: value for name, value in scope.vars.items()
                                           if type(value) in INT_TYPES})
    for name, value in scope.int_names[1].items():
        names.setdefault(name, value)
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
    for base in cls.external_bases:
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


# A module's methods that return the module itself, whatever their arguments (`model.to(device)`, `model.cuda()`).
SELF_RETURNING_METHODS = frozenset(
    "to cuda cpu train eval float double half bfloat16 requires_grad_ share_memory".split())


def layer_method(interp, layer: Layer, name, args, kwargs, where):
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
        module = isinstance(found, (Layer, Container)) or isinstance(found, Instance) and found.cls.is_module()
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
    for base in cls.external_bases:
        if isinstance(base, External) and base.name.split(".")[-1] == "WeightsEnum" and name == "verify":
            return Builtin("weights_verify")
    if name == "training" and cls.is_module():
        return False  # evaluated in eval mode, as confirm runs the model: `if self.training and ...` is not taken
    return UNKNOWN


def is_autograd_function(cls: ClassV) -> bool:
    """A class deriving torch.autograd.Function: called through `.apply`, which runs its forward."""
    return any(isinstance(b, External) and b.name in ("torch.autograd.Function", "torch.autograd.function.Function")
               for b in cls.external_bases)


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

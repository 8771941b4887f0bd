"""Objects: attributes of instances, classes and library values; items of lists, dicts, tensors and containers;
iteration; running a class body on first use."""

from __future__ import annotations

from typing import Any

from torchshape_lint.evaluate import tensor_methods, torch_modules
from torchshape_lint.evaluate.frames import Abort, Frame, Scope, resolved
from torchshape_lint.evaluate.layer_attributes import layer_attribute
from torchshape_lint.evaluate.numpy_library import NUMPY_CONSTANTS
from torchshape_lint.evaluate.python_library import DICT_METHODS, MATH_CONSTANTS, Partial, method
from torchshape_lint.evaluate.values import (
    MAX_ITEMS, AttrDict, BoundMethod, ClassV, Container, External, Function, Instance, ListV, Namespace, ProjectModule,
    Super, external_attribute, is_hashable, is_plain, readable,
)
from torchshape_lint.shapes.layer_spec import Layer
from torchshape_lint.shapes.tensor import Tensor
from torchshape_lint.unknown import UNKNOWN

MODULE_BASES = ("torch.nn.Module", "torch.nn.modules.module.Module")
LIBRARY_CONSTANTS = {**MATH_CONSTANTS, **NUMPY_CONSTANTS}  # `math.pi`, `np.pi`: numbers, not names


class Objects:
    """The object half of the Interpreter (a mixin: it calls the other halves through `self`)."""

    def ready(self, cls: ClassV) -> ClassV:
        """Run a class body on first use: methods become Functions, assignments class attributes."""
        if cls.ready:
            return cls
        cls.ready = True
        scope = Scope(cls.scope)
        try:
            self.run_class_body(cls, Frame(scope, cls.source))
        except Abort:
            cls.attrs.update(scope.vars)  # what the body bound before it stopped
        return cls

    def get_attribute(self, obj: Any, name: str, node: Any = None, frame: Frame | None = None) -> Any:
        obj = UNKNOWN if getattr(obj, "opaque", False) is True else obj  # readable(obj), without the call
        # the kinds in the order attributes are most often read of them: `self.conv1`, `nn.Conv2d`
        if isinstance(obj, Instance):
            if name in obj.attrs:
                return obj.attrs[name]
            if obj.opaque:
                return UNKNOWN
            if name in ("__dict__", "_modules"):  # code may now set any attribute through it
                obj.handed_out = True
                return UNKNOWN
            value = self.class_attribute(obj.cls, name)
            if isinstance(value, Function):
                return self.method_for(value, obj)
            if value is not UNKNOWN:
                return value
            if name == "module" and self.surely_absent(obj, name):  # `DataParallel(net).module`: see below
                return obj
            container = obj.attrs.get("__container__")
            if container is not None:
                return method(container, name)
            return method(obj, name)
        if isinstance(obj, External):
            attribute = external_attribute(obj, name)
            return LIBRARY_CONSTANTS[attribute.name] if attribute.name in LIBRARY_CONSTANTS else attribute
        if obj is UNKNOWN:
            return UNKNOWN
        if isinstance(obj, AttrDict):  # `opt.img_size`, `cfg.MODEL.WIDTH`
            if name in obj:
                return obj[name]
            return method(obj, name) if not isinstance(obj, Namespace) and name in DICT_METHODS else UNKNOWN
        if isinstance(obj, ProjectModule):
            if name in obj.names.vars:
                value = resolved(obj.names.vars[name])
                if self.memo.started:
                    self.memo.read(value, obj.names)
                return value
            return resolved(obj.importer.module_import(f"{obj.name}.{name}"))
        if isinstance(obj, ClassV):
            value = self.class_attribute(obj, name)
            if isinstance(value, Function) and value.kind == "class":
                return BoundMethod(value, obj)
            if value is UNKNOWN and name == "apply" and torch_modules.is_autograd_function(obj):
                # `GradReverse.apply(x, alpha)` runs the class's static forward(ctx, x, alpha); ctx is opaque
                forward = self.find_method(obj, "forward")
                return Partial(forward, (UNKNOWN,), {}) if forward is not None else UNKNOWN
            if value is UNKNOWN and name == "__name__" and not obj.decorators:
                return obj.name  # `block.__name__` names the modules a loop adds (a decorator may wrap the class)
            return value
        if isinstance(obj, Super):
            for klass in obj.cls.mro[1:]:
                value = self.ready(klass).attrs.get(name)
                if isinstance(value, Function):
                    return BoundMethod(value, obj.receiver)
            return method(obj, name)
        if isinstance(obj, (Layer, Container)) and name == "module":
            return obj  # `DataParallel(net).module`: the evaluator holds `net` itself for the wrapper (torch's own
            # modules have no attribute of that name)
        if isinstance(obj, Container) and name == "_modules":  # `seq._modules["1"] = m`: its children may change
            obj.opaque = True
            return UNKNOWN
        if isinstance(obj, Tensor):
            return tensor_methods.tensor_attribute(obj, name, (frame.source, node) if frame else None)
        if isinstance(obj, tuple) and name in getattr(type(obj), "_fields", ()):  # `x.max(dim=1).values`
            return getattr(obj, name)
        if isinstance(obj, Layer):
            return layer_attribute(obj, name) if name in obj.args else method(obj, name)
        return method(obj, name)

    def has_attribute(self, obj: Any, name: str) -> Any:
        """`hasattr(obj, name)`: True or False where the instance the evaluator built decides it, else UNKNOWN."""
        obj = readable(obj)
        if isinstance(obj, Instance) and not obj.opaque:
            if name in obj.attrs:
                return UNKNOWN if name in obj.maybe_set else True
            if self.class_attribute(obj.cls, name) is not UNKNOWN:
                return True
            return False if self.surely_absent(obj, name) else UNKNOWN
        if isinstance(obj, Layer):
            return True if layer_attribute(obj, name) is not UNKNOWN else UNKNOWN
        return UNKNOWN

    def surely_absent(self, instance: Instance, name: str) -> bool:
        """An attribute the instance does not have: no code the evaluator did not follow held it or may have set it,
        and it inherits from nothing but nn.Module, whose own attributes are known (private names are left alone)."""
        if instance.handed_out or name in instance.maybe_set or "__container__" in instance.attrs \
                or name.startswith("_"):
            return False
        bases = instance.cls.external_bases
        if not bases:
            return True
        return all(isinstance(b, External) and b.name in MODULE_BASES for b in bases) and \
            name not in torch_modules.MODULE_ATTRIBUTES

    def method_for(self, function: Function, instance: Instance) -> Any:
        """A method read from an instance, as its decorator makes it."""
        if function.kind == "static":
            return function
        if function.kind == "class":
            return BoundMethod(function, instance.cls)
        if function.kind == "property":
            return self.call_function(function, [instance], {})
        return BoundMethod(function, instance)

    def class_attribute(self, cls: ClassV, name: str) -> Any:
        for klass in cls.mro:
            if klass.ready or name in klass.member_names:
                self.ready(klass)
                if name in klass.attrs:
                    value = klass.attrs[name]
                    if self.memo.started:
                        self.memo.read(value)
                    return value
        return torch_modules.inherited_attribute(cls, name)

    def get_item(self, obj: Any, key: Any) -> Any:
        obj = readable(obj)
        if key is UNKNOWN or obj is UNKNOWN:
            return UNKNOWN
        if isinstance(obj, tensor_methods.PendingSizes):
            return obj.item(key)
        if isinstance(obj, Tensor):
            return tensor_methods.tensor_index(obj, key)
        if isinstance(obj, Container):
            return torch_modules.container_item(obj, key)
        if isinstance(obj, Instance) and "__container__" in obj.attrs:
            return torch_modules.container_item(obj.attrs["__container__"], key)
        if isinstance(obj, (ListV, tuple, str)):
            if isinstance(key, slice):
                if any(b is not None and not isinstance(b, int) for b in (key.start, key.stop, key.step)):
                    return UNKNOWN
                part = obj[key]
                return ListV(part) if isinstance(obj, ListV) else part
            if isinstance(key, int) and -len(obj) <= key < len(obj):
                return obj[key]
            return UNKNOWN
        if isinstance(obj, dict):
            if is_hashable(key) and key in obj:
                return obj[key]
            return UNKNOWN
        return UNKNOWN

    def iterate(self, value: Any) -> Any:
        """The items of a known iterable, or UNKNOWN."""
        value = readable(value)
        if isinstance(value, (ListV, tuple, list)):
            return list(value)
        if isinstance(value, (str, set, frozenset)):
            return list(value) if not isinstance(value, set) or all(is_plain(v) for v in value) else UNKNOWN
        if isinstance(value, dict):
            return list(value.keys())
        if isinstance(value, Container) and not value.opaque:
            return value.modules() if value.kind != "ModuleDict" else [k for k, _ in value.children]
        if isinstance(value, Instance) and "__container__" in value.attrs:
            return self.iterate(value.attrs["__container__"])
        return UNKNOWN

    def grow(self, items: list, more: list) -> None:
        if len(items) + len(more) > MAX_ITEMS:
            raise Abort("size bound")
        items.extend(more)

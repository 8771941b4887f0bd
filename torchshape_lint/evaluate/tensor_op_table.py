"""The registry of ops on tensors, one registration per op, as torch registers one meta function per op
(torch/_meta_registrations.py): its name, the spellings it has (a tensor method `x.sum(1)`, a torch function
`torch.sum(x, 1)`, a torch.nn.functional function `F.softmax(x, 1)`, the in-place method `x.unsqueeze_(1)`, aliases
such as `torch.subtract` for sub), its signature as torch's (parameter names in order, with defaults), and the shape
function it calls (tensor_ops.py, shapes/). One binder (`bind`) maps a call's arguments to the parameters for every
spelling: an argument it cannot place (an unknown keyword, one too many) leaves the call not followed, never bound to
the wrong parameter. tests/test_tensor_op_table.py checks each signature and spelling against torch's own.

Adding an op: one `TensorOp(...)` in TENSOR_OPS below, plus its test against torch. The layers' own shape-keeping
spellings (F.relu, x.relu_()) are the layer table's (shapes/layers.py: LayerSpec.same_shape_spellings).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from torchshape_lint.evaluate.tensor_ops import (
    concatenate, einsum, elementwise, instance_norm, matrix_product, meshgrid, pad, pieces, reduce, reorder, reshape,
    shaped_as, values_and_indices,
)
from torchshape_lint.shapes import layers, products
from torchshape_lint.shapes.feature_layers import flatten, softmax
from torchshape_lint.shapes.tensor import Tensor, settle
from torchshape_lint.unknown import UNKNOWN


class Default:
    """A parameter's default that is no value: REQUIRED (torch raises without it), ABSENT (it may be left out, and
    then is not among the bound arguments: `x.max()` and `x.max(dim)` are different ops), VARIADIC (it takes the
    remaining positional arguments, as `x.view(2, 3)` and `x.permute(*dims)`; one at least)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


REQUIRED, ABSENT, VARIADIC = Default("REQUIRED"), Default("ABSENT"), Default("VARIADIC")

# the three ways a call spells an op
METHOD, TORCH, FUNCTIONAL = "method", "torch", "F"


@dataclass(frozen=True)
class TensorOp:
    name: str
    # ((name, default), ...) in torch's order, the tensor the op reads first (`input`, or `self` of a method);
    # None: any arguments (the ops that keep the shape whatever they are given)
    params: tuple | None
    shape: Callable[[Any, dict, "OpCall"], Any]  # (interp, the bound arguments, the call) → the result
    forms: tuple = (METHOD, TORCH)  # the spellings it has
    aliases: tuple = ()  # other names of the same op, with the same signature and spellings (torch.subtract)
    in_place: bool = False  # also the method `x.name_()` (and `x.alias_()`), which changes x
    keywords: tuple = ()  # keyword-only parameters (dtype, alpha; meshgrid's indexing, which its shape function reads)
    functional_params: tuple | None = None  # F.name's signature where it differs from torch.name's
    # the spellings whose call is a step of its own (explain's rows, confirm's sites); an op over several tensors
    # (a merge, a product) records its own step, naming each operand
    steps: tuple = ()
    input_tensor: bool = True  # its first parameter is the tensor it reads: any other value is a call not followed
    # a device or dtype move: a tensor of the receiver's shape whatever the arguments, so that a branch that may or
    # may not make it (`if use_cuda: x = x.cuda()`) leaves the shape known (Statements.havoc)
    conversion: bool = False

    def params_for(self, form: str) -> tuple | None:
        return self.functional_params if form == FUNCTIONAL and self.functional_params is not None else self.params

    def spellings(self, form: str) -> tuple:
        """The names this op has in one form: its own, its aliases, and for a method the in-place `_` forms."""
        if form not in self.forms:
            return ()
        names = (self.name,) + self.aliases
        return names + tuple(f"{n}_" for n in names) if form == METHOD and self.in_place else names


@dataclass(frozen=True)
class OpCall:
    """One call of a registered op, as written: which op, under which name and in which form, where."""

    op: TensorOp
    written: str  # the name as called: `swapdims`, `unsqueeze_`, `subtract`
    form: str
    where: Any

    @property
    def in_place(self) -> bool:
        return self.form == METHOD and self.written not in (self.op.name,) + self.op.aliases

    @property
    def qualified(self) -> str:
        """The name as an explanation shows it: `flatten` (a method), `torch.flatten`, `F.softmax`."""
        return self.written if self.form == METHOD else f"{self.form}.{self.written}"

    @property
    def step_label(self) -> str:
        return f".{self.written}" if self.form == METHOD else self.qualified


def bind(params: tuple | None, args: list, kwargs: dict, keywords: tuple = ()) -> dict | None:
    """The arguments of a call (the tensor a method is called on first among `args`) by parameter name, the
    defaults filled in; None where torch would not bind them so (a required one missing, one too many, an unknown
    or repeated keyword). `params` None: any arguments, only the input is read."""
    if params is None:
        first = args[0] if args else kwargs.get("input", UNKNOWN)
        return {"input": first}
    names = [name for name, _ in params]
    variadic = next((i for i, (_, default) in enumerate(params) if default is VARIADIC), None)
    if variadic is not None and len(args) > variadic:  # the remaining positional arguments, collected
        args = list(args[:variadic]) + [list(args[variadic:])]
    if len(args) > len(params):
        return None
    bound = dict(zip(names, args))
    for key, value in kwargs.items():
        if key in bound or key not in names and key not in keywords:
            return None
        bound[key] = [value] if variadic is not None and key == names[variadic] else value
    for name, default in params:
        if name in bound or default is ABSENT:
            continue
        if default is REQUIRED or default is VARIADIC:
            return None
        bound[name] = default
    return bound


# ---- shape functions, each over the bound arguments ---------------------------------------------------------------


def keep_shape(interp: Any, bound: dict, call: OpCall) -> Any:
    """Device and dtype moves, element-wise maths, normalizations: the input's shape. A method leaves a model's input
    pending (`x.float()` before the first layer fixes its rank); a function's result is settled."""
    x = bound["input"]
    return x if call.form == METHOD else settle(x)


def flatten_op(interp: Any, bound: dict, call: OpCall) -> Any:
    return flatten(settle(bound["input"]), bound["start_dim"], bound["end_dim"], call.qualified, call.where,
                   interp.check)


def reshape_op(interp: Any, bound: dict, call: OpCall) -> Any:
    sizes = bound[call.op.params[1][0]]  # view's `size`, reshape's `shape`
    return reshape(interp, settle(bound["input"]), sizes, call.where, call.op.name)


def shaped_as_op(interp: Any, bound: dict, call: OpCall) -> Any:
    return shaped_as(interp, settle(bound["input"]), bound["other"], call.op.name, call.where)


def reduce_op(interp: Any, bound: dict, call: OpCall) -> Any:
    return reduce(interp, settle(bound["input"]), call.op.name, bound.get("dim"), bound["keepdim"], call.where)


def values_and_indices_op(interp: Any, bound: dict, call: OpCall) -> Any:
    return values_and_indices(interp, settle(bound["input"]), call.op.name,
                              {k: v for k, v in bound.items() if k != "input"}, call.where)


def softmax_op(interp: Any, bound: dict, call: OpCall) -> Any:
    label = call.op.name if call.form == METHOD else call.qualified
    return softmax(settle(bound["input"]), bound["dim"], label, call.where, interp.check)


def reordering(kind: str) -> Callable:
    """unsqueeze, squeeze, permute or transpose (swapaxes: its own parameter names), over the dims the call gives in
    the order of the op's parameters (squeeze's dim may be left out; permute's are one list)."""
    def shape(interp: Any, bound: dict, call: OpCall) -> Any:
        dims = [bound[name] for name, _ in call.op.params[1:] if name in bound]
        return reorder(interp, settle(bound["input"]), kind, dims[0] if kind == "permute" else dims, call.where)
    return shape


def pieces_op(interp: Any, bound: dict, call: OpCall) -> Any:
    first = call.op.params[0][0]
    return pieces(interp, bound[first], call.op.name, {k: v for k, v in bound.items() if k != first}, call.where)


def elementwise_op(interp: Any, bound: dict, call: OpCall) -> Any:
    """torch.add(a, b), x.mul_(y): the tensor operands broadcast together; in place for a method ending in `_`."""
    label = f"a.{call.written}(b)" if call.form == METHOD else f"torch.{call.written}(a, b)"
    return elementwise(interp, label, [bound["input"], bound["other"]], ("a", "b"), call.where,
                       in_place=call.in_place)


def where_op(interp: Any, bound: dict, call: OpCall) -> Any:
    names = ("condition", "input", "other")
    return elementwise(interp, f"torch.where({', '.join(names)})", [bound[n] for n in names], names, call.where)


def product_op(formula: Callable) -> Callable:
    def shape(interp: Any, bound: dict, call: OpCall) -> Any:
        label = f"a.{call.written}(b)" if call.form == METHOD else f"torch.{call.written}(a, b)"
        return matrix_product(interp, label, formula, [bound[name] for name, _ in call.op.params], call.where)
    return shape


def concatenate_op(interp: Any, bound: dict, call: OpCall) -> Any:
    return concatenate(interp, bound["tensors"], bound["dim"], call.where, stack=call.op.name == "stack")


def meshgrid_op(interp: Any, bound: dict, call: OpCall) -> Any:
    return meshgrid(interp, bound["tensors"], bound.get("indexing"), call.where)


def einsum_op(interp: Any, bound: dict, call: OpCall) -> Any:
    return einsum(interp, bound["args"], call.where)


def pad_op(interp: Any, bound: dict, call: OpCall) -> Any:
    return pad(interp, bound["input"], bound["pad"], call.where)


def instance_norm_op(interp: Any, bound: dict, call: OpCall) -> Any:
    return instance_norm(interp, settle(bound["input"]), bound["use_input_stats"], call.where)


# ---- the table ----------------------------------------------------------------------------------------------------

INPUT = (("input", REQUIRED),)
BOTH = (METHOD, TORCH)


def same_shape(names: str, forms: tuple, conversion: bool = False) -> list:
    return [TensorOp(name, None, keep_shape, forms=forms, conversion=conversion) for name in names.split()]


def reductions() -> list:
    """mean(input, dim, keepdim=False, *, dtype=None) and the others, as torch's overloads that take a dim. A dim
    left out (a whole-tensor reduction) is not followed."""
    summed = INPUT + (("dim", None), ("keepdim", False))
    ops = [TensorOp(name, summed, reduce_op, keywords=("dtype",), steps=(METHOD,)) for name in ("mean", "sum")]
    ops += [TensorOp(name, INPUT + (("dim", ()), ("keepdim", False)), reduce_op, steps=(METHOD,))
            for name in ("amax", "amin")]
    # prod's dim is an int of its own overload (prod(input) another)
    ops.append(TensorOp("prod", INPUT + (("dim", ABSENT), ("keepdim", False)), reduce_op, keywords=("dtype",)))
    # std(input, dim, unbiased=True, keepdim=False), or keepdim and correction by name
    ops += [TensorOp(name, INPUT + (("dim", None), ("unbiased", True), ("keepdim", False)), reduce_op,
                     keywords=("correction",)) for name in ("std", "var")]
    ops.append(TensorOp("logsumexp", INPUT + (("dim", REQUIRED), ("keepdim", False)), reduce_op))
    return ops


def softmaxes() -> list:
    """softmax(input, dim, dtype=None) as a method or torch function; F.softmax(input, dim=None, _stacklevel=3,
    dtype=None), its dim picked by PyTorch where left out."""
    functional = INPUT + (("dim", None), ("_stacklevel", 3), ("dtype", None))
    ops = [TensorOp(name, INPUT + (("dim", REQUIRED), ("dtype", None)), softmax_op, forms=(METHOD, TORCH, FUNCTIONAL),
                    functional_params=functional) for name in ("softmax", "log_softmax")]
    return ops + [TensorOp("softmin", functional, softmax_op, forms=(FUNCTIONAL,))]


def reorderings() -> list:
    return [
        TensorOp("unsqueeze", INPUT + (("dim", REQUIRED),), reordering("unsqueeze"), in_place=True, steps=BOTH),
        TensorOp("squeeze", INPUT + (("dim", ABSENT),), reordering("squeeze"), in_place=True, steps=BOTH),
        TensorOp("permute", INPUT + (("dims", VARIADIC),), reordering("permute"), steps=BOTH),
        TensorOp("transpose", INPUT + (("dim0", REQUIRED), ("dim1", REQUIRED)), reordering("transpose"),
                 aliases=("swapdims",), in_place=True, steps=BOTH),
        TensorOp("swapaxes", INPUT + (("axis0", REQUIRED), ("axis1", REQUIRED)), reordering("transpose"),
                 in_place=True, steps=BOTH),
    ]


def pieces_ops() -> list:
    return [
        TensorOp("narrow", INPUT + (("dim", REQUIRED), ("start", REQUIRED), ("length", REQUIRED)), pieces_op),
        # torch.split(tensor, split_size_or_sections, dim=0), a Python function, names its input `tensor`
        TensorOp("split", (("tensor", REQUIRED), ("split_size_or_sections", REQUIRED), ("dim", 0)), pieces_op),
        TensorOp("chunk", INPUT + (("chunks", REQUIRED), ("dim", 0)), pieces_op),
        TensorOp("unbind", INPUT + (("dim", 0),), pieces_op),
    ]


def elementwise_ops() -> list:
    """add(input, other, *, alpha=1) and the others; numbers broadcast as 0-d tensors."""
    binary = INPUT + (("other", REQUIRED),)
    ops = [TensorOp("add", binary, elementwise_op, in_place=True, keywords=("alpha",), input_tensor=False),
           TensorOp("sub", binary, elementwise_op, aliases=("subtract",), in_place=True, keywords=("alpha",),
                    input_tensor=False),
           TensorOp("mul", binary, elementwise_op, aliases=("multiply",), in_place=True, input_tensor=False),
           TensorOp("div", binary, elementwise_op, aliases=("divide",), in_place=True, keywords=("rounding_mode",),
                    input_tensor=False),
           TensorOp("true_divide", binary, elementwise_op, input_tensor=False)]
    ops += [TensorOp(name, binary, elementwise_op, input_tensor=False) for name in ("maximum", "minimum")]
    ops.append(TensorOp("where", (("condition", REQUIRED), ("input", REQUIRED), ("other", REQUIRED)), where_op,
                        forms=(TORCH,), input_tensor=False))
    return ops


def product_ops() -> list:
    """matmul(input, other), mm(input, mat2), bmm(input, mat2), mv(input, vec), dot(input, tensor)."""
    return [TensorOp(name, INPUT + ((second, REQUIRED),), product_op(formula), input_tensor=False)
            for name, second, formula in (("matmul", "other", products.matmul), ("mm", "mat2", products.mm),
                                          ("bmm", "mat2", products.bmm), ("mv", "vec", products.mv),
                                          ("dot", "tensor", products.dot))]


TENSOR_OPS = (
    # device and dtype moves, and element-wise maths: any arguments. Those with no layer of that name, or whose
    # layer checks what these do not (F.batch_norm's channels); the layers' own spellings are the layer table's.
    same_shape("normalize", (FUNCTIONAL,))
    + same_shape("batch_norm group_norm layer_norm", (TORCH, FUNCTIONAL))
    + same_shape("exp log abs sqrt rsqrt neg sign sin cos clamp clip exp_ zero_ fill_ clamp_ masked_fill", BOTH)
    + same_shape("detach clone", BOTH, conversion=True)
    + same_shape("contiguous float double half bfloat16 long int bool cpu cuda to", (METHOD,), conversion=True)
    + same_shape("type_as requires_grad_", (METHOD,))
    # torch.zeros_like(x) and the others: a new tensor of x's shape
    + same_shape("zeros_like ones_like empty_like rand_like randn_like randint_like full_like", (TORCH,))
    + [TensorOp("flatten", INPUT + (("start_dim", 0), ("end_dim", -1)), flatten_op, steps=BOTH),
       TensorOp("view", INPUT + (("size", VARIADIC),), reshape_op, forms=(METHOD,), steps=(METHOD,)),
       TensorOp("reshape", INPUT + (("shape", VARIADIC),), reshape_op, steps=(METHOD,))]
    + [TensorOp(name, INPUT + (("other", REQUIRED),), shaped_as_op, forms=(METHOD,))
       for name in ("view_as", "reshape_as", "expand_as")]
    + reductions() + softmaxes()
    # max(input), max(input, dim, keepdim=False) and max(input, other) (min the same; median has no `other`)
    + [TensorOp(name, INPUT + (("dim", ABSENT), ("keepdim", False)), values_and_indices_op,
                keywords=("other",) if name != "median" else ()) for name in ("max", "min", "median")]
    + reorderings() + pieces_ops() + elementwise_ops() + product_ops()
    + [TensorOp(name, (("tensors", REQUIRED), ("dim", 0)), concatenate_op, forms=(TORCH,), steps=(TORCH,),
                input_tensor=False) for name in ("cat", "concat", "concatenate", "stack")]
    + [TensorOp("meshgrid", (("tensors", VARIADIC),), meshgrid_op, forms=(TORCH,), keywords=("indexing",),
                input_tensor=False)]
    + [TensorOp("einsum", (("args", VARIADIC),), einsum_op, forms=(TORCH,), input_tensor=False),
       # F.pad records its own step: a pending input's is recorded once a layer fixes its rank
       TensorOp("pad", INPUT + (("pad", REQUIRED), ("mode", "constant"), ("value", None)), pad_op,
                forms=(FUNCTIONAL,)),
       TensorOp("instance_norm", INPUT + (("running_mean", None), ("running_var", None), ("weight", None),
                                          ("bias", None), ("use_input_stats", True), ("momentum", 0.1), ("eps", 1e-5)),
                instance_norm_op, forms=(FUNCTIONAL,))]
)

# the layers' shape-keeping spellings (F.relu, torch.relu, x.relu_()), in every form, as the layer table gives them
LAYER_SPELLING = TensorOp("the shape-keeping spelling of a layer", None, keep_shape, forms=(METHOD, TORCH, FUNCTIONAL))


def _by_spelling() -> dict:
    table = {form: dict.fromkeys(layers.SAME_SHAPE_SPELLINGS, LAYER_SPELLING) for form in (METHOD, TORCH, FUNCTIONAL)}
    for op in TENSOR_OPS:
        for form in op.forms:
            table[form].update(dict.fromkeys(op.spellings(form), op))
    return table


BY_SPELLING = _by_spelling()  # form → the name as called → its op
CONVERSIONS = frozenset(op.name for op in TENSOR_OPS if op.conversion)  # the methods' names (`x.cuda()`)


def registered(form: str, name: str) -> TensorOp | None:
    return BY_SPELLING[form].get(name)


NOT_FOLLOWED = object()  # a call of a registered op whose arguments torch would not bind as given


def apply(interp: Any, op: TensorOp, call: OpCall, args: list, kwargs: dict) -> Any:
    """The result of one call of a registered op (for a method, `args` starts with the tensor it is called on), or
    NOT_FOLLOWED where its arguments do not bind, or its input is no tensor; the step it records, if its spelling
    has one: a method's even where its arguments do not bind (`x.view()` raises there), as its input is known."""
    params = op.params_for(call.form)
    bound = bind(params, args, kwargs, op.keywords)
    first = params[0][0] if params else "input"
    if bound is None or op.input_tensor and not isinstance(bound[first], Tensor):
        out = NOT_FOLLOWED
    else:
        out = op.shape(interp, bound, call)
    if call.form in op.steps and not call.in_place and (out is not NOT_FOLLOWED or call.form == METHOD):
        before = args[0] if bound is None else bound[first]
        interp.check.applied(call.where, call.step_label, before if isinstance(before, Tensor) else None,
                             UNKNOWN if out is NOT_FOLLOWED else out)
    return out

"""One registration per tensor op (evaluate/tensor_op_table.py), checked against torch's own: every signature is one
of torch's (an ATen schema, `torch._C._jit_get_schemas_for_operator`, or the Python signature of torch.X / F.X),
every spelling registered exists in torch, and calls in each spelling bind as torch binds them (the shapes against
torch's on the same line)."""

from __future__ import annotations

import inspect

import pytest

torch = pytest.importorskip("torch")
import torch.nn.functional as F  # noqa: E402

from torchshape_lint.checks.analyze import analyze_source  # noqa: E402
from torchshape_lint.evaluate.interpreter import Interpreter  # noqa: E402
from torchshape_lint.evaluate.tensor_op_table import (  # noqa: E402
    ABSENT, FUNCTIONAL, METHOD, REQUIRED, TENSOR_OPS, TORCH, VARIADIC, bind,
)
from torchshape_lint.shapes import layers  # noqa: E402
from torchshape_lint.shapes.tensor import Tensor  # noqa: E402
from torchshape_lint.source.reader import SourceFile  # noqa: E402

NO_DEFAULT = object()


def aten_signatures(name: str) -> list:
    """Each ATen overload of `name` that reads a tensor: its positional parameters as (name, default, optional,
    list-typed), `self` called `input` as torch's functions call it, and all its parameter names."""
    found = []
    for schema in torch._C._jit_get_schemas_for_operator(f"aten::{name}"):
        if not schema.arguments or "Tensor" not in str(schema.arguments[0].type):
            continue
        positional = tuple(
            ("input" if a.name == "self" else a.name, a.default_value if a.has_default_value() else NO_DEFAULT,
             str(a.type).endswith("?") or "Optional" in str(a.type), "[]" in str(a.type) or "List" in str(a.type))
            for a in schema.arguments if not a.kwarg_only)
        found.append((positional, {"input" if a.name == "self" else a.name for a in schema.arguments}))
    return found


def python_signature(function) -> tuple | None:
    """A Python-level function's parameters (torch.split, torch.einsum, F.softmax) as aten_signatures gives them."""
    try:
        parameters = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):  # a builtin
        return None
    return tuple((p.name, NO_DEFAULT if p.default is p.empty else p.default, p.default is None,
                  p.kind is p.VAR_POSITIONAL) for p in parameters if p.kind is not p.KEYWORD_ONLY)


def plain(value):
    return tuple(value) if isinstance(value, list) else value


def agrees(registered: tuple, torchs: tuple) -> bool:
    """Same names in the same order, and each default torch's: REQUIRED and ABSENT where torch has none, VARIADIC for
    a list of sizes or `*args`, None for an optional argument without a default (`int[1]? dim`)."""
    if [name for name, _ in registered] != [name for name, *_ in torchs]:
        return False
    for (_, default), (_, theirs, optional, is_list) in zip(registered, torchs):
        if default is REQUIRED or default is ABSENT:
            ok = theirs is NO_DEFAULT
        elif default is VARIADIC:
            ok = is_list
        else:
            ok = plain(theirs) == default or theirs is NO_DEFAULT and optional and default is None
        if not ok:
            return False
    return True


def torch_signatures(op, form: str) -> list:
    """(positional parameters, every parameter name) of each of torch's signatures the op's spelling in `form` may
    have: F.x's own where it is a Python function, else the ATen overloads and Python signatures of each name."""
    if form == FUNCTIONAL:  # F.x's own Python signature, or for a builtin (F.pad) ATen's
        signature = python_signature(getattr(F, op.name))
        return [(signature, {name for name, *_ in signature})] if signature is not None else aten_signatures(op.name)
    found = []
    for name in (op.name,) + op.aliases:
        found += aten_signatures(name)
        signature = python_signature(getattr(torch, name, None)) if hasattr(torch, name) else None
        if signature is not None:
            found.append((signature, {n for n, *_ in signature}))
    return found


SIGNED = [(op, form) for op in TENSOR_OPS if op.params is not None
          for form in ((FUNCTIONAL,) if op.forms == (FUNCTIONAL,) else (TORCH,))
          + ((FUNCTIONAL,) if op.functional_params is not None else ())]


@pytest.mark.parametrize("op, form", SIGNED, ids=[f"{form}.{op.name}" for op, form in SIGNED])
def test_every_registered_signature_is_torchs(op, form):
    registered = op.params_for(form)
    candidates = torch_signatures(op, form)
    matching = [names for positional, names in candidates if agrees(registered, positional)]
    assert matching, f"{op.name}{registered} is none of torch's: {[p for p, _ in candidates]}"
    # its keyword-only parameters are torch's too, in some overload of the op
    every_name = set().union(*(names for _, names in candidates))
    assert set(op.keywords) <= every_name


SPELLINGS = sorted({(form, name) for op in TENSOR_OPS for form in op.forms for name in op.spellings(form)})
OWNER = {METHOD: torch.Tensor, TORCH: torch, FUNCTIONAL: F}


@pytest.mark.parametrize("form, name", SPELLINGS, ids=[f"{form}.{name}" for form, name in SPELLINGS])
def test_every_registered_spelling_exists_in_torch(form, name):
    spelled = getattr(OWNER[form], name, None)
    assert callable(spelled) and not isinstance(spelled, torch.dtype), f"{form} {name}"


def test_every_spelling_names_one_op_and_none_is_a_layers():
    spelled = [(form, name) for op in TENSOR_OPS for form in op.forms for name in op.spellings(form)]
    assert len(spelled) == len(set(spelled))
    assert not {name for _, name in spelled} & layers.SAME_SHAPE_SPELLINGS


def test_the_binder_places_arguments_as_python_does_and_refuses_what_torch_would():
    params = (("input", REQUIRED), ("dim", None), ("keepdim", False))
    assert bind(params, ["x", 1], {"keepdim": True}) == {"input": "x", "dim": 1, "keepdim": True}
    assert bind(params, ["x"], {}) == {"input": "x", "dim": None, "keepdim": False}
    assert bind(params, ["x", 1, True, 3], {}) is None  # one too many
    assert bind(params, ["x", 1], {"dim": 2}) is None  # given twice
    assert bind(params, ["x"], {"axis": 1}) is None  # not a parameter
    assert bind(params, ["x"], {"dtype": 1}, keywords=("dtype",)) == {
        "input": "x", "dim": None, "keepdim": False, "dtype": 1}
    assert bind((("input", REQUIRED), ("dim", ABSENT)), ["x"], {}) == {"input": "x"}
    sizes = (("input", REQUIRED), ("size", VARIADIC))
    assert bind(sizes, ["x", 2, 3], {}) == {"input": "x", "size": [2, 3]}
    assert bind(sizes, ["x"], {"size": (2, 3)}) == {"input": "x", "size": [(2, 3)]}
    assert bind(sizes, ["x"], {}) is None


def evaluated(expression: str):
    """The shape the evaluator gives `expression`, with x a (2, 3, 4) tensor and m a (4, 5) one; None where it gives
    none."""
    source = f"import torch\nimport torch.nn.functional as F\nx = torch.zeros(2, 3, 4)\nm = torch.zeros(4, 5)\n" \
             f"value = {expression}\n"
    interpreter = Interpreter(SourceFile(source, "f.py"))
    interpreter.run_module()
    value = interpreter.globals.vars["value"]
    return value.shape if isinstance(value, Tensor) else None


def torch_shape(expression: str):
    out = eval(expression, {"torch": torch, "F": F, "x": torch.zeros(2, 3, 4), "m": torch.zeros(4, 5)})
    return tuple(out.shape)


# calls whose arguments bind by torch's signatures: positions after a default torch's order gives (std's second is
# `unbiased`, not keepdim), aliases, in-place forms, keywords by torch's names
BOUND_AS_TORCH = [
    "x.std(1, True)", "torch.var(x, 1, True)", "x.std(1, True, True)", "x.var(dim=2, keepdim=True)",
    "x.swapaxes(0, 2)", "torch.swapdims(x, 0, 1)", "torch.swapaxes(x, axis0=1, axis1=2)", "x.clone().transpose_(0, 1)",
    "x.clone().swapdims_(1, 2)", "torch.subtract(x, x[0])", "x.multiply(x[0, 0])", "x.clone().divide_(2.0)",
    "torch.sum(x, dim=1, keepdim=True)", "torch.amax(x, (0, 2))", "x.logsumexp(1)", "torch.prod(x, 2, True)",
    "torch.max(x, 1, True)[0]", "F.softmax(x, 1, 3)", "torch.softmax(x, 1, torch.float64)", "F.log_softmax(x, dim=0)",
    "x.flatten(end_dim=1)", "torch.flatten(x, 1)", "x.view(size=(6, 4))", "torch.reshape(x, shape=(4, 6))",
    "torch.reshape(x, (-1,))", "x.permute(2, 0, 1)", "torch.permute(x, (1, 0, 2))", "x.matmul(m)",
    "torch.mm(x[0], mat2=m)", "torch.narrow(x, 2, 1, 2)", "torch.split(x, 2, dim=2)[1]", "x.chunk(2, 1)[1]",
    "torch.unbind(x, dim=1)[0]", "torch.cat([x, x], dim=2)", "torch.stack((x, x), 1)", "x.view_as(torch.zeros(4, 6))",
    "torch.where(x.bool(), x, x[0, 0])", "torch.einsum('bij,jk->bik', x, m)",
    "torch.meshgrid(x[0, 0], m[0], indexing='xy')[1]", "torch.meshgrid((x[0, :, 0], m[:, 0]), indexing='ij')[0]",
    "torch.stack(torch.meshgrid(x[0, 0], x[0, :, 0], indexing='ij'))", "torch.meshgrid(x[0, 0, 0], m[0], indexing='xy')[0]",
]


@pytest.mark.parametrize("expression", BOUND_AS_TORCH)
def test_calls_bind_as_torch_binds_them(expression):
    assert evaluated(expression) == torch_shape(expression)


# arguments torch would not bind so: the call is not followed, and nothing is said
NOT_BOUND = ["x.sum(1, axis=2)", "x.mean(1, False, 3, 4)", "torch.unsqueeze(x, 1, dim=2)", "x.transpose(0)",
             "x.softmax()", "torch.mul(x, x, alpha=2)", "x.flatten(0, 1, 2)"]


@pytest.mark.parametrize("expression", NOT_BOUND)
def test_arguments_torch_would_refuse_leave_the_result_unknown(expression):
    with pytest.raises(TypeError):
        torch_shape(expression)
    assert evaluated(expression) is None
    source = f"import torch\nx = torch.zeros(2, 3, 4)\nvalue = {expression}\ntorch.nn.Linear(7, 2)(value)\n"
    assert analyze_source(source, "f.py").findings == []


@pytest.mark.parametrize("expression", ["torch.meshgrid(x, m[0], indexing='ij')[0]",
                                        "torch.meshgrid(x[0, 0], m[0], indexing='ji')[0]"])
def test_a_meshgrid_torch_refuses_is_not_followed(expression):
    with pytest.raises(RuntimeError):  # a 2-d input; an indexing that is neither 'ij' nor 'xy'
        torch_shape(expression)
    assert evaluated(expression) is None

"""The shape functions of the ops on tensors that torch functions and tensor methods both spell (`torch.reshape(x, s)`
and `x.reshape(s)`): view and reshape, reductions, reordering (unsqueeze, squeeze, permute, transpose), pieces (narrow,
split, chunk, unbind), element-wise ops with broadcasting, matrix products, einsum, cat and stack. Each takes its
arguments already bound to torch's parameter names: which op a call spells, and how its arguments bind, is the
registry's (tensor_op_table.py)."""

from __future__ import annotations

import ast
from collections import namedtuple
from dataclasses import replace
from functools import partial
from typing import Any

from torchshape_lint.evaluate.python_library import int_like
from torchshape_lint.evaluate.torchvision_library import last_batch_violation
from torchshape_lint.evaluate.values import ListV
from torchshape_lint.shapes import dims, merges, products
from torchshape_lint.shapes.feature_layers import one_spatial_value
from torchshape_lint.shapes.spatial_layers import pad_last_dims
from torchshape_lint.shapes.tensor import Tensor, as_written, defer, flattened, of_rank, settle
from torchshape_lint.shapes.violations import MatmulMismatch, MergeMismatch, Suggestion, ViewSize
from torchshape_lint.unknown import UNKNOWN


def as_operand(x: Tensor) -> Tensor:
    """A tensor as an op that reads any rank takes it (a merge, an index, a split): a model's input of an exact shape
    (pragma, usage) is the shape as written, as the pragma says; any other pending input stays pending."""
    return as_written(x) if x.pending and x.exact and x.hint is not None else settle(x)


def reshape(interp: Any, x: Tensor, args: list, where: Any, label: str) -> Any:
    """view / reshape: exact when the sizes are known; a wrong hard-coded feature count is a violation."""
    sizes = list(args[0]) if len(args) == 1 and isinstance(args[0], (tuple, ListV)) else list(args)
    smaller_last_batch = last_batch_violation(x, sizes, label, where)
    if smaller_last_batch is not None:
        interp.check.report(smaller_last_batch)
        return UNKNOWN
    if len(sizes) == 2 and sizes[0] == dims.symbol("N") and int_like(sizes[1]) and sizes[1] == -1 \
            and (whole := flattened(x)) is not None:  # img.view(img.size(0), -1) of a model's input of symbolic sizes
        return x.then(label, where, whole.shape)
    if x.shape is None or not sizes or not all(
            isinstance(s, (int, dims.Sym)) and not isinstance(s, bool) for s in sizes):
        if sizes and all(int_like(s) for s in sizes) and sizes.count(-1) == 0:
            return Tensor(shape=tuple(sizes), history=x.history, origin=x.origin)
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
        if dims.can_equal(total, rest) is False:  # symbolic too: `s * 8192` elements are never `s * 9216`
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


ValuesIndices = namedtuple("ValuesIndices", "values indices")


def values_and_indices(interp: Any, x: Tensor, name: str, bound: dict, where: Any) -> Any:
    """x.max(dim, keepdim=False), torch.min(x, dim=1), x.median(1): `(values, indices)`, each of the reduced shape;
    x.max() with no dim: a 0-d tensor; torch.max(a, b) with a tensor: the element-wise maximum (or minimum).
    `bound`: dim (absent where not given), keepdim, and other where given by name."""
    if "other" in bound or isinstance(bound.get("dim"), Tensor):
        other = bound.get("other", bound.get("dim"))
        if name == "median" or "other" in bound and "dim" in bound or bound["keepdim"] is not False:
            return UNKNOWN
        return elementwise(interp, f"torch.{name}(a, b)", [x, other], ("a", "b"), where)
    if "dim" not in bound:
        return x.then(name, where, ()) if x.shape is not None and bound["keepdim"] is False else UNKNOWN
    values = reduce(interp, x, name, bound["dim"], bound["keepdim"], where)
    return ValuesIndices(values, values) if isinstance(values, Tensor) else UNKNOWN


def reorder(interp: Any, x: Tensor, name: str, args: list, where: Any) -> Any:
    """unsqueeze, squeeze, permute (dims as arguments or one tuple), transpose: `args`, the dims the call gives, in
    the order of the op's parameters; dims wrapped as PyTorch wraps them."""
    if name == "permute" and len(args) == 1 and isinstance(args[0], (tuple, ListV)):
        args = list(args[0])
    if name == "permute" and x.shape is None and is_ordering(args) and (ranked := of_rank(x, len(args))) is not None:
        x = ranked  # permute succeeds only on a tensor of as many dims as it names (transpose fixes no rank)
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


def is_ordering(args: list) -> bool:
    """Whether permute's dims order the dims of a tensor of as many (wrapped as PyTorch wraps them); dims that do not
    fail on every rank, each in words of its own, so an input of unknown rank proves nothing from them."""
    wrapped = [dims.wrap_dim(a, len(args)) if int_like(a) else None for a in args]
    return None not in wrapped and sorted(wrapped) == list(range(len(args)))


def pieces(interp: Any, x: Tensor, name: str, bound: dict, where: Any) -> Any:
    """narrow(dim, start, length), split(size or sizes, dim=0), chunk(chunks, dim=0), unbind(dim=0), as methods and
    as torch functions: a tensor, or a tuple of them, with PyTorch's lengths along `dim` (chunk: pieces of
    ceil(size / chunks), so possibly fewer than asked). Where PyTorch raises or a size is not known: unknown."""
    x = as_operand(x)
    if x.shape is None or not x.shape:
        return UNKNOWN
    dim = bound["dim"]
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
    first = least_concrete(items)
    if problem is not None:
        operands = [(f"tensor {i}", t) for i, t in enumerate(items)]
        interp.check.report(MergeMismatch(where, label, first, problem=problem, operands=tuple(operands)))
        return UNKNOWN
    return first.then(label, where, shape)


def meshgrid(interp: Any, tensors: list, indexing: Any, where: Any) -> Any:
    """torch.meshgrid(a, b, ...) or of one list of them: each 0-d or 1-d (a 0-d one a size of 1), one grid per input
    of their sizes in order ('ij', the default), the first two swapped for 'xy'. What torch would refuse (a 2-d input,
    another indexing) is not followed."""
    items = interp.iterate(tensors[0]) if len(tensors) == 1 and not isinstance(tensors[0], Tensor) else tensors
    if items is UNKNOWN or not items or not all(isinstance(t, Tensor) for t in items) or indexing not in (
            None, "ij", "xy"):
        return UNKNOWN
    items = [as_operand(t) for t in items]
    if any(t.shape is None or len(t.shape) > 1 for t in items):
        return UNKNOWN
    sizes = [t.shape[0] if t.shape else 1 for t in items]
    if indexing == "xy" and len(sizes) > 1:
        sizes[0], sizes[1] = sizes[1], sizes[0]
    return tuple(t.then("torch.meshgrid", where, tuple(sizes)) for t in items)


OPERATORS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//", ast.Mod: "%",
             ast.Pow: "**", ast.BitAnd: "&", ast.BitOr: "|", ast.BitXor: "^"}


def tensor_binary(interp: Any, op: Any, left: Any, right: Any, where: Any, in_place: bool = False) -> Any:
    """`a + b` and the other element-wise operators, with broadcasting; `a += b` on a tensor is in place."""
    if op is ast.MatMult:  # `a @= b` too: a tensor has no in-place matmul, so Python binds a to a @ b
        return matrix_product(interp, "a @= b" if in_place else "a @ b", products.matmul, [left, right], where)
    if op not in OPERATORS:
        return UNKNOWN
    symbol = OPERATORS[op] + ("=" if in_place else "")
    return elementwise(interp, f"a {symbol} b", [left, right], ("a", "b"), where,
                       in_place=in_place and isinstance(left, Tensor))


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


def matrix_product(interp: Any, label: str, formula: Any, operands: list, where: Any) -> Any:
    """`a @ b`, torch.matmul(a, b), a.mm(b), torch.bmm(a, b), ...: the product's shape (`formula`, from
    shapes/products.py); sizes that cannot be multiplied are reported, and the result is unknown: PyTorch raises
    there."""
    if not all(isinstance(t, Tensor) for t in operands):
        return UNKNOWN
    a, b = (as_operand(t) for t in operands)
    if a.shape is None or b.shape is None:
        return UNKNOWN
    shape, problem = formula(a.shape, b.shape)
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


CONCRETENESS = {"symbolic": 0, "option": 1}  # any other origin (a pragma, a usage, a tensor made in code): 2


def least_concrete(tensors: list) -> Tensor:
    """The first tensor, as concrete as the least concrete of them: an op over a symbolic input and a tensor the
    model makes (`self.gamma * x`, `torch.cat((self.cls_token, x), 1)`) holds for any input, not only the file's."""
    first = tensors[0]
    origin = min((t.origin for t in tensors), key=lambda o: CONCRETENESS.get(o, 2))
    return first if CONCRETENESS.get(origin, 2) == CONCRETENESS.get(first.origin, 2) else replace(first, origin=origin)


def combined(interp: Any, kind: type, label: str, operands: list, shape: Any, problem: Any, where: Any) -> Any:
    """The result of an op over named operands (a merge, a product): the shape, or where `problem` says PyTorch
    raises, a violation of class `kind` naming each operand and an unknown result."""
    first = least_concrete([t for _, t in operands])
    if problem is not None:
        interp.check.report(kind(where, label, first, problem=problem, operands=tuple(operands)))
    out = UNKNOWN if problem is not None else first.then(label, where, shape)
    interp.check.applied(where, label, first, out)  # applied even where it breaks: explain's row, confirm's site
    return out


def pad(interp: Any, x: Tensor, amounts: Any, where: Any) -> Any:
    """F.pad(input, pad): the last len(pad) / 2 sizes padded, as the padding layers pad them."""
    x = settle(x)
    if x.pending and isinstance(amounts, (tuple, ListV)) and amounts and not len(amounts) % 2 \
            and not (x.exact and x.hint is not None and len(amounts) // 2 > len(x.hint)):
        # the model's input before a layer fixed its rank: F.pad pads its last sizes whatever the rank
        return defer(x, partial(pad, interp, amounts=amounts, where=where))
    if x.shape is None or not isinstance(amounts, (tuple, ListV)) or len(amounts) % 2 or \
            len(amounts) // 2 > len(x.shape):
        return UNKNOWN
    # an amount computed from the input's size (a "same" padding written by hand) is often unknown: the dims it
    # pads become unknown, the others (the batch, the channels) stay
    out = pad_last_dims(x, tuple(a if int_like(a) else UNKNOWN for a in amounts), "pad", where, interp.check)
    interp.check.applied(where, "pad", x, out)
    return out


def instance_norm(interp: Any, x: Tensor, use_input_stats: Any, where: Any) -> Any:
    """F.instance_norm: the shape stays; with the input's own statistics (the default, in any mode) a single
    spatial element raises."""
    if x.shape is not None and len(x.shape) >= 3 and use_input_stats is True \
            and one_spatial_value(x, x.shape, "F.instance_norm", where, interp.check):
        return UNKNOWN
    return x

"""Expressions: literals, names, containers, operators, comparisons, comprehensions and calls, on abstract values."""

from __future__ import annotations

import ast
import operator
from functools import partial
from typing import Any

from torchshape_lint.evaluate.frames import (
    MAX_INT_BITS, OPAQUE_KWARGS, Abort, Frame, Lazy, Scope, YieldReached, dispatch,
)
from torchshape_lint.evaluate.library import same_value
from torchshape_lint.evaluate.python_library import Method, builtin
from torchshape_lint.evaluate.tensor_methods import IN_PLACE_RESHAPES, tensor_index
from torchshape_lint.evaluate.tensor_ops import tensor_binary
from torchshape_lint.evaluate.values import (
    MAX_ITEMS, PLAIN, BoundMethod, ClassV, Container, DictV, External, Function, Instance, ListV, carry, is_hashable,
    is_plain, readable,
)
from torchshape_lint.shapes import dims, formulas
from torchshape_lint.shapes.layer_spec import Layer
from torchshape_lint.shapes.tensor import Tensor
from torchshape_lint.unknown import UNKNOWN

BINARY = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod, ast.Pow: operator.pow,
    ast.LShift: operator.lshift, ast.RShift: operator.rshift, ast.BitAnd: operator.and_,
    ast.BitOr: operator.or_, ast.BitXor: operator.xor, ast.MatMult: operator.matmul,
}
COMPARE = {
    ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le,
    ast.Gt: operator.gt, ast.GtE: operator.ge,
}
CONSTANTS = (int, float, str, bytes, bool, type(None), type(Ellipsis))  # complex numbers stay unknown
NUMBERS = frozenset({int, float})  # exact types: not a bool, nor an int that says where it came from (Sourced)
EXACT_PLAIN = frozenset({int, float, bool, str, type(None)})  # PLAIN's types exactly: no Sourced


class Expressions:
    """The expression half of the Interpreter (a mixin: it calls the other halves through `self`)."""

    def eval(self, node: Any, frame: Frame) -> Any:
        self.steps += 1
        if self.steps > self.max_steps:
            raise Abort("step budget")
        kind = node.__class__
        # names, constants and attributes, two thirds of all evaluations, here rather than by a method of their own
        if kind is ast.Name:
            local = frame.scope.vars
            value = local[node.id] if node.id in local else self.outside_name(node.id, frame.scope)
            return value.resolve() if isinstance(value, Lazy) else value
        if kind is ast.Attribute:
            return self.get_attribute(self.eval(node.value, frame), node.attr, node, frame)
        if kind is ast.Constant:
            return node.value if isinstance(node.value, CONSTANTS) else UNKNOWN
        method = EXPRESSIONS.get(kind)
        return UNKNOWN if method is None else method(self, node, frame)

    def outside_name(self, name: str, scope: Scope) -> Any:
        """A name of an enclosing scope, a module's or a builtin's; one bound in a scope made before the construction
        being recorded is read from outside it (Memo.read)."""
        holding = scope.parent  # not the running call's own: eval looked there
        while holding is not None and name not in holding.vars:
            holding = holding.parent
        if holding is None:
            return builtin(name)
        value = holding.vars[name]
        if self.memo.started and holding.made < self.memo.started[-1].first_scope:
            self.memo.read(value.resolve() if isinstance(value, Lazy) else value,
                           None if holding is self.globals else holding)
        return value

    def expr_JoinedStr(self, node: ast.JoinedStr, frame: Frame) -> Any:
        text = []
        for part in node.values:
            if isinstance(part, ast.Constant):
                text.append(part.value)
                continue
            value = self.eval(part.value, frame)
            if not isinstance(value, (int, str)) or part.format_spec is not None or part.conversion != -1:
                return UNKNOWN
            text.append(str(value))
        return "".join(text)

    def expr_Tuple(self, node: ast.Tuple, frame: Frame) -> Any:
        items = self.elements(node.elts, frame)
        return UNKNOWN if items is UNKNOWN else tuple(items)

    def expr_List(self, node: ast.List, frame: Frame) -> Any:
        items = self.elements(node.elts, frame)
        return UNKNOWN if items is UNKNOWN else ListV(items)

    def expr_Set(self, node: ast.Set, frame: Frame) -> Any:
        items = self.elements(node.elts, frame)
        if items is UNKNOWN or not all(is_hashable(i) for i in items):
            return UNKNOWN
        return set(items)

    def elements(self, elements: list, frame: Frame) -> Any:
        items: list = []
        for element in elements:
            if isinstance(element, ast.Starred):
                spread = self.iterate(self.eval(element.value, frame))
                if spread is UNKNOWN:
                    return UNKNOWN
                self.grow(items, spread)
            else:
                items.append(self.eval(element, frame))
        return items

    def expr_Dict(self, node: ast.Dict, frame: Frame) -> Any:
        result = DictV()
        for key_node, value_node in zip(node.keys, node.values):
            if key_node is None:  # {**other}
                other = readable(self.eval(value_node, frame))
                if not isinstance(other, dict):
                    return UNKNOWN
                result.update(other)
                continue
            key = self.eval(key_node, frame)
            if key is UNKNOWN or not is_hashable(key):
                return UNKNOWN
            result[key] = self.eval(value_node, frame)
        return result

    def expr_Subscript(self, node: ast.Subscript, frame: Frame) -> Any:
        value, key = self.eval(node.value, frame), self.subscript_key(node, frame)
        if isinstance(value, Tensor) and key is not UNKNOWN:  # a slice's step says where it was taken
            return tensor_index(value, key, (frame.source, node))
        return self.get_item(value, key)

    def subscript_key(self, node: ast.Subscript, frame: Frame) -> Any:
        """`x[i]`: the value of i; `x[a:b]`: a slice; `x[i, a:b]`: a tuple of both."""
        part = node.slice
        if isinstance(part, ast.Tuple) and any(isinstance(e, ast.Slice) for e in part.elts):
            return tuple(self.key_part(e, frame) for e in part.elts)
        return self.key_part(part, frame)

    def key_part(self, part: ast.expr, frame: Frame) -> Any:
        if not isinstance(part, ast.Slice):
            return self.eval(part, frame)
        bounds = [self.eval(b, frame) if b is not None else None for b in (part.lower, part.upper, part.step)]
        return UNKNOWN if any(b is UNKNOWN for b in bounds) else slice(*bounds)

    def expr_BinOp(self, node: ast.BinOp, frame: Frame) -> Any:
        return self.binary(type(node.op), self.eval(node.left, frame), self.eval(node.right, frame),
                           (frame.source, node))

    def expr_UnaryOp(self, node: ast.UnaryOp, frame: Frame) -> Any:
        value = self.eval(node.operand, frame)
        if isinstance(node.op, ast.Not):
            truth = self.truth(value)
            return UNKNOWN if truth is UNKNOWN else not truth
        if isinstance(value, Tensor):
            return value
        if isinstance(value, (int, float)):
            if isinstance(node.op, ast.USub):
                return -value
            if isinstance(node.op, ast.UAdd):
                return +value
            if isinstance(node.op, ast.Invert) and isinstance(value, int):
                return ~value
        return UNKNOWN

    def expr_BoolOp(self, node: ast.BoolOp, frame: Frame) -> Any:
        """`a and b and c`: each operand in turn, as long as the truth of the one before is known."""
        value = self.eval(node.values[0], frame)
        for operand in node.values[1:]:
            truth = self.truth(value)
            if truth is UNKNOWN:
                return UNKNOWN
            if truth != isinstance(node.op, ast.And):  # `and` stops at a false value, `or` at a true one
                return value
            value = self.eval(operand, frame)
        return value

    def expr_Compare(self, node: ast.Compare, frame: Frame) -> Any:
        left = self.eval(node.left, frame)
        result: Any = True
        for op, comparator in zip(node.ops, node.comparators):
            right = self.eval(comparator, frame)
            outcome = self.compare(op, left, right)
            if outcome is UNKNOWN:
                result = UNKNOWN
            elif outcome is False:
                return False
            left = right
        return result

    def compare(self, op: ast.cmpop, left: Any, right: Any) -> Any:
        if left.__class__ in EXACT_PLAIN and right.__class__ in EXACT_PLAIN and op.__class__ in COMPARE:
            try:  # `v == "M"` in every pass of a cfg loop: what the general path below gives these, without its tests
                return COMPARE[op.__class__](left, right)
            except TypeError:
                return UNKNOWN
        left, right = readable(left), readable(right)
        if isinstance(op, (ast.Is, ast.IsNot)):
            if left is UNKNOWN or right is UNKNOWN or isinstance(left, Method) or isinstance(right, Method):
                return UNKNOWN  # a Method may stand for a data attribute not known (`self.bn.weight is None`)
            if right is None or left is None or isinstance(left, bool) or isinstance(right, bool):
                same = left is right
            elif isinstance(left, PLAIN) or isinstance(right, PLAIN):
                return UNKNOWN
            else:
                same = left is right
            return same if isinstance(op, ast.Is) else not same
        if isinstance(op, (ast.In, ast.NotIn)):
            container = right
            if isinstance(container, (ListV, tuple, set, DictV, str)) and is_plain(left) and all(
                    is_plain(v) for v in container):
                found = left in container
                return found if isinstance(op, ast.In) else not found
            return UNKNOWN
        fn = COMPARE.get(type(op))
        if isinstance(op, (ast.Eq, ast.NotEq)) and (left is None or right is None) and self.compares_by_identity(
                right if left is None else left):  # `self.downsample == None`: a module is equal to itself only
            return (left is right) == isinstance(op, ast.Eq)
        if fn is not None and is_plain(left) and is_plain(right):
            try:
                return fn(left, right)
            except TypeError:
                return UNKNOWN
        return UNKNOWN

    def compares_by_identity(self, value: Any) -> bool:
        """None, or a module whose `==` is nn.Module's (object identity: no __eq__ of the file's own)."""
        if value is None or isinstance(value, (Layer, Container)):
            return True
        return isinstance(value, Instance) and value.cls.is_module() and self.find_method(value.cls, "__eq__") is None

    def expr_IfExp(self, node: ast.IfExp, frame: Frame) -> Any:
        truth = self.truth(self.eval(node.test, frame))
        if truth is UNKNOWN:
            return self.either(node.body, node.orelse, frame)
        return self.eval(node.body if truth else node.orelse, frame)

    def either(self, body: ast.expr, orelse: ast.expr, frame: Frame) -> Any:
        """Under an undecided condition, the value both branches give (`torch.cuda.FloatTensor if cuda else
        torch.FloatTensor`): only where both only read names and constants, so evaluating both does nothing."""
        if not (reads_only(body) and reads_only(orelse)):
            return UNKNOWN
        value = self.eval(body, frame)
        return value if same_value(value, self.eval(orelse, frame)) else UNKNOWN

    def expr_NamedExpr(self, node: ast.NamedExpr, frame: Frame) -> Any:
        value = self.eval(node.value, frame)
        self.bind(node.target, value, frame)
        return value

    def expr_Yield(self, node: Any, frame: Frame) -> Any:
        raise YieldReached()

    expr_YieldFrom = expr_Yield

    def expr_Lambda(self, node: ast.Lambda, frame: Frame) -> Any:
        return Function(node, frame.source, frame.scope, "<lambda>")

    def expr_ListComp(self, node: ast.ListComp, frame: Frame) -> Any:
        items = self.comprehension(node, frame, lambda f: self.eval(node.elt, f))
        return UNKNOWN if items is UNKNOWN else ListV(items)

    def expr_GeneratorExp(self, node: ast.GeneratorExp, frame: Frame) -> Any:
        items = self.comprehension(node, frame, lambda f: self.eval(node.elt, f))
        return UNKNOWN if items is UNKNOWN else tuple(items)

    def expr_SetComp(self, node: ast.SetComp, frame: Frame) -> Any:
        items = self.comprehension(node, frame, lambda f: self.eval(node.elt, f))
        return UNKNOWN if items is UNKNOWN or not all(is_hashable(i) for i in items) else set(items)

    def expr_DictComp(self, node: ast.DictComp, frame: Frame) -> Any:
        pairs = self.comprehension(node, frame, lambda f: (self.eval(node.key, f), self.eval(node.value, f)))
        if pairs is UNKNOWN or not all(is_hashable(k) for k, _ in pairs):
            return UNKNOWN
        return DictV(pairs)

    def comprehension(self, node: Any, frame: Frame, produce: Any) -> Any:
        inner = Frame(Scope(frame.scope), frame.source, frame.function)
        results: list = []
        return results if self.comprehension_clauses(node.generators, 0, inner, produce, results) else UNKNOWN

    def comprehension_clauses(self, clauses: list, index: int, inner: Frame, produce: Any, results: list) -> bool:
        """Run the comprehension's `for` clause `index` and those after it, adding what `produce` gives to
        `results`; False where what one loops over, or one condition, is not known."""
        clause = clauses[index]
        items = self.iterate(self.eval(clause.iter, inner))
        if items is UNKNOWN:
            return False
        for item in items:
            self.bind(clause.target, item, inner)
            keep = True
            for condition in clause.ifs:
                truth = self.truth(self.eval(condition, inner))
                if truth is UNKNOWN:
                    return False
                keep = keep and truth
            if not keep:
                continue
            if index + 1 < len(clauses):
                if not self.comprehension_clauses(clauses, index + 1, inner, produce, results):
                    return False
            else:
                results.append(produce(inner))
                if len(results) > MAX_ITEMS:
                    raise Abort("size bound")
        return True

    def expr_Call(self, node: ast.Call, frame: Frame) -> Any:
        func = self.eval(node.func, frame)
        args: list = []
        kwargs: dict = {}
        for arg in node.args:
            if isinstance(arg, ast.Starred):
                value = self.eval(arg.value, frame)
                spread = self.iterate(value)
                if spread is UNKNOWN:
                    return self.call_unknown([value], {})
                args.extend(spread)
            else:
                args.append(self.eval(arg, frame))
        for keyword in node.keywords:
            value = self.eval(keyword.value, frame)
            if keyword.arg is not None:
                kwargs[keyword.arg] = value
                continue
            mapping = readable(value)  # **mapping
            if not isinstance(mapping, dict) or not all(isinstance(k, str) for k in mapping):
                kwargs[OPAQUE_KWARGS] = True
                continue
            kwargs.update(mapping)
        self.call_scope = frame.scope
        result = self.call(func, args, kwargs, (frame.source, node))
        if isinstance(func, Method) and isinstance(func.receiver, Tensor) and func.name in IN_PLACE_RESHAPES:
            self.reshaped_in_place(func.receiver, result, node.func.value, frame)
        return result

    def reshaped_in_place(self, old: Tensor, new: Any, receiver: ast.expr, frame: Frame) -> None:
        """`x.unsqueeze_(1)`: the names bound to that tensor, and the receiver as written, hold the new shape."""
        new = new if isinstance(new, Tensor) else UNKNOWN
        for name, value in frame.scope.vars.items():
            if value is old:
                frame.scope.assign(name, new)
        if isinstance(receiver, (ast.Name, ast.Attribute)):
            self.bind(receiver, new, frame)

    # ---- truth and arithmetic -------------------------------------------------------------------------

    def truth(self, value: Any) -> Any:
        value = readable(value)
        if value is UNKNOWN or isinstance(value, (Tensor, External)):
            return UNKNOWN
        if isinstance(value, Container):
            return bool(value.children) if not value.opaque else UNKNOWN
        if isinstance(value, Instance):
            sized = self.find_method(value.cls, "__len__") or self.find_method(value.cls, "__bool__")
            return UNKNOWN if sized else True
        if isinstance(value, (Layer, Function, BoundMethod, ClassV)):
            return True
        if isinstance(value, (ListV, tuple, DictV, str, int, float, bool, type(None), set)):
            return bool(value)
        return UNKNOWN

    def binary(self, op: type, left: Any, right: Any, where: Any = None, in_place: bool = False) -> Any:
        """`left op right` for an ast operator class (ast.Add, ...); `where`: the expression (or the augmented
        assignment, `in_place`) a merge of tensors is reported at."""
        if left.__class__ not in NUMBERS or right.__class__ not in NUMBERS:  # else plain arithmetic, most of it
            left, right = readable(left), readable(right)
            if left is UNKNOWN or right is UNKNOWN:
                return UNKNOWN
            if isinstance(left, Tensor) or isinstance(right, Tensor):
                return tensor_binary(self, op, left, right, where, in_place)
            if isinstance(left, dims.Sym) or isinstance(right, dims.Sym):
                return symbolic_arithmetic(op, left, right)
            if isinstance(left, ListV) and isinstance(right, (ListV, list)) and op is ast.Add:
                if len(left) + len(right) > MAX_ITEMS:
                    raise Abort("size bound")
                return ListV(list(left) + list(right))
            if op is ast.Mult and (isinstance(left, (ListV, tuple, str)) or isinstance(right, (ListV, tuple, str))):
                sequence, count = (left, right) if isinstance(left, (ListV, tuple, str)) else (right, left)
                if not isinstance(count, int) or len(sequence) * max(count, 0) > MAX_ITEMS:
                    return UNKNOWN
                result = sequence * count
                return ListV(result) if isinstance(sequence, ListV) else result
            if not (is_plain(left) and is_plain(right)) and not (isinstance(left, tuple) and isinstance(right, tuple)):
                return UNKNOWN
        if op is ast.Pow and isinstance(right, int) and isinstance(left, int) and (
                right < 0 or right * max(abs(left), 2).bit_length() > MAX_INT_BITS):
            return UNKNOWN
        if op is ast.LShift and isinstance(right, int) and right > MAX_INT_BITS:
            return UNKNOWN
        try:
            result = BINARY[op](left, right)
        except Exception:
            return UNKNOWN
        if isinstance(result, int) and result.bit_length() > MAX_INT_BITS:
            return UNKNOWN
        if isinstance(result, (tuple, str)) and len(result) > MAX_ITEMS:
            return UNKNOWN
        return carry(result, left, right)  # `opt.img_size // 4` still comes from the default `--img_size 32`


def symbolic_arithmetic(op: type, left: Any, right: Any) -> Any:
    if op is ast.Mult and all(isinstance(v, (int, dims.Sym)) and not isinstance(v, bool) for v in (left, right)):
        return dims.multiply(left, right)
    if op is ast.FloorDiv and isinstance(left, dims.Sym) and isinstance(right, int) and not isinstance(right, bool):
        exact = dims.divide(left, right)
        if exact is not UNKNOWN or right < 1:
            return exact
        # `planes // 16` of a size that 16 may not divide: a monotone formula on that size, as a layer's is
        return dims.apply_formula(left, partial(formulas.floor_divide, by=right), f"//{right}")
    if op is ast.Add and all(isinstance(v, (int, dims.Sym)) and not isinstance(v, bool) for v in (left, right)):
        # `c + 1` of a symbolic size: some int of its own shifted by 1
        return dims.plus(left, right) if isinstance(right, int) else dims.plus(right, left)
    return UNKNOWN


EXPRESSIONS = dispatch(Expressions, "expr_")


def reads_only(node: ast.expr) -> bool:
    """A name, a constant, or attributes of one (`torch.cuda.FloatTensor`): evaluating it calls nothing."""
    while isinstance(node, ast.Attribute):
        node = node.value
    return isinstance(node, (ast.Name, ast.Constant))

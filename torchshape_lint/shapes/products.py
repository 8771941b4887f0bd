"""Matrix products: `torch.matmul` (and `@`), `mm`, `bmm`, `mv`, `dot` and `einsum`, as PyTorch computes their shapes.

Each function takes shapes (tuples of dims.Dim) and returns `(shape, problem)`, as shapes/merges.py does: the
product's shape and None, or None and PyTorch's own words for why it raises (the words of tensors that do not
require grad: matmul folds a batch differently for one that does). A problem is a proof: on symbolic sizes only
sizes that differ for every input (merges.never_equal). `einsum` returns (None, None) for an equation it does not
read (a subscript list, an unusual character): nothing is decided.
"""

from __future__ import annotations

from torchshape_lint.shapes import dims, merges
from torchshape_lint.shapes.merges import never_equal


def matmul(a: tuple, b: tuple) -> tuple[tuple | None, str | None]:
    """torch.matmul / `a @ b`: ATen's _matmul_impl, case by case (dot, mv, mm, a batch folded into the rows of a
    3-D or larger `a` times a matrix or vector, a vector times a 3-D or larger `b` whose transpose folds, else the
    batches broadcast and a bmm)."""
    if not a or not b:
        return None, f"both arguments to matmul need to be at least 1D, but they are {len(a)}D and {len(b)}D"
    if len(a) == 1 and len(b) == 1:
        return dot(a, b)
    if len(a) == 2 and len(b) == 1:
        return mv(a, b)
    if len(a) == 1 and len(b) == 2:  # (k) is read as (1, k), and the 1 dropped again
        shape, problem = mm((1,) + tuple(a), b)
        return (shape[1:] if shape is not None else None), problem
    if len(a) == 2 and len(b) == 2:
        return mm(a, b)
    if len(a) >= 3 and len(b) <= 2:  # the batch folded into the rows: (N, n, k) -> (N*n, k)
        rows = dims.product(a[:-1])
        shape, problem = (mv if len(b) == 1 else mm)((rows, a[-1]), b)
        return (tuple(a[:-1]) + shape[1:] if shape is not None else None), problem
    if len(a) == 1 and (b[-1] == 1 or b[-2] == 1 or all(d == 1 for d in b[:-2])):
        # (k) times (N, k, p): folded the other way when b's transpose views as a matrix, (N*p, k) times (k)
        shape, problem = mv((dims.product(b[:-2] + (b[-1],)), b[-2]), a)
        return (tuple(b[:-2]) + (b[-1],) if shape is not None else None), problem
    rows, inner = (a[-2], a[-1]) if len(a) >= 2 else (1, a[0])
    inner_b, columns = (b[-2], b[-1]) if len(b) >= 2 else (b[0], 1)
    batch, problem = merges.broadcast(tuple(a[:-2]), tuple(b[:-2]))
    if problem is not None:
        return None, problem
    if never_equal(inner, inner_b):
        count = dims.show(dims.product(batch))
        return None, (f"Expected size for first two dimensions of batch2 tensor to be: [{count}, {dims.show(inner)}] "
                      f"but got: [{count}, {dims.show(inner_b)}].")
    return batch + ((rows,) if len(a) >= 2 else ()) + ((columns,) if len(b) >= 2 else ()), None


def mm(a: tuple, b: tuple) -> tuple[tuple | None, str | None]:
    """torch.mm: (n, k) times (k, p) is (n, p)."""
    if len(a) != 2:
        return None, "self must be a matrix"
    if len(b) != 2:
        return None, "mat2 must be a matrix"
    if never_equal(a[1], b[0]):
        return None, f"mat1 and mat2 shapes cannot be multiplied ({matrix(a)} and {matrix(b)})"
    return (a[0], b[1]), None


def bmm(a: tuple, b: tuple) -> tuple[tuple | None, str | None]:
    """torch.bmm: (B, n, k) times (B, k, p) is (B, n, p); no broadcasting."""
    if len(a) != 3:
        return None, "batch1 must be a 3D tensor"
    if len(b) != 3:
        return None, "batch2 must be a 3D tensor"
    if never_equal(a[0], b[0]) or never_equal(a[2], b[1]):
        return None, (f"Expected size for first two dimensions of batch2 tensor to be: [{dims.show(a[0])}, "
                      f"{dims.show(a[2])}] but got: [{dims.show(b[0])}, {dims.show(b[1])}].")
    return (merges.agreed([a[0], b[0]]), a[1], b[2]), None


def mv(a: tuple, b: tuple) -> tuple[tuple | None, str | None]:
    """torch.mv: (n, k) times (k) is (n)."""
    if not a:  # torch reads the matrix's first size before checking ranks (an IndexError)
        return None, "Dimension specified as 0 but tensor has no dimensions"
    if len(a) != 2 or len(b) != 1:
        return None, f"vector + matrix @ vector expected, got 1, {len(a)}, {len(b)}"
    if never_equal(a[1], b[0]):
        return None, f"size mismatch, got input ({dims.show(a[0])}), mat ({matrix(a)}), vec ({dims.show(b[0])})"
    return (a[0],), None


def dot(a: tuple, b: tuple) -> tuple[tuple | None, str | None]:
    """torch.dot: two vectors of one length give a scalar."""
    if len(a) != 1 or len(b) != 1:
        return None, f"1D tensors expected, but got {len(a)}D and {len(b)}D tensors"
    if never_equal(a[0], b[0]):
        first, second = dims.show(a[0]), dims.show(b[0])
        return None, (f"inconsistent tensor size, expected tensor [{first}] and src [{second}] to have the same "
                      f"number of elements, but got {first} and {second} elements respectively")
    return (), None


def matrix(shape: tuple) -> str:
    return "x".join(dims.show(d) for d in shape)


ELLIPSIS = "."  # what "..." becomes once read: one character among the subscripts


def einsum(equation: str, shapes: list) -> tuple[tuple | None, str | None]:
    """torch.einsum with an equation: each operand's subscripts name its dimensions (`...` the ones no letter
    names, broadcast across operands from the right); a letter names one size, which a size 1 broadcasts to; the
    output is the letters after `->`, or, with no `->`, the ellipsis then the letters used once, in ASCII order."""
    equation = equation.replace(" ", "")
    inputs, arrow, output = equation.partition("->")
    terms = [term.replace("...", ELLIPSIS) for term in inputs.split(",")]
    output = output.replace("...", ELLIPSIS)
    if not all(readable_subscripts(term) for term in terms + [output]):
        return None, None
    if len(terms) != len(shapes):
        return None, (f"einsum(): {'more' if len(shapes) > len(terms) else 'fewer'} operands were provided than "
                      "specified in the equation")
    for number, (term, shape) in enumerate(zip(terms, shapes)):  # torch checks every operand's rank first
        letters = term.replace(ELLIPSIS, "")
        if ELLIPSIS not in term and len(letters) != len(shape):
            return None, (f"einsum(): the number of subscripts in the equation ({len(letters)}) does not match the "
                          f"number of dimensions ({len(shape)}) for operand {number} and no ellipsis was given")
        if len(letters) > len(shape):
            return None, (f"einsum(): the number of subscripts in the equation ({len(letters)}) is more than the "
                          f"number of dimensions ({len(shape)}) for operand {number}")
    used = "".join(terms)
    if not arrow:
        output = (ELLIPSIS if ELLIPSIS in used else "") + "".join(
            sorted(letter for letter in set(used) - {ELLIPSIS} if used.count(letter) == 1))
    for letter in output:  # then the output's subscripts
        if letter not in used:
            return None, f"einsum(): output subscript {letter} does not appear in the equation for any input operand"
        if letter != ELLIPSIS and output.count(letter) > 1:
            return None, f"einsum(): output subscript {letter} appears more than once in the output"
    sizes: dict = {}
    ellipsis: tuple = ()
    for number, (term, shape) in enumerate(zip(terms, shapes)):  # each operand's dimensions in order
        covered = len(shape) - len(term) + 1
        seen_here: dict = {}
        position = 0
        for letter in term:
            if letter == ELLIPSIS:
                # torch names the dimension in the operand left after each repeated letter's diagonal: the
                # letters before the ellipsis, once each
                ellipsis, problem = broadcast_ellipsis(ellipsis, tuple(shape[position:position + covered]),
                                                       len(seen_here), number)
                if problem is not None:
                    return None, problem
                position += covered
                continue
            size = shape[position]
            position += 1
            if letter in seen_here and never_equal(size, seen_here[letter]):
                return None, (f"einsum(): subscript {letter} is repeated for operand {number} but the sizes don't "
                              f"match, {dims.show(size)} != {dims.show(seen_here[letter])}")
            seen_here.setdefault(letter, size)
            if letter in sizes:
                merged, clash = merges.broadcast_dim(sizes[letter], size)
                if clash:
                    return None, (f"einsum(): subscript {letter} has size {dims.show(size)} for operand {number} "
                                  f"which does not broadcast with previously seen size {dims.show(sizes[letter])}")
                sizes[letter] = merged
            else:
                sizes[letter] = size
    return tuple(size for letter in output for size in (ellipsis if letter == ELLIPSIS else (sizes[letter],))), None


def sublist_equation(sublists: list, output: list | None) -> str | None:
    """The equation that einsum's sublist form spells (`torch.einsum(a, [0, 1], b, [1, 2], [0, 2])`): 0-25 are A-Z,
    26-51 a-z, `...` (Ellipsis) the ellipsis; None for anything else."""
    def spelled(sublist: list) -> str | None:
        letters = []
        for item in sublist:
            if item is Ellipsis:
                letters.append("...")
            elif isinstance(item, int) and not isinstance(item, bool) and 0 <= item < 52:
                letters.append(chr(ord("A") + item) if item < 26 else chr(ord("a") + item - 26))
            else:
                return None
        return "".join(letters)

    terms = [spelled(sublist) for sublist in sublists]
    result = spelled(output) if output is not None else ""
    if None in terms or result is None:
        return None
    return ",".join(terms) + ("->" + result if output is not None else "")


def readable_subscripts(term: str) -> bool:
    """Letters and at most one ellipsis; anything else (a stray '.') is not decided here."""
    return term.count(ELLIPSIS) <= 1 and all(c == ELLIPSIS or c.isascii() and c.isalpha() for c in term)


def broadcast_ellipsis(seen: tuple, part: tuple, start: int, number: int) -> tuple[tuple, str | None]:
    """The dimensions the ellipses cover, broadcast from the right; PyTorch names a clash by the operand's own
    dimension index."""
    merged = []
    for i in range(1, max(len(seen), len(part)) + 1):
        before = seen[-i] if i <= len(seen) else 1
        size = part[-i] if i <= len(part) else 1
        result, clash = merges.broadcast_dim(before, size)
        if clash:
            return (), (f"einsum(): dimension {start + len(part) - i} covered by ellipsis in operand {number}has size "
                        f"{dims.show(size)} which does not broadcast with previously seen ellipsis with size "
                        f"{dims.show(before)} for the respective dimension")
        merged.append(result)
    return tuple(reversed(merged)), None

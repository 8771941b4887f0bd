from torchshape_lint.checks.derivation import problem_and_operands
from torchshape_lint.checks.rules import Rule


class MatmulMismatch(Rule):
    """A matrix product of tensors whose sizes PyTorch cannot multiply: `torch.matmul` / `a @ b` / `a.matmul(b)`
    whose inner sizes differ or whose batch dimensions do not broadcast, `torch.mm` / `bmm` / `mv` / `dot` given
    the wrong ranks or sizes, a `torch.einsum` whose operands do not fit its equation (a letter naming two sizes
    neither of which is 1, a subscript count that is not the operand's rank, an output letter no operand has). On
    symbolic sizes only what differs for every input is reported: `(N, 8, H) @ (64, 10)` is right for H = 64."""

    code = "TSL012"
    name = "matmul-mismatch"
    summary = "a matrix product (matmul, @, mm, bmm, mv, dot, einsum) of tensors whose sizes do not fit"
    why = ("PyTorch raises `mat1 and mat2 shapes cannot be multiplied (4x3 and 5x6)` or `Expected size for first two "
           "dimensions of batch2 tensor to be: [2, 3] but got: [2, 4].` only when the line runs: attention scores "
           "`q @ k.transpose(-2, -1)` with the wrong transpose, a projection matrix of the wrong width.")
    fix = ("Make the last size of the left operand the first matrix size of the right one (transpose one of them, "
           "or size the weight from the features that arrive); for einsum, give each letter one size.")
    bad = '''
import torch
import torch.nn as nn


class Attention(nn.Module):
    def __init__(self):
        super().__init__()
        self.query = nn.Linear(32, 16)
        self.key = nn.Linear(32, 16)

    def forward(self, x):
        q, k = self.query(x), self.key(x)
        return q @ k


Attention()(torch.zeros(2, 10, 32))
'''
    good = bad.replace("q @ k", "q @ k.transpose(-2, -1)")

    def message(self, v) -> str:
        return problem_and_operands(v)

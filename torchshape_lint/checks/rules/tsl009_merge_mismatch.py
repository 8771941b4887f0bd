from torchshape_lint.checks.derivation import problem_and_operands
from torchshape_lint.checks.rules import Rule


class MergeMismatch(Rule):
    """Tensors merged with sizes PyTorch cannot merge: an element-wise op (`a + b`, `-`, `*`, `/`, `+=`, `torch.add`,
    `sub`, `mul`, `div`, `maximum`, `minimum`, `torch.where`, and the tensor methods) whose shapes do not broadcast
    (each size, from the last dimension, equal or 1), an in-place one (`a += b`, `a.add_(b)`) whose result is not
    `a`'s shape, a `torch.cat` whose tensors differ in rank or in a size other than the cat dimension, a
    `torch.stack` of tensors of different shapes. On symbolic sizes only what differs for every input is
    reported: a residual add of `H` and the `h'` of a strided conv is right on a 1x1 input, so it is not."""

    code = "TSL009"
    name = "merge-mismatch"
    summary = "tensors merged (added, concatenated, stacked) with sizes that do not fit"
    why = ("PyTorch raises `The size of tensor a (16) must match the size of tensor b (32) at non-singleton dimension "
           "3` or `Sizes of tensors must match except in dimension 1` only when the line runs. Residual blocks and "
           "U-Net skips merge two branches, and a stride or a channel count changed in one branch breaks the merge.")
    fix = ("Make both branches give the same sizes: the shortcut's stride and channels those of the main branch, "
           "the upsampled map the size of the skip it is joined to (or crop/pad one of them).")
    bad = '''
import torch
import torch.nn as nn


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(16, 16, 3, stride=2, padding=1)

    def forward(self, x):
        return self.conv(x) + x


Block()(torch.zeros(1, 16, 32, 32))
'''
    good = bad.replace("stride=2, padding=1", "stride=1, padding=1")

    def message(self, v) -> str:
        return problem_and_operands(v)

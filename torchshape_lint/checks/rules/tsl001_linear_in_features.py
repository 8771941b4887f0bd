from torchshape_lint.checks.derivation import summary
from torchshape_lint.checks.rules import Rule
from torchshape_lint.shapes import dims


class LinearInFeatures(Rule):
    """A `Linear` whose `in_features` is not the number of features that reach it."""

    code = "TSL001"
    name = "linear-in-features"
    summary = "Linear in_features does not match the features that arrive"
    why = ("PyTorch finds this only when the model runs, as `mat1 and mat2 shapes cannot be multiplied`. "
           "The number is arithmetic over every conv and pool before the Linear, easy to get wrong when the "
           "input size or the layers change.")
    fix = "Write the number of features that arrives: channels * height * width after the last layer before it."
    fix_safety = ("`--fix` (and the language server's quick fix) writes the arriving count into `in_features` where it "
                  "is proven: a concrete input, and every build of the line agreeing. Unsafe: the layers before it "
                  "may be what is wrong (a missing pool, a wrong input size), and the pretrained weights of the "
                  "Linear will no longer load.")
    bad = '''
import torch.nn as nn

# torchshape: input=(1, 3, 32, 32)
model = nn.Sequential(
    nn.Conv2d(3, 16, kernel_size=3, padding=1),
    nn.MaxPool2d(2),
    nn.Flatten(),
    nn.Linear(16 * 8 * 8, 10),
)
'''
    good = bad.replace("16 * 8 * 8", "16 * 16 * 16")

    def message(self, v) -> str:
        if isinstance(v.arriving, int):
            text = f"{v.label} but {v.arriving} features arrive: {summary(v.tensor)}"
            return text + self.use(v)
        arriving = dims.show(v.arriving)
        if not isinstance(v.declared, int):  # a constructor's parameter (Rule.text says for which values)
            return f"{v.label} but {arriving} features arrive ({summary(v.tensor)})"
        coef = v.arriving.coef if isinstance(v.arriving, dims.Sym) else 1
        reason = (f"{v.declared} is not a multiple of {coef}" if v.declared % coef
                  else "no input height and width make the sizes multiply to it")
        return f"{v.label} matches no input size: {arriving} features arrive ({summary(v.tensor)}), and {reason}"

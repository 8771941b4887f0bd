from torchshape_lint.checks.rules import Rule


class BadPragma(Rule):
    """A `# torchshape:` comment that is not a well-formed pragma (`input=(N, C, H, W)`, one shape per forward
    argument `input=[(N, 100), (N, 10)]`, `kwargs={"num_classes": 10}`): a name or a float among the sizes, a size
    below 1, an unknown or repeated key, `kwargs` that is not a dict of literals. The model below it is analysed as
    if it had no pragma."""

    code = "TSL904"
    name = "bad-pragma"
    summary = "a `# torchshape:` pragma that cannot be read"
    why = ("A pragma nobody can read is silently no pragma: the model would be checked on symbolic sizes "
           "(or the run-wide default) while its author believes it is checked on the input written.")
    fix = "Write the input shape as a tuple of positive integer literals: `# torchshape: input=(1, 3, 32, 32)`."
    fix_safety = "No automatic fix: only the author knows the intended input."
    bad = '''
import torch.nn as nn

# torchshape: input=(3, x)
model = nn.Sequential(nn.Conv2d(3, 8, 3))
'''
    good = bad.replace("input=(3, x)", "input=(1, 3, 32, 32)")

    def message(self, v) -> str:
        return f"pragma `{v.comment}` is ignored: {v.problem}"

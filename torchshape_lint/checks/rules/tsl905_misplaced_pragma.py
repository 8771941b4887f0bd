from torchshape_lint.checks.rules import Rule


class MisplacedPragma(Rule):
    """A well-formed `# torchshape:` pragma that applies to nothing: separated from the statement below by a
    blank line, written at the end of a line of code (`class Net(nn.Module):  # torchshape: ...`), inside a
    class or function body, or above a function that needs arguments and so builds nothing on its own. A pragma
    stands alone on the line directly above a top-level class (it is then about every build of that class, by
    whatever builds it), a function that runs on its defaults, or an assignment (about the value assigned)."""

    code = "TSL905"
    name = "misplaced-pragma"
    summary = "a `# torchshape:` pragma that stands where it applies to nothing"
    why = ("A pragma in the wrong place is silently no pragma: the model would be checked on symbolic sizes "
           "(or the run-wide default) while its author believes it is checked on the input written.")
    fix = ("Move the pragma to the line directly above the class, function or assignment it is about, with no "
           "blank line between.")
    fix_safety = "No automatic fix: only the author knows which model the pragma is meant for."
    bad = '''
import torch.nn as nn

# torchshape: input=(1, 3, 32, 32)

model = nn.Sequential(nn.Conv2d(3, 8, 3))
'''
    good = bad.replace("32)\n\n", "32)\n")

    def message(self, v) -> str:
        return f"pragma `{v.comment}` applies to nothing: {v.problem}"

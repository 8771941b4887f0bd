from torchshape_lint.checks.rules import Rule


class InternalError(Rule):
    """The analysis of a file failed inside torchshape-lint. The file gets this one diagnostic and no others;
    the run goes on with the next file. Please report it with the file."""

    code = "TSL900"
    name = "internal-error"
    summary = "torchshape-lint could not analyse this file"
    why = "A linter must never crash its host: the error is contained and shown instead."
    fix = "Report the message with the file; `# noqa: TSL900` on line 1 silences it meanwhile."
    bad = ""
    good = ""

    def message(self, v) -> str:
        return f"torchshape-lint could not analyse this file: {v.error}"

from torchshape_lint.checks.rules import Rule


class ConfirmMismatch(Rule):
    """Confirm mode only (`--confirm`): a layer whose real input or output shape in PyTorch differs from the
    shape the static analysis predicted at the same line and column. The model may well be right: this is a
    bug in torchshape-lint's analysis, shown so that it is seen and reported."""

    code = "TSL901"
    name = "confirm-mismatch"
    summary = "PyTorch gives a layer other shapes than the static analysis predicted (an analysis bug)"
    why = ("Every finding rests on the predicted shapes; a prediction PyTorch contradicts anywhere makes the "
           "findings downstream of it doubtful.")
    fix = "Report it with the file and the input shape; `# noqa: TSL901` on the line silences it meanwhile."
    # Confirm-only: no static example can produce it (it appears only when the analysis is wrong).
    confirm_only = True
    bad = ""
    good = ""

    def message(self, v) -> str:
        return f"PyTorch on {v.device} gives {v.label} {v.real}, the static analysis predicted {v.static}"

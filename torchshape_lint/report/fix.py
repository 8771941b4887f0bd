"""`--fix` and `--diff`: write a finding's suggested value into the argument it is about, with libcst.

Only the offending argument's expression changes (formatting, comments and everything else stay as they are),
and only where the value is proven for a known input: a finding on a concrete input (pragma, usage, option; not
symbolic sizes), with a suggestion, at a call that every concrete build reaching it agrees should get that value.
The fix is unsafe in the rules' sense: the layers before may be what is wrong. `fix_edits` is shared with SARIF.
"""

from __future__ import annotations

import difflib
import io
import math
import re
import tokenize
from dataclasses import dataclass, replace
from typing import Any, Callable

# The rules whose suggestion replaces one argument: the argument (keyword, positional index), and the value that
# argument must have for the shape arriving at the call (the Linear's last dimension, one sample of a view).
ARGUMENT = {"TSL001": ("in_features", 0, lambda shape: shape[-1]),
            "TSL005": (None, 1, lambda shape: math.prod(shape[1:]))}
# Each round may uncover the next fix (a fixed view lets the Linear after it be checked); stop after this many.
MAX_ROUNDS = 10
NEWLINE = re.compile(r"\r\n|\r|\n")


@dataclass(frozen=True)
class Edit:
    """Replace text[start_offset:end_offset] (from `start` to `end`: 1-based line, 0-based column) by `replacement`."""

    finding: Any
    start: tuple
    end: tuple
    start_offset: int
    end_offset: int
    replacement: str


def fixable(finding: Any) -> bool:
    return finding.code in ARGUMENT and bool(finding.suggestion) and finding.origin not in ("", "symbolic")


def fix_edits(text: str, report: Any, findings: list | None = None) -> list[Edit]:
    """The edits that fix `findings` (default: all of the report's) in `text`, the source the report analysed.

    A finding is fixed only when every run of that call on a concrete input (each build, each usage) receives
    exactly what the suggested value expects: otherwise the value is right for some input, or not proven for it.
    """
    findings = [f for f in (report.findings if findings is None else findings) if fixable(f)]
    agreed = [f for f in findings if agreed_by_every_run(f, report.builds)]
    if not agreed:
        return []
    starts = line_offsets(text)
    edits = []
    for finding in agreed:
        call_start = starts[finding.line - 1] + finding.column
        found = argument_span(text[call_start:starts[finding.end_line - 1] + finding.end_column],
                              *ARGUMENT[finding.code][:2])
        if found is None:
            continue
        (start, start_offset), (end, end_offset) = ((position(finding, where), call_start + offset)
                                                    for where, offset in found)
        edits.append(Edit(finding, start, end, start_offset, end_offset, finding.suggestion))
    return edits


def argument_span(call_text: str, keyword: str | None, index: int) -> tuple | None:
    """Where the argument to rewrite is in the text of the call a finding points at (libcst parses only that
    text): ((line, column) relative to the call, character offset in it) of its start and of its end."""
    import libcst as cst
    from libcst.metadata import MetadataWrapper, PositionProvider

    try:
        module = cst.parse_module(call_text)
    except cst.ParserSyntaxError:
        return None
    statement = module.body[0] if len(module.body) == 1 else None
    call = statement.body[0].value if isinstance(statement, cst.SimpleStatementLine) and isinstance(
        statement.body[0], cst.Expr) else None
    target = argument(call, keyword, index) if isinstance(call, cst.Call) else None
    if target is None:
        return None
    span = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)[target]
    starts = line_offsets(call_text)
    return tuple(((where.line, where.column), starts[where.line - 1] + where.column)
                 for where in (span.start, span.end))


def position(finding: Any, relative: tuple) -> tuple:
    """A (line, column) relative to the start of a finding's call, in the file."""
    line, column = relative
    return finding.line + line - 1, column + (finding.column if line == 1 else 0)


def agreed_by_every_run(finding: Any, builds: list) -> bool:
    try:
        value = math.prod(int(part) for part in finding.suggestion.split("*"))
    except ValueError:  # not a product of integers: not a value this module can confirm
        return False
    expects = ARGUMENT[finding.code][2]
    runs = [step.before for build in builds if build.origin != "symbolic" for step in build.steps
            if (step.line, step.column) == (finding.line, finding.column)]
    return bool(runs) and all(shape and all(isinstance(d, int) for d in shape) and expects(shape) == value
                              for shape in runs)


def argument(call: Any, keyword: str | None, index: int) -> Any:
    """The expression passed as `keyword` or at positional `index` (inside a single tuple or list of sizes, as in
    `x.view((-1, 400))`); None when a starred argument makes the position uncertain."""
    import libcst as cst

    if any(arg.star for arg in call.args):
        return None
    for arg in call.args:
        if keyword is not None and arg.keyword is not None and arg.keyword.value == keyword:
            return arg.value
    positional = [arg.value for arg in call.args if arg.keyword is None]
    if keyword is None and len(positional) == 1 and isinstance(positional[0], (cst.Tuple, cst.List)):
        elements = positional[0].elements
        return elements[index].value if index < len(elements) and not isinstance(
            elements[index], cst.StarredElement) else None
    return positional[index] if index < len(positional) else None


def line_offsets(text: str) -> list:
    """The character offset where each line starts, lines ending as Python's tokenizer (and libcst) end them."""
    return [0] + [match.end() for match in NEWLINE.finditer(text)]


def apply_edits(text: str, edits: list) -> str:
    for edit in sorted(edits, key=lambda e: e.start_offset, reverse=True):
        text = text[:edit.start_offset] + edit.replacement + text[edit.end_offset:]
    return text


def fixed_text(text: str, path: str, input_shape: tuple | None, shown: Callable[[list, str], list]) -> tuple[str, list]:
    """Fix round after round until nothing more can be fixed; the new text and the findings that remain.

    `shown(findings, text)` keeps the findings the run reports (noqa, select and ignore applied): only those
    are fixed.
    """
    from torchshape_lint.checks.analyze import analyze_source

    for _ in range(MAX_ROUNDS):
        report = analyze_source(text, path, None, input_shape)
        remaining = shown(report.findings, text)
        edits = fix_edits(text, report, remaining)
        if not edits:
            break
        text = apply_edits(text, edits)
    return text, remaining


def fix_result(result: Any, settings: Any, write: bool) -> Any:
    """A checked file's result after fixing it: written back when `write`, else its unified diff printed."""
    if not any(fixable(f) for f in result.findings):
        return result
    from torchshape_lint.report.noqa import unsilenced

    with open(result.path, "rb") as handle:
        data = handle.read()
    encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    before = data.decode(encoding)

    def shown(findings: list, text: str) -> list:
        return [f for f in unsilenced(findings, text, result.path) if settings.wanted(f.code)]

    after, remaining = fixed_text(before, result.path, settings.input_shape_for(result.path), shown)
    if after != before:
        if write:
            with open(result.path, "wb") as handle:
                handle.write(after.encode(encoding))
        else:
            print(unified_diff(result.path, before, after), end="")
    return replace(result, findings=remaining)


def unified_diff(path: str, before: str, after: str) -> str:
    return "".join(difflib.unified_diff(before.splitlines(keepends=True), after.splitlines(keepends=True),
                                        f"a/{path.lstrip('/')}", f"b/{path.lstrip('/')}"))

"""`--fix` and `--diff`: write a finding's suggested value into the argument it is about.

Only the offending argument's expression changes (formatting, comments and everything else stay as they are),
and only where the value is proven for a known input: a finding on a concrete input (pragma, usage, option; not
symbolic sizes), with a suggestion, at a call that every concrete build reaching it agrees should get that value.
The fix is unsafe in the rules' sense: the layers before may be what is wrong. `fix_edits` is shared with SARIF.
"""

from __future__ import annotations

import ast
import io
import math
import re
import sys
import tokenize
import warnings
from dataclasses import dataclass, replace
from typing import Any, Callable

from torchshape_lint.shapes import layers

# The rules whose suggestion replaces one argument. TSL001 and TSL002 replace the size a layer declares (its spec's
# `declares`: in_features, in_channels, num_features, num_channels), which must equal the dimension of the input
# that the spec's `declared_dim` names; TSL005 the per-sample size of `view(-1, N)`: (keyword, positional index,
# the value that argument must have for the shape arriving at the call).
DECLARED_SIZE = frozenset({"TSL001", "TSL002"})
VIEW_SIZE = (None, 1, lambda shape: math.prod(shape[1:]))
# Each round may uncover the next fix (a fixed view lets the Linear after it be checked); stop after this many.
MAX_ROUNDS = 10
NEWLINE = re.compile(r"\r\n|\r|\n")


@dataclass(frozen=True)
class Edit:
    """Replace text[start_offset:end_offset] (from `start` to `end`: 1-based line, 0-based column) by `replacement`."""

    finding: Any
    argument: str  # what is replaced, for the report of what --fix changed
    before: str
    start: tuple
    end: tuple
    start_offset: int
    end_offset: int
    replacement: str


def fixable(finding: Any) -> bool:
    return (finding.code in DECLARED_SIZE or finding.code == "TSL005") and bool(finding.suggestion) \
        and finding.origin not in ("", "symbolic")


def fix_edits(text: str, report: Any, findings: list | None = None) -> list[Edit]:
    """The edits that fix `findings` (default: all of the report's) in `text`, the source the report analysed.

    A finding is fixed only when every run of that call on a concrete input (each build, each usage) receives
    exactly what the suggested value expects: otherwise the value is right for some input, or not proven for it.
    """
    findings = [f for f in (report.findings if findings is None else findings) if fixable(f)]
    if not findings:
        return []
    starts = line_offsets(text)
    edits = []
    for finding in findings:
        call_start = starts[finding.line - 1] + finding.column
        parsed = parsed_call(text[call_start:starts[finding.end_line - 1] + finding.end_column])
        call = parsed[0] if parsed is not None else None
        replaced = replaced_argument(finding, call) if call is not None else None
        if replaced is None or not agreed_by_every_run(finding, report.builds, replaced[2]):
            continue
        target = argument(call, *replaced[:2])
        if target is None:
            continue
        (start, start_offset), (end, end_offset) = span_in_file(finding, call_start, parsed, target)
        edits.append(Edit(finding, replaced[0] or "size", text[start_offset:end_offset], start, end, start_offset,
                          end_offset, str(finding.suggestion)))
    # Findings that differ only in their numbers (a name's value in each build) make the same edit: made once.
    # Different values for one argument would each be right for some build only: then none is made.
    by_place: dict = {}
    for edit in edits:
        by_place.setdefault((edit.start_offset, edit.end_offset), []).append(edit)
    return [same[0] for same in by_place.values() if len({edit.replacement for edit in same}) == 1]


def parsed_call(call_text: str) -> tuple | None:
    """The call a finding points at, parsed from its own text only with `ast` (its node spans leave out the
    parentheses around an expression, so only the argument's own text is replaced): (the call, the text, its line
    offsets); None when that text is not a call."""
    try:
        with warnings.catch_warnings():  # an escape such as "\d" in the call warns once: the analysis read it already
            warnings.simplefilter("ignore")
            module = ast.parse(call_text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    statement = module.body[0] if len(module.body) == 1 else None
    call = statement.value if isinstance(statement, ast.Expr) else None
    if not isinstance(call, ast.Call):
        return None
    return call, call_text, line_offsets(call_text)


def span_in_file(finding: Any, call_start: int, parsed: tuple, node: ast.expr) -> tuple:
    """((line, column), character offset) in the file of where a node of a parsed call starts, and where it ends
    (`ast` counts a column in UTF-8 bytes: converted to characters)."""
    _, call_text, starts = parsed

    def place(line: int, offset: int) -> tuple:
        text = call_text[starts[line - 1]:starts[line] if line < len(starts) else len(call_text)]
        column = offset if text.isascii() else len(text.encode("utf-8")[:offset].decode("utf-8", "replace"))
        return ((finding.line + line - 1, column + (finding.column if line == 1 else 0)),
                call_start + starts[line - 1] + column)

    return place(node.lineno, node.col_offset), place(node.end_lineno, node.end_col_offset)


def replaced_argument(finding: Any, call: ast.Call) -> tuple | None:
    """(keyword, positional index, the value it must have for an arriving shape) of the argument a finding is about;
    for a layer, from the layer table entry of the class called (`nn.Conv2d(...)`: Conv2d's in_channels)."""
    if finding.code == "TSL005":
        return VIEW_SIZE
    func = call.func
    name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None
    spec = layers.spec_for(name) if name else None
    if spec is None or spec.declares is None or spec.declared_dim is None:
        return None  # a layer made through a name of the user's (a norm_layer argument): which layer is not known
    index = [param for param, _ in spec.params].index(spec.declares)
    return spec.declares, index, lambda shape: shape[spec.declared_dim(len(shape))]


def agreed_by_every_run(finding: Any, builds: list, expects: Callable[[tuple], Any]) -> bool:
    """Whether every concrete run of the call gets the suggested value; a name of the user's suggested by the
    analysis holds the arriving size in every run by construction (shapes.violations.in_users_terms)."""
    if finding.suggestion.name:
        return True
    value = finding.suggestion.value
    runs = [step.before for build in builds if build.origin != "symbolic"
            for step in build.steps_at(finding.line, finding.column)]
    return bool(runs) and all(shape and all(isinstance(d, int) for d in shape) and expects(shape) == value
                              for shape in runs)


def argument(call: ast.Call, keyword: str | None, index: int) -> ast.expr | None:
    """The expression passed as `keyword` or at positional `index` (inside a single tuple or list of sizes, as in
    `x.view((-1, 400))`); None when a starred argument makes the position uncertain."""
    if any(isinstance(arg, ast.Starred) for arg in call.args) or any(kw.arg is None for kw in call.keywords):
        return None
    for kw in call.keywords:
        if keyword is not None and kw.arg == keyword:
            return kw.value
    positional = call.args
    if keyword is None and len(positional) == 1 and isinstance(positional[0], (ast.Tuple, ast.List)):
        elements = positional[0].elts
        return elements[index] if index < len(elements) and not isinstance(elements[index], ast.Starred) else None
    return positional[index] if index < len(positional) else None


def line_offsets(text: str) -> list:
    """The character offset where each line starts, lines ending as Python's tokenizer ends them."""
    return [0] + [match.end() for match in NEWLINE.finditer(text)]


def apply_edits(text: str, edits: list) -> str:
    for edit in sorted(edits, key=lambda e: e.start_offset, reverse=True):
        text = text[:edit.start_offset] + edit.replacement + text[edit.end_offset:]
    return text


def fixed_text(text: str, path: str, input_shape: tuple | None,
               shown: Callable[[list, str], list]) -> tuple[str, list, list]:
    """Fix round after round until nothing more can be fixed; the new text, the findings that remain and the edits
    made (each at its place in the text of its round: edits do not add or remove lines).

    `shown(findings, text)` keeps the findings the run reports (noqa, select and ignore applied): only those
    are fixed.
    """
    from torchshape_lint.checks.analyze import analyze_source

    made = []
    for _ in range(MAX_ROUNDS):
        report = analyze_source(text, path, None, input_shape)
        remaining = shown(report.findings, text)
        edits = fix_edits(text, report, remaining)
        if not edits:
            break
        text = apply_edits(text, edits)
        made += edits
    return text, remaining, made


def fix_result(result: Any, settings: Any, write: bool) -> Any:
    """A checked file's result after fixing it: written back when `write`, each change said on stderr (stdout stays
    the chosen format's); else its unified diff printed, and nothing written."""
    if not any(fixable(f) for f in result.findings):
        return result
    from torchshape_lint.source.notebook import is_notebook

    if is_notebook(result.path):  # writing a notebook back would have to keep all of its JSON as it was
        print(f"torchshape-lint: {result.path}: --fix and --diff do not edit notebooks; nothing written",
              file=sys.stderr)
        return result
    from torchshape_lint.frontends.noqa import unsilenced

    with open(result.path, "rb") as handle:
        data = handle.read()
    encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    before = data.decode(encoding)

    def shown(findings: list, text: str) -> list:
        return [f for f in unsilenced(findings, text, result.path) if settings.wanted(f.code)]

    after, remaining, made = fixed_text(before, result.path, settings.input_shape_for(result.path), shown)
    if after != before:
        if write:
            with open(result.path, "wb") as handle:
                handle.write(after.encode(encoding))
            for edit in made:
                print(f"fixed {result.path}:{edit.start[0]}:{edit.start[1] + 1}: {edit.finding.code} {edit.argument} "
                      f"{edit.before} → {edit.replacement}", file=sys.stderr)
        else:
            print(unified_diff(result.path, before, after), end="")
    return replace(result, findings=remaining)


def unified_diff(path: str, before: str, after: str) -> str:
    import difflib

    return "".join(difflib.unified_diff(before.splitlines(keepends=True), after.splitlines(keepends=True),
                                        f"a/{path.lstrip('/')}", f"b/{path.lstrip('/')}"))

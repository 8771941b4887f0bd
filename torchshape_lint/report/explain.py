"""`torchshape-lint explain FILE[::MODEL]`: each build's layers and ops in order, with static shapes.

Like torchinfo's summary, without torch and without running anything, so it also works on broken models:
each step shows its source line, the layer or op, the output shape, the layer's parameter count and, for
convs and pools, PyTorch's formula with the numbers filled in. The step where a finding of the same analysis
sits is marked with it. `--format svg`, `html` and `mermaid` draw the same steps as a graph (report/graph.py).
The command itself is frontends/explain_command.py.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

from torchshape_lint.checks.finding import TraceLine
from torchshape_lint.report import graph
from torchshape_lint.shapes.tensor import show_shape as tensor_shape
from torchshape_lint.unknown import UNKNOWN, Unknown

ORIGINS = {
    "pragma": "from its `# torchshape: input=` pragma",
    "usage": "from its use in the file",
    "option": "from --input-shape (batch and sizes; the first layer gives the channels)",
    "symbolic": "symbolic: any batch and size",
}


@dataclass
class Row:
    line: int
    column: int
    layer: str
    output: tuple | None  # None: the rank is not known
    formula: str
    parameters: Any = 0  # the layer's parameter count (UNKNOWN where an argument is); 0 for an op
    shared: bool = False  # the same layer object was applied at an earlier step: its parameters are counted there
    broken: list = field(default_factory=list)  # the findings that sit at this step


@dataclass
class Table:
    path: str
    model: str
    origin: str
    input: tuple | None
    rows: list
    elsewhere: list  # findings of this build that sit at no step (constructor arguments, ...)
    stop: str = ""  # where and why the evaluation stopped following the model's tensors (its last row says it)
    reading: str = ""  # for a pragma's shape of rank 3 or less: `batch` (as written) or `sample` (the batch left out)
    built_on: tuple = ()  # a class built on its own: its constructor's parameters, each a symbolic size

    @property
    def parameters(self) -> Any:
        """The parameters of the layers shown, each layer once (as torchinfo's total); UNKNOWN if one count is."""
        counts = [r.parameters for r in self.rows if not r.shared]
        return UNKNOWN if any(isinstance(c, Unknown) for c in counts) else sum(counts)

    @property
    def unknown_counts(self) -> list:
        return [r for r in self.rows if not r.shared and isinstance(r.parameters, Unknown)]


def tables(report: Any, model: str | None = None) -> list[Table]:
    """One table per build of the report (only `model`'s when given: `vgg16` or `vgg16()`)."""
    wanted = [b for b in report.builds if (b.steps or b.readings) and (model is None or b.name in (model, f"{model}()"))]
    # a build run on both readings of its pragma's shape: each reading's run, as the findings it has hold under it
    shown = [reading for build in wanted for reading in (build.readings or [build]) if reading.steps]
    return [table(report.path, build, [f for f in report.findings if build.name in f.models and (
        not build.reading or (f.line, f.column) in build.found_at)]) for build in shown]


def table(path: str, build: Any, findings: list) -> Table:
    rows, applied = [], []
    for step in build.steps:
        shared = step.layer is not None and any(step.layer is layer for layer in applied)
        applied.append(step.layer)
        count = step.layer.parameters() if step.layer is not None else 0
        rows.append(Row(step.line, step.column, step.label, step.after, formula(step), count, shared))
    elsewhere = []
    for finding in findings:
        at = breaking_step(build.steps, finding)
        (elsewhere if at is None else rows[at].broken).append(finding)
    return Table(path, build.name, build.origin, build.input, rows, elsewhere, build.stop, build.reading,
                 build.parameters)


def breaking_step(steps: list, finding: Any) -> int | None:
    """The step a finding sits at: same source position, and the shape it reports arriving.

    One call site can run many times (the conv inside VGG's `make_layers` loop): the finding's trace ends
    with the shape that reached the broken layer, which tells the runs apart.
    """
    at = [i for i, s in enumerate(steps) if (s.line, s.column) == (finding.line, finding.column)]
    arrived = finding.trace[-1].after if finding.trace and isinstance(finding.trace[-1], TraceLine) else None
    exact = [i for i in at if arrived is not None and show_shape(steps[i].before) == arrived]
    return (exact or at or [None])[0]


def show_shape(shape: tuple | None) -> str:
    return "?" if shape is None else tensor_shape(shape)


def formula(step: Any) -> str:
    """A conv's or pool's own formula (shown once when every spatial size has the same), or a flatten's product."""
    if step.formulas:
        return step.formulas[0] if len(set(step.formulas)) == 1 else step.formula
    return merge_formula(step.before, step.after)


def merge_formula(before: tuple | None, after: tuple | None) -> str:
    """A flatten or view that multiplies a run of sizes into one: `512*7*7 = 25088`, `64*1*1 = 64`.

    The run is placed where the sizes before and after it are the same on both sides; where several places
    fit (a squeezed size 1), the last one is shown, as `flatten(1)` and `view(N, -1)` merge the trailing sizes.
    """
    if before is None or after is None or len(after) >= len(before):
        return ""
    width = len(before) - len(after) + 1
    for at in reversed(range(len(after))):
        merged = before[at:at + width]
        if (before[:at] == after[:at] and before[at + width:] == after[at + 1:]
                and all(isinstance(d, int) for d in merged + (after[at],)) and math.prod(merged) == after[at]):
            return "*".join(map(str, merged)) + f" = {after[at]}"
    return ""


# ---- output formats -----------------------------------------------------------------------------------

HEADER = ("line", "layer", "output", "params", "formula")


READINGS = {"batch": ", read as a batch, as written", "sample": ", read as one sample with the batch left out"}


def heading(t: Table) -> str:
    shape = f" {show_shape(t.input)}" if t.input is not None else ""
    built_on = f"; built with {', '.join(t.built_on)} each any positive int" if t.built_on else ""
    return f"input{shape} {ORIGINS.get(t.origin, t.origin)}{READINGS.get(t.reading, '')}{built_on}"


def show_count(row: Row) -> str:
    """As torchinfo's column: `1,234`, `--` for none; `?` where an argument is unknown, `shared` for a layer
    applied again (counted at its first step)."""
    if row.shared:
        return "shared"
    if isinstance(row.parameters, Unknown):
        return "?"
    return f"{row.parameters:,}" if row.parameters else "--"


def total_line(t: Table) -> str:
    """The total of the layers shown, or why there is none (never a number that leaves a layer out)."""
    if not t.unknown_counts:
        return f"total params (layers above): {t.parameters:,}"
    unknown = ", ".join(f"{r.layer} at line {r.line}" for r in t.unknown_counts)
    return f"total params (layers above): unknown (not known for {unknown})"


def as_text(items: list) -> str:
    out = []
    for t in items:
        cells = [(str(r.line), r.layer, show_shape(r.output), show_count(r), r.formula) for r in t.rows]
        widths = [max(len(c[i]) for c in cells + [HEADER]) for i in range(4)]
        out += [f"{t.path}::{t.model}: {heading(t)}", fit(HEADER, widths)]
        for row, cell in zip(t.rows, cells):
            out.append(fit(cell, widths))
            out += [" " * widths[0] + f"  ^ breaks here: {f.text}" for f in row.broken]
        out += [f"also at line {f.line}: {f.text}" for f in t.elsewhere]
        out += [f"stops here: {t.stop}"] * bool(t.stop)
        out += [total_line(t), ""]
    return "\n".join(out)


def fit(cells: tuple, widths: list) -> str:
    line, layer, output, count, formula = cells
    return (f"{line:>{widths[0]}}  {layer:<{widths[1]}}  {output:<{widths[2]}}  {count:>{widths[3]}}  "
            f"{formula}").rstrip()


def as_markdown(items: list) -> str:
    out = []
    for t in items:
        out += [f"### `{t.path}::{t.model}`", "", escape(heading(t)), "",
                "| line | layer | output | params | formula |", "|---:|---|---|---:|---|"]
        for r in t.rows:
            cell = [f"`{r.formula}`"] if r.formula else []
            cell += [f"**breaks here:** {escape(f.text)}" for f in r.broken]
            out.append(f"| {r.line} | {r.layer} | `{show_shape(r.output)}` | {show_count(r)} | {'<br>'.join(cell)} |")
        out += [""] + [f"- also at line {f.line}: {escape(f.text)}" for f in t.elsewhere] + [""] * bool(t.elsewhere)
        out += [f"**stops here:** {escape(t.stop)}", ""] * bool(t.stop)
        out += [escape(total_line(t)), ""]
    return "\n".join(out)


def escape(text: str) -> str:
    return text.replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")


def as_json(items: list) -> str:
    """Columns 1-based, as in every other format. Shapes as lists: an int per known size, a string per symbolic one
    (`16*h'*w'`), null where unknown."""
    def shape(value: tuple | None) -> list | None:
        return None if value is None else [d if isinstance(d, int) else None if isinstance(d, Unknown) else str(d)
                                           for d in value]

    def finding(f: Any) -> dict:
        return {"code": f.code, "line": f.line, "column": f.column + 1, "message": f.text,
                "suggestion": None if f.suggestion is None else str(f.suggestion)}

    def count(value: Any) -> int | None:
        return None if isinstance(value, Unknown) else value

    return json.dumps([{"path": t.path, "model": t.model, "origin": t.origin, "input": shape(t.input),
                        "reading": t.reading or None,
                        "steps": [{"line": r.line, "column": r.column + 1, "layer": r.layer, "output": shape(r.output),
                                   "parameters": count(r.parameters), "shared": r.shared,
                                   "formula": r.formula, "findings": [finding(f) for f in r.broken]}
                                  for r in t.rows],
                        "parameters": count(t.parameters), "stop": t.stop or None, "built_on": list(t.built_on),
                        "other_findings": [finding(f) for f in t.elsewhere]} for t in items],
                      indent=2, ensure_ascii=False) + "\n"


def chart(t: Table) -> graph.Chart:
    """The table as a chain for the pictures: the input, then each step with its line, params and output shape."""
    def detail(r: Row) -> str:
        count = show_count(r)
        return f"line {r.line}" + {"--": "", "shared": " · shared"}.get(count, f" · {count} params")

    nodes = [graph.Node("input", [ORIGINS.get(t.origin, t.origin), show_shape(t.input)])]
    nodes += [graph.Node(r.layer, [detail(r), show_shape(r.output)]) for r in t.rows]
    arriving = [t.input] + [r.output for r in t.rows]
    edges = [graph.Edge(show_shape(shape), [f.text for f in r.broken]) for shape, r in zip(arriving, t.rows)]
    notes = [f"also at line {f.line}: {f.text}" for f in t.elsewhere] + [total_line(t)]
    return graph.Chart(f"{t.path}::{t.model}", heading(t), nodes, edges, notes)


def pictured(draw: Any) -> Any:
    return lambda items: draw([chart(t) for t in items])


FORMATS = {"text": as_text, "markdown": as_markdown, "json": as_json, "svg": pictured(graph.as_svg),
           "html": pictured(graph.as_html), "mermaid": pictured(graph.as_mermaid)}

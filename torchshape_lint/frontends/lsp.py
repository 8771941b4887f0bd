"""The language server, `torchshape-lint lsp` (pygls, the [lsp] extra): diagnostics on open, change and save,
a quick fix wherever `--fix` would edit, the shapes of every build on hover, and (when the editor turns them on)
inlay hints with the shape an assignment binds; notebooks (LSP 3.17's notebook documents) get diagnostics on their
code cells. A finding that an open document's run proves at a layer of another file of the project (`[input from
train.py:42]`) is published for that file too, open or not, as the command line reports it there; saving a file
checks again the open documents whose analysis read it. Options come from the nearest pyproject.toml above each
file; the editor's own setting, `inlayHints`, from its initializationOptions or its `torchshape-lint` configuration
section."""

from __future__ import annotations

import ast
import os
from dataclasses import dataclass
from functools import cached_property

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import from_fs_path, to_fs_path
from pygls.workspace.position_codec import ServerTextPosition, ServerTextRange

from torchshape_lint import __version__
from torchshape_lint.checks.analyze import Report, analyze_source
from torchshape_lint.options import OptionError, Settings, find_pyproject, load_pyproject
from torchshape_lint.report import rule_docs
from torchshape_lint.report.explain import show_shape
from torchshape_lint.frontends.noqa import unsilenced
from torchshape_lint.frontends.runner import fixes_for, joined_findings
from torchshape_lint.source.notebook import notebook_module

SOURCE = "torchshape-lint"
server = LanguageServer(SOURCE, __version__, text_document_sync_kind=types.TextDocumentSyncKind.Full,
                        notebook_document_sync=types.NotebookDocumentSyncOptions(
                            [types.NotebookDocumentFilterWithCells([types.NotebookCellLanguage("python")])]))
ANALYSES: dict = {}  # document uri → its last Analysis
# a file's absolute path → {uri of an open document: the findings its last analysis proved at the file's layers}
REACHED: dict = {}
EDITOR = {"inlayHints": False}  # the editor's settings: inlay hints are off until it turns them on
INPUTS = {"pragma": "input from pragma", "usage": "input from usage", "option": "input from input-shape",
          "symbolic": "symbolic input"}


@dataclass
class Analysis:
    """A document's last analysis. What needs a pass over the whole source for positions, the quick fixes' edits
    and the steps of hovers and inlay hints, is computed when first asked for, so that diagnostics do not wait."""

    text: str
    report: Report
    findings: list  # noqa applied

    @cached_property
    def fixes(self) -> dict:
        return fixes_for(self.text, self.report, self.findings)

    @cached_property
    def steps(self) -> list:
        """(build, step, place) for each place of this document a step sits at: its own (the op's call, the
        layer's constructor) and, for a layer, the call that applied it (`self.conv1(x)`); a place is
        (line, column, end line, end column)."""
        path = self.report.path
        placed = []
        for build in self.report.builds:
            for step in build.steps:
                if step.path == path:
                    placed.append((build, step, (step.line, step.column, step.end_line, step.end_column)))
                if step.call is not None and step.call_path == path:
                    call = step.call
                    placed.append((build, step, (call.line, call.column, call.end_line, call.end_column)))
        return placed


def settings_for(path: str) -> Settings:
    try:
        return load_pyproject(find_pyproject(os.path.dirname(os.path.abspath(path))))
    except OptionError as error:  # say so once per analysis, and check with the defaults meanwhile
        server.window_show_message(types.ShowMessageParams(types.MessageType.Error, f"{SOURCE}: {error}"))
        return Settings()


def client_range(document, start: tuple, end: tuple) -> types.Range:
    """1-based line, 0-based code-point column → the client's 0-based line and code units."""
    return document.range_to_client_units(ServerTextRange(ServerTextPosition(start[0] - 1, start[1]),
                                                          ServerTextPosition(end[0] - 1, end[1])))


def to_diagnostic(document, f, rules: dict, fixable: bool = True) -> types.Diagnostic:
    """A finding `f` as a diagnostic on `document`, with a link to its rule's docs (`rules`: by code); `fixable`:
    the document's own analysis has the finding, and so its quick fix if there is one."""
    return types.Diagnostic(
        range=client_range(document, (f.line, f.column), (f.end_line, f.end_column)),
        message=f.text.removeprefix(f"{f.code} "), severity=types.DiagnosticSeverity.Error, code=f.code,
        code_description=types.CodeDescription(rule_docs.help_uri(rules[f.code])) if f.code in rules else None,
        source=SOURCE, data=f.key if fixable else None)


def publish(uri: str) -> set:
    """Analyse an open document; publish its diagnostics, and those its run proves at other files' layers. The uris
    published for."""
    document = server.workspace.get_text_document(uri)
    settings = settings_for(document.path)
    report = analyze_source(document.source, document.path, input_shape=settings.input_shape_for(document.path))
    ANALYSES[uri] = Analysis(document.source, report, unsilenced(report.findings, document.source, document.path))
    send(uri, settings)
    return {uri} | share(uri, report.elsewhere)


def share(uri: str, elsewhere: list) -> set:
    """Record what the document's analysis proved at layers of other files (none: it is closed), and publish again
    each file whose share from it changed; the uris published for."""
    sent = set()
    by_file: dict = {}
    for finding in elsewhere:
        by_file.setdefault(os.path.abspath(finding.path), []).append(finding)
    for target in set(by_file) | {target for target, given in REACHED.items() if uri in given}:
        before = REACHED.setdefault(target, {}).get(uri)
        if target in by_file:
            REACHED[target][uri] = by_file[target]
        else:
            REACHED[target].pop(uri, None)
        if before != by_file.get(target):
            opened = next((u for u, analysis in ANALYSES.items() if os.path.abspath(analysis.report.path) == target),
                          None)
            sent.add(opened or from_fs_path(target))
            send(opened or from_fs_path(target))
    return sent


def send(uri: str, settings: Settings | None = None) -> None:
    """Publish a file's diagnostics: its own analysis's findings when it is open, with those the open documents'
    analyses proved at its layers (`joined_findings`, as the command line joins them) while its text is the one
    they read, the saved one: with unsaved changes, their lines may no longer be its lines."""
    document = server.workspace.get_text_document(uri)
    analysis = ANALYSES.get(uri)
    own = analysis.findings if analysis is not None else []
    given = [finding for found in REACHED.get(os.path.abspath(document.path), {}).values() for finding in found]
    try:
        if given and document.source.splitlines() == saved_lines(document.path):
            findings = joined_findings(own, given, document.source, document.path)
        else:
            findings = own
    except (OSError, ValueError):  # a file not open, gone since its analysis read it, or no longer UTF-8
        findings = own
    settings = settings if settings is not None else settings_for(document.path)
    rules = {rule.code: rule for rule in rule_docs.rules()}
    diagnostics = [to_diagnostic(document, f, rules, fixable=f in own) for f in findings if settings.wanted(f.code)]
    server.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri, diagnostics, document.version))


def saved_lines(path: str) -> list:
    with open(path, encoding="utf-8", errors="replace") as handle:
        return handle.read().splitlines()


def check_readers(uri: str) -> set:
    """Analyse again the open documents whose last analysis read the file at `uri` (just saved): what they proved
    at its layers, and at their own calls into it, may have changed with it. The uris published for."""
    path, sent = os.path.abspath(to_fs_path(uri)), set()
    for reader, analysis in list(ANALYSES.items()):
        if reader != uri and any(read.path == path for read in analysis.report.read):
            sent |= publish(reader)
    return sent


def publish_notebook(uri: str) -> None:
    """The code cells checked as one module, as the command line checks a .ipynb file; each cell gets its
    findings (no quick fix: the command line's --fix does not edit notebooks either)."""
    notebook = server.workspace.get_notebook_document(notebook_uri=uri)
    if notebook is None:
        return
    cells = [server.workspace.get_text_document(cell.document) for cell in notebook.cells]
    code = [cell.kind == types.NotebookCellKind.Code for cell in notebook.cells]
    module = notebook_module([document.source if is_code else None for document, is_code in zip(cells, code)])
    path = to_fs_path(uri)
    settings = settings_for(path)
    report = analyze_source(module.text, path, input_shape=settings.input_shape_for(path))
    findings = unsilenced(report.findings, module.text, path)
    module.place_findings(findings)
    rules = {rule.code: rule for rule in rule_docs.rules()}
    for number, (document, is_code) in enumerate(zip(cells, code), 1):
        if is_code:
            diagnostics = [to_diagnostic(document, f, rules) for f in findings
                           if f.cell == number and settings.wanted(f.code)]
            server.text_document_publish_diagnostics(types.PublishDiagnosticsParams(document.uri, diagnostics))


@server.feature(types.NOTEBOOK_DOCUMENT_DID_OPEN)
def notebook_did_open(params: types.DidOpenNotebookDocumentParams) -> None:
    publish_notebook(params.notebook_document.uri)


@server.feature(types.NOTEBOOK_DOCUMENT_DID_CHANGE)
def notebook_did_change(params: types.DidChangeNotebookDocumentParams) -> None:
    publish_notebook(params.notebook_document.uri)


@server.feature(types.NOTEBOOK_DOCUMENT_DID_SAVE)
def notebook_did_save(params: types.DidSaveNotebookDocumentParams) -> None:
    publish_notebook(params.notebook_document.uri)


@server.feature(types.NOTEBOOK_DOCUMENT_DID_CLOSE)
def notebook_did_close(params: types.DidCloseNotebookDocumentParams) -> None:
    for cell in params.cell_text_documents:
        server.text_document_publish_diagnostics(types.PublishDiagnosticsParams(cell.uri, []))


@server.feature(types.TEXT_DOCUMENT_DID_OPEN)
def did_open(params: types.DidOpenTextDocumentParams) -> None:
    publish(params.text_document.uri)


@server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
def did_change(params: types.DidChangeTextDocumentParams) -> None:
    publish(params.text_document.uri)


@server.feature(types.TEXT_DOCUMENT_DID_SAVE)
def did_save(params: types.DidSaveTextDocumentParams) -> None:
    uri = params.text_document.uri
    if uri not in check_readers(uri):  # first: its diagnostics then join what they prove on the saved text
        publish(uri)


@server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
def did_close(params: types.DidCloseTextDocumentParams) -> None:
    """Its own diagnostics go, and what its run proved elsewhere; what other open documents prove at its layers
    stays."""
    uri = params.text_document.uri
    ANALYSES.pop(uri, None)
    send(uri)
    share(uri, [])


@server.feature(types.TEXT_DOCUMENT_CODE_ACTION,
                types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix]))
def code_action(params: types.CodeActionParams) -> list:
    uri = params.text_document.uri
    document = server.workspace.get_text_document(uri)
    analysis = ANALYSES.get(uri)
    actions = []
    for diagnostic in params.context.diagnostics:
        edit = analysis.fixes.get(diagnostic.data) if analysis is not None and diagnostic.source == SOURCE else None
        if edit is None:
            continue
        change = types.TextEdit(client_range(document, tuple(edit["start"]), tuple(edit["end"])), edit["replacement"])
        actions.append(types.CodeAction(
            title=f"Write {edit['replacement']} ({diagnostic.code}, unsafe: check the layers before)",
            kind=types.CodeActionKind.QuickFix, diagnostics=[diagnostic],
            edit=types.WorkspaceEdit(changes={uri: [change]})))
    return actions


@server.feature(types.INITIALIZE)
def initialize(params: types.InitializeParams) -> None:
    configure(params.initialization_options)


@server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
def did_change_configuration(params: types.DidChangeConfigurationParams) -> None:
    configure(params.settings.get(SOURCE) if isinstance(params.settings, dict) else None)


def configure(options: object) -> None:
    if isinstance(options, dict) and "inlayHints" in options:
        EDITOR["inlayHints"] = options["inlayHints"] is True


@server.feature(types.TEXT_DOCUMENT_HOVER)
def hover(params: types.HoverParams) -> types.Hover | None:
    """On a layer's constructor call or an op's call: its input and output shapes in each build that runs it.
    Where calls nest (`F.max_pool2d(torch.flatten(x, 1), 2)`), the innermost one under the cursor."""
    document = server.workspace.get_text_document(params.text_document.uri)
    at = document.position_from_client_units(params.position)
    here = (at.line + 1, at.character)
    under = [(build, step, place) for build, step, place in steps_of(params.text_document.uri)
             if place[:2] <= here < place[2:]]
    if not under:
        return None
    innermost = max((place for _, _, place in under), key=extent)
    lines = dict.fromkeys(f"{step.label}  {show_shape(step.before)} → {show_shape(step.after)}   "
                          f"[{build.name}, {INPUTS[build.origin]}]" for build, step, place in under
                          if place == innermost)
    return types.Hover(types.MarkupContent(types.MarkupKind.Markdown, "```text\n" + "\n".join(lines) + "\n```"),
                       client_range(document, innermost[:2], innermost[2:]))


def steps_of(uri: str) -> list:
    analysis = ANALYSES.get(uri)
    return analysis.steps if analysis is not None else []


def extent(place: tuple) -> tuple:
    """A place, ordered so that of two nested calls the inner one is the greater."""
    line, column, end_line, end_column = place
    return line, column, -end_line, -end_column


@server.feature(types.TEXT_DOCUMENT_INLAY_HINT)
def inlay_hint(params: types.InlayHintParams) -> list:
    """After each assignment whose value is a call the analysis followed (`x = torch.flatten(x, 1)`,
    `x = self.pool(x)`), the shape it binds in each build where it is known (distinct shapes joined by `|`). Off unless
    the editor's `inlayHints` setting is true."""
    if not EDITOR["inlayHints"]:
        return []
    document = server.workspace.get_text_document(params.text_document.uri)
    bound_by: dict = {}  # (build, place) → what the call there gave last: a Sequential's call, its last child's output
    for build, step, place in steps_of(params.text_document.uri):
        # a layer's own place is its constructor, whose assignment binds the layer, not the layer's output
        if not (step.by_layer and place == (step.line, step.column, step.end_line, step.end_column)):
            bound_by[id(build), place] = step.after
    shapes: dict = {}
    for (_, place), after in bound_by.items():
        if after is not None:
            shapes.setdefault(extent(place), {})[show_shape(after)] = None
    hints = []
    for value in assigned_values(document.source):
        first, last = document.lines[value.lineno - 1], document.lines[value.end_lineno - 1]
        start = (value.lineno, code_points(first, value.col_offset))
        end = (value.end_lineno, code_points(last, value.end_col_offset))
        bound = shapes.get((*start, -end[0], -end[1]))
        if bound is not None and params.range.start.line <= end[0] - 1 <= params.range.end.line:
            hints.append(types.InlayHint(client_range(document, end, end).end, f"▸ {' | '.join(bound)}",
                                         kind=types.InlayHintKind.Type, padding_left=True))
    return hints


def assigned_values(text: str) -> list:
    """The value of each assignment statement (`x = ...`, `x: T = ...`) of the text; none while it does not parse."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return []
    return [node.value for node in ast.walk(tree) if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value]


def code_points(line: str, utf8_offset: int) -> int:
    """ast's columns count UTF-8 bytes; the analysis's count code points."""
    return len(line.encode()[:utf8_offset].decode(errors="ignore"))


def serve() -> None:
    server.start_io()

"""The language server, `torchshape-lint lsp` (pygls, the [lsp] extra): diagnostics on open, change and save,
and a quick fix wherever `--fix` would edit; notebooks (LSP 3.17's notebook documents) get diagnostics on their
code cells. Options come from the nearest pyproject.toml above each file."""

from __future__ import annotations

import os

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path
from pygls.workspace.position_codec import ServerTextPosition, ServerTextRange

from torchshape_lint import __version__
from torchshape_lint.options import OptionError, Settings, find_pyproject, load_pyproject
from torchshape_lint.report import rule_docs
from torchshape_lint.report.runner import check_text, fix_key
from torchshape_lint.source.notebook import notebook_module

SOURCE = "torchshape-lint"
server = LanguageServer(SOURCE, __version__, text_document_sync_kind=types.TextDocumentSyncKind.Full,
                        notebook_document_sync=types.NotebookDocumentSyncOptions(
                            [types.NotebookDocumentFilterWithCells([types.NotebookCellLanguage("python")])]))
FIXES: dict = {}  # document uri → {fix_key: edit} of the last analysis


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


def diagnostic(document, f, rules: dict) -> types.Diagnostic:
    """A finding `f` as a diagnostic on `document`, with a link to its rule's docs (`rules`: by code)."""
    return types.Diagnostic(
        range=client_range(document, (f.line, f.column), (f.end_line, f.end_column)),
        message=f.text.removeprefix(f"{f.code} "), severity=types.DiagnosticSeverity.Error, code=f.code,
        code_description=types.CodeDescription(rule_docs.help_uri(rules[f.code])) if f.code in rules else None,
        source=SOURCE, data=fix_key(f))


def publish(uri: str) -> None:
    document = server.workspace.get_text_document(uri)
    settings = settings_for(document.path)
    result = check_text(document.source, document.path, settings.input_shape_for(document.path))
    rules = {rule.code: rule for rule in rule_docs.rules()}
    diagnostics = [diagnostic(document, f, rules) for f in result.findings if settings.wanted(f.code)]
    FIXES[uri] = result.fixes
    server.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri, diagnostics, document.version))


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
    result = check_text(module.text, path, settings.input_shape_for(path))
    module.place_findings(result.findings)
    rules = {rule.code: rule for rule in rule_docs.rules()}
    for number, (document, is_code) in enumerate(zip(cells, code), 1):
        if is_code:
            diagnostics = [diagnostic(document, f, rules) for f in result.findings
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
    publish(params.text_document.uri)


@server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
def did_close(params: types.DidCloseTextDocumentParams) -> None:
    FIXES.pop(params.text_document.uri, None)
    server.text_document_publish_diagnostics(types.PublishDiagnosticsParams(params.text_document.uri, []))


@server.feature(types.TEXT_DOCUMENT_CODE_ACTION,
                types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix]))
def code_action(params: types.CodeActionParams) -> list:
    uri = params.text_document.uri
    document = server.workspace.get_text_document(uri)
    actions = []
    for diagnostic in params.context.diagnostics:
        edit = FIXES.get(uri, {}).get(diagnostic.data) if diagnostic.source == SOURCE else None
        if edit is None:
            continue
        change = types.TextEdit(client_range(document, tuple(edit["start"]), tuple(edit["end"])), edit["replacement"])
        actions.append(types.CodeAction(
            title=f"Write {edit['replacement']} ({diagnostic.code}, unsafe: check the layers before)",
            kind=types.CodeActionKind.QuickFix, diagnostics=[diagnostic],
            edit=types.WorkspaceEdit(changes={uri: [change]})))
    return actions


def serve() -> None:
    server.start_io()

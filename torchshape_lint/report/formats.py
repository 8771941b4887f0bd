"""Output formats of the command line. Each takes the files' results as they come and yields text to print."""

from __future__ import annotations

from typing import Iterable, Iterator


def text(results: Iterable, verbose: bool) -> Iterator[str]:
    """`path:line:column: CODE message` (Finding.location); --verbose adds every check."""
    for result in results:
        for finding in result.findings:
            yield f"{finding.location}: {finding.text}\n"
        if verbose:
            yield "".join(f"{line}\n" for line in result.verbose)


def json_list(results: Iterable, verbose: bool) -> Iterator[str]:
    """A list of findings: code, name, path, line, column, end_line, end_column, message, suggestion, trace, model,
    origin, builds. Lines and columns are 1-based, as in the text format (and ruff's JSON)."""
    import json  # here: a run in the text format (most) need not compile it

    yield json.dumps([dict(f.as_dict(), column=f.column + 1, end_column=f.end_column + 1)
                      for result in results for f in result.findings], indent=2) + "\n"


def github(results: Iterable, verbose: bool) -> Iterator[str]:
    """GitHub Actions workflow commands: each finding becomes an error annotation on its line."""
    for result in results:
        for f in result.findings:
            yield (f"::error file={escape(f.path, True)},line={f.line},col={f.column + 1},endLine={f.end_line},"
                   f"endColumn={f.end_column + 1},title={f.code}::{escape(f.text, False)}\n")


def escape(value: str, is_property: bool) -> str:
    """As GitHub's toolkit escapes command data and properties."""
    value = value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return value.replace(":", "%3A").replace(",", "%2C") if is_property else value


def sarif(results: Iterable, verbose: bool) -> Iterator[str]:
    import json

    from torchshape_lint.report.sarif import sarif_log

    yield json.dumps(sarif_log(results), indent=2) + "\n"


FORMATS = {"text": text, "json": json_list, "github": github, "sarif": sarif}

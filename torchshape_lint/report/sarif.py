"""SARIF 2.1.0, as GitHub code scanning reads it: one run, the rules from the rule classes, a result per finding."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable

from torchshape_lint import __version__
from torchshape_lint.report import rule_docs

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def rule_descriptor(rule) -> dict:
    return {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": rule_docs.what(rule)},
        "help": {"text": rule_docs.rule_text(rule), "markdown": rule_docs.rule_markdown(rule)},
        "helpUri": rule_docs.help_uri(rule),
        "defaultConfiguration": {"level": "error"},
    }


def artifact_location(path: str) -> dict:
    """Relative to the current folder (the repository root in CI), with forward slashes; else absolute."""
    relative = os.path.relpath(path)
    if relative.startswith(".."):
        return {"uri": Path(path).resolve().as_uri()}
    return {"uri": Path(relative).as_posix(), "uriBaseId": "%SRCROOT%"}


def region(finding) -> dict:
    """SARIF lines and columns are 1-based; endColumn is one past the last character."""
    return {"startLine": finding.line, "startColumn": finding.column + 1,
            "endLine": finding.end_line, "endColumn": finding.end_column + 1}


def fixes(finding, edit: dict | None) -> dict:
    """The edit `--fix` makes (start and end: 1-based line, 0-based column), as a SARIF fix."""
    if edit is None:
        return {}
    (line, column), (end_line, end_column) = edit["start"], edit["end"]
    deleted = {"startLine": line, "startColumn": column + 1, "endLine": end_line, "endColumn": end_column + 1}
    return {"fixes": [{
        "description": {"text": f"Write {edit['replacement']} (unsafe: the layers before may be what is wrong)"},
        "artifactChanges": [{"artifactLocation": artifact_location(finding.path),
                             "replacements": [{"deletedRegion": deleted,
                                               "insertedContent": {"text": edit["replacement"]}}]}],
    }]}


def result(finding, index: dict, edit: dict | None) -> dict:
    location = {"artifactLocation": artifact_location(finding.path)}
    shown = finding.as_dict()  # the suggestion, trace and builds as the JSON format shows them
    return {
        "ruleId": finding.code,
        "ruleIndex": index[finding.code],
        "level": "error",
        "message": {"text": finding.text},
        "locations": [{"physicalLocation": {**location, "region": region(finding)}}],
        "properties": {**{key: shown[key] for key in ("suggestion", "trace", "model")},
                       "inputOrigin": finding.origin, "builds": finding.builds},
        **fixes(finding, edit),
    }


def sarif_log(results: Iterable) -> dict:
    """The log of the files' results (runner.FileResult)."""
    rules = rule_docs.rules()
    index = {rule.code: number for number, rule in enumerate(rules)}
    return {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "torchshape-lint", "version": __version__,
                                "informationUri": rule_docs.REPOSITORY,
                                "rules": [rule_descriptor(rule) for rule in rules]}},
            "originalUriBaseIds": {"%SRCROOT%": {"uri": Path.cwd().as_uri() + "/"}},
            "columnKind": "unicodeCodePoints",
            "results": [result(finding, index, checked.fixes.get(finding.key))
                        for checked in results for finding in checked.findings],
        }],
    }

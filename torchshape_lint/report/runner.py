"""Checking files for the command line and the language server: which files, each one's analysis with noqa
applied, the result cache, and `-j N` worker processes."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from typing import Iterator

from torchshape_lint.checks.finding import Finding
from torchshape_lint.evaluate.project import ProjectFile
from torchshape_lint.options import Settings
from torchshape_lint.report import cache


@dataclass
class FileResult:
    """One file's findings (noqa applied, select/ignore not yet; a file that is not Python has its TSL906) and its
    --verbose lines; `fixes` holds the edit `--fix` would make for a finding, by `fix_key(finding)`; `read`, the
    other project files the analysis depended on (a cached result is used only while they are unchanged)."""

    path: str
    findings: list = field(default_factory=list)
    verbose: list = field(default_factory=list)
    fixes: dict = field(default_factory=dict)
    read: list = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"findings": [asdict(f) for f in self.findings], "verbose": self.verbose, "fixes": self.fixes,
                "read": [asdict(f) for f in self.read]}

    @classmethod
    def from_dict(cls, path: str, data: dict) -> "FileResult":
        return cls(path, [Finding(**f) for f in data["findings"]], data["verbose"], data["fixes"],
                   [ProjectFile(**f) for f in data["read"]])


def fix_key(finding) -> str:
    return f"{finding.code}:{finding.line}:{finding.column}"


def python_files(paths: list) -> tuple[list, list]:
    """The .py files under the given paths (hidden folders skipped), and the paths that do not exist."""
    files, missing = [], []
    for path in paths:
        if os.path.isdir(path):
            for root, dirs, names in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                files.extend(os.path.join(root, n) for n in sorted(names) if n.endswith(".py"))
        elif os.path.isfile(path):
            files.append(path)
        else:
            missing.append(path)
    return files, missing


def check_text(text: str, path: str, input_shape: tuple | None, tree=None, confirm: tuple | None = None) -> FileResult:
    """`confirm`: (device, time limit) to run the models in PyTorch (see report/confirm.py), or None."""
    from torchshape_lint.checks.analyze import analyze_source
    from torchshape_lint.report.noqa import unsilenced

    report = analyze_source(text, path, tree, input_shape)
    confirmed = []
    if confirm is not None:
        from torchshape_lint.report.confirm import confirm_report

        confirmed = [f"{path}: {result.line()}" for result in confirm_report(report, text, *confirm, input_shape)]
    findings = unsilenced(report.findings, text, path)
    return FileResult(path, findings, verbose_lines(report) + confirmed, fixes=fixes_for(text, report, findings),
                      read=report.read)


def fixes_for(text: str, report, findings: list) -> dict:
    """The edit `--fix` would make for each of the findings, by `fix_key`."""
    from torchshape_lint.report.fix import fix_edits

    return {fix_key(edit.finding): {"start": list(edit.start), "end": list(edit.end), "replacement": edit.replacement}
            for edit in fix_edits(text, report, findings)}


def check_file(job: tuple) -> FileResult:
    """(path, input shape, use the cache, confirm) → the file's result; a worker's unit of work."""
    path, input_shape, use_cache, confirm = job
    use_cache = use_cache and confirm is None  # a confirmation runs the user's code: never from the cache
    from torchshape_lint.checks.analyze import unreadable_file

    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as error:
        return FileResult(path, [unreadable_file(path, error)])
    entry = cache.key(data, {"path": path, "input_shape": input_shape}) if use_cache else None
    cached = cache.load(entry) if entry else None
    if cached is not None:
        result = FileResult.from_dict(path, cached)
        if all(file.unchanged() for file in result.read):
            return result
    from torchshape_lint.source.reader import UNREADABLE, SourceFile

    try:
        source = SourceFile.from_bytes(data, path)
    except UNREADABLE as error:
        result = FileResult(path, [unreadable_file(path, error)])
    else:
        result = check_text(source.text, path, input_shape, source.tree, confirm)
    if entry:
        cache.store(entry, result.as_dict())
    return result


def check_files(files: list, settings: Settings, jobs: int = 1, use_cache: bool = True) -> Iterator[FileResult]:
    """Each file's result, in the order given; with jobs > 1, files are checked in that many processes."""
    confirm = (settings.device, settings.confirm_timeout) if settings.confirm else None
    work = [(path, settings.input_shape_for(path), use_cache, confirm) for path in files]
    if jobs <= 1 or len(work) <= 1:
        yield from map(check_file, work)
        return
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=min(jobs, len(work))) as pool:
        yield from pool.map(check_file, work, chunksize=max(1, len(work) // (jobs * 4)))


def verbose_lines(report) -> list:
    lines = []
    for check in report.checks:
        verdict = "agrees" if check.agrees else "DIFFERS"
        lines.append(f"{report.path}:{check.line}: checked {check.label}: {check.arriving} arrive in {check.model}"
                     f" — {verdict}")
    lines.extend(f"{report.path}: skipped {model}: {reason}" for model, reason in report.skipped)
    lines.append(f"{report.path}: {len(report.models)} builds, {report.layers_checked} layer checks decided, "
                 f"{report.layers_unknown} left unknown")
    return lines

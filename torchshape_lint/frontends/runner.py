"""Checking files for the command line and the language server: which files, each one's analysis with noqa
applied, the result cache, and `-j N` worker processes. A run is one project (evaluate/project.py): each process
reads a module the checked files import once, and a wrong layer that one checked file's run reaches in another
checked file is reported in that file too (`with_project_findings`)."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from dataclasses import replace as dataclass_replace
from typing import Callable, Iterator

from torchshape_lint.checks.finding import Finding
from torchshape_lint.evaluate.project import Project, ProjectFile
from torchshape_lint.options import Settings
from torchshape_lint.frontends import cache
from torchshape_lint.source import notebook
from torchshape_lint.source.reader import without_cyclic_gc


@dataclass
class Coverage:
    """What a file's analysis decided, for the run summary: its models (analyze._checked_models), how many of them
    stopped before the end, how many others no concrete input reached (checked on symbolic sizes only), the layer
    checks decided and the layers reached with unknown input."""

    models: int = 0
    stopped: int = 0
    symbolic_only: int = 0
    layers_checked: int = 0
    layers_unknown: int = 0
    # each build a bound of the analysis stopped: `deep_vgg() (model.py:32): stops at model.py:14: step budget`
    bounded: list = field(default_factory=list)

    @classmethod
    def of(cls, report) -> "Coverage":
        from torchshape_lint.evaluate.frames import BOUND_REASONS

        bounded = [f"{model} ({place(report, model)}): {reason}" for model, reason in report.skipped
                   if reason.endswith(BOUND_REASONS)]
        bounded += [f"{build.name} ({place(report, build.name)}): {build.loop_stop}" for build in report.builds
                    if build.loop_stop and build.name not in dict(report.skipped)]
        return cls(len(report.checked_models), len(report.stopped), len(report.symbolic_only), report.layers_checked,
                   report.layers_unknown, bounded)


@dataclass
class FileResult:
    """One file's findings (noqa applied, select/ignore not yet; a file that is not Python has its TSL906) and its
    --verbose lines; `fixes` holds the edit `--fix` would make for a finding, by `finding.key`; `read`, the
    other project files the analysis depended on (a cached result is used only while they are unchanged);
    `coverage`, what was checked (cached with the rest, so a rerun's summary counts the same); `elsewhere`, the
    findings at layers of other project files that this file's builds reached (Report.elsewhere)."""

    path: str
    findings: list = field(default_factory=list)
    verbose: list = field(default_factory=list)
    fixes: dict = field(default_factory=dict)
    read: list = field(default_factory=list)
    coverage: Coverage = field(default_factory=Coverage)
    elsewhere: list = field(default_factory=list)
    reached_elsewhere: list = field(default_factory=list)  # Report.reached_elsewhere
    symbolic: list = field(default_factory=list)  # SymbolicOnly, for each model counted in coverage.symbolic_only

    def as_dict(self) -> dict:
        return {"findings": [f.stored() for f in self.findings], "verbose": self.verbose, "fixes": self.fixes,
                "read": [asdict(f) for f in self.read], "coverage": asdict(self.coverage),
                "elsewhere": [f.stored() for f in self.elsewhere], "reached_elsewhere": self.reached_elsewhere,
                "symbolic": [asdict(s) for s in self.symbolic]}

    @classmethod
    def from_dict(cls, path: str, data: dict) -> "FileResult":
        return cls(path, [Finding.restored(f) for f in data["findings"]], data["verbose"], data["fixes"],
                   [ProjectFile(**f) for f in data["read"]], Coverage(**data["coverage"]),
                   [Finding.restored(f) for f in data["elsewhere"]], data["reached_elsewhere"],
                   [SymbolicOnly(**s) for s in data["symbolic"]])


@dataclass
class SymbolicOnly:
    """A model of the file that no concrete input of the file reached: its --verbose lines, and the site_key of each
    of its layers, by which a run of another checked file on a concrete input is seen to reach it."""

    name: str
    where: str  # `path:line` of the statement that defines it
    lines: list
    sites: list


def python_files(paths: list) -> tuple[list, list]:
    """The .py files and notebooks under the given paths (hidden folders skipped), and the paths that do not exist."""
    files, missing = [], []
    for path in paths:
        if os.path.isdir(path):
            for root, dirs, names in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                files.extend(os.path.join(root, n) for n in sorted(names) if n.endswith((".py", notebook.SUFFIX)))
        elif os.path.isfile(path):
            files.append(path)
        else:
            missing.append(path)
    return files, missing


def check_text(text: str, path: str, input_shape: tuple | None, tree=None, confirm: tuple | None = None) -> FileResult:
    """`confirm`: (device, time limit) to run the models in PyTorch (see confirm/driver.py), or None."""
    from torchshape_lint.checks.analyze import analyze_source
    from torchshape_lint.frontends.noqa import unsilenced

    report = analyze_source(text, path, tree, input_shape, run_project())
    confirmed = []
    if confirm is not None:
        from torchshape_lint.confirm.driver import confirm_report

        confirmed = [f"{path}: {result.line()}" for result in confirm_report(report, text, *confirm, input_shape)]
    findings = unsilenced(report.findings, text, path)
    return FileResult(path, findings, verbose_lines(report) + confirmed, fixes_for(text, report, findings), report.read,
                      Coverage.of(report), report.elsewhere, report.reached_elsewhere, symbolic_only(report))


def fixes_for(text: str, report, findings: list) -> dict:
    """The edit `--fix` would make for each of the findings, by `Finding.key`."""
    if not findings:  # a clean file (most are) need not load the fixer
        return {}
    from torchshape_lint.frontends.fix import fix_edits

    return {edit.finding.key: {"start": list(edit.start), "end": list(edit.end), "replacement": edit.replacement}
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
    # the working folder too: a finding about another file names it by its path from there (analyze.shown_path)
    entry = cache.key(data, {"path": path, "input_shape": input_shape, "cwd": os.getcwd()}) if use_cache else None
    cached = cache.fresh(entry) if entry else None
    if cached is not None:
        return FileResult.from_dict(path, cached)
    # the collector waits until the file is done: it then walks its result, not every object the analysis made
    with without_cyclic_gc():
        result = (check_notebook if notebook.is_notebook(path) else check_python)(data, path, input_shape, confirm)
    if entry:
        cache.store(entry, result.as_dict())
    return result


def check_python(data: bytes, path: str, input_shape: tuple | None, confirm: tuple | None) -> FileResult:
    from torchshape_lint.checks.analyze import unreadable_file
    from torchshape_lint.source.reader import UNREADABLE, SourceFile

    try:
        source = SourceFile.from_bytes(data, path)
    except UNREADABLE as error:
        return FileResult(path, [unreadable_file(path, error)])
    return check_text(source.text, path, input_shape, source.tree, confirm)


def check_notebook(data: bytes, path: str, input_shape: tuple | None, confirm: tuple | None) -> FileResult:
    """A notebook's code cells checked as one module, each finding placed at its cell and the line in it. No fix
    is offered: its positions would be the module's, not the cell's (and --fix refuses notebooks); for the same
    reason a layer of another file its code reaches is reported in the notebook only."""
    from torchshape_lint.checks.analyze import unreadable_file

    try:
        cells = notebook.read_notebook(data)
    except ValueError as error:  # not JSON, or not a notebook
        return FileResult(path, [unreadable_file(path, error)])
    result = check_python(cells.text.encode(), path, input_shape, confirm)
    cells.place_findings(result.findings)
    result.fixes = {}
    result.elsewhere = []  # their `input_from` would name the module's line, not the cell's
    return result


_project: Project | None = None  # this process's share of the run: the modules read for its files


def run_project() -> Project:
    global _project
    if _project is None:
        from torchshape_lint.source.reader import rarer_full_collections

        _project = Project()
        rarer_full_collections()
    return _project


def check_files(files: list, settings: Settings, jobs: int = 1, use_cache: bool = True,
                checked: Callable[[int], None] | None = None) -> Iterator[FileResult]:
    """Each file's result, in the order given, once every file is checked (a file's findings include those that
    other files' runs prove at its layers); with jobs > 1, files are checked in that many processes. `checked` is
    told how many files are done as each one is."""
    confirm = (settings.device, settings.confirm_timeout) if settings.confirm else None
    work = [(path, settings.input_shape_for(path), use_cache, confirm) for path in files]
    results = []
    if jobs <= 1 or len(work) <= 1:
        for result in map(check_file, work):
            results.append(result)
            if checked:
                checked(len(results))
    else:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(max_workers=min(jobs, len(work))) as pool:
            for result in pool.map(check_file, work, chunksize=max(1, len(work) // (jobs * 4))):
                results.append(result)
                if checked:
                    checked(len(results))
    yield from with_project_findings(results)


def with_project_findings(results: list) -> list:
    """The results with each finding one file's run proved at a layer of another checked file added to that file's
    (`joined_findings`); and a model checked on symbolic sizes only in its file, but run on a concrete input by
    another checked file, counted and shown as checked on that input."""
    reached = {site: result.path for result in results for site in result.reached_elsewhere}
    for result in results:
        for model in list(result.symbolic):
            by = next((reached[site] for site in model.sites if site in reached), None)
            if by is not None:
                result.symbolic.remove(model)
                result.coverage.symbolic_only -= 1
                at = result.verbose.index(model.lines[0])
                result.verbose[at:at + len(model.lines)] = [f"{model.where}: {model.name} checked on a concrete input "
                                                            f"from {by}"]

    by_file = {os.path.abspath(result.path): result for result in results if not notebook.is_notebook(result.path)}
    added: dict = {}
    for result in results:
        for finding in result.elsewhere:
            target = by_file.get(os.path.abspath(finding.path))
            if target is not None:
                added.setdefault(target.path, []).append(dataclass_replace(finding, path=target.path))
    for result in results:
        if result.path not in added:
            continue
        try:
            with open(result.path, encoding="utf-8", errors="replace") as handle:
                text = handle.read()
        except OSError:
            continue
        result.findings = joined_findings(result.findings, added[result.path], text, result.path)
    return results


def joined_findings(own: list, added: list, text: str, path: str) -> list:
    """A file's own findings (noqa applied) with those other files' runs proved at its layers (`added`; noqa is
    applied here, on the file's `text`), unless the file reports the same problem at the same place itself, where
    its own concrete finding wins over a symbolic one of the other run, and the other run's concrete one over its
    own symbolic one."""
    from torchshape_lint.frontends.noqa import unsilenced

    concrete_own = {(f.code, f.line, f.column) for f in own if f.origin != "symbolic"}
    symbolic_own = {(f.code, f.line, f.column) for f in own} - concrete_own
    by_place: dict = {}
    for finding in added:
        by_place.setdefault((finding.code, finding.line, finding.column), {}).setdefault(finding.message, finding)
    new = []
    for place, found in by_place.items():
        concrete = [f for f in found.values() if f.origin != "symbolic"]
        if place in concrete_own or (place in symbolic_own and not concrete):
            continue
        if place in symbolic_own:  # the other file's concrete input shows what this file proved on symbols
            own = [f for f in own if (f.code, f.line, f.column) != place]
        new.extend(concrete or found.values())
    return sorted(own + unsilenced(new, text, path), key=lambda f: (f.line, f.column, f.code))


def symbolic_only(report) -> list:
    """A SymbolicOnly for each model no concrete input of the file reached."""
    from torchshape_lint.checks.analyze import site_key

    found = []
    for build in report.symbolic_only:
        where = f"{report.path}:{build.line}" if build.line else report.path
        sizes = f", for every value of its parameters {', '.join(build.parameters)}" if build.parameters else ""
        lines = [f"{where}: {build.name} checked on symbolic sizes only{sizes}: no concrete input reached it"]
        lines.extend(f"{check.path}:{check.line}: {check.label} in {build.name} implies an input with {check.fits}"
                     for check in report.checks if check.model == build.name and check.fits)
        found.append(SymbolicOnly(build.name, where, lines, sorted({site_key(app.where) for app in build.applications
                                                                if app.where is not None})))
    return found


def place(report, model: str) -> str:
    """`path:line` of the statement that defines a build (the file alone for `<module>` and for one not run)."""
    line = next((build.line for build in report.builds if build.name == model), 0)
    return f"{report.path}:{line}" if line else report.path


def verbose_lines(report) -> list:
    """Every decided check; then what was not checked on a concrete input, and the builds that stopped, why."""
    lines = []
    for check in report.checks:
        verdict = "agrees" if check.agrees else "DIFFERS"
        arriving = f"{check.arriving} (for {check.fits})" if check.fits else check.arriving
        lines.append(f"{check.path}:{check.line}: checked {check.label}: {arriving} arrive in {check.model}"
                     f" — {verdict}")
    for model in symbolic_only(report):
        lines.extend(model.lines)
    lines.extend(f"{place(report, model)}: skipped {model}: {reason}" for model, reason in report.skipped)
    lines.extend(f"{place(report, build.name)}: {build.name}: {build.loop_stop}, the evaluation going on after it "
                 "with what the loop writes unknown" for build in report.builds if build.loop_stop)
    lines.extend(f"{report.path}:{build.stop_line}: {build.name} stops here: {build.stop}"
                 for build in report.builds if build.stop_line)
    lines.append(f"{report.path}: {len(report.models)} builds, {report.layers_checked} layer checks decided, "
                 f"{report.layers_unknown} left unknown")
    return lines

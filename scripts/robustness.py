"""No crash, no hang: the analysis over every .py file of the standard library and the installed torch and
torchvision packages.

Each file is read as the CLI reads it, analysed as flake8 hands it over (its `ast` tree included), and shown
as `explain` shows it, in worker processes, under a per-file time limit. Counted: files, files that build models,
findings (TSL906 for a file that is not Python), internal errors (TSL900), exceptions that escaped the analysis or
explain, files over the limit; the slowest files are listed.

    python scripts/robustness.py                     # stdlib + torch + torchvision
    python scripts/robustness.py --limit 20 some/dir # any folders or files

Exit 0 when nothing escaped, no TSL900 and no file over the limit; else 1.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import sysconfig
import time
import warnings
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field


class OverLimit(BaseException):
    """Raised by the alarm; a BaseException so that the analysis's own `except Exception` cannot swallow it."""


@dataclass
class Result:
    path: str
    seconds: float = 0.0
    outcome: str = "ok"  # ok | unreadable (a TSL906 finding) | internal error | escaped | over limit
    findings: Counter = field(default_factory=Counter)
    builds: int = 0
    detail: str = ""


def default_roots() -> list:
    """The standard library (without site-packages) and the installed torch and torchvision packages."""
    roots = [sysconfig.get_paths()["stdlib"]]
    for name in ("torch", "torchvision"):
        try:
            module = __import__(name)
        except ImportError:
            continue
        roots.append(os.path.dirname(module.__file__))
    return roots


def python_files(roots: list) -> list:
    files = []
    for root in roots:
        if os.path.isfile(root):
            files.append(root)
            continue
        for folder, dirs, names in os.walk(root):
            dirs[:] = sorted(d for d in dirs if d not in ("site-packages", "dist-packages", "__pycache__"))
            files.extend(os.path.join(folder, n) for n in sorted(names) if n.endswith(".py"))
    return files


def check_file(path: str, limit: float) -> Result:
    """Read one file as the command line does, and analyse it with its `ast` tree as flake8 hands it over;
    never raises. A file that is not Python is the CLI's TSL906 finding (flake8 reports it itself)."""
    from torchshape_lint.checks.analyze import analyze_source, unreadable_file
    from torchshape_lint.report import explain
    from torchshape_lint.source.reader import UNREADABLE, SourceFile

    warnings.simplefilter("ignore")  # SyntaxWarnings of odd stdlib test files are not ours
    result = Result(path)
    try:
        with open(path, "rb") as handle:
            source = SourceFile.from_bytes(handle.read(), path)
    except (OSError, *UNREADABLE) as error:
        finding = unreadable_file(path, error)
        result.outcome, result.detail, result.findings = "unreadable", finding.text, Counter([finding.code])
        return result
    start = time.monotonic()
    previous = signal.signal(signal.SIGALRM, _over_limit)
    signal.setitimer(signal.ITIMER_REAL, limit)
    try:
        report = analyze_source(source.text, path, source.tree)
        for render in explain.FORMATS.values():  # and what `explain` shows of it, in each format
            render(explain.tables(report))
        result.findings = Counter(f.code for f in report.findings)
        result.builds = len(report.builds)
        internal = [f.message for f in report.findings if f.code == "TSL900"]
        if internal:
            result.outcome, result.detail = "internal error", internal[0]
    except OverLimit:
        result.outcome = "over limit"
    except BaseException as error:  # noqa: B902 — the point is to see anything that escapes
        result.outcome, result.detail = "escaped", f"{type(error).__name__}: {error}"[:300]
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    result.seconds = time.monotonic() - start
    return result


def _over_limit(signum: int, frame: object) -> None:
    raise OverLimit


def run(files: list, limit: float, jobs: int) -> list:
    if jobs <= 1:
        return [check_file(path, limit) for path in files]
    with ProcessPoolExecutor(jobs) as pool:
        return list(pool.map(check_file, files, [limit] * len(files), chunksize=8))


def summary(results: list, slowest: int = 15) -> str:
    outcomes = Counter(r.outcome for r in results)
    findings = sum((r.findings for r in results), Counter())
    lines = [f"{len(results)} files: " + ", ".join(f"{n} {k}" for k, n in sorted(outcomes.items())),
             f"files that build models: {sum(r.builds > 0 for r in results)}; findings: "
             + (", ".join(f"{code} {n}" for code, n in sorted(findings.items())) or "none"),
             f"total analysis time {sum(r.seconds for r in results):.1f} s; slowest files:"]
    for r in sorted(results, key=lambda r: -r.seconds)[:slowest]:
        lines.append(f"  {r.seconds:7.2f} s  {r.path}")
    for r in results:
        if r.outcome in ("escaped", "internal error", "over limit", "unreadable"):
            lines.append(f"{r.outcome}: {r.path}: {r.detail}")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", help="folders or files (default: stdlib, torch, torchvision)")
    parser.add_argument("--limit", type=float, default=60.0, help="seconds allowed per file")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    roots = args.paths or default_roots()
    files = python_files(roots)
    start = time.monotonic()
    results = run(files, args.limit, args.jobs)
    print("roots: " + ", ".join(roots))
    print(summary(results))
    print(f"wall time {time.monotonic() - start:.0f} s with {args.jobs} processes")
    bad = sum(r.outcome in ("escaped", "internal error", "over limit") for r in results)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())

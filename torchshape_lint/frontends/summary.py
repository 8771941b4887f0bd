"""What the command line says on stderr about a check run: the summary at its end, and a progress line on a
terminal. Both stay off stdout, so every format stays machine-readable; `--quiet` silences both."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TextIO

from torchshape_lint.frontends.runner import FileResult

# A progress line appears only once a run has taken this long: a quick run ends before it would be read.
PROGRESS_AFTER_S = 1.0

# How a model gets a concrete input, for the line that says some had none.
# The builds a bound stopped that the summary names (the others are counted; --verbose names every one).
BOUNDED_SHOWN = 3

INPUT_HINT = "give an input with `# torchshape: input=(1, 3, 224, 224)` on the line above the class, or --input-shape"


def counted(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


@dataclass
class RunSummary:
    """The counts of a run, added up from each file's result as it is shown (select/ignore and --fix applied)."""

    files: int = 0
    files_with_models: int = 0
    models: int = 0
    stopped: int = 0
    symbolic_only: int = 0
    layers_checked: int = 0
    layers_unknown: int = 0
    findings: int = 0
    fixable: int = 0
    bounded: list = field(default_factory=list)
    started: float = field(default_factory=time.perf_counter)

    def add(self, result: FileResult) -> None:
        coverage = result.coverage
        self.files += 1
        self.files_with_models += coverage.models > 0
        self.models += coverage.models
        self.stopped += coverage.stopped
        self.symbolic_only += coverage.symbolic_only
        self.layers_checked += coverage.layers_checked
        self.layers_unknown += coverage.layers_unknown
        self.bounded += coverage.bounded
        self.findings += len(result.findings)
        self.fixable += sum(finding.key in result.fixes for finding in result.findings)

    def lines(self) -> list:
        """`Checked 3 files (2 with models), 9 models (8 on a concrete input, 1 symbolic only): 170 layer checks
        decided, 0 unknown; 1 finding (1 fixable) in 0.84 s`, and how to give an input where some had none."""
        seconds = time.perf_counter() - self.started
        found = (f"{counted(self.findings, 'finding')} ({self.fixable} fixable)" if self.findings
                 else "no findings")
        concrete = self.models - self.symbolic_only - self.stopped
        stopped = f", {self.stopped} stopped" if self.stopped else ""
        inputs = (f" ({concrete} on a concrete input, {self.symbolic_only} symbolic only{stopped})" if self.models
                  else "")
        lines = [f"Checked {counted(self.files, 'file')} ({self.files_with_models} with models), "
                 f"{counted(self.models, 'model')}{inputs}: {counted(self.layers_checked, 'layer check')} decided, "
                 f"{self.layers_unknown} unknown; {found} in {seconds:.2f} s"]
        if self.symbolic_only:
            lines.append(f"{counted(self.symbolic_only, 'model')} had no concrete input, only symbolic sizes: "
                         f"{INPUT_HINT} (--verbose names them)")
        if self.stopped:
            lines.append(f"{counted(self.stopped, 'model')} stopped part-way: the layers past where the evaluation "
                         "stopped were not checked (--verbose says why)")
        if self.bounded:
            shown = "; ".join(self.bounded[:BOUNDED_SHOWN])
            more = f"; and {len(self.bounded) - BOUNDED_SHOWN} more" if len(self.bounded) > BOUNDED_SHOWN else ""
            lines.append(f"{counted(len(self.bounded), 'build')} stopped at a bound of the analysis, so what it builds "
                         f"and runs past that point was not checked: {shown}{more}")
        return lines


class Progress:
    """One self-overwriting line on a terminal (`\\r`), from PROGRESS_AFTER_S on; `clear` before anything else is
    written to the terminal, and at the end. Nothing at all when the stream is not a terminal."""

    def __init__(self, stream: TextIO, total: int) -> None:
        self.stream = stream
        self.total = total
        self.shown = 0  # the length of the line on the terminal now (0: none)
        self.enabled = stream.isatty()
        self.started = time.perf_counter()

    def update(self, done: int) -> None:
        if not self.enabled or time.perf_counter() - self.started < PROGRESS_AFTER_S:
            return
        line = f"Checking files: {done}/{self.total}"
        self.stream.write("\r" + line.ljust(self.shown))
        self.stream.flush()
        self.shown = len(line)

    def clear(self) -> None:
        if self.shown:
            self.stream.write("\r" + " " * self.shown + "\r")
            self.stream.flush()
            self.shown = 0

"""Fuzzing the source-text entry point: `analyze_source` on mutated fixtures and on generated text.

Whatever the text, the analysis returns a report (it never raises), never reports an internal error (TSL900),
points every finding at a place inside the file, and ends within a CPU-time bound. Bounded for CI: a fixed
number of examples per property, derandomized so that CI runs are reproducible.
"""

from __future__ import annotations

import re
import time

import pytest

pytest.importorskip("hypothesis")

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from conftest import FIXTURES  # noqa: E402

from torchshape_lint.checks.analyze import analyze_source  # noqa: E402

SOURCES = sorted(p for p in FIXTURES.rglob("*.py"))
TEXTS = [p.read_text() for p in SOURCES]
FUZZ = settings(max_examples=25, deadline=None, derandomize=True, database=None,
                suppress_health_check=list(HealthCheck))
NUMBER = re.compile(r"(?<![\w.])\d+(?![\w.])")


def check(text: str) -> None:
    start = time.process_time()
    report = analyze_source(text, "fuzz.py")
    assert time.process_time() - start < 30
    lines = text.splitlines() or [""]
    for finding in report.findings:
        assert finding.code != "TSL900", (finding.message, finding.trace)
        assert 1 <= finding.line <= len(lines) + 1 and finding.column >= 0, finding


@st.composite
def mutated_fixture(draw) -> str:
    text = draw(st.sampled_from(TEXTS))
    for _ in range(draw(st.integers(1, 4))):
        lines = text.splitlines(keepends=True) or [""]
        i = draw(st.integers(0, len(lines) - 1))
        kind = draw(st.sampled_from(["delete", "duplicate", "swap", "truncate", "insert", "number", "indent"]))
        if kind == "delete":
            del lines[i]
        elif kind == "duplicate":
            lines.insert(i, lines[i])
        elif kind == "swap":
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        elif kind == "truncate":
            lines[i] = lines[i][: draw(st.integers(0, len(lines[i])))]
        elif kind == "insert":
            position = draw(st.integers(0, len(lines[i])))
            junk = draw(st.sampled_from(["(", ")", "[", "]", ":", ",", "-1", "*", "x", "None", "'", "\\", "\t", "#",
                                         " if x else ", "lambda: ", "yield ", "await ", "**", "\x00", "\udcff"]))
            lines[i] = lines[i][:position] + junk + lines[i][position:]
        elif kind == "number":
            value = draw(st.sampled_from(["0", "-1", "1", "2", "7", "10 ** 12", "2 ** 64", "0.5", "None", "True"]))
            matches = list(NUMBER.finditer(lines[i]))
            if matches:
                m = matches[draw(st.integers(0, len(matches) - 1))]
                lines[i] = lines[i][: m.start()] + value + lines[i][m.end():]
        else:
            lines[i] = "    " + lines[i]
        text = "".join(lines)
    return text


@FUZZ
@given(mutated_fixture())
def test_mutated_fixtures(text):
    check(text)


@FUZZ
@given(st.lists(st.sampled_from(TEXTS), min_size=1, max_size=3), st.data())
def test_numbers_of_fixtures_replaced(texts, data):
    """Every number literal of a fixture replaced at once: declared sizes, kernels, strides, input shapes."""
    text = "\n".join(texts)
    numbers = data.draw(st.lists(st.integers(-3, 5000), min_size=1, max_size=8))
    counter = iter(range(10 ** 9))
    check(NUMBER.sub(lambda m: str(numbers[next(counter) % len(numbers)]), text))


TOKENS = ["import torch", "import torch.nn as nn", "nn.Linear(", "nn.Conv2d(", "nn.Sequential(", "torch.zeros(",
          "x.view(", "F.relu(", "class Net(nn.Module):", "def forward(self, x):", "def f(n=3):", "self.fc = ",
          "return ", "for v in cfg:", "while True:", "if x:", "x = ", "cfg = [", "'M'", "*layers", "**kw", "-1",
          "0", "3", "64", "512 * 7 * 7", ")", "]", ",", ":", "\n", "\n    ", "\n        ", " ", "# torchshape: input=(",
          "super().__init__()", "self", "x", "layers", "lambda", "yield", "@", "nonlocal x", "global x", "del x"]


@FUZZ
@given(st.lists(st.sampled_from(TOKENS), max_size=60))
def test_token_soup(tokens):
    check("import torch\n" + "".join(tokens))


@FUZZ
@given(st.text(max_size=400))
def test_arbitrary_text(text):
    check("import torch\n" + text)

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"


def run(args, cwd=ROOT, stdin=None):
    return subprocess.run(args, cwd=cwd, input=stdin, capture_output=True, text=True, timeout=300)


def flake8(*args, cwd=ROOT, stdin=None):
    return run([sys.executable, "-m", "flake8", "--select", "TSL", *args], cwd=cwd, stdin=stdin)


def cli(*args, cwd=ROOT):
    return run([sys.executable, "-m", "torchshape_lint.report.cli", *args], cwd=cwd)


def lint(front, *args, cwd=ROOT):
    """The command line (no cache, no summary) or flake8 (TSL codes only) on the paths: what a user runs."""
    return cli("--no-cache", "-q", *args, cwd=cwd) if front == "cli" else flake8(*args, cwd=cwd)


def locate(path, needle, occurrence=0):
    """(line, 1-based column) of the n-th line containing `needle`: where a user sees the call."""
    hits = [(number, line.index(needle) + 1) for number, line in enumerate(Path(path).read_text().splitlines(), 1)
            if needle in line]
    return hits[occurrence]


def cell_location(path, needle):
    """(cell, line in the cell, 1-based column) of the first code line holding `needle`, read from the notebook's
    JSON: cells counted from 1, markdown cells included, as ruff and the editors count them."""
    for cell_number, cell in enumerate(json.loads(Path(path).read_text())["cells"], 1):
        for line_number, line in enumerate("".join(cell["source"]).split("\n"), 1):
            if cell["cell_type"] == "code" and needle in line:
                return cell_number, line_number, line.index(needle) + 1
    raise AssertionError(f"{needle!r} not in {path}")


@pytest.fixture
def fixtures_dir():
    return FIXTURES


@pytest.fixture(autouse=True, scope="session")
def private_result_cache(tmp_path_factory):
    """The command line's result cache goes to a temporary folder, never the user's (subprocesses inherit it)."""
    previous = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("cache"))
    yield
    if previous is None:
        del os.environ["XDG_CACHE_HOME"]
    else:
        os.environ["XDG_CACHE_HOME"] = previous

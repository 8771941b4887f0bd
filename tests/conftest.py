import json
import os
import runpy
import subprocess
import sys
import traceback
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"


def run(args, cwd=ROOT, stdin=None):
    return subprocess.run(args, cwd=cwd, input=stdin, capture_output=True, text=True, timeout=300)


def flake8(*args, cwd=ROOT, stdin=None):
    return run([sys.executable, "-m", "flake8", "--select", "TSL", *args], cwd=cwd, stdin=stdin)


def cli(*args, cwd=ROOT):
    return run([sys.executable, "-m", "torchshape_lint.frontends.cli", *args], cwd=cwd)


def lint(front, *args, cwd=ROOT):
    """The command line (no cache, no summary) or flake8 (TSL codes only) on the paths: what a user runs."""
    return cli("--no-cache", "-q", *args, cwd=cwd) if front == "cli" else flake8(*args, cwd=cwd)


def locate(path, needle, occurrence=0):
    """(line, 1-based column) of the n-th line containing `needle`: where a user sees the call."""
    hits = [(number, line.index(needle) + 1) for number, line in enumerate(Path(path).read_text().splitlines(), 1)
            if needle in line]
    return hits[occurrence]


def outcome(run):
    """torch's shape for `run()`, or its error's message: what a shape function must give for the same operands."""
    try:
        return tuple(run().shape), None
    except (RuntimeError, IndexError) as error:
        return None, str(error)


def torch_error(path):
    """PyTorch's message when the file runs as a script, and the line of the file where it raised (a dim out of
    range is an IndexError in torch)."""
    pytest.importorskip("torch")
    with pytest.raises((RuntimeError, IndexError)) as error:
        runpy.run_path(str(path), run_name="__main__")
    frames = [frame for frame in traceback.extract_tb(error.value.__traceback__) if frame.filename == str(path)]
    return str(error.value).splitlines()[0], frames[-1].lineno


def plant(fixture, original, mistake, path):
    """A copy of a fixture at `path` with one mistake planted: `original` (which must be there) replaced once."""
    source = Path(fixture).read_text()
    assert original in source
    path.write_text(source.replace(original, mistake, 1))
    return path


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

"""The plugin keeps the project's modules for the whole flake8 process: the host's full garbage collections, each a
walk of that heap, are spaced ten times wider once the project exists, once per process; a run that needs no
analysis leaves the host's collector as it was."""

import subprocess
import sys

from conftest import FIXTURES, ROOT

PROBE = """
import ast, gc, sys
from torchshape_lint.frontends.flake8_plugin import TorchShapePlugin
before = gc.get_threshold()
for path in sys.argv[1:]:
    text = open(path).read()
    list(TorchShapePlugin(ast.parse(text), path, text.splitlines(keepends=True)).run())
    print(gc.get_threshold()[2] / before[2])
"""


def thresholds(*paths):
    result = subprocess.run([sys.executable, "-c", PROBE, *map(str, paths)], cwd=ROOT, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return [float(x) for x in result.stdout.split()]


def test_full_collections_spaced_once_the_project_exists(tmp_path):
    plain = tmp_path / "plain.py"
    plain.write_text("import json\n\nprint(json.dumps({}))\n")
    model = FIXTURES / "vgg_no_avgpool.py"
    # no torch: nothing is analysed, the host's setting stays; then a model file, twice: ten times, not a hundred
    assert thresholds(plain, model, model) == [1.0, 10.0, 10.0]

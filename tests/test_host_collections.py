"""The plugin keeps the project's modules for the whole flake8 process: the host's full garbage collections, each a
walk of that heap, are spaced ten times wider once the project exists, once per process; a run that needs no
analysis leaves the host's collector as it was. A checked file itself is not kept: flake8 frees it when done."""

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


FREED = """
import ast, gc, sys, weakref
from torchshape_lint.frontends.flake8_plugin import TorchShapePlugin
text = open(sys.argv[1]).read()
tree = ast.parse(text)
found = list(TorchShapePlugin(tree, sys.argv[1], text.splitlines(keepends=True)).run())
alive = weakref.ref(tree)
del tree
gc.collect()
print(len(found), alive() is None)
"""


def test_a_checked_file_is_freed_when_flake8_is_done_with_it(tmp_path):
    # its pragmas were read: that reading, kept in a process-wide table, used to keep the file and its tree alive
    # for the whole process (every file of a flake8 run, and a slower exit)
    model = tmp_path / "model.py"
    model.write_text("import torch.nn as nn\n\n\n# torchshape: input=(1, 3, 32, 32)\n"
                     "model = nn.Sequential(nn.Conv2d(3, 8, 3), nn.Flatten(), nn.Linear(8 * 32 * 32, 10))\n")
    result = subprocess.run([sys.executable, "-c", FREED, str(model)], cwd=ROOT, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["1", "True"]

"""Static mode never imports torch: not at plugin load, not while analysing a model."""

import subprocess
import sys

from conftest import ROOT

PROBE = """
import sys
from torchshape_lint.frontends.flake8_plugin import TorchShapePlugin
from torchshape_lint.checks.analyze import analyze_source
report = analyze_source(open("fixtures/lenet_mnist.py").read(), "fixtures/lenet_mnist.py")
assert [f.code for f in report.findings] == ["TSL001"], report.findings
heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("torch", "torchvision", "numpy", "sympy"))
print(heavy)
"""


def test_no_heavy_imports():
    result = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"

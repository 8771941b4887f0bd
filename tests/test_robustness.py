"""No input crashes or hangs the analysis, and bad input gets a clear error.

* Real code: torchvision's models and a sample of the standard library through `scripts/robustness.py`'s
  per-file check (the full run over stdlib, torch and torchvision is the script itself; see the README).
* Pathological sources end quickly with no finding (tests/test_evaluator.py has the first few; these are others).
* Bytes that are not UTF-8, NUL bytes, a file that is not Python: no traceback through the CLI or flake8, and the
  other files' findings still come out.
* A malformed pragma is a TSL904 finding at the pragma's own line; a pragma whose rank does not fit is TSL004.
* Usage errors (bad input shapes on the command line, in pyproject.toml or flake8's config, a missing path)
  exit 2 with a message naming the value and where it came from.
"""

from __future__ import annotations

import json
import os
import sys
import sysconfig
import time

import pytest

from conftest import ROOT, cli, flake8

from torchshape_lint.checks.analyze import analyze_source


sys.path.insert(0, str(ROOT / "scripts"))
import robustness  # noqa: E402


def assert_clean(results):
    bad = [(r.path, r.outcome, r.detail) for r in results
           if r.outcome not in ("ok", "unreadable") or r.findings.get("TSL900")]
    assert bad == [], bad


def test_torchvision_models_neither_crash_nor_hang():
    torchvision = pytest.importorskip("torchvision")
    folder = os.path.join(os.path.dirname(torchvision.__file__), "models")
    files = robustness.python_files([folder])
    assert len(files) > 50
    results = robustness.run(files, limit=60, jobs=1)
    assert_clean(results)
    assert sum(r.builds > 0 for r in results) > 30  # the analysis really ran on them


def test_a_sample_of_the_standard_library_neither_crashes_nor_hangs():
    files = robustness.python_files([sysconfig.get_paths()["stdlib"]])
    assert len(files) > 1000
    sample = files[:: max(1, len(files) // 400)]
    assert_clean(robustness.run(sample, limit=60, jobs=1))


def test_the_script_reports_an_escaping_exception_and_a_hang(tmp_path, monkeypatch):
    import torchshape_lint.checks.analyze as analyze

    model = tmp_path / "m.py"
    model.write_text("import torch\n")
    monkeypatch.setattr(analyze, "analyze_source", lambda *a, **k: (_ for _ in ()).throw(KeyboardInterrupt()))
    assert robustness.check_file(str(model), 5).outcome == "escaped"
    monkeypatch.setattr(analyze, "analyze_source", lambda *a, **k: time.sleep(10))
    start = time.monotonic()
    assert robustness.check_file(str(model), 0.5).outcome == "over limit"
    assert time.monotonic() - start < 5


HEAD = "import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n"

PATHOLOGICAL = {
    "a literal cfg list of 100 000 items": HEAD + "cfg = [" + ", ".join(["64", "'M'"] * 50000) + "]\n"
    "def make_layers(cfg=cfg):\n    layers = []\n    c = 3\n    for v in cfg:\n        if v == 'M':\n"
    "            layers += [nn.MaxPool2d(2)]\n        else:\n            layers += [nn.Conv2d(c, v, 3, padding=1)]\n"
    "            c = v\n    return nn.Sequential(*layers)\n",
    "a builder whose loop never ends": HEAD + "def build(n=8):\n    layers = []\n    while n > 0:\n"
    "        layers.append(nn.Linear(n, n))\n        n += 1\n    return nn.Sequential(*layers)\nmodel = build()\n",
    "forward calling itself": HEAD + "class Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
    "        self.fc = nn.Linear(4, 4)\n    def forward(self, x):\n        return self.forward(self.fc(x))\n"
    "Net()(torch.zeros(2, 4))\n",
    "builders recursing into each other": HEAD + "def a(n=3):\n    return nn.Sequential(nn.Linear(n, n), b(n + 1))\n"
    "def b(n=3):\n    return nn.Sequential(nn.Linear(n, n), a(n + 1))\n",
    "classes constructing each other": HEAD + "class A(nn.Module):\n    def __init__(self):\n"
    "        super().__init__()\n        self.b = B()\nclass B(nn.Module):\n    def __init__(self):\n"
    "        super().__init__()\n        self.a = A()\n",
    "deeply nested blocks": HEAD + "def f(x=1):\n" + "".join("    " * (i + 1) + "if x:\n" for i in range(90))
    + "    " * 91 + "return nn.Linear(3, 4)\nm = f()\n",
    "deeply nested calls": HEAD + "m = " + "nn.Sequential(" * 180 + "nn.Linear(3, 4)" + ")" * 180 + "\n",
    "a long chain of additions": HEAD + "n = " + " + ".join(["1"] * 20000) + "\nm = nn.Linear(n, 4)\n",
    "a huge string and a huge number": HEAD + "s = '" + "x" * 5_000_000 + "'\nn = 7 ** 7 ** 7\n"
    "m = nn.Sequential(nn.Linear(len(s), n % 10 + 1))\n",
    "enormous sizes": HEAD + "m = nn.Sequential(nn.Linear(10 ** 30, 10 ** 40), nn.Linear(10 ** 40, 2))\n"
    "y = m(torch.zeros(10 ** 20, 10 ** 30)).view(-1, 2)\n",
    "a million-element list comprehension": HEAD + "xs = [i for i in range(10 ** 9)]\nm = nn.Linear(len(xs), 2)\n",
    "a generator of layers that never ends": HEAD + "def gen(n=1):\n    while True:\n        yield nn.Linear(n, n)\n"
    "m = nn.Sequential(*gen())\n",
}


@pytest.mark.parametrize("name", sorted(PATHOLOGICAL))
def test_pathological_source_ends_quickly_without_findings(name):
    start = time.process_time()  # CPU time: a guard against hangs that a busy CI machine does not trip
    report = analyze_source(PATHOLOGICAL[name], "p.py")
    assert [f.text for f in report.findings] == []
    assert time.process_time() - start < 30, name


UNREADABLE = "TSL906 cannot read this file as Python, nothing in it was checked: "


def test_odd_files_are_reported_plainly_and_lose_no_other_finding(tmp_path):
    (tmp_path / "bytes.py").write_bytes(b"import torch\nx = '\xff\xfe'\n")
    (tmp_path / "nul.py").write_bytes(b"import torch\x00\x01\n")
    (tmp_path / "html.py").write_text("import torch\n<html><body>not python</body></html>\n")
    (tmp_path / "binary.py").write_bytes(bytes(range(256)) * 64)
    (tmp_path / "deep.py").write_text("import torch\nx = " + "-" * 200_000 + "1\n")  # too deep for Python's parser
    (tmp_path / "gone.py").symlink_to(tmp_path / "nowhere.py")  # listed in its folder, cannot be opened
    (tmp_path / "latin1.py").write_bytes(b"# -*- coding: latin-1 -*-\nimport torch.nn as nn\n# caf\xe9\n"
                                         b"m = nn.Sequential(nn.Linear(4, 3), nn.Linear(5, 2))\n")
    result = cli("--no-cache", "--quiet", ".", cwd=tmp_path)
    assert "Traceback" not in result.stdout + result.stderr and result.stderr == ""
    # the one real finding (3 features arrive at Linear(5, ...)) still comes out, at its place
    column = "m = nn.Sequential(nn.Linear(4, 3), nn.Linear(5, 2))".index("nn.Linear(5") + 1
    # Each unreadable file at the place Python names: the first byte that is not UTF-8 (0x80 in binary.py sits on
    # line 2, after the 0x0a at position 10), the line of a syntax error, else line 1.
    assert result.stdout.splitlines() == [
        f"./binary.py:2:1: {UNREADABLE}UnicodeDecodeError: 'utf-8' codec can't decode byte 0x80 in position 128: "
        "invalid start byte",
        f"./bytes.py:2:1: {UNREADABLE}UnicodeDecodeError: 'utf-8' codec can't decode byte 0xff in position 18: "
        "invalid start byte",
        f"./deep.py:1:1: {UNREADABLE}MemoryError: nested too deeply for Python's parser",
        f"./gone.py:1:1: {UNREADABLE}FileNotFoundError: No such file or directory",
        f"./html.py:2:1: {UNREADABLE}SyntaxError: invalid syntax",
        f"./latin1.py:4:{column}: TSL001 Linear(in_features=5) but 3 features arrive: the input; use 3",
        f"./nul.py:1:1: {UNREADABLE}SyntaxError: source code string cannot contain null bytes",
    ]
    assert result.returncode == 1  # findings, not a usage or internal error
    (tmp_path / "gone.py").unlink()  # flake8 stops at a path it cannot open,
    (tmp_path / "deep.py").unlink()  # and raises MemoryError itself (with or without the plugin) on this one
    flaked = flake8(str(tmp_path))
    assert "Traceback" not in flaked.stdout + flaked.stderr and "raised" not in flaked.stderr
    assert [line.split(": ", 1)[1].split(" ")[0] for line in flaked.stdout.splitlines()] == ["TSL001"]


MODEL_LINE = "m = nn.Sequential(nn.Linear(4, 3), nn.Linear(5, 2))"


def test_stdlib_files_that_are_not_python_are_findings(tmp_path):
    """The standard library's own test data: a bad encoding declaration, an unknown encoding, Python 2 syntax."""
    stdlib = sysconfig.get_paths()["stdlib"]
    names = ["test/tokenizedata/badsyntax_pep3120.py", "test/tokenizedata/bad_coding.py",
             "lib2to3/tests/data/py2_test_grammar.py"]
    if not all(os.path.isfile(os.path.join(stdlib, name)) for name in names):
        pytest.skip("this Python ships without its test data")
    for name in names:
        (tmp_path / os.path.basename(name)).write_bytes(open(os.path.join(stdlib, name), "rb").read())
    (tmp_path / "model.py").write_text(HEAD + MODEL_LINE + "\n")
    result = cli("--no-cache", "--quiet", "--format", "json", ".", cwd=tmp_path)
    found = [(item["path"], item["code"], item["line"], item["column"]) for item in json.loads(result.stdout)]
    grammar_line = (tmp_path / "py2_test_grammar.py").read_text().splitlines()[30]
    assert grammar_line == "        self.assertEquals(0377, 255)"  # Python 2's octal literal, where Python points
    assert found == [("./bad_coding.py", "TSL906", 1, 1), ("./badsyntax_pep3120.py", "TSL906", 1, 1),
                     ("./model.py", "TSL001", 4, MODEL_LINE.index("nn.Linear(5") + 1),
                     ("./py2_test_grammar.py", "TSL906", 31, grammar_line.index("0377") + 1)]
    assert (result.returncode, result.stderr) == (1, "")
    flaked = flake8(".", cwd=tmp_path)
    assert [line.split(": ", 1)[1].split(" ")[0] for line in flaked.stdout.splitlines()] == ["TSL001"]
    assert "Traceback" not in flaked.stderr


# ---- pragmas -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("written, problem", [
    ("input=(3, x)", "(3, x) is not a tuple of integers"),
    ("input=(1, 0, 28, 28)", "0 in (1, 0, 28, 28) is not a size"),
    ("input=(1, -3, 28)", "-3 in (1, -3, 28) is not a size"),
    ("input=(1, 2.5)", "2.5 in (1, 2.5) is not an integer"),
    ("input=", "a pragma is `input=(N, C, H, W)`"),
    ("shape=(1, 3, 8, 8)", "a pragma is `input=(N, C, H, W)`"),
    ("input=(1, 3) input=(1, 4)", "a pragma is `input=(N, C, H, W)`"),
    ("input=(1, 3) kwargs=[10]", "[10] is not a dict of keyword arguments"),
    ("input=[(1, 100), (1, 0)]", "0 in [(1, 100), (1, 0)] is not a size"),
])
def test_malformed_pragma_is_a_finding_at_its_own_line(tmp_path, written, problem):
    source = (HEAD + "\nclass Net(nn.Module):\n    pass\n\n"
              f"    # torchshape: {written}\nmodel = nn.Sequential(nn.Conv2d(3, 8, 3))\n")
    line = source.splitlines().index(f"    # torchshape: {written}") + 1
    (tmp_path / "m.py").write_text(source)
    result = cli("--no-cache", "m.py", cwd=tmp_path)
    assert result.stdout.splitlines() == [f"m.py:{line}:5: TSL904 pragma `# torchshape: {written}` is ignored: "
                                          + result.stdout.split("is ignored: ", 1)[1].splitlines()[0]]
    assert problem in result.stdout and result.returncode == 1
    flaked = flake8("m.py", cwd=tmp_path)
    assert flaked.stdout.startswith(f"m.py:{line}:5: TSL904 ")


def test_pragma_text_inside_a_string_is_not_a_pragma():
    source = HEAD + '"""Write\n# torchshape: input=(N, C, H, W)\nabove the model."""\nm = nn.Linear(3, 4)\n'
    assert analyze_source(source, "m.py").findings == []


def test_pragma_of_the_wrong_rank_is_a_finding():
    source = HEAD + "# torchshape: input=(1, 3)\nmodel = nn.Sequential(nn.Conv2d(3, 8, 3))\n"
    findings = analyze_source(source, "m.py").findings
    assert [(f.code, f.line) for f in findings] == [("TSL004", 5)]
    assert "from the pragma" in findings[0].message and "3-D or 4-D" in findings[0].message


# ---- usage errors --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("argument, named", [
    ("--input-shape=1,0,32,32", "--input-shape: '1,0,32,32'"),
    ("--input-shape=-1,3,32,32", "--input-shape: '-1,3,32,32'"),
    ("--input-shape=1,three", "--input-shape: '1,three'"),
])
def test_bad_input_shape_on_the_command_line(argument, named):
    result = cli(argument, "fixtures/vgg.py")
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.startswith(f"torchshape-lint: {named}") and "Traceback" not in result.stderr


@pytest.mark.parametrize("config, named", [
    ('input-shape = "1,0,3"', "pyproject.toml [tool.torchshape-lint] input-shape: '1,0,3'"),
    ("input-shape = [1, -2]", "pyproject.toml [tool.torchshape-lint] input-shape: [1, -2]"),
    ('input-shap = "1,3"', "pyproject.toml [tool.torchshape-lint] input-shap: unknown key"),
    ("input-shape = ", "pyproject.toml: "),
])
def test_bad_pyproject_value_is_named_with_its_place(tmp_path, config, named):
    (tmp_path / "pyproject.toml").write_text(f"[tool.torchshape-lint]\n{config}\n")
    (tmp_path / "m.py").write_text("import torch\n")
    result = cli("--no-cache", "m.py", cwd=tmp_path)
    assert result.returncode == 2 and result.stderr.startswith(f"torchshape-lint: {named}"), result.stderr


def test_bad_flake8_config_value_is_named_with_its_place(tmp_path):
    (tmp_path / "setup.cfg").write_text("[flake8]\ntorchshape-input-shape = 1,0,5\n")
    (tmp_path / "m.py").write_text("import torch\n")
    result = flake8("m.py", cwd=tmp_path)
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "torchshape-input-shape: '1,0,5' must have dimensions of at least 1" in result.stderr


def test_missing_path_is_named_and_nothing_is_checked(tmp_path):
    (tmp_path / "m.py").write_text("import torch.nn as nn\nm = nn.Sequential(nn.Linear(4, 3), nn.Linear(5, 2))\n")
    result = cli("--no-cache", "m.py", "nothere.py", cwd=tmp_path)
    assert result.returncode == 2 and "nothere.py: no such file or directory" in result.stderr


def test_the_plugin_reading_the_file_itself_leaves_a_bad_file_to_flake8(tmp_path):
    """Without the lines flake8 hands over, the plugin reads the file: one that is not Python gives nothing."""
    from torchshape_lint.frontends.flake8_plugin import TorchShapePlugin

    (tmp_path / "bad_coding.py").write_bytes(b"# -*- coding: uft-8 -*-\nimport torch\n")
    (tmp_path / "model.py").write_text(HEAD + MODEL_LINE + "\n")
    assert list(TorchShapePlugin(None, str(tmp_path / "bad_coding.py")).run()) == []
    assert list(TorchShapePlugin(None, str(tmp_path / "nowhere.py")).run()) == []
    assert [item[2].split()[0] for item in TorchShapePlugin(None, str(tmp_path / "model.py")).run()] == ["TSL001"]

"""Positions of findings read from Python's `ast`, which counts columns in UTF-8 bytes, as flake8, the CLI and
--fix count them: in characters. Non-ASCII text before the call on the same line moves the byte column only."""

import json

from conftest import cli, flake8

# LeNet-like head: Conv2d(3, 6, 5) on 32x32 gives floor((32 + 2*0 - 1*(5-1) - 1) / 1) + 1 = 28, so
# 6 * 28 * 28 = 4704 features reach the Linear, which declares 6 * 24 * 24 = 3456.
ACCENTED = '''import torch.nn as nn
from collections import OrderedDict


# torchshape: input=(1, 3, 32, 32)
def petit_réseau():
    return nn.Sequential(OrderedDict([
        ("entrée", nn.Conv2d(3, 6, 5)), ("activé", nn.ReLU()),
        ("aplati", nn.Flatten()), ("tête_linéaire→", nn.Linear(6 * 24 * 24, 10)),
    ]))
'''
CALL = "nn.Linear(6 * 24 * 24, 10)"


def written(tmp_path):
    path = tmp_path / "reseau.py"
    path.write_text(ACCENTED, encoding="utf-8")
    number, line = next((n, text) for n, text in enumerate(ACCENTED.splitlines(), 1) if CALL in text)
    column = line.index(CALL)  # 0-based, in characters
    assert len(line[:column].encode("utf-8")) != column  # the byte column differs: the test can tell them apart
    return path, number, column


def test_flake8_column_counts_characters(tmp_path):
    path, number, column = written(tmp_path)
    result = flake8(path.name, cwd=tmp_path)
    assert result.stdout.splitlines() == [
        f"reseau.py:{number}:{column + 1}: TSL001 Linear(in_features=3456) but 4704 features arrive: "
        "input (1, 3, 32, 32); 32x32 → 28x28 through 1 Conv2d; flattened 6*28*28 = 4704; use 6 * 28 * 28"
    ], result.stdout + result.stderr


def test_cli_json_span_counts_characters(tmp_path):
    path, number, column = written(tmp_path)
    result = cli("--format", "json", path.name, cwd=tmp_path)
    [finding] = json.loads(result.stdout)
    assert (finding["line"], finding["column"]) == (number, column + 1)  # JSON columns are 1-based
    assert (finding["end_line"], finding["end_column"]) == (number, column + len(CALL) + 1)


def test_fix_rewrites_the_argument_after_non_ascii_text(tmp_path):
    path, number, column = written(tmp_path)
    result = cli("--fix", path.name, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert path.read_text(encoding="utf-8") == ACCENTED.replace(CALL, "nn.Linear(6 * 28 * 28, 10)")

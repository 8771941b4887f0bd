"""--format json, github and sarif, as CI consumes them; SARIF checked against the official 2.1.0 schema."""

import json
from pathlib import Path

import pytest

from conftest import FIXTURES, ROOT, cli, locate

from torchshape_lint.checks.rules import by_code

SCHEMA = json.loads((Path(__file__).parent / "data" / "sarif-schema-2.1.0.json").read_text())
# LeNet on 28x28 MNIST: 28 -conv5-> 24 -pool2-> 12 -conv5-> 8 -pool2-> 4, so 16 * 4 * 4 = 256 features, not 400.
LENET = FIXTURES / "lenet_mnist.py"


def test_json_has_every_key_of_a_finding():
    [item] = json.loads(cli("--no-cache", "--format", "json", "fixtures/lenet_mnist.py").stdout)
    assert set(item) >= {"code", "name", "path", "line", "column", "end_line", "end_column", "message",
                         "suggestion", "trace"}
    line, col = locate(LENET, "nn.Linear(16 * 5 * 5, 120)")
    assert (item["line"], item["column"], item["end_line"]) == (line, col, line)
    assert item["end_column"] == col + len("nn.Linear(16 * 5 * 5, 120)")
    assert item["suggestion"] == "16 * 4 * 4" and item["message"].startswith("TSL001 ")
    assert [step.split(":")[0] for step in item["trace"]][:4] == ["Conv2d", "MaxPool2d", "Conv2d", "MaxPool2d"]


def test_json_of_a_clean_file_is_an_empty_list():
    result = cli("--no-cache", "--format", "json", "fixtures/vgg.py")
    assert (result.returncode, json.loads(result.stdout)) == (0, [])


def test_github_annotations(tmp_path):
    line, col = locate(LENET, "nn.Linear(16 * 5 * 5, 120)")
    result = cli("--no-cache", "--format", "github", "fixtures/lenet_mnist.py")
    assert result.returncode == 1
    assert result.stdout.startswith(f"::error file=fixtures/lenet_mnist.py,line={line},col={col},endLine={line},"
                                    f"endColumn={col + len('nn.Linear(16 * 5 * 5, 120)')},title=TSL001::TSL001 "
                                    "Linear(in_features=400) but 256 features arrive")
    (tmp_path / "a,b:c.py").write_text(LENET.read_text())  # property values escape , and : as the toolkit does
    assert cli("--no-cache", "--format", "github", "a,b:c.py", cwd=tmp_path).stdout.startswith(
        "::error file=a%2Cb%3Ac.py,")


def sarif_of(*args, cwd=ROOT):
    result = cli("--no-cache", "--format", "sarif", *args, cwd=cwd)
    log = json.loads(result.stdout)
    jsonschema = pytest.importorskip("jsonschema")
    validator = jsonschema.validators.validator_for(SCHEMA)
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator(SCHEMA).iter_errors(log)]
    assert errors == []
    return result, log


def test_sarif_is_valid_and_lists_every_rule_with_docs():
    result, log = sarif_of("fixtures/vgg.py")
    assert result.returncode == 0 and log["version"] == "2.1.0"
    [run] = log["runs"]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == sorted(by_code())
    docs = (ROOT / "docs" / "rules.md").read_text()
    for rule in rules:
        code = by_code()[rule["id"]]
        assert rule["name"] == code.name and rule["shortDescription"]["text"] == code.summary
        assert rule["fullDescription"]["text"]
        page, anchor = rule["helpUri"].split("#")
        assert page.endswith("/docs/rules.md") and f"## {rule['id']} {code.name}" in docs
        assert anchor == f"{rule['id'].lower()}-{code.name}"
    assert run["results"] == []


def test_sarif_result_location_and_fix(tmp_path):
    result, log = sarif_of("fixtures/lenet_mnist.py", "fixtures/vgg_linear_7x6.py")
    [run] = log["runs"]
    [finding] = run["results"]  # vgg_linear_7x6 is right for some inputs: silent without one
    line, col = locate(LENET, "nn.Linear(16 * 5 * 5, 120)")
    location = finding["locations"][0]["physicalLocation"]
    assert location["artifactLocation"] == {"uri": "fixtures/lenet_mnist.py", "uriBaseId": "%SRCROOT%"}
    assert location["region"] == {"startLine": line, "startColumn": col, "endLine": line,
                                  "endColumn": col + len("nn.Linear(16 * 5 * 5, 120)")}
    assert run["tool"]["driver"]["rules"][finding["ruleIndex"]]["id"] == finding["ruleId"] == "TSL001"
    [fix] = finding["fixes"]
    [change] = fix["artifactChanges"]
    [replacement] = change["replacements"]
    argument = LENET.read_text().splitlines()[line - 1].index("16 * 5 * 5") + 1
    assert replacement == {"deletedRegion": {"startLine": line, "startColumn": argument, "endLine": line,
                                             "endColumn": argument + len("16 * 5 * 5")},
                           "insertedContent": {"text": "16 * 4 * 4"}}
    # applying the fix as a SARIF consumer would gives a clean file
    lines = LENET.read_text().splitlines(keepends=True)
    lines[line - 1] = lines[line - 1][:argument - 1] + "16 * 4 * 4" + lines[line - 1][argument - 1 + 10:]
    (tmp_path / "fixed.py").write_text("".join(lines))
    assert cli("--no-cache", "fixed.py", cwd=tmp_path).returncode == 0


def test_sarif_leaves_out_fixes_for_symbolic_findings(tmp_path):
    # No input anywhere: 512 channels arrive, and 1000 is no multiple of 512 — wrong for every input size,
    # but no single value is right for all, so there is nothing to write.
    (tmp_path / "m.py").write_text("import torch.nn as nn\n\nmodel = nn.Sequential(nn.Conv2d(3, 512, 3), "
                                   "nn.Flatten(), nn.Linear(1000, 10))\n")
    _, log = sarif_of("m.py", cwd=tmp_path)
    [finding] = log["runs"][0]["results"]
    assert finding["ruleId"] == "TSL001" and "fixes" not in finding

"""The standalone command: output lines, exit codes, JSON, verbose checks, rule docs."""

import json

import pytest

from conftest import FIXTURES, cli, locate


def test_exit_codes():
    assert cli("fixtures/vgg.py", "fixtures/no_torch.py").returncode == 0
    assert cli("fixtures/lenet_mnist.py").returncode == 1
    assert cli("does/not/exist.py").returncode == 2
    assert cli("--input-shape", "1,0,3", "fixtures/vgg.py").returncode == 2
    assert cli().returncode == 2


def test_text_output_has_one_based_columns():
    result = cli("--input-shape", "1,3,32,32", "fixtures/vgg_no_avgpool.py")
    line, col = locate(FIXTURES / "vgg_no_avgpool.py", "nn.Linear(512 * 7 * 7")
    assert result.stdout.startswith(f"fixtures/vgg_no_avgpool.py:{line}:{col}: TSL001 ")


def test_input_shape_from_pyproject(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.torchshape-lint]\ninput-shape = "1,3,32,32"\n')
    (tmp_path / "m.py").write_text((FIXTURES / "vgg_no_avgpool.py").read_text())
    result = cli("m.py", cwd=tmp_path)
    assert result.returncode == 1 and "use 512 * 1 * 1" in result.stdout


def test_bad_pyproject_value_names_the_key(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.torchshape-lint]\ninput-shape = "1,3,-2"\n')
    (tmp_path / "m.py").write_text("import torch\n")
    result = cli("m.py", cwd=tmp_path)
    assert result.returncode == 2 and "input-shape" in result.stderr and "pyproject.toml" in result.stderr


def test_json_output():
    result = cli("--format", "json", "fixtures/lenet_mnist.py")
    data = json.loads(result.stdout)
    assert len(data) == 1
    item = data[0]
    line, col = locate(FIXTURES / "lenet_mnist.py", "nn.Linear(16 * 5 * 5")
    assert (item["code"], item["name"], item["line"], item["column"]) == ("TSL001", "linear-in-features", line, col)
    assert item["suggestion"] == "16 * 4 * 4"
    assert any("MaxPool2d" in step for step in item["trace"])


def test_noqa_in_standalone_mode():
    assert cli("fixtures/noqa.py").returncode == 0


def test_rule_docs():
    result = cli("--rule", "TSL001")
    assert result.returncode == 0 and "linear-in-features" in result.stdout and "Fix safety" in result.stdout


def test_verbose_shows_torchvision_vgg_classifier_checked():
    vgg = pytest.importorskip("torchvision.models.vgg")

    result = cli("--verbose", vgg.__file__)
    assert result.returncode == 0, result.stdout
    line, _ = locate(vgg.__file__, "nn.Linear(512 * 7 * 7, 4096)")
    assert f":{line}: checked Linear(in_features=25088): 25088 arrive in vgg16()" in result.stdout
    assert "DIFFERS" not in result.stdout

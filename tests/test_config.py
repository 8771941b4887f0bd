"""Configuration: [tool.torchshape-lint] for the command line, [flake8] for the plugin, the same keys; per-path
input shapes; select / ignore / extend-select; noqa as flake8 decides it; bad values exit 2 naming key and file."""

import json

import pytest

from conftest import FIXTURES, cli, flake8, locate

from torchshape_lint.checks.rules import by_code

# VGG without its adaptive pool: five MaxPool2d(2, 2) take 224 to 7 (right: 512 * 7 * 7) and 32 to 1 (wrong).
VGG = (FIXTURES / "vgg_no_avgpool.py").read_text()
LINEAR_BAD = by_code()["TSL001"].bad
CHANNEL_BAD = by_code()["TSL002"].bad


def codes(result):
    return sorted((item["path"], item["code"]) for item in json.loads(result.stdout))


def pyproject(tmp_path, body):
    (tmp_path / "pyproject.toml").write_text("[tool.torchshape-lint]\n" + body)


def test_per_path_input_shape_wins_over_input_shape(tmp_path):
    pyproject(tmp_path, 'input-shape = "1,3,224,224"\n[tool.torchshape-lint.per-path-input-shape]\n'
                        '"small/*.py" = "1,3,32,32"\n')
    (tmp_path / "small").mkdir()
    (tmp_path / "small" / "vgg.py").write_text(VGG)
    (tmp_path / "vgg.py").write_text(VGG)
    result = cli("--no-cache", ".", cwd=tmp_path)
    line, col = locate(tmp_path / "vgg.py", "nn.Linear(512 * 7 * 7")
    assert result.stdout.startswith(f"./small/vgg.py:{line}:{col}: TSL001 ") and "use 512 * 1 * 1" in result.stdout
    assert result.stdout.count("TSL001") == 1 and result.returncode == 1
    # the command line replaces the file's table: now both are at 32x32
    flagged = cli("--no-cache", "--per-path-input-shape", "*.py:1,3,32,32", ".", cwd=tmp_path)
    assert flagged.stdout.count("TSL001") == 2


def test_config_found_from_a_subfolder(tmp_path):
    pyproject(tmp_path, 'input-shape = "1,3,32,32"\n')
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "vgg.py").write_text(VGG)
    assert "use 512 * 1 * 1" in cli("--no-cache", "vgg.py", cwd=tmp_path / "pkg").stdout


@pytest.mark.parametrize("config, args, expected", [
    ("", [], ["TSL001", "TSL002"]),
    ('ignore = ["TSL001"]\n', [], ["TSL002"]),
    ('select = "TSL001"\n', [], ["TSL001"]),
    ('select = ["TSL001"]\nextend-select = ["TSL002"]\n', [], ["TSL001", "TSL002"]),
    ('ignore = ["TSL"]\nselect = ["TSL001"]\n', [], ["TSL001"]),  # the longer prefix wins, as in flake8
    ('ignore = ["TSL001"]\n', ["--ignore", "TSL002"], ["TSL001"]),  # the command line replaces the file's value
    ("", ["--select", "TSL00", "--ignore", "TSL002"], ["TSL001"]),
])
def test_select_ignore_extend_select(tmp_path, config, args, expected):
    pyproject(tmp_path, config)
    (tmp_path / "linear.py").write_text(LINEAR_BAD)
    (tmp_path / "channels.py").write_text(CHANNEL_BAD)
    result = cli("--no-cache", "--format", "json", *args, "linear.py", "channels.py", cwd=tmp_path)
    assert sorted(code for _, code in codes(result)) == expected
    assert result.returncode == (1 if expected else 0)


@pytest.mark.parametrize("body, key", [
    ('input-shape = "1,3,-2"\n', "input-shape"),
    ('input-shape = "a,b"\n', "input-shape"),
    ('[tool.torchshape-lint.per-path-input-shape]\n"x/*.py" = "1,0"\n', "per-path-input-shape"),
    ('per-path-input-shape = ["no shape here"]\n', "per-path-input-shape"),
    ('select = ["TSL-1"]\n', "select"),
    ('ignore = "lower case is fine, but not this: E!"\n', "ignore"),
    ('input_shapes = "1,3,32,32"\n', "input_shapes"),  # a typo is an unknown key, not silently ignored
])
def test_bad_pyproject_value_exits_2_naming_key_and_file(tmp_path, body, key):
    pyproject(tmp_path, body)
    (tmp_path / "m.py").write_text(LINEAR_BAD)
    result = cli("--no-cache", "m.py", cwd=tmp_path)
    assert result.returncode == 2 and result.stdout == ""
    assert f"pyproject.toml [tool.torchshape-lint] {key}:" in result.stderr, result.stderr


def test_broken_toml_and_bad_flags_exit_2(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[tool.torchshape-lint\n")
    (tmp_path / "m.py").write_text(LINEAR_BAD)
    assert cli("m.py", cwd=tmp_path).returncode == 2
    (tmp_path / "pyproject.toml").unlink()
    bad = cli("--per-path-input-shape", "m.py", "m.py", cwd=tmp_path)
    assert bad.returncode == 2 and "--per-path-input-shape" in bad.stderr


def test_a_pyproject_without_our_table_is_not_ours_to_judge(tmp_path):
    """A pyproject.toml that never names torchshape-lint is not parsed: broken for other tools or not, the run goes on
    with the defaults (and the quoted spelling of our table is still read)."""
    (tmp_path / "pyproject.toml").write_text("[tool.black\nline-length = 88\n")
    (tmp_path / "m.py").write_text(LINEAR_BAD)
    result = cli("--no-cache", "-q", "m.py", cwd=tmp_path)
    assert result.returncode == 1 and result.stdout.count(" TSL001 ") == 1, result.stdout + result.stderr
    (tmp_path / "pyproject.toml").write_text('[tool."torchshape-lint"]\nignore = ["TSL001"]\n')
    assert cli("--no-cache", "-q", "m.py", cwd=tmp_path).returncode == 0


def test_flake8_reads_the_same_keys_from_its_config(tmp_path):
    (tmp_path / "setup.cfg").write_text("[flake8]\ntorchshape-input-shape = 1,3,224,224\n"
                                        "torchshape-per-path-input-shape =\n    small/*.py: 1,3,32,32\n")
    (tmp_path / "small").mkdir()
    (tmp_path / "small" / "vgg.py").write_text(VGG)
    (tmp_path / "vgg.py").write_text(VGG)
    out = flake8(".", cwd=tmp_path).stdout
    line, col = locate(tmp_path / "vgg.py", "nn.Linear(512 * 7 * 7")
    assert out.splitlines() == [out.splitlines()[0]] and out.startswith(f"./small/vgg.py:{line}:{col}: TSL001 ")


def test_flake8_bad_config_value_exits_2_naming_key_and_file(tmp_path):
    (tmp_path / "tox.ini").write_text("[flake8]\ntorchshape-input-shape = 1,x\n")
    (tmp_path / "m.py").write_text(LINEAR_BAD)
    result = flake8("m.py", cwd=tmp_path)
    assert result.returncode == 2 and "tox.ini [flake8] torchshape-input-shape:" in result.stderr, result.stderr


NOQA_CASES = {
    "same_line.py": LINEAR_BAD.replace("nn.Linear(16 * 8 * 8, 10),", "nn.Linear(16 * 8 * 8, 10),  # noqa: TSL001"),
    "other_code.py": LINEAR_BAD.replace("nn.Linear(16 * 8 * 8, 10),", "nn.Linear(16 * 8 * 8, 10),  # noqa: E501"),
    "prefix.py": LINEAR_BAD.replace("nn.Linear(16 * 8 * 8, 10),", "nn.Linear(16 * 8 * 8, 10),  # NOQA:TSL"),
    "blanket.py": LINEAR_BAD.replace("nn.Linear(16 * 8 * 8, 10),", "nn.Linear(16 * 8 * 8, 10),  # noqa"),
    "listed.py": LINEAR_BAD.replace("nn.Linear(16 * 8 * 8, 10),", "nn.Linear(16 * 8 * 8, 10),  # noqa:E501,TSL001"),
    # inside brackets flake8 reads each physical line alone: a noqa on the closing line covers nothing above it
    "closing_line.py": LINEAR_BAD.replace("\n)\n", "\n)  # noqa: TSL001\n"),
    "whole_file.py": "# flake8: noqa\n" + LINEAR_BAD,
    "plain.py": LINEAR_BAD,
}


def test_noqa_in_standalone_mode_is_flake8s(tmp_path):
    for name, text in NOQA_CASES.items():
        (tmp_path / name).write_text(text)
    standalone = sorted(line.split(" ")[0] for line in cli("--no-cache", ".", cwd=tmp_path).stdout.splitlines())
    plugin = sorted(line.split(" ")[0] for line in flake8(".", cwd=tmp_path).stdout.splitlines())
    assert standalone == plugin
    assert sorted(path.split(":")[0] for path in standalone) == ["./closing_line.py", "./other_code.py", "./plain.py"]

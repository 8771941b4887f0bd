"""What a function writes outside itself, when it is called on a path the analysis does not follow to the end (a
loop it cannot count, a branch it cannot decide): the containers it changes in place and the globals it declares
become unknown, through the functions it calls in turn. Before, only what the path wrote itself was: a list a
helper appended to kept what it held before the loop, and the classifier after it was falsely reported."""

import runpy
import sys

import pytest

from conftest import FIXTURES, cli, flake8

WRITES = FIXTURES / "untraced_writes"
MODELS = ["grown_in_a_helper.py", "grown_by_a_method.py"]


@pytest.mark.parametrize("name", MODELS)
def test_layers_a_helper_adds_an_unknown_number_of_times_are_not_guessed(name):
    assert cli("--no-cache", "-q", str(WRITES / name)).stdout == ""
    assert flake8(str(WRITES / name)).stdout == ""


@pytest.mark.parametrize("name", MODELS)
def test_the_models_run_in_torch_with_three_blocks(name, monkeypatch):
    torch = pytest.importorskip("torch")
    monkeypatch.setattr(sys, "argv", [name, "3"])
    model = runpy.run_path(str(WRITES / name))["model"]
    assert model(torch.zeros(2, 8, 32, 32)).shape == (2, 10)  # 32 → 30 → 28 → 26: the Linear's 8 * 26 * 26 fits


def test_a_branch_not_decided_that_calls_the_helper_leaves_its_list_unknown(tmp_path):
    source = (WRITES / "grown_in_a_helper.py").read_text()
    loop = "for _ in range(int(sys.argv[1]) if len(sys.argv) > 1 else 3):\n    add_block(8)\n"
    assert loop in source
    path = tmp_path / "branch.py"
    path.write_text(source.replace(loop, "for _ in range(2):\n    add_block(8)\nif input():\n"
                                         "    add_block(8)\n"))
    assert cli("--no-cache", "-q", str(path)).stdout == ""


def test_a_global_a_helper_declares_and_counts_is_unknown_after_it(tmp_path):
    path = tmp_path / "counted.py"
    path.write_text(
        "import sys\nimport torch\nimport torch.nn as nn\n\nblocks = 0\n\n\ndef more():\n    global blocks\n"
        "    blocks += 1\n\n\nfor _ in range(int(input())):\n    more()\n"
        "model = nn.Sequential(*[nn.Conv2d(8, 8, 3) for _ in range(blocks)], nn.Flatten(), nn.Linear(8 * 26 * 26, 10))\n"
        "model(torch.randn(2, 8, 32, 32))\n")
    assert cli("--no-cache", "-q", str(path)).stdout == ""


def test_a_loop_the_analysis_counts_still_decides_the_classifier(tmp_path):
    """The helper's writes are followed where the loop is: three passes, the Linear checked and right; with two, the
    planted mistake is reported (torch agrees: 8 * 28 * 28 features arrive)."""
    source = (WRITES / "grown_in_a_helper.py").read_text()
    counted = source.replace("range(int(sys.argv[1]) if len(sys.argv) > 1 else 3)", "range(2)")
    path = tmp_path / "two.py"
    path.write_text(counted)
    out = cli("--no-cache", "-q", str(path)).stdout
    assert "TSL001 Linear(in_features=5408) but 6272 features arrive" in out, out
    pytest.importorskip("torch")
    with pytest.raises(RuntimeError, match="6272"):
        runpy.run_path(str(path))


def test_a_class_attribute_set_on_a_branch_not_decided_is_unknown_after_it(monkeypatch):
    """Head.width is 32 where CUDA is, 16 elsewhere: the Linear fits the (1, 32) input on a GPU only, so no finding
    is a proof (before, the class kept 16 and TSL001 was reported)."""
    torch = pytest.importorskip("torch")
    path = WRITES / "widened_class_attribute.py"
    for cuda, fits in ((True, True), (False, False)):
        monkeypatch.setattr(torch.cuda, "is_available", lambda cuda=cuda: cuda)
        model = runpy.run_path(str(path))["build"]()
        if fits:
            assert model(torch.zeros(1, 32)).shape == (1, 10)
        else:
            with pytest.raises(RuntimeError, match="cannot be multiplied"):
                model(torch.zeros(1, 32))
    assert cli("--no-cache", "-q", str(path)).stdout == ""
    assert flake8(str(path)).stdout == ""

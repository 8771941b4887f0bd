"""Constructs met in public model code the project had not read (README, "Checked on code it had never seen"):
each file in fixtures/real_code runs itself in torch, and the linter says what torch says, through flake8 and the
command line, at the exact line and column."""

import runpy

import pytest

from conftest import FIXTURES, cli, flake8, locate

REAL_CODE = FIXTURES / "real_code"

# file -> the call torch fails at (its text, the finding's code and message there, and torch's own words), or None
# where torch runs the file
EXPECTED = {
    "blocks_named_by_class.py": None,
    "containers_changed.py": None,
    "modules_changed_after_build.py": None,
    # Block_1 replaced where it stands: its 6 channels reach Block_2's conv, which wants 8
    "add_module_replaces_in_place.py": (
        "nn.Conv2d(channels, 8, kernel_size=1)", "TSL002",
        "Conv2d(in_channels=8) but 6 arrive (input (1, 3, 16, 16); Conv2d (1, 8, 16, 16) → Conv2d (1, 6, 16, 16)); "
        "use 6 here (other uses of this line get 3)", "expected input[1, 6, 16, 16]"),
    # the Linear replaced through the wrapper's `.module` is the one that runs
    "data_parallel_module.py": (
        "nn.Linear(100, 5)", "TSL001", "Linear(in_features=100) but 128 features arrive: input (1, 3, 4, 4); "
        "flattened 8*4*4 = 128; use 8 * 4 * 4", "(1x128 and 100x5)"),
    # the first conv replaced by one giving 6 channels, before the conv that wants 8
    "setattr_registers_in_place.py": (
        "nn.Conv2d(8, 8, 1)", "TSL002", "Conv2d(in_channels=8) but 6 arrive (input (1, 3, 16, 16); Conv2d "
        "(1, 6, 16, 16)); use 6", "expected input[1, 6, 16, 16]"),
}


def test_every_file_is_listed():
    assert sorted(p.name for p in REAL_CODE.glob("*.py")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_torch_agrees(name):
    pytest.importorskip("torch")
    expected = EXPECTED[name]
    if expected is None:
        runpy.run_path(str(REAL_CODE / name), run_name="__main__")
        return
    with pytest.raises(RuntimeError) as error:
        runpy.run_path(str(REAL_CODE / name), run_name="__main__")
    assert expected[3] in str(error.value)


@pytest.mark.parametrize("front", ["flake8", "cli"])
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_the_linter_says_what_torch_says(name, front):
    expected = EXPECTED[name]
    result = flake8(name, cwd=REAL_CODE) if front == "flake8" else cli("--no-cache", "-q", name, cwd=REAL_CODE)
    if expected is None:
        assert result.stdout == "" and result.returncode == 0, result.stdout + result.stderr
        return
    needle, code, message, _ = expected
    line, col = locate(REAL_CODE / name, needle)
    assert result.stdout.splitlines() == [f"{name}:{line}:{col}: {code} {message}"], result.stdout + result.stderr

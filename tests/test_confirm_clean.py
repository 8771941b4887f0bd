"""Correct files that once made --confirm cry wolf: each runs in torch, so confirming must add nothing."""

import runpy
from pathlib import Path

import pytest

from conftest import cli

pytest.importorskip("torch")
CLEAN = Path(__file__).parent / "confirm_clean"


@pytest.mark.parametrize("path", sorted(CLEAN.glob("*.py")), ids=lambda p: p.name)
def test_confirm_adds_nothing_to_a_correct_file(path):
    runpy.run_path(str(path), run_name="__main__")  # it does run in torch
    result = cli("--no-cache", "--confirm", "--device", "cpu", str(path))
    assert result.returncode == 0 and result.stdout == "", result.stdout + result.stderr

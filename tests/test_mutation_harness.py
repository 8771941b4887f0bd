"""The mutation harness (scripts/mutation_harness.py) on a tiny repository of its own, fixtures/harness_repo/.

Its three files hold one kind of planted mistake each; the expected counts are worked out by hand from them:
- mlp.py: two literal declared sizes, Linear(784, ...) and Linear(128, ...). Each one larger (785, 129) makes
  PyTorch's matmul fail at that Linear, which the linter reports there: 2 tried, 2 kept, 2 found.
- small_cnn.py: a Conv's kernel_size=3 and padding=1 (its in_channels and the Linear's in_features are names, not
  literals). With kernel 4 or padding 2 a 16x16 input gives 15x15 or 18x18, which the adaptive pool takes to 1x1:
  PyTorch runs, so neither is kept. Head needs a constructor argument and nothing builds it: it is built on its own
  (`width` any positive int), and its Linear, its first layer, takes whatever arrives: the one layer of the
  repository that is not decided.
- pooled.py: one F.max_pool2d; without it 1*28*28 = 784 features reach Linear(in_features=1*14*14 = 196), which
  PyTorch rejects at that Linear (confirm places a layer by its constructor call, line 9), where the linter reports.
Layers that declare a size: 2 + 3 + 1 = 6, decided 5 (all but Head's).
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT = os.path.join(ROOT, "scripts", "mutation_harness.py")

pytest.importorskip("torch")  # the harness runs the models in PyTorch


def harness():
    spec = importlib.util.spec_from_file_location("mutation_harness", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def measured():
    h = harness()
    repo = h.Repo("harness_repo", "0" * 40, "synthetic", per_kind=2)
    [result] = h.measure_all([repo], os.path.join(ROOT, "fixtures"))
    return h, result


def test_layers_decided(measured):
    _, result = measured
    assert (result.files, result.layers, result.decided) == (3, 6, 5)
    assert dict(result.undecided) == {"applied, but what arrives is not known": 1}
    assert result.false_alarms == []


def test_mutations_per_file_and_kind(measured):
    _, result = measured
    got = sorted((m.file, m.kind, m.line, m.original, m.replacement, m.kept, m.found) for m in result.mutations)
    assert got == [
        ("mlp.py", "declared-size", 8, "784", "785", True, True),
        ("mlp.py", "declared-size", 9, "128", "129", True, True),
        ("pooled.py", "pool-removed", 12, "F.max_pool2d(x, 2)", "x", True, True),
        ("small_cnn.py", "kernel-padding", 8, "1", "2", False, False),
        ("small_cnn.py", "kernel-padding", 8, "3", "4", False, False),
    ]
    pooled = next(m for m in result.mutations if m.file == "pooled.py")
    assert (pooled.torch_file, pooled.torch_line) == ("pooled.py", 9)
    assert "mat1 and mat2 shapes cannot be multiplied (2x784 and 196x10)" in pooled.torch_error


def test_tables(measured):
    h, result = measured
    table = h.markdown([result]).splitlines()
    assert "| harness_repo (synthetic) | 0000000 | 3 | 6 | 5 (83.3%) | 5 | 3 | 3 (100.0%) | 0 | 0 | 0 |" in table
    assert "| declared-size | 2 | 2 | 2 (100.0%) |" in table
    assert "| kernel-padding | 2 | 0 | 0 (—) |" in table
    assert "| pool-removed | 1 | 1 | 1 (100.0%) |" in table
    assert "| applied, but what arrives is not known | 1 |" in table


def test_the_fixture_is_left_as_it_was(measured):
    names = sorted(os.listdir(os.path.join(ROOT, "fixtures", "harness_repo")))
    assert [n for n in names if n.endswith(".py")] == ["mlp.py", "pooled.py", "small_cnn.py"]


def test_an_absent_corpus_is_skipped(tmp_path):
    run = subprocess.run([sys.executable, SCRIPT, str(tmp_path)], capture_output=True, text=True, timeout=120,
                         env=dict(os.environ, PYTHONPATH=ROOT))
    assert run.returncode == 0
    assert run.stdout == ""
    assert f"skipped kuangliu/pytorch-cifar: {tmp_path / 'kuangliu+pytorch-cifar'} is absent" in run.stderr


def test_a_file_run_by_its_own_project_build_counts_what_its_readers_prove():
    """fixtures/harness_reader_repo: model.py's Model needs `channels`, and only use_model.py builds it (and runs it
    on (2, 3, 8, 8)); PyTorch runs model.py's mutants as a project build of model.py itself, so each is a sibling
    copy, and use_model.py, which imports `model` by name, is analysed with the mutation written in place. Both
    mutants fail at the Linear (line 8): 513 in_features where 8 * 8 * 8 = 512 arrive; a padding of 2 gives 10x10,
    8 * 10 * 10 = 800. Both layers are decided by use_model.py's run."""
    h = harness()
    repo = h.Repo("harness_reader_repo", "0" * 40, "synthetic", builds=(
        h.ProjectBuild("model.py", "Model", {"channels": 3}, (2, 3, 8, 8), ("model.py",)),))
    [result] = h.measure_all([repo], os.path.join(ROOT, "fixtures"))
    assert (result.files, result.layers, result.decided, result.false_alarms) == (1, 2, 2, [])
    got = sorted((m.kind, m.line, m.original, m.replacement, m.kept, m.torch_line, m.found) for m in result.mutations)
    assert got == [("declared-size", 8, "512", "513", True, 8, True), ("kernel-padding", 7, "1", "2", True, 8, True)]
    errors = sorted(m.torch_error for m in result.mutations)
    assert "(2x512 and 513x10)" in errors[0] and "(2x800 and 512x10)" in errors[1]
    names = sorted(os.listdir(os.path.join(ROOT, "fixtures", "harness_reader_repo")))
    assert [n for n in names if n.endswith(".py")] == ["model.py", "use_model.py"]  # restored, no mutant left


def test_a_find_at_the_constructor_of_the_layer_torch_raised_in():
    """fixtures/harness_layer_repo, a U-Net in two files: model.py's Net (built by the project with `n_channels=3`,
    run on (1, 3, 8, 8)) applies parts.py's `Up`, whose ConvTranspose2d halves 16 channels to 8 for the cat with the
    8-channel skip. Its out_channels one larger gives 8 + 9 = 17 channels, and PyTorch raises in the Conv2d of the
    `DoubleConv` that `Up` applies, made at parts.py:9: the innermost module whose forward raised. The innermost
    module of model.py that raised is `Up` (line 9 there); the linter reports parts.py:9, the layer, and model.py:15,
    the call: found, at the constructor of the layer PyTorch raised in. The outc Conv2d(8, ...) one larger fails at
    model.py:10, where it is reported."""
    h = harness()
    repo = h.Repo("harness_layer_repo", "0" * 40, "synthetic", builds=(
        h.ProjectBuild("model.py", "Net", {"n_channels": 3}, (1, 3, 8, 8), ("*.py",)),))
    [result] = h.measure_all([repo], os.path.join(ROOT, "fixtures"))
    assert result.false_alarms == []
    got = sorted((m.file, m.kind, m.line, m.replacement, m.kept, m.torch_file, m.torch_line, m.torch_layer, m.found)
                 for m in result.mutations)
    assert got == [
        ("model.py", "declared-size", 10, "9", True, "model.py", 10, "model.py:10", True),
        ("parts.py", "cat-channels", 20, "(in_channels // 2) + 1", True, "model.py", 9, "parts.py:9", True),
    ]
    cat = next(m for m in result.mutations if m.file == "parts.py")
    assert "expected input[1, 17, 8, 8] to have 16 channels" in cat.torch_error
    names = sorted(os.listdir(os.path.join(ROOT, "fixtures", "harness_layer_repo")))
    assert [n for n in names if n.endswith(".py")] == ["model.py", "parts.py"]
